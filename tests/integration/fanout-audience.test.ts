/**
 * The fan-out and the e-mail re-check against the announcement's audience, and an incident's follow-up reaching
 * everyone who got the incident — on real PostgreSQL, Redis and SMTP. The SQL of src/db/recipient-scope-sql.ts is
 * checked against canSeeAnnouncement (src/domain/announcement.ts) for each kind of recipient.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canSeeAnnouncement } from '../../src/domain/announcement.js';
import type { Actor } from '../../src/domain/types.js';
import { createSmtpMailer, type Mailer } from '../../src/mail/mailer.js';
import { type EmailProcessorDeps, processEmailJob, SKIP_REASON } from '../../workers/processors/email.js';
import { type FanoutProcessorDeps, processFanout } from '../../workers/processors/fanout.js';
import { createTestContext, TEST_UNSUBSCRIBE_SECRET, type TestContext } from '../helpers/context.js';
import { createSubscription, deliveriesOf, silentLogger, uniqueAddress } from '../helpers/delivery.js';
import { createChannel, createUser, grantRole, type TestChannel, type TestUser } from '../helpers/factories.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';

let ctx: TestContext;
let smtp: TestSmtpServer;
let mailer: Mailer;
let fanoutDeps: FanoutProcessorDeps;
let emailDeps: EmailProcessorDeps;

beforeAll(async () => {
  smtp = await startSmtpServer();
  ctx = await createTestContext({ PUBLIC_URL: 'https://meldingskanal.example.no' });
  mailer = createSmtpMailer({ url: smtp.url, poolSize: 2, maxMessages: 1000, ratePerSecond: 0 });
  // Small pages: a handful of recipients exercises paging in both phases.
  fanoutDeps = {
    db: ctx.deps.db,
    emailQueue: ctx.deps.queues.email,
    pageSize: 2,
    emailBatchSize: 50,
    logger: silentLogger,
  };
  emailDeps = {
    db: ctx.deps.db,
    mailer,
    emailQueue: ctx.deps.queues.email,
    unsubscribeKey: TEST_UNSUBSCRIBE_SECRET,
    publicUrl: ctx.config.http.publicUrl,
    from: 'BOTT Meldingskanal <noreply@example.no>',
    maxAttempts: 3,
    logger: silentLogger,
  };
});

afterAll(async () => {
  await mailer.close();
  await smtp.close();
  await ctx.close();
});

async function organisationId(code: string): Promise<string> {
  await createUser(ctx.deps.db, { organisationCode: code });
  return (await ctx.deps.db.organisation.findUniqueOrThrow({ where: { code } })).id;
}

async function publish(
  channel: TestChannel,
  options: { audience?: string[]; type?: 'general' | 'incident'; resolvesId?: string; title?: string } = {},
): Promise<string> {
  const row = await ctx.deps.db.announcement.create({
    data: {
      channelId: channel.id,
      title: options.title ?? 'Driftsmelding',
      body: 'Tekst.',
      publishedAt: new Date(),
      type: options.type ?? 'general',
      resolvesId: options.resolvesId ?? null,
      audienceOrganisationIds: options.audience ?? [],
    },
  });
  return row.id;
}

const userRecipient = (user: TestUser) => `user:${user.id}`;

function actorOf(user: TestUser & { isAdmin: boolean }): Actor {
  return {
    kind: 'user',
    userId: user.id,
    isAdmin: user.isAdmin,
    organisationId: user.organisationId,
    scopes: ['read', 'publish', 'admin'],
  } as Actor;
}

describe('the fan-out and the audience', () => {
  it('delivers an audience-limited announcement only to subscribers who may see it', async () => {
    const db = ctx.deps.db;
    const uib = await organisationId('UiB');
    const ntnu = await organisationId('NTNU');
    const channel = await createChannel(db);
    const inUiB = await createUser(db, { organisationCode: 'UiB' });
    const inNTNU = await createUser(db, { organisationCode: 'NTNU' });
    const inUiO = await createUser(db, { organisationCode: 'UiO' });
    const noOrganisation = await createUser(db);
    const publisherFromUiT = await createUser(db, { organisationCode: 'UiT' });
    const admin = await createUser(db, { isAdmin: true });
    await grantRole(db, channel.id, publisherFromUiT.id, 'publisher');
    const subscribers = [inUiB, inNTNU, inUiO, noOrganisation, publisherFromUiT, admin];
    for (const user of subscribers) await createSubscription(db, { channelId: channel.id, userId: user.id });
    const bare = await createSubscription(db, { channelId: channel.id });

    const limited = await publish(channel, { audience: [uib, ntnu] });
    await processFanout({ announcementId: limited }, fanoutDeps);
    const expected = [inUiB, inNTNU, publisherFromUiT, admin].map(userRecipient).sort();
    expect((await deliveriesOf(db, limited)).map((d) => d.recipient).sort()).toEqual(expected);

    // The SQL agrees with canSeeAnnouncement for each of them.
    for (const user of subscribers) {
      const role = user === publisherFromUiT ? 'publisher' : null;
      const sees = canSeeAnnouncement(
        actorOf(user),
        { visibility: 'public', role },
        { status: 'published', audienceOrganisationIds: [uib, ntnu] },
      );
      expect(sees, user.email).toBe(expected.includes(userRecipient(user)));
    }

    // For everyone: every subscriber, the bare address included.
    const everyone = await publish(channel);
    await processFanout({ announcementId: everyone }, fanoutDeps);
    const recipients = (await deliveriesOf(db, everyone)).map((d) => d.recipient);
    expect(recipients).toHaveLength(subscribers.length + 1);
    expect(recipients).toContain(`email:${bare.email}`);
  });

  it('leaves out subscribers of an internal channel who may not read it', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db, { visibility: 'internal' });
    const member = await createUser(db, { organisationCode: 'UiB' });
    const outsider = await createUser(db);
    for (const user of [member, outsider]) await createSubscription(db, { channelId: channel.id, userId: user.id });
    await createSubscription(db, { channelId: channel.id });

    const id = await publish(channel);
    await processFanout({ announcementId: id }, fanoutDeps);
    expect((await deliveriesOf(db, id)).map((d) => d.recipient)).toEqual([userRecipient(member)]);
  });

  it('skips at send time a recipient who moved out of the audience', async () => {
    const db = ctx.deps.db;
    const uib = await organisationId('UiB');
    const uio = await organisationId('UiO');
    const channel = await createChannel(db);
    const mover = await createUser(db, { organisationCode: 'UiB' });
    const stayer = await createUser(db, { organisationCode: 'UiB' });
    for (const user of [mover, stayer]) await createSubscription(db, { channelId: channel.id, userId: user.id });
    const id = await publish(channel, { audience: [uib] });
    await processFanout({ announcementId: id }, fanoutDeps);
    await db.user.update({ where: { id: mover.id }, data: { organisationId: uio } });

    const ids = (await deliveriesOf(db, id)).map((d) => String(d.id));
    expect(await processEmailJob({ deliveryIds: ids }, emailDeps)).toMatchObject({ sent: 1, skipped: 1 });
    const rows = await deliveriesOf(db, id);
    expect(rows.find((r) => r.recipient === userRecipient(mover))).toMatchObject({
      status: 'skipped',
      skipReason: SKIP_REASON.audience,
    });
    expect(smtp.messagesTo(mover.email)).toHaveLength(0);
    expect(smtp.messagesTo(stayer.email)).toHaveLength(1);
  });
});

describe("an incident's follow-up", () => {
  it('reaches everyone the incident was sent to, subscribed or not any more, within its audience', async () => {
    const db = ctx.deps.db;
    const uib = await organisationId('UiB');
    const channel = await createChannel(db, { title: 'Drift' });
    const stillSubscribed = await createUser(db, { organisationCode: 'UiB' });
    const unsubscribed = await createUser(db, { organisationCode: 'UiB' });
    const turnedOff = await createUser(db, { organisationCode: 'UiB' });
    const movedAway = await createUser(db, { organisationCode: 'UiB' });
    const newcomer = await createUser(db, { organisationCode: 'UiB' });
    const bareAddress = uniqueAddress('bare');
    const subs = new Map<TestUser, bigint>();
    for (const user of [stillSubscribed, unsubscribed, turnedOff, movedAway]) {
      subs.set(user, (await createSubscription(db, { channelId: channel.id, userId: user.id, language: 'en' })).id);
    }
    const bare = await createSubscription(db, { channelId: channel.id, email: bareAddress });

    const incident = await publish(channel, { type: 'incident', title: 'Nettverket er nede' });
    await processFanout({ announcementId: incident }, fanoutDeps);
    const incidentIds = (await deliveriesOf(db, incident)).map((d) => String(d.id));
    expect(await processEmailJob({ deliveryIds: incidentIds }, emailDeps)).toMatchObject({ sent: 5 });

    // Since the incident: one unsubscribes (row gone), one turns e-mail off, one moves to UiO, the bare address
    // unsubscribes, and a newcomer subscribes.
    await db.subscription.delete({ where: { id: subs.get(unsubscribed)! } });
    await db.user.update({ where: { id: unsubscribed.id }, data: { language: 'nn' } });
    await db.subscription.update({ where: { id: subs.get(turnedOff)! }, data: { emailMode: 'off' } });
    await db.user.update({ where: { id: movedAway.id }, data: { organisationId: await organisationId('UiO') } });
    await db.subscription.delete({ where: { id: bare.id } });
    await createSubscription(db, { channelId: channel.id, userId: newcomer.id });

    const resolved = await publish(channel, {
      type: 'incident',
      resolvesId: incident,
      audience: [uib],
      title: 'Nettverket virker igjen',
    });
    const result = await processFanout({ announcementId: resolved }, fanoutDeps);
    expect(result.originalDeliveriesRead).toBe(5);
    const rows = await deliveriesOf(db, resolved);
    // The bare address has no organisation, so an audience-limited follow-up cannot reach it; movedAway is outside.
    expect(rows.map((r) => r.recipient).sort()).toEqual(
      [stillSubscribed, unsubscribed, turnedOff, newcomer].map(userRecipient).sort(),
    );
    expect(rows.find((r) => r.recipient === userRecipient(unsubscribed))?.subscriptionId).toBeNull();
    expect(rows.find((r) => r.recipient === userRecipient(turnedOff))?.subscriptionId).toBe(subs.get(turnedOff));

    const sent = await processEmailJob({ deliveryIds: rows.map((r) => String(r.id)) }, emailDeps);
    expect(sent).toMatchObject({ sent: 4, skipped: 0 });
    // Without a subscription, the words follow the account's language.
    const [mail] = smtp.messagesTo(unsubscribed.email).slice(-1);
    expect(mail!.parsed.subject).toBe('[Drift] Løyst: Nettverket virker igjen');
    expect(mail!.headerLines.some((line) => line.startsWith('List-Unsubscribe:'))).toBe(false);
    expect(smtp.messagesTo(turnedOff.email).at(-1)!.parsed.subject).toBe('[Drift] Resolved: Nettverket virker igjen');
    expect(smtp.messagesTo(newcomer.email).at(-1)!.parsed.subject).toBe('[Drift] Løst: Nettverket virker igjen');

    // Running the fan-out again makes nothing new.
    expect((await processFanout({ announcementId: resolved }, fanoutDeps)).deliveriesCreated).toBe(0);
  });

  it('without a follow-up, an unsubscribed recipient of an earlier announcement gets nothing', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    const user = await createUser(db, { organisationCode: 'UiB' });
    const subscription = await createSubscription(db, { channelId: channel.id, userId: user.id });
    const first = await publish(channel);
    await processFanout({ announcementId: first }, fanoutDeps);
    await processEmailJob({ deliveryIds: (await deliveriesOf(db, first)).map((d) => String(d.id)) }, emailDeps);
    await db.subscription.delete({ where: { id: subscription.id } });

    const second = await publish(channel, { type: 'incident' });
    await processFanout({ announcementId: second }, fanoutDeps);
    expect(await deliveriesOf(db, second)).toHaveLength(0);
  });
});

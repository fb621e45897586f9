/**
 * Corrections and retraction notices on real PostgreSQL, Redis and SMTP, through the real pipeline: publish → outbox
 * relay → fan-out worker → e-mail processor; then a material edit (or a retraction) → relay → the notice job on the
 * fan-out queue → Delivery rows for exactly those who were SENT the announcement → the e-mail processor's re-check and
 * the correction / retraction templates. Minor edits send nothing.
 */
import { randomUUID } from 'node:crypto';
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/domain/types.js';
import { createSmtpMailer, type Mailer } from '../../src/mail/mailer.js';
import type { PushPayload } from '../../src/push/payload.js';
import { createPushSender, generateVapidKeys } from '../../src/push/sender.js';
import { editAnnouncement } from '../../src/services/edit.js';
import { publishAnnouncement } from '../../src/services/publish.js';
import { retractAnnouncement } from '../../src/services/retract.js';
import { type BoundWorker, isPermanentJobError } from '../../workers/binding.js';
import { createFanoutWorker } from '../../workers/fanout.worker.js';
import { createOutboxRelay, type OutboxRelay } from '../../workers/outbox-relay.js';
import { type EmailProcessorDeps, processEmailJob, SKIP_REASON } from '../../workers/processors/email.js';
import { parseNoticeJob, processNotice } from '../../workers/processors/notices.js';
import { PUSH_SKIP_REASON, processPushJob } from '../../workers/processors/push.js';
import { createTestContext, TEST_UNSUBSCRIBE_SECRET, type TestContext } from '../helpers/context.js';
import { createSubscription, silentLogger, uniqueAddress } from '../helpers/delivery.js';
import { createChannel, createUser, type TestChannel } from '../helpers/factories.js';
import { startPushEndpoint, type TestPushEndpoint } from '../helpers/push-endpoint.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { waitFor } from '../helpers/wait.js';

let ctx: TestContext;
let smtp: TestSmtpServer;
let mailer: Mailer;
let emailDeps: EmailProcessorDeps;
let relay: OutboxRelay;
let fanoutWorker: BoundWorker;
let admin: Actor;
let deps: { db: TestContext['deps']['db']; publicUrl: string };

beforeAll(async () => {
  smtp = await startSmtpServer();
  ctx = await createTestContext({ PUBLIC_URL: 'https://meldingskanal.example.no' });
  mailer = createSmtpMailer({ url: smtp.url, poolSize: 2, maxMessages: 1000, ratePerSecond: 0 });
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
  deps = { db: ctx.deps.db, publicUrl: ctx.config.http.publicUrl };
  relay = createOutboxRelay({
    db: ctx.deps.db,
    fanoutQueue: ctx.deps.queues.fanout,
    scheduledQueue: ctx.deps.queues.scheduled,
    publisher: ctx.deps.redis,
    redisPrefix: ctx.config.redis.prefix,
    databaseUrl: ctx.config.database.url,
    publicUrl: ctx.config.http.publicUrl,
    pollMs: 60_000,
    logger: silentLogger,
  });
  fanoutWorker = createFanoutWorker(ctx.deps, silentLogger);
  await fanoutWorker.worker.waitUntilReady();
  const user = await createUser(ctx.deps.db, { isAdmin: true });
  admin = { kind: 'user', userId: user.id, isAdmin: true, organisationId: null, scopes: ['read', 'publish', 'admin'] };
});

afterAll(async () => {
  await fanoutWorker.close();
  await relay.close();
  await mailer.close();
  await smtp.close();
  await ctx.close();
});

/** Relays every outbox event written so far (the test calls it instead of waiting for a notification). */
async function relayAll(): Promise<void> {
  while ((await relay.relayOnce()) > 0);
}

async function deliveries(announcementId: string, kind: 'announcement' | 'correction' | 'retraction') {
  return ctx.deps.db.delivery.findMany({
    where: { announcementId, kind },
    orderBy: [{ revision: 'asc' }, { id: 'asc' }],
  });
}

/** Sends every pending delivery of that kind now, as the e-mail worker would. */
async function sendPending(announcementId: string, kind: 'announcement' | 'correction' | 'retraction') {
  const rows = (await deliveries(announcementId, kind)).filter((row) => row.status === 'pending');
  if (rows.length === 0) return;
  await processEmailJob({ deliveryIds: rows.map((row) => String(row.id)) }, emailDeps);
}

interface Audience {
  channel: TestChannel;
  /** Subscribed user, nb, immediate. */
  reader: { email: string; id: string };
  /** Bare address, English. */
  bare: string;
  /** Its original bounced (5xx): failed, never sent. */
  bounced: string;
}

/** A public channel with three subscribers, an announcement published and its e-mails sent. */
async function publishedAndSent(title: string, body: string): Promise<{ id: string } & Audience> {
  const db = ctx.deps.db;
  const channel = await createChannel(db, { title: 'Drift' });
  const user = await createUser(db, { organisationCode: 'UiB' });
  await createSubscription(db, { channelId: channel.id, userId: user.id, language: 'nb' });
  const bare = uniqueAddress('bare');
  await createSubscription(db, { channelId: channel.id, email: bare, language: 'en' });
  const bounced = uniqueAddress('bounced');
  await createSubscription(db, { channelId: channel.id, email: bounced, language: 'nb' });
  smtp.refuse(bounced, 550);

  const view = await publishAnnouncement(deps, admin, channel.slug, { title, body });
  await relayAll();
  await waitFor(async () => (await deliveries(view.id, 'announcement')).length === 3, { what: 'the fan-out' });
  await sendPending(view.id, 'announcement');
  const originals = await deliveries(view.id, 'announcement');
  expect(originals.map((row) => row.status).sort()).toEqual(['failed', 'sent', 'sent']);
  return { id: view.id, channel, reader: { email: user.email, id: user.id }, bare, bounced };
}

function noticeDeps() {
  return {
    db: ctx.deps.db,
    emailQueue: ctx.deps.queues.email,
    pushQueue: ctx.deps.queues.push,
    webhookQueue: ctx.deps.queues.webhook,
    emailBatchSize: 50,
    logger: silentLogger,
  };
}

async function fanoutJob(id: string): Promise<Job | undefined> {
  return ctx.deps.queues.fanout.getJob(id);
}

describe('corrections', () => {
  it('a material edit e-mails a correction to those who received the original; a minor edit sends nothing', async () => {
    const db = ctx.deps.db;
    const a = await publishedAndSent('Vedlikehold av e-post', 'Tjenesten er nede **fredag** kl. 18.');
    // Subscribed after the original went out: never received it, gets no correction.
    const late = uniqueAddress('late');
    await createSubscription(db, { channelId: a.channel.id, email: late, createdAt: new Date() });
    const before = smtp.messages.length;

    await editAnnouncement(deps, admin, a.id, { body: 'Skrivefeil rettet.', material: false });
    await relayAll();
    expect(await fanoutJob(`correction-${a.id}-r2`)).toBeUndefined();
    // Even a job for the minor revision (added by hand) makes nothing.
    expect((await processNotice('correction', { announcementId: a.id, revision: 2 }, noticeDeps())).status).toBe(
      'not_due',
    );

    await editAnnouncement(deps, admin, a.id, {
      title: 'Vedlikehold av e-post flyttet',
      body: 'Tjenesten er nede **lørdag** kl. 18.',
      material: true,
      note: 'Ny dato: lørdag, ikke fredag.',
    });
    await relayAll();
    const job = await fanoutJob(`correction-${a.id}-r3`);
    expect(job).toMatchObject({ name: 'correction', data: { announcementId: a.id, revision: 3 } });

    const corrections = await waitFor(
      async () => {
        const rows = await deliveries(a.id, 'correction');
        return rows.length === 2 && rows;
      },
      { what: 'the corrections' },
    );
    expect(corrections.map((row) => row.recipient).sort()).toEqual([`email:${a.bare}`, `user:${a.reader.id}`].sort());
    expect(corrections.every((row) => row.revision === 3 && row.medium === 'email' && row.status === 'pending')).toBe(
      true,
    );
    // The job again (a second relay, a retry): nothing new.
    const again = await processNotice('correction', { announcementId: a.id, revision: 3 }, noticeDeps());
    expect(again.deliveriesCreated).toBe(0);

    await sendPending(a.id, 'correction');
    expect((await deliveries(a.id, 'correction')).map((row) => row.status)).toEqual(['sent', 'sent']);
    const mails = smtp.messages.slice(before);
    expect(mails).toHaveLength(2);

    const [nb] = smtp.messagesTo(a.reader.email).slice(-1);
    expect(nb!.parsed.subject).toBe('[Drift] Rettet: Vedlikehold av e-post flyttet');
    expect(nb!.parsed.text).toContain('Utgiverens merknad: Ny dato: lørdag, ikke fredag.');
    expect(nb!.parsed.text).toContain('lørdag');
    expect(nb!.parsed.text).toContain(`https://meldingskanal.example.no/announcements/${a.id}`);
    expect(nb!.parsed.html).toContain('<strong>lørdag</strong>');
    expect(nb!.parsed.html).toContain('<html lang="nb">');
    expect(nb!.parsed.messageId).toBe(
      `<delivery-${corrections.find((r) => r.recipient.startsWith('user:'))!.id}@meldingskanal.example.no>`,
    );
    expect(
      nb!.headerLines.some((line) =>
        line.startsWith('List-Unsubscribe: <https://meldingskanal.example.no/unsubscribe?token='),
      ),
    ).toBe(true);

    const [en] = smtp.messagesTo(a.bare).slice(-1);
    expect(en!.parsed.subject).toBe('[Drift] Corrected: Vedlikehold av e-post flyttet');
    expect(en!.parsed.text).toContain("The publisher's note: Ny dato: lørdag, ikke fredag.");
    expect(smtp.messagesTo(late)).toHaveLength(0);
    expect(smtp.messagesTo(a.bounced)).toHaveLength(0);
  });

  it('a correction superseded by a later material revision is skipped; one mail carries the current text', async () => {
    const a = await publishedAndSent('Nettverksarbeid', 'Første versjon.');
    await editAnnouncement(deps, admin, a.id, { body: 'Andre versjon.', material: true });
    await editAnnouncement(deps, admin, a.id, { body: 'Tredje versjon.', material: true });
    await relayAll();
    await waitFor(async () => (await deliveries(a.id, 'correction')).length === 4, { what: 'both revisions' });
    const before = smtp.messagesTo(a.reader.email).length;

    await sendPending(a.id, 'correction');
    const rows = await deliveries(a.id, 'correction');
    expect(rows.filter((row) => row.revision === 2).map((row) => [row.status, row.skipReason])).toEqual([
      ['skipped', SKIP_REASON.superseded],
      ['skipped', SKIP_REASON.superseded],
    ]);
    expect(rows.filter((row) => row.revision === 3).map((row) => row.status)).toEqual(['sent', 'sent']);
    const mails = smtp.messagesTo(a.reader.email).slice(before);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.parsed.text).toContain('Tredje versjon.');
  });

  it('re-checks at send time: unsubscribed, retracted meanwhile; and no corrections for a retracted one', async () => {
    const db = ctx.deps.db;
    const a = await publishedAndSent('Planlagt stans', 'Stans i kveld.');
    await editAnnouncement(deps, admin, a.id, { body: 'Stans i morgen.', material: true });
    await relayAll();
    await waitFor(async () => (await deliveries(a.id, 'correction')).length === 2, { what: 'the corrections' });
    await db.subscription.updateMany({ where: { channelId: a.channel.id, email: a.bare }, data: { emailMode: 'off' } });
    await sendPending(a.id, 'correction');
    const rows = await deliveries(a.id, 'correction');
    expect(rows.find((row) => row.recipient === `email:${a.bare}`)).toMatchObject({
      status: 'skipped',
      skipReason: SKIP_REASON.unsubscribed,
    });
    expect(rows.find((row) => row.recipient === `user:${a.reader.id}`)?.status).toBe('sent');

    // A correction made, then the announcement retracted before it was sent: not sent.
    await editAnnouncement(deps, admin, a.id, { body: 'Stans avlyst.', material: true });
    await relayAll();
    await waitFor(async () => (await deliveries(a.id, 'correction')).length === 4, { what: 'the second corrections' });
    await retractAnnouncement(deps, admin, a.id);
    await sendPending(a.id, 'correction');
    const r3 = (await deliveries(a.id, 'correction')).filter((row) => row.revision === 3);
    expect(r3.every((row) => row.status === 'skipped' && row.skipReason === SKIP_REASON.announcementNotPublished)).toBe(
      true,
    );
    // And a (late) correction job of a retracted announcement makes nothing.
    const late = await processNotice('correction', { announcementId: a.id, revision: 3 }, noticeDeps());
    expect(late.status).toBe('not_due');
  });

  it('also reach those who got the announcement in a sent digest', async () => {
    const db = ctx.deps.db;
    const a = await publishedAndSent('Ny VPN-klient', 'Installer innen fredag.');
    const digestReader = uniqueAddress('digest');
    await createSubscription(db, { channelId: a.channel.id, email: digestReader, emailMode: 'daily', language: 'nn' });
    const digestFailed = uniqueAddress('digest-failed');
    await createSubscription(db, { channelId: a.channel.id, email: digestFailed, emailMode: 'daily' });
    for (const [address, status] of [
      [digestReader, 'sent'],
      [digestFailed, 'failed'],
    ] as const) {
      await db.digest.create({
        data: {
          recipient: `email:${address}`,
          mode: 'daily',
          periodStart: new Date(Date.now() - 86_400_000),
          periodEnd: new Date(),
          announcementIds: [a.id],
          status,
        },
      });
    }

    await editAnnouncement(deps, admin, a.id, { body: 'Installer innen torsdag.', material: true });
    await relayAll();
    const corrections = await waitFor(
      async () => {
        const rows = await deliveries(a.id, 'correction');
        return rows.length === 3 && rows;
      },
      { what: 'the corrections' },
    );
    expect(corrections.map((row) => row.recipient).sort()).toEqual(
      [`email:${a.bare}`, `user:${a.reader.id}`, `email:${digestReader}`].sort(),
    );
    await sendPending(a.id, 'correction');
    const [mail] = smtp.messagesTo(digestReader);
    expect(mail?.parsed.subject).toBe('[Drift] Retta: Ny VPN-klient');
    expect(mail?.parsed.text).toContain('Installer innen torsdag.');
    expect(smtp.messagesTo(digestFailed)).toHaveLength(0);
  });
});

describe('retraction notices', () => {
  it('tell those who received it that it was withdrawn, without the withdrawn text; suppressed addresses stay out', async () => {
    const db = ctx.deps.db;
    const a = await publishedAndSent('Feil lønnsdato', 'Lønn utbetales den **12.**, hemmelig detalj.');
    // The bare address bounced somewhere else since: suppressed.
    await db.emailSuppression.create({ data: { email: a.bare.toLowerCase(), reason: 'bounce' } });
    const before = smtp.messagesTo(a.reader.email).length;

    await retractAnnouncement(deps, admin, a.id);
    await relayAll();
    expect(await fanoutJob(`retraction-${a.id}`)).toMatchObject({ name: 'retraction' });
    const notices = await waitFor(
      async () => {
        const rows = await deliveries(a.id, 'retraction');
        return rows.length === 2 && rows;
      },
      { what: 'the retraction notices' },
    );
    expect(notices.every((row) => row.revision === 0)).toBe(true);

    await sendPending(a.id, 'retraction');
    const rows = await deliveries(a.id, 'retraction');
    expect(rows.find((row) => row.recipient === `email:${a.bare}`)).toMatchObject({
      status: 'skipped',
      skipReason: SKIP_REASON.suppressed,
    });
    const mails = smtp.messagesTo(a.reader.email).slice(before);
    expect(mails).toHaveLength(1);
    const mail = mails[0]!;
    expect(mail.parsed.subject).toBe('[Drift] Trukket tilbake: Feil lønnsdato');
    expect(mail.parsed.text).toContain('trukket tilbake');
    expect(mail.parsed.text).not.toContain('hemmelig');
    expect(mail.parsed.html).not.toContain('hemmelig');
    expect(mail.parsed.text).not.toContain(`/announcements/${a.id}`);
    expect(smtp.messagesTo(a.bounced)).toHaveLength(0);
  });
});

describe('corrections by web push', () => {
  it('go to those sent the announcement by push, with Rettet: before the title; superseded ones are skipped', async () => {
    const db = ctx.deps.db;
    const vapid = { ...generateVapidKeys(), subject: 'mailto:drift@example.no' };
    const pushService: TestPushEndpoint = await startPushEndpoint({ vapidPublicKey: vapid.publicKey });
    try {
      const pushDeps = {
        db,
        sender: createPushSender({ vapid, agent: pushService.agent }),
        pushQueue: ctx.deps.queues.push,
        publicUrl: ctx.config.http.publicUrl,
        serviceHosts: ['127.0.0.1'],
        maxAttempts: 3,
        logger: silentLogger,
      };
      const channel = await createChannel(db, { title: 'Drift' });
      const people = [];
      for (const language of ['nb', 'en'] as const) {
        const user = await createUser(db, { organisationCode: 'UiB' });
        const subscription = await createSubscription(db, { channelId: channel.id, userId: user.id, language });
        await db.subscription.update({ where: { id: subscription.id }, data: { push: true, emailMode: 'off' } });
        const browser = pushService.createSubscription();
        await db.pushSubscription.create({
          data: {
            id: randomUUID(),
            userId: user.id,
            endpoint: browser.endpoint,
            p256dh: browser.keys.p256dh,
            auth: browser.keys.auth,
          },
        });
        people.push({ user, subscription, browser });
      }
      const [nb, en] = people as [(typeof people)[0], (typeof people)[0]];
      const view = await publishAnnouncement(deps, admin, channel.slug, { title: 'Nedetid', body: 'I kveld.' });
      await relayAll();
      // The fan-out made the original push deliveries (pending: no push worker runs here); settle them as the push
      // worker would have: sent to `nb`, failed for `en`.
      await waitFor(
        async () =>
          (await db.delivery.count({ where: { announcementId: view.id, medium: 'push', kind: 'announcement' } })) === 2,
        { what: 'the push deliveries made by the fan-out' },
      );
      for (const [person, status] of [
        [nb, 'sent'],
        [en, 'failed'],
      ] as const) {
        await db.delivery.updateMany({
          where: { announcementId: view.id, recipient: `user:${person.user.id}`, medium: 'push', kind: 'announcement' },
          data: { status, ...(status === 'sent' ? { sentAt: new Date() } : {}) },
        });
      }

      await editAnnouncement(deps, admin, view.id, { body: 'I morgen.', material: true });
      await editAnnouncement(deps, admin, view.id, { title: 'Nedetid flyttet', material: true });
      await relayAll();
      const pushCorrections = await waitFor(
        async () => {
          const rows = await db.delivery.findMany({
            where: { announcementId: view.id, kind: 'correction', medium: 'push' },
            orderBy: { revision: 'asc' },
          });
          return rows.length === 2 && rows;
        },
        { what: 'the push corrections' },
      );
      expect(pushCorrections.map((row) => [row.recipient, row.revision])).toEqual([
        [`user:${nb.user.id}`, 2],
        [`user:${nb.user.id}`, 3],
      ]);

      await processPushJob({ deliveryIds: pushCorrections.map((row) => String(row.id)) }, pushDeps);
      const settled = await db.delivery.findMany({
        where: { id: { in: pushCorrections.map((row) => row.id) } },
        orderBy: { revision: 'asc' },
      });
      expect(settled.map((row) => [row.status, row.skipReason])).toEqual([
        ['skipped', PUSH_SKIP_REASON.superseded],
        ['sent', null],
      ]);
      const received = pushService.receivedBy(nb.browser.endpoint);
      expect(received).toHaveLength(1);
      const payload = JSON.parse(received[0]!.plaintext!) as PushPayload;
      expect(payload).toMatchObject({ id: view.id, title: 'Rettet: Nedetid flyttet', body: 'I morgen.' });
      expect(pushService.receivedBy(en.browser.endpoint)).toHaveLength(0);
    } finally {
      await pushService.close();
    }
  });
});

describe('notice jobs', () => {
  it('refuse malformed data as permanent errors (BullMQ does not retry them)', () => {
    expect(() => parseNoticeJob('correction', { announcementId: 'nope', revision: 2 })).toThrow(/UUID/);
    expect(() => parseNoticeJob('correction', { announcementId: randomUUID() })).toThrow(/revision/);
    expect(() => parseNoticeJob('correction', { announcementId: randomUUID(), revision: 1 })).toThrow(/revision/);
    const id = randomUUID();
    expect(parseNoticeJob('retraction', { announcementId: id.toUpperCase() })).toEqual({
      announcementId: id,
      revision: 0,
    });
    try {
      parseNoticeJob('retraction', null);
      expect.unreachable();
    } catch (error) {
      expect(isPermanentJobError(error)).toBe(true);
    }
  });
});

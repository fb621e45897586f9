/**
 * The suppression list on real PostgreSQL and a real SMTP server: a permanent 5xx reply suppresses the address with
 * the delivery and the reply; every later send skips it (announcements, acknowledgement reminders, confirmations of
 * imports, webhook notices to owners); a 4xx does not; a second bounce re-suppresses a lifted address. Also the
 * confirmation processor's own bounce, and the sweeper's clean-up of subscriptions never confirmed.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSuppressed, liftSuppression, suppressAddress } from '../../src/db/suppression.js';
import { createSmtpMailer, type Mailer } from '../../src/mail/mailer.js';
import { deleteStaleUnconfirmed } from '../../src/services/email-subscriptions.js';
import { type ConfirmationProcessorDeps, processConfirmation } from '../../workers/processors/confirmation.js';
import { type EmailProcessorDeps, processEmailJob, SKIP_REASON } from '../../workers/processors/email.js';
import { processFanout } from '../../workers/processors/fanout.js';
import { processSweep } from '../../workers/processors/sweep.js';
import { disableWebhook } from '../../workers/processors/webhook.js';
import { createTestContext, TEST_UNSUBSCRIBE_SECRET, type TestContext } from '../helpers/context.js';
import {
  createAnnouncement,
  createSubscription,
  deliveriesOf,
  silentLogger,
  uniqueAddress,
} from '../helpers/delivery.js';
import { createChannel, createUser, grantRole } from '../helpers/factories.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';

let ctx: TestContext;
let smtp: TestSmtpServer;
let mailer: Mailer;
let emailDeps: EmailProcessorDeps;
let confirmationDeps: ConfirmationProcessorDeps;

const DAY = 24 * 3600_000;

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
  confirmationDeps = {
    db: ctx.deps.db,
    mailer,
    signingKey: TEST_UNSUBSCRIBE_SECRET,
    publicUrl: ctx.config.http.publicUrl,
    from: 'BOTT Meldingskanal <noreply@example.no>',
    logger: silentLogger,
  };
});

afterAll(async () => {
  await mailer.close();
  await smtp.close();
  await ctx.close();
});

/** Publishes an announcement in the channel and runs its fan-out and e-mail job; returns its deliveries. */
async function announce(channelId: string, options: { ackRequired?: boolean } = {}) {
  const db = ctx.deps.db;
  const announcement = await createAnnouncement(db, { channelId });
  if (options.ackRequired) {
    await db.announcement.update({ where: { id: announcement.id }, data: { ackRequired: true } });
  }
  await processFanout(
    { announcementId: announcement.id },
    { db, emailQueue: ctx.deps.queues.email, pageSize: 100, emailBatchSize: 50, logger: silentLogger },
  );
  const ids = (await deliveriesOf(db, announcement.id)).map((d) => String(d.id));
  if (ids.length > 0) await processEmailJob({ deliveryIds: ids }, emailDeps);
  return { announcementId: announcement.id, deliveries: await deliveriesOf(db, announcement.id) };
}

async function suppressionOf(email: string) {
  return ctx.deps.db.emailSuppression.findUnique({ where: { email: email.toLowerCase() } });
}

describe('announcement e-mails', () => {
  it('suppresses an address the relay refuses with 5xx (delivery id and reply kept), and skips it from then on', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    const bouncing = uniqueAddress('bouncing');
    const fine = uniqueAddress('fine');
    // Spelt with capitals in the subscription: the list is by lower-cased address.
    const spelt = bouncing.replace('bouncing', 'Bouncing');
    await createSubscription(db, { channelId: channel.id, email: spelt });
    await createSubscription(db, { channelId: channel.id, email: fine });
    smtp.refuse(bouncing, 550);

    const first = await announce(channel.id);
    const failed = first.deliveries.find((d) => d.recipient === `email:${spelt}`)!;
    expect(failed.status).toBe('failed');
    expect(failed.attempts).toBe(1);
    const suppression = await suppressionOf(bouncing);
    expect(suppression).toMatchObject({ email: bouncing, reason: 'bounce', deliveryId: failed.id, liftedAt: null });
    expect(suppression!.detail).toContain('550');
    expect(suppression!.detail).not.toContain('@');
    expect(first.deliveries.find((d) => d.recipient === `email:${fine}`)!.status).toBe('sent');

    const refusalsBefore = smtp.refusals.length;
    const second = await announce(channel.id);
    const skipped = second.deliveries.find((d) => d.recipient === `email:${spelt}`)!;
    expect(skipped).toMatchObject({ status: 'skipped', skipReason: SKIP_REASON.suppressed });
    // Never offered to the relay again.
    expect(smtp.refusals.length).toBe(refusalsBefore);
    expect(second.deliveries.find((d) => d.recipient === `email:${fine}`)!.status).toBe('sent');
  });

  it('does not suppress on a transient 4xx reply', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    const busy = uniqueAddress('busy');
    await createSubscription(db, { channelId: channel.id, email: busy });
    smtp.refuse(busy, 451, 1);

    const { deliveries } = await announce(channel.id);
    expect(deliveries[0]).toMatchObject({ status: 'pending' });
    expect(await suppressionOf(busy)).toBeNull();
  });

  it('suppresses a lifted address again on its next bounce, clearing liftedAt', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    const address = uniqueAddress('again');
    await createSubscription(db, { channelId: channel.id, email: address });
    await suppressAddress(db, { email: address, reason: 'bounce', detail: 'old', deliveryId: null });
    expect(await liftSuppression(db, address)).toBe(true);
    expect(await liftSuppression(db, address)).toBe(false);
    expect(await isSuppressed(db, address)).toBe(false);
    smtp.refuse(address, 554);

    const { deliveries } = await announce(channel.id);
    expect(deliveries[0]!.status).toBe('failed');
    const suppression = await suppressionOf(address);
    expect(suppression).toMatchObject({ liftedAt: null, deliveryId: deliveries[0]!.id });
    expect(suppression!.detail).toContain('554');
    expect(await isSuppressed(db, address.toUpperCase())).toBe(true);
  });

  it('skips an acknowledgement reminder to a suppressed account address', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    const user = await createUser(db);
    await createSubscription(db, { channelId: channel.id, userId: user.id });
    const { announcementId } = await announce(channel.id, { ackRequired: true });
    await suppressAddress(db, { email: user.email, reason: 'bounce', detail: '550', deliveryId: null });
    const reminder = await db.delivery.create({
      data: {
        announcementId,
        recipient: `user:${user.id}`,
        medium: 'email',
        kind: 'ack_reminder',
        revision: 0,
        status: 'pending',
        nextAttemptAt: new Date(Date.now() - 1000),
      },
    });

    const result = await processEmailJob({ deliveryIds: [String(reminder.id)] }, emailDeps);
    expect(result).toMatchObject({ skipped: 1, sent: 0 });
    expect(await db.delivery.findUniqueOrThrow({ where: { id: reminder.id } })).toMatchObject({
      status: 'skipped',
      skipReason: SKIP_REASON.suppressed,
    });
  });
});

describe('webhook notices', () => {
  it('tells the owners that a webhook was switched off, except an owner whose address is suppressed', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    const [listed, reachable] = [await createUser(db), await createUser(db)];
    await grantRole(db, channel.id, listed.id, 'owner');
    await grantRole(db, channel.id, reachable.id, 'owner');
    await suppressAddress(db, { email: listed.email, reason: 'bounce', detail: '550', deliveryId: null });
    const webhook = await db.webhook.create({
      data: { id: randomUUID(), channelId: channel.id, url: 'https://93.184.215.14/hook', secret: 'whsec_test' },
    });

    const told = await disableWebhook(webhook.id, 'gone', {
      db,
      mailer,
      mailFrom: 'Meldingskanal <noreply@example.no>',
      publicUrl: ctx.config.http.publicUrl,
      logger: silentLogger,
    });
    expect(told).toBe(true);
    expect(smtp.messagesTo(reachable.email)).toHaveLength(1);
    expect(smtp.messagesTo(listed.email)).toHaveLength(0);
  });
});

describe('confirmation e-mails', () => {
  async function unconfirmed(source: 'self' | 'import', email = uniqueAddress(source)) {
    const channel = await createChannel(ctx.deps.db, { title: 'BOTT Økonomi' });
    const row = await ctx.deps.db.subscription.create({
      data: { channelId: channel.id, email, source, confirmationSentAt: new Date(), confirmationsSent: 1 },
    });
    return {
      id: row.id,
      email,
      job: { subscriptionId: String(row.id), requestedAt: row.confirmationSentAt!.getTime() },
    };
  }

  it('a bounce suppresses the address (no delivery id) and ends the job', async () => {
    const { email, job } = await unconfirmed('self');
    smtp.refuse(email, 550);
    expect(await processConfirmation(job, confirmationDeps)).toEqual({ status: 'failed', suppressed: true });
    expect(await suppressionOf(email)).toMatchObject({ reason: 'bounce', deliveryId: null, liftedAt: null });
  });

  it('a transient reply throws, so that BullMQ retries the job', async () => {
    const { email, job } = await unconfirmed('self');
    smtp.refuse(email, 451, 1);
    await expect(processConfirmation(job, confirmationDeps)).rejects.toMatchObject({ responseCode: 451 });
    expect(await suppressionOf(email)).toBeNull();
    expect(await processConfirmation(job, confirmationDeps)).toEqual({ status: 'sent' });
  });

  it('skips an imported address on the list, but sends the confirmation a person asked for (the way to lift it)', async () => {
    const imported = await unconfirmed('import');
    const requested = await unconfirmed('self');
    for (const email of [imported.email, requested.email]) {
      await suppressAddress(ctx.deps.db, { email, reason: 'bounce', detail: '550', deliveryId: null });
    }
    expect(await processConfirmation(imported.job, confirmationDeps)).toEqual({
      status: 'skipped',
      reason: 'suppressed',
    });
    expect(smtp.messagesTo(imported.email)).toHaveLength(0);
    expect(await processConfirmation(requested.job, confirmationDeps)).toEqual({ status: 'sent' });
    expect(smtp.messagesTo(requested.email)).toHaveLength(1);
  });

  it('sends nothing for a confirmed, deleted or no longer public subscription', async () => {
    const confirmed = await unconfirmed('self');
    await ctx.deps.db.subscription.update({ where: { id: confirmed.id }, data: { confirmedAt: new Date() } });
    expect(await processConfirmation(confirmed.job, confirmationDeps)).toEqual({
      status: 'skipped',
      reason: 'already_confirmed',
    });
    const deleted = await unconfirmed('self');
    await ctx.deps.db.subscription.delete({ where: { id: deleted.id } });
    expect(await processConfirmation(deleted.job, confirmationDeps)).toEqual({
      status: 'skipped',
      reason: 'subscription_removed',
    });
    const hidden = await unconfirmed('import');
    const row = await ctx.deps.db.subscription.findUniqueOrThrow({ where: { id: hidden.id } });
    await ctx.deps.db.channel.update({ where: { id: row.channelId }, data: { visibility: 'internal' } });
    expect(await processConfirmation(hidden.job, confirmationDeps)).toEqual({ status: 'skipped', reason: 'no_access' });
    for (const { email } of [confirmed, deleted, hidden]) expect(smtp.messagesTo(email)).toHaveLength(0);
  });

  it('refuses a malformed job without retrying it', async () => {
    await expect(
      processConfirmation({ subscriptionId: 'x', requestedAt: 1 } as never, confirmationDeps),
    ).rejects.toMatchObject({ code: 'validation_failed' });
  });
});

describe('unconfirmed subscriptions', () => {
  it('never receive announcements', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    const waiting = uniqueAddress('waiting');
    const confirmed = uniqueAddress('confirmed');
    await createSubscription(db, { channelId: channel.id, email: waiting, confirmed: false });
    await createSubscription(db, { channelId: channel.id, email: confirmed });

    const { deliveries } = await announce(channel.id);
    expect(deliveries.map((d) => d.recipient)).toEqual([`email:${confirmed}`]);
    expect(smtp.messagesTo(waiting)).toHaveLength(0);
  });

  it('are deleted by the sweeper 30 days after their last confirmation e-mail; others stay', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    const old = new Date(Date.now() - 31 * DAY);
    const make = (data: Record<string, unknown>) =>
      db.subscription.create({ data: { channelId: channel.id, email: uniqueAddress(), ...data } });
    const stale = await make({ createdAt: old, confirmationSentAt: old, source: 'self' });
    const staleWithoutSend = await make({ createdAt: old, source: 'import' });
    const resentLately = await make({ createdAt: old, confirmationSentAt: new Date(Date.now() - 2 * DAY) });
    const confirmedOld = await make({ createdAt: old, confirmationSentAt: old, confirmedAt: old });
    const user = await createUser(db);
    const account = await db.subscription.create({
      data: { channelId: channel.id, userId: user.id, createdAt: old, confirmedAt: old },
    });

    const result = await processSweep({
      db,
      emailQueue: ctx.deps.queues.email,
      staleDeliveryMs: 60_000,
      maxAttempts: 3,
      emailBatchSize: 50,
      logger: silentLogger,
    });
    expect(result.deletedUnconfirmed).toBeGreaterThanOrEqual(2);
    const left = new Set(
      (await db.subscription.findMany({ where: { channelId: channel.id }, select: { id: true } })).map((r) => r.id),
    );
    expect(left.has(stale.id)).toBe(false);
    expect(left.has(staleWithoutSend.id)).toBe(false);
    expect([...left].sort()).toEqual([resentLately.id, confirmedOld.id, account.id].sort());
    expect(await deleteStaleUnconfirmed(db)).toBe(0);
  });
});

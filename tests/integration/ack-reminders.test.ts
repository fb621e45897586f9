/**
 * Acknowledgement reminders on real PostgreSQL, Redis and SMTP: which announcements are due, who is reminded (sent
 * the announcement, not acknowledged, still allowed to see it), once; the reminder e-mail; the re-check at send time;
 * and a correction in the same batch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSmtpMailer, type Mailer } from '../../src/mail/mailer.js';
import { createMaintenanceWorker } from '../../workers/maintenance.worker.js';
import { type AckReminderProcessorDeps, processAckReminders } from '../../workers/processors/ack-reminders.js';
import { type EmailProcessorDeps, processEmailJob, SKIP_REASON } from '../../workers/processors/email.js';
import { createTestContext, TEST_UNSUBSCRIBE_SECRET, type TestContext } from '../helpers/context.js';
import { createSubscription, silentLogger, uniqueAddress } from '../helpers/delivery.js';
import { createChannel, createUser, type TestChannel, type TestUser } from '../helpers/factories.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { waitFor } from '../helpers/wait.js';

let ctx: TestContext;
let smtp: TestSmtpServer;
let mailer: Mailer;
let reminderDeps: AckReminderProcessorDeps;
let emailDeps: EmailProcessorDeps;

const HOUR = 3600_000;

beforeAll(async () => {
  smtp = await startSmtpServer();
  ctx = await createTestContext({ PUBLIC_URL: 'https://meldingskanal.example.no' });
  mailer = createSmtpMailer({ url: smtp.url, poolSize: 2, maxMessages: 1000, ratePerSecond: 0 });
  reminderDeps = {
    db: ctx.deps.db,
    emailQueue: ctx.deps.queues.email,
    emailBatchSize: 50,
    beforeHours: ctx.config.delivery.ackReminderBeforeHours,
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

async function announcementAsking(
  channel: TestChannel,
  deadline: Date,
  options: { audience?: string[]; title?: string } = {},
): Promise<string> {
  const row = await ctx.deps.db.announcement.create({
    data: {
      channelId: channel.id,
      title: options.title ?? 'Ny rutine for tilgang',
      body: 'Les og bekreft.',
      publishedAt: new Date(Date.now() - 2 * HOUR),
      ackRequired: true,
      ackDeadline: deadline,
      audienceOrganisationIds: options.audience ?? [],
    },
  });
  return row.id;
}

/** The fan-out's ledger row for the announcement itself. */
async function original(announcementId: string, recipient: string, status: 'sent' | 'pending' | 'skipped' = 'sent') {
  await ctx.deps.db.delivery.create({
    data: { announcementId, recipient, medium: 'email', status, sentAt: status === 'sent' ? new Date() : null },
  });
}

async function remindersOf(announcementId: string) {
  return ctx.deps.db.delivery.findMany({ where: { announcementId, kind: 'ack_reminder' }, orderBy: { id: 'asc' } });
}

async function acknowledge(announcementId: string, user: TestUser) {
  await ctx.deps.db.announcementAcknowledgement.create({ data: { announcementId, userId: user.id } });
}

describe('processAckReminders', () => {
  it('reminds, once, those who were sent it, have not acknowledged and may still see it', async () => {
    const db = ctx.deps.db;
    const uib = await organisationId('UiB');
    const channel = await createChannel(db);
    const id = await announcementAsking(channel, new Date(Date.now() + 10 * HOUR), { audience: [uib] });

    const waiting = await createUser(db, { organisationCode: 'UiB' });
    const done = await createUser(db, { organisationCode: 'UiB' });
    const moved = await createUser(db, { organisationCode: 'UiB' });
    const notYetSent = await createUser(db, { organisationCode: 'UiB' });
    const unsubscribed = await createUser(db, { organisationCode: 'UiB' });
    await createSubscription(db, { channelId: channel.id, userId: waiting.id });
    for (const user of [waiting, done, moved, unsubscribed]) await original(id, `user:${user.id}`);
    await original(id, `user:${notYetSent.id}`, 'pending');
    await original(id, `email:${uniqueAddress()}`);
    await acknowledge(id, done);
    // Moved to an organisation outside the audience.
    const uio = await organisationId('UiO');
    await db.user.update({ where: { id: moved.id }, data: { organisationId: uio } });

    const first = await processAckReminders(reminderDeps);
    expect(first.announcements).toBeGreaterThanOrEqual(1);
    const reminders = await remindersOf(id);
    // `unsubscribed` has no subscription any more, but was sent the announcement: the publisher asked them too.
    expect(reminders.map((r) => r.recipient).sort()).toEqual([`user:${waiting.id}`, `user:${unsubscribed.id}`].sort());
    expect(reminders.every((r) => r.status === 'pending' && r.medium === 'email' && r.revision === 0)).toBe(true);
    const subscription = await db.subscription.findFirstOrThrow({
      where: { channelId: channel.id, userId: waiting.id },
    });
    expect(reminders.find((r) => r.recipient === `user:${waiting.id}`)?.subscriptionId).toBe(subscription.id);
    expect((await db.announcement.findUniqueOrThrow({ where: { id } })).ackRemindersAt).toBeInstanceOf(Date);

    // The e-mail jobs carry the reminders.
    const jobs = await ctx.deps.queues.email.getJobs(['waiting', 'delayed', 'prioritized', 'active', 'completed']);
    const queued = new Set(jobs.flatMap((job) => job.data.deliveryIds));
    for (const reminder of reminders) expect(queued.has(String(reminder.id))).toBe(true);

    // Once: a second run finds nothing due.
    const second = await processAckReminders(reminderDeps);
    expect(second.reminders).toBe(0);
    expect(await remindersOf(id)).toHaveLength(2);
  });

  it('leaves alone deadlines further away than the window, deadlines passed, and announcements not published', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    const user = await createUser(db, { organisationCode: 'UiB' });
    const far = await announcementAsking(channel, new Date(Date.now() + 48 * HOUR));
    const passed = await announcementAsking(channel, new Date(Date.now() - HOUR));
    const retracted = await announcementAsking(channel, new Date(Date.now() + 2 * HOUR));
    await db.announcement.update({ where: { id: retracted }, data: { status: 'retracted' } });
    for (const id of [far, passed, retracted]) await original(id, `user:${user.id}`);

    await processAckReminders(reminderDeps);
    for (const id of [far, passed, retracted]) {
      expect(await remindersOf(id)).toHaveLength(0);
      expect((await db.announcement.findUniqueOrThrow({ where: { id } })).ackRemindersAt).toBeNull();
    }
  });

  it('two runs at once remind each person once', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    const id = await announcementAsking(channel, new Date(Date.now() + HOUR));
    const users = await Promise.all([1, 2, 3].map(() => createUser(db, { organisationCode: 'UiB' })));
    for (const user of users) await original(id, `user:${user.id}`);

    const results = await Promise.all([processAckReminders(reminderDeps), processAckReminders(reminderDeps)]);
    expect(results.reduce((sum, r) => sum + r.reminders, 0)).toBeGreaterThanOrEqual(3);
    expect(await remindersOf(id)).toHaveLength(3);
  });
});

describe('the maintenance worker', () => {
  it('runs the ack-reminders task from the maintenance queue', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    const id = await announcementAsking(channel, new Date(Date.now() + 3 * HOUR));
    const user = await createUser(db, { organisationCode: 'UiB' });
    await original(id, `user:${user.id}`);

    const bound = createMaintenanceWorker(ctx.deps, silentLogger);
    try {
      await ctx.deps.queues.maintenance.add('ack-reminders', { task: 'ack-reminders' });
      const reminders = await waitFor(async () => (await remindersOf(id)).length === 1 && remindersOf(id), {
        what: 'a reminder made by the worker',
      });
      expect(reminders[0]!.recipient).toBe(`user:${user.id}`);
    } finally {
      await bound.close();
    }
  });
});

describe('sending reminders', () => {
  it('sends a reminder in the subscription language with the deadline in Oslo time and a link to the announcement', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db, { title: 'IT-drift' });
    // 1 December 2026 15:00 UTC is 16:00 in Oslo.
    const deadline = new Date('2026-12-01T15:00:00Z');
    const id = await announcementAsking(channel, deadline, { title: 'Ny passordpolicy' });
    await db.announcementTranslation.create({
      data: { announcementId: id, language: 'en', title: 'New password policy', body: 'Read and confirm.' },
    });
    const english = await createUser(db, { organisationCode: 'UiB' });
    const norwegian = await createUser(db, { organisationCode: 'UiB' });
    const subscription = await createSubscription(db, { channelId: channel.id, userId: english.id, language: 'en' });
    await db.user.update({ where: { id: norwegian.id }, data: { language: 'nn' } });
    // As processAckReminders makes them: linked to the current subscription, where there is one.
    for (const [user, subscriptionId] of [
      [english, subscription.id],
      [norwegian, null],
    ] as const) {
      await db.delivery.create({
        data: {
          announcementId: id,
          subscriptionId,
          recipient: `user:${user.id}`,
          medium: 'email',
          kind: 'ack_reminder',
        },
      });
    }
    const reminders = await remindersOf(id);

    const result = await processEmailJob({ deliveryIds: reminders.map((r) => String(r.id)) }, emailDeps);
    expect(result).toMatchObject({ sent: 2, skipped: 0 });

    const [en] = smtp.messagesTo(english.email);
    expect(en!.parsed.subject).toBe('[IT-drift] Reminder: please confirm you have read “New password policy”');
    expect(en!.parsed.messageId).toBe(`<delivery-${reminders[0]!.id}@meldingskanal.example.no>`);
    expect(en!.parsed.text).toContain('The deadline is Tuesday, 1 December 2026 at 16:00 (Norwegian time).');
    expect(en!.parsed.text).toContain(`https://meldingskanal.example.no/announcements/${id}`);
    expect(en!.parsed.html).toContain(`href="https://meldingskanal.example.no/announcements/${id}"`);
    // The link only leads to the announcement: acknowledging is a POST from its page.
    expect(en!.raw).not.toContain('/acknowledgement');
    expect(en!.headerLines.some((line) => line.startsWith('List-Unsubscribe:'))).toBe(true);

    // No subscription (nor translation into nynorsk): the account's language for the words, bokmål content.
    const [nn] = smtp.messagesTo(norwegian.email);
    expect(nn!.parsed.subject).toBe('[IT-drift] Påminning: stadfest at du har lese «Ny passordpolicy»');
    expect(nn!.parsed.text).toContain('Fristen er tysdag 1. desember 2026 kl. 16:00 (norsk tid).');
    expect(nn!.headerLines.some((line) => line.startsWith('List-Unsubscribe:'))).toBe(false);
    expect(nn!.parsed.messageId).not.toBe(en!.parsed.messageId);
  });

  it('skips a reminder to someone who acknowledged meanwhile, and settles a correction in the same batch on its own', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    const id = await announcementAsking(channel, new Date(Date.now() + HOUR));
    const user = await createUser(db, { organisationCode: 'UiB' });
    await original(id, `user:${user.id}`);
    await processAckReminders(reminderDeps);
    const [reminder] = await remindersOf(id);
    expect(reminder).toBeDefined();
    await acknowledge(id, user);
    // A correction in the same batch is settled on its own (this person has no subscription left: not sent).
    const correction = await db.delivery.create({
      data: { announcementId: id, recipient: `user:${user.id}`, medium: 'email', kind: 'correction', revision: 2 },
    });

    const result = await processEmailJob({ deliveryIds: [String(reminder!.id), String(correction.id)] }, emailDeps);
    expect(result).toMatchObject({ sent: 0, skipped: 2 });
    expect(await db.delivery.findUniqueOrThrow({ where: { id: reminder!.id } })).toMatchObject({
      status: 'skipped',
      skipReason: SKIP_REASON.acknowledged,
    });
    expect(await db.delivery.findUniqueOrThrow({ where: { id: correction.id } })).toMatchObject({
      status: 'skipped',
      skipReason: SKIP_REASON.subscriptionRemoved,
    });
    expect(smtp.messagesTo(user.email)).toHaveLength(0);
  });
});

/**
 * E-mail digests on real PostgreSQL, Redis and SMTP (workers/processors/digest.ts). Runs are driven by calling the
 * processor with the scheduled timestamp a job scheduler would give (no waiting for 07:00): who gets which items
 * (audience, visibility, critical left out), one digest per period however often a run fires, a run that crashes
 * part-way completed by the next, weekly periods, the re-check at send time, suppression, 4xx/5xx, the e-mail itself,
 * and the job schedulers in Redis.
 */
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { periodEndFor } from '../../src/digest/period.js';
import { createSmtpMailer, type Mailer } from '../../src/mail/mailer.js';
import { DIGEST_SCHEDULER_ID, type DigestJob } from '../../src/queue/jobs.js';
import { createDigestWorker, upsertDigestSchedulers } from '../../workers/digest.worker.js';
import { startWorkers } from '../../workers/main.js';
import {
  DIGEST_SKIP_REASON,
  type DigestRunDeps,
  type DigestSendDeps,
  processDigestRun,
  processDigestSend,
  scheduledTimeOf,
  sweepDigests,
} from '../../workers/processors/digest.js';
import { createTestContext, TEST_UNSUBSCRIBE_SECRET, type TestContext } from '../helpers/context.js';
import { createSubscription, silentLogger, uniqueAddress } from '../helpers/delivery.js';
import { createChannel, createUser, grantRole, type TestChannel } from '../helpers/factories.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { waitFor } from '../helpers/wait.js';

let ctx: TestContext;
let smtp: TestSmtpServer;
let mailer: Mailer;
let runDeps: DigestRunDeps;
let sendDeps: DigestSendDeps;

beforeAll(async () => {
  smtp = await startSmtpServer();
  ctx = await createTestContext({ PUBLIC_URL: 'https://meldingskanal.example.no' });
  mailer = createSmtpMailer({ url: smtp.url, poolSize: 2, maxMessages: 1000, ratePerSecond: 0 });
  runDeps = { db: ctx.deps.db, digestQueue: ctx.deps.queues.digest, schedule: ctx.config.digest, logger: silentLogger };
  sendDeps = {
    db: ctx.deps.db,
    mailer,
    digestQueue: ctx.deps.queues.digest,
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

async function announce(
  channel: TestChannel,
  publishedAt: string,
  options: {
    title?: string;
    summary?: string;
    body?: string;
    importance?: 'info' | 'important' | 'critical';
    audience?: string[];
    status?: 'published' | 'retracted';
    expiresAt?: Date;
  } = {},
): Promise<string> {
  const row = await ctx.deps.db.announcement.create({
    data: {
      channelId: channel.id,
      title: options.title ?? `Melding ${publishedAt}`,
      summary: options.summary ?? null,
      body: options.body ?? 'Tjenesten er utilgjengelig i kveld.',
      importance: options.importance ?? 'info',
      status: options.status ?? 'published',
      publishedAt: new Date(publishedAt),
      audienceOrganisationIds: options.audience ?? [],
      expiresAt: options.expiresAt ?? null,
    },
  });
  return row.id;
}

async function digestsOf(recipient: string) {
  return ctx.deps.db.digest.findMany({ where: { recipient }, orderBy: { id: 'asc' } });
}

/** Sends every pending digest of these recipients through the send processor. */
async function sendPending(recipients: string[]) {
  const rows = await ctx.deps.db.digest.findMany({
    where: { recipient: { in: recipients }, status: 'pending' },
    orderBy: { id: 'asc' },
  });
  if (rows.length === 0) return null;
  return processDigestSend({ task: 'send', digestIds: rows.map((row) => String(row.id)) }, sendDeps);
}

const header = (mail: { headerLines: string[] }, name: string) =>
  mail.headerLines.find((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`));

describe('a daily digest at 07:00 Oslo', () => {
  // Wednesday 25 November 2026, 07:00 in Oslo (CET): the period is [24 Nov 06:00Z, 25 Nov 06:00Z).
  const firing = new Date('2026-11-25T06:00:00Z');

  it('collects the day for each subscriber by audience and visibility, leaves critical out, and runs once', async () => {
    const db = ctx.deps.db;
    const uio = await organisationId('UiO');
    const drift = await createChannel(db, { title: 'IT-drift', visibility: 'public' });
    const forskning = await createChannel(db, { title: 'Forskning', visibility: 'internal' });

    const a1 = await announce(drift, '2026-11-24T10:00:00Z', { title: 'Nytt VPN', summary: 'VPN byttes.' });
    const a2 = await announce(drift, '2026-11-24T20:00:00Z', { title: 'Nedetid i kveld', importance: 'important' });
    await announce(drift, '2026-11-24T11:00:00Z', { title: 'Alt er nede', importance: 'critical' });
    await announce(drift, '2026-11-24T05:59:59Z', { title: 'Før perioden' });
    await announce(drift, '2026-11-25T06:00:00Z', { title: 'Etter perioden' });
    const forUio = await announce(drift, '2026-11-24T12:00:00Z', { title: 'Bare UiO', audience: [uio] });
    await announce(drift, '2026-11-24T13:00:00Z', { title: 'Trukket', status: 'retracted' });
    await announce(drift, '2026-11-24T14:00:00Z', { title: 'Utløpt', expiresAt: new Date(Date.now() - 60_000) });
    const b1 = await announce(forskning, '2026-11-24T09:00:00Z', {
      title: 'Nye regler',
      body: `${'Lang tekst om forskningsdata. '.repeat(20)}`,
    });

    const uibUser = await createUser(db, { organisationCode: 'UiB' });
    const uioUser = await createUser(db, { organisationCode: 'UiO' });
    const outsider = await createUser(db);
    const bare = uniqueAddress('daily');
    const unconfirmed = uniqueAddress('unconfirmed');
    const immediate = await createUser(db, { organisationCode: 'UiB' });
    const weekly = await createUser(db, { organisationCode: 'UiB' });
    const sub = (channelId: string, options: Omit<Parameters<typeof createSubscription>[1], 'channelId'>) =>
      createSubscription(db, { channelId, emailMode: 'daily', ...options });
    await sub(drift.id, { userId: uibUser.id, language: 'en' });
    await sub(forskning.id, { userId: uibUser.id, language: 'en' });
    await sub(drift.id, { userId: uioUser.id });
    await sub(forskning.id, { userId: outsider.id });
    await sub(drift.id, { email: bare });
    await sub(drift.id, { email: unconfirmed, confirmed: false });
    await sub(drift.id, { userId: immediate.id, emailMode: 'immediate' });
    await sub(drift.id, { userId: weekly.id, emailMode: 'weekly' });

    const bound = createDigestWorker(ctx.deps, {
      mailer,
      unsubscribeKey: TEST_UNSUBSCRIBE_SECRET,
      logger: silentLogger,
    });
    try {
      const first = await processDigestRun('daily', firing, runDeps);
      expect(first.periodEnd).toBe('2026-11-25T06:00:00.000Z');
      // The scheduler fires again, and a late run a few minutes after: the same period, nothing new.
      const again = await processDigestRun('daily', firing, runDeps);
      const late = await processDigestRun('daily', new Date(firing.getTime() + 3 * 60_000), runDeps);
      expect(again.created + late.created).toBe(0);

      const uibDigests = await digestsOf(`user:${uibUser.id}`);
      expect(uibDigests).toHaveLength(1);
      expect(uibDigests[0]).toMatchObject({
        mode: 'daily',
        language: 'en',
        periodStart: new Date('2026-11-24T06:00:00Z'),
        periodEnd: new Date('2026-11-25T06:00:00Z'),
      });
      expect(uibDigests[0]!.announcementIds).toEqual([b1, a1, a2]);
      expect((await digestsOf(`user:${uioUser.id}`))[0]!.announcementIds).toEqual([a1, forUio, a2]);
      expect((await digestsOf(`email:${bare}`))[0]!.announcementIds).toEqual([a1, a2]);
      // Nothing they may see, unconfirmed, immediate, weekly: no digest.
      for (const recipient of [
        `user:${outsider.id}`,
        `email:${unconfirmed}`,
        `user:${immediate.id}`,
        `user:${weekly.id}`,
      ]) {
        expect(await digestsOf(recipient)).toHaveLength(0);
      }

      // The worker sends the queued digests: one e-mail each.
      await waitFor(
        async () =>
          (
            await db.digest.findMany({
              where: { recipient: { in: [`user:${uibUser.id}`, `user:${uioUser.id}`, `email:${bare}`] } },
            })
          ).every((d) => d.status === 'sent'),
        { what: 'three digests sent' },
      );
    } finally {
      await bound.close();
    }
    expect(smtp.messagesTo(uibUser.email)).toHaveLength(1);
    expect(smtp.messagesTo(uioUser.email)).toHaveLength(1);
    expect(smtp.messagesTo(bare)).toHaveLength(1);
    expect(smtp.messagesTo(outsider.email)).toHaveLength(0);

    // The e-mail: English, one subject, h1 → h2 per channel → h3 per item, excerpts, importance, links.
    const mail = smtp.messagesTo(uibUser.email)[0]!;
    expect(mail.parsed.subject).toBe('Digest from Meldingskanal: 3 new announcements');
    const [uibDigest] = await digestsOf(`user:${uibUser.id}`);
    expect(mail.parsed.messageId).toBe(`<digest-${uibDigest!.id}@meldingskanal.example.no>`);
    // Two channels: no one-click header (it could only name one of them); a link per channel in the body.
    expect(header(mail, 'List-Unsubscribe')).toBeUndefined();
    const html = String(mail.parsed.html);
    expect(html).toContain('<html lang="en">');
    expect(html).toMatch(/<h1[^>]*>Your daily digest<\/h1>/);
    const h2s = [...html.matchAll(/<h2[^>]*>([^<]*)<\/h2>/g)].map((m) => m[1]);
    expect(h2s).toEqual(['Forskning', 'IT-drift']);
    expect(html.match(/<h3/g)).toHaveLength(3);
    expect(html).toContain('Important</strong>');
    expect(html).toContain('VPN byttes.');
    expect(html).toContain(`https://meldingskanal.example.no/announcements/${a2}`);
    expect(html.match(/\/unsubscribe\?token=/g)).toHaveLength(2);
    // The body without a summary is excerpted: shortened, ending in an ellipsis.
    expect(html).toMatch(/Lang tekst om forskningsdata\.[^<]*…<\/p>/);
    expect(html).not.toContain('Alt er nede');
    const text = mail.parsed.text ?? '';
    expect(text).toContain('IMPORTANT: Nedetid i kveld');
    expect(text).toContain('New from');

    // One channel: the one-click header for that subscription, Norwegian words.
    const bareMail = smtp.messagesTo(bare)[0]!;
    expect(bareMail.parsed.subject).toBe('Sammendrag fra Meldingskanal: 2 nye meldinger');
    expect(header(bareMail, 'List-Unsubscribe')).toMatch(
      /^List-Unsubscribe: <https:\/\/meldingskanal\.example\.no\/unsubscribe\?token=/,
    );
    expect(header(bareMail, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(String(bareMail.parsed.html)).not.toContain('Bare UiO');

    // The next day's run starts where this one ended.
    await announce(drift, '2026-11-25T08:00:00Z', { title: 'Neste dag' });
    await processDigestRun('daily', new Date('2026-11-26T06:00:00Z'), runDeps);
    const next = await digestsOf(`email:${bare}`);
    expect(next).toHaveLength(2);
    expect(next[1]!.periodStart).toEqual(new Date('2026-11-25T06:00:00Z'));
  });

  it('two runs of the same period at once make one digest per subscriber', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    await announce(channel, '2026-11-18T10:00:00Z');
    const addresses = Array.from({ length: 6 }, () => uniqueAddress('concurrent'));
    for (const email of addresses) await createSubscription(db, { channelId: channel.id, email, emailMode: 'daily' });
    const at = new Date('2026-11-19T06:00:00Z');
    await Promise.all([
      processDigestRun('daily', at, { ...runDeps, pageSize: 2 }),
      processDigestRun('daily', at, { ...runDeps, pageSize: 3 }),
    ]);
    for (const email of addresses) expect(await digestsOf(`email:${email}`)).toHaveLength(1);
  });
});

describe('what a digest holds', () => {
  it('leaves out what was already e-mailed, reaches back at most 7 days, and picks the language', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db, { title: 'Nyheter' });
    const other = await createChannel(db, { title: 'Andre nyheter' });
    const mailed = await announce(channel, '2026-10-20T10:00:00Z', { title: 'Alt sendt' });
    const fresh = await announce(channel, '2026-10-20T11:00:00Z', { title: 'Ny' });
    const old = await announce(channel, '2026-10-05T11:00:00Z', { title: 'Gammel' });
    const weekOld = await announce(other, '2026-10-14T07:00:00Z', { title: 'En uke gammel' });

    // A subscriber who was `immediate` until yesterday got one of them by e-mail already.
    const switched = await createUser(db, { organisationCode: 'UiB' });
    await db.user.update({ where: { id: switched.id }, data: { language: 'nn' } });
    await createSubscription(db, { channelId: channel.id, userId: switched.id, emailMode: 'daily', language: 'nb' });
    await createSubscription(db, { channelId: other.id, userId: switched.id, emailMode: 'daily', language: 'en' });
    await db.delivery.create({
      data: { announcementId: mailed, recipient: `user:${switched.id}`, medium: 'email', status: 'sent' },
    });
    // Their last daily digest is three weeks old.
    await db.digest.create({
      data: {
        recipient: `user:${switched.id}`,
        mode: 'daily',
        periodStart: new Date('2026-09-30T05:00:00Z'),
        periodEnd: new Date('2026-10-01T05:00:00Z'),
        status: 'sent',
        updatedAt: new Date(),
      },
    });

    await processDigestRun('daily', new Date('2026-10-21T05:00:30Z'), runDeps);
    const rows = await digestsOf(`user:${switched.id}`);
    expect(rows).toHaveLength(2);
    // Seven local days back (not to 1 October), the e-mailed one left out; two channels in two languages: the
    // account's language.
    expect(rows[1]).toMatchObject({
      periodStart: new Date('2026-10-14T05:00:00Z'),
      periodEnd: new Date('2026-10-21T05:00:00Z'),
      language: 'nn',
    });
    expect(rows[1]!.announcementIds).toEqual([weekOld, fresh]);
    expect(rows[1]!.announcementIds).not.toContain(old);
  });

  it('gives channel editors and administrators what is limited to other organisations, as the fan-out does', async () => {
    const db = ctx.deps.db;
    const uio = await organisationId('UiO');
    const channel = await createChannel(db, { visibility: 'internal' });
    const limited = await announce(channel, '2026-10-12T10:00:00Z', { audience: [uio] });
    const admin = await createUser(db, { isAdmin: true });
    const editor = await createUser(db, { organisationCode: 'UiB' });
    await grantRole(db, channel.id, editor.id, 'publisher');
    const member = await createUser(db, { organisationCode: 'UiB' });
    for (const user of [admin, editor, member]) {
      await createSubscription(db, { channelId: channel.id, userId: user.id, emailMode: 'daily' });
    }
    await processDigestRun('daily', new Date('2026-10-13T05:00:00Z'), runDeps);
    expect((await digestsOf(`user:${admin.id}`))[0]!.announcementIds).toEqual([limited]);
    expect((await digestsOf(`user:${editor.id}`))[0]!.announcementIds).toEqual([limited]);
    expect(await digestsOf(`user:${member.id}`)).toHaveLength(0);
  });
});

describe('a run that dies part-way', () => {
  it('is completed by the next run: every subscriber gets exactly one digest', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db, { title: 'Driftsmeldinger' });
    await announce(channel, '2026-11-16T12:00:00Z', { title: 'Oppgradering' });
    const addresses = Array.from({ length: 7 }, () => uniqueAddress('crash'));
    for (const email of addresses) await createSubscription(db, { channelId: channel.id, email, emailMode: 'daily' });
    const recipients = addresses.map((email) => `email:${email}`);
    const at = new Date('2026-11-17T06:00:00Z');

    // Redis goes away after the first page's jobs: the run fails with rows made but not queued, and rows not made.
    let calls = 0;
    const flaky: Pick<Queue<DigestJob>, 'addBulk'> = {
      addBulk: async (jobs) => {
        calls += 1;
        if (calls > 1) throw new Error('Connection is closed.');
        return ctx.deps.queues.digest.addBulk(jobs);
      },
    };
    await expect(processDigestRun('daily', at, { ...runDeps, digestQueue: flaky, pageSize: 2 })).rejects.toThrow(
      /Connection is closed/,
    );
    const made = await db.digest.count({ where: { recipient: { in: recipients } } });
    expect(made).toBeGreaterThan(0);
    expect(made).toBeLessThan(addresses.length);

    // The job is retried (BullMQ) or the scheduler fires again: the rest are made, and what was not queued is.
    const rerun = await processDigestRun('daily', at, { ...runDeps, pageSize: 2 });
    expect(rerun.created).toBe(addresses.length - made);
    const queued = await ctx.deps.queues.digest.getJobs(['waiting', 'delayed', 'prioritized']);
    const queuedIds = new Set(queued.flatMap((job) => (job.data.task === 'send' ? job.data.digestIds : [])));
    const rows = await db.digest.findMany({ where: { recipient: { in: recipients } } });
    expect(rows).toHaveLength(addresses.length);
    for (const row of rows) expect(queuedIds.has(String(row.id))).toBe(true);

    // A worker dies holding one digest (claimed, never settled): the sweeper hands it out again.
    await db.digest.update({
      where: { id: rows[0]!.id },
      data: { status: 'sending', claimedAt: new Date(Date.now() - 10 * 60_000), attempts: 1 },
    });
    const swept = await sweepDigests({
      db,
      digestQueue: ctx.deps.queues.digest,
      staleDeliveryMs: 60_000,
      maxAttempts: 3,
      logger: silentLogger,
    });
    expect(swept.resetSending).toBeGreaterThanOrEqual(1);

    // Sending twice (duplicate jobs) sends once.
    await sendPending(recipients);
    const second = await processDigestSend({ task: 'send', digestIds: rows.map((row) => String(row.id)) }, sendDeps);
    expect(second.notClaimed).toBe(rows.length);
    for (const email of addresses) expect(smtp.messagesTo(email)).toHaveLength(1);
    expect(smtp.messagesTo(addresses[0]!)[0]!.parsed.subject).toBe('Sammendrag fra Meldingskanal: 1 ny melding');
  });
});

describe('weekly digests', () => {
  it('cover the week to Monday 07:00 and the next starts where it ended', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db, { title: 'Ukesnytt' });
    // Monday 9 November 2026 07:00 Oslo = 06:00Z; the week before starts Monday 2 November 06:00Z.
    const inWeek = await announce(channel, '2026-11-02T06:00:00Z', { title: 'Mandag morgen' });
    const late = await announce(channel, '2026-11-08T22:00:00Z', { title: 'Søndag kveld' });
    await announce(channel, '2026-11-02T05:59:00Z', { title: 'Uka før' });
    const email = uniqueAddress('weekly');
    await createSubscription(db, { channelId: channel.id, email, emailMode: 'weekly', language: 'nn' });
    const daily = uniqueAddress('daily-not-weekly');
    await createSubscription(db, { channelId: channel.id, email: daily, emailMode: 'daily' });

    // The weekly scheduler fires on Monday; a daily run of the same morning does not make weekly digests.
    const monday = new Date('2026-11-09T06:00:00Z');
    expect(periodEndFor('weekly', monday, ctx.config.digest)).toEqual(monday);
    const run = await processDigestRun('weekly', monday, runDeps);
    expect(run.periodEnd).toBe('2026-11-09T06:00:00.000Z');
    const [digest] = await digestsOf(`email:${email}`);
    expect(digest).toMatchObject({
      mode: 'weekly',
      language: 'nn',
      periodStart: new Date('2026-11-02T06:00:00Z'),
      periodEnd: monday,
    });
    expect(digest!.announcementIds).toEqual([inWeek, late]);
    expect(await digestsOf(`email:${daily}`)).toHaveLength(0);

    await sendPending([`email:${email}`]);
    const mail = smtp.messagesTo(email)[0]!;
    expect(mail.parsed.subject).toBe('Samandrag frå Meldingskanal: 2 nye meldingar');
    expect(String(mail.parsed.html)).toContain('<html lang="nn">');
    expect(String(mail.parsed.html)).toMatch(/<h1[^>]*>Samandrag for veka<\/h1>/);

    // A run later in the week (Thursday) still names the Monday's period: nothing new.
    expect((await processDigestRun('weekly', new Date('2026-11-12T10:00:00Z'), runDeps)).created).toBe(0);
    await announce(channel, '2026-11-10T10:00:00Z', { title: 'Tirsdag' });
    await processDigestRun('weekly', new Date('2026-11-16T06:00:00Z'), runDeps);
    const both = await digestsOf(`email:${email}`);
    expect(both).toHaveLength(2);
    expect(both[1]).toMatchObject({ periodStart: monday, periodEnd: new Date('2026-11-16T06:00:00Z') });
  });
});

describe('sending a digest', () => {
  async function digestFor(email: string, channel: TestChannel, day: string) {
    await createSubscription(ctx.deps.db, { channelId: channel.id, email, emailMode: 'daily' });
    await processDigestRun('daily', new Date(`${day}T06:00:00Z`), runDeps);
    const rows = await digestsOf(`email:${email}`);
    expect(rows).toHaveLength(1);
    return rows[0]!;
  }

  it('skips a suppressed address and sends nothing', async () => {
    const channel = await createChannel(ctx.deps.db);
    await announce(channel, '2026-11-09T12:00:00Z');
    const email = uniqueAddress('suppressed');
    const digest = await digestFor(email, channel, '2026-11-10');
    await ctx.deps.db.emailSuppression.create({ data: { email, reason: 'bounce' } });

    const result = await processDigestSend({ task: 'send', digestIds: [String(digest.id)] }, sendDeps);
    expect(result.skipped).toBe(1);
    const row = await ctx.deps.db.digest.findUniqueOrThrow({ where: { id: digest.id } });
    expect(row).toMatchObject({ status: 'skipped', skipReason: DIGEST_SKIP_REASON.suppressed });
    expect(smtp.messagesTo(email)).toHaveLength(0);
  });

  it('drops announcements retracted since the run, and skips a digest with nothing left or no subscription', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    const kept = await announce(channel, '2026-11-05T12:00:00Z', { title: 'Står seg' });
    const retracted = await announce(channel, '2026-11-05T13:00:00Z', { title: 'Trekkes' });
    const email = uniqueAddress('recheck');
    const digest = await digestFor(email, channel, '2026-11-06');
    expect(digest.announcementIds).toEqual([kept, retracted]);
    await db.announcement.update({ where: { id: retracted }, data: { status: 'retracted' } });
    await processDigestSend({ task: 'send', digestIds: [String(digest.id)] }, sendDeps);
    const mail = smtp.messagesTo(email)[0]!;
    expect(mail.parsed.subject).toBe('Sammendrag fra Meldingskanal: 1 ny melding');
    expect(String(mail.parsed.html)).not.toContain('Trekkes');

    const other = await createChannel(db);
    const gone = await announce(other, '2026-11-04T12:00:00Z');
    const emptied = uniqueAddress('emptied');
    const emptiedDigest = await digestFor(emptied, other, '2026-11-05');
    await db.announcement.update({ where: { id: gone }, data: { status: 'retracted' } });
    await processDigestSend({ task: 'send', digestIds: [String(emptiedDigest.id)] }, sendDeps);
    expect(await db.digest.findUniqueOrThrow({ where: { id: emptiedDigest.id } })).toMatchObject({
      status: 'skipped',
      skipReason: DIGEST_SKIP_REASON.nothingLeft,
    });

    const third = await createChannel(db);
    await announce(third, '2026-11-03T12:00:00Z');
    const leaving = uniqueAddress('leaving');
    const leavingDigest = await digestFor(leaving, third, '2026-11-04');
    await db.subscription.updateMany({ where: { email: leaving }, data: { emailMode: 'off' } });
    await processDigestSend({ task: 'send', digestIds: [String(leavingDigest.id)] }, sendDeps);
    expect(await db.digest.findUniqueOrThrow({ where: { id: leavingDigest.id } })).toMatchObject({
      status: 'skipped',
      skipReason: DIGEST_SKIP_REASON.unsubscribed,
    });
    expect(smtp.messagesTo(emptied)).toHaveLength(0);
    expect(smtp.messagesTo(leaving)).toHaveLength(0);
  });

  it('retries a 4xx later with the same Message-ID; a 5xx fails at once and suppresses the address', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    await announce(channel, '2026-11-02T12:00:00Z');
    const busy = uniqueAddress('busy');
    const busyDigest = await digestFor(busy, channel, '2026-11-03');
    smtp.refuse(busy, 451, 1);
    const first = await processDigestSend({ task: 'send', digestIds: [String(busyDigest.id)] }, sendDeps);
    expect(first.retrying).toBe(1);
    const waiting = await db.digest.findUniqueOrThrow({ where: { id: busyDigest.id } });
    expect(waiting.status).toBe('pending');
    expect(waiting.nextAttemptAt.getTime()).toBeGreaterThan(Date.now() + 20_000);
    const retryJob = await ctx.deps.queues.digest.getJob(`digest-${busyDigest.id}-r1`);
    expect(retryJob?.data).toEqual({ task: 'send', digestIds: [String(busyDigest.id)] });
    // Not due yet: a second job does nothing. When it is due, it is sent.
    expect((await processDigestSend({ task: 'send', digestIds: [String(busyDigest.id)] }, sendDeps)).notClaimed).toBe(
      1,
    );
    await db.digest.update({ where: { id: busyDigest.id }, data: { nextAttemptAt: new Date(Date.now() - 1000) } });
    expect((await processDigestSend({ task: 'send', digestIds: [String(busyDigest.id)] }, sendDeps)).sent).toBe(1);
    expect(smtp.messagesTo(busy)).toHaveLength(1);
    expect(smtp.messagesTo(busy)[0]!.parsed.messageId).toBe(`<digest-${busyDigest.id}@meldingskanal.example.no>`);

    const gone = uniqueAddress('gone');
    const goneDigest = await digestFor(gone, channel, '2026-11-03');
    smtp.refuse(gone, 550);
    const failed = await processDigestSend({ task: 'send', digestIds: [String(goneDigest.id)] }, sendDeps);
    expect(failed.failed).toBe(1);
    expect(await db.digest.findUniqueOrThrow({ where: { id: goneDigest.id } })).toMatchObject({ status: 'failed' });
    expect(await db.emailSuppression.findUnique({ where: { email: gone } })).toMatchObject({ reason: 'bounce' });
  });

  it('refuses malformed send jobs', async () => {
    await expect(processDigestSend({ task: 'send', digestIds: [] }, sendDeps)).rejects.toMatchObject({
      code: 'validation_failed',
    });
    await expect(processDigestSend({ task: 'send', digestIds: ['1; DROP'] }, sendDeps)).rejects.toMatchObject({
      code: 'validation_failed',
    });
  });
});

describe('the job schedulers', () => {
  it('are upserted at worker start: cron 30 s after 07:00 Europe/Oslo, daily and on Mondays, the next at a cut', async () => {
    const queue = ctx.deps.queues.digest;
    const running = await startWorkers(ctx.deps, { mailer, logger: silentLogger });
    await running.close();

    const daily = await queue.getJobScheduler(DIGEST_SCHEDULER_ID.daily);
    const weekly = await queue.getJobScheduler(DIGEST_SCHEDULER_ID.weekly);
    expect(daily).toMatchObject({ pattern: '30 0 7 * * *', tz: 'Europe/Oslo', name: 'run' });
    expect(daily?.template?.data).toEqual({ task: 'run', mode: 'daily' });
    expect(weekly).toMatchObject({ pattern: '30 0 7 * * 1', tz: 'Europe/Oslo' });
    expect(weekly?.template?.data).toEqual({ task: 'run', mode: 'weekly' });

    // The next runs are due 30 s after a 07:00 Oslo cut (a Monday's for the weekly one), and the job tells the
    // processor that time.
    const next = new Date(daily!.next!);
    expect(next.getTime() - periodEndFor('daily', next, ctx.config.digest).getTime()).toBe(30_000);
    const weeklyNext = new Date(weekly!.next!);
    expect(weeklyNext.getTime() - periodEndFor('weekly', weeklyNext, ctx.config.digest).getTime()).toBe(30_000);
    const delayed = await queue.getJobs(['delayed']);
    const job = delayed.find((j) => j.id === `repeat:${DIGEST_SCHEDULER_ID.daily}:${daily!.next}`);
    expect(job).toBeDefined();
    expect(scheduledTimeOf(job!)).toEqual(next);

    // Idempotent across workers, and a changed setting replaces the schedule instead of adding one.
    await upsertDigestSchedulers(queue, ctx.config);
    await upsertDigestSchedulers(queue, {
      digest: { hour: 6, minute: 15, timeZone: 'Europe/Oslo', weekday: 'friday' },
    });
    expect(await queue.getJobSchedulersCount()).toBe(2);
    expect(await queue.getJobScheduler(DIGEST_SCHEDULER_ID.weekly)).toMatchObject({ pattern: '30 15 6 * * 5' });

    for (const id of Object.values(DIGEST_SCHEDULER_ID)) await queue.removeJobScheduler(id);
  });
});

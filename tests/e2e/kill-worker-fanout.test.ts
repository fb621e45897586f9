/**
 * Fault test: the worker process is killed with SIGKILL (no shutdown, no cleanup) in the middle of sending one
 * announcement to 2,000 subscribers, then started again. PostgreSQL is the ledger, so the new worker must finish the
 * job: every subscriber gets the announcement, and the only duplicates are messages that were in flight at the kill
 * (claimed `sending`, accepted by the SMTP server, not yet marked `sent`). Each duplicate carries the same Message-ID
 * as the first copy, so a receiving system can tell it is the same message.
 *
 * The kill is triggered from the SMTP server's accept callback at a fixed message count, not after a sleep, so it
 * lands mid-run every time. Figures are printed (`[fault] …`) for the closing note.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishAnnouncement } from '../../src/services/publish.js';
import { type Child, startProcess, waitForLog } from '../helpers/child-process.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser } from '../helpers/factories.js';
import { type ReceivedMail, startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { waitFor } from '../helpers/wait.js';

const SUBSCRIBERS = 2000;
/** Kill the worker when this many messages have been accepted: well inside the run. */
const KILL_AT = 600;
const MAIL_FROM = 'BOTT Meldingskanal <meldingskanal@example.org>';

let ctx: TestContext;
let smtp: TestSmtpServer;
const workers: Child[] = [];
let killedAt: number | null = null;

function workerSettings(): Record<string, string> {
  return {
    ...ctx.env,
    APP_ENV: 'development',
    LOG_LEVEL: 'info',
    ROLE: 'worker',
    MIGRATE_ON_START: 'false',
    SEED_ON_EMPTY: 'false',
    SMTP_URL: smtp.url,
    MAIL_FROM,
    // The restarted worker's sweeper finds the dead worker's claims quickly instead of after the default 2 minutes.
    SWEEP_INTERVAL_MS: '500',
    STALE_DELIVERY_MS: '3000',
  };
}

beforeAll(async () => {
  ctx = await createTestContext();
  smtp = await startSmtpServer({
    onMessage(_mail: ReceivedMail, count: number) {
      const first = workers[0];
      // Synchronously, before this message's 250 reply: the worker dies with messages accepted but not settled.
      if (count === KILL_AT && first && killedAt === null) {
        killedAt = count;
        first.process.kill('SIGKILL');
      }
    },
  });
}, 60_000);

afterAll(async () => {
  for (const child of workers) {
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
  }
  await smtp?.close();
  await ctx?.close();
});

describe('kill -9 of the worker in the middle of a fan-out', () => {
  it('delivers to every subscriber after a restart, with duplicates bounded by the messages in flight', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db, { visibility: 'public' });
    const publisher = await createUser(db, { isAdmin: true });
    // 2,000 confirmed e-mail subscribers, written in one statement.
    await db.$executeRaw`
      INSERT INTO "Subscription" ("channelId", email, "emailMode", language, "confirmedAt", "updatedAt")
      SELECT ${channel.id}::uuid, 'subscriber-' || n || '@example.org', 'immediate', 'nb', now(), now()
        FROM generate_series(1, ${SUBSCRIBERS}::int) AS n`;

    const first = startProcess('worker-1', workerSettings());
    workers.push(first);
    await waitForLog(first, (l) => l.msg === 'workers started', 'workers started');

    const announcement = await publishAnnouncement(
      { db, publicUrl: ctx.config.http.publicUrl },
      { kind: 'user', userId: publisher.id, isAdmin: true, organisationId: null, scopes: ['read', 'publish', 'admin'] },
      channel.slug,
      { title: 'Driftsmelding til alle', body: 'Tjenesten er **ustabil** i dag.' },
    );

    // --- the kill, from the SMTP callback ---
    const exit = await waitFor(() => first.process.signalCode !== null && first.process.signalCode, {
      what: 'the first worker killed mid-run',
      timeoutMs: 120_000,
    });
    expect(exit).toBe('SIGKILL');
    expect(killedAt).toBe(KILL_AT);
    const atKill = await db.delivery.groupBy({
      by: ['status'],
      where: { announcementId: announcement.id },
      _count: { _all: true },
    });
    const count = (status: string) => atKill.find((g) => g.status === status)?._count._all ?? 0;
    const inFlight = count('sending');
    const acceptedAtKill = smtp.messages.length;

    // --- restart; the ledger tells the new worker what is left ---
    const second = startProcess('worker-2', workerSettings());
    workers.push(second);
    await waitForLog(second, (l) => l.msg === 'workers started', 'workers started (restart)');
    await waitFor(
      async () =>
        (await db.delivery.count({ where: { announcementId: announcement.id, status: 'sent' } })) === SUBSCRIBERS,
      { what: `all ${SUBSCRIBERS} deliveries sent after the restart`, timeoutMs: 180_000 },
    );

    // --- what the subscribers got ---
    const byRecipient = new Map<string, ReceivedMail[]>();
    for (const mail of smtp.messages) {
      const to = mail.envelope.to[0]!.toLowerCase();
      byRecipient.set(to, [...(byRecipient.get(to) ?? []), mail]);
    }
    expect(byRecipient.size).toBe(SUBSCRIBERS);
    const duplicates = smtp.messages.length - SUBSCRIBERS;
    for (const copies of byRecipient.values()) {
      // A duplicate is the same message again: one Message-ID per recipient.
      expect(new Set(copies.map((mail) => mail.parsed.messageId)).size).toBe(1);
    }
    expect(duplicates).toBeLessThanOrEqual(inFlight);
    expect(await db.delivery.count({ where: { announcementId: announcement.id } })).toBe(SUBSCRIBERS);

    console.info(
      `[fault] ${SUBSCRIBERS} subscribers; killed at ${acceptedAtKill} accepted messages with ${inFlight} deliveries ` +
        `in flight (sent ${count('sent')}, pending ${count('pending')}); after restart every subscriber got it; ` +
        `duplicates ${duplicates} (bound ${inFlight}), each with the same Message-ID`,
    );
  }, 300_000);
});

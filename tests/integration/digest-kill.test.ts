/**
 * Fault test for digests: a worker PROCESS (`src/main.ts`, ROLE=worker) runs a daily digest for 2,000 subscribers and
 * is killed with SIGKILL as the first digest reaches the SMTP server, with sends in flight. Then a new worker process
 * starts and the run is started again (as the scheduler's next firing, a BullMQ retry or an operator would).
 * PostgreSQL is the ledger: every subscriber ends with exactly ONE digest row for the period, every one is sent, and
 * the only duplicate e-mails are digests that were in flight at the kill, each with the same Message-ID.
 *
 * The kill comes from the SMTP server's accept callback, not after a sleep. The run itself is fast (one statement per
 * 500 recipients), so it has usually made every row by then; a run that stops between its pages is tested
 * deterministically in tests/integration/digest.test.ts ("a run that dies part-way").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Child, startProcess, waitForLog } from '../helpers/child-process.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel } from '../helpers/factories.js';
import { type ReceivedMail, startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { waitFor } from '../helpers/wait.js';

const SUBSCRIBERS = 2000;
/** Tuesday 17 November 2026, 07:00:30 in Oslo: the scheduler's firing for the day's digest. */
const FIRING = Date.parse('2026-11-17T06:00:30Z');

let ctx: TestContext;
let smtp: TestSmtpServer;
const workers: Child[] = [];
let killed = false;

function workerSettings(): Record<string, string> {
  return {
    ...ctx.env,
    APP_ENV: 'development',
    LOG_LEVEL: 'info',
    ROLE: 'worker',
    MIGRATE_ON_START: 'false',
    SEED_ON_EMPTY: 'false',
    SMTP_URL: smtp.url,
    MAIL_FROM: 'BOTT Meldingskanal <meldingskanal@example.org>',
    // The restarted worker's sweeper finds the dead worker's claims quickly instead of after the default 2 minutes.
    SWEEP_INTERVAL_MS: '500',
    STALE_DELIVERY_MS: '3000',
  };
}

beforeAll(async () => {
  ctx = await createTestContext();
  smtp = await startSmtpServer({
    onMessage() {
      const first = workers[0];
      // Synchronously, before the first digest's 250 reply.
      if (first && !killed) {
        killed = true;
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

describe('kill -9 of the worker in the middle of a digest run', () => {
  it('ends with one digest per subscriber, all sent, duplicates only of what was in flight', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db, { visibility: 'public', title: 'Driftsmeldinger' });
    await db.announcement.create({
      data: {
        channelId: channel.id,
        title: 'Oppgradering i natt',
        body: 'Kort nedetid.',
        publishedAt: new Date(FIRING - 6 * 3600_000),
      },
    });
    await db.$executeRaw`
      INSERT INTO "Subscription" ("channelId", email, "emailMode", language, "confirmedAt", "updatedAt")
      SELECT ${channel.id}::uuid, 'digest-' || n || '@example.org', 'daily', 'nb', now(), now()
        FROM generate_series(1, ${SUBSCRIBERS}::int) AS n`;

    const first = startProcess('worker-1', workerSettings());
    workers.push(first);
    await waitForLog(first, (l) => l.msg === 'workers started', 'workers started');
    // The run, as the daily scheduler would add it (scheduledAt stands in for the scheduler's prevMillis).
    await ctx.deps.queues.digest.add(
      'run',
      { task: 'run', mode: 'daily', scheduledAt: FIRING },
      {
        jobId: 'run-1',
      },
    );

    const signal = await waitFor(() => first.process.signalCode ?? undefined, {
      what: 'worker-1 killed',
      timeoutMs: 60_000,
    });
    expect(signal).toBe('SIGKILL');
    const rowsAtKill = await db.digest.count();
    const inFlight = await db.digest.count({ where: { status: 'sending' } });

    const second = startProcess('worker-2', workerSettings());
    workers.push(second);
    await waitForLog(second, (l) => l.msg === 'workers started', 'workers started (restart)');
    await ctx.deps.queues.digest.add(
      'run',
      { task: 'run', mode: 'daily', scheduledAt: FIRING + 60_000 },
      {
        jobId: 'run-2',
      },
    );
    await waitFor(async () => (await db.digest.count({ where: { status: 'sent' } })) === SUBSCRIBERS, {
      what: `all ${SUBSCRIBERS} digests sent after the restart`,
      timeoutMs: 120_000,
    });

    // One row per subscriber for the period, none for another period.
    const rows = await db.digest.groupBy({ by: ['recipient', 'periodStart', 'periodEnd'], _count: { _all: true } });
    expect(rows).toHaveLength(SUBSCRIBERS);
    expect(rows.every((r) => r._count._all === 1)).toBe(true);
    expect(new Set(rows.map((r) => r.periodEnd.toISOString()))).toEqual(new Set(['2026-11-17T06:00:00.000Z']));

    const byRecipient = new Map<string, ReceivedMail[]>();
    for (const mail of smtp.messages) {
      const to = mail.envelope.to[0]!.toLowerCase();
      byRecipient.set(to, [...(byRecipient.get(to) ?? []), mail]);
    }
    expect(byRecipient.size).toBe(SUBSCRIBERS);
    for (const copies of byRecipient.values()) {
      expect(new Set(copies.map((mail) => mail.parsed.messageId)).size).toBe(1);
    }
    const duplicates = smtp.messages.length - SUBSCRIBERS;
    expect(duplicates).toBeLessThanOrEqual(inFlight);

    console.info(
      `[fault] digest: ${SUBSCRIBERS} subscribers; killed with ${rowsAtKill} digest rows made and ${inFlight} in ` +
        `flight; after the restart and a second run: ${SUBSCRIBERS} rows, all sent, duplicates ${duplicates}`,
    );
  }, 240_000);
});

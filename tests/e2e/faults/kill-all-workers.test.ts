/**
 * Fault: EVERY worker process is killed with SIGKILL in the middle of a fan-out (10,000 recipients under
 * `npm run test:faults`, 1,000 in the normal suite), then both are started again. PostgreSQL is the ledger, so the new
 * workers finish: everyone receives the announcement, the only duplicates are messages that were in flight at the kill
 * (claimed `sending`, accepted by the SMTP server, not yet marked `sent`), and each duplicate carries the first copy's
 * Message-ID. The kill comes from the SMTP server's accept callback at a fixed count, not after a sleep.
 *
 * Prints `[fault] …`: the messages in flight, the duplicates, and the time from the restart to the last e-mail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishAnnouncement } from '../../../src/services/publish.js';
import { type Child, startProcess, waitForLog } from '../../helpers/child-process.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { createChannel, createUser } from '../../helpers/factories.js';
import { STARTUP_MS, sized } from '../../helpers/fault-scale.js';
import { type CountingSmtpServer, startCountingSmtpServer } from '../../helpers/smtp-counter.js';
import { waitFor } from '../../helpers/wait.js';

const RECIPIENTS = sized(1000, 10_000);
/** Kill both workers when this many messages have been accepted: well inside the run. */
const KILL_AT = Math.round(RECIPIENTS * 0.3);

let ctx: TestContext;
let smtp: CountingSmtpServer;
let generation: Child[] = [];
const everyChild: Child[] = [];
let killedAt: number | null = null;

function workerSettings(): Record<string, string> {
  return {
    ...ctx.env,
    APP_ENV: 'development',
    LOG_LEVEL: 'info',
    ROLE: 'worker',
    SMTP_URL: smtp.url,
    MAIL_FROM: 'BOTT Meldingskanal <meldingskanal@example.org>',
    // The restarted workers' sweeper finds the dead workers' claims in seconds instead of the default 2 minutes.
    SWEEP_INTERVAL_MS: '500',
    STALE_DELIVERY_MS: '3000',
  };
}

async function startGeneration(label: string): Promise<Child[]> {
  const children = [
    startProcess(`worker-${label}a`, workerSettings()),
    startProcess(`worker-${label}b`, workerSettings()),
  ];
  everyChild.push(...children);
  for (const child of children)
    await waitForLog(child, (l) => l.msg === 'workers started', 'workers started', STARTUP_MS);
  return children;
}

beforeAll(async () => {
  ctx = await createTestContext();
  smtp = await startCountingSmtpServer({
    onMessage(count) {
      // Synchronously, before this message's 250 reply: every worker dies with messages accepted but not settled.
      if (count === KILL_AT && killedAt === null) {
        killedAt = count;
        for (const child of generation) child.process.kill('SIGKILL');
      }
    },
  });
}, 60_000);

afterAll(async () => {
  for (const child of everyChild) {
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
  }
  await smtp?.close();
  await ctx?.close();
});

describe('kill -9 of every worker in the middle of a fan-out', () => {
  it('delivers to everyone after a restart; duplicates only of what was in flight, with the same Message-ID', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db, { visibility: 'public' });
    const publisher = await createUser(db, { isAdmin: true });
    await db.$executeRaw`
      INSERT INTO "Subscription" ("channelId", email, "emailMode", language, "confirmedAt", "updatedAt")
      SELECT ${channel.id}::uuid, 'killed-' || n || '@example.org', 'immediate', 'nb', now(), now()
        FROM generate_series(1, ${RECIPIENTS}::int) AS n`;

    generation = await startGeneration('1');
    const announcement = await publishAnnouncement(
      { db, publicUrl: ctx.config.http.publicUrl },
      { kind: 'user', userId: publisher.id, isAdmin: true, organisationId: null, scopes: ['read', 'publish', 'admin'] },
      channel.slug,
      { title: 'Alle arbeidere drept', body: 'Likevel kommer meldingen fram.' },
    );

    await waitFor(() => generation.every((child) => child.process.signalCode === 'SIGKILL'), {
      what: 'every worker killed mid-run',
      timeoutMs: 300_000,
    });
    const atKill = await db.delivery.groupBy({
      by: ['status'],
      where: { announcementId: announcement.id },
      _count: { _all: true },
    });
    const count = (status: string) => atKill.find((g) => g.status === status)?._count._all ?? 0;
    const inFlight = count('sending');
    const acceptedAtKill = smtp.messages.length;

    const restartedAt = Date.now();
    generation = await startGeneration('2');
    const upAt = Date.now();
    await waitFor(
      async () =>
        (await db.delivery.count({ where: { announcementId: announcement.id, status: 'sent' } })) === RECIPIENTS,
      { what: `all ${RECIPIENTS} deliveries sent after the restart`, timeoutMs: 600_000, intervalMs: 250 },
    );
    const recoveredMs = Date.now() - restartedAt;
    const afterUpMs = Date.now() - upAt;

    const received = smtp.byRecipient();
    expect(received.size).toBe(RECIPIENTS);
    for (const messageIds of received.values()) expect(new Set(messageIds).size).toBe(1);
    const duplicates = smtp.messages.length - RECIPIENTS;
    expect(duplicates).toBeLessThanOrEqual(inFlight);
    expect(await db.delivery.count({ where: { announcementId: announcement.id } })).toBe(RECIPIENTS);

    console.info(
      `[fault] kill -9 of both workers: ${RECIPIENTS} recipients, killed at ${acceptedAtKill} accepted with ` +
        `${inFlight} deliveries in flight (sent ${count('sent')}, pending ${count('pending')}, not yet made ` +
        `${RECIPIENTS - atKill.reduce((sum, g) => sum + g._count._all, 0)}); everyone received it ${recoveredMs} ms ` +
        `after the restart (${afterUpMs} ms after both workers were up); duplicates ${duplicates} (bound ${inFlight}), each with the first copy's Message-ID`,
    );
  }, 900_000);
});

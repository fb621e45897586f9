/**
 * Fault: Redis goes away in the middle of a fan-out (the test's own redis-server on a free port, with an append-only
 * file as in production; the API and the worker are real processes that are never restarted).
 *
 * 1. Redis restarted (SIGTERM, started again on the same port and data): the API and the worker reconnect by
 *    themselves and finish; the live hub subscribes again, so the next announcement reaches the open WebSocket.
 * 2. FLUSHALL: every job, the fan-out's and the schedulers, is gone. PostgreSQL still has the ledger: the schedulers are
 *    re-added within a sweep interval (workers/schedulers.ts), the sweeper re-queues the pending deliveries and adds
 *    the unfinished fan-out job again, and everyone receives the announcement.
 *
 * Nothing is lost; duplicates stay within what was in flight, with the first copy's Message-ID. Prints `[fault] …`
 * with the recovery times.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Child, describeChild, startProcess, waitForLog } from '../../helpers/child-process.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { createChannel, createUser, tokenFor } from '../../helpers/factories.js';
import { STARTUP_MS, sized } from '../../helpers/fault-scale.js';
import { LiveClient } from '../../helpers/live-client.js';
import { type RedisServer, startRedisServer, stopAllRedisServers } from '../../helpers/redis-servers.js';
import { type CountingSmtpServer, startCountingSmtpServer } from '../../helpers/smtp-counter.js';
import { waitFor } from '../../helpers/wait.js';

const RECIPIENTS = sized(1000, 10_000);

let redis: RedisServer;
let ctx: TestContext;
let smtp: CountingSmtpServer;
let onMessage: ((count: number) => void) | undefined;
let api: Child;
let worker: Child;
let apiUrl: string;
let token: string;
let channel: { id: string; slug: string };
const clients: LiveClient[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  ctx = await createTestContext({ REDIS_URL: redis.url });
  smtp = await startCountingSmtpServer({ onMessage: (count) => onMessage?.(count) });
  const common = { ...ctx.env, APP_ENV: 'development', LOG_LEVEL: 'info' };
  api = startProcess('api', { ...common, ROLE: 'api', HOST: '127.0.0.1', PORT: '0', DEV_OIDC_PORT: '0' });
  worker = startProcess('worker', {
    ...common,
    ROLE: 'worker',
    SMTP_URL: smtp.url,
    MAIL_FROM: 'BOTT Meldingskanal <meldingskanal@example.org>',
    SWEEP_INTERVAL_MS: '500',
    STALE_DELIVERY_MS: '3000',
  });
  const listening = await waitForLog(api, (l) => typeof l.apiUrl === 'string', 'API listening', STARTUP_MS);
  apiUrl = (listening.apiUrl as string).replace('localhost', '127.0.0.1');
  await waitForLog(worker, (l) => l.msg === 'workers started', 'workers started', STARTUP_MS);
  const publisher = await createUser(ctx.deps.db, { isAdmin: true });
  token = await tokenFor(ctx.deps.db, publisher.id);
  channel = await createChannel(ctx.deps.db, { visibility: 'public' });
  await ctx.deps.db.$executeRaw`
    INSERT INTO "Subscription" ("channelId", email, "emailMode", language, "confirmedAt", "updatedAt")
    SELECT ${channel.id}::uuid, 'redis-' || n || '@example.org', 'immediate', 'nb', now(), now()
      FROM generate_series(1, ${RECIPIENTS}::int) AS n`;
}, 300_000);

afterAll(async () => {
  for (const client of clients) client.close();
  for (const child of [api, worker]) {
    if (child && child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
  }
  await smtp?.close();
  await ctx?.close();
  await stopAllRedisServers();
});

/** Publishes over the API; while Redis is away the API answers 503, so retry until it takes it. */
async function publish(title: string): Promise<string> {
  const response = await waitFor(
    async () => {
      const attempt = await fetch(`${apiUrl}/api/v1/channels/${channel.slug}/announcements`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title, body: 'Redis forsvant en stund.' }),
      });
      return attempt.status === 201 ? attempt : undefined;
    },
    { what: `the API to accept "${title}"`, timeoutMs: 30_000, intervalMs: 200 },
  );
  return ((await response.json()) as { id: string }).id;
}

async function inFlightNow(announcementId: string): Promise<number> {
  return ctx.deps.db.delivery.count({ where: { announcementId, status: 'sending' } });
}

async function allSent(announcementId: string, what: string): Promise<void> {
  await waitFor(
    async () => (await ctx.deps.db.delivery.count({ where: { announcementId, status: 'sent' } })) === RECIPIENTS,
    { what, timeoutMs: 600_000, intervalMs: 250 },
  );
}

function assertOncePerRecipient(prefixOfTheRun: number, inFlight: number): number {
  const received = new Map<string, string[]>();
  for (const mail of smtp.messages.slice(prefixOfTheRun)) {
    for (const to of mail.to) received.set(to, [...(received.get(to) ?? []), mail.messageId]);
  }
  expect(received.size).toBe(RECIPIENTS);
  for (const ids of received.values()) expect(new Set(ids).size).toBe(1);
  const duplicates = smtp.messages.length - prefixOfTheRun - RECIPIENTS;
  expect(duplicates).toBeLessThanOrEqual(inFlight);
  return duplicates;
}

describe('Redis lost in the middle of a fan-out', () => {
  it('restarted: the API and the worker reconnect without a restart and finish; live events flow again', async () => {
    const live = await LiveClient.connect(`${apiUrl.replace(/^http/, 'ws')}/api/v1/live`);
    clients.push(live);
    live.send({ type: 'subscribe', channels: [channel.slug] });
    await live.frame((f) => f.type === 'subscribed', 'subscribed');

    const before = smtp.messages.length;
    let restarting: Promise<void> | undefined;
    let restartedAt = 0;
    let backAt = 0;
    onMessage = (count) => {
      if (count - before === Math.round(RECIPIENTS * 0.3) && !restarting) {
        restartedAt = Date.now();
        restarting = redis.restart().then(() => {
          backAt = Date.now();
        });
      }
    };
    const id = await publish('Før omstart');
    await live.frame((f) => f.type === 'announcement.published' && f.announcement.id === id, 'the first live frame');
    // (A probe that returned the promise itself would be awaited by waitFor: test the flag.)
    await waitFor(() => restartedAt > 0, { what: 'Redis restarted mid fan-out', timeoutMs: 300_000 });
    const inFlight = await inFlightNow(id);
    await restarting;
    onMessage = undefined;
    const downMs = backAt - restartedAt;
    const acceptedWhenBack = smtp.messages.length;

    await waitFor(() => smtp.messages.length > acceptedWhenBack, { what: 'e-mail flowing again', timeoutMs: 60_000 });
    const firstMailAfterMs = smtp.messages[acceptedWhenBack]!.at - backAt;
    await allSent(id, 'every delivery sent after the Redis restart');
    const finishedMs = Date.now() - backAt;
    expect(api.process.exitCode, describeChild(api)).toBeNull();
    expect(worker.process.exitCode, describeChild(worker)).toBeNull();
    const duplicates = assertOncePerRecipient(before, inFlight);

    // The hub subscribed again and the producer reconnected: the next announcement is live at once.
    const next = await publish('Etter omstart');
    await live.frame((f) => f.type === 'announcement.published' && f.announcement.id === next, 'a live frame after');
    expect((await (await fetch(`${apiUrl}/readyz`)).json()) as object).toMatchObject({ checks: { redis: 'ok' } });
    await allSent(next, 'the announcement published after the restart');

    console.info(
      `[fault] Redis restart mid fan-out (${RECIPIENTS} recipients): Redis away ${downMs} ms; first e-mail ` +
        `${firstMailAfterMs} ms after it was back, all sent ${finishedMs} ms after; duplicates ${duplicates} ` +
        `(bound ${inFlight}); no process restarted; live frames flow again`,
    );
  }, 900_000);

  it('after FLUSHALL the sweeper rebuilds the work from PostgreSQL and nothing is lost', async () => {
    const before = smtp.messages.length;
    let flushed: Promise<unknown> | undefined;
    let flushedAt = 0;
    onMessage = (count) => {
      if (count - before === Math.round(RECIPIENTS * 0.3) && !flushed) {
        flushedAt = Date.now();
        flushed = redis.command('FLUSHALL');
      }
    };
    const id = await publish('Før FLUSHALL');
    await waitFor(() => flushedAt > 0, { what: 'FLUSHALL mid fan-out', timeoutMs: 300_000 });
    await flushed;
    onMessage = undefined;
    const inFlight = await inFlightNow(id);
    const keysAfterFlush = await redis.command<number>('DBSIZE');

    await allSent(id, 'every delivery sent after FLUSHALL');
    const recoveredMs = Date.now() - flushedAt;
    const duplicates = assertOncePerRecipient(before, inFlight);
    expect(worker.process.exitCode, describeChild(worker)).toBeNull();
    // The schedulers are back (workers/schedulers.ts), without a restart.
    expect(await ctx.deps.queues.maintenance.getJobScheduler('sweep')).toBeTruthy();
    expect(await ctx.deps.queues.digest.getJobScheduler('digest-daily')).toBeTruthy();
    expect(worker.logs.some((l) => String(l.msg).startsWith('job schedulers were missing'))).toBe(true);

    console.info(
      `[fault] FLUSHALL mid fan-out (${RECIPIENTS} recipients, ${keysAfterFlush} keys right after): everyone ` +
        `received it ${recoveredMs} ms after the flush; duplicates ${duplicates} (bound ${inFlight}); no restart`,
    );
  }, 900_000);
});

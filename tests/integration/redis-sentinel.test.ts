/**
 * The API and the workers behind Redis Sentinel (REDIS_URL=redis+sentinel://…/<name>): one master, one replica and
 * one sentinel that this test starts. Publishing works through the master the sentinel names; then the sentinel fails
 * over (SENTINEL FAILOVER: the replica becomes master, the old master its replica) and every connection — the job
 * producer, the BullMQ workers, the live hub's subscriber, the rate limiter — follows it without a restart: the next
 * announcement is e-mailed and reaches the WebSocket that stayed open. Prints the time from the failover to the
 * second announcement's e-mail (`[scale-out] …`).
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createSmtpMailer, type Mailer } from '../../src/mail/mailer.js';
import { type RunningWorkers, startWorkers } from '../../workers/main.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createSubscription, silentLogger, uniqueAddress } from '../helpers/delivery.js';
import { createChannel, createUser, tokenFor } from '../helpers/factories.js';
import { LiveClient } from '../helpers/live-client.js';
import { type RedisSentinelSetup, startRedisSentinel, stopAllRedisServers } from '../helpers/redis-servers.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { waitFor } from '../helpers/wait.js';

let setup: RedisSentinelSetup;
let ctx: TestContext;
let smtp: TestSmtpServer;
let mailer: Mailer;
let workers: RunningWorkers;
let app: FastifyInstance;
let baseUrl: string;
let live: LiveClient | undefined;

beforeAll(async () => {
  setup = await startRedisSentinel();
  smtp = await startSmtpServer();
  ctx = await createTestContext({ REDIS_URL: setup.url });
  mailer = createSmtpMailer({ url: smtp.url, poolSize: 2, maxMessages: 1000, ratePerSecond: 0 });
  workers = await startWorkers(ctx.deps, { mailer, logger: silentLogger });
  app = await buildApp(ctx.deps);
  baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  await app.liveHub.start();
}, 60_000);

afterAll(async () => {
  // Closing through Sentinel has hung in full CI runs (over 180 s; seconds when the file runs alone): a connection
  // that did not follow the failover — an open problem, see docs/deployment.md. Each step is timed and named when it
  // is slow; a close still waiting after 20 s is reported and waited for again once the Redis servers are stopped
  // (which ends whatever it waits on), so the teardown finishes and the log says which step it was.
  const pending: Promise<unknown>[] = [];
  const step = async (what: string, close: () => unknown) => {
    const started = Date.now();
    const closing = Promise.resolve().then(close);
    const finished = await Promise.race([closing.then(() => true), new Promise((r) => setTimeout(r, 20_000, false))]);
    const ms = Date.now() - started;
    if (!finished) {
      console.warn(`[sentinel-close] ${what} has not finished after ${ms} ms`);
      pending.push(closing);
    } else if (ms > 2_000) console.warn(`[sentinel-close] ${what} took ${ms} ms`);
  };
  live?.close();
  await step('app.close()', () => app?.close());
  await step('workers.close()', () => workers?.close());
  await step('mailer.close()', () => mailer?.close());
  await step('smtp.close()', () => smtp?.close());
  await step('ctx.close()', () => ctx?.close());
  await step('stopAllRedisServers()', () => stopAllRedisServers());
  await Promise.race([Promise.allSettled(pending), new Promise((r) => setTimeout(r, 30_000))]);
}, 180_000);

describe('API and workers behind Redis Sentinel', () => {
  it('publishes through the master, and again after a failover without restarting anything', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db, { visibility: 'public' });
    const publisher = await createUser(db, { isAdmin: true });
    const token = await tokenFor(db, publisher.id);
    const address = uniqueAddress('sentinel');
    await createSubscription(db, { channelId: channel.id, email: address });

    live = await LiveClient.connect(`${baseUrl.replace(/^http/, 'ws')}/api/v1/live`);
    live.send({ type: 'subscribe', channels: [channel.slug] });
    await live.frame((f) => f.type === 'subscribed', 'subscribed');

    const publish = async (title: string) => {
      const response = await fetch(`${baseUrl}/api/v1/channels/${channel.slug}/announcements`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title, body: 'Sentinel.' }),
      });
      return response;
    };

    const first = await publish('Før failover');
    expect(first.status).toBe(201);
    await waitFor(() => smtp.messagesTo(address).length === 1, { what: 'the first e-mail' });
    await live.frame((f) => f.type === 'announcement.published' && f.announcement.title === 'Før failover', 'frame 1');

    // --- failover: the replica becomes the master ---
    const failoverAt = Date.now();
    await setup.sentinel.command('SENTINEL', 'FAILOVER', setup.name);
    await waitFor(
      async () => {
        const [, port] = await setup.sentinel.command<[string, string]>(
          'SENTINEL',
          'GET-MASTER-ADDR-BY-NAME',
          setup.name,
        );
        return Number(port) === setup.replica.port;
      },
      { what: 'the sentinel to name the replica as master', timeoutMs: 20_000 },
    );
    await waitFor(async () => /role:master/.test(await setup.replica.command<string>('INFO', 'replication')), {
      what: 'the replica to be promoted',
      timeoutMs: 20_000,
    });

    // The API may answer 503 (Redis unavailable) for a moment while its connections move; a client retries.
    const second = await waitFor(
      async () => {
        const response = await publish('Etter failover');
        return response.status === 201 ? response : undefined;
      },
      { what: 'a publish accepted after the failover', timeoutMs: 20_000, intervalMs: 250 },
    );
    expect(second.status).toBe(201);
    await waitFor(() => smtp.messagesTo(address).length === 2, {
      what: 'the e-mail after the failover',
      timeoutMs: 30_000,
    }).catch(async (error: unknown) => {
      // Where the announcement stopped (this failed once in a quiet CI run, not reproduced alone): the outbox, the
      // delivery ledger and the queues as the workers' Redis sees them.
      const events = await db.outboxEvent.findMany({
        where: { channelId: channel.id },
        select: { type: true, relayedAt: true, processedAt: true, attempts: true, position: true },
      });
      const deliveries = await db.delivery.groupBy({ by: ['status'], where: { recipient: address }, _count: true });
      const counts = {
        fanout: await ctx.deps.queues.fanout.getJobCounts().catch((e: Error) => e.message),
        email: await ctx.deps.queues.email.getJobCounts().catch((e: Error) => e.message),
      };
      console.error(
        '[sentinel] after the failover:',
        JSON.stringify({ events, deliveries, counts }, (_, v) => (typeof v === 'bigint' ? String(v) : v)),
      );
      throw error;
    });
    const recoveredMs = Date.now() - failoverAt;
    await live.frame(
      (f) => f.type === 'announcement.published' && f.announcement.title === 'Etter failover',
      'the live frame after the failover',
    );
    expect(live.closed).toBeUndefined();
    // The jobs were written to the new master.
    expect(await setup.replica.command<number>('DBSIZE')).toBeGreaterThan(0);

    console.info(
      `[scale-out] Sentinel failover: e-mail and live frame again ${recoveredMs} ms after SENTINEL FAILOVER`,
    );
  }, 90_000);
});

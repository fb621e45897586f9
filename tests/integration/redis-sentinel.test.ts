/**
 * The API and the workers behind Redis Sentinel (REDIS_URL=redis+sentinel://…/<name>): one master, one replica and
 * one sentinel that this test starts. Publishing works through the master the sentinel names; then the sentinel fails
 * over (SENTINEL FAILOVER: the replica becomes master, the old master its replica) and every connection — the job
 * producer, the BullMQ workers, the live hub's subscriber, the rate limiter — follows it without a restart: the next
 * announcement is e-mailed and reaches the WebSocket that stayed open. Then a second failover, and the workers are
 * closed while their connections are between the old master and the new one (`reconnecting`): the close must finish
 * within 10 s — it used to hang there for good (src/redis.ts, RedisClient). Prints the time from the failover to the
 * second announcement's e-mail and the close time (`[scale-out] …`).
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
  // Redis replicates asynchronously: a job written to the old master in the moment of the switch can be lost with
  // it (seen once: the second announcement relayed, its fan-out job on neither server). What brings it back is the
  // sweeper (workers/processors/sweep.ts, step 8) after STALE_DELIVERY_MS — 120 s by default, 5 s here, so the e-mail
  // must come within the test's 30 s either way; the summary line says whether the sweeper had to (lost or stuck
  // for over 5 s: which one is not established).
  ctx = await createTestContext({ REDIS_URL: setup.url, SWEEP_INTERVAL_MS: '1000', STALE_DELIVERY_MS: '5000' });
  mailer = createSmtpMailer({ url: smtp.url, poolSize: 2, maxMessages: 1000, ratePerSecond: 0 });
  workers = await startWorkers(ctx.deps, { mailer, logger: silentLogger });
  app = await buildApp(ctx.deps);
  baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  await app.liveHub.start();
}, 60_000);

afterAll(async () => {
  live?.close();
  await app?.close();
  await workers?.close(); // memoised: a no-op when the test closed them
  await mailer?.close();
  await smtp?.close();
  await ctx?.close();
  await stopAllRedisServers();
}, 60_000);

/** `promise`, or an error naming `what` once `ms` have passed. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} has not finished after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

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
      // Which server each connection talks to, by name (meldingskanal:<role>, BullMQ's blocking ones <prefix>:bull:…).
      const clients = async (server: typeof setup.master) =>
        String(await server.command<string>('CLIENT', 'LIST').catch((e: Error) => e.message))
          .split('\n')
          .map((line) => /name=(\S*).*cmd=(\S*)/.exec(line)?.slice(1).join(' '))
          .filter(Boolean);
      const servers = {
        oldMaster: { port: setup.master.port, clients: await clients(setup.master) },
        newMaster: { port: setup.replica.port, clients: await clients(setup.replica) },
        sentinelSays: await setup.sentinel.command('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', setup.name),
      };
      console.error(
        '[sentinel] after the failover:',
        JSON.stringify({ events, deliveries, counts, servers }, (_, v) => (typeof v === 'bigint' ? String(v) : v)),
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

    // --- a second failover, and the workers close in the middle of it ---
    // Each client hears +switch-master from the sentinel, closes its socket and reconnects after retryStrategy's
    // first delay (200 ms). Once the workers' connections are gone from the old master they are in that gap,
    // socketless, which is where BullMQ's Worker.close() waited forever for an `end` event (docs/deployment.md).
    const oldMaster = setup.replica;
    await waitFor(async () => /master_link_status:up/.test(await setup.master.command<string>('INFO', 'replication')), {
      what: 'the old master to replicate from the new one',
      timeoutMs: 20_000,
    });
    const workerClients = async () =>
      String(await oldMaster.command<string>('CLIENT', 'LIST'))
        .split('\n')
        .filter((line) => /name=\S*(-worker|:bull:)/.test(line)).length;
    expect(await workerClients()).toBeGreaterThan(0);
    await setup.sentinel.command('SENTINEL', 'FAILOVER', setup.name);
    await waitFor(async () => (await workerClients()) === 0, {
      what: "the workers' connections to leave the old master",
      timeoutMs: 20_000,
      intervalMs: 5,
    });
    const readdedBySweeper = (
      await db.outboxEvent.findMany({ where: { channelId: channel.id }, select: { attempts: true } })
    ).some((event) => event.attempts > 1);

    const closeStarted = Date.now();
    await within(workers.close(), 10_000, 'workers.close() during a failover');
    const closeMs = Date.now() - closeStarted;

    console.info(
      `[scale-out] Sentinel failover: e-mail and live frame again ${recoveredMs} ms after SENTINEL FAILOVER; ` +
        `workers closed in ${closeMs} ms during a second failover` +
        (readdedBySweeper ? ' (the fan-out had not finished 5 s after its relay: the sweeper re-added its job)' : ''),
    );
  }, 90_000);
});

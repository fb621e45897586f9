/**
 * The API and the workers on a Redis Cluster (REDIS_URL=redis+cluster://…): three masters this test starts from
 * `redis-server --cluster-enabled yes` and joins with `redis-cli --cluster create`. An announcement published over
 * HTTP goes through the outbox relay, BullMQ (fan-out and e-mail queues) and SMTP, and reaches a WebSocket through the
 * live hub's pub/sub (PUBLISH on one node reaches a subscriber connected to another); a live ticket is stored and
 * redeemed, requests pass the rate limiter. Every BullMQ key carries the hash tag `{<prefix>}`, so each queue's
 * multi-key scripts stay in one slot, as BullMQ requires; the other keys spread over the masters.
 */
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createSmtpMailer, type Mailer } from '../../src/mail/mailer.js';
import { SWEEP_SCHEDULER_ID } from '../../src/queue/jobs.js';
import { type RunningWorkers, startWorkers } from '../../workers/main.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createSubscription, silentLogger, uniqueAddress } from '../helpers/delivery.js';
import { createChannel, createUser, tokenFor } from '../helpers/factories.js';
import { LiveClient } from '../helpers/live-client.js';
import { type RedisCluster, startRedisCluster, stopAllRedisServers } from '../helpers/redis-servers.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { waitFor } from '../helpers/wait.js';

let cluster: RedisCluster;
let ctx: TestContext;
let smtp: TestSmtpServer;
let mailer: Mailer;
let workers: RunningWorkers;
let app: FastifyInstance;
let baseUrl: string;
const clients: LiveClient[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  smtp = await startSmtpServer();
  ctx = await createTestContext({ REDIS_URL: cluster.url, SMTP_URL: smtp.url, MAIL_FROM: 'mk@example.org' });
  mailer = createSmtpMailer({ url: smtp.url, poolSize: 2, maxMessages: 1000, ratePerSecond: 0 });
  workers = await startWorkers(ctx.deps, { mailer, logger: silentLogger });
  app = await buildApp(ctx.deps);
  baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  await app.liveHub.start();
}, 60_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await app?.close();
  await workers?.close();
  await mailer?.close();
  await smtp?.close();
  await ctx?.close();
  await stopAllRedisServers();
});

/** Every key on every master of the cluster that starts with the test's prefix. */
async function clusterKeys(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for (const node of cluster.nodes) {
    const client = new Redis(node.port, '127.0.0.1');
    try {
      let cursor = '0';
      do {
        const [next, found] = await client.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...found);
      } while (cursor !== '0');
    } finally {
      client.disconnect();
    }
  }
  return keys;
}

describe('API and workers on a Redis Cluster', () => {
  it('publishes over HTTP: e-mail through BullMQ, the live event through pub/sub, tickets and limits in the cluster', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db, { visibility: 'public', title: 'BOTT Klynge' });
    const publisher = await createUser(db, { isAdmin: true });
    const token = await tokenFor(db, publisher.id);
    const addresses = [uniqueAddress('a'), uniqueAddress('b')];
    for (const email of addresses) await createSubscription(db, { channelId: channel.id, email });

    // A ticket lives in the cluster (SET … EX, then GETDEL on whichever master owns its slot).
    const ticketResponse = await fetch(`${baseUrl}/api/v1/live/tickets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(ticketResponse.status).toBe(201);
    const { ticket } = (await ticketResponse.json()) as { ticket: string };
    expect(ticketResponse.headers.get('x-ratelimit-limit')).not.toBeNull();

    const live = await LiveClient.connect(`${baseUrl.replace(/^http/, 'ws')}/api/v1/live?ticket=${ticket}`);
    clients.push(live);
    live.send({ type: 'subscribe', channels: [channel.slug] });
    await live.frame((f) => f.type === 'subscribed', 'subscribed');

    const response = await fetch(`${baseUrl}/api/v1/channels/${channel.slug}/announcements`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Klyngetest', body: 'Meldingen går gjennom en Redis Cluster.' }),
    });
    expect(response.status).toBe(201);
    const announcement = (await response.json()) as { id: string };

    const frame = await live.frame((f) => f.type === 'announcement.published', 'the live event');
    expect(frame.announcement.id).toBe(announcement.id);
    await waitFor(() => addresses.every((a) => smtp.messagesTo(a).length === 1), {
      what: 'an e-mail to each subscriber',
      timeoutMs: 20_000,
    });
    await waitFor(
      async () =>
        (await db.delivery.count({ where: { announcementId: announcement.id, status: 'sent' } })) === addresses.length,
      { what: 'the deliveries settled as sent' },
    );

    // BullMQ's keys: all under the hash tag, hence all in ONE slot; other keys are not tagged.
    const prefix = ctx.config.redis.prefix;
    const keys = await clusterKeys(prefix);
    const bullKeys = keys.filter((key) => key.startsWith(`{${prefix}}:bull:`));
    expect(bullKeys.some((key) => key.startsWith(`{${prefix}}:bull:email:`))).toBe(true);
    expect(bullKeys.some((key) => key.startsWith(`{${prefix}}:bull:fanout:`))).toBe(true);
    expect(keys.filter((key) => key.includes(':bull:') && !key.startsWith(`{${prefix}}`))).toEqual([]);
    const slots = new Set<number>();
    for (const key of bullKeys.slice(0, 50))
      slots.add(await cluster.nodes[0]!.command<number>('CLUSTER', 'KEYSLOT', key));
    expect(slots.size).toBe(1);
    expect(keys.some((key) => key.startsWith(`${prefix}:ratelimit:`))).toBe(true);

    // The sweeper's scheduler is stored once, under the tagged prefix.
    const scheduler = await ctx.deps.queues.maintenance.getJobScheduler(SWEEP_SCHEDULER_ID);
    expect(scheduler?.key).toBe(SWEEP_SCHEDULER_ID);

    const ready = await fetch(`${baseUrl}/readyz`);
    expect(await ready.json()).toMatchObject({ checks: { redis: 'ok' } });
  }, 60_000);
});

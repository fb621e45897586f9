/**
 * The operational endpoints: liveness, readiness (with each dependency failing), the landing page; and the Prometheus
 * metrics, which the API port does not serve: each process's own listener does (src/metrics-server.ts).
 */
import { type AddressInfo, createServer, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrisma } from '../../src/db/prisma.js';
import { buildApp } from '../../src/http/app.js';
import { READINESS_CHECK_TIMEOUT_MS } from '../../src/http/plugins/health.js';
import { type MetricsServer, startMetricsServer } from '../../src/metrics-server.js';
import { createRedis } from '../../src/redis.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { silentLogger } from '../helpers/delivery.js';
import { databaseUrl } from '../helpers/urls.js';

let ctx: TestContext;
let app: FastifyInstance;

beforeAll(async () => {
  ctx = await createTestContext();
  app = await buildApp(ctx.deps, { logger: false });
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

describe('GET /healthz', () => {
  it('answers 200 without touching dependencies', async () => {
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });
});

describe('GET /readyz', () => {
  it('answers 200 when PostgreSQL and Redis answer', async () => {
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', checks: { postgres: 'ok', redis: 'ok' } });
  });

  it('answers 503 naming Redis when Redis is unreachable', async () => {
    // Port 1 refuses connections; the producer connection has no offline queue, so PING fails at once.
    const deadRedis = createRedis('redis://127.0.0.1:1', 'producer', 'test-dead');
    deadRedis.on('error', () => {});
    const broken = await buildApp({ ...ctx.deps, redis: deadRedis }, { logger: false });
    try {
      const res = await broken.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: 'unavailable', checks: { postgres: 'ok', redis: 'error' } });
    } finally {
      await broken.close();
      deadRedis.disconnect();
    }
  });

  it('never hangs: a Redis that accepts connections but never answers is reported as a timeout', async () => {
    // A TCP server that accepts and stays silent: the connection opens, no reply ever comes.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const mute = createRedis(`redis://127.0.0.1:${port}`, 'producer', 'test-mute');
    mute.on('error', () => {});
    const broken = await buildApp({ ...ctx.deps, redis: mute }, { logger: false });
    try {
      const started = Date.now();
      const res = await broken.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      // Redis is the silent one. (PostgreSQL's own check is the other tests' business: on a machine loaded by a
      // parallel suite its 1 s bound can pass too, which says nothing about the silent Redis.)
      expect(res.json()).toMatchObject({ status: 'unavailable', checks: { redis: 'timeout' } });
      // Bounded by the check's timeout, not hung; the slack absorbs event-loop delay under a loaded CI machine.
      expect(Date.now() - started).toBeLessThan(READINESS_CHECK_TIMEOUT_MS + 4000);
    } finally {
      await broken.close();
      mute.disconnect();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('answers 503 naming PostgreSQL when the database is unreachable', async () => {
    const missingDb = createPrisma({ url: databaseUrl('mk_does_not_exist'), poolSize: 1 });
    const broken = await buildApp({ ...ctx.deps, db: missingDb }, { logger: false });
    try {
      const res = await broken.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: 'unavailable', checks: { postgres: 'error', redis: 'ok' } });
    } finally {
      await broken.close();
      await missingDb.$disconnect();
    }
  });
});

describe('metrics', () => {
  const TOKEN = 'metrics-token-0123456789abcdef0123456789';
  const servers: MetricsServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });
  /** A metrics listener for `metrics` on a free loopback port, as src/main.ts starts one. */
  async function listener(metrics: FastifyInstance['metrics'], token: string | null = TOKEN) {
    const server = await startMetricsServer({
      host: '127.0.0.1',
      port: 0,
      token: token ?? undefined,
      metrics,
      logger: silentLogger,
    });
    servers.push(server);
    return server;
  }
  const scrape = (server: MetricsServer, token: string | null = TOKEN, path = '/metrics') =>
    fetch(`${server.url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

  it('are not served on the API port', async () => {
    for (const token of [undefined, TOKEN]) {
      const res = await app.inject({
        method: 'GET',
        url: '/metrics',
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      // A bearer token that is not an API token is refused as such; without one, there is no such route.
      expect(res.statusCode).toBe(token ? 401 : 404);
      expect(res.body).not.toContain('process_cpu_user_seconds_total');
    }
  });

  it('refuse a scrape without the bearer token, or with another one (401, the API error shape)', async () => {
    const server = await listener(app.metrics);
    for (const token of [null, 'not-the-metrics-token', `${TOKEN}x`]) {
      const res = await scrape(server, token);
      expect(res.status, String(token)).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      const body = (await res.json()) as { error: { code: string }; requestId: string };
      expect(body.error.code).toBe('unauthenticated');
      expect(body.requestId).toEqual(expect.any(String));
    }
    expect((await scrape(server, TOKEN, '/')).status).toBe(404);
    expect((await scrape(server, TOKEN, '/healthz')).status).toBe(404);
    const res = await scrape(server);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('process_cpu_user_seconds_total');
  });

  it('need no token when METRICS_TOKEN is unset (the listener is on loopback by default)', async () => {
    const server = await listener(app.metrics, null);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await scrape(server, null)).status).toBe(200);
  });

  it('expose HTTP durations by route pattern, queue depths, deliveries by status and process metrics', async () => {
    const db = ctx.deps.db;
    const channel = await db.channel.create({ data: { slug: 'metrics-test', title: 'Metrics' } });
    const announcement = await db.announcement.create({
      data: { channelId: channel.id, title: 'T', body: 'B', publishedAt: new Date() },
    });
    await db.delivery.createMany({
      data: [
        { announcementId: announcement.id, recipient: 'email:a@example.org', medium: 'email', status: 'sent' },
        { announcementId: announcement.id, recipient: 'email:b@example.org', medium: 'email', status: 'sent' },
        { announcementId: announcement.id, recipient: 'email:c@example.org', medium: 'email', status: 'pending' },
      ],
    });
    await ctx.deps.queues.fanout.add('fanout', { announcementId: announcement.id }, { delay: 60_000 });
    await app.inject({ method: 'GET', url: '/healthz' });
    await app.inject({ method: 'GET', url: '/no/such/route/123' });

    const res = await scrape(await listener(app.metrics));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(
      /meldingskanal_http_request_duration_seconds_count\{method="GET",route="\/healthz",status_code="200"\} [1-9]/,
    );
    // Unknown URLs share one label value instead of creating a series each.
    expect(text).toContain('route="unmatched",status_code="404"');
    expect(text).not.toContain('/no/such/route/123');
    expect(text).toContain('meldingskanal_queue_jobs{queue="fanout",state="delayed"} 1');
    expect(text).toContain('meldingskanal_queue_jobs{queue="email",state="waiting"} 0');
    expect(text).toContain('meldingskanal_queue_jobs{queue="webhook",state="waiting"} 0');
    expect(text).toContain('meldingskanal_queue_jobs{queue="push",state="waiting"} 0');
    expect(text).toContain('meldingskanal_deliveries{medium="email",status="sent"} 2');
    expect(text).toContain('meldingskanal_deliveries{medium="email",status="pending"} 1');
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).not.toMatch(/meldingskanal_metrics_collect_errors_total\{/);
  });

  it('keep a registry per app, so two apps in one process do not collide', async () => {
    const second = await buildApp(ctx.deps, { logger: false });
    try {
      await second.inject({ method: 'GET', url: '/healthz' });
      expect((await scrape(await listener(second.metrics))).status).toBe(200);
      expect(second.metrics.registry).not.toBe(app.metrics.registry);
    } finally {
      await second.close();
    }
  });

  it('still answer when Redis is down, without the queue series and counting the failed collector', async () => {
    const deadRedis = createRedis('redis://127.0.0.1:1', 'producer', 'test-dead');
    deadRedis.on('error', () => {});
    const { createQueues } = await import('../../src/queue/jobs.js');
    const deadQueues = createQueues(deadRedis, 'mkt-dead');
    for (const queue of [
      deadQueues.fanout,
      deadQueues.email,
      deadQueues.push,
      deadQueues.webhook,
      deadQueues.maintenance,
      deadQueues.scheduled,
      deadQueues.confirmation,
      deadQueues.digest,
    ]) {
      queue.on('error', () => {});
    }
    const broken = await buildApp({ ...ctx.deps, redis: deadRedis, queues: deadQueues }, { logger: false });
    try {
      const res = await scrape(await listener(broken.metrics));
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).not.toMatch(/meldingskanal_queue_jobs\{/);
      expect(text).toContain('meldingskanal_metrics_collect_errors_total{source="queues"} 1');
      expect(text).toContain('meldingskanal_deliveries{medium="email",status="sent"} 2');
    } finally {
      await broken.close();
      await deadQueues.close().catch(() => {});
      deadRedis.disconnect();
    }
  });
});

describe('GET /', () => {
  it('serves the front page in bokmål, linking to the docs, the feeds, the channels and the mail catcher', async () => {
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toMatch(/^<!doctype html><html lang="nb"/);
    expect(res.body).toContain('href="/api/docs"');
    expect(res.body).toContain('href="/feeds/public.atom?lang=nb"');
    // The test configuration is development without SMTP_URL: the mail catcher link is shown.
    expect(res.body).toContain(`href="http://localhost:${ctx.config.mail.maildev.webPort}"`);
  });
});

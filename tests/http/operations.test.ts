/** The operational endpoints: liveness, readiness (with each dependency failing), Prometheus metrics, landing page. */
import { type AddressInfo, createServer, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrisma } from '../../src/db/prisma.js';
import { buildApp } from '../../src/http/app.js';
import { READINESS_CHECK_TIMEOUT_MS } from '../../src/http/plugins/health.js';
import { createRedis } from '../../src/redis.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
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
      expect(res.json()).toEqual({ status: 'unavailable', checks: { postgres: 'ok', redis: 'timeout' } });
      expect(Date.now() - started).toBeLessThan(READINESS_CHECK_TIMEOUT_MS + 1000);
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

describe('GET /metrics', () => {
  it('exposes HTTP durations by route pattern, queue depths, deliveries by status and process metrics', async () => {
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

    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.body;
    expect(text).toMatch(
      /meldingskanal_http_request_duration_seconds_count\{method="GET",route="\/healthz",status_code="200"\} [1-9]/,
    );
    // Unknown URLs share one label value instead of creating a series each.
    expect(text).toContain('route="unmatched",status_code="404"');
    expect(text).not.toContain('/no/such/route/123');
    expect(text).toContain('meldingskanal_queue_jobs{queue="fanout",state="delayed"} 1');
    expect(text).toContain('meldingskanal_queue_jobs{queue="email",state="waiting"} 0');
    expect(text).toContain('meldingskanal_deliveries{medium="email",status="sent"} 2');
    expect(text).toContain('meldingskanal_deliveries{medium="email",status="pending"} 1');
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).not.toMatch(/meldingskanal_metrics_collect_errors_total\{/);
  });

  it('keeps a registry per app, so two apps in one process do not collide', async () => {
    const second = await buildApp(ctx.deps, { logger: false });
    try {
      await second.inject({ method: 'GET', url: '/healthz' });
      const res = await second.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(200);
      expect(second.metrics.registry).not.toBe(app.metrics.registry);
    } finally {
      await second.close();
    }
  });

  it('still answers when Redis is down, without the queue series and counting the failed collector', async () => {
    const deadRedis = createRedis('redis://127.0.0.1:1', 'producer', 'test-dead');
    deadRedis.on('error', () => {});
    const { createQueues } = await import('../../src/queue/jobs.js');
    const deadQueues = createQueues(deadRedis, 'mkt-dead');
    for (const queue of [deadQueues.fanout, deadQueues.email, deadQueues.maintenance, deadQueues.scheduled]) {
      queue.on('error', () => {});
    }
    const broken = await buildApp({ ...ctx.deps, redis: deadRedis, queues: deadQueues }, { logger: false });
    try {
      const res = await broken.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(200);
      expect(res.body).not.toMatch(/meldingskanal_queue_jobs\{/);
      expect(res.body).toContain('meldingskanal_metrics_collect_errors_total{source="queues"} 1');
      expect(res.body).toContain('meldingskanal_deliveries{medium="email",status="sent"} 2');
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

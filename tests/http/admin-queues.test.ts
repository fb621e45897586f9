/**
 * The administrators' queue view over HTTP on real PostgreSQL and Redis: per-queue BullMQ counts and the paused flag,
 * the ledger's counts with the oldest due pending row's wait, a queue's failed jobs without their data; only for
 * administrators acting as such.
 */
import { Worker } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { QUEUE } from '../../src/queue/jobs.js';
import { createRedis } from '../../src/redis.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createAnnouncement } from '../helpers/delivery.js';
import { createChannel, createUser, tokenFor } from '../helpers/factories.js';
import { waitFor } from '../helpers/wait.js';

let ctx: TestContext;
let app: FastifyInstance;
let adminToken: string;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  ctx = await createTestContext();
  app = await buildApp(ctx.deps, { logger: false });
  const admin = await createUser(ctx.deps.db, { isAdmin: true });
  adminToken = await tokenFor(ctx.deps.db, admin.id);
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

describe('GET /admin/queues', () => {
  it('shows every queue with its counts and paused flag, and the ledger by status', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    const { id } = await createAnnouncement(db, { channelId: channel.id });
    const hourAgo = new Date(Date.now() - 3600_000);
    await db.delivery.createMany({
      data: [
        {
          announcementId: id,
          recipient: 'email:a@example.org',
          medium: 'email',
          status: 'pending',
          nextAttemptAt: hourAgo,
        },
        // Waiting for its back-off: not late.
        {
          announcementId: id,
          recipient: 'email:b@example.org',
          medium: 'email',
          status: 'pending',
          nextAttemptAt: new Date(Date.now() + 3600_000),
        },
        { announcementId: id, recipient: 'email:c@example.org', medium: 'email', status: 'sent' },
        {
          announcementId: id,
          recipient: 'user:00000000-0000-4000-8000-000000000001',
          medium: 'push',
          status: 'failed',
        },
      ],
    });
    await db.digest.create({
      data: {
        recipient: 'email:d@example.org',
        mode: 'daily',
        periodStart: new Date(Date.now() - 86_400_000),
        periodEnd: new Date(),
        status: 'sent',
      },
    });
    await ctx.deps.queues.scheduled.add(
      'publish',
      { announcementId: id },
      { jobId: 'scheduled-test-1', delay: 3600_000 },
    );
    await ctx.deps.queues.maintenance.pause();

    const res = await app.inject({ method: 'GET', url: '/api/v1/admin/queues', headers: bearer(adminToken) });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    const names = body.queues.map((q: { name: string }) => q.name);
    for (const name of [QUEUE.fanout, QUEUE.email, QUEUE.push, QUEUE.webhook, QUEUE.maintenance, QUEUE.scheduled]) {
      expect(names).toContain(name);
    }
    const byName = new Map(body.queues.map((q: { name: string }) => [q.name, q]));
    expect(byName.get('scheduled')).toMatchObject({ paused: false, counts: { delayed: 1, failed: 0, waiting: 0 } });
    expect(byName.get('maintenance')).toMatchObject({ paused: true });

    const { deliveries, digests } = body.ledger;
    expect(deliveries).toMatchObject({ pending: 2, sending: 0, sent: 1, failed: 1, skipped: 0 });
    expect(deliveries.oldestDuePendingSeconds).toBeGreaterThanOrEqual(3590);
    expect(deliveries.oldestDuePendingSeconds).toBeLessThan(4000);
    expect(deliveries.byMedium).toEqual([
      expect.objectContaining({ medium: 'email', pending: 2, sent: 1, failed: 0 }),
      { medium: 'push', pending: 0, sending: 0, sent: 0, failed: 1, skipped: 0, oldestDuePendingSeconds: null },
    ]);
    expect(digests).toEqual({ pending: 0, sending: 0, sent: 1, failed: 0, skipped: 0, oldestDuePendingSeconds: null });
    await ctx.deps.queues.maintenance.resume();
  });

  it('is for administrators acting as such: 403 for others and for an admin token without scope admin, 401 anonymous', async () => {
    const db = ctx.deps.db;
    const user = await createUser(db);
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/admin/queues', headers: bearer(await tokenFor(db, user.id)) }))
        .statusCode,
    ).toBe(403);
    const admin = await createUser(db, { isAdmin: true });
    const narrow = await tokenFor(db, admin.id, { scopes: ['read', 'publish'] });
    expect((await app.inject({ method: 'GET', url: '/api/v1/admin/queues', headers: bearer(narrow) })).statusCode).toBe(
      403,
    );
    expect((await app.inject({ method: 'GET', url: '/api/v1/admin/queues' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/api/v1/admin/queues/email/failed' })).statusCode).toBe(401);
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/admin/queues/email/failed', headers: bearer(narrow) }))
        .statusCode,
    ).toBe(403);
  });
});

describe('GET /admin/queues/{name}/failed', () => {
  it("lists a queue's failed jobs, newest first, with the reason and never the data", async () => {
    const queue = ctx.deps.queues.confirmation;
    const connection = createRedis(ctx.config.redis.url, 'worker', 'test-failing-worker');
    const worker = new Worker(
      queue.name,
      async () => {
        throw new Error('relay unreachable');
      },
      { connection, prefix: `${ctx.config.redis.prefix}:bull` },
    );
    try {
      await queue.add(
        'confirmation',
        { subscriptionId: '41', requestedAt: 1 },
        { jobId: 'confirmation-41-1', attempts: 1 },
      );
      await queue.add(
        'confirmation',
        { subscriptionId: '42', requestedAt: 2 },
        { jobId: 'confirmation-42-2', attempts: 1 },
      );
      await waitFor(async () => (await queue.getFailedCount()) === 2, { what: 'two failed jobs' });
    } finally {
      await worker.close();
      connection.disconnect();
    }

    const res = await app.inject({
      method: 'GET',
      url: '/api/v1/admin/queues/confirmation/failed?limit=1',
      headers: bearer(adminToken),
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.queue).toBe('confirmation');
    expect(body.jobs).toHaveLength(1);
    expect(body.jobs[0]).toMatchObject({ name: 'confirmation', failedReason: 'relay unreachable', attemptsMade: 1 });
    expect(['confirmation-41-1', 'confirmation-42-2']).toContain(body.jobs[0].id);
    expect(Object.keys(body.jobs[0]).sort()).toEqual(
      ['attemptsMade', 'failedReason', 'finishedOn', 'id', 'name', 'timestamp'].sort(),
    );
    expect(res.body).not.toContain('subscriptionId');

    const all = await app.inject({
      method: 'GET',
      url: '/api/v1/admin/queues/confirmation/failed',
      headers: bearer(adminToken),
    });
    expect(all.json().jobs).toHaveLength(2);
    const overview = await app.inject({ method: 'GET', url: '/api/v1/admin/queues', headers: bearer(adminToken) });
    expect(overview.json().queues.find((q: { name: string }) => q.name === 'confirmation').counts.failed).toBe(2);
  });

  it('answers 404 for a queue that does not exist and 400 for a bad limit', async () => {
    const unknown = await app.inject({
      method: 'GET',
      url: '/api/v1/admin/queues/nope/failed',
      headers: bearer(adminToken),
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('not_found');
    for (const limit of ['0', '101', 'x']) {
      const bad = await app.inject({
        method: 'GET',
        url: `/api/v1/admin/queues/email/failed?limit=${limit}`,
        headers: bearer(adminToken),
      });
      expect(bad.statusCode).toBe(400);
    }
  });
});

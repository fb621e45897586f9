/**
 * Scheduled publishing on real PostgreSQL and Redis: the relay turns an `announcement.scheduled` event into a
 * delayed job, the worker publishes at the time (with the outbox event that fans it out and shows it live), stale or
 * repeated timers do nothing, and the sweeper publishes what a lost timer would have — once, also when racing. The
 * sweeper also forgets expired idempotency keys.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/domain/types.js';
import { jobId } from '../../src/queue/jobs.js';
import { ANNOUNCEMENT_PUBLISHED, ANNOUNCEMENT_SCHEDULED, publishAnnouncement } from '../../src/services/publish.js';
import { publishScheduledAnnouncement, unscheduleAnnouncement } from '../../src/services/schedule.js';
import { createOutboxRelay } from '../../workers/outbox-relay.js';
import { processScheduledPublish, ScheduledTooEarlyError } from '../../workers/processors/scheduled-publish.js';
import { processSweep, type SweepProcessorDeps } from '../../workers/processors/sweep.js';
import { createScheduledWorker } from '../../workers/scheduled.worker.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { silentLogger } from '../helpers/delivery.js';
import { createChannel, createUser } from '../helpers/factories.js';
import { waitFor } from '../helpers/wait.js';

let ctx: TestContext;
let admin: Actor;
let adminId: string;
let channelSlug: string;
let sweepDeps: SweepProcessorDeps;

beforeAll(async () => {
  ctx = await createTestContext();
  const user = await createUser(ctx.deps.db, { isAdmin: true });
  adminId = user.id;
  admin = { kind: 'user', userId: user.id, isAdmin: true, organisationId: null, scopes: ['read', 'publish', 'admin'] };
  channelSlug = (await createChannel(ctx.deps.db)).slug;
  sweepDeps = {
    db: ctx.deps.db,
    emailQueue: ctx.deps.queues.email,
    staleDeliveryMs: 60_000,
    maxAttempts: 3,
    emailBatchSize: 50,
    logger: silentLogger,
  };
});

afterAll(async () => {
  await ctx.close();
});

const deps = () => ({ db: ctx.deps.db, publicUrl: ctx.config.http.publicUrl });

function schedule(title: string, publishAt: Date) {
  return publishAnnouncement(deps(), admin, channelSlug, { title, body: 'Tekst', publishAt: publishAt.toISOString() });
}

/** Time passes: the announcement's publishAt now lies `agoMs` in the past (by PostgreSQL's clock). */
async function makeDue(id: string, agoMs: number) {
  await ctx.deps.db.$executeRaw`
    UPDATE "Announcement" SET "publishAt" = now() - make_interval(secs => ${agoMs / 1000}::float8)
     WHERE id = ${id}::uuid`;
}

async function eventTypes(id: string) {
  const events = await ctx.deps.db.outboxEvent.findMany({ where: { aggregateId: id }, orderBy: { id: 'asc' } });
  return events.map((event) => event.type);
}

async function status(id: string) {
  return (await ctx.deps.db.announcement.findUniqueOrThrow({ where: { id } })).status;
}

function relay() {
  return createOutboxRelay({
    db: ctx.deps.db,
    fanoutQueue: ctx.deps.queues.fanout,
    scheduledQueue: ctx.deps.queues.scheduled,
    publisher: ctx.deps.redis,
    redisPrefix: ctx.config.redis.prefix,
    databaseUrl: ctx.config.database.url,
    publicUrl: ctx.config.http.publicUrl,
    pollMs: 600_000,
    logger: silentLogger,
  });
}

describe('scheduled publishing', () => {
  it('publishes at publishAt: relay → delayed job → worker → announcement.published → fan-out job', async () => {
    // Far enough ahead that the relay below still finds it in the future on a loaded machine (1.5 s was not, in CI).
    const publishAt = new Date(Date.now() + 4000);
    const scheduled = await schedule('Om litt', publishAt);
    expect(scheduled.status).toBe('scheduled');

    const outbox = relay();
    await outbox.relayOnce();
    const job = await ctx.deps.queues.scheduled.getJob(jobId.scheduledPublish(scheduled.id, publishAt.getTime()));
    expect(job?.data).toEqual({ announcementId: scheduled.id });
    expect(await job?.isDelayed()).toBe(true);
    expect(job?.opts.delay).toBeGreaterThan(0);
    expect(job?.opts.delay).toBeLessThanOrEqual(4000);

    const worker = createScheduledWorker(ctx.deps, silentLogger);
    try {
      await waitFor(async () => (await status(scheduled.id)) === 'published', {
        what: 'the scheduled announcement to be published',
      });
    } finally {
      await worker.close();
    }
    const row = await ctx.deps.db.announcement.findUniqueOrThrow({ where: { id: scheduled.id } });
    // Not before its time, by the database's clock.
    expect(row.publishedAt!.getTime()).toBeGreaterThanOrEqual(publishAt.getTime());
    expect(await eventTypes(scheduled.id)).toEqual([ANNOUNCEMENT_SCHEDULED, ANNOUNCEMENT_PUBLISHED]);
    const audit = await ctx.deps.db.auditLog.findFirst({
      where: { targetId: scheduled.id, action: 'announcement.publish' },
    });
    expect(audit).toMatchObject({ actorKind: 'system', outcome: 'success' });

    // The normal path from here: the relay adds the fan-out job.
    await outbox.relayOnce();
    expect(await ctx.deps.queues.fanout.getJob(jobId.fanout(scheduled.id))).toBeTruthy();
  });

  it('publishes once however often the timer fires, and a stale or taken-back timer does nothing', async () => {
    const once = await schedule('Én gang', new Date(Date.now() + 60 * 60_000));
    await makeDue(once.id, 1000);
    expect(await processScheduledPublish({ announcementId: once.id }, { db: ctx.deps.db, logger: silentLogger })).toBe(
      'published',
    );
    expect(await processScheduledPublish({ announcementId: once.id }, { db: ctx.deps.db, logger: silentLogger })).toBe(
      'nothing_to_do',
    );
    expect(await eventTypes(once.id)).toEqual([ANNOUNCEMENT_SCHEDULED, ANNOUNCEMENT_PUBLISHED]);

    // Re-scheduled to much later: the old timer finds it not due and leaves it to the new timer.
    const later = await schedule('Flyttet', new Date(Date.now() + 2 * 60 * 60_000));
    expect(await processScheduledPublish({ announcementId: later.id }, { db: ctx.deps.db, logger: silentLogger })).toBe(
      'not_due',
    );
    expect(await status(later.id)).toBe('scheduled');

    // Taken back to draft: nothing happens even when its old time has come.
    const back = await schedule('Tilbake til utkast', new Date(Date.now() + 60 * 60_000));
    await unscheduleAnnouncement(deps(), admin, back.id);
    expect(await processScheduledPublish({ announcementId: back.id }, { db: ctx.deps.db, logger: silentLogger })).toBe(
      'nothing_to_do',
    );
    expect(await status(back.id)).toBe('draft');
    expect(await eventTypes(back.id)).toEqual([ANNOUNCEMENT_SCHEDULED]);
  });

  it('retries a timer that fired a moment early (clock skew) instead of dropping it', async () => {
    const soon = await schedule('Straks', new Date(Date.now() + 30_000));
    await expect(
      processScheduledPublish({ announcementId: soon.id }, { db: ctx.deps.db, logger: silentLogger }),
    ).rejects.toBeInstanceOf(ScheduledTooEarlyError);
    expect(await status(soon.id)).toBe('scheduled');
    // Out of the way of the sweeper's count below, however slowly the tests run.
    await unscheduleAnnouncement(deps(), admin, soon.id);
  });

  it('lets concurrent timers publish exactly once', async () => {
    const raced = await schedule('Kappløp', new Date(Date.now() + 60 * 60_000));
    await makeDue(raced.id, 1000);
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, () => publishScheduledAnnouncement(ctx.deps.db, raced.id)),
    );
    expect(outcomes.filter((o) => o.outcome === 'published')).toHaveLength(1);
    expect(await eventTypes(raced.id)).toEqual([ANNOUNCEMENT_SCHEDULED, ANNOUNCEMENT_PUBLISHED]);
  });
});

describe('the sweeper as the fallback timer', () => {
  it('publishes scheduled announcements whose timer was lost, once, also with two sweepers racing', async () => {
    // The relay never ran for these (or Redis lost the jobs): there is no timer at all.
    const lost = await schedule('Tapt tidtaker', new Date(Date.now() + 60 * 60_000));
    const lost2 = await schedule('Tapt tidtaker 2', new Date(Date.now() + 60 * 60_000));
    const onTime = await schedule('I tide', new Date(Date.now() + 60 * 60_000));
    await makeDue(lost.id, 5 * 60_000);
    await makeDue(lost2.id, 60_000);
    // Only just due: its own timer is about to fire; the sweeper leaves it alone.
    await makeDue(onTime.id, 1000);

    const [a, b] = await Promise.all([processSweep(sweepDeps), processSweep(sweepDeps)]);
    expect(a.publishedScheduled + b.publishedScheduled).toBe(2);
    expect(await status(lost.id)).toBe('published');
    expect(await status(lost2.id)).toBe('published');
    expect(await status(onTime.id)).toBe('scheduled');
    expect(await eventTypes(lost.id)).toEqual([ANNOUNCEMENT_SCHEDULED, ANNOUNCEMENT_PUBLISHED]);
    expect(await eventTypes(lost2.id)).toEqual([ANNOUNCEMENT_SCHEDULED, ANNOUNCEMENT_PUBLISHED]);

    // A later sweep finds nothing more to do for them.
    expect((await processSweep(sweepDeps)).publishedScheduled).toBe(0);
    expect(await eventTypes(lost.id)).toEqual([ANNOUNCEMENT_SCHEDULED, ANNOUNCEMENT_PUBLISHED]);
  });

  it('deletes idempotency keys older than 24 hours and keeps the others', async () => {
    const db = ctx.deps.db;
    const row = (key: string, ageMs: number) => ({
      userId: adminId,
      key,
      fingerprint: 'f',
      responseStatus: 201,
      responseBody: {},
      createdAt: new Date(Date.now() - ageMs),
    });
    await db.idempotencyKey.createMany({
      data: [row('gammel', 25 * 3600_000), row('nesten', 23 * 3600_000), row('ny', 60_000)],
    });
    const result = await processSweep(sweepDeps);
    expect(result.deletedIdempotencyKeys).toBe(1);
    const left = await db.idempotencyKey.findMany({ where: { userId: adminId }, select: { key: true } });
    expect(left.map((k) => k.key).sort()).toEqual(['nesten', 'ny']);
  });
});

/**
 * The outbox as the ledger of fan-out work, on real PostgreSQL and Redis: an event that needs a fan-out-queue job stays
 * unprocessed until the job is done, so when Redis loses the job (here: the queue is emptied), the sweeper adds it
 * again and the subscribers still get the announcement; events that need no job are processed at relay.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/domain/types.js';
import { editAnnouncement } from '../../src/services/edit.js';
import { publishAnnouncement } from '../../src/services/publish.js';
import { createOutboxRelay, type OutboxRelay } from '../../workers/outbox-relay.js';
import { processFanout } from '../../workers/processors/fanout.js';
import { processNotice } from '../../workers/processors/notices.js';
import { processSweep, type SweepProcessorDeps } from '../../workers/processors/sweep.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createSubscription, deliveriesOf, silentLogger } from '../helpers/delivery.js';
import { createChannel, createUser } from '../helpers/factories.js';

let ctx: TestContext;
let relay: OutboxRelay;
let admin: Actor;
let sweepDeps: SweepProcessorDeps;
const STALE_MS = 60_000;

beforeAll(async () => {
  ctx = await createTestContext();
  relay = createOutboxRelay({
    db: ctx.deps.db,
    fanoutQueue: ctx.deps.queues.fanout,
    scheduledQueue: ctx.deps.queues.scheduled,
    publisher: ctx.deps.redis,
    redisPrefix: ctx.config.redis.prefix,
    databaseUrl: ctx.config.database.url,
    publicUrl: ctx.config.http.publicUrl,
    pollMs: 60_000,
    logger: silentLogger,
  });
  sweepDeps = {
    db: ctx.deps.db,
    emailQueue: ctx.deps.queues.email,
    fanoutQueue: ctx.deps.queues.fanout,
    staleDeliveryMs: STALE_MS,
    maxAttempts: 3,
    emailBatchSize: 50,
    logger: silentLogger,
  };
  const user = await createUser(ctx.deps.db, { isAdmin: true });
  admin = { kind: 'user', userId: user.id, isAdmin: true, organisationId: null, scopes: ['read', 'publish', 'admin'] };
});

afterAll(async () => {
  await relay.close();
  await ctx.close();
});

const fanoutDeps = () => ({
  db: ctx.deps.db,
  emailQueue: ctx.deps.queues.email,
  pushQueue: ctx.deps.queues.push,
  webhookQueue: ctx.deps.queues.webhook,
  pageSize: 100,
  emailBatchSize: 50,
  logger: silentLogger,
});

async function eventsOf(announcementId: string) {
  return ctx.deps.db.outboxEvent.findMany({ where: { aggregateId: announcementId }, orderBy: { id: 'asc' } });
}

/** What losing Redis data does to a queue: every job in it is gone. */
async function loseFanoutJobs(): Promise<void> {
  await ctx.deps.queues.fanout.obliterate({ force: true });
}

/** Makes the relay's hand-over look old, as if the sweeper's staleness limit had passed. */
async function ageRelayedEvents(announcementId: string): Promise<void> {
  await ctx.deps.db.outboxEvent.updateMany({
    where: { aggregateId: announcementId },
    data: { relayedAt: new Date(Date.now() - 2 * STALE_MS) },
  });
}

async function fanoutJobIds(): Promise<string[]> {
  const jobs = await ctx.deps.queues.fanout.getJobs(['waiting', 'delayed', 'prioritized', 'active', 'completed']);
  return jobs.map((job) => job.id ?? '');
}

describe('the outbox as the ledger of fan-out jobs', () => {
  it('re-adds a fan-out lost with Redis data, once even with two sweepers, and the subscribers still get it', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    for (let i = 0; i < 3; i++) await createSubscription(db, { channelId: channel.id });
    const view = await publishAnnouncement({ db, publicUrl: ctx.config.http.publicUrl }, admin, channel.slug, {
      title: 'Nedetid',
      body: 'I kveld.',
    });
    await relay.relayOnce();
    const [event] = await eventsOf(view.id);
    expect(event).toMatchObject({ relayedAt: expect.any(Date), processedAt: null });

    await loseFanoutJobs();
    // Not stale yet: nothing to do.
    expect((await processSweep(sweepDeps)).requeuedOutboxEvents).toBe(0);
    await ageRelayedEvents(view.id);

    const [first, second] = await Promise.all([processSweep(sweepDeps), processSweep(sweepDeps)]);
    expect((first.requeuedOutboxEvents ?? 0) + (second.requeuedOutboxEvents ?? 0)).toBe(1);
    const readded = (await fanoutJobIds()).filter((id) => id.startsWith(`fanout-${view.id}-s`));
    expect(readded).toHaveLength(1);

    await processFanout({ announcementId: view.id }, fanoutDeps());
    expect(await deliveriesOf(db, view.id)).toHaveLength(3);
    const [done] = await eventsOf(view.id);
    expect(done!.processedAt).toBeInstanceOf(Date);
    await ageRelayedEvents(view.id);
    expect((await processSweep(sweepDeps)).requeuedOutboxEvents).toBe(0);
  });

  it('marks events that need no job processed at relay, and a material edit only when its corrections are made', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    const view = await publishAnnouncement({ db, publicUrl: ctx.config.http.publicUrl }, admin, channel.slug, {
      title: 'Oppgradering',
      body: 'Lørdag.',
    });
    await editAnnouncement({ db, publicUrl: ctx.config.http.publicUrl }, admin, view.id, {
      title: 'Oppgradering av BOTT SA',
      material: false,
    });
    await editAnnouncement({ db, publicUrl: ctx.config.http.publicUrl }, admin, view.id, {
      body: 'Søndag.',
      material: true,
    });
    await relay.relayOnce();
    const [published, minor, material] = await eventsOf(view.id);
    expect(published).toMatchObject({ type: 'announcement.published', processedAt: null });
    expect(minor).toMatchObject({ type: 'announcement.updated', processedAt: expect.any(Date) });
    expect(material).toMatchObject({ type: 'announcement.updated', processedAt: null });

    await processFanout({ announcementId: view.id }, fanoutDeps());
    expect((await eventsOf(view.id)).map((event) => event.processedAt !== null)).toEqual([true, true, false]);
    await processNotice('correction', { announcementId: view.id, revision: 3 }, { ...fanoutDeps() });
    const after = await eventsOf(view.id);
    expect(after[2]!.processedAt).toBeInstanceOf(Date);
  });
});

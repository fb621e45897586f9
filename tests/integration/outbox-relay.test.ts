/**
 * The outbox relay on real PostgreSQL and Redis: each committed outbox row becomes one fan-out job and one live
 * message, also with two relays racing; a Redis failure leaves the rows for later; LISTEN wakes it without polling.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/domain/types.js';
import { jobId } from '../../src/queue/jobs.js';
import { type AnnouncementPublishedEvent, type LiveEvent, liveRedisChannel } from '../../src/realtime/protocol.js';
import { createRedis } from '../../src/redis.js';
import { publishAnnouncement } from '../../src/services/publish.js';
import type { AnnouncementView } from '../../src/services/views.js';
import { createOutboxRelay, type OutboxRelayDeps } from '../../workers/outbox-relay.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { silentLogger } from '../helpers/delivery.js';
import { createChannel, createUser } from '../helpers/factories.js';
import { waitFor } from '../helpers/wait.js';

let ctx: TestContext;
let subscriber: Redis;
const live: LiveEvent[] = [];
const sentinels: string[] = [];
let admin: Actor;
let channelSlug: string;

beforeAll(async () => {
  ctx = await createTestContext();
  const user = await createUser(ctx.deps.db, { isAdmin: true });
  admin = { kind: 'user', userId: user.id, isAdmin: true, organisationId: null, scopes: ['read', 'publish', 'admin'] };
  channelSlug = (await createChannel(ctx.deps.db)).slug;

  subscriber = createRedis(ctx.config.redis.url, 'subscriber', 'test-live-subscriber');
  subscriber.on('message', (_channel: string, message: string) => {
    const parsed = JSON.parse(message) as LiveEvent | { sentinel: string };
    if ('sentinel' in parsed) sentinels.push(parsed.sentinel);
    else live.push(parsed);
  });
  await subscriber.subscribe(liveRedisChannel(ctx.config.redis.prefix));
});

afterAll(async () => {
  subscriber.disconnect();
  await ctx.close();
});

function relayDeps(overrides: Partial<OutboxRelayDeps> = {}): OutboxRelayDeps {
  return {
    db: ctx.deps.db,
    fanoutQueue: ctx.deps.queues.fanout,
    scheduledQueue: ctx.deps.queues.scheduled,
    publisher: ctx.deps.redis,
    redisPrefix: ctx.config.redis.prefix,
    databaseUrl: ctx.config.database.url,
    publicUrl: ctx.config.http.publicUrl,
    pollMs: 600_000,
    logger: silentLogger,
    ...overrides,
  };
}

function publish(title: string) {
  return publishAnnouncement({ db: ctx.deps.db, publicUrl: ctx.config.http.publicUrl }, admin, channelSlug, {
    title,
    body: 'Innhold',
  });
}

/** Waits until every live message published so far by ctx.deps.redis has arrived (pub/sub keeps one connection's order). */
async function flushLive(): Promise<void> {
  const marker = `${Date.now()}-${Math.random()}`;
  await ctx.deps.redis.publish(liveRedisChannel(ctx.config.redis.prefix), JSON.stringify({ sentinel: marker }));
  await waitFor(() => sentinels.includes(marker), { what: 'the sentinel live message' });
}

/** The `announcement.published` messages received so far. */
function publishedLive(): AnnouncementPublishedEvent[] {
  return live.filter((event): event is AnnouncementPublishedEvent => event.type === 'announcement.published');
}

async function unrelayedCount(): Promise<number> {
  return ctx.deps.db.outboxEvent.count({ where: { relayedAt: null } });
}

describe('outbox relay', () => {
  it('relays each event exactly once to a fan-out job and a live message, with two relays racing', async () => {
    const published: AnnouncementView[] = [];
    for (let i = 0; i < 23; i++) published.push(await publish(`Kunngjøring ${i}`));
    const a = createOutboxRelay(relayDeps({ batchSize: 4 }));
    const b = createOutboxRelay(relayDeps({ batchSize: 4 }));
    live.length = 0;

    const drain = async (relay: typeof a) => {
      let total = 0;
      for (let n = await relay.relayOnce(); n > 0; n = await relay.relayOnce()) total += n;
      return total;
    };
    const [byA, byB] = await Promise.all([drain(a), drain(b), drain(a), drain(b)]).then((r) => [
      r[0]! + r[2]!,
      r[1]! + r[3]!,
    ]);

    expect(byA! + byB!).toBe(23);
    expect(await unrelayedCount()).toBe(0);

    await flushLive();
    expect(live).toHaveLength(23);
    expect(new Set(live.map((e) => e.eventId)).size).toBe(23);
    // Each event carries the position stored on its row, and the relays reach Redis one after the other under the
    // live log's lock: every subscriber sees positions in increasing order, whichever relay published them.
    const positions = live.map((e) => BigInt(e.eventId));
    expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    const rows = await ctx.deps.db.outboxEvent.findMany({
      where: { aggregateId: { in: published.map((p) => p.id) } },
      select: { aggregateId: true, position: true },
    });
    expect(new Map(rows.map((r) => [r.aggregateId, String(r.position)]))).toEqual(
      new Map(publishedLive().map((e) => [e.announcements[0]!.id, e.eventId])),
    );
    expect(new Set(publishedLive().map((e) => e.announcements[0]!.id))).toEqual(new Set(published.map((p) => p.id)));
    const sample = publishedLive().find((e) => e.announcements[0]!.id === published[0]!.id)!;
    expect(sample).toMatchObject({ type: 'announcement.published', channel: channelSlug, audienceOrganisationIds: [] });
    expect(sample.announcements).toEqual([published[0]]);

    const jobs = await ctx.deps.queues.fanout.getJobs(['waiting', 'prioritized', 'delayed', 'active', 'completed']);
    expect(jobs.map((job) => job.id).sort()).toEqual(published.map((p) => jobId.fanout(p.id)).sort());

    // Relaying again finds nothing.
    expect(await a.relayOnce()).toBe(0);
  });

  it('leaves the rows unrelayed when Redis fails, and relays them once it is back', async () => {
    const announcement = await publish('Redis er nede');
    const deadRedis = createRedis('redis://127.0.0.1:1', 'producer', 'test-dead-redis');
    deadRedis.on('error', () => {});
    try {
      const broken = createOutboxRelay(relayDeps({ publisher: deadRedis }));
      await expect(broken.relayOnce()).rejects.toThrow();
      const row = await ctx.deps.db.outboxEvent.findFirstOrThrow({ where: { aggregateId: announcement.id } });
      expect(row.relayedAt).toBeNull();
      // The position it drew rolled back with it (the sequence value is spent, never handed out again).
      expect(row.position).toBeNull();
    } finally {
      deadRedis.disconnect();
    }

    live.length = 0;
    expect(await createOutboxRelay(relayDeps()).relayOnce()).toBe(1);
    await flushLive();
    expect(publishedLive().map((e) => e.announcements[0]!.id)).toEqual([announcement.id]);
  });

  it('wakes on NOTIFY without waiting for its poll, and listens again after the connection drops', async () => {
    const relay = createOutboxRelay(relayDeps({ pollMs: 600_000 }));
    await relay.start();
    try {
      const first = await publish('Vekket av NOTIFY');
      await waitFor(
        async () => (await ctx.deps.db.outboxEvent.findFirst({ where: { aggregateId: first.id } }))?.relayedAt,
        { what: 'the relay to relay the first event' },
      );

      // Kill the relay's LISTEN connection from the server side.
      await waitFor(
        async () => {
          const killed = await ctx.deps.db.$queryRaw<{ pid: number }[]>`
            SELECT pg_terminate_backend(pid) AS pid FROM pg_stat_activity
             WHERE application_name = 'meldingskanal-outbox-relay' AND datname = current_database()`;
          return killed.length > 0;
        },
        { what: 'the LISTEN connection' },
      );
      const second = await publish('Etter gjenoppkobling');
      await waitFor(
        async () => (await ctx.deps.db.outboxEvent.findFirst({ where: { aggregateId: second.id } }))?.relayedAt,
        { what: 'the relay to relay the event published while it reconnected' },
      );
      // And it is listening again: a third event is relayed promptly, with polling still far away.
      const third = await publish('Lytter igjen');
      await waitFor(
        async () => (await ctx.deps.db.outboxEvent.findFirst({ where: { aggregateId: third.id } }))?.relayedAt,
        { what: 'the third event' },
      );
    } finally {
      await relay.close();
    }
  });

  it('closes at once, even while its LISTEN connection is still being opened', async () => {
    const relay = createOutboxRelay(relayDeps());
    await relay.start();
    await relay.close();
    await relay.close();
    await expect(relay.start()).rejects.toThrow(/closed/);
  });

  it('polls when no notification comes', async () => {
    // No LISTEN connection at all (its database cannot be reached), so only polling can find the event.
    const relay = createOutboxRelay(relayDeps({ pollMs: 100, databaseUrl: 'postgresql://postgres@127.0.0.1:1/none' }));
    await relay.start();
    // Written without pg_notify, after the relay's first look, as if the notification were lost.
    const channel = await ctx.deps.db.channel.findUniqueOrThrow({ where: { slug: channelSlug } });
    const announcement = await ctx.deps.db.announcement.create({
      data: { channelId: channel.id, title: 'Uten varsel', body: 'b', status: 'published', publishedAt: new Date() },
    });
    await ctx.deps.db.outboxEvent.create({
      data: {
        type: 'announcement.published',
        channelId: channel.id,
        aggregateId: announcement.id,
        payload: { announcementId: announcement.id },
      },
    });
    try {
      await waitFor(
        async () => (await ctx.deps.db.outboxEvent.findFirst({ where: { aggregateId: announcement.id } }))?.relayedAt,
        { what: 'the poll to relay the event' },
      );
    } finally {
      await relay.close();
    }
  });
});

describe('outbox relay: what live messages carry', () => {
  /** An announcement and its outbox event written directly (as the authoring service would), with its options. */
  async function writeAnnouncement(data: {
    title: string;
    audienceOrganisationIds?: string[];
    expiresAt?: Date;
    translations?: { language: 'nn' | 'en'; title: string; body: string }[];
  }) {
    const channel = await ctx.deps.db.channel.findUniqueOrThrow({ where: { slug: channelSlug } });
    const announcement = await ctx.deps.db.announcement.create({
      data: {
        channelId: channel.id,
        title: data.title,
        body: 'Tekst',
        language: 'nb',
        status: 'published',
        publishedAt: new Date(),
        audienceOrganisationIds: data.audienceOrganisationIds ?? [],
        expiresAt: data.expiresAt ?? null,
        translations: { create: data.translations ?? [] },
      },
    });
    await writeEvent('announcement.published', channel.id, announcement.id, { announcementId: announcement.id });
    return announcement;
  }

  async function writeEvent(type: string, channelId: string, announcementId: string, payload: object) {
    return ctx.deps.db.outboxEvent.create({ data: { type, channelId, aggregateId: announcementId, payload } });
  }

  async function relayAll(): Promise<void> {
    const relay = createOutboxRelay(relayDeps());
    while ((await relay.relayOnce()) > 0);
    await flushLive();
  }

  it('carries the audience and every language version, an edit with material and revision, a retraction with its audience', async () => {
    while ((await createOutboxRelay(relayDeps()).relayOnce()) > 0);
    const uio = await ctx.deps.db.organisation.upsert({
      where: { code: 'UiO' },
      update: {},
      create: { code: 'UiO', name: 'Universitetet i Oslo', realm: 'uio.no' },
    });
    const announcement = await writeAnnouncement({
      title: 'Berre for UiO',
      audienceOrganisationIds: [uio.id],
      translations: [{ language: 'nn', title: 'Berre for UiO (nynorsk)', body: 'Tekst på nynorsk' }],
    });
    await ctx.deps.db.announcement.update({
      where: { id: announcement.id },
      data: { revision: 2, editedAt: new Date() },
    });
    const edit = await writeEvent('announcement.updated', announcement.channelId, announcement.id, {
      announcementId: announcement.id,
      revision: 2,
      material: true,
    });
    live.length = 0;
    await relayAll();

    const [published, updated] = live;
    expect(live).toHaveLength(2);
    expect(published).toMatchObject({ type: 'announcement.published', audienceOrganisationIds: [uio.id] });
    const { position } = await ctx.deps.db.outboxEvent.findUniqueOrThrow({ where: { id: edit.id } });
    expect(updated).toMatchObject({
      type: 'announcement.updated',
      eventId: String(position),
      channel: channelSlug,
      audienceOrganisationIds: [uio.id],
      material: true,
      revision: 2,
    });
    for (const event of [published!, updated!]) {
      if (event.type === 'announcement.retracted') throw new Error('not a retraction');
      expect(event.announcements.map((view) => [view.language, view.title, view.audience])).toEqual([
        ['nb', 'Berre for UiO', ['UiO']],
        ['nn', 'Berre for UiO (nynorsk)', ['UiO']],
      ]);
    }

    await ctx.deps.db.announcement.update({
      where: { id: announcement.id },
      data: { status: 'retracted', retractedAt: new Date() },
    });
    await writeEvent('announcement.retracted', announcement.channelId, announcement.id, {
      announcementId: announcement.id,
    });
    live.length = 0;
    await relayAll();
    expect(live).toEqual([
      expect.objectContaining({
        type: 'announcement.retracted',
        announcementId: announcement.id,
        audienceOrganisationIds: [uio.id],
      }),
    ]);
  });

  it('sends nothing live for an expired announcement, nor for an edit of a retracted one', async () => {
    while ((await createOutboxRelay(relayDeps()).relayOnce()) > 0);
    await writeAnnouncement({ title: 'Gått ut', expiresAt: new Date(Date.now() - 1000) });
    const retracted = await writeAnnouncement({ title: 'Trekt' });
    await ctx.deps.db.announcement.update({ where: { id: retracted.id }, data: { status: 'retracted' } });
    await writeEvent('announcement.updated', retracted.channelId, retracted.id, {
      announcementId: retracted.id,
      revision: 2,
      material: false,
    });
    const fresh = await writeAnnouncement({ title: 'Fersk' });
    live.length = 0;
    await relayAll();
    expect(await unrelayedCount()).toBe(0);
    expect(live.map((event) => (event.type === 'announcement.retracted' ? null : event.announcements[0]!.id))).toEqual([
      fresh.id,
    ]);
  });
});

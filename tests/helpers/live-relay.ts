/**
 * The worker's outbox relay, run in a test: it gives each live event its position in the live log and publishes it on
 * Redis, exactly as the worker does (workers/outbox-relay.ts). Its job queues are left out (nothing is fanned out).
 */
import type { Redis } from 'ioredis';
import { loadAnnouncementRecord } from '../../src/db/announcement-records.js';
import type { Db } from '../../src/db/prisma.js';
import { liveEventFrom } from '../../src/realtime/events.js';
import type { AnnouncementPublishedEvent } from '../../src/realtime/protocol.js';
import { createOutboxRelay, type OutboxRelay, type OutboxRelayDeps } from '../../workers/outbox-relay.js';
import type { TestContext } from './context.js';
import { silentLogger } from './delivery.js';

/**
 * A relay over the test context's database that publishes with `publisher` (default: the context's Redis); it polls
 * every `pollMs` once started (and wakes on NOTIFY, as the worker's).
 */
export function testRelay(ctx: TestContext, publisher: Redis = ctx.deps.redis, pollMs = 600_000): OutboxRelay {
  const noQueue = { addBulk: async () => [] };
  return createOutboxRelay({
    fanoutQueue: noQueue,
    scheduledQueue: noQueue,
    db: ctx.deps.db,
    publisher,
    redisPrefix: ctx.config.redis.prefix,
    databaseUrl: ctx.config.database.url,
    publicUrl: ctx.config.http.publicUrl,
    pollMs,
    logger: silentLogger,
  } as unknown as OutboxRelayDeps);
}

/** Relays everything written so far. */
export async function relayAll(ctx: TestContext, publisher?: Redis): Promise<void> {
  const relay = testRelay(ctx, publisher);
  while ((await relay.relayOnce()) > 0);
}

/** The position the relay gave an announcement's publication. */
export async function positionOf(db: Db, announcementId: string, type = 'announcement.published'): Promise<string> {
  const row = await db.outboxEvent.findFirstOrThrow({ where: { aggregateId: announcementId, type } });
  if (row.position === null) throw new Error(`the ${type} event of ${announcementId} was not relayed yet`);
  return String(row.position);
}

/** The LiveEvent the relay published for an announcement's (relayed) publication, as the announcement is now. */
export async function publishedEvent(
  db: Db,
  announcementId: string,
  publicUrl: string,
): Promise<AnnouncementPublishedEvent> {
  const row = await db.outboxEvent.findFirstOrThrow({
    where: { aggregateId: announcementId, type: 'announcement.published' },
  });
  const record = await loadAnnouncementRecord(db, announcementId);
  if (!record || row.position === null) throw new Error('the publication was not relayed');
  return liveEventFrom({ position: row.position, channelId: row.channelId }, record, publicUrl);
}

/** The newest position of the live log: a `since` that means "I have everything relayed until now". */
export async function headPosition(db: Db): Promise<string> {
  const [row] = await db.$queryRaw<{ head: bigint | null }[]>`SELECT max(position) AS head FROM "OutboxEvent"`;
  return String(row?.head ?? 0n);
}

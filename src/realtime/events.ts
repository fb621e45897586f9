/**
 * Building and publishing LiveEvents. The outbox relay (worker) and the replay path (API) both build events with
 * `liveEventFrom`, so a live frame and a replayed frame of the same event are identical.
 */
import type { Redis } from 'ioredis';
import type { AnnouncementRecord } from '../db/announcement-records.js';
import { ANNOUNCEMENT_PUBLISHED } from '../services/publish.js';
import { announcementView } from '../services/views.js';
import {
  type AnnouncementPublishedEvent,
  type AnnouncementRetractedEvent,
  type LiveEvent,
  liveRedisChannel,
} from './protocol.js';

/** The announcement a LiveEvent carries: a record from the one loader (src/db/announcement-records.ts). */
export type LiveAnnouncementRow = AnnouncementRecord;

/**
 * The LiveEvent for one `announcement.published` outbox row.
 * @param outbox the OutboxEvent row: its id becomes `eventId` (as a decimal string; bigint does not survive JSON)
 * @param publicUrl config.http.publicUrl, for the announcement's link
 */
export function liveEventFrom(
  outbox: { id: bigint | string; channelId: string },
  announcement: LiveAnnouncementRow,
  publicUrl: string,
): AnnouncementPublishedEvent {
  return {
    eventId: String(outbox.id),
    type: ANNOUNCEMENT_PUBLISHED,
    channelId: outbox.channelId,
    channel: announcement.channelSlug,
    announcement: announcementView(announcement, { publicUrl, language: null }),
  };
}

/** The LiveEvent for one `announcement.retracted` outbox row: the id of the withdrawn announcement, nothing more. */
export function retractionEventFrom(
  outbox: { id: bigint | string; channelId: string; aggregateId: string },
  channel: { slug: string },
): AnnouncementRetractedEvent {
  return {
    eventId: String(outbox.id),
    type: 'announcement.retracted',
    channelId: outbox.channelId,
    channel: channel.slug,
    announcementId: outbox.aggregateId,
  };
}

/**
 * Publishes a LiveEvent to every API process (each one's LiveHub). Resolves with the number of API processes that
 * received it; pub/sub is fire-and-forget, so a process that was disconnected from Redis at that moment misses it and
 * its clients catch up by reconnecting with `since`.
 */
export async function publishLiveEvent(redis: Redis, prefix: string, event: LiveEvent): Promise<number> {
  return redis.publish(liveRedisChannel(prefix), JSON.stringify(event));
}

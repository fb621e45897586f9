/**
 * Building and publishing LiveEvents. The outbox relay (worker) and the replay path (API) both build events with
 * `liveEventOf`, so a live frame and a replayed frame of the same event are identical, and both apply the same rule
 * about what is never sent live (below).
 */
import type { Redis } from 'ioredis';
import type { AnnouncementRecord } from '../db/announcement-records.js';
import { isExpired } from '../domain/announcement.js';
import { ANNOUNCEMENT_PUBLISHED } from '../services/publish.js';
import { ANNOUNCEMENT_RETRACTED } from '../services/retract.js';
import { type AnnouncementView, announcementView } from '../services/views.js';
import {
  ANNOUNCEMENT_UPDATED,
  type AnnouncementPublishedEvent,
  type AnnouncementRetractedEvent,
  type AnnouncementUpdatedEvent,
  type LiveEvent,
  liveRedisChannel,
} from './protocol.js';

/** The announcement a LiveEvent carries: a record from the one loader (src/db/announcement-records.ts). */
export type LiveAnnouncementRow = AnnouncementRecord;

/** The outbox event types that become live events. */
export const LIVE_EVENT_TYPES: readonly string[] = [
  ANNOUNCEMENT_PUBLISHED,
  ANNOUNCEMENT_UPDATED,
  ANNOUNCEMENT_RETRACTED,
];

/**
 * An OutboxEvent row, as much of it as a live event needs. Its `position` in the live log (drawn by the relay, in
 * commit order) becomes `eventId` (a decimal string).
 */
export interface OutboxEventRow {
  position: bigint | string;
  type: string;
  channelId: string;
  payload: unknown;
}

/** One view per language version, the original first: what a live event carries for every socket to pick from. */
function viewsOf(record: AnnouncementRecord, publicUrl: string, now: Date): AnnouncementView[] {
  return record.versions.map((version) => announcementView(record, { publicUrl, language: version.language, now }));
}

/**
 * The LiveEvent for one `announcement.published` outbox row.
 * @param publicUrl config.http.publicUrl, for the announcement's link
 */
export function liveEventFrom(
  outbox: { position: bigint | string; channelId: string },
  announcement: LiveAnnouncementRow,
  publicUrl: string,
  now = new Date(),
): AnnouncementPublishedEvent {
  return {
    eventId: String(outbox.position),
    type: ANNOUNCEMENT_PUBLISHED,
    channelId: outbox.channelId,
    channel: announcement.channelSlug,
    audienceOrganisationIds: [...announcement.audienceOrganisationIds],
    announcements: viewsOf(announcement, publicUrl, now),
  };
}

/**
 * The LiveEvent for one `announcement.updated` outbox row (payload `{announcementId, revision, material}`): the
 * announcement as it is now. `revision` and `material` are the edit's own, from the payload.
 */
export function updateEventFrom(
  outbox: { position: bigint | string; channelId: string; payload: unknown },
  announcement: LiveAnnouncementRow,
  publicUrl: string,
  now = new Date(),
): AnnouncementUpdatedEvent {
  const payload = (outbox.payload ?? {}) as { revision?: unknown; material?: unknown };
  return {
    eventId: String(outbox.position),
    type: ANNOUNCEMENT_UPDATED,
    channelId: outbox.channelId,
    channel: announcement.channelSlug,
    audienceOrganisationIds: [...announcement.audienceOrganisationIds],
    // An edit without a material flag is the harmless reading: minor (no correction is pushed for it).
    material: payload.material === true,
    revision:
      typeof payload.revision === 'number' && Number.isSafeInteger(payload.revision) && payload.revision >= 1
        ? payload.revision
        : announcement.revision,
    announcements: viewsOf(announcement, publicUrl, now),
  };
}

/**
 * The LiveEvent for one `announcement.retracted` outbox row: the id of the withdrawn announcement for clients, and
 * its audience for the API processes (a retraction goes to the sockets that could have been sent the announcement).
 */
export function retractionEventFrom(
  outbox: { position: bigint | string; channelId: string },
  announcement: Pick<AnnouncementRecord, 'id' | 'channelSlug' | 'audienceOrganisationIds'>,
): AnnouncementRetractedEvent {
  return {
    eventId: String(outbox.position),
    type: ANNOUNCEMENT_RETRACTED,
    channelId: outbox.channelId,
    channel: announcement.channelSlug,
    audienceOrganisationIds: [...announcement.audienceOrganisationIds],
    announcementId: announcement.id,
  };
}

/**
 * The LiveEvent of an outbox row, or null when nothing is to be sent for it: a type that is not live, or a
 * publication or edit of an announcement that is no longer published (retracted before it was relayed or replayed;
 * drafts and scheduled ones have no such events) or that has expired (gone from feeds and widgets, so not pushed to
 * them either). A retraction is always sent: a client that has the announcement must remove it.
 * @param announcement the record of the event's announcement (null when it was deleted: nothing is sent)
 */
export function liveEventOf(
  outbox: OutboxEventRow,
  announcement: LiveAnnouncementRow | null,
  publicUrl: string,
  now = new Date(),
): LiveEvent | null {
  if (!announcement) return null;
  if (outbox.type === ANNOUNCEMENT_RETRACTED) return retractionEventFrom(outbox, announcement);
  if (outbox.type !== ANNOUNCEMENT_PUBLISHED && outbox.type !== ANNOUNCEMENT_UPDATED) return null;
  if (announcement.status !== 'published' || announcement.publishedAt === null) return null;
  if (isExpired(announcement, now)) return null;
  return outbox.type === ANNOUNCEMENT_PUBLISHED
    ? liveEventFrom(outbox, announcement, publicUrl, now)
    : updateEventFrom(outbox, announcement, publicUrl, now);
}

/**
 * Publishes a LiveEvent to every API process (each one's LiveHub). Resolves with the number of API processes that
 * received it; pub/sub is fire-and-forget, so a process that was disconnected from Redis at that moment misses it and
 * its clients catch up by reconnecting with `since`.
 */
export async function publishLiveEvent(redis: Redis, prefix: string, event: LiveEvent): Promise<number> {
  return redis.publish(liveRedisChannel(prefix), JSON.stringify(event));
}

/**
 * Publishes LiveEvents in this order, in one round trip (a pipeline keeps the order on one connection). Rejects when
 * Redis did not take one of them: the relay's transaction then rolls back and relays the rows again later.
 */
export async function publishLiveEvents(redis: Redis, prefix: string, events: readonly LiveEvent[]): Promise<void> {
  if (events.length === 0) return;
  const pipeline = redis.pipeline();
  for (const event of events) pipeline.publish(liveRedisChannel(prefix), JSON.stringify(event));
  const results = (await pipeline.exec()) ?? [];
  const failed = results.find(([error]) => error);
  if (failed) throw failed[0];
}

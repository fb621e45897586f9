/**
 * The event log that reconnecting WebSocket clients replay from: OutboxEvent rows are kept after relay, so "what
 * happened in these channels after event N" is one indexed query (OutboxEvent @@index([channelId, id])).
 */
import { audienceScope } from '../domain/announcement.js';
import type { Actor } from '../domain/types.js';
import { audienceScopeSql, notExpiredSql } from './announcement-scope-sql.js';
import type { Db } from './prisma.js';

/** One outbox event to replay; the caller loads its announcement with the one loader and builds the LiveEvent. */
export interface ReplayRow {
  id: bigint;
  type: string;
  channelId: string;
  announcementId: string;
  payload: unknown;
}

/**
 * The events a client that has everything up to `since` missed in the given channels, oldest first:
 * - `announcement.published` and `announcement.updated` events whose announcement is still published and not expired
 *   (what REST's feeds would still show; the caller sends each with the announcement as it is NOW);
 * - `announcement.retracted` events, also of announcements published before `since` (the client may hold them).
 * Only announcements `actor` may see are included (the audience rule of canSeeAnnouncement, as SQL: for everyone, for
 * the actor's organisation, or in a channel where the actor holds a role; administrators see all), so the limit counts
 * what the client is actually sent; the caller passes only channels the actor may read (the live plugin checks them
 * with canReadChannel). At most `limit`: when more exist, the NEWEST `limit` are returned and `truncated` is true — a
 * client that missed that much reloads over REST, and what it does get continues without a gap into the live stream.
 */
export async function findEventsSince(
  db: Db,
  query: { channelIds: readonly string[]; since: bigint; limit: number; actor: Actor; now?: Date },
): Promise<{ rows: ReplayRow[]; truncated: boolean }> {
  if (query.channelIds.length === 0) return { rows: [], truncated: false };
  const now = query.now ?? new Date();
  const raw = await db.$queryRaw<ReplayRow[]>`
    SELECT e.id, e.type, e."channelId", a.id AS "announcementId", e.payload
      FROM "OutboxEvent" e
      JOIN "Announcement" a ON a.id = e."aggregateId"
      JOIN "Channel" c ON c.id = e."channelId"
     WHERE e."channelId" = ANY(${[...query.channelIds]}::uuid[])
       AND e.id > ${query.since}
       AND ${audienceScopeSql(audienceScope(query.actor), 'a', 'c')}
       AND (
             (e.type IN ('announcement.published', 'announcement.updated')
              AND a.status = 'published' AND a."publishedAt" IS NOT NULL AND ${notExpiredSql('a', now)})
          OR e.type = 'announcement.retracted'
           )
     ORDER BY e.id DESC
     LIMIT ${query.limit + 1}`;
  const truncated = raw.length > query.limit;
  const rows = raw
    .slice(0, query.limit)
    .reverse()
    .map((r) => ({ ...r, id: BigInt(r.id) }));
  return { rows, truncated };
}

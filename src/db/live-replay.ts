/**
 * The event log that reconnecting WebSocket clients replay from: OutboxEvent rows are kept after relay, so "what
 * happened in these channels after event N" is one indexed query (OutboxEvent @@index([channelId, id])).
 */
import type { Db } from './prisma.js';

export interface ReplayRow {
  eventId: bigint;
  channelId: string;
  channelSlug: string;
  announcement: {
    id: string;
    title: string;
    body: string;
    importance: 'info' | 'important' | 'critical';
    status: 'draft' | 'published' | 'retracted';
    publishedAt: Date | null;
    author: { displayName: string } | null;
  };
}

interface RawReplayRow {
  eventId: bigint;
  channelId: string;
  channelSlug: string;
  id: string;
  title: string;
  body: string;
  importance: ReplayRow['announcement']['importance'];
  status: ReplayRow['announcement']['status'];
  publishedAt: Date | null;
  authorName: string | null;
}

/**
 * `announcement.published` events after `since` in the given channels, oldest first, whose announcement is still
 * published (a retracted one is not replayed) — the REST feed's rule, so a replay never shows what REST would not;
 * the caller passes only channels the client may read (the live plugin checks them with canReadChannel). At most
 * `limit`: when more exist, the NEWEST `limit` are returned and `truncated` is true — a client that missed that much
 * reloads older announcements over REST, and what it does get continues without a gap into the live stream.
 */
export async function findPublishedEventsSince(
  db: Db,
  query: { channelIds: readonly string[]; since: bigint; limit: number },
): Promise<{ rows: ReplayRow[]; truncated: boolean }> {
  if (query.channelIds.length === 0) return { rows: [], truncated: false };
  const raw = await db.$queryRaw<RawReplayRow[]>`
    SELECT e.id AS "eventId", e."channelId", c.slug AS "channelSlug",
           a.id, a.title, a.body, a.importance::text AS importance, a.status::text AS status, a."publishedAt",
           u."displayName" AS "authorName"
      FROM "OutboxEvent" e
      JOIN "Announcement" a ON a.id = e."aggregateId"
      JOIN "Channel" c ON c.id = e."channelId"
      LEFT JOIN "User" u ON u.id = a."authorId"
     WHERE e."channelId" = ANY(${[...query.channelIds]}::uuid[])
       AND e.id > ${query.since}
       AND e.type = 'announcement.published'
       AND a.status = 'published' AND a."publishedAt" IS NOT NULL
     ORDER BY e.id DESC
     LIMIT ${query.limit + 1}`;
  const truncated = raw.length > query.limit;
  const rows = raw
    .slice(0, query.limit)
    .reverse()
    .map((r) => ({
      eventId: BigInt(r.eventId),
      channelId: r.channelId,
      channelSlug: r.channelSlug,
      announcement: {
        id: r.id,
        title: r.title,
        body: r.body,
        importance: r.importance,
        status: r.status,
        publishedAt: r.publishedAt,
        author: r.authorName === null ? null : { displayName: r.authorName },
      },
    }));
  return { rows, truncated };
}

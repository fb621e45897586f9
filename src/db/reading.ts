/**
 * SQL of the reading features (personal feed, read state, ratings, view counts). Prisma types stop here: callers get
 * plain rows. Every query that lists announcements for a person filters on the channels that person may read
 * (channelReadScope), in SQL, so losing access removes a channel from the feed and the counts at once.
 */
import type { ChannelReadScope } from '../domain/access.js';
import type { Importance } from '../domain/types.js';
import { Prisma } from '../generated/prisma/client.js';
import type { Db } from './prisma.js';
import { channelReadScopeSql } from './read-scope-sql.js';

export interface PersonalFeedFilter {
  importance?: Importance;
  channelSlug?: string;
  from?: Date;
  to?: Date;
  after?: { publishedAt: Date; id: string };
}

/** A published announcement as feed queries return it. */
export interface FeedRow {
  id: string;
  title: string;
  body: string;
  importance: Importance;
  status: 'published';
  publishedAt: Date;
  /** The author's display name; null when the account is gone (a former user) or there never was one. */
  authorName: string | null;
}

export interface PersonalFeedRow extends FeedRow {
  channelSlug: string;
  read: boolean;
}

/**
 * Published announcements of the channels `userId` subscribes to and may still read, newest first (publishedAt
 * desc, id desc), `take` rows after the keyset position `after`.
 */
export async function personalFeedRows(
  db: Db,
  userId: string,
  scope: ChannelReadScope,
  filter: PersonalFeedFilter,
  take: number,
): Promise<PersonalFeedRow[]> {
  const conditions: Prisma.Sql[] = [
    Prisma.sql`s."userId" = ${userId}::uuid`,
    channelReadScopeSql(scope, 'c'),
    Prisma.sql`a.status = 'published' AND a."publishedAt" IS NOT NULL`,
  ];
  if (filter.importance) conditions.push(Prisma.sql`a.importance::text = ${filter.importance}`);
  if (filter.channelSlug) conditions.push(Prisma.sql`c.slug = ${filter.channelSlug}`);
  if (filter.from) conditions.push(Prisma.sql`a."publishedAt" >= ${filter.from}::timestamptz`);
  if (filter.to) conditions.push(Prisma.sql`a."publishedAt" < ${filter.to}::timestamptz`);
  // Row-value comparison: an index range on each channel's (channelId, publishedAt DESC, id DESC), as in the
  // channel feed (src/services/announcements.ts).
  if (filter.after) {
    conditions.push(
      Prisma.sql`(a."publishedAt", a.id) < (${filter.after.publishedAt}::timestamptz, ${filter.after.id}::uuid)`,
    );
  }
  return db.$queryRaw<PersonalFeedRow[]>`
    SELECT a.id, a.title, a.body, a.importance::text AS importance, a.status::text AS status, a."publishedAt",
           u."displayName" AS "authorName", c.slug AS "channelSlug", (r."userId" IS NOT NULL) AS read
    FROM "Subscription" s
    JOIN "Channel" c ON c.id = s."channelId"
    JOIN "Announcement" a ON a."channelId" = c.id
    LEFT JOIN "User" u ON u.id = a."authorId"
    LEFT JOIN "AnnouncementRead" r ON r."announcementId" = a.id AND r."userId" = ${userId}::uuid
    WHERE ${Prisma.join(conditions, ' AND ')}
    ORDER BY a."publishedAt" DESC, a.id DESC
    LIMIT ${take}`;
}

/** Unread published announcements per subscribed, readable channel (channels with none are left out), by slug. */
export async function unreadCounts(
  db: Db,
  userId: string,
  scope: ChannelReadScope,
): Promise<{ channel: string; unread: number }[]> {
  const rows = await db.$queryRaw<{ channel: string; unread: bigint }[]>`
    SELECT c.slug AS channel, count(*) AS unread
    FROM "Subscription" s
    JOIN "Channel" c ON c.id = s."channelId"
    JOIN "Announcement" a ON a."channelId" = c.id
    WHERE s."userId" = ${userId}::uuid AND ${channelReadScopeSql(scope, 'c')}
      AND a.status = 'published' AND a."publishedAt" IS NOT NULL
      AND NOT EXISTS (
        SELECT 1 FROM "AnnouncementRead" r WHERE r."announcementId" = a.id AND r."userId" = ${userId}::uuid)
    GROUP BY c.slug
    ORDER BY c.slug`;
  return rows.map((row) => ({ channel: row.channel, unread: Number(row.unread) }));
}

/**
 * Marks every published announcement read, of one channel (`channelId`) or of every subscribed readable channel.
 * Returns how many were newly marked; those already read keep their first readAt.
 */
export async function markAllRead(
  db: Db,
  userId: string,
  scope: ChannelReadScope,
  channelId: string | null,
): Promise<number> {
  const which =
    channelId === null
      ? Prisma.sql`EXISTS (SELECT 1 FROM "Subscription" s WHERE s."channelId" = c.id AND s."userId" = ${userId}::uuid)
          AND ${channelReadScopeSql(scope, 'c')}`
      : Prisma.sql`c.id = ${channelId}::uuid`;
  return db.$executeRaw`
    INSERT INTO "AnnouncementRead" ("userId", "announcementId")
    SELECT ${userId}::uuid, a.id
    FROM "Announcement" a JOIN "Channel" c ON c.id = a."channelId"
    WHERE ${which} AND a.status = 'published' AND a."publishedAt" IS NOT NULL
    ON CONFLICT ("userId", "announcementId") DO NOTHING`;
}

/** Rating average and votes, and distinct viewers, of each announcement in `ids`, in two grouped queries. */
export async function readingStats(
  db: Db,
  ids: readonly string[],
): Promise<Map<string, { average: number | null; votes: number; views: number }>> {
  const stats = new Map(ids.map((id) => [id, { average: null as number | null, votes: 0, views: 0 }]));
  if (ids.length === 0) return stats;
  const idList = Prisma.join(ids.map((id) => Prisma.sql`${id}::uuid`));
  const [ratings, viewers] = await Promise.all([
    db.$queryRaw<{ id: string; average: number; votes: bigint }[]>`
      SELECT "announcementId" AS id, avg(stars)::float8 AS average, count(*) AS votes
      FROM "AnnouncementRating" WHERE "announcementId" IN (${idList}) GROUP BY "announcementId"`,
    db.$queryRaw<{ id: string; views: bigint }[]>`
      SELECT "announcementId" AS id, count(*) AS views
      FROM "AnnouncementViewer" WHERE "announcementId" IN (${idList}) GROUP BY "announcementId"`,
  ]);
  for (const row of ratings) {
    const entry = stats.get(row.id);
    if (entry) Object.assign(entry, { average: row.average, votes: Number(row.votes) });
  }
  for (const row of viewers) {
    const entry = stats.get(row.id);
    if (entry) entry.views = Number(row.views);
  }
  return stats;
}

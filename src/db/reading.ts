/**
 * SQL of the reading features (channel listings, the personal feed, read state, ratings, view counts). Prisma types
 * stop here: callers get plain rows (ids and sort keys; the records come from src/db/announcement-records.ts). Every
 * query that lists announcements for a person filters, in SQL, on what that person may see (visibleAnnouncementSql:
 * channel read scope, published, audience, and expiry where it applies), so losing access or leaving an audience
 * removes an announcement from listings and counts at once.
 */
import type { AnnouncementType } from '../domain/announcement.js';
import type { Actor, Importance, Language } from '../domain/types.js';
import { Prisma } from '../generated/prisma/client.js';
import {
  type AnnouncementRecord,
  RECORD_COLUMNS,
  RECORD_JOINS,
  type RecordRow,
  recordOf,
} from './announcement-records.js';
import { visibleAnnouncementSql } from './announcement-scope-sql.js';
import { type Db, queryRows } from './prisma.js';

/** Filters of a channel listing and the personal feed; every one optional, all of them must hold. */
export interface AnnouncementFilter {
  /** Has a version in this language (its original or a translation). */
  language?: Language;
  importance?: Importance;
  type?: AnnouncementType;
  /** For every organisation, or this one among its audience. */
  organisationId?: string;
  /** publishedAt at or after. */
  from?: Date;
  /** publishedAt before. */
  to?: Date;
}

/** The keyset position after which a page starts (publishedAt desc, id desc). */
export interface ListingKey {
  publishedAt: Date;
  id: string;
}

/** The filter as conditions on the announcement row `a`. */
export function announcementFilterSql(filter: AnnouncementFilter): Prisma.Sql[] {
  const conditions: Prisma.Sql[] = [];
  if (filter.language) {
    conditions.push(Prisma.sql`(a.language::text = ${filter.language} OR EXISTS (
      SELECT 1 FROM "AnnouncementTranslation" t WHERE t."announcementId" = a.id AND t.language::text = ${filter.language}))`);
  }
  if (filter.importance) conditions.push(Prisma.sql`a.importance::text = ${filter.importance}`);
  if (filter.type) conditions.push(Prisma.sql`a.type::text = ${filter.type}`);
  if (filter.organisationId) {
    conditions.push(Prisma.sql`(cardinality(a."audienceOrganisationIds") = 0
      OR ${filter.organisationId}::uuid = ANY(a."audienceOrganisationIds"))`);
  }
  if (filter.from) conditions.push(Prisma.sql`a."publishedAt" >= ${filter.from}::timestamptz`);
  if (filter.to) conditions.push(Prisma.sql`a."publishedAt" < ${filter.to}::timestamptz`);
  return conditions;
}

/**
 * Row-value comparison: PostgreSQL turns it into an index range on (channelId, publishedAt DESC, id DESC), so a deep
 * page costs what the first one does; the `publishedAt < $p OR (publishedAt = $p AND id < $i)` form would scan and
 * filter every row before the cursor.
 */
function afterSql(after: ListingKey | undefined): Prisma.Sql[] {
  return after ? [Prisma.sql`(a."publishedAt", a.id) < (${after.publishedAt}::timestamptz, ${after.id}::uuid)`] : [];
}

/** An announcement of a listing page, with its reading stats. */
export interface ListedAnnouncement {
  record: AnnouncementRecord;
  stats: { rating: { average: number | null; votes: number }; views: number };
}

/**
 * The announcements of one channel `actor` may see, newest first (or most recently pinned first), `take` of them
 * after `after`, with their records and reading stats, in ONE statement: the page's ids by the listing index, then
 * each record (RECORD_COLUMNS) and its rating and viewers. `extra` adds conditions on `a` (pinned or not);
 * `includeExpired` is the archive.
 */
export async function channelListingPage(
  db: Db,
  actor: Actor,
  channelId: string,
  options: {
    filter: AnnouncementFilter;
    includeExpired: boolean;
    now: Date;
    after?: ListingKey;
    extra?: Prisma.Sql[];
    orderBy?: 'published' | 'pinned';
    take: number;
  },
): Promise<ListedAnnouncement[]> {
  const conditions = [
    Prisma.sql`a."channelId" = ${channelId}::uuid`,
    visibleAnnouncementSql(actor, 'a', 'c', { now: options.now, includeExpired: options.includeExpired }),
    ...announcementFilterSql(options.filter),
    ...afterSql(options.after),
    ...(options.extra ?? []),
  ];
  const order =
    options.orderBy === 'pinned'
      ? Prisma.sql`a."pinnedAt" DESC, a.id DESC`
      : Prisma.sql`a."publishedAt" DESC, a.id DESC`;
  const rows = await queryRows<RecordRow & { ratingAverage: number | null; ratingVotes: number; views: number }>(
    db,
    Prisma.sql`
    SELECT ${RECORD_COLUMNS},
           (SELECT avg(r.stars)::float8 FROM "AnnouncementRating" r WHERE r."announcementId" = a.id) AS "ratingAverage",
           (SELECT count(*)::int FROM "AnnouncementRating" r WHERE r."announcementId" = a.id) AS "ratingVotes",
           (SELECT count(*)::int FROM "AnnouncementViewer" v WHERE v."announcementId" = a.id) AS views
      FROM (SELECT a.id, row_number() OVER (ORDER BY ${order}) AS ord
              FROM "Announcement" a
              JOIN "Channel" c ON c.id = a."channelId"
             WHERE ${Prisma.join(conditions, ' AND ')}
             ORDER BY ${order}
             LIMIT ${options.take}) page
      JOIN "Announcement" a ON a.id = page.id
      ${RECORD_JOINS}
     ORDER BY page.ord`,
  );
  return rows.map((row) => ({
    record: recordOf(row),
    stats: {
      rating: { average: row.ratingAverage, votes: Number(row.ratingVotes) },
      views: Number(row.views),
    },
  }));
}

export interface PersonalFeedRow extends ListingKey {
  read: boolean;
}

/**
 * Announcements of the channels `actor` subscribes to that it may see and that have not expired at `now`, newest
 * first (publishedAt desc, id desc), `take` rows after the keyset position `after`.
 */
export async function personalFeedRows(
  db: Db,
  actor: Extract<Actor, { kind: 'user' }>,
  options: { filter: AnnouncementFilter; channelSlug?: string; after?: ListingKey; now: Date; take: number },
): Promise<PersonalFeedRow[]> {
  const conditions: Prisma.Sql[] = [
    Prisma.sql`s."userId" = ${actor.userId}::uuid`,
    visibleAnnouncementSql(actor, 'a', 'c', { now: options.now, includeExpired: false }),
    ...announcementFilterSql(options.filter),
    ...afterSql(options.after),
  ];
  if (options.channelSlug) conditions.push(Prisma.sql`c.slug = ${options.channelSlug}`);
  return db.$queryRaw<PersonalFeedRow[]>`
    SELECT a.id, a."publishedAt", (r."userId" IS NOT NULL) AS read
    FROM "Subscription" s
    JOIN "Channel" c ON c.id = s."channelId"
    JOIN "Announcement" a ON a."channelId" = c.id
    LEFT JOIN "AnnouncementRead" r ON r."announcementId" = a.id AND r."userId" = ${actor.userId}::uuid
    WHERE ${Prisma.join(conditions, ' AND ')}
    ORDER BY a."publishedAt" DESC, a.id DESC
    LIMIT ${options.take}`;
}

/**
 * Unread announcements of the personal feed (visible, not expired) per subscribed channel (channels with none are
 * left out), by slug.
 */
export async function unreadCounts(
  db: Db,
  actor: Extract<Actor, { kind: 'user' }>,
  now: Date,
): Promise<{ channel: string; unread: number }[]> {
  const rows = await db.$queryRaw<{ channel: string; unread: bigint }[]>`
    SELECT c.slug AS channel, count(*) AS unread
    FROM "Subscription" s
    JOIN "Channel" c ON c.id = s."channelId"
    JOIN "Announcement" a ON a."channelId" = c.id
    WHERE s."userId" = ${actor.userId}::uuid
      AND ${visibleAnnouncementSql(actor, 'a', 'c', { now, includeExpired: false })}
      AND NOT EXISTS (
        SELECT 1 FROM "AnnouncementRead" r WHERE r."announcementId" = a.id AND r."userId" = ${actor.userId}::uuid)
    GROUP BY c.slug
    ORDER BY c.slug`;
  return rows.map((row) => ({ channel: row.channel, unread: Number(row.unread) }));
}

/**
 * Marks read every announcement `actor` may see, of one channel (`channelId`) or of every subscribed channel —
 * expired ones too, so the archive holds nothing unread either. Returns how many were newly marked; those already
 * read keep their first readAt.
 */
export async function markAllRead(
  db: Db,
  actor: Extract<Actor, { kind: 'user' }>,
  channelId: string | null,
  now: Date,
): Promise<number> {
  const which =
    channelId === null
      ? Prisma.sql`EXISTS (SELECT 1 FROM "Subscription" s WHERE s."channelId" = c.id AND s."userId" = ${actor.userId}::uuid)`
      : Prisma.sql`c.id = ${channelId}::uuid`;
  return db.$executeRaw`
    INSERT INTO "AnnouncementRead" ("userId", "announcementId")
    SELECT ${actor.userId}::uuid, a.id
    FROM "Announcement" a JOIN "Channel" c ON c.id = a."channelId"
    WHERE ${which} AND ${visibleAnnouncementSql(actor, 'a', 'c', { now, includeExpired: true })}
    ON CONFLICT ("userId", "announcementId") DO NOTHING`;
}

/** Rating average and votes, and distinct viewers, of each announcement in `ids`, in one statement. */
export async function readingStats(
  db: Db,
  ids: readonly string[],
): Promise<Map<string, { average: number | null; votes: number; views: number }>> {
  const stats = new Map(ids.map((id) => [id, { average: null as number | null, votes: 0, views: 0 }]));
  if (ids.length === 0) return stats;
  const rows = await queryRows<{ id: string; average: number | null; votes: number; views: number }>(
    db,
    Prisma.sql`
      SELECT i.id::text AS id, r.average, r.votes, v.views
        FROM unnest(${[...new Set(ids)]}::uuid[]) AS i(id)
        CROSS JOIN LATERAL (SELECT avg(stars)::float8 AS average, count(*)::int AS votes
                              FROM "AnnouncementRating" WHERE "announcementId" = i.id) r
        CROSS JOIN LATERAL (SELECT count(*)::int AS views
                              FROM "AnnouncementViewer" WHERE "announcementId" = i.id) v`,
  );
  for (const row of rows) {
    const entry = stats.get(row.id);
    if (entry) Object.assign(entry, { average: row.average, votes: Number(row.votes), views: Number(row.views) });
  }
  return stats;
}

/**
 * The next moment, after `now`, at which what readers see of these channels changes by itself, without a write: an
 * announcement expires or a pin ends (null when none is due). Cached pages end then (src/services/read-cache.ts).
 */
export async function nextTimedChange(db: Db, channelIds: readonly string[], now: Date): Promise<Date | null> {
  if (channelIds.length === 0) return null;
  const [row] = await queryRows<{ at: Date | null }>(
    db,
    Prisma.sql`
    SELECT least(min(a."expiresAt") FILTER (WHERE a."expiresAt" > ${now}::timestamptz),
                 min(a."pinnedUntil") FILTER (WHERE a."pinnedUntil" > ${now}::timestamptz)) AS at
      FROM "Announcement" a
     WHERE a."channelId" = ANY(${channelIds}::uuid[]) AND a.status = 'published'`,
  );
  return row?.at ?? null;
}

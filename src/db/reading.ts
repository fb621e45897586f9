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
import { type AnnouncementViewRecord, audienceOf, type RecordRow, versionsOf } from './announcement-records.js';
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
    // `= '{}'` rather than cardinality(…) = 0, for the planner's estimate (audienceScopeSql says why).
    conditions.push(Prisma.sql`(a."audienceOrganisationIds" = '{}'::uuid[]
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
  record: AnnouncementViewRecord;
  stats: { rating: { average: number | null; votes: number }; views: number };
}

/** A row of channelListingPage's statement. */
type ListingRow = Pick<
  RecordRow,
  | 'id'
  | 'channelSlug'
  | 'authorName'
  | 'status'
  | 'importance'
  | 'type'
  | 'language'
  | 'title'
  | 'summary'
  | 'body'
  | 'affectedSystem'
  | 'startsAt'
  | 'endsAt'
  | 'resolvesId'
  | 'resolvedById'
  | 'audienceOrganisationIds'
  | 'publishedAt'
  | 'publishAt'
  | 'expiresAt'
  | 'revision'
  | 'editedAt'
  | 'ackRequired'
  | 'ackDeadline'
> & {
  /** JSON, null when the audience is everyone (not looked up then). */
  organisations: RecordRow['organisations'] | null;
  /** JSON, null for none. */
  translations: RecordRow['translations'] | null;
  /** JSON in upload order, null for none. */
  attachments: AnnouncementViewRecord['attachments'] | null;
  ratingAverage: number | null;
  ratingVotes: number;
  views: number;
};

/**
 * The announcements of one channel `actor` may see, newest first (or most recently pinned first), `take` of them
 * after `after`, with what their views show (AnnouncementViewRecord) and their reading stats, in ONE statement: the
 * page's rows by the listing index (the inner SELECT, which reads only the announcement's own columns the view
 * needs), then, for those `take` rows only, their parts — the published follow-up, the audience's codes (only when
 * there is an audience), translations, attachments, rating and viewers.
 *
 * It reads less than loadAnnouncementRecords on purpose: the full record (RECORD_COLUMNS) re-joined every row by id,
 * numbered them with a window function and read a dozen columns no listing shows; planning and running that
 * statement cost PostgreSQL about 2.7 ms per 20-item page against 1.2 ms for this one (bench/README.md, "Older
 * keyset page"). The views it gives are the same (tests/integration/listing-records.test.ts compares them with the
 * full loader's). `extra` adds conditions on `a` (pinned or not); `includeExpired` is the archive.
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
  const pinned = options.orderBy === 'pinned';
  const order = pinned ? Prisma.sql`a."pinnedAt" DESC, a.id DESC` : Prisma.sql`a."publishedAt" DESC, a.id DESC`;
  const pageOrder = pinned ? Prisma.sql`p."pinnedAt" DESC, p.id DESC` : Prisma.sql`p."publishedAt" DESC, p.id DESC`;
  const rows = await queryRows<ListingRow>(
    db,
    Prisma.sql`
    SELECT p.id, p."channelSlug", author."displayName" AS "authorName", p.status, p.importance, p.type, p.language,
           p.title, p.summary, p.body, p."affectedSystem", p."startsAt", p."endsAt", p."resolvesId",
           (SELECT r.id FROM "Announcement" r WHERE r."resolvesId" = p.id AND r.status = 'published') AS "resolvedById",
           p."audienceOrganisationIds"::text[] AS "audienceOrganisationIds",
           CASE WHEN cardinality(p."audienceOrganisationIds") > 0 THEN
             (SELECT json_agg(json_build_object('id', o.id, 'code', o.code))
                FROM "Organisation" o WHERE o.id = ANY(p."audienceOrganisationIds")) END AS organisations,
           (SELECT json_agg(json_build_object('language', t.language, 'title', t.title, 'summary', t.summary,
                                              'body', t.body))
              FROM "AnnouncementTranslation" t WHERE t."announcementId" = p.id) AS translations,
           (SELECT json_agg(json_build_object('id', f.id, 'filename', f.filename, 'contentType', f."contentType",
                                              'size', f.size) ORDER BY f."createdAt", f.id)
              FROM "Attachment" f WHERE f."announcementId" = p.id) AS attachments,
           p."publishedAt", p."publishAt", p."expiresAt", p.revision, p."editedAt", p."ackRequired", p."ackDeadline",
           rating."ratingAverage", rating."ratingVotes",
           (SELECT count(*)::int FROM "AnnouncementViewer" v WHERE v."announcementId" = p.id) AS views
      FROM (SELECT a.id, c.slug AS "channelSlug", a."authorId", a.status::text AS status,
                   a.importance::text AS importance, a.type::text AS type, a.language::text AS language, a.title,
                   a.summary, a.body, a."affectedSystem", a."startsAt", a."endsAt", a."resolvesId",
                   a."audienceOrganisationIds", a."publishedAt", a."publishAt", a."expiresAt", a.revision,
                   a."editedAt", a."ackRequired", a."ackDeadline", a."pinnedAt"
              FROM "Announcement" a
              JOIN "Channel" c ON c.id = a."channelId"
             WHERE ${Prisma.join(conditions, ' AND ')}
             ORDER BY ${order}
             LIMIT ${options.take}) p
      LEFT JOIN "User" author ON author.id = p."authorId"
      CROSS JOIN LATERAL (SELECT avg(r.stars)::float8 AS "ratingAverage", count(*)::int AS "ratingVotes"
                            FROM "AnnouncementRating" r WHERE r."announcementId" = p.id) rating
     ORDER BY ${pageOrder}`,
  );
  return rows.map((row) => ({
    record: {
      id: row.id,
      channelSlug: row.channelSlug,
      authorName: row.authorName,
      status: row.status,
      importance: row.importance,
      type: row.type,
      versions: versionsOf(row, row.translations ?? []),
      affectedSystem: row.affectedSystem,
      startsAt: row.startsAt,
      endsAt: row.endsAt,
      resolvesId: row.resolvesId,
      resolvedById: row.resolvedById,
      audience: audienceOf(row.audienceOrganisationIds, row.organisations ?? []),
      publishedAt: row.publishedAt,
      publishAt: row.publishAt,
      expiresAt: row.expiresAt,
      revision: row.revision,
      editedAt: row.editedAt,
      ackRequired: row.ackRequired,
      ackDeadline: row.ackDeadline,
      attachments: row.attachments ?? [],
    },
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

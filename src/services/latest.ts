/**
 * The latest announcements a reader may read, across every channel they may read — the front page's list. The same
 * rules as every other listing (visibleAnnouncementSql: channel read scope, published, audience, not expired), the
 * same keyset order and cursor as a channel's listing (publishedAt desc, id desc), and the one loader of records
 * (announcementViewsOf), so an item reads here exactly as on its channel's page.
 */
import { visibleAnnouncementSql } from '../db/announcement-scope-sql.js';
import type { Db } from '../db/prisma.js';
import { decodeAnnouncementCursor, encodeAnnouncementCursor } from '../domain/cursor.js';
import type { Actor, Language } from '../domain/types.js';
import { Prisma } from '../generated/prisma/client.js';
import type { Page, PageRequest } from './channels.js';
import { type AnnouncementView, announcementViewsOf } from './views.js';

/** An announcement in a list that spans channels: the announcement, and the title of the channel it is in. */
export interface ChannelledAnnouncement {
  announcement: AnnouncementView;
  channelTitle: string;
}

export interface LatestRequest extends PageRequest {
  /** The reader's language (null: each announcement's original). */
  readerLanguage?: Language | null;
}

/**
 * Published announcements `actor` may see in any channel it may read, newest first, one keyset page at a time.
 * Expired ones are left out (they stay in their channel's archive and in search).
 */
export async function listLatestAnnouncements(
  deps: { db: Db; publicUrl: string },
  actor: Actor,
  request: LatestRequest,
): Promise<Page<ChannelledAnnouncement>> {
  const after = request.cursor === undefined ? undefined : decodeAnnouncementCursor(request.cursor);
  const now = new Date();
  // The row comparison is the channel listing's keyset (src/db/reading.ts), so a deep page costs what the first does.
  const afterCursor = after
    ? Prisma.sql`AND (a."publishedAt", a.id) < (${after.publishedAt}::timestamptz, ${after.id}::uuid)`
    : Prisma.empty;
  const rows = await deps.db.$queryRaw<{ id: string; publishedAt: Date; channelTitle: string }[]>`
    SELECT a.id, a."publishedAt", c.title AS "channelTitle"
    FROM "Announcement" a
    JOIN "Channel" c ON c.id = a."channelId"
    WHERE ${visibleAnnouncementSql(actor, 'a', 'c', { now, includeExpired: false })}
      AND a."publishedAt" <= ${now}::timestamptz ${afterCursor}
    ORDER BY a."publishedAt" DESC, a.id DESC
    LIMIT ${request.limit + 1}`;
  const items = rows.slice(0, request.limit);
  const titles = new Map(items.map((row) => [row.id, row.channelTitle]));
  const views = await announcementViewsOf(
    deps.db,
    items.map((row) => row.id),
    { publicUrl: deps.publicUrl, language: request.readerLanguage ?? null, now },
  );
  const last = items.at(-1);
  return {
    items: views.map((announcement) => ({ announcement, channelTitle: titles.get(announcement.id) ?? '' })),
    nextCursor:
      rows.length > request.limit && last
        ? encodeAnnouncementCursor({ publishedAt: last.publishedAt, id: last.id })
        : null,
  };
}

/**
 * The titles of channels by slug, for lists that span channels (the personal feed); channels that are gone are left
 * out. One query for the whole list.
 */
export async function channelTitlesOf(db: Db, slugs: readonly string[]): Promise<Map<string, string>> {
  if (slugs.length === 0) return new Map();
  const rows = await db.channel.findMany({
    where: { slug: { in: [...new Set(slugs)] } },
    select: { slug: true, title: true },
  });
  return new Map(rows.map((row) => [row.slug, row.title]));
}

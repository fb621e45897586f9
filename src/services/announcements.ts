/**
 * Reading announcements: a channel's published feed (newest first) and one announcement. Publishing lives in
 * publish.ts (it writes the outbox event in the same transaction).
 */
import { findChannelBySlug } from '../db/channels.js';
import type { Db } from '../db/prisma.js';
import type { FeedRow } from '../db/reading.js';
import { canReadChannel } from '../domain/access.js';
import { decodeAnnouncementCursor, encodeAnnouncementCursor } from '../domain/cursor.js';
import { notFound } from '../domain/errors.js';
import type { Actor, Language } from '../domain/types.js';
import { Prisma } from '../generated/prisma/client.js';
import { loadAnnouncementToRead } from './announcement-access.js';
import type { Page, PageRequest } from './channels.js';
import { MAX_PINNED_PER_CHANNEL, pinnedAtSql } from './pin.js';
import { type AnnouncementView, announcementView, announcementViewsOf } from './views.js';

/**
 * Published announcements of one channel, newest first (publishedAt desc, id desc: the id orders announcements
 * published in the same millisecond), one keyset page at a time.
 *
 * Pinned announcements (src/services/pin.ts; at most MAX_PINNED_PER_CHANNEL) come on top of the FIRST page, most
 * recently pinned first, in addition to its `limit` items and marked `pinned: true`; the keyset pages leave them out,
 * so no page shows an item twice and the cursor walks the unpinned ones only. A pin that starts or ends while a
 * client pages can move an item between the two lists: then it may be seen twice or not at all, as with any edit.
 */
export async function listChannelAnnouncements(
  deps: { db: Db; publicUrl: string },
  actor: Actor,
  channelSlug: string,
  page: PageRequest,
): Promise<Page<AnnouncementView>> {
  const after = page.cursor === undefined ? undefined : decodeAnnouncementCursor(page.cursor);
  const channel = await findChannelBySlug(deps.db, channelSlug, actor);
  if (!channel || !canReadChannel(actor, channel)) throw notFound('Channel');

  // A row-value comparison, not `publishedAt < $p OR (publishedAt = $p AND id < $i)`: PostgreSQL turns the row
  // comparison into an index range on (channelId, publishedAt DESC, id DESC), so a deep page costs what the first
  // one does; the OR form would scan and filter every row before the cursor.
  const take = page.limit + 1;
  const now = new Date();
  const notPinned = Prisma.sql`NOT ${pinnedAtSql(now)}`;
  const pinned = after
    ? []
    : await deps.db.$queryRaw<FeedRow[]>`
        SELECT a.id, a.title, a.body, a.importance::text AS importance, a.status::text AS status, a."publishedAt",
               u."displayName" AS "authorName"
        FROM "Announcement" a
        LEFT JOIN "User" u ON u.id = a."authorId"
        WHERE a."channelId" = ${channel.id}::uuid AND a.status = 'published' AND a."publishedAt" IS NOT NULL
          AND ${pinnedAtSql(now)}
        ORDER BY a."pinnedAt" DESC, a.id DESC
        LIMIT ${MAX_PINNED_PER_CHANNEL}`;
  const rows = after
    ? await deps.db.$queryRaw<FeedRow[]>`
        SELECT a.id, a.title, a.body, a.importance::text AS importance, a.status::text AS status, a."publishedAt",
               u."displayName" AS "authorName"
        FROM "Announcement" a
        LEFT JOIN "User" u ON u.id = a."authorId"
        WHERE a."channelId" = ${channel.id}::uuid AND a.status = 'published' AND a."publishedAt" IS NOT NULL
          AND (a."publishedAt", a.id) < (${after.publishedAt}::timestamptz, ${after.id}::uuid) AND ${notPinned}
        ORDER BY a."publishedAt" DESC, a.id DESC
        LIMIT ${take}`
    : await deps.db.$queryRaw<FeedRow[]>`
        SELECT a.id, a.title, a.body, a.importance::text AS importance, a.status::text AS status, a."publishedAt",
               u."displayName" AS "authorName"
        FROM "Announcement" a
        LEFT JOIN "User" u ON u.id = a."authorId"
        WHERE a."channelId" = ${channel.id}::uuid AND a.status = 'published' AND a."publishedAt" IS NOT NULL
          AND ${notPinned}
        ORDER BY a."publishedAt" DESC, a.id DESC
        LIMIT ${take}`;

  const items = rows.slice(0, page.limit);
  const last = items.at(-1);
  const options = { publicUrl: deps.publicUrl, language: null };
  const [pinnedViews, itemViews] = await Promise.all([
    announcementViewsOf(
      deps.db,
      pinned.map((row) => row.id),
      options,
    ),
    announcementViewsOf(
      deps.db,
      items.map((row) => row.id),
      options,
    ),
  ]);
  return {
    items: [...pinnedViews.map((view) => ({ ...view, pinned: true })), ...itemViews],
    nextCursor:
      rows.length > page.limit && last
        ? encodeAnnouncementCursor({ publishedAt: last.publishedAt, id: last.id })
        : null,
  };
}

/**
 * One announcement the actor may see (canSeeAnnouncement: published and in its audience, or, for the channel's
 * editors, also a draft or scheduled one). Anything else answers like an id that does not exist.
 */
export async function getAnnouncement(
  deps: { db: Db; publicUrl: string },
  actor: Actor,
  id: string,
  language: Language | null = null,
): Promise<AnnouncementView> {
  const { record } = await loadAnnouncementToRead(deps.db, actor, id);
  return announcementView(record, { publicUrl: deps.publicUrl, language });
}

/**
 * Reading: the signed-in person's feed across their subscriptions, read state kept on the server (so it follows the
 * person across devices), unread counts, ratings and view counts.
 *
 * View counts count distinct readers, never who: a view is stored as an HMAC-SHA256 of the user id (viewerKey) under
 * a key derived from UNSUBSCRIBE_SECRET (the service's one server-side secret; see viewerKeyFor). Only signed-in
 * readers and API-token users are counted: an anonymous request carries nothing that tells one reader from another
 * without tracking them (cookies, addresses), which is what this deliberately does not do. Rotating the secret
 * makes earlier readers count again when they come back (acceptable for a popularity figure); in development without
 * the secret the key is per process (resolveUnsubscribeKey). The viewer key uses the CURRENT secret only, not the
 * rotation's previous ones (src/mail/signing-keys.ts): those exist so links already sitting in inboxes keep working,
 * and a view count has no such links — it is written and compared on our side, and trying old keys would only
 * make each view cost more lookups to save a one-time recount after a rotation.
 *
 * Read state and ratings name the account and are erased with it (foreign keys with ON DELETE CASCADE); viewer rows
 * hold no user id and stay, so a view count does not drop when an account is erased.
 */
import { createHmac } from 'node:crypto';
import { findChannelBySlug } from '../db/channels.js';
import type { Db } from '../db/prisma.js';
import { markAllRead, personalFeedRows, readingStats, unreadCounts } from '../db/reading.js';
import { canKeepReadingState } from '../domain/access.js';
import { decodeAnnouncementCursor, encodeAnnouncementCursor } from '../domain/cursor.js';
import { AppError, notFound } from '../domain/errors.js';
import type { Actor, Language } from '../domain/types.js';
import type { AnnounceReaderChange } from '../realtime/reader-changes.js';
import { withAcknowledgementState } from './acknowledgements.js';
import { loadAnnouncementToRead } from './announcement-access.js';
import {
  type ChannelListingRequest,
  getAnnouncement,
  type ListingFilterQuery,
  listChannelAnnouncements,
  resolveListingFilter,
} from './announcements.js';
import type { Page } from './channels.js';
import { type AnnouncementReadingStats, type AnnouncementView, announcementViewsOf } from './views.js';

/** An announcement in the personal feed: the announcement and whether the reader has read it. */
export type FeedItemView = AnnouncementView & { read: boolean };

export interface PersonalFeedQuery extends ListingFilterQuery {
  limit: number;
  cursor?: string;
  channel?: string;
  /** The reader's language (null: each announcement's original). */
  readerLanguage?: Language | null;
}

export interface UnreadCountsView {
  total: number;
  byChannel: { channel: string; unread: number }[];
}

type SignedIn = Extract<Actor, { kind: 'user' }>;

function signedIn(actor: Actor): SignedIn {
  if (actor.kind !== 'user') throw new AppError('unauthenticated', 'This needs a signed-in user');
  return actor;
}

/**
 * The caller's feed: published announcements of the channels they subscribe to and may still read, newest first,
 * one keyset page at a time, each with its read state and reading stats.
 */
export async function listPersonalFeed(
  deps: { db: Db; publicUrl: string },
  actor: Actor,
  query: PersonalFeedQuery,
): Promise<Page<FeedItemView>> {
  const user = signedIn(actor);
  const after = query.cursor === undefined ? undefined : decodeAnnouncementCursor(query.cursor);
  const filter = await resolveListingFilter(deps.db, query);
  const now = new Date();
  const rows = await personalFeedRows(deps.db, user, {
    filter,
    ...(query.channel ? { channelSlug: query.channel } : {}),
    ...(after ? { after } : {}),
    now,
    take: query.limit + 1,
  });
  const items = rows.slice(0, query.limit);
  const readById = new Map(items.map((row) => [row.id, row.read]));
  const views = await withReadingStats(
    deps.db,
    await announcementViewsOf(
      deps.db,
      items.map((row) => row.id),
      { publicUrl: deps.publicUrl, language: query.readerLanguage ?? null, now },
    ),
  );
  const last = items.at(-1);
  return {
    items: views.map((view) => ({ ...view, read: readById.get(view.id) ?? false })),
    nextCursor:
      rows.length > query.limit && last
        ? encodeAnnouncementCursor({ publishedAt: last.publishedAt, id: last.id })
        : null,
  };
}

/** Unread counts of the caller's feed (what it lists: visible and not expired), per channel and in total. */
export async function getUnreadCounts(deps: { db: Db }, actor: Actor): Promise<UnreadCountsView> {
  const user = signedIn(actor);
  const byChannel = await unreadCounts(deps.db, user, new Date());
  return { total: byChannel.reduce((sum, entry) => sum + entry.unread, 0), byChannel };
}

/**
 * A published announcement the actor may see (loadAnnouncementToRead: channel, audience) and keep reading state on
 * (a token needs scope `read`); anything else — a draft its editor may open included — answers like an id that does
 * not exist.
 */
async function readableAnnouncement(db: Db, actor: SignedIn, id: string): Promise<{ id: string; channel: string }> {
  const { record, channel } = await loadAnnouncementToRead(db, actor, id);
  if (record.status !== 'published' || !canKeepReadingState(actor, channel)) throw notFound('Announcement');
  return { id: record.id, channel: record.channelSlug };
}

/**
 * What the read-state use cases need. `announceReaderChange` tells the reader's other open live connections (other
 * tabs and devices) after a change is committed; best effort (src/realtime/reader-changes.ts).
 */
export interface ReadStateDeps {
  db: Db;
  announceReaderChange?: AnnounceReaderChange;
}

/** Marks one announcement read (idempotent: the first readAt stays). */
export async function markRead(deps: ReadStateDeps, actor: Actor, announcementId: string): Promise<void> {
  const user = signedIn(actor);
  const { id, channel } = await readableAnnouncement(deps.db, user, announcementId);
  const inserted = await deps.db.$executeRaw`
    INSERT INTO "AnnouncementRead" ("userId", "announcementId") VALUES (${user.userId}::uuid, ${id}::uuid)
    ON CONFLICT ("userId", "announcementId") DO NOTHING`;
  if (inserted > 0) {
    await deps.announceReaderChange?.({
      userId: user.userId,
      frame: { type: 'read.changed', read: true, announcementIds: [id], channel },
    });
  }
}

/** Marks one announcement unread (idempotent). */
export async function markUnread(deps: ReadStateDeps, actor: Actor, announcementId: string): Promise<void> {
  const user = signedIn(actor);
  const { id, channel } = await readableAnnouncement(deps.db, user, announcementId);
  const { count } = await deps.db.announcementRead.deleteMany({ where: { userId: user.userId, announcementId: id } });
  if (count > 0) {
    await deps.announceReaderChange?.({
      userId: user.userId,
      frame: { type: 'read.changed', read: false, announcementIds: [id], channel },
    });
  }
}

/**
 * Marks every announcement of the caller's feed read, or every announcement of one readable channel (subscribed or
 * not). Returns how many were newly marked.
 */
export async function markAllAsRead(
  deps: ReadStateDeps,
  actor: Actor,
  options: { channel?: string },
): Promise<{ marked: number }> {
  const user = signedIn(actor);
  let channel: { id: string; slug: string } | null = null;
  if (options.channel !== undefined) {
    const found = await findChannelBySlug(deps.db, options.channel, user);
    if (!found || !canKeepReadingState(user, found)) throw notFound('Channel');
    channel = { id: found.id, slug: found.slug };
  }
  const marked = await markAllRead(deps.db, user, channel?.id ?? null, new Date());
  if (marked > 0) {
    await deps.announceReaderChange?.({
      userId: user.userId,
      frame: channel
        ? { type: 'read.changed', read: true, all: true, channel: channel.slug }
        : { type: 'read.changed', read: true, all: true },
    });
  }
  return { marked };
}

/** The caller's vote and the announcement's rating after it. */
export interface MyRatingView {
  stars: number;
  rating: AnnouncementReadingStats['rating'];
}

/** Rates an announcement 1–5: one vote per reader, a second call changes it. */
export async function rateAnnouncement(
  deps: { db: Db },
  actor: Actor,
  announcementId: string,
  stars: number,
): Promise<MyRatingView> {
  const user = signedIn(actor);
  if (!Number.isInteger(stars) || stars < 1 || stars > 5) {
    throw new AppError('validation_failed', 'stars must be a whole number from 1 to 5', [{ field: 'stars' }]);
  }
  const { id } = await readableAnnouncement(deps.db, user, announcementId);
  await deps.db.announcementRating.upsert({
    where: { userId_announcementId: { userId: user.userId, announcementId: id } },
    create: { userId: user.userId, announcementId: id, stars },
    update: { stars },
  });
  const stats = await readingStats(deps.db, [id]);
  return { stars, rating: statsOf(stats, id).rating };
}

/** Withdraws the caller's vote; 404 when there was none. */
export async function withdrawRating(deps: { db: Db }, actor: Actor, announcementId: string): Promise<void> {
  const user = signedIn(actor);
  const { id } = await readableAnnouncement(deps.db, user, announcementId);
  const { count } = await deps.db.announcementRating.deleteMany({
    where: { userId: user.userId, announcementId: id },
  });
  if (count === 0) throw notFound('Rating');
}

/**
 * The key a viewer is stored under: HMAC-SHA256(userId) with a key derived from the server secret for this one
 * purpose (so the stored value is useless for forging unsubscribe links, and vice versa).
 */
export function viewerKeyFor(secret: string | Buffer, userId: string): string {
  const purposeKey = createHmac('sha256', secret).update('meldingskanal:announcement-viewer:v1').digest();
  return createHmac('sha256', purposeKey).update(userId).digest('base64url');
}

/**
 * Counts the actor as a reader of the announcement, once: signed-in and token users only (see the file comment).
 * Call it after the read was allowed.
 */
export async function recordView(
  deps: { db: Db; viewerSecret: string | Buffer },
  actor: Actor,
  announcementId: string,
): Promise<void> {
  if (actor.kind !== 'user') return;
  await deps.db.$executeRaw`
    INSERT INTO "AnnouncementViewer" ("announcementId", "viewerKey")
    VALUES (${announcementId}::uuid, ${viewerKeyFor(deps.viewerSecret, actor.userId)})
    ON CONFLICT ("announcementId", "viewerKey") DO NOTHING`;
}

/**
 * GET /announcements/{id}: the announcement as the actor may read it (getAnnouncement applies the rules), counted as
 * a view of theirs, with its rating and views (this view included).
 */
export async function readAnnouncement(
  deps: { db: Db; publicUrl: string; viewerSecret: string | Buffer },
  actor: Actor,
  id: string,
  language: Language | null = null,
): Promise<AnnouncementView> {
  const view = await getAnnouncement(deps, actor, id, language);
  await recordView(deps, actor, view.id);
  const [withStats] = await withReadingStats(deps.db, [view]);
  // `acknowledged` for a signed-in caller when it asks for acknowledgement (src/services/acknowledgements.ts).
  const [withAcknowledgement] = await withAcknowledgementState(deps.db, actor, [withStats ?? view]);
  return withAcknowledgement ?? withStats ?? view;
}

/**
 * A channel's feed page (listChannelAnnouncements) with each announcement's rating and views, which the listing
 * loads in the same statement as the page (src/db/reading.ts channelListingPage).
 */
export async function listChannelAnnouncementsWithStats(
  deps: { db: Db; publicUrl: string },
  actor: Actor,
  channelSlug: string,
  request: ChannelListingRequest,
): Promise<Page<AnnouncementView>> {
  return listChannelAnnouncements(deps, actor, channelSlug, request);
}

/** Adds rating and views to announcement views (one pair of grouped queries for the whole list, never one per item). */
export async function withReadingStats<T extends AnnouncementView>(db: Db, views: T[]): Promise<T[]> {
  const stats = await readingStats(
    db,
    views.map((view) => view.id),
  );
  return views.map((view) => ({ ...view, ...statsOf(stats, view.id) }));
}

function statsOf(
  stats: Map<string, { average: number | null; votes: number; views: number }>,
  id: string,
): AnnouncementReadingStats {
  const entry = stats.get(id) ?? { average: null, votes: 0, views: 0 };
  return { rating: { average: entry.average, votes: entry.votes }, views: entry.views };
}

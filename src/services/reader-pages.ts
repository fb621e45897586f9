/**
 * What the people-facing pages of a channel and of an announcement show (src/web/pages), composed from the use cases
 * the API uses — the same rules, loaders and views — plus the few facts about the viewer only a page needs (their
 * subscription to the channel, their own rating, whether they have read it). Everything the actor may not see
 * answers like something that does not exist, as in the API.
 */
import type { ChannelRecord } from '../db/channels.js';
import type { Db } from '../db/prisma.js';
import { nextTimedChange } from '../db/reading.js';
import { canSubscribe } from '../domain/access.js';
import { pickVersion } from '../domain/announcement.js';
import { isAppError } from '../domain/errors.js';
import type { Actor, Language } from '../domain/types.js';
import { loadAnnouncementToRead } from './announcement-access.js';
import { type ChannelListingRequest, listAnnouncementsIn, readableChannel } from './announcements.js';
import type { Page } from './channels.js';
import { listRevisions, type RevisionView } from './edit.js';
import { audienceScopeKey } from './newest-page.js';
import type { ReadCache } from './read-cache.js';
import { readAnnouncement } from './reading.js';
import { type AnnouncementView, type SubscriptionView, subscriptionView } from './views.js';

export interface ChannelPageData {
  channel: Pick<ChannelRecord, 'id' | 'slug' | 'title' | 'description' | 'visibility'>;
  /** Pinned ones on top of the first page (`pinned: true`), then newest first. */
  announcements: Page<AnnouncementView>;
  /**
   * For the newest page read through the read cache: the first moment the listing changes by itself (an
   * announcement's expiry or the end of a pin), null for none. Undefined otherwise (not looked up).
   */
  changesAt?: Date | null;
  /** Whether the actor may subscribe with an account (signed in, reads the channel). */
  canSubscribe: boolean;
  /** The actor's subscription to it, if signed in and subscribed. */
  subscription: SubscriptionView | null;
}

/**
 * A channel's page: the channel, a page of its listing (listChannelAnnouncements' rules, with rating and views), and
 * the actor's subscription.
 * @throws AppError not_found for a channel that does not exist or that the actor may not read (identical answers).
 */
export async function channelPage(
  deps: { db: Db; publicUrl: string; readCache?: ReadCache | undefined },
  actor: Actor,
  slug: string,
  request: ChannelListingRequest,
): Promise<ChannelPageData> {
  const channel = await readableChannel(deps, actor, slug);
  const [listing, subscription] = await Promise.all([
    isNewestPage(request)
      ? newestListing(deps, actor, channel, request)
      : listAnnouncementsIn(deps, actor, channel, request).then((page) => ({ page, changesAt: undefined })),
    actor.kind === 'user'
      ? deps.db.subscription.findUnique({
          where: { channelId_userId: { channelId: channel.id, userId: actor.userId } },
        })
      : null,
  ]);
  return {
    channel: {
      id: channel.id,
      slug: channel.slug,
      title: channel.title,
      description: channel.description,
      visibility: channel.visibility,
    },
    announcements: listing.page,
    ...(listing.changesAt !== undefined ? { changesAt: listing.changesAt } : {}),
    canSubscribe: canSubscribe(actor, channel),
    subscription: subscription ? subscriptionView(subscription, channel.slug) : null,
  };
}

/** The page everyone opens: the first one, not the archive, unfiltered (the page's only other inputs are these). */
function isNewestPage(request: ChannelListingRequest): boolean {
  return (
    request.cursor === undefined &&
    !request.archive &&
    [request.language, request.importance, request.type, request.organisation, request.from, request.to].every(
      (filter) => filter === undefined,
    )
  );
}

/**
 * The newest page of a channel's listing (listAnnouncementsIn, with reading stats), from the read cache: the listing
 * the JSON route keeps as bytes (src/services/newest-page.ts), kept here as the views the page's template renders,
 * under the same key parts — channel × audience scope × language × limit, the only things the listing depends on
 * besides the channel's own data — and with the same rules: dropped by the channel's change notifications, ended at
 * the channel's next expiry or pin end, nothing kept across a change that came during the reads. Without it a page
 * cost two statements (pinned and the page, with every body) where the JSON of the same items cost none.
 *
 * The cached page is shared by every request that hits it, so it is frozen (items included): templates only read.
 * Its end (`changesAt`) comes along, for what is made from it (the finished page, src/web/page-cache.ts).
 */
async function newestListing(
  deps: { db: Db; publicUrl: string; readCache?: ReadCache | undefined },
  actor: Actor,
  channel: ChannelRecord,
  request: ChannelListingRequest,
): Promise<NewestListing> {
  const cache = deps.readCache;
  if (!cache?.enabled) return { page: await listAnnouncementsIn(deps, actor, channel, request), changesAt: undefined };
  const key = `newest-views:${channel.id}:${audienceScopeKey(actor, channel.role)}:${request.readerLanguage ?? ''}:${request.limit}`;
  const cached = cache.get<NewestListing>(key);
  if (cached) return cached;
  const token = cache.begin();
  const [page, changesAt] = await Promise.all([
    listAnnouncementsIn(deps, actor, channel, request),
    nextTimedChange(deps.db, [channel.id], new Date()),
  ]);
  const frozen: Page<AnnouncementView> = Object.freeze({
    items: Object.freeze(page.items.map((item) => Object.freeze(item))) as AnnouncementView[],
    nextCursor: page.nextCursor,
  });
  const listing: NewestListing = Object.freeze({ page: frozen, changesAt });
  cache.store(token, key, listing, {
    // What the views hold, about as the JSON of them measures (strings dominate).
    bytes: JSON.stringify(frozen).length + 200,
    dependencies: [channel.id],
    validUntil: changesAt?.getTime() ?? null,
  });
  return listing;
}

interface NewestListing {
  page: Page<AnnouncementView>;
  /** See ChannelPageData.changesAt (undefined: not read through the cache). */
  changesAt: Date | null | undefined;
}

/** Another announcement this one links to (the incident a follow-up resolves, or the reverse), if the actor may see it. */
export interface LinkedAnnouncement {
  id: string;
  title: string;
}

export interface AnnouncementPageData {
  announcement: AnnouncementView & { acknowledged?: boolean };
  channel: { id: string; slug: string; title: string };
  /** Newest first; one entry (revision 1) until the first edit. */
  revisions: RevisionView[];
  /** The incident this follow-up resolves, when the actor may see it. */
  resolves: LinkedAnnouncement | null;
  /** This incident's "resolved" follow-up, when the actor may see it. */
  resolvedBy: LinkedAnnouncement | null;
  /** For a signed-in reader: their 1–5 vote, if any, and whether they have read it. */
  reader: { stars: number | null; read: boolean } | null;
  /**
   * When asked for (`withChangesAt`): the first moment what the page shows changes by itself — an expiry or the end of
   * a pin in its channel, where the incident and its follow-up live too — null for none.
   */
  changesAt?: Date | null;
}

/**
 * An announcement's page: the announcement in the reader's language (readAnnouncement: the rules of GET
 * /announcements/{id}, counted as a view of a signed-in reader), its channel, its revision history, the linked
 * incident or follow-up, and the reader's own rating and read state; with `withChangesAt`, when that changes by
 * itself (for a page kept as finished HTML, src/web/page-cache.ts; one statement more).
 * @throws AppError not_found as GET /announcements/{id} does.
 */
export async function announcementPage(
  deps: { db: Db; publicUrl: string; viewerSecret: string | Buffer },
  actor: Actor,
  id: string,
  language: Language | null,
  options: { withChangesAt?: boolean } = {},
): Promise<AnnouncementPageData> {
  const announcement = await readAnnouncement(deps, actor, id, language);
  const [channel, revisions, resolves, resolvedBy, reader] = await Promise.all([
    deps.db.channel.findUniqueOrThrow({
      where: { slug: announcement.channel },
      select: { id: true, slug: true, title: true },
    }),
    listRevisions(deps, actor, announcement.id, language),
    linked(deps.db, actor, announcement.resolves, language),
    linked(deps.db, actor, announcement.resolvedBy, language),
    actor.kind === 'user' ? readerState(deps.db, actor.userId, announcement.id) : null,
  ]);
  const data: AnnouncementPageData = {
    announcement,
    channel,
    revisions: revisions.items,
    resolves,
    resolvedBy,
    reader,
  };
  // A follow-up resolves an incident of its own channel (publish.ts assertResolvable): one channel covers all three.
  if (options.withChangesAt) data.changesAt = await nextTimedChange(deps.db, [channel.id], new Date());
  return data;
}

async function linked(
  db: Db,
  actor: Actor,
  id: string | null,
  language: Language | null,
): Promise<LinkedAnnouncement | null> {
  if (!id) return null;
  try {
    const { record } = await loadAnnouncementToRead(db, actor, id);
    return { id: record.id, title: pickVersion(record.versions, language).title };
  } catch (error) {
    // Out of the reader's audience (or gone): the page simply does not link it.
    if (isAppError(error) && error.code === 'not_found') return null;
    throw error;
  }
}

async function readerState(db: Db, userId: string, announcementId: string) {
  const [rating, read] = await Promise.all([
    db.announcementRating.findUnique({
      where: { userId_announcementId: { userId, announcementId } },
      select: { stars: true },
    }),
    db.announcementRead.findUnique({
      where: { userId_announcementId: { userId, announcementId } },
      select: { readAt: true },
    }),
  ]);
  return { stars: rating?.stars ?? null, read: read !== null };
}

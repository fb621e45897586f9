/**
 * What the publishers' pages read beyond the single use cases: the channels a person publishes in with their drafts,
 * scheduled and recent announcements (the publishing start page), the incidents a follow-up can resolve, and finding
 * a person to make publisher by their e-mail address or Feide id. Rules are src/domain/access.ts's: a channel is
 * listed when the actor may publish there (canPublish: owner or publisher; administrators every channel).
 */
import { type ChannelRecord, findChannelBySlug } from '../db/channels.js';
import type { Db } from '../db/prisma.js';
import { canManageChannel, canPublish, canReadChannel } from '../domain/access.js';
import { AppError, notFound } from '../domain/errors.js';
import type { Actor, ChannelRoleKind, ChannelVisibility, Language } from '../domain/types.js';
import { type AnnouncementView, announcementViewsOf } from './views.js';

/** Most drafts and scheduled announcements listed per channel, and recent publications. */
export const PUBLISHING_LIST_LIMIT = 20;
export const RECENT_PUBLISHED_LIMIT = 5;

export interface PublishingChannel {
  slug: string;
  title: string;
  visibility: ChannelVisibility;
  /** The actor's role there; null for an administrator without one. */
  role: ChannelRoleKind | null;
  /** Whether the actor may change its settings (owners, administrators). */
  canManage: boolean;
  /** Drafts and scheduled announcements, most recently created first. */
  unpublished: AnnouncementView[];
  /** The latest published ones. */
  recent: AnnouncementView[];
}

/**
 * The channels the actor may publish in, by title, each with its drafts, scheduled and latest published
 * announcements. Three queries whatever the number of channels.
 */
export async function listPublishingChannels(
  deps: { db: Db; publicUrl: string },
  actor: Actor,
  language: Language | null,
): Promise<PublishingChannel[]> {
  if (actor.kind !== 'user') return [];
  const rows = await deps.db.channel.findMany({
    where: actor.isAdmin ? {} : { roles: { some: { userId: actor.userId, role: { in: ['owner', 'publisher'] } } } },
    orderBy: [{ title: 'asc' }, { slug: 'asc' }],
    select: {
      id: true,
      slug: true,
      title: true,
      visibility: true,
      roles: { where: { userId: actor.userId }, select: { role: true } },
    },
  });
  const channels = rows
    .map((row) => ({ ...row, role: row.roles[0]?.role ?? null }))
    .filter((row) => canPublish(actor, row));
  if (channels.length === 0) return [];
  const channelIds = channels.map((channel) => channel.id);
  // Ranked per channel in SQL, so one busy channel cannot crowd the others out of a shared LIMIT.
  const ranked = await deps.db.$queryRaw<{ id: string; channelId: string; published: boolean }[]>`
    SELECT id::text AS id, "channelId"::text AS "channelId", published FROM (
      SELECT a.id, a."channelId", a.status = 'published' AS published,
             row_number() OVER (PARTITION BY a."channelId", a.status = 'published'
                                ORDER BY CASE WHEN a.status = 'published' THEN a."publishedAt" ELSE a."createdAt" END DESC,
                                         a.id DESC) AS n
        FROM "Announcement" a
       WHERE a."channelId" = ANY(${channelIds}::uuid[]) AND a.status IN ('draft', 'scheduled', 'published')
    ) ranked
     WHERE (published AND n <= ${RECENT_PUBLISHED_LIMIT}) OR (NOT published AND n <= ${PUBLISHING_LIST_LIMIT})
     ORDER BY n`;
  const views = await announcementViewsOf(
    deps.db,
    ranked.map((row) => row.id),
    { publicUrl: deps.publicUrl, language },
  );
  const byId = new Map(views.map((view) => [view.id, view]));
  return channels.map((channel) => {
    const mine = ranked.filter((row) => row.channelId === channel.id);
    const pick = (published: boolean) =>
      mine
        .filter((row) => row.published === published)
        .map((row) => byId.get(row.id))
        .filter((view): view is AnnouncementView => view !== undefined);
    return {
      slug: channel.slug,
      title: channel.title,
      visibility: channel.visibility,
      role: channel.role,
      canManage: canManageChannel(actor, channel),
      unpublished: pick(false),
      recent: pick(true),
    };
  });
}

/**
 * A channel the actor may publish in, for the editor of a new announcement: the answers publishAnnouncement gives
 * (not_found for a channel the actor may not read, as for one that does not exist; forbidden for one they may read
 * but not publish in), before a form is shown or its files are read.
 */
export async function channelToPublishIn(db: Db, actor: Actor, slug: string): Promise<ChannelRecord> {
  const channel = await findChannelBySlug(db, slug, actor);
  if (!channel || !canReadChannel(actor, channel)) throw notFound('Channel');
  if (!canPublish(actor, channel)) throw new AppError('forbidden', 'You may not publish in this channel');
  return channel;
}

export interface OpenIncident {
  id: string;
  title: string;
  publishedAt: Date | null;
}

/**
 * The published incidents of a channel that have no follow-up yet (of any state: publishAnnouncement refuses a second
 * one), newest first: what a new follow-up may resolve. The caller has checked that the actor may publish there.
 */
export async function listOpenIncidents(db: Db, channelSlug: string, limit = 50): Promise<OpenIncident[]> {
  return db.announcement.findMany({
    where: { channel: { slug: channelSlug }, type: 'incident', status: 'published', resolvedBy: null },
    orderBy: [{ publishedAt: 'desc' }, { id: 'desc' }],
    take: limit,
    select: { id: true, title: true, publishedAt: true },
  });
}

/**
 * The person with this e-mail address or Feide id (eduPersonPrincipalName, `ola@uio.no`), compared without regard to
 * case. Both look like addresses and often are the same; an address matching two different people is refused
 * rather than guessed.
 * @throws AppError validation_failed (field `person`) for something that is not an address; not_found when nobody
 *   has it.
 */
export async function findPersonByAddress(db: Db, raw: string): Promise<{ id: string; displayName: string }> {
  const value = raw.trim();
  if (value.length > 254 || !/^[^\s@]+@[^\s@]+$/.test(value)) {
    throw new AppError('validation_failed', 'Give an e-mail address or a Feide id (name@uio.no)', {
      field: 'person',
    });
  }
  const matches = await db.user.findMany({
    where: {
      OR: [
        { email: { equals: value, mode: 'insensitive' } },
        { principalName: { equals: value, mode: 'insensitive' } },
      ],
    },
    select: { id: true, displayName: true },
    take: 2,
  });
  if (matches.length === 0) {
    throw new AppError('not_found', `Nobody with e-mail address or Feide id ${value} has signed in yet`, {
      field: 'person',
    });
  }
  if (matches.length > 1) {
    throw new AppError('conflict', `${value} names more than one person; give the other of e-mail and Feide id`, {
      field: 'person',
    });
  }
  return matches[0]!;
}

/**
 * Feed models for the public channel feeds, the combined public feed and the personal feed (issue 4). This module
 * loads announcements and builds a format-neutral FeedModel; the pure renderers in src/feeds turn it into RSS, Atom or
 * JSON Feed, and the route answers 304 from the model's validators before rendering anything.
 *
 * Which channels a feed covers is decided here, with src/domain/access.ts:
 * - a channel feed and the combined feed: public channels only, read as anonymous (a feed URL is shared and cached);
 * - a personal feed: the channels its owner is subscribed to and may read at this moment, with the owner's current
 *   role and organisation, so losing a role removes the channel at the next fetch.
 *
 * Paging is keyset (publishedAt desc, id desc), the cursor the REST listing uses. A page covers published and
 * retracted announcements alike, so a page boundary is the same in every format: Atom shows the retracted ones as
 * RFC 6721 tombstones; RSS and JSON Feed, which cannot express them, leave them out.
 */
import { type AnnouncementRecord, loadAnnouncementRecords } from '../db/announcement-records.js';
import type { Db } from '../db/prisma.js';
import { canReadChannel } from '../domain/access.js';
import { type AnnouncementCursor, decodeAnnouncementCursor, encodeAnnouncementCursor } from '../domain/cursor.js';
import { notFound } from '../domain/errors.js';
import type { Importance, Language } from '../domain/types.js';
import { IMPORTANCE_LABELS } from '../feeds/categories.js';
import type { FeedEntry, FeedModel, RetractedEntry } from '../feeds/model.js';
import { Prisma } from '../generated/prisma/client.js';
import { feedTokenOwner } from './feed-tokens.js';
import { announcementView } from './views.js';

/** Entries per feed document. Readers poll the first page; older entries are a `next` link away. */
export const FEED_PAGE_SIZE = 50;

/** Every feed is in bokmål for now: announcements have one language version until language versions arrive. */
export const FEED_LANGUAGE: Language = 'nb';

/** The service's name as feeds show it (title of the combined and personal feeds, author of the combined feed). */
const SERVICE_NAME = 'Meldingskanal';

/** File extensions of the three formats, as they appear in feed URLs. */
export const FEED_FORMATS = ['rss', 'atom', 'json'] as const;
export type FeedFormat = (typeof FEED_FORMATS)[number];

export function isFeedFormat(value: string): value is FeedFormat {
  return (FEED_FORMATS as readonly string[]).includes(value);
}

interface FeedRow {
  id: string;
  title: string;
  body: string;
  importance: Importance;
  status: 'published' | 'retracted';
  publishedAt: Date;
  updatedAt: Date;
  /** Set when status is `retracted` (src/services/retract.ts). */
  retractedAt: Date | null;
  authorName: string | null;
  channelSlug: string;
}

/** What a feed covers and how it names itself; the path is the URL path without the extension. */
interface FeedSource {
  id: string;
  path: string;
  title: string;
  description: string;
  alternateUrl: string;
  authorName: string;
  channelIds: string[];
  /** When the channels themselves last changed (title, description): an empty feed still has a date. */
  channelsUpdated: Date;
}

export interface FeedRequest {
  format: FeedFormat;
  /** The `cursor` query parameter: the sort key of the previous page's last item. */
  cursor?: string;
}

async function loadRows(db: Db, channelIds: string[], after: AnnouncementCursor | undefined): Promise<FeedRow[]> {
  if (channelIds.length === 0) return [];
  // The row comparison uses the (channelId, publishedAt DESC, id DESC) index, as the REST listing does.
  const afterCursor = after
    ? Prisma.sql`AND (a."publishedAt", a.id) < (${after.publishedAt}::timestamptz, ${after.id}::uuid)`
    : Prisma.empty;
  return db.$queryRaw<FeedRow[]>`
    SELECT a.id, a.title, a.body, a.importance::text AS importance, a.status::text AS status, a."publishedAt",
           a."updatedAt", a."retractedAt", u."displayName" AS "authorName", c.slug AS "channelSlug"
    FROM "Announcement" a
    JOIN "Channel" c ON c.id = a."channelId"
    LEFT JOIN "User" u ON u.id = a."authorId"
    WHERE a."channelId" = ANY(${channelIds}::uuid[])
      AND a.status IN ('published', 'retracted') AND a."publishedAt" IS NOT NULL
      ${afterCursor}
    ORDER BY a."publishedAt" DESC, a.id DESC
    LIMIT ${FEED_PAGE_SIZE + 1}`;
}

function entryId(announcementId: string): string {
  return `urn:uuid:${announcementId}`;
}

function toEntry(record: AnnouncementRecord, publicUrl: string): FeedEntry {
  // The view renders and sanitises the body once, the same HTML REST and live frames carry.
  const view = announcementView(record, { publicUrl, language: FEED_LANGUAGE });
  return {
    id: entryId(record.id),
    title: view.title,
    summary: view.summary,
    contentHtml: view.bodyHtml,
    url: view.url,
    published: record.publishedAt ?? record.createdAt,
    updated: record.updatedAt,
    authorName: record.authorName,
    // Type categories follow when announcements carry a type; importance is known today.
    categories: [
      {
        scheme: `${publicUrl}/feeds/categories/importance`,
        term: record.importance,
        label: IMPORTANCE_LABELS[record.importance][FEED_LANGUAGE],
      },
    ],
    enclosures: [],
  };
}

function toTombstone(row: FeedRow): RetractedEntry {
  // Rows retracted before retractedAt existed have none: their last change was the retraction.
  return { id: entryId(row.id), when: row.retractedAt ?? row.updatedAt };
}

async function buildModel(
  deps: { db: Db; publicUrl: string },
  source: FeedSource,
  request: FeedRequest,
): Promise<FeedModel> {
  const after = request.cursor === undefined ? undefined : decodeAnnouncementCursor(request.cursor);
  const rows = await loadRows(deps.db, source.channelIds, after);
  const page = rows.slice(0, FEED_PAGE_SIZE);
  const last = page.at(-1);
  const documentUrl = `${deps.publicUrl}${source.path}.${request.format}`;
  const withCursor = (cursor: string) => `${documentUrl}?cursor=${encodeURIComponent(cursor)}`;
  const next =
    rows.length > FEED_PAGE_SIZE && last
      ? withCursor(encodeAnnouncementCursor({ publishedAt: last.publishedAt, id: last.id }))
      : null;

  const records = await loadAnnouncementRecords(
    deps.db,
    page.filter((row) => row.status === 'published').map((row) => row.id),
  );
  const entries = records.map((record) => toEntry(record, deps.publicUrl));
  const retracted = page.filter((row) => row.status === 'retracted').map(toTombstone);
  let updated = source.channelsUpdated.getTime();
  for (const row of page) updated = Math.max(updated, row.updatedAt.getTime());

  return {
    id: source.id,
    selfUrl: request.cursor === undefined ? documentUrl : withCursor(request.cursor),
    alternateUrl: source.alternateUrl,
    title: source.title,
    description: source.description,
    language: FEED_LANGUAGE,
    updated: new Date(updated),
    author: { name: source.authorName, url: deps.publicUrl },
    entries,
    retracted,
    // RFC 5005 "previous" would need a reverse keyset query; readers page forward from `first`, which suffices.
    paging: { first: documentUrl, next },
  };
}

function latest(dates: Date[]): Date {
  return new Date(Math.max(0, ...dates.map((date) => date.getTime())));
}

/**
 * The feed of one public channel. Internal and restricted channels answer exactly like a channel that does not
 * exist: a feed URL is anonymous.
 */
export async function publicChannelFeed(
  deps: { db: Db; publicUrl: string },
  slug: string,
  request: FeedRequest,
): Promise<FeedModel> {
  const channel = await deps.db.channel.findUnique({ where: { slug } });
  if (!channel || !canReadChannel({ kind: 'anonymous' }, { visibility: channel.visibility, role: null })) {
    throw notFound('Channel');
  }
  return buildModel(
    deps,
    {
      // The channel's id, not its slug: the feed keeps its identity if the channel is renamed.
      id: `urn:uuid:${channel.id}`,
      path: `/feeds/channels/${channel.slug}`,
      title: channel.title,
      description: channel.description,
      alternateUrl: `${deps.publicUrl}/api/v1/channels/${channel.slug}`,
      authorName: channel.title,
      channelIds: [channel.id],
      channelsUpdated: channel.updatedAt,
    },
    request,
  );
}

/** Every public channel in one feed. */
export async function combinedPublicFeed(
  deps: { db: Db; publicUrl: string },
  request: FeedRequest,
): Promise<FeedModel> {
  const channels = await deps.db.channel.findMany({
    where: { visibility: 'public' },
    select: { id: true, updatedAt: true },
  });
  return buildModel(
    deps,
    {
      id: `${deps.publicUrl}/feeds/public`,
      path: '/feeds/public',
      title: `${SERVICE_NAME} – offentlige kanaler`,
      description: 'Kunngjøringer fra alle offentlige kanaler',
      alternateUrl: `${deps.publicUrl}/`,
      authorName: SERVICE_NAME,
      channelIds: channels.map((channel) => channel.id),
      channelsUpdated: latest(channels.map((channel) => channel.updatedAt)),
    },
    request,
  );
}

/**
 * The personal feed behind a secret: the channels its owner subscribes to and may read now. An unknown, malformed
 * or revoked secret answers 404, like any URL that does not exist.
 */
export async function personalFeed(
  deps: { db: Db; publicUrl: string },
  secret: string,
  request: FeedRequest,
): Promise<FeedModel> {
  const owner = await feedTokenOwner(deps.db, secret);
  if (!owner) throw notFound('Feed');
  const subscriptions = await deps.db.subscription.findMany({
    where: { userId: owner.actor.userId },
    select: {
      channel: {
        select: {
          id: true,
          visibility: true,
          updatedAt: true,
          roles: { where: { userId: owner.actor.userId }, select: { role: true } },
        },
      },
    },
  });
  const readable = subscriptions
    .map((subscription) => subscription.channel)
    .filter((channel) =>
      canReadChannel(owner.actor, { visibility: channel.visibility, role: channel.roles[0]?.role ?? null }),
    );
  return buildModel(
    deps,
    {
      id: `urn:uuid:${owner.tokenId}`,
      path: `/feeds/me/${secret}`,
      title: `${SERVICE_NAME} – mine kanaler`,
      description: 'Kunngjøringer fra kanalene du abonnerer på',
      alternateUrl: `${deps.publicUrl}/`,
      authorName: SERVICE_NAME,
      channelIds: readable.map((channel) => channel.id),
      channelsUpdated: latest(readable.map((channel) => channel.updatedAt)),
    },
    request,
  );
}

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
 * Which announcements: those the feed's reader may see (canSeeAnnouncement in SQL: audience included — anonymous
 * readers of a public feed get only the announcements for every organisation; a personal feed's owner those for
 * their organisation too), published and not expired (expired ones stay in the channel archive, not in feeds).
 *
 * Language: a feed is in one language (`?lang=`, else the personal feed owner's preferred language, else bokmål);
 * each entry is that language's version after pickVersion's fallback, and says so (xml:lang, JSON Feed `language`)
 * when the fallback gave another.
 *
 * Paging is keyset (publishedAt desc, id desc), the cursor the REST listing uses. A page covers published and
 * retracted announcements alike, so a page boundary is the same in every format: Atom shows the retracted ones as
 * RFC 6721 tombstones; RSS and JSON Feed, which cannot express them, leave them out.
 */
import { type AnnouncementRecord, loadAnnouncementRecords } from '../db/announcement-records.js';
import { audienceScopeSql, notExpiredSql } from '../db/announcement-scope-sql.js';
import type { Db } from '../db/prisma.js';
import { ALL_CHANNELS } from '../db/read-notifications.js';
import { channelReadScopeSql } from '../db/read-scope-sql.js';
import { nextTimedChange } from '../db/reading.js';
import { canReadChannel, channelReadScope } from '../domain/access.js';
import { audienceScope } from '../domain/announcement.js';
import { type AnnouncementCursor, decodeAnnouncementCursor, encodeAnnouncementCursor } from '../domain/cursor.js';
import { notFound } from '../domain/errors.js';
import type { Actor, Language } from '../domain/types.js';
import { announcementCategories } from '../feeds/categories.js';
import { feedEtag, lastModified } from '../feeds/conditional.js';
import type { FeedEntry, FeedModel, RetractedEntry } from '../feeds/model.js';
import { Prisma } from '../generated/prisma/client.js';
import { readableChannel } from './announcements.js';
import { feedTokenOwner } from './feed-tokens.js';
import type { ReadCache } from './read-cache.js';
import { announcementView } from './views.js';

/** Entries per feed document. Readers poll the first page; older entries are a `next` link away. */
export const FEED_PAGE_SIZE = 50;

/** A feed's language when neither `?lang=` nor the personal feed's owner says another. */
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
  status: 'published' | 'retracted';
  publishedAt: Date;
  updatedAt: Date;
  /** Set when status is `retracted` (src/services/retract.ts). */
  retractedAt: Date | null;
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
  /** Who reads it: anonymous for public feeds, the owner for a personal feed (audience follows). */
  reader: Actor;
  language: Language;
}

export interface FeedRequest {
  format: FeedFormat;
  /** The `cursor` query parameter: the sort key of the previous page's last item. */
  cursor?: string;
  /** The `lang` query parameter. */
  language?: Language;
}

/**
 * What the reader may see in these channels, as SQL over `a` and `c`: channel read scope and audience, and either
 * published and not expired at `now`, or retracted (a tombstone; retracted ones were published once, for this
 * audience, so the reader saw it and should learn it is gone).
 */
function feedScopeSql(reader: Actor, channelIds: string[], now: Date): Prisma.Sql {
  return Prisma.sql`a."channelId" = ANY(${channelIds}::uuid[])
      AND ${channelReadScopeSql(channelReadScope(reader), 'c')}
      AND ${audienceScopeSql(audienceScope(reader), 'a', 'c')}
      AND a."publishedAt" IS NOT NULL
      AND ((a.status = 'published' AND ${notExpiredSql('a', now)}) OR a.status = 'retracted')`;
}

async function loadRows(
  db: Db,
  source: FeedSource,
  after: AnnouncementCursor | undefined,
  now: Date,
): Promise<FeedRow[]> {
  if (source.channelIds.length === 0) return [];
  // The row comparison uses the (channelId, publishedAt DESC, id DESC) index, as the REST listing does.
  const afterCursor = after
    ? Prisma.sql`AND (a."publishedAt", a.id) < (${after.publishedAt}::timestamptz, ${after.id}::uuid)`
    : Prisma.empty;
  return db.$queryRaw<FeedRow[]>`
    SELECT a.id, a.status::text AS status, a."publishedAt", a."updatedAt", a."retractedAt"
    FROM "Announcement" a
    JOIN "Channel" c ON c.id = a."channelId"
    WHERE ${feedScopeSql(source.reader, source.channelIds, now)}
      ${afterCursor}
    ORDER BY a."publishedAt" DESC, a.id DESC
    LIMIT ${FEED_PAGE_SIZE + 1}`;
}

/**
 * When an announcement last left the feed by expiring (the latest expiresAt up to now): the feed changed then, though
 * no row did, so Last-Modified must not stay before it (a reader asking If-Modified-Since would otherwise keep the
 * expired entry).
 */
async function lastExpiry(db: Db, source: FeedSource, now: Date): Promise<Date | null> {
  if (source.channelIds.length === 0) return null;
  const [row] = await db.$queryRaw<{ at: Date | null }[]>`
    SELECT max(a."expiresAt") AS at
    FROM "Announcement" a
    JOIN "Channel" c ON c.id = a."channelId"
    WHERE a."channelId" = ANY(${source.channelIds}::uuid[])
      AND ${channelReadScopeSql(channelReadScope(source.reader), 'c')}
      AND ${audienceScopeSql(audienceScope(source.reader), 'a', 'c')}
      AND a.status = 'published' AND a."expiresAt" <= ${now}::timestamptz`;
  return row?.at ?? null;
}

function entryId(announcementId: string): string {
  return `urn:uuid:${announcementId}`;
}

function toEntry(record: AnnouncementRecord, publicUrl: string, language: Language, now: Date): FeedEntry {
  // The view picks the language version and renders and sanitises the body once: the same HTML REST and live frames
  // carry.
  const view = announcementView(record, { publicUrl, language, now });
  return {
    id: entryId(record.id),
    title: view.title,
    summary: view.summary,
    contentHtml: view.bodyHtml,
    url: view.url,
    published: record.publishedAt ?? record.createdAt,
    updated: record.updatedAt,
    authorName: record.authorName,
    // The version's own language, which the renderers state only where it differs from the feed's.
    language: view.language,
    // Labels in the feed's language: they belong to the feed, not to the entry's version.
    categories: announcementCategories({
      importance: record.importance,
      type: record.type,
      language,
      schemeBase: `${publicUrl}/feeds/categories/`,
    }),
    enclosures: view.attachments.map((attachment) => ({
      url: attachment.url,
      type: attachment.contentType,
      length: attachment.size,
      title: attachment.filename,
    })),
    expires: record.expiresAt,
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
  const now = new Date();
  const [rows, expired] = await Promise.all([loadRows(deps.db, source, after, now), lastExpiry(deps.db, source, now)]);
  const page = rows.slice(0, FEED_PAGE_SIZE);
  const last = page.at(-1);
  // A language asked for in the URL stays in every link of the document (self, first, next).
  const languageQuery = request.language ? `?lang=${request.language}` : '';
  const documentUrl = `${deps.publicUrl}${source.path}.${request.format}${languageQuery}`;
  const withCursor = (cursor: string) =>
    `${documentUrl}${request.language ? '&' : '?'}cursor=${encodeURIComponent(cursor)}`;
  const next =
    rows.length > FEED_PAGE_SIZE && last
      ? withCursor(encodeAnnouncementCursor({ publishedAt: last.publishedAt, id: last.id }))
      : null;

  const records = await loadAnnouncementRecords(
    deps.db,
    page.filter((row) => row.status === 'published').map((row) => row.id),
  );
  const entries = records.map((record) => toEntry(record, deps.publicUrl, source.language, now));
  const retracted = page.filter((row) => row.status === 'retracted').map(toTombstone);
  let updated = Math.max(source.channelsUpdated.getTime(), expired?.getTime() ?? 0);
  for (const row of page) updated = Math.max(updated, row.updatedAt.getTime());

  return {
    id: source.id,
    selfUrl: request.cursor === undefined ? documentUrl : withCursor(request.cursor),
    alternateUrl: source.alternateUrl,
    title: source.title,
    description: source.description,
    language: source.language,
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
  deps: { db: Db; publicUrl: string; readCache?: ReadCache | undefined },
  slug: string,
  request: FeedRequest,
): Promise<FeedModel> {
  return buildModel(deps, await publicChannelSource(deps, slug, request), request);
}

async function publicChannelSource(
  deps: { db: Db; publicUrl: string; readCache?: ReadCache | undefined },
  slug: string,
  request: FeedRequest,
): Promise<FeedSource> {
  // The anonymous reader's view of the channel (cached); a channel it may not read is a 404 like a missing one.
  const channel = await readableChannel(deps, { kind: 'anonymous' }, slug);
  return {
    // The channel's id, not its slug: the feed keeps its identity if the channel is renamed.
    id: `urn:uuid:${channel.id}`,
    path: `/feeds/channels/${channel.slug}`,
    title: channel.title,
    description: channel.description,
    alternateUrl: `${deps.publicUrl}/api/v1/channels/${channel.slug}`,
    authorName: channel.title,
    channelIds: [channel.id],
    channelsUpdated: channel.updatedAt,
    reader: { kind: 'anonymous' },
    language: request.language ?? FEED_LANGUAGE,
  };
}

/** Every public channel in one feed. */
export async function combinedPublicFeed(
  deps: { db: Db; publicUrl: string },
  request: FeedRequest,
): Promise<FeedModel> {
  return buildModel(deps, await combinedPublicSource(deps, request), request);
}

async function combinedPublicSource(deps: { db: Db; publicUrl: string }, request: FeedRequest): Promise<FeedSource> {
  const channels = await deps.db.channel.findMany({
    where: { visibility: 'public' },
    select: { id: true, updatedAt: true },
  });
  return {
    id: `${deps.publicUrl}/feeds/public`,
    path: '/feeds/public',
    title: `${SERVICE_NAME} – offentlige kanaler`,
    description: 'Kunngjøringer fra alle offentlige kanaler',
    alternateUrl: `${deps.publicUrl}/`,
    authorName: SERVICE_NAME,
    channelIds: channels.map((channel) => channel.id),
    channelsUpdated: latest(channels.map((channel) => channel.updatedAt)),
    reader: { kind: 'anonymous' },
    language: request.language ?? FEED_LANGUAGE,
  };
}

/** A rendered feed document with its validators, as the route sends it. */
export interface FeedDocument {
  body: Buffer;
  /** Content-Type. */
  type: string;
  etag: string;
  /** An HTTP-date. */
  lastModified: string;
  language: Language;
}

/** Renders a model in a format (the route's renderers). */
export type FeedRenderer = (model: FeedModel) => { type: string; body: string };

/**
 * The first page of a public feed — one channel's (`{ slug }`) or the combined one (`'combined'`) — rendered, from
 * the read cache when it holds it (src/services/read-cache.ts: per feed, format and language; dropped when one of its
 * channels changes — any channel, for the combined feed, whose list of channels changes with them — and when its
 * next entry expires). Later pages (a cursor) are built each time.
 */
export async function publicFeedDocument(
  deps: { db: Db; publicUrl: string; readCache?: ReadCache | undefined },
  feed: { slug: string } | 'combined',
  request: FeedRequest,
  render: FeedRenderer,
): Promise<FeedDocument> {
  const cache = request.cursor === undefined ? deps.readCache : undefined;
  const key = `feed:${feed === 'combined' ? '*' : `channel:${feed.slug}`}:${request.format}:${request.language ?? ''}`;
  const cached = cache?.get<FeedDocument>(key);
  if (cached) return cached;

  const token = cache?.begin();
  const source =
    feed === 'combined'
      ? await combinedPublicSource(deps, request)
      : await publicChannelSource(deps, feed.slug, request);
  const now = new Date();
  const [model, changesAt] = await Promise.all([
    buildModel(deps, source, request),
    cache?.enabled ? nextTimedChange(deps.db, source.channelIds, now) : null,
  ]);
  const { type, body } = render(model);
  const document: FeedDocument = {
    body: Buffer.from(body),
    type,
    etag: feedEtag(model),
    lastModified: lastModified(model),
    language: model.language,
  };
  if (token) {
    cache!.store(token, key, document, {
      bytes: document.body.length + 300,
      dependencies: feed === 'combined' ? ALL_CHANNELS : source.channelIds,
      validUntil: changesAt?.getTime() ?? null,
    });
  }
  return document;
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
  const ownerLanguage = await deps.db.user.findUnique({
    where: { id: owner.actor.userId },
    select: { language: true },
  });
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
      reader: owner.actor,
      language: request.language ?? ownerLanguage?.language ?? FEED_LANGUAGE,
    },
    request,
  );
}

/**
 * Reading announcements: a channel's listing (newest first, filters, the archive) and one announcement, in the
 * reader's language, with the visibility rules of src/domain/announcement.ts; and a maintenance window's iCalendar
 * download. Publishing lives in publish.ts (it writes the outbox event in the same transaction).
 */
import { renderPlainText } from '../content/markdown.js';
import { type ChannelRecord, findChannelBySlug } from '../db/channels.js';
import type { Db } from '../db/prisma.js';
import { type AnnouncementFilter, channelListingPage, type ListedAnnouncement } from '../db/reading.js';
import { canReadChannel } from '../domain/access.js';
import { type AnnouncementType, pickVersion } from '../domain/announcement.js';
import { decodeAnnouncementCursor, encodeAnnouncementCursor } from '../domain/cursor.js';
import { AppError, notFound } from '../domain/errors.js';
import type { Actor, Importance, Language } from '../domain/types.js';
import { renderMaintenanceIcs } from '../feeds/ical.js';
import { Prisma } from '../generated/prisma/client.js';
import { loadAnnouncementToRead } from './announcement-access.js';
import type { Page, PageRequest } from './channels.js';
import { MAX_PINNED_PER_CHANNEL, pinnedAtSql } from './pin.js';
import type { ReadCache } from './read-cache.js';
import { type AnnouncementView, announcementUrl, announcementView } from './views.js';

/** Filters as a query string gives them (src/http/schemas/announcements.ts: ListingFilterProperties). */
export interface ListingFilterQuery {
  language?: Language;
  importance?: Importance;
  type?: AnnouncementType;
  /** An organisation code. */
  organisation?: string;
  /** ISO date-times; from inclusive, to exclusive. */
  from?: string;
  to?: string;
}

function parseInstant(value: string | undefined, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new AppError('validation_failed', `${name} must be an ISO 8601 date-time`, [{ field: name }]);
  }
  return date;
}

/**
 * The filter a listing query asks for: dates parsed (`from` must be before `to`), the organisation code looked up.
 * @throws AppError validation_failed for a date range that is empty and for an unknown organisation code.
 */
export async function resolveListingFilter(db: Db, query: ListingFilterQuery): Promise<AnnouncementFilter> {
  const from = parseInstant(query.from, 'from');
  const to = parseInstant(query.to, 'to');
  if (from && to && from >= to) {
    throw new AppError('validation_failed', '`from` must be before `to`', [{ field: 'from' }, { field: 'to' }]);
  }
  let organisationId: string | undefined;
  if (query.organisation !== undefined) {
    const organisation = await db.organisation.findUnique({
      where: { code: query.organisation },
      select: { id: true },
    });
    if (!organisation) {
      throw new AppError('validation_failed', `Unknown organisation code: ${query.organisation}`, [
        { field: 'organisation' },
      ]);
    }
    organisationId = organisation.id;
  }
  return {
    ...(query.language ? { language: query.language } : {}),
    ...(query.importance ? { importance: query.importance } : {}),
    ...(query.type ? { type: query.type } : {}),
    ...(organisationId ? { organisationId } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
  };
}

export interface ChannelListingRequest extends PageRequest, ListingFilterQuery {
  /** The archive: expired announcements too. */
  archive?: boolean;
  /** The reader's language (null: each announcement's original). */
  readerLanguage?: Language | null;
}

/**
 * Announcements of one channel the actor may see (published, in its audience — or any audience for the channel's
 * editors), newest first (publishedAt desc, id desc: the id orders announcements published in the same millisecond),
 * one keyset page at a time, filtered. Expired ones are left out unless `archive` (then marked `expired: true`).
 *
 * Pinned announcements (src/services/pin.ts; at most MAX_PINNED_PER_CHANNEL) that pass the same rules and filters
 * come on top of the FIRST page, most recently pinned first, in addition to its `limit` items and marked
 * `pinned: true`; the keyset pages leave them out, so no page shows an item twice and the cursor walks the unpinned
 * ones only. A pin that starts or ends while a client pages can move an item between the two lists: then it may be
 * seen twice or not at all, as with any edit.
 */
export async function listChannelAnnouncements(
  deps: { db: Db; publicUrl: string; readCache?: ReadCache | undefined },
  actor: Actor,
  channelSlug: string,
  request: ChannelListingRequest,
): Promise<Page<AnnouncementView>> {
  const after = request.cursor === undefined ? undefined : decodeAnnouncementCursor(request.cursor);
  const channel = await readableChannel(deps, actor, channelSlug);
  return listAnnouncementsIn(deps, actor, channel, request, after);
}

/**
 * The channel behind `slug` if `actor` may read it. Readers without an account share one view of a channel, so
 * theirs comes from the read cache when one is given (no query); signed-in readers' carry their role, read each time.
 * @throws AppError not_found when it does not exist or the actor may not read it (identical answers).
 */
export async function readableChannel(
  deps: { db: Db; readCache?: ReadCache | undefined },
  actor: Actor,
  slug: string,
): Promise<ChannelRecord> {
  let channel: ChannelRecord | null;
  if (actor.kind !== 'user' && deps.readCache) {
    const key = `channel:${slug}`;
    channel = deps.readCache.get<ChannelRecord>(key) ?? null;
    if (!channel) {
      const token = deps.readCache.begin();
      channel = await findChannelBySlug(deps.db, slug, actor);
      // Only channels that exist: a slug created later must be found at once.
      if (channel) deps.readCache.store(token, key, channel, { bytes: 512, dependencies: [channel.id] });
    }
  } else {
    channel = await findChannelBySlug(deps.db, slug, actor);
  }
  if (!channel || !canReadChannel(actor, channel)) throw notFound('Channel');
  return channel;
}

/** listChannelAnnouncements once the channel is known and readable. */
export async function listAnnouncementsIn(
  deps: { db: Db; publicUrl: string },
  actor: Actor,
  channel: ChannelRecord,
  request: ChannelListingRequest,
  after = request.cursor === undefined ? undefined : decodeAnnouncementCursor(request.cursor),
): Promise<Page<AnnouncementView>> {
  const filter = await resolveListingFilter(deps.db, request);

  const now = new Date();
  const common = { filter, includeExpired: request.archive === true, now };
  // Each part is one statement: ids, records and reading stats together (src/db/reading.ts channelListingPage).
  const [pinned, rows] = await Promise.all([
    after
      ? []
      : channelListingPage(deps.db, actor, channel.id, {
          ...common,
          extra: [pinnedAtSql(now)],
          orderBy: 'pinned',
          take: MAX_PINNED_PER_CHANNEL,
        }),
    channelListingPage(deps.db, actor, channel.id, {
      ...common,
      ...(after ? { after } : {}),
      extra: [Prisma.sql`NOT ${pinnedAtSql(now)}`],
      take: request.limit + 1,
    }),
  ]);

  const items = rows.slice(0, request.limit);
  const last = items.at(-1)?.record;
  const options = { publicUrl: deps.publicUrl, language: request.readerLanguage ?? null, now };
  const view = ({ record, stats }: ListedAnnouncement) => announcementView(record, { ...options, stats });
  return {
    items: [...pinned.map((listed) => ({ ...view(listed), pinned: true })), ...items.map(view)],
    nextCursor:
      rows.length > request.limit && last?.publishedAt
        ? encodeAnnouncementCursor({ publishedAt: last.publishedAt, id: last.id })
        : null,
  };
}

/**
 * One announcement the actor may see (canSeeAnnouncement: published and in its audience, or, for the channel's
 * editors, also a draft or scheduled one), expired or not (the archive keeps it), in the reader's language. Anything
 * else answers like an id that does not exist.
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

/** The organiser a calendar event names: the service's sender, from a MAIL_FROM such as `Name <address>`. */
export function calendarOrganiser(mailFrom: string): { name: string; address: string } {
  const match = /^\s*(?:"?([^"<]*?)"?\s*)?<([^<>\s]+@[^<>\s]+)>\s*$/.exec(mailFrom);
  const address = match?.[2] ?? mailFrom.trim();
  const name = match?.[1]?.trim() || 'Meldingskanal';
  return { name, address: `mailto:${address}` };
}

export interface AnnouncementCalendar {
  filename: string;
  language: Language;
  body: string;
}

/**
 * The iCalendar (.ics) of a maintenance window the actor may read, in the reader's language. Other types answer 404:
 * they have no window to put in a calendar. The event's UID is the announcement's, and SEQUENCE its revision, so a
 * calendar that imports it again after an edit replaces its copy.
 */
export async function announcementCalendar(
  deps: { db: Db; publicUrl: string; mailFrom: string },
  actor: Actor,
  id: string,
  language: Language | null,
  now = new Date(),
): Promise<AnnouncementCalendar> {
  const { record } = await loadAnnouncementToRead(deps.db, actor, id);
  if (record.type !== 'maintenance' || !record.startsAt || !record.endsAt || !record.affectedSystem) {
    throw notFound('Calendar');
  }
  const version = pickVersion(record.versions, language);
  const body = renderMaintenanceIcs({
    uid: `${record.id}@${new URL(deps.publicUrl).host}`,
    title: version.title,
    // Plain text (a calendar shows no HTML): the summary above the body as e-mails render it.
    description: [version.summary, renderPlainText(version.body)].filter((part) => part).join('\n\n'),
    start: record.startsAt,
    end: record.endsAt,
    url: announcementUrl(deps.publicUrl, record.id),
    system: record.affectedSystem,
    organiser: calendarOrganiser(deps.mailFrom),
    sequence: record.revision - 1,
    status: 'confirmed',
    language: version.language,
    stamp: now,
    lastModified: record.updatedAt,
  });
  return { filename: `maintenance-${record.id}.ics`, language: version.language, body };
}

/**
 * The channel directory: the channels a person may see (the same rule as GET /channels), each with its description,
 * how many owners and publishers it has (role titles and counts, never names), its subscriber count and its latest
 * announcement that person may see (published, in their audience, not expired), titled in their language. One SQL
 * statement per page, however many channels are on it.
 */
import { visibleAnnouncementSql } from '../db/announcement-scope-sql.js';
import type { Db } from '../db/prisma.js';
import { channelReadScopeSql } from '../db/read-scope-sql.js';
import { channelReadScope } from '../domain/access.js';
import { languagePreference } from '../domain/announcement.js';
import { decodeDirectoryCursor, encodeDirectoryCursor } from '../domain/cursor.js';
import { AppError } from '../domain/errors.js';
import type { Actor, ChannelVisibility, Language } from '../domain/types.js';
import { Prisma } from '../generated/prisma/client.js';
import type { Page, PageRequest } from './channels.js';

/** Longest accepted directory filter, in characters (also declared in the query schema). */
export const MAX_DIRECTORY_QUERY_LENGTH = 100;

export interface DirectoryEntry {
  slug: string;
  title: string;
  description: string;
  visibility: ChannelVisibility;
  /** The roles people hold in the channel, by title, with how many hold each. */
  roles: { owners: number; publishers: number };
  /** Signed-in subscribers plus confirmed e-mail subscribers. */
  subscriberCount: number;
  latestAnnouncement: { id: string; language: Language; title: string; publishedAt: string } | null;
}

export interface DirectoryRequest extends PageRequest {
  q?: string;
  /** The reader's language (null: the original). */
  readerLanguage?: Language | null;
}

interface DirectoryRow {
  slug: string;
  title: string;
  description: string;
  visibility: ChannelVisibility;
  owners: number;
  publishers: number;
  subscribers: number;
  latestId: string | null;
  latestLanguage: Language | null;
  latestTitle: string | null;
  latestPublishedAt: Date | null;
}

/** `%`, `_` and `\` taken literally in a LIKE pattern (PostgreSQL's default escape character is `\`). */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}

/**
 * Channels the actor may see, ordered by title (slug breaks ties), optionally filtered by `q`: a case- and
 * accent-insensitive substring of the title or description ("okonomi" finds "Økonomi"), because people browsing a
 * directory type the beginning of a name, which stemming would not match.
 */
export async function listDirectory(
  deps: { db: Db },
  actor: Actor,
  request: DirectoryRequest,
): Promise<Page<DirectoryEntry>> {
  const after = request.cursor === undefined ? undefined : decodeDirectoryCursor(request.cursor);
  const q = request.q?.trim();
  if (request.q !== undefined && !q) {
    throw new AppError('validation_failed', 'q must contain something to look for, or be left out', { field: 'q' });
  }
  if (q && q.length > MAX_DIRECTORY_QUERY_LENGTH) {
    throw new AppError('validation_failed', `q must be at most ${MAX_DIRECTORY_QUERY_LENGTH} characters`, {
      field: 'q',
    });
  }
  const readable = channelReadScopeSql(channelReadScope(actor), 'c');
  const matches = q
    ? Prisma.sql`AND (unaccent(c.title) ILIKE unaccent(${`%${escapeLike(q)}%`})
                   OR unaccent(c.description) ILIKE unaccent(${`%${escapeLike(q)}%`}))`
    : Prisma.empty;
  const afterCursor = after ? Prisma.sql`AND (c.title, c.slug) > (${after.title}, ${after.slug})` : Prisma.empty;
  const now = new Date();
  // pickVersion in SQL: the first of the preferred languages among the original and its translations, else the
  // original (array_position of a language not preferred is NULL, which sorts last).
  const preferred = request.readerLanguage ? languagePreference(request.readerLanguage) : [];

  // Counts as correlated subqueries and the latest announcement as a LATERAL join: each is evaluated for the page's
  // channels only (after LIMIT), so the statement's cost follows the page size, not the number of channels.
  const rows = await deps.db.$queryRaw<DirectoryRow[]>`
    SELECT page.slug, page.title, page.description, page.visibility,
           (SELECT count(*)::int FROM "ChannelRole" r WHERE r."channelId" = page.id AND r.role = 'owner') AS owners,
           (SELECT count(*)::int FROM "ChannelRole" r WHERE r."channelId" = page.id AND r.role = 'publisher') AS publishers,
           (SELECT count(*)::int FROM "Subscription" s
             WHERE s."channelId" = page.id AND (s."userId" IS NOT NULL OR s."confirmedAt" IS NOT NULL)) AS subscribers,
           latest.id AS "latestId", version.language AS "latestLanguage", version.title AS "latestTitle",
           latest."publishedAt" AS "latestPublishedAt"
    FROM (
      SELECT c.id, c.slug, c.title, c.description, c.visibility::text AS visibility
      FROM "Channel" c
      WHERE ${readable} ${matches} ${afterCursor}
      ORDER BY c.title, c.slug
      LIMIT ${request.limit + 1}
    ) page
    LEFT JOIN LATERAL (
      SELECT a.id, a.language, a.title, a."publishedAt" FROM "Announcement" a
      WHERE a."channelId" = page.id
        AND ${visibleAnnouncementSql(actor, 'a', 'page', { now, includeExpired: false })}
        AND a."publishedAt" <= now()
      ORDER BY a."publishedAt" DESC, a.id DESC
      LIMIT 1
    ) latest ON TRUE
    LEFT JOIN LATERAL (
      SELECT versions.language::text AS language, versions.title
      FROM (
        SELECT latest.language, latest.title, TRUE AS original
        UNION ALL
        SELECT t.language, t.title, FALSE FROM "AnnouncementTranslation" t
        WHERE t."announcementId" = latest.id AND t.language <> latest.language
      ) versions
      ORDER BY array_position(${preferred}::text[], versions.language::text), versions.original DESC
      LIMIT 1
    ) version ON latest.id IS NOT NULL
    ORDER BY page.title, page.slug`;

  const items = rows.slice(0, request.limit);
  const last = items.at(-1);
  return {
    items: items.map((row) => ({
      slug: row.slug,
      title: row.title,
      description: row.description,
      visibility: row.visibility,
      roles: { owners: row.owners, publishers: row.publishers },
      subscriberCount: row.subscribers,
      latestAnnouncement:
        row.latestId !== null &&
        row.latestLanguage !== null &&
        row.latestTitle !== null &&
        row.latestPublishedAt !== null
          ? {
              id: row.latestId,
              language: row.latestLanguage,
              title: row.latestTitle,
              publishedAt: row.latestPublishedAt.toISOString(),
            }
          : null,
    })),
    nextCursor:
      rows.length > request.limit && last ? encodeDirectoryCursor({ title: last.title, slug: last.slug }) : null,
  };
}

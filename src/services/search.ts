/**
 * Full-text search over the announcements a reader may see (canSeeAnnouncement in SQL: channel, published, audience;
 * expired ones included, since search is the archive), optionally of one type, importance or channel: PostgreSQL text search with a Norwegian and an English
 * configuration (each with unaccent before its stemmer; see the 20261126150100_search migration), over every language
 * version (the announcement's own text and its AnnouncementTranslation rows, indexed alike in
 * 20261126170000_announcements_full), ranked by its best-matching version, with highlighted snippets returned as
 * plain-text segments, in the reader's language where that version matches.
 *
 * Paging: a ranked list has no stable keyset (ranks change as announcements arrive), so a search answers at most
 * SEARCH_RESULT_CAP hits; within them the cursor is the (rank, id) of the last hit on the page, and the next page is
 * the capped list after it. No OFFSET: a page never repeats a hit the previous one showed, even if new ones arrive.
 */
import { visibleAnnouncementSql } from '../db/announcement-scope-sql.js';
import type { Db } from '../db/prisma.js';
import { type AnnouncementType, isExpired, type LanguageVersion, pickVersion } from '../domain/announcement.js';
import { decodeSearchCursor, encodeSearchCursor } from '../domain/cursor.js';
import { AppError } from '../domain/errors.js';
import { type Actor, type Importance, LANGUAGES, type Language } from '../domain/types.js';
import { Prisma } from '../generated/prisma/client.js';
import type { Page, PageRequest } from './channels.js';
import { announcementUrl } from './views.js';

/** The most hits one search answers, over all its pages. */
export const SEARCH_RESULT_CAP = 200;
/** Longest accepted query, in characters (also declared in the query schema). */
export const MAX_SEARCH_QUERY_LENGTH = 200;

/** One piece of a snippet: plain text (never HTML), and whether it matched the query (show it highlighted). */
export interface SnippetSegment {
  text: string;
  match: boolean;
}

export interface SearchHit {
  id: string;
  channel: { slug: string; title: string };
  /** The language of title and summary (the reader's, after pickVersion's fallback). */
  language: Language;
  title: string;
  summary: string | null;
  importance: Importance;
  type: AnnouncementType;
  publishedAt: string;
  /** Past expiresAt: search is the archive, so expired announcements are found too. */
  expired: boolean;
  url: string;
  /** A short extract of the body around the matches, as segments; the client inserts each as text. */
  snippet: SnippetSegment[];
  /** The language version the snippet comes from: `language` when that version matched, else one that did. */
  snippetLanguage: Language;
  /** Relevance, higher is better; comparable only within one search. */
  rank: number;
}

export interface SearchRequest extends PageRequest {
  q: string;
  /** Only announcements of this type. */
  type?: AnnouncementType;
  /** Only announcements of this importance. */
  importance?: Importance;
  /** Only announcements of this channel (a slug; one the actor may not read finds nothing, like one that is not). */
  channel?: string;
  /** The reader's language (null: each announcement's original). */
  readerLanguage?: Language | null;
}

/**
 * Highlight markers: two private-use characters, stripped from the body before ts_headline runs, so a marker in the
 * output can only be one ts_headline put there. The snippet is split on them, never parsed as HTML.
 */
const MATCH_START = '\uE000';
const MATCH_END = '\uE001';
const HEADLINE_OPTIONS =
  `StartSel=${MATCH_START}, StopSel=${MATCH_END}, MaxWords=30, MinWords=12, ShortWord=2, ` +
  'MaxFragments=2, FragmentDelimiter=" … "';

/**
 * Anything shaped like an HTML tag. The renderer strips raw HTML from bodies, so readers never see it; snippets drop it
 * too (ts_headline's own parser misses tags it cannot parse, such as unquoted attributes).
 */
const HTML_TAG_PATTERN = '<[A-Za-z/!?][^<>]*>';
/** A Markdown link or image, `[text](target)`: the snippet keeps the text and drops the target. */
const MARKDOWN_LINK_PATTERN = '!?\\[([^]]*)\\]\\([^)]*\\)';
/** Markdown punctuation that reads as noise in a one-line extract: emphasis, code, headings, tables, quotes. */
const MARKDOWN_MARKS = '*`~#|>';

/**
 * The weighted documents of a row with `title` and `body` (an announcement or a translation), written exactly as the
 * GIN index expressions of the migrations (the planner uses an expression index only for an identical expression).
 */
function norwegianDocument(alias: 'a' | 't' | 'v'): Prisma.Sql {
  const r = Prisma.raw(alias);
  return Prisma.sql`(setweight(to_tsvector('mk_norwegian'::regconfig, ${r}.title), 'A') || setweight(to_tsvector('mk_norwegian'::regconfig, ${r}.body), 'B'))`;
}
function englishDocument(alias: 'a' | 't' | 'v'): Prisma.Sql {
  const r = Prisma.raw(alias);
  return Prisma.sql`(setweight(to_tsvector('mk_english'::regconfig, ${r}.title), 'A') || setweight(to_tsvector('mk_english'::regconfig, ${r}.body), 'B'))`;
}
/** The announcement's own documents (`a`), and a translation's (`t`). */
export const NORWEGIAN_DOCUMENT = norwegianDocument('a');
export const ENGLISH_DOCUMENT = englishDocument('a');
export const TRANSLATION_NORWEGIAN_DOCUMENT = norwegianDocument('t');
export const TRANSLATION_ENGLISH_DOCUMENT = englishDocument('t');

/** One language version of a hit on the page (a hit has one row per version). */
interface HitRow {
  id: string;
  importance: Importance;
  type: AnnouncementType;
  publishedAt: Date;
  expiresAt: Date | null;
  channelSlug: string;
  channelTitle: string;
  /** The rank as PostgreSQL prints the `real`: what the cursor carries, so it compares equal on the next page. */
  rankText: string;
  language: Language;
  title: string;
  summary: string | null;
  original: boolean;
  /** Whether this version matched the query (its headline then highlights the matches). */
  matched: boolean;
  headline: string;
}

/** Validates and trims a search query; blank or overlong queries are refused with a clear error. */
export function normaliseSearchQuery(raw: string): string {
  const q = raw.trim();
  if (q.length === 0) {
    throw new AppError('validation_failed', 'q must contain something to search for', { field: 'q' });
  }
  if (q.length > MAX_SEARCH_QUERY_LENGTH) {
    throw new AppError('validation_failed', `q must be at most ${MAX_SEARCH_QUERY_LENGTH} characters`, { field: 'q' });
  }
  return q;
}

/**
 * Announcements the actor may see (published, in a readable channel, in its audience; expired ones too), best match
 * first, matched in every language version. One query: matching, ranking, capping, paging and snippets happen in the
 * database; the page comes back as one row per language version of each hit, and the reader's version is chosen here
 * with pickVersion, as everywhere else.
 */
export async function searchAnnouncements(
  deps: { db: Db; publicUrl: string },
  actor: Actor,
  request: SearchRequest,
): Promise<Page<SearchHit>> {
  const q = normaliseSearchQuery(request.q);
  const after = request.cursor === undefined ? undefined : decodeSearchCursor(request.cursor);
  const now = new Date();
  const visible = visibleAnnouncementSql(actor, 'a', 'c', { now, includeExpired: true });
  const filters = Prisma.join(
    [
      request.type ? Prisma.sql`AND a.type::text = ${request.type}` : Prisma.empty,
      request.importance ? Prisma.sql`AND a.importance::text = ${request.importance}` : Prisma.empty,
      request.channel ? Prisma.sql`AND c.slug = ${request.channel}` : Prisma.empty,
    ],
    ' ',
  );
  const afterCursor = after
    ? Prisma.sql`WHERE (capped.rank, capped.id) < (${after.rank}::real, ${after.id}::uuid)`
    : Prisma.empty;
  const cleanedBody = Prisma.sql`translate(
               regexp_replace(
                 regexp_replace(v.body, ${HTML_TAG_PATTERN}, ' ', 'g'),
                 ${MARKDOWN_LINK_PATTERN}, ${'\\1'}, 'g'
               ),
               ${MATCH_START + MATCH_END + MARKDOWN_MARKS}, ''
             )`;
  const versionMatchesNorwegian = Prisma.sql`${norwegianDocument('v')} @@ query.nb`;

  // websearch_to_tsquery accepts anything people type ("quoted phrases", or, -not) and never raises a syntax error.
  // Both configurations match and rank; a version's rank is the better of the two, so a word stemmed well by one
  // language is not diluted by the other, and a hit's rank is its best version's. Each branch of `matched` matches
  // through its own table's GIN indexes. ts_rank_cd weighs A (title) 1.0 and B (body) 0.4 by default.
  const rows = await deps.db.$queryRaw<HitRow[]>`
    WITH query AS (
      SELECT websearch_to_tsquery('mk_norwegian'::regconfig, ${q}) AS nb,
             websearch_to_tsquery('mk_english'::regconfig, ${q}) AS en
    ),
    matched AS (
      SELECT a.id,
             greatest(ts_rank_cd(${NORWEGIAN_DOCUMENT}, query.nb), ts_rank_cd(${ENGLISH_DOCUMENT}, query.en)) AS rank
      FROM "Announcement" a CROSS JOIN query
      WHERE ${NORWEGIAN_DOCUMENT} @@ query.nb OR ${ENGLISH_DOCUMENT} @@ query.en
      UNION ALL
      SELECT t."announcementId" AS id,
             greatest(ts_rank_cd(${TRANSLATION_NORWEGIAN_DOCUMENT}, query.nb),
                      ts_rank_cd(${TRANSLATION_ENGLISH_DOCUMENT}, query.en)) AS rank
      FROM "AnnouncementTranslation" t CROSS JOIN query
      WHERE ${TRANSLATION_NORWEGIAN_DOCUMENT} @@ query.nb OR ${TRANSLATION_ENGLISH_DOCUMENT} @@ query.en
    ),
    capped AS (
      SELECT a.id, max(matched.rank) AS rank
      FROM matched
      JOIN "Announcement" a ON a.id = matched.id
      JOIN "Channel" c ON c.id = a."channelId"
      WHERE ${visible} AND a."publishedAt" <= now() ${filters}
      GROUP BY a.id
      ORDER BY rank DESC, a.id DESC
      LIMIT ${SEARCH_RESULT_CAP}
    ),
    page AS (
      SELECT * FROM capped ${afterCursor} ORDER BY capped.rank DESC, capped.id DESC LIMIT ${request.limit + 1}
    ),
    versions AS (
      SELECT a.id, a.language, a.title, a.summary, a.body, TRUE AS original
      FROM page JOIN "Announcement" a ON a.id = page.id
      UNION ALL
      SELECT t."announcementId", t.language, t.title, t.summary, t.body, FALSE
      FROM page
      JOIN "Announcement" a ON a.id = page.id
      JOIN "AnnouncementTranslation" t ON t."announcementId" = page.id AND t.language <> a.language
    )
    SELECT page.id, a.importance::text AS importance, a.type::text AS type, a."publishedAt", a."expiresAt",
           c.slug AS "channelSlug", c.title AS "channelTitle", page.rank::text AS "rankText",
           v.language::text AS language, v.title, v.summary, v.original,
           (${versionMatchesNorwegian} OR ${englishDocument('v')} @@ query.en) AS matched,
           ts_headline(
             CASE WHEN ${versionMatchesNorwegian} THEN 'mk_norwegian'::regconfig ELSE 'mk_english'::regconfig END,
             ${cleanedBody},
             CASE WHEN ${versionMatchesNorwegian} THEN query.nb ELSE query.en END,
             ${HEADLINE_OPTIONS}
           ) AS headline
    FROM page
    JOIN versions v ON v.id = page.id
    JOIN "Announcement" a ON a.id = page.id
    JOIN "Channel" c ON c.id = a."channelId"
    CROSS JOIN query
    ORDER BY page.rank DESC, page.id DESC, v.original DESC, v.language`;

  const hits = groupHits(rows);
  const items = hits.slice(0, request.limit);
  const last = items.at(-1);
  const language = request.readerLanguage ?? null;
  return {
    items: items.map((versions) => toHit(versions, language, deps.publicUrl, now)),
    nextCursor:
      hits.length > request.limit && last ? encodeSearchCursor({ rank: last[0].rankText, id: last[0].id }) : null,
  };
}

/** Rows (one per version, ordered by hit) grouped into hits, each with its original first. */
function groupHits(rows: HitRow[]): [HitRow, ...HitRow[]][] {
  const hits: [HitRow, ...HitRow[]][] = [];
  for (const row of rows) {
    const current = hits.at(-1);
    if (current && current[0].id === row.id) current.push(row);
    else hits.push([row]);
  }
  for (const versions of hits) {
    const [original, ...translations] = versions;
    translations.sort((x, y) => LANGUAGES.indexOf(x.language) - LANGUAGES.indexOf(y.language));
    versions.splice(0, versions.length, original, ...translations);
  }
  return hits;
}

function toHit(versions: [HitRow, ...HitRow[]], language: Language | null, publicUrl: string, now: Date): SearchHit {
  const first = versions[0];
  const asVersions: LanguageVersion[] = versions.map((row) => ({
    language: row.language,
    title: row.title,
    summary: row.summary,
    body: '',
  }));
  const chosen = pickVersion(asVersions, language);
  const reader = versions.find((row) => row.language === chosen.language) ?? first;
  // The reader's version when it matched; else the first version that did (a match in another language).
  const snippetFrom = reader.matched ? reader : (versions.find((row) => row.matched) ?? reader);
  return {
    id: first.id,
    channel: { slug: first.channelSlug, title: first.channelTitle },
    language: reader.language,
    title: reader.title,
    summary: reader.summary,
    importance: first.importance,
    type: first.type,
    publishedAt: first.publishedAt.toISOString(),
    expired: isExpired(first, now),
    url: announcementUrl(publicUrl, first.id),
    snippet: snippetSegments(snippetFrom.headline),
    snippetLanguage: snippetFrom.language,
    rank: Number(first.rankText),
  };
}

/**
 * Splits ts_headline output at its markers into plain-text segments. Tag-shaped text, link targets and Markdown marks
 * are removed from the body before (see HTML_TAG_PATTERN), but the segments are text either way: a client inserts
 * them as text, never as markup.
 */
export function snippetSegments(headline: string): SnippetSegment[] {
  const segments: SnippetSegment[] = [];
  let rest = headline.replace(/\s+/g, ' ').trim();
  while (rest.length > 0) {
    const start = rest.indexOf(MATCH_START);
    if (start === -1) {
      pushSegment(segments, rest, false);
      break;
    }
    pushSegment(segments, rest.slice(0, start), false);
    const end = rest.indexOf(MATCH_END, start + 1);
    const matched = rest.slice(start + 1, end === -1 ? undefined : end);
    pushSegment(segments, matched, true);
    rest = end === -1 ? '' : rest.slice(end + 1);
  }
  return segments;
}

function pushSegment(segments: SnippetSegment[], text: string, match: boolean): void {
  const clean = text.replaceAll(MATCH_START, '').replaceAll(MATCH_END, '');
  if (clean.length === 0) return;
  const previous = segments.at(-1);
  // Adjacent matched words ("planlagt vedlikehold") come back as separate selections; one segment reads better.
  if (previous && previous.match === match) previous.text += clean;
  else segments.push({ text: clean, match });
}

/**
 * Full-text search over the announcements a reader may see: PostgreSQL text search with a Norwegian and an English
 * configuration (each with unaccent before its stemmer; see the 20261126150100_search migration), ranked, with
 * highlighted snippets returned as plain-text segments.
 *
 * Paging: a ranked list has no stable keyset (ranks change as announcements arrive), so a search answers at most
 * SEARCH_RESULT_CAP hits; within them the cursor is the (rank, id) of the last hit on the page, and the next page is
 * the capped list after it. No OFFSET: a page never repeats a hit the previous one showed, even if new ones arrive.
 */
import type { Db } from '../db/prisma.js';
import { channelReadScopeSql } from '../db/read-scope-sql.js';
import { channelReadScope } from '../domain/access.js';
import { decodeSearchCursor, encodeSearchCursor } from '../domain/cursor.js';
import { AppError } from '../domain/errors.js';
import type { Actor, Importance } from '../domain/types.js';
import { Prisma } from '../generated/prisma/client.js';
import type { Page, PageRequest } from './channels.js';

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
  title: string;
  importance: Importance;
  publishedAt: string;
  url: string;
  /** A short extract of the body around the matches, as segments; the client inserts each as text. */
  snippet: SnippetSegment[];
  /** Relevance, higher is better; comparable only within one search. */
  rank: number;
}

export interface SearchRequest extends PageRequest {
  q: string;
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
 * The weighted documents, written exactly as the GIN index expressions of the migration (the planner uses an
 * expression index only for an identical expression); `a` is the announcement row.
 */
export const NORWEGIAN_DOCUMENT = Prisma.sql`(setweight(to_tsvector('mk_norwegian'::regconfig, a.title), 'A') || setweight(to_tsvector('mk_norwegian'::regconfig, a.body), 'B'))`;
export const ENGLISH_DOCUMENT = Prisma.sql`(setweight(to_tsvector('mk_english'::regconfig, a.title), 'A') || setweight(to_tsvector('mk_english'::regconfig, a.body), 'B'))`;

interface HitRow {
  id: string;
  title: string;
  importance: Importance;
  publishedAt: Date;
  channelSlug: string;
  channelTitle: string;
  /** The rank as PostgreSQL prints the `real`: what the cursor carries, so it compares equal on the next page. */
  rankText: string;
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
 * Published announcements in channels the actor may read (the same rule as GET /channels), best match first. One
 * query: matching, ranking, capping, paging and snippets happen in the database.
 */
export async function searchAnnouncements(
  deps: { db: Db; publicUrl: string },
  actor: Actor,
  request: SearchRequest,
): Promise<Page<SearchHit>> {
  const q = normaliseSearchQuery(request.q);
  const after = request.cursor === undefined ? undefined : decodeSearchCursor(request.cursor);
  const readable = channelReadScopeSql(channelReadScope(actor), 'c');
  const afterCursor = after
    ? Prisma.sql`WHERE (capped.rank, capped.id) < (${after.rank}::real, ${after.id}::uuid)`
    : Prisma.empty;

  // websearch_to_tsquery accepts anything people type ("quoted phrases", or, -not) and never raises a syntax error.
  // Both configurations match and rank; a hit's rank is the better of the two, so a word stemmed well by one language
  // is not diluted by the other. ts_rank_cd weighs A (title) 1.0 and B (body) 0.4 by default.
  const rows = await deps.db.$queryRaw<HitRow[]>`
    WITH query AS (
      SELECT websearch_to_tsquery('mk_norwegian'::regconfig, ${q}) AS nb,
             websearch_to_tsquery('mk_english'::regconfig, ${q}) AS en
    ),
    capped AS (
      SELECT a.id, a.title, a.body, a.importance, a."publishedAt", c.slug AS "channelSlug", c.title AS "channelTitle",
             ${NORWEGIAN_DOCUMENT} @@ query.nb AS "matchedNorwegian",
             greatest(ts_rank_cd(${NORWEGIAN_DOCUMENT}, query.nb), ts_rank_cd(${ENGLISH_DOCUMENT}, query.en)) AS rank
      FROM "Announcement" a
      JOIN "Channel" c ON c.id = a."channelId"
      CROSS JOIN query
      WHERE (${NORWEGIAN_DOCUMENT} @@ query.nb OR ${ENGLISH_DOCUMENT} @@ query.en)
        AND a.status = 'published' AND a."publishedAt" IS NOT NULL AND a."publishedAt" <= now()
        AND ${readable}
      ORDER BY rank DESC, a.id DESC
      LIMIT ${SEARCH_RESULT_CAP}
    ),
    page AS (
      SELECT * FROM capped ${afterCursor} ORDER BY capped.rank DESC, capped.id DESC LIMIT ${request.limit + 1}
    )
    SELECT page.id, page.title, page.importance::text AS importance, page."publishedAt", page."channelSlug",
           page."channelTitle", page.rank::text AS "rankText",
           ts_headline(
             CASE WHEN page."matchedNorwegian" THEN 'mk_norwegian'::regconfig ELSE 'mk_english'::regconfig END,
             translate(
               regexp_replace(
                 regexp_replace(page.body, ${HTML_TAG_PATTERN}, ' ', 'g'),
                 ${MARKDOWN_LINK_PATTERN}, ${'\\1'}, 'g'
               ),
               ${MATCH_START + MATCH_END + MARKDOWN_MARKS}, ''
             ),
             CASE WHEN page."matchedNorwegian" THEN query.nb ELSE query.en END,
             ${HEADLINE_OPTIONS}
           ) AS headline
    FROM page CROSS JOIN query
    ORDER BY page.rank DESC, page.id DESC`;

  const items = rows.slice(0, request.limit);
  const last = items.at(-1);
  return {
    items: items.map((row) => ({
      id: row.id,
      channel: { slug: row.channelSlug, title: row.channelTitle },
      title: row.title,
      importance: row.importance,
      publishedAt: row.publishedAt.toISOString(),
      url: `${deps.publicUrl}/api/v1/announcements/${row.id}`,
      snippet: snippetSegments(row.headline),
      rank: Number(row.rankText),
    })),
    nextCursor: rows.length > request.limit && last ? encodeSearchCursor({ rank: last.rankText, id: last.id }) : null,
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

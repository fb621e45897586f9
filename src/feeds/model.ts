/**
 * The format-neutral read model of one feed document, and its validation. Route code builds a FeedModel from
 * announcements (language already chosen, Markdown already rendered and sanitised, author already resolved) and hands
 * it to renderRss, renderAtom or renderJsonFeed. Everything here is plain data: no Fastify, Prisma or Redis.
 */
import { AppError } from '../domain/errors.js';
import { LANGUAGES, type Language } from '../domain/types.js';
import { stripIllegalXmlChars } from './xml.js';

/** Media types to send with each representation (charset stated, since the documents are always UTF-8). */
export const FEED_CONTENT_TYPES = {
  rss: 'application/rss+xml; charset=utf-8',
  atom: 'application/atom+xml; charset=utf-8',
  jsonFeed: 'application/feed+json; charset=utf-8',
  ics: 'text/calendar; charset=utf-8',
} as const;

/** A category of an entry: a machine term within a scheme, and a label in the feed's language. */
export interface FeedCategory {
  /** Absolute IRI naming the vocabulary (Atom `scheme`, RSS `domain`). */
  scheme: string;
  /** Machine-readable value, stable across languages (e.g. `critical`, `maintenance`). */
  term: string;
  /** Human-readable label (Atom `label`). */
  label: string;
}

/** An attachment offered with an entry (RSS `enclosure`, Atom `link rel="enclosure"`, JSON Feed `attachments`). */
export interface FeedEnclosure {
  /** Absolute http(s) URL where the attachment is served. */
  url: string;
  /** Media type, e.g. `application/pdf`. */
  type: string;
  /** Size in bytes. */
  length: number;
  /** File name or title shown to readers, if any. */
  title?: string | null;
}

/** One announcement as it appears in a feed. */
export interface FeedEntry {
  /** Permanent, globally unique identifier: an absolute IRI such as `urn:uuid:…` or a `tag:` URI (RFC 4151). */
  id: string;
  /** Plain text; never interpreted as HTML. */
  title: string;
  /** Plain-text summary, or null. */
  summary: string | null;
  /** The body as HTML. Trusted: it was sanitised when it was rendered from Markdown. */
  contentHtml: string;
  /** Absolute http(s) URL of the announcement's page. */
  url: string;
  published: Date;
  updated: Date;
  /**
   * The author's display name, or null when the entry has none of its own (it then inherits the feed's author). A
   * deleted account's placeholder ("Tidligere bruker" / "former user") is the caller's choice to pass here.
   */
  authorName: string | null;
  /** The language of this entry when it differs from the feed's (a fallback version), else omitted or null. */
  language?: Language | null;
  categories: readonly FeedCategory[];
  enclosures: readonly FeedEnclosure[];
  /**
   * When the entry leaves the feed (the announcement's expiresAt), if set. No format has a place for it, so renderers
   * leave it out; it is part of the model so the validators (feedEtag) change when an expiry is set or moved.
   */
  expires?: Date | null;
}

/** A retracted entry, published as an RFC 6721 tombstone so readers that stored it can remove it. */
export interface RetractedEntry {
  /** The id the entry had while it was published. */
  id: string;
  /** When it was retracted. */
  when: Date;
  /** Why, in plain text, if the publisher said. */
  comment?: string | null;
}

/**
 * RFC 5005 paged-feed links (absolute URLs of other pages of the same feed, in the same format). Any may be omitted;
 * JSON Feed can only express `next`.
 */
export interface FeedPaging {
  first?: string | null;
  next?: string | null;
  previous?: string | null;
  last?: string | null;
}

/** One feed document to render. URLs are absolute (built from PUBLIC_URL by the caller). */
export interface FeedModel {
  /** Permanent identifier of the feed (Atom `id`): an absolute IRI, the same on every page and in every format. */
  id: string;
  /** Absolute URL of the document being rendered (differs per format and page). */
  selfUrl: string;
  /** Absolute URL of the HTML page the feed mirrors. */
  alternateUrl: string;
  title: string;
  description: string;
  language: Language;
  /** When anything in the feed last changed. */
  updated: Date;
  /** Who the feed is by (the channel or the service); entries without an author inherit it. */
  author: { name: string; url?: string | null };
  /** Newest first, as the caller ordered them. */
  entries: readonly FeedEntry[];
  retracted: readonly RetractedEntry[];
  paging?: FeedPaging | null;
}

/** An error in the model handed to a renderer: a programming error of the caller, hence internal_error. */
function invalid(message: string, details: Record<string, unknown>): AppError {
  return new AppError('internal_error', `Invalid feed model: ${message}`, details);
}

/** Requires an absolute http(s) URL, the only kind a feed reader can follow from anywhere. */
export function assertAbsoluteHttpUrl(value: string, field: string): void {
  let parsed: URL;
  try {
    // No base: a relative reference fails to parse, which is the point.
    parsed = new URL(value);
  } catch {
    throw invalid(`${field} must be an absolute URL`, { field, value });
  }
  // The URL parser would quietly percent-encode these; a caller passing them has built the URL wrongly.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the purpose
  if (/[\s\u0000-\u001F\u007F]/.test(value)) {
    throw invalid(`${field} must not contain whitespace or control characters`, { field, value });
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw invalid(`${field} must be an http(s) URL`, { field, value });
  }
}

/** An absolute IRI: a scheme, a colon and no whitespace or control characters (urn:uuid:…, tag:…, https://…). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the purpose
const ABSOLUTE_IRI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s\u0000-\u001F\u007F<>"]+$/;

/** Requires an absolute IRI, as Atom `id`, `scheme` and RFC 6721 `ref` demand. */
export function assertAbsoluteIri(value: string, field: string): void {
  if (!ABSOLUTE_IRI.test(value))
    throw invalid(`${field} must be an absolute IRI (urn:, tag: or http(s):)`, { field, value });
}

function assertDate(value: Date, field: string): void {
  if (!(value instanceof Date) || Number.isNaN(value.getTime()))
    throw invalid(`${field} must be a valid Date`, { field });
}

function assertText(value: string, field: string): void {
  // Judged after the renderers' filtering: a title of control characters alone would render empty.
  if (typeof value !== 'string' || stripIllegalXmlChars(value).trim() === '')
    throw invalid(`${field} must be non-empty text`, { field });
}

function assertLanguage(value: string, field: string): void {
  if (!(LANGUAGES as readonly string[]).includes(value)) {
    throw invalid(`${field} must be one of ${LANGUAGES.join(', ')}`, { field, value });
  }
}

/** A media type token pair (`type/subtype`, RFC 9110 §8.3.1), without parameters. */
const MEDIA_TYPE = /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+$/;

/**
 * Checks everything a renderer relies on, so that a bad model fails loudly instead of producing a feed that readers
 * reject: absolute URLs and IRIs, valid dates, known languages, non-negative integer sizes, unique ids.
 */
export function assertValidFeedModel(model: FeedModel): void {
  assertAbsoluteIri(model.id, 'id');
  assertAbsoluteHttpUrl(model.selfUrl, 'selfUrl');
  assertAbsoluteHttpUrl(model.alternateUrl, 'alternateUrl');
  assertText(model.title, 'title');
  if (typeof model.description !== 'string') throw invalid('description must be a string', { field: 'description' });
  assertLanguage(model.language, 'language');
  assertDate(model.updated, 'updated');
  assertText(model.author.name, 'author.name');
  if (model.author.url != null) assertAbsoluteHttpUrl(model.author.url, 'author.url');

  for (const [rel, href] of Object.entries(model.paging ?? {})) {
    if (href != null) assertAbsoluteHttpUrl(href, `paging.${rel}`);
  }

  const seen = new Set<string>();
  model.entries.forEach((entry, index) => {
    const at = `entries[${index}]`;
    assertAbsoluteIri(entry.id, `${at}.id`);
    if (seen.has(entry.id)) throw invalid(`${at}.id repeats an id`, { field: `${at}.id`, value: entry.id });
    seen.add(entry.id);
    assertText(entry.title, `${at}.title`);
    if (typeof entry.contentHtml !== 'string') throw invalid(`${at}.contentHtml must be a string`, { field: at });
    assertAbsoluteHttpUrl(entry.url, `${at}.url`);
    assertDate(entry.published, `${at}.published`);
    assertDate(entry.updated, `${at}.updated`);
    if (entry.authorName != null) assertText(entry.authorName, `${at}.authorName`);
    if (entry.language != null) assertLanguage(entry.language, `${at}.language`);
    entry.categories.forEach((category, c) => {
      assertAbsoluteIri(category.scheme, `${at}.categories[${c}].scheme`);
      assertText(category.term, `${at}.categories[${c}].term`);
    });
    entry.enclosures.forEach((enclosure, e) => {
      const field = `${at}.enclosures[${e}]`;
      assertAbsoluteHttpUrl(enclosure.url, `${field}.url`);
      if (!MEDIA_TYPE.test(enclosure.type))
        throw invalid(`${field}.type must be a media type`, { field, value: enclosure.type });
      if (!Number.isSafeInteger(enclosure.length) || enclosure.length < 0) {
        throw invalid(`${field}.length must be a byte count`, { field, value: enclosure.length });
      }
    });
  });

  model.retracted.forEach((tombstone, index) => {
    const at = `retracted[${index}]`;
    assertAbsoluteIri(tombstone.id, `${at}.id`);
    // An id both live and retracted would tell readers to show and delete the same entry.
    if (seen.has(tombstone.id))
      throw invalid(`${at}.id is also a live entry or repeats`, { field: at, value: tombstone.id });
    seen.add(tombstone.id);
    assertDate(tombstone.when, `${at}.when`);
  });
}

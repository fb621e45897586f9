/**
 * Validators and conditional-request evaluation for feeds (RFC 9110 §8.8 and §13), kept pure so routes can answer
 * `304 Not Modified` before rendering anything: the ETag is computed from the model, not from the rendered bytes.
 */
import { createHash } from 'node:crypto';
import type { FeedModel } from './model.js';

/**
 * Bump when a renderer changes its output for the same model, so caches holding the old bytes revalidate to the new.
 */
const RENDERING_VERSION = 1;

/**
 * A weak entity tag for the document the model renders to.
 *
 * Weak, because it names the content, not the bytes on the wire: a compression layer may re-encode the body without
 * having to rewrite the tag, and If-None-Match uses weak comparison anyway. The self URL is part of the model, so RSS,
 * Atom and JSON Feed get different tags; pass `variant` as well when several representations share one URL.
 */
export function feedEtag(model: FeedModel, variant = ''): string {
  const digest = createHash('sha256')
    .update(canonicalJson({ renderingVersion: RENDERING_VERSION, variant, model }))
    .digest('base64url');
  // 128 bits are plenty to tell versions of one feed apart.
  return `W/"${digest.slice(0, 22)}"`;
}

/** JSON with object keys sorted at every level and Dates as ISO strings, so equal models hash equally. */
function canonicalJson(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.keys(value)
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * The `Last-Modified` value (IMF-fixdate) for the model: the latest of the feed's `updated`, its entries' `updated` and
 * its tombstones' `when`, so a retraction or an edit moves it even if the caller forgot to move `updated`.
 */
export function lastModified(model: FeedModel): string {
  let latest = model.updated.getTime();
  for (const entry of model.entries) latest = Math.max(latest, entry.updated.getTime());
  for (const tombstone of model.retracted) latest = Math.max(latest, tombstone.when.getTime());
  if (Number.isNaN(latest)) throw new TypeError('lastModified: the model holds an invalid Date');
  return new Date(latest).toUTCString();
}

/** Request headers as Node and Fastify give them (`IncomingHttpHeaders`); names are matched case-insensitively. */
export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * Whether a GET or HEAD for a representation with these validators may be answered `304 Not Modified`
 * (RFC 9110 §13.2.2). Only call it for GET and HEAD; other methods must not get a 304.
 *
 * - `If-None-Match` wins whenever present: `*` matches any current representation; otherwise a list of entity tags is
 *   compared weakly (the `W/` prefix is ignored on both sides). If it is present, `If-Modified-Since` is ignored, even
 *   when the tags do not match. A malformed `If-None-Match` matches nothing, so the full response goes out.
 * - Otherwise `If-Modified-Since`, when it is a single valid HTTP-date (any of the three forms), matches when the
 *   representation has not changed since (compared in whole seconds, the resolution of HTTP dates).
 *
 * @param etag the representation's current entity tag, quoted, weak or strong (`W/"abc"` or `"abc"`).
 * @param lastModified its `Last-Modified` (HTTP-date string or Date), or null if it has none.
 */
export function isNotModified(headers: RequestHeaders, etag: string, lastModified: string | Date | null): boolean {
  const ifNoneMatch = headerValues(headers, 'if-none-match');
  if (ifNoneMatch !== undefined) {
    const tags = parseEntityTagList(ifNoneMatch.join(','));
    if (tags === null) return false;
    if (tags === '*') return true;
    const current = opaqueTag(etag);
    if (current === null) throw new TypeError(`isNotModified: the current ETag ${JSON.stringify(etag)} is malformed`);
    return tags.some((tag) => tag === current);
  }

  const ifModifiedSince = headerValues(headers, 'if-modified-since');
  // RFC 9110 §13.1.3: ignore it unless it is exactly one valid HTTP-date.
  if (ifModifiedSince === undefined || ifModifiedSince.length !== 1 || lastModified === null) return false;
  const since = parseHttpDate(ifModifiedSince[0]!);
  if (since === null) return false;
  const modified = typeof lastModified === 'string' ? parseHttpDate(lastModified) : lastModified.getTime();
  if (modified === null || Number.isNaN(modified)) {
    throw new TypeError(`isNotModified: lastModified ${String(lastModified)} is not a valid HTTP-date`);
  }
  return Math.floor(modified / 1000) <= Math.floor(since / 1000);
}

function headerValues(headers: RequestHeaders, name: string): readonly string[] | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name || value === undefined) continue;
    return typeof value === 'string' ? [value] : value;
  }
  return undefined;
}

/**
 * Parses `If-None-Match` (`"*"` or `#entity-tag`) into the opaque tags it lists (weakness dropped, for weak
 * comparison). Entity tags may contain commas, so the list is read tag by tag rather than split on commas.
 * Returns null when the value is malformed.
 */
export function parseEntityTagList(value: string): '*' | string[] | null {
  if (value.trim() === '*') return '*';
  const tags: string[] = [];
  let position = 0;
  while (position < value.length) {
    const char = value[position]!;
    // List syntax (RFC 9110 §5.6.1): empty elements and optional whitespace around commas are allowed.
    if (char === ',' || char === ' ' || char === '\t') {
      position += 1;
      continue;
    }
    const match = /^(?:W\/)?"([\x21\x23-\x7E\x80-\uFFFF]*)"/.exec(value.slice(position));
    if (!match) return null;
    tags.push(match[1]!);
    position += match[0].length;
    // After a tag only whitespace and then a comma (or the end) may follow.
    while (value[position] === ' ' || value[position] === '\t') position += 1;
    if (position < value.length && value[position] !== ',') return null;
  }
  return tags.length > 0 ? tags : null;
}

function opaqueTag(etag: string): string | null {
  const tags = parseEntityTagList(etag);
  return Array.isArray(tags) && tags.length === 1 ? tags[0]! : null;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const IMF_FIXDATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const RFC850_DATE =
  /^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const ASCTIME_DATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

/**
 * Parses an HTTP-date in any of the three forms RFC 9110 §5.6.7 requires recipients to accept, as UTC (never the
 * process's time zone). Returns epoch milliseconds, or null if the value is not a valid HTTP-date.
 */
export function parseHttpDate(value: string): number | null {
  const fields = httpDateFields(value.trim());
  if (!fields) return null;
  const { day, monthName, year, hour, minute, second } = fields;
  const month = MONTHS.indexOf(monthName);
  if (month === -1 || hour > 23 || minute > 59 || second > 60) return null;
  const time = Date.UTC(year, month, day, hour, minute, Math.min(second, 59));
  // Date.UTC rolls 31 Feb over into March; only a real calendar date survives the round trip.
  if (new Date(time).getUTCDate() !== day) return null;
  return time;
}

interface HttpDateFields {
  day: number;
  monthName: string;
  year: number;
  hour: number;
  minute: number;
  second: number;
}

function httpDateFields(text: string): HttpDateFields | null {
  const imf = IMF_FIXDATE.exec(text);
  if (imf) return fields(imf[1]!, imf[2]!, Number(imf[3]), imf[4]!, imf[5]!, imf[6]!);
  const rfc850 = RFC850_DATE.exec(text);
  if (rfc850) {
    // Two-digit years: a pure function has no clock for RFC 9110's "more than 50 years in the future" rule, so use the
    // usual pivot (70–99 → 19xx, 00–69 → 20xx); nobody sends RFC 850 dates for new resources anyway.
    const year = Number(rfc850[3]);
    return fields(rfc850[1]!, rfc850[2]!, year >= 70 ? 1900 + year : 2000 + year, rfc850[4]!, rfc850[5]!, rfc850[6]!);
  }
  const asctime = ASCTIME_DATE.exec(text);
  if (asctime)
    return fields(asctime[2]!.trim(), asctime[1]!, Number(asctime[6]), asctime[3]!, asctime[4]!, asctime[5]!);
  return null;
}

function fields(day: string, monthName: string, year: number, hour: string, minute: string, second: string) {
  return { day: Number(day), monthName, year, hour: Number(hour), minute: Number(minute), second: Number(second) };
}

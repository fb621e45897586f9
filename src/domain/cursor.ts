/**
 * Opaque keyset cursors. A cursor is the sort key of the last item on a page, as base64url-encoded JSON tagged with
 * its kind, so clients cannot build or mix them up and we can change the encoding without breaking the API contract
 * ("opaque"). Keyset, not OFFSET: every page costs the same, however deep, and concurrent inserts never shift items
 * between pages (no duplicates, no gaps).
 */
import { AppError } from './errors.js';

/** Upper bound on an encoded cursor, checked before decoding (also declared in the query schema). */
export const MAX_CURSOR_LENGTH = 512;

/** Sort key of the channel listing: slug ascending. */
export interface ChannelCursor {
  slug: string;
}

/** Sort key of an announcement feed: publishedAt descending, id descending (id breaks ties of equal times). */
export interface AnnouncementCursor {
  publishedAt: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function encodeChannelCursor(key: ChannelCursor): string {
  return encode({ k: 'ch', s: key.slug });
}

export function decodeChannelCursor(raw: string): ChannelCursor {
  const value = decode(raw, 'ch');
  if (typeof value.s !== 'string' || value.s.length === 0 || value.s.length > 64) throw invalidCursor();
  return { slug: value.s };
}

export function encodeAnnouncementCursor(key: AnnouncementCursor): string {
  return encode({ k: 'an', p: key.publishedAt.toISOString(), i: key.id });
}

export function decodeAnnouncementCursor(raw: string): AnnouncementCursor {
  const value = decode(raw, 'an');
  if (typeof value.p !== 'string' || !ISO_INSTANT.test(value.p)) throw invalidCursor();
  if (typeof value.i !== 'string' || !UUID.test(value.i)) throw invalidCursor();
  const publishedAt = new Date(value.p);
  if (Number.isNaN(publishedAt.getTime())) throw invalidCursor();
  return { publishedAt, id: value.i.toLowerCase() };
}

/** Sort key of the audit log: time descending, id descending (id orders records written in the same millisecond). */
export interface AuditCursor {
  at: Date;
  id: bigint;
}

export function encodeAuditCursor(key: AuditCursor): string {
  return encode({ k: 'au', a: key.at.toISOString(), i: key.id.toString() });
}

export function decodeAuditCursor(raw: string): AuditCursor {
  const value = decode(raw, 'au');
  if (typeof value.a !== 'string' || !ISO_INSTANT.test(value.a)) throw invalidCursor();
  if (typeof value.i !== 'string' || !/^[1-9]\d{0,18}$/.test(value.i)) throw invalidCursor();
  const at = new Date(value.a);
  if (Number.isNaN(at.getTime())) throw invalidCursor();
  return { at, id: BigInt(value.i) };
}

/**
 * Position in a search result list: the rank of the last hit (as PostgreSQL printed the `real`, so it converts back
 * to exactly the same value) and its id, which orders hits of equal rank.
 */
export interface SearchCursor {
  rank: string;
  id: string;
}

const REAL_NUMBER = /^-?\d+(?:\.\d+)?(?:e[+-]?\d+)?$/i;

export function encodeSearchCursor(key: SearchCursor): string {
  return encode({ k: 'se', r: key.rank, i: key.id });
}

export function decodeSearchCursor(raw: string): SearchCursor {
  const value = decode(raw, 'se');
  if (typeof value.r !== 'string' || value.r.length > 32 || !REAL_NUMBER.test(value.r)) throw invalidCursor();
  if (typeof value.i !== 'string' || !UUID.test(value.i)) throw invalidCursor();
  return { rank: value.r, id: value.i.toLowerCase() };
}

/** Sort key of the channel directory: title ascending, slug (unique) breaking ties. */
export interface DirectoryCursor {
  title: string;
  slug: string;
}

export function encodeDirectoryCursor(key: DirectoryCursor): string {
  return encode({ k: 'di', t: key.title, s: key.slug });
}

export function decodeDirectoryCursor(raw: string): DirectoryCursor {
  const value = decode(raw, 'di');
  if (typeof value.t !== 'string' || value.t.length > 200) throw invalidCursor();
  if (typeof value.s !== 'string' || value.s.length === 0 || value.s.length > 64) throw invalidCursor();
  return { title: value.t, slug: value.s };
}

/** Sort key of the administrators' user list: display name ascending, id (unique) breaking ties. */
export interface UserCursor {
  name: string;
  id: string;
}

export function encodeUserCursor(key: UserCursor): string {
  return encode({ k: 'us', n: key.name, i: key.id });
}

export function decodeUserCursor(raw: string): UserCursor {
  const value = decode(raw, 'us');
  if (typeof value.n !== 'string' || value.n.length > 200) throw invalidCursor();
  if (typeof value.i !== 'string' || !UUID.test(value.i)) throw invalidCursor();
  return { name: value.n, id: value.i.toLowerCase() };
}

/** Sort key of the administrators' token list: creation time descending, id descending. */
export interface TokenCursor {
  createdAt: Date;
  id: string;
}

export function encodeTokenCursor(key: TokenCursor): string {
  return encode({ k: 'tk', c: key.createdAt.toISOString(), i: key.id });
}

export function decodeTokenCursor(raw: string): TokenCursor {
  const value = decode(raw, 'tk');
  if (typeof value.c !== 'string' || !ISO_INSTANT.test(value.c)) throw invalidCursor();
  if (typeof value.i !== 'string' || !UUID.test(value.i)) throw invalidCursor();
  const createdAt = new Date(value.c);
  if (Number.isNaN(createdAt.getTime())) throw invalidCursor();
  return { createdAt, id: value.i.toLowerCase() };
}

function encode(value: Record<string, string>): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function decode(raw: string, kind: string): Record<string, unknown> {
  // Buffer.from(…, 'base64url') silently skips foreign characters, so check the alphabet first.
  if (raw.length === 0 || raw.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(raw)) throw invalidCursor();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidCursor();
  const record = value as Record<string, unknown>;
  // A cursor from another listing is as wrong as a garbled one.
  if (record.k !== kind) throw invalidCursor();
  return record;
}

function invalidCursor(): AppError {
  return new AppError('invalid_cursor', 'The cursor is not valid; use nextCursor from a previous page as it is');
}

/**
 * Idempotent publishing (`Idempotency-Key`). A client that does not know whether its publish arrived (a timeout, a
 * dropped connection) retries with the same key and gets the first response again instead of a second announcement.
 *
 * The key row is written in the SAME transaction as the announcement, its outbox event and its audit record, and the
 * primary key (userId, key) decides between concurrent requests: the first to commit wins; the others fail on the
 * constraint, roll back everything they wrote, and replay the winner's response. So "published" and "key stored"
 * are one fact, and no lock or second round trip is needed.
 *
 * Only successful publications are stored: a request refused for validation or permission stores nothing, so a
 * corrected retry with the same key is not held to the refusal. Keys expire after {@link IDEMPOTENCY_KEY_TTL_MS};
 * an expired key counts as unused.
 */
import { createHash } from 'node:crypto';
import { type Db, queryRows } from '../db/prisma.js';
import { isUniqueViolation } from '../db/prisma-errors.js';
import { AppError } from '../domain/errors.js';
import type { Actor } from '../domain/types.js';
import { Prisma } from '../generated/prisma/client.js';
import { type PublishInput, publishAnnouncement } from './publish.js';
import type { AnnouncementView } from './views.js';

/** How long a key is remembered: 24 hours, long enough for any sane retry policy. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;
export const IDEMPOTENCY_KEY_MAX_LENGTH = 200;
/** Printable ASCII (space to tilde): what an HTTP header carries safely and a log shows legibly. */
export const IDEMPOTENCY_KEY_PATTERN = '^[\\x20-\\x7E]+$';
const KEY_FORMAT = new RegExp(IDEMPOTENCY_KEY_PATTERN);

/** A response to send: the first one, or its replay. */
export interface IdempotentResponse {
  status: number;
  body: AnnouncementView;
  /** True when this is a stored response sent again, not a new publication. */
  replayed: boolean;
}

/** JSON with object keys sorted at every depth, so equal values have equal text whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([name, item]) => `${JSON.stringify(name)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** SHA-256 (hex) of the request: the channel and the body, so one key reused for another channel is caught too. */
export function requestFingerprint(channelSlug: string, body: unknown): string {
  return createHash('sha256')
    .update(canonicalJson({ channel: channelSlug, body }))
    .digest('hex');
}

/** Refuses a key that is empty, too long or not printable ASCII. */
export function assertValidIdempotencyKey(key: string): void {
  if (key.length === 0 || key.length > IDEMPOTENCY_KEY_MAX_LENGTH || !KEY_FORMAT.test(key)) {
    throw new AppError(
      'validation_failed',
      `Idempotency-Key must be 1–${IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters`,
      { field: 'Idempotency-Key' },
    );
  }
}

/**
 * Publishes once per (user, key): a new key publishes and stores the response; the same key with the same request
 * replays the stored response; the same key with a different request is refused (`idempotency_key_reused`).
 */
export async function publishAnnouncementIdempotently(
  deps: { db: Db; publicUrl: string },
  actor: Actor & { kind: 'user' },
  channelSlug: string,
  input: PublishInput,
  key: string,
  requestId?: string,
): Promise<IdempotentResponse> {
  assertValidIdempotencyKey(key);
  const fingerprint = requestFingerprint(channelSlug, input);
  const where = { userId_key: { userId: actor.userId, key } };

  const stored = await takeLiveKey(deps.db, actor.userId, key);
  if (stored) return replay(stored, fingerprint);

  try {
    const view = await publishAnnouncement(deps, actor, channelSlug, input, requestId, {
      idempotency: { key, fingerprint },
    });
    return { status: 201, body: view, replayed: false };
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    // A concurrent request with this key committed first; everything this one wrote was rolled back.
    const winner = await deps.db.idempotencyKey.findUnique({ where });
    if (!winner) throw error;
    return replay(winner, fingerprint);
  }
}

/** Forgets keys older than the time to live; returns how many went. Safe to run at any time. */
export async function deleteExpiredIdempotencyKeys(db: Db, now = new Date()): Promise<number> {
  const { count } = await db.idempotencyKey.deleteMany({ where: { createdAt: { lt: expiryCutoff(now) } } });
  return count;
}

interface StoredKey {
  fingerprint: string;
  responseStatus: number;
  responseBody: unknown;
}

function expiryCutoff(now = new Date()): Date {
  return new Date(now.getTime() - IDEMPOTENCY_KEY_TTL_MS);
}

/**
 * The live row of (user, key), if any, in the statement that also deletes an expired one: an expired row would still
 * hold the primary key; it no longer counts, so it makes room for the new one. One round trip where a look-up and a
 * delete were two, on every publication with a key.
 */
async function takeLiveKey(db: Db, userId: string, key: string): Promise<StoredKey | null> {
  const cutoff = expiryCutoff();
  // A data-modifying WITH runs whether or not the query reads it; the SELECT sees the rows as they were before it.
  const [row] = await queryRows<StoredKey>(
    db,
    Prisma.sql`WITH expired AS (
                 DELETE FROM "IdempotencyKey" WHERE "userId" = ${userId}::uuid AND key = ${key} AND "createdAt" < ${cutoff})
               SELECT fingerprint, "responseStatus", "responseBody" FROM "IdempotencyKey"
                WHERE "userId" = ${userId}::uuid AND key = ${key} AND "createdAt" >= ${cutoff}`,
  );
  return row ?? null;
}

function replay(stored: StoredKey, fingerprint: string): IdempotentResponse {
  if (stored.fingerprint !== fingerprint) {
    throw new AppError(
      'idempotency_key_reused',
      'This Idempotency-Key was already used for a different request; use a new key for a new announcement',
    );
  }
  // Written by this module from an AnnouncementView, so it reads back as one.
  return { status: stored.responseStatus, body: stored.responseBody as AnnouncementView, replayed: true };
}

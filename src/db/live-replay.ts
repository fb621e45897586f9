/**
 * The live log that reconnecting clients replay from: OutboxEvent rows are kept after relay, and the relay gives each
 * live event a commit-ordered `position` (src/realtime/README.md, "Positions, replay and reset"), so "what happened in
 * these channels after position N" is one indexed query (OutboxEvent @@index([channelId, position])).
 *
 * Why a lock and not just the sequence: a position drawn from a sequence at relay time is still drawn before its
 * transaction commits, and two relays can commit in the other order. So the relay draws positions, publishes and
 * commits while holding LIVE_LOG_LOCK (`pg_advisory_xact_lock`, released at commit): whoever holds it next draws
 * higher positions only once every lower one is committed. The replay takes the same lock SHARED before it reads (and
 * lets go of it at once), so it also waits for a relay that has published an event (a client may hold its position
 * already) but not committed it yet; every position a client can have received is then visible to the replay's reads.
 */
import { audienceScope } from '../domain/announcement.js';
import type { Actor } from '../domain/types.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { ResetReason } from '../realtime/protocol.js';
import { audienceScopeSql, notExpiredSql } from './announcement-scope-sql.js';
import type { Db } from './prisma.js';

/**
 * The advisory lock key of the live log (an arbitrary constant: "mk-live-log" in ASCII; Prisma's migrations use
 * 72707369). Held exclusively by a relay from drawing positions to its commit, shared by replays while they read.
 */
export const LIVE_LOG_LOCK = 0x6d6b2d6c697665n;

/**
 * Draws `count` consecutive positions, in a transaction that then publishes the events and commits. Takes
 * LIVE_LOG_LOCK for the rest of the transaction first (see the file comment); only relays draw from the sequence, and
 * only under the lock, so a block is reserved with one nextval and one setval. Returns the first position.
 */
export async function drawPositions(tx: Prisma.TransactionClient, count: number): Promise<bigint> {
  if (!Number.isSafeInteger(count) || count < 1) throw new Error('drawPositions needs a positive count');
  // One statement (it was three round trips, on the path of every live event's first receipt): the materialised CTE
  // is scanned before the outer target list is evaluated, so the lock is held before nextval runs; setval then moves
  // the sequence to the block's last position (for a block of one, to the value nextval just gave: no change). The
  // sequence was created by migration 20261127100000_live_positions.
  const [row] = await tx.$queryRaw<{ first: bigint }[]>`
    WITH locked AS MATERIALIZED (SELECT pg_advisory_xact_lock(${LIVE_LOG_LOCK}))
    SELECT setval('"OutboxEvent_position_seq"', nextval('"OutboxEvent_position_seq"') + ${count - 1}::bigint)
           - ${count - 1}::bigint AS first
      FROM locked`;
  return BigInt(row!.first);
}

/** One outbox event to replay; the caller loads its announcement with the one loader and builds the LiveEvent. */
export interface ReplayRow {
  position: bigint;
  type: string;
  channelId: string;
  announcementId: string;
  payload: unknown;
}

export type ReplayResult =
  | { kind: 'replay'; rows: ReplayRow[] }
  /** `head`: the newest position of the log when it was read; the client continues from it after reloading. */
  | { kind: 'reset'; reason: ResetReason; head: bigint };

/**
 * The events a client that has everything up to position `since` missed in the given channels, oldest first:
 * - `announcement.published` and `announcement.updated` events whose announcement is still published and not expired
 *   (what REST's feeds would still show; the caller sends each with the announcement as it is NOW);
 * - `announcement.retracted` events, also of announcements published before `since` (the client may hold them).
 * Only announcements `actor` may see are included (the audience rule of canSeeAnnouncement, as SQL: for everyone, for
 * the actor's organisation, or in a channel where the actor holds a role; administrators see all), so the limit counts
 * what the client is actually sent; the caller passes only channels the actor may read (the live plugin checks them
 * with canReadChannel).
 *
 * Or a reset, never a partial replay: `since` below the oldest position the log holds (events in between may be gone),
 * `since` beyond the newest position (not a position of this log), or more than `limit` events to send.
 */
export async function findEventsSince(
  db: Db,
  query: { channelIds: readonly string[]; since: bigint; limit: number; actor: Actor; now?: Date },
): Promise<ReplayResult> {
  const now = query.now ?? new Date();
  // Waits for a relay between publishing and committing (file comment), as a statement of its own: its transaction
  // ends, and the lock is released, as soon as it was granted. The reads below then hold no lock, so a relay never
  // waits for a replay's reads — in a reconnect storm replays follow each other, each read as fast as a busy API
  // process gets to its round trips, and the relay of a new event queued behind them for the exclusive lock. They read
  // in one REPEATABLE READ snapshot, taken after the wait: every position a client can have received is in it, and
  // the ends of the log and the events agree. A relay that commits later is newer than the snapshot; the session
  // already holds its live events back and merges them (src/realtime/session.ts).
  await db.$executeRaw`SELECT pg_advisory_xact_lock_shared(${LIVE_LOG_LOCK})`;
  return db.$transaction(
    async (tx) => {
      // Both ends of the log by the unique index on position (two index probes, whatever the size of the log).
      const [bounds] = await tx.$queryRaw<{ oldest: bigint | null; newest: bigint | null }[]>`
      SELECT min(position) AS oldest, max(position) AS newest FROM "OutboxEvent"`;
      const head = bounds?.newest === null || bounds?.newest === undefined ? 0n : BigInt(bounds.newest);
      const oldest = bounds?.oldest === null || bounds?.oldest === undefined ? null : BigInt(bounds.oldest);
      if (query.since > head) return { kind: 'reset', reason: 'unknown_position', head };
      // The client has everything up to `since`; the log starts at `oldest`: positions between them may have been
      // removed (a deleted channel's events, a retention job), and a client cannot be told it has them all.
      if (oldest !== null && query.since < oldest - 1n) return { kind: 'reset', reason: 'too_old', head };
      if (query.channelIds.length === 0) return { kind: 'replay', rows: [] };

      const raw = await tx.$queryRaw<ReplayRow[]>`
      SELECT e.position, e.type, e."channelId", a.id AS "announcementId", e.payload
        FROM "OutboxEvent" e
        JOIN "Announcement" a ON a.id = e."aggregateId"
        JOIN "Channel" c ON c.id = e."channelId"
       WHERE e."channelId" = ANY(${[...query.channelIds]}::uuid[])
         AND e.position > ${query.since}
         AND ${audienceScopeSql(audienceScope(query.actor), 'a', 'c')}
         AND (
               (e.type IN ('announcement.published', 'announcement.updated')
                AND a.status = 'published' AND a."publishedAt" IS NOT NULL AND ${notExpiredSql('a', now)})
            OR e.type = 'announcement.retracted'
             )
       ORDER BY e.position
       LIMIT ${query.limit + 1}`;
      if (raw.length > query.limit) return { kind: 'reset', reason: 'too_many_events', head };
      return { kind: 'replay', rows: raw.map((r) => ({ ...r, position: BigInt(r.position) })) };
    },
    { isolationLevel: 'RepeatableRead' },
  );
}

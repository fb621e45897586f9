/**
 * What every sender does with the ledger, in one place: read the delivery ids a job carries, claim them, compute the
 * back-off of a retry, and (the sweeper) re-queue stale and lost rows. E-mail, push and webhook processors use these
 * for Delivery rows of their medium; the digest processor for Digest rows.
 *
 * The sweeper's two re-queues, for every ledger the workers send from (Delivery rows of one medium, Digest rows):
 *
 * 1. `sending` rows claimed longer than STALE_DELIVERY_MS ago: their worker died mid-send. They go back to `pending`
 *    (or `failed` when their attempts are used up, so a message that keeps killing its worker cannot loop) and are
 *    re-queued. A resend carries the same Message-ID / webhook-id, so the duplicate is recognisable.
 * 2. `pending` rows due longer than that: their job was lost (Redis data loss, a bug). They are re-queued.
 *
 * Both picks are claims — `UPDATE … RETURNING` over rows locked with SKIP LOCKED — so two sweepers never re-queue the
 * same row, and a row is re-queued at most once per STALE_DELIVERY_MS. Rounds of SWEEP_ROUND rows repeat until one
 * finds fewer, so a large loss is healed in one run.
 */
import { type Db, queryRows } from '../../src/db/prisma.js';
import { AppError } from '../../src/domain/errors.js';
import type { DeliveryMedium } from '../../src/generated/prisma/client.js';
import { Prisma } from '../../src/generated/prisma/client.js';

/** Rows per statement. */
export const SWEEP_ROUND = 5000;

export interface LedgerSweepTarget {
  /** Delivery rows of one medium, or the Digest ledger. */
  ledger: { table: 'Delivery'; medium: DeliveryMedium } | { table: 'Digest' };
  staleDeliveryMs: number;
  /** Attempts after which a dead worker's row is `failed` rather than retried. */
  maxAttempts: number;
  /** lastError of a row whose worker died. */
  lostError: string;
}

export interface LedgerSweepResult {
  /** `sending` rows put back to `pending` and re-queued. */
  resetSending: number;
  /** `sending` rows that had no attempts left: marked `failed`. */
  failedSending: number;
  /** Lost `pending` rows re-queued. */
  requeuedPending: number;
}

/** Runs both re-queues; `requeue` gets the ids (decimal strings, in id order) to put into jobs again. */
export async function sweepLedger(
  db: Pick<Db, '$queryRaw'>,
  target: LedgerSweepTarget,
  requeue: (ids: string[]) => Promise<unknown>,
): Promise<LedgerSweepResult> {
  const staleSeconds = target.staleDeliveryMs / 1000;
  const table = Prisma.raw(`"${target.ledger.table}"`);
  const ofMedium =
    target.ledger.table === 'Delivery'
      ? Prisma.sql`AND medium = ${target.ledger.medium}::"DeliveryMedium"`
      : Prisma.empty;
  const result: LedgerSweepResult = { resetSending: 0, failedSending: 0, requeuedPending: 0 };

  for (;;) {
    const rows = await db.$queryRaw<{ id: string; status: 'pending' | 'failed' }[]>`
      UPDATE ${table} d
         SET status = (CASE WHEN d.attempts >= ${target.maxAttempts}::int THEN 'failed' ELSE 'pending' END)::"DeliveryStatus",
             "lastError" = ${target.lostError}, "nextAttemptAt" = now(), "updatedAt" = now()
       WHERE d.id IN (
             SELECT id FROM ${table}
              WHERE status = 'sending' ${ofMedium}
                AND "claimedAt" < now() - make_interval(secs => ${staleSeconds}::float8)
              ORDER BY id LIMIT ${SWEEP_ROUND}::int
                FOR UPDATE SKIP LOCKED)
         AND d.status = 'sending'
      RETURNING d.id::text AS id, d.status::text AS status`;
    const reset = byId(rows.filter((row) => row.status === 'pending').map((row) => row.id));
    result.resetSending += reset.length;
    result.failedSending += rows.length - reset.length;
    if (reset.length > 0) await requeue(reset);
    if (rows.length < SWEEP_ROUND) break;
  }

  for (;;) {
    const rows = await db.$queryRaw<{ id: string }[]>`
      UPDATE ${table} d
         SET "nextAttemptAt" = now(), "updatedAt" = now()
       WHERE d.id IN (
             SELECT id FROM ${table}
              WHERE status = 'pending' ${ofMedium}
                AND "nextAttemptAt" < now() - make_interval(secs => ${staleSeconds}::float8)
              ORDER BY id LIMIT ${SWEEP_ROUND}::int
                FOR UPDATE SKIP LOCKED)
         AND d.status = 'pending'
      RETURNING d.id::text AS id`;
    const ids = byId(rows.map((row) => row.id));
    result.requeuedPending += ids.length;
    if (ids.length > 0) await requeue(ids);
    if (rows.length < SWEEP_ROUND) break;
  }
  return result;
}

/** RETURNING gives no order; batches read best in id order. */
function byId(ids: string[]): string[] {
  return ids.sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
}

/** The most delivery ids one job may carry. */
export const MAX_IDS_PER_JOB = 1000;

/** The ids of a send job (`{ deliveryIds: ["1", …] }`), checked: 1–MAX_IDS_PER_JOB positive decimal strings. */
export function parseDeliveryIds(data: unknown, jobKind: string): bigint[] {
  const ids = (data as { deliveryIds?: unknown } | null)?.deliveryIds;
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_IDS_PER_JOB) {
    throw new AppError('validation_failed', `${jobKind} carries 1–${MAX_IDS_PER_JOB} delivery ids`);
  }
  return ids.map((id) => {
    if (typeof id !== 'string' || !/^[1-9]\d{0,18}$/.test(id)) {
      throw new AppError('validation_failed', 'Delivery ids are positive decimal strings', { id });
    }
    return BigInt(id);
  });
}

/**
 * Claims the due deliveries of `ids` of one medium in one statement (`pending → sending`, attempts + 1). Each row is
 * still claimed on its own: the row lock and the status condition mean exactly one worker gets each, whatever the
 * batches look like, so duplicate jobs and racing workers send once.
 */
export async function claimDeliveries(
  db: Pick<Db, '$queryRaw'>,
  ids: readonly bigint[],
  medium: DeliveryMedium,
): Promise<{ id: bigint }[]> {
  const rows = await queryRows<{ id: string }>(
    db,
    Prisma.sql`
    UPDATE "Delivery"
       SET status = 'sending', "claimedAt" = now(), attempts = attempts + 1, "updatedAt" = now()
     WHERE id = ANY(${ids.map(String)}::bigint[])
       AND medium = ${medium}::"DeliveryMedium" AND status = 'pending' AND "nextAttemptAt" <= now()
    RETURNING id::text AS id`,
  );
  return rows.map((row) => ({ id: BigInt(row.id) }));
}

/** Records sends as they complete: see sentSettler. */
export interface SentSettler {
  /** This delivery was accepted by the receiver. */
  add(id: bigint): void;
  /** Resolves when every added row is written; rejects with the first failure to write. */
  done(): Promise<void>;
}

/**
 * Settles `sent` Delivery rows in groups: the first completed send starts an UPDATE for itself, and the sends that
 * complete while it runs go into the next one. At a high rate that is one statement for many rows; at a low rate (a
 * slow relay) each row is written as soon as its send completes, so a worker that dies leaves few rows `sending`
 * (the sweeper resends those, with the same Message-ID). The status is set whatever it is now (`sending`, or
 * `pending` if the sweeper took a very slow row back meanwhile): recording the send stops a second one.
 *
 * One per worker process (workers/email.worker.ts) lets the jobs in flight share their statements: with four jobs
 * of 50, each job's own grouping wrote ~8 UPDATEs per batch (bench/email-fanout.ts, counted from pg_stat_database),
 * the most statements of a batch. A row waits no longer than it did: only for the statement already running.
 */
export interface SentGroups {
  /** Resolves when the row is written as sent; rejects with the error of its group's statement. */
  add(id: bigint): Promise<void>;
}

export function sentGroups(db: Pick<Db, '$queryRaw'>): SentGroups {
  let pending: { id: bigint; resolve: () => void; reject: (error: unknown) => void }[] = [];
  let running = false;
  const drain = async () => {
    running = true;
    try {
      while (pending.length > 0) {
        const group = pending;
        pending = [];
        try {
          await queryRows(
            db,
            Prisma.sql`
            UPDATE "Delivery" SET status = 'sent', "sentAt" = now(), "lastError" = NULL, "updatedAt" = now()
             WHERE id = ANY(${group.map((entry) => String(entry.id))}::bigint[]) AND status IN ('sending', 'pending')`,
          );
          for (const entry of group) entry.resolve();
        } catch (error) {
          for (const entry of group) entry.reject(error);
        }
      }
    } finally {
      running = false;
    }
  };
  return {
    add(id) {
      return new Promise<void>((resolve, reject) => {
        pending.push({ id, resolve, reject });
        if (!running) void drain();
      });
    },
  };
}

/** Records the sends of one job as they complete, through `groups` (shared) or groups of its own. */
export interface SentSettler {
  /** This delivery was accepted by the receiver. */
  add(id: bigint): void;
  /** Resolves when every added row is written; rejects with the first failure to write. */
  done(): Promise<void>;
}

export function sentSettler(db: Pick<Db, '$queryRaw'>, groups: SentGroups = sentGroups(db)): SentSettler {
  const writes: Promise<void>[] = [];
  return {
    add(id) {
      const write = groups.add(id);
      // Awaited in done(); until then a failure must not count as unhandled.
      write.catch(() => {});
      writes.push(write);
    },
    async done() {
      const results = await Promise.allSettled(writes);
      const failed = results.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}

/**
 * Exponential back-off with "equal jitter" (half fixed, half random): base, 2 × base, 4 × base … capped at `maxMs`,
 * so the retries of a batch that failed together do not hit the receiver again in one burst.
 */
export function backoffWithJitterMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * The retry job fires a little after its rows are due, so a clock difference between us and PostgreSQL cannot make
 * its claim fail (the rows would then wait for the sweeper).
 */
export const RETRY_JOB_SLACK_MS = 1000;

/**
 * Adds one delayed job per attempt number for the deliveries a batch is retrying (the rows of a group share their due
 * time), delayed until the latest of them is due. `add` puts one job on the medium's queue.
 */
export async function addRetryJobs(
  db: Pick<Db, '$queryRaw'>,
  retries: ReadonlyMap<number, bigint[]>,
  add: (deliveryIds: string[], attempt: number, delayMs: number) => Promise<unknown>,
): Promise<void> {
  for (const [attempt, retryIds] of retries) {
    const ids = retryIds.map(String);
    const due = await db.$queryRaw<{ delayMs: number }[]>`
      SELECT GREATEST(0, EXTRACT(EPOCH FROM (max("nextAttemptAt") - now())) * 1000)::float8 AS "delayMs"
        FROM "Delivery" WHERE id = ANY(${ids}::bigint[])`;
    await add(ids, attempt, Math.ceil((due[0]?.delayMs ?? 0) + RETRY_JOB_SLACK_MS));
  }
}

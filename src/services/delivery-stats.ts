/**
 * What publishers see of an announcement's deliveries, and the retry of the failed ones. For the channel's editors
 * (publishers, owners) and administrators: loadAnnouncementToManage decides (404 for a channel the caller may not
 * read, 403 for one they may read but not publish in).
 *
 * - Figures are counts only, never recipients: per medium × kind × revision, by status, with the skip reasons. They
 *   are counted by PostgreSQL (one GROUP BY over the announcement's ledger rows).
 * - A retry puts the announcement's `failed` deliveries (optionally of one medium) back to `pending` with their
 *   attempts reset, in ONE statement that touches nothing else (a `sent` or `skipped` row is never resent), audits it
 *   in the same transaction, and then puts them on their media's queues. The senders re-check everything as usual:
 *   an address on the suppression list is skipped `suppressed`, a webhook switched off `webhook_disabled`. Should
 *   Redis not take the jobs, the rows are ordinary pending rows that the sweeper re-queues (after STALE_DELIVERY_MS).
 */
import type { Db } from '../db/prisma.js';
import type { Actor } from '../domain/types.js';
import { chunk, jobId, type Queues } from '../queue/jobs.js';
import { WEBHOOK_BATCH_SIZE } from '../webhooks/deliveries.js';
import { loadAnnouncementToManage } from './announcement-access.js';
import { recordAudit } from './audit.js';

export const DELIVERY_MEDIA = ['email', 'push', 'webhook'] as const;
export type DeliveryMedium = (typeof DELIVERY_MEDIA)[number];

export interface StatusCounts {
  pending: number;
  sending: number;
  sent: number;
  failed: number;
  skipped: number;
  total: number;
}

export interface DeliveryStatsGroup extends StatusCounts {
  medium: string;
  kind: string;
  /** A correction's revision; 0 for the other kinds. */
  revision: number;
  /** Why the skipped ones were not sent, most frequent first. */
  skipReasons: { reason: string; count: number }[];
}

export interface DeliveryStats {
  announcement: string;
  totals: StatusCounts;
  groups: DeliveryStatsGroup[];
}

export interface RetryResult {
  announcement: string;
  /** Failed deliveries put back to pending. */
  retried: number;
  byMedium: Record<DeliveryMedium, number>;
  /** False when the queue did not take the jobs: the sweeper re-queues the rows later. */
  queued: boolean;
}

/** Web push deliveries per job when retried (each may go to several browsers); as the fan-out's batches. */
const PUSH_RETRY_BATCH_SIZE = 50;
const MAX_JOBS_PER_ADD = 1000;

export async function deliveryStats(deps: { db: Db }, actor: Actor, announcementId: string): Promise<DeliveryStats> {
  const record = await loadAnnouncementToManage(deps.db, actor, announcementId, 'see the deliveries of');
  const rows = await deps.db.$queryRaw<
    (Omit<DeliveryStatsGroup, 'skipReasons'> & { skipReasons: { reason: string; count: number }[] | null })[]
  >`
    WITH counted AS (
      SELECT medium::text AS medium, kind::text AS kind, revision, status::text AS status, "skipReason",
             count(*)::int AS n
        FROM "Delivery"
       WHERE "announcementId" = ${record.id}::uuid
       GROUP BY 1, 2, 3, 4, 5
    )
    SELECT medium, kind, revision,
           COALESCE(sum(n) FILTER (WHERE status = 'pending'), 0)::int AS pending,
           COALESCE(sum(n) FILTER (WHERE status = 'sending'), 0)::int AS sending,
           COALESCE(sum(n) FILTER (WHERE status = 'sent'), 0)::int AS sent,
           COALESCE(sum(n) FILTER (WHERE status = 'failed'), 0)::int AS failed,
           COALESCE(sum(n) FILTER (WHERE status = 'skipped'), 0)::int AS skipped,
           sum(n)::int AS total,
           jsonb_agg(jsonb_build_object('reason', COALESCE("skipReason", 'unknown'), 'count', n)
                     ORDER BY n DESC, "skipReason") FILTER (WHERE status = 'skipped') AS "skipReasons"
      FROM counted
     GROUP BY medium, kind, revision
     ORDER BY medium, kind, revision`;
  const groups = rows.map((row) => ({ ...row, skipReasons: row.skipReasons ?? [] }));
  const totals: StatusCounts = { pending: 0, sending: 0, sent: 0, failed: 0, skipped: 0, total: 0 };
  for (const group of groups) {
    for (const key of Object.keys(totals) as (keyof StatusCounts)[]) totals[key] += group[key];
  }
  return { announcement: record.id, totals, groups };
}

export async function retryFailedDeliveries(
  deps: { db: Db; queues: Pick<Queues, 'email' | 'push' | 'webhook'>; emailBatchSize: number },
  actor: Actor,
  announcementId: string,
  options: { medium?: DeliveryMedium; requestId?: string } = {},
): Promise<RetryResult> {
  const record = await loadAnnouncementToManage(deps.db, actor, announcementId, 'retry the deliveries of');
  const medium = options.medium ?? null;
  const retried = await deps.db.$transaction(async (tx) => {
    // The status condition is the claim: a row a sender or the sweeper holds is not `failed`, and of two concurrent
    // retries each row goes to one of them.
    const rows = await tx.$queryRaw<{ id: string; medium: DeliveryMedium }[]>`
      UPDATE "Delivery"
         SET status = 'pending', attempts = 0, "lastError" = NULL, "claimedAt" = NULL, "nextAttemptAt" = now(),
             "updatedAt" = now()
       WHERE "announcementId" = ${record.id}::uuid AND status = 'failed'
         AND (${medium}::text IS NULL OR medium::text = ${medium}::text)
      RETURNING id::text AS id, medium::text AS medium`;
    await recordAudit(tx, {
      actor,
      action: 'announcement.retry_deliveries',
      outcome: 'success',
      targetType: 'announcement',
      targetId: record.id,
      ...(options.requestId ? { requestId: options.requestId } : {}),
      details: { channel: record.channelSlug, medium, retried: rows.length },
    });
    return rows;
  });

  const byMedium: Record<DeliveryMedium, number> = { email: 0, push: 0, webhook: 0 };
  const idsOf = (m: DeliveryMedium) =>
    retried
      .filter((row) => row.medium === m)
      .map((row) => row.id)
      .sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : BigInt(x) > BigInt(y) ? 1 : 0));
  for (const row of retried) byMedium[row.medium] += 1;

  let queued = true;
  try {
    // Named like the sweeper's re-queues (first id and the time): the first batch's job may still be kept under its
    // plain name, and BullMQ ignores an add under a kept job's id.
    const now = Date.now();
    await enqueue(deps.queues.email, 'email', chunk(idsOf('email'), deps.emailBatchSize), (first) =>
      jobId.emailRequeue(first, now),
    );
    await enqueue(deps.queues.push, 'push', chunk(idsOf('push'), PUSH_RETRY_BATCH_SIZE), (first) =>
      jobId.pushRequeue(first, now),
    );
    await enqueue(deps.queues.webhook, 'webhook', chunk(idsOf('webhook'), WEBHOOK_BATCH_SIZE), (first) =>
      jobId.webhookRequeue(first, now),
    );
  } catch {
    // The rows are pending in PostgreSQL, which is the record: the sweeper puts them on the queue later.
    queued = false;
  }
  return { announcement: record.id, retried: retried.length, byMedium, queued };
}

async function enqueue(
  queue: {
    addBulk(jobs: { name: string; data: { deliveryIds: string[] }; opts: { jobId: string } }[]): Promise<unknown>;
  },
  name: string,
  batches: string[][],
  id: (firstId: string) => string,
): Promise<void> {
  const jobs = batches.map((ids) => ({ name, data: { deliveryIds: ids }, opts: { jobId: id(ids[0]!) } }));
  for (const part of chunk(jobs, MAX_JOBS_PER_ADD)) await queue.addBulk(part);
}

/**
 * The administrators' view of the delivery pipeline: each BullMQ queue's job counts (the same states as the
 * `meldingskanal_queue_jobs` metric, src/metrics.ts) and whether it is paused, the ledger's rows by status (Delivery
 * per medium, Digest) with how long the oldest due pending row has waited, and a queue's failed jobs.
 *
 * No personal data: jobs carry ids only (src/queue/jobs.ts) and the failed-job list shows no job data at all, only
 * its id, name, failure reason and times; the ledger figures are counts. Only administrators acting as such
 * (actsAsAdmin) — the route's policy checks it and so does this service, so a future caller cannot forget it.
 */
import { Queue } from 'bullmq';
import type { Db } from '../db/prisma.js';
import { actsAsAdmin } from '../domain/access.js';
import { AppError } from '../domain/errors.js';
import type { Actor } from '../domain/types.js';
import { QUEUE_STATES } from '../metrics.js';
import type { Queues } from '../queue/jobs.js';

export const MAX_FAILED_JOBS = 100;

type JobState = (typeof QUEUE_STATES)[number];

export interface QueueSummary {
  name: string;
  paused: boolean;
  counts: Record<JobState, number>;
}

export interface LedgerCounts {
  pending: number;
  sending: number;
  sent: number;
  failed: number;
  skipped: number;
  /**
   * Seconds since the longest-waiting DUE pending row became due (nextAttemptAt); null when none is due. A row waiting
   * for its back-off is not late; a number growing past STALE_DELIVERY_MS means nothing is taking the work.
   */
  oldestDuePendingSeconds: number | null;
}

export interface QueueOverview {
  queues: QueueSummary[];
  ledger: {
    deliveries: LedgerCounts & { byMedium: ({ medium: string } & LedgerCounts)[] };
    digests: LedgerCounts;
  };
}

export interface FailedJob {
  id: string;
  name: string;
  failedReason: string | null;
  attemptsMade: number;
  /** When the job was added. */
  timestamp: string;
  /** When it failed for the last time. */
  finishedOn: string | null;
}

/** Every BullMQ queue of the deployment (src/queue/jobs.ts createQueues): a queue added there shows up here. */
export function queueList(queues: Queues): Queue[] {
  return Object.values(queues).filter((value): value is Queue => value instanceof Queue);
}

function requireAdmin(actor: Actor): void {
  if (!actsAsAdmin(actor)) throw new AppError('forbidden', 'This needs an administrator (scope `admin`)');
}

interface LedgerRow {
  key: string;
  pending: number;
  sending: number;
  sent: number;
  failed: number;
  skipped: number;
  oldestDuePendingSeconds: number | null;
}

function countsOf(row: LedgerRow | undefined): LedgerCounts {
  return {
    pending: row?.pending ?? 0,
    sending: row?.sending ?? 0,
    sent: row?.sent ?? 0,
    failed: row?.failed ?? 0,
    skipped: row?.skipped ?? 0,
    oldestDuePendingSeconds: row?.oldestDuePendingSeconds ?? null,
  };
}

export async function queueOverview(deps: { db: Db; queues: Queues }, actor: Actor): Promise<QueueOverview> {
  requireAdmin(actor);
  const queues = queueList(deps.queues);
  const summaries = await Promise.all(
    queues.map(async (queue) => {
      const [counts, paused] = await Promise.all([queue.getJobCounts(...QUEUE_STATES), queue.isPaused()]);
      return {
        name: queue.name,
        paused,
        counts: Object.fromEntries(QUEUE_STATES.map((state) => [state, counts[state] ?? 0])) as Record<
          JobState,
          number
        >,
      };
    }),
  );

  // Counted by PostgreSQL; GROUPING SETS gives the per-medium rows and the total in one pass over the ledger.
  const deliveryRows = await deps.db.$queryRaw<LedgerRow[]>`
    SELECT COALESCE(medium::text, '*') AS key,
           count(*) FILTER (WHERE status = 'pending')::int AS pending,
           count(*) FILTER (WHERE status = 'sending')::int AS sending,
           count(*) FILTER (WHERE status = 'sent')::int AS sent,
           count(*) FILTER (WHERE status = 'failed')::int AS failed,
           count(*) FILTER (WHERE status = 'skipped')::int AS skipped,
           EXTRACT(EPOCH FROM now() - min("nextAttemptAt") FILTER (WHERE status = 'pending' AND "nextAttemptAt" <= now()))::float8
             AS "oldestDuePendingSeconds"
      FROM "Delivery"
     GROUP BY GROUPING SETS ((medium), ())
     ORDER BY key`;
  const digestRows = await deps.db.$queryRaw<LedgerRow[]>`
    SELECT '*' AS key,
           count(*) FILTER (WHERE status = 'pending')::int AS pending,
           count(*) FILTER (WHERE status = 'sending')::int AS sending,
           count(*) FILTER (WHERE status = 'sent')::int AS sent,
           count(*) FILTER (WHERE status = 'failed')::int AS failed,
           count(*) FILTER (WHERE status = 'skipped')::int AS skipped,
           EXTRACT(EPOCH FROM now() - min("nextAttemptAt") FILTER (WHERE status = 'pending' AND "nextAttemptAt" <= now()))::float8
             AS "oldestDuePendingSeconds"
      FROM "Digest"`;
  const total = deliveryRows.find((row) => row.key === '*');
  return {
    queues: summaries,
    ledger: {
      deliveries: {
        ...countsOf(total),
        byMedium: deliveryRows.filter((row) => row.key !== '*').map((row) => ({ medium: row.key, ...countsOf(row) })),
      },
      digests: countsOf(digestRows[0]),
    },
  };
}

export async function failedJobs(
  deps: { queues: Queues },
  actor: Actor,
  name: string,
  limit: number,
): Promise<{ queue: string; jobs: FailedJob[] }> {
  requireAdmin(actor);
  const queue = queueList(deps.queues).find((q) => q.name === name);
  if (!queue) throw new AppError('not_found', 'No such queue');
  const jobs = await queue.getFailed(0, Math.max(1, Math.min(limit, MAX_FAILED_JOBS)) - 1);
  return {
    queue: queue.name,
    // Never the job's data: ids only today, but this list must stay free of anything personal whatever a producer
    // puts there later.
    jobs: jobs.flatMap((job) =>
      job
        ? [
            {
              id: String(job.id),
              name: job.name,
              failedReason: job.failedReason ?? null,
              attemptsMade: job.attemptsMade,
              timestamp: new Date(job.timestamp).toISOString(),
              finishedOn: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
            },
          ]
        : [],
    ),
  };
}

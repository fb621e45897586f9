/**
 * The sweeper: re-queues delivery work that was lost, so a crashed worker or a Redis that lost its data loses nothing.
 * Runs every SWEEP_INTERVAL_MS from one BullMQ job scheduler (one run per cluster per interval).
 *
 * Steps 1 and 2 are one function for every ledger (workers/processors/ledger-sweep.ts: e-mail, push and webhook
 * Delivery rows, Digest rows).
 *
 * 1. `sending` rows claimed longer than STALE_DELIVERY_MS ago: their worker died mid-send. They go back to `pending`
 *    and are re-queued at once. The message may have reached the relay before the crash, so this can send it again —
 *    bounded by what was in flight, and with the SAME Message-ID (derived from the delivery id), so the duplicate is
 *    recognisable. A row that has used up its attempts this way is marked `failed` instead (a message that keeps
 *    killing its worker must not loop forever).
 * 2. `pending` rows due longer than STALE_DELIVERY_MS ago: their job was lost (Redis data loss, a bug). They are
 *    re-queued. Picking them is a claim — `UPDATE … SET "nextAttemptAt" = now() … RETURNING` over rows locked with
 *    SKIP LOCKED — so two sweepers never both re-queue the same row, and a row is re-queued at most once per
 *    STALE_DELIVERY_MS. During a long backlog this re-queues rows whose jobs are merely waiting; those duplicates
 *    cost one failed claim each.
 *
 * 3. `scheduled` announcements whose publishAt passed more than SCHEDULED_GRACE_MS ago: their delayed job was lost
 *    (Redis data loss) or never added (the relay was down). They are published with the same conditional update
 *    the job uses (src/services/schedule.ts), so a job that fires meanwhile and the sweeper cannot both publish.
 * 4. Idempotency keys past their 24 hours (src/services/idempotency.ts) are deleted: an expired key no longer
 *    counts, so keeping it only costs space.
 * 4b. Subscriptions without an account never confirmed, UNCONFIRMED_MAX_AGE_DAYS after their last confirmation
 *    e-mail, are deleted (src/services/email-subscriptions.ts): their links expired long ago.
 * 5. Web push (when `push` deps are given): steps 1 and 2 for push deliveries, into the push queue, and browser
 *    subscriptions not refreshed for PUSH_SUBSCRIPTION_MAX_AGE_DAYS are deleted (workers/processors/push.ts). Steps 1
 *    and 2 above take e-mail rows only: the e-mail processor would never claim another medium's.
 * 6. Webhooks (when `webhooks` deps are given): steps 1 and 2 for webhook deliveries, into the webhook queue
 *    (workers/processors/webhook.ts, sweepWebhooks).
 * 7. Digests (when `digests` deps are given): steps 1 and 2 for Digest rows, into the digest queue
 *    (workers/processors/digest.ts, sweepDigests).
 *
 * 8. Outbox events relayed more than STALE_DELIVERY_MS ago whose fan-out-queue job never finished (a publication's
 *    fan-out, a correction, a retraction notice: workers/outbox-jobs.ts) — the job was lost with Redis data, or keeps
 *    failing — get their job again (when `fanoutQueue` is given). Taking them is a claim that moves "relayedAt" to
 *    now (the last hand-over to Redis), so two sweepers never both re-add one, and a slow job is re-added at most once
 *    per STALE_DELIVERY_MS; a re-run is harmless, the processors being idempotent on the ledger's unique keys.
 *
 * Unrelayed outbox events need nothing here: the outbox relay polls for them every OUTBOX_POLL_MS in every worker
 * process (workers/outbox-relay.ts), whether or not a notification arrived.
 */
import type { Queue } from 'bullmq';
import type { Db } from '../../src/db/prisma.js';
import type { Logger } from '../../src/logger.js';
import { chunk, type EmailJob, type FanoutJob, jobId } from '../../src/queue/jobs.js';
import { deleteStaleUnconfirmed } from '../../src/services/email-subscriptions.js';
import { deleteExpiredIdempotencyKeys } from '../../src/services/idempotency.js';
import { publishOverdueScheduled } from '../../src/services/schedule.js';
import { fanoutQueueJobFor, withSweepSuffix } from '../outbox-jobs.js';
import { type DigestSweepDeps, type DigestSweepResult, sweepDigests } from './digest.js';
import { enqueueEmailJobs } from './fanout.js';
import { SWEEP_ROUND, sweepLedger } from './ledger.js';
import { type PushSweepDeps, type PushSweepResult, sweepPush } from './push.js';
import { sweepWebhooks, type WebhookSweepDeps, type WebhookSweepResult } from './webhook.js';

export interface SweepProcessorDeps {
  db: Db;
  emailQueue: Pick<Queue<EmailJob>, 'addBulk'>;
  /** Fan-out queue: jobs of outbox events relayed but never processed (step 8). */
  fanoutQueue?: Pick<Queue<FanoutJob>, 'addBulk'>;
  staleDeliveryMs: number;
  /** EMAIL_MAX_ATTEMPTS. */
  maxAttempts: number;
  emailBatchSize: number;
  logger: Logger;
  /** How late a scheduled announcement may be before the sweeper publishes it itself; default SCHEDULED_GRACE_MS. */
  scheduledGraceMs?: number;
  /** Web push: lost push deliveries and stale browser subscriptions (workers/processors/push.ts, sweepPush). */
  push?: Omit<PushSweepDeps, 'db' | 'staleDeliveryMs' | 'logger'>;
  /** Webhooks: lost webhook deliveries (workers/processors/webhook.ts, sweepWebhooks). */
  webhooks?: Omit<WebhookSweepDeps, 'db' | 'staleDeliveryMs' | 'logger'>;
  /** Digests: lost Digest rows (workers/processors/digest.ts, sweepDigests). */
  digests?: Omit<DigestSweepDeps, 'db' | 'staleDeliveryMs' | 'logger'>;
}

export interface SweepResult {
  /** `sending` rows put back to `pending` and re-queued. */
  resetSending: number;
  /** `sending` rows that had no attempts left: marked `failed`. */
  failedSending: number;
  /** Lost `pending` rows re-queued. */
  requeuedPending: number;
  /** Scheduled announcements past their time that the sweeper published (their timer was lost). */
  publishedScheduled: number;
  /** Expired idempotency keys deleted. */
  deletedIdempotencyKeys: number;
  /** Subscriptions without an account never confirmed, deleted after UNCONFIRMED_MAX_AGE_DAYS. */
  deletedUnconfirmed: number;
  /** The push part, when push deps were given. */
  push?: PushSweepResult;
  /** The webhook part, when webhook deps were given. */
  webhooks?: WebhookSweepResult;
  /** The digest part, when digest deps were given. */
  digests?: DigestSweepResult;
  /** Outbox events whose lost fan-out, correction or retraction job was added again (step 8). */
  requeuedOutboxEvents?: number;
}

/** Rows per statement; a sweep loops until a round finds fewer, so a large loss is healed in one run. */
export const WORKER_LOST_ERROR = 'worker lost while sending';
/** Long enough that a timer firing on time (and its retries after a little clock skew) always wins. */
export const SCHEDULED_GRACE_MS = 10_000;

export async function processSweep(deps: SweepProcessorDeps): Promise<SweepResult> {
  const { db } = deps;
  const staleSeconds = deps.staleDeliveryMs / 1000;
  const result: SweepResult = {
    resetSending: 0,
    failedSending: 0,
    requeuedPending: 0,
    publishedScheduled: 0,
    deletedIdempotencyKeys: 0,
    deletedUnconfirmed: 0,
  };

  Object.assign(
    result,
    await sweepLedger(
      db,
      {
        ledger: { table: 'Delivery', medium: 'email' },
        staleDeliveryMs: deps.staleDeliveryMs,
        maxAttempts: deps.maxAttempts,
        lostError: WORKER_LOST_ERROR,
      },
      (ids) => requeue(deps, ids),
    ),
  );

  if (result.resetSending + result.failedSending + result.requeuedPending > 0) {
    deps.logger.warn(result, 'sweeper re-queued lost deliveries');
  }

  result.publishedScheduled = await publishOverdueScheduled(db, deps.scheduledGraceMs ?? SCHEDULED_GRACE_MS);
  if (result.publishedScheduled > 0) {
    deps.logger.warn(
      { published: result.publishedScheduled },
      'sweeper published scheduled announcements it found late',
    );
  }
  result.deletedIdempotencyKeys = await deleteExpiredIdempotencyKeys(db);
  result.deletedUnconfirmed = await deleteStaleUnconfirmed(db);
  if (deps.push) {
    result.push = await sweepPush({ ...deps.push, db, staleDeliveryMs: deps.staleDeliveryMs, logger: deps.logger });
  }
  if (deps.webhooks) {
    result.webhooks = await sweepWebhooks({
      ...deps.webhooks,
      db,
      staleDeliveryMs: deps.staleDeliveryMs,
      logger: deps.logger,
    });
  }
  if (deps.digests) {
    result.digests = await sweepDigests({
      ...deps.digests,
      db,
      staleDeliveryMs: deps.staleDeliveryMs,
      logger: deps.logger,
    });
  }
  if (deps.fanoutQueue) {
    result.requeuedOutboxEvents = await requeueUnprocessedOutbox(db, deps.fanoutQueue, staleSeconds);
    if (result.requeuedOutboxEvents > 0) {
      deps.logger.warn({ events: result.requeuedOutboxEvents }, 'sweeper re-added lost fan-out jobs');
    }
  }
  return result;
}

/** Step 8: claims unprocessed relayed events (moving "relayedAt" on) and adds their jobs again. */
async function requeueUnprocessedOutbox(
  db: Db,
  fanoutQueue: Pick<Queue<FanoutJob>, 'addBulk'>,
  staleSeconds: number,
): Promise<number> {
  let total = 0;
  for (;;) {
    const events = await db.$queryRaw<{ id: bigint; type: string; aggregateId: string; payload: unknown }[]>`
      UPDATE "OutboxEvent" e
         SET "relayedAt" = now(), attempts = e.attempts + 1
       WHERE e.id IN (
             SELECT id FROM "OutboxEvent"
              WHERE "processedAt" IS NULL AND "relayedAt" IS NOT NULL
                AND "relayedAt" < now() - make_interval(secs => ${staleSeconds}::float8)
              ORDER BY "relayedAt" LIMIT ${SWEEP_ROUND}::int
                FOR UPDATE SKIP LOCKED)
      RETURNING e.id, e.type, e."aggregateId", e.payload`;
    const sweptAt = Date.now();
    const jobs = events.flatMap((event) => {
      const job = fanoutQueueJobFor(event);
      return job ? [withSweepSuffix(job, sweptAt)] : [];
    });
    for (const part of chunk(jobs, 1000)) {
      await fanoutQueue.addBulk(part.map((job) => ({ name: job.name, data: job.data, opts: { jobId: job.jobId } })));
    }
    // An event that needs no job (the relay marks those processed; only a row written by hand lacks it) is done.
    const needNone = events.filter((event) => fanoutQueueJobFor(event) === null).map((event) => String(event.id));
    if (needNone.length > 0) {
      await db.$executeRaw`UPDATE "OutboxEvent" SET "processedAt" = now() WHERE id = ANY(${needNone}::bigint[])`;
    }
    total += jobs.length;
    if (events.length < SWEEP_ROUND) return total;
  }
}

async function requeue(deps: SweepProcessorDeps, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  // If this fails (Redis down), the rows stay pending and due: the next sweep after STALE_DELIVERY_MS takes them.
  const sweptAt = Date.now();
  await enqueueEmailJobs(deps, ids, (firstId) => jobId.emailRequeue(firstId, sweptAt));
}

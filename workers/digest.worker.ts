/**
 * BullMQ binding of the digest processor (workers/processors/digest.ts): `run` jobs from the daily and weekly job
 * schedulers (and by hand), `send` jobs with Digest ids. The job schedulers are upserted at worker start
 * (`upsertDigestSchedulers`, called by workers/main.ts).
 */
import type { Queue } from 'bullmq';
import type { Config } from '../src/config.js';
import type { Deps } from '../src/deps.js';
import { cronPattern, type DigestMode } from '../src/digest/period.js';
import { AppError } from '../src/domain/errors.js';
import type { Logger } from '../src/logger.js';
import type { Mailer } from '../src/mail/mailer.js';
import { DIGEST_SCHEDULER_ID, type DigestJob, QUEUE } from '../src/queue/jobs.js';
import { type BoundWorker, bindWorker } from './binding.js';
import {
  type DigestRunResult,
  type DigestSendResult,
  processDigestRun,
  processDigestSend,
  scheduledTimeOf,
} from './processors/digest.js';

/** Jobs in flight per worker process. A run is mostly one statement per page; a send waits on the SMTP relay. */
const DIGEST_CONCURRENCY = 4;

export function createDigestWorker(
  deps: Pick<Deps, 'config' | 'db' | 'queues'>,
  options: { mailer: Mailer; unsubscribeKey: string | Buffer; logger: Logger },
): BoundWorker {
  const { config } = deps;
  const runDeps = {
    db: deps.db,
    digestQueue: deps.queues.digest,
    schedule: config.digest,
    logger: options.logger,
  };
  const sendDeps = {
    db: deps.db,
    mailer: options.mailer,
    digestQueue: deps.queues.digest,
    unsubscribeKey: options.unsubscribeKey,
    publicUrl: config.http.publicUrl,
    from: config.mail.from,
    maxAttempts: config.delivery.emailMaxAttempts,
    logger: options.logger,
  };
  return bindWorker<DigestJob, DigestRunResult | DigestSendResult>(
    QUEUE.digest,
    async (data, job) => {
      if (data?.task === 'send') return processDigestSend(data, sendDeps);
      if (data?.task === 'run' && (data.mode === 'daily' || data.mode === 'weekly')) {
        return processDigestRun(data.mode, scheduledTimeOf(job, data), runDeps);
      }
      throw new AppError('validation_failed', 'Unknown digest task', { task: (data as { task?: unknown })?.task });
    },
    { config, logger: options.logger, concurrency: DIGEST_CONCURRENCY },
  );
}

/**
 * The daily and weekly job schedulers: cron at DIGEST_TIME in DIGEST_TIME_ZONE (BullMQ follows the zone's daylight
 * saving), weekly on DIGEST_WEEKDAY. Upserting is idempotent: every worker process does it at start, a changed
 * setting replaces the schedule, and a Redis that lost its data gets it back from the next worker that starts.
 */
export async function upsertDigestSchedulers(
  queue: Pick<Queue<DigestJob>, 'upsertJobScheduler'>,
  config: Pick<Config, 'digest'>,
): Promise<void> {
  for (const mode of ['daily', 'weekly'] as DigestMode[]) {
    await queue.upsertJobScheduler(
      DIGEST_SCHEDULER_ID[mode],
      { pattern: cronPattern(mode, config.digest), tz: config.digest.timeZone },
      { name: 'run', data: { task: 'run', mode } },
    );
  }
}

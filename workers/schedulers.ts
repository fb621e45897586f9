/**
 * The BullMQ job schedulers of a deployment: the sweeper and the acknowledgement reminders (every SWEEP_INTERVAL_MS,
 * maintenance queue) and the daily and weekly digests (cron at DIGEST_TIME, digest queue).
 *
 * A scheduler lives in Redis only. Every worker process upserts them at start — an upsert of the same id and rule
 * replaces the pending iteration at the same time, so any number of workers make one schedule — and then checks every
 * SWEEP_INTERVAL_MS that they still exist. A Redis that lost its data (FLUSHALL, a failover to an empty replica, a
 * restart without persistence) would otherwise run no sweeper until some worker restarted, and the work the sweeper
 * rebuilds from PostgreSQL would wait for it. With the check it is back within one interval, without a restart.
 */
import type { Deps } from '../src/deps.js';
import type { Logger } from '../src/logger.js';
import { ACK_REMINDER_SCHEDULER_ID, DIGEST_SCHEDULER_ID, SWEEP_SCHEDULER_ID } from '../src/queue/jobs.js';
import { upsertDigestSchedulers } from './digest.worker.js';

export async function upsertSchedulers(deps: Pick<Deps, 'config' | 'queues'>): Promise<void> {
  const { config, queues } = deps;
  await queues.maintenance.upsertJobScheduler(
    SWEEP_SCHEDULER_ID,
    { every: config.delivery.sweepIntervalMs },
    { name: 'sweep', data: { task: 'sweep' } },
  );
  // Reminders to acknowledge near the deadline (workers/processors/ack-reminders.ts), on the sweeper's rhythm.
  await queues.maintenance.upsertJobScheduler(
    ACK_REMINDER_SCHEDULER_ID,
    { every: config.delivery.sweepIntervalMs },
    { name: 'ack-reminders', data: { task: 'ack-reminders' } },
  );
  // E-mail digests at DIGEST_TIME (workers/processors/digest.ts): cron in DIGEST_TIME_ZONE, daily and weekly.
  await upsertDigestSchedulers(queues.digest, config);
}

/** Whether one of the schedulers is missing from Redis. */
export async function schedulersMissing(deps: Pick<Deps, 'queues'>): Promise<boolean> {
  const { maintenance, digest } = deps.queues;
  const found = await Promise.all([
    maintenance.getJobScheduler(SWEEP_SCHEDULER_ID),
    maintenance.getJobScheduler(ACK_REMINDER_SCHEDULER_ID),
    digest.getJobScheduler(DIGEST_SCHEDULER_ID.daily),
    digest.getJobScheduler(DIGEST_SCHEDULER_ID.weekly),
  ]);
  return found.some((scheduler) => !scheduler);
}

/**
 * Checks every `intervalMs` that the schedulers exist and upserts them when one is missing. A Redis that does not
 * answer is simply asked again at the next tick (its reconnect is ioredis's business). Returns the stop function.
 */
export function keepSchedulers(deps: Pick<Deps, 'config' | 'queues'>, logger: Logger, intervalMs: number): () => void {
  let checking = false;
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    void (async () => {
      try {
        if (await schedulersMissing(deps)) {
          await upsertSchedulers(deps);
          logger.warn('job schedulers were missing from Redis (its data was lost?): added them again');
        }
      } catch (error) {
        logger.debug({ err: error }, 'could not check the job schedulers; will try again');
      } finally {
        checking = false;
      }
    })();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** BullMQ binding of the periodic housekeeping: the sweeper (workers/processors/sweep.ts) and the acknowledgement
 * reminders (workers/processors/ack-reminders.ts), each started by its own job scheduler. */
import type { Deps } from '../src/deps.js';
import { AppError } from '../src/domain/errors.js';
import type { Logger } from '../src/logger.js';
import { type MaintenanceJob, QUEUE } from '../src/queue/jobs.js';
import { type BoundWorker, bindWorker } from './binding.js';
import { type AckReminderResult, processAckReminders } from './processors/ack-reminders.js';
import { processSweep, type SweepResult } from './processors/sweep.js';

export function createMaintenanceWorker(deps: Pick<Deps, 'config' | 'db' | 'queues'>, logger: Logger): BoundWorker {
  const { config } = deps;
  const sweepDeps = {
    db: deps.db,
    emailQueue: deps.queues.email,
    // Lost fan-out, correction and retraction jobs come back from the outbox (workers/outbox-jobs.ts).
    fanoutQueue: deps.queues.fanout,
    staleDeliveryMs: config.delivery.staleDeliveryMs,
    maxAttempts: config.delivery.emailMaxAttempts,
    emailBatchSize: config.delivery.emailBatchSize,
    logger,
    push: {
      pushQueue: deps.queues.push,
      maxAttempts: config.push.maxAttempts,
      subscriptionMaxAgeDays: config.push.subscriptionMaxAgeDays,
    },
    webhooks: { webhookQueue: deps.queues.webhook, maxAttempts: config.webhooks.maxAttempts },
    digests: { digestQueue: deps.queues.digest, maxAttempts: config.delivery.emailMaxAttempts },
  };
  const reminderDeps = {
    db: deps.db,
    emailQueue: deps.queues.email,
    emailBatchSize: config.delivery.emailBatchSize,
    beforeHours: config.delivery.ackReminderBeforeHours,
    logger,
  };
  return bindWorker<MaintenanceJob, SweepResult | AckReminderResult>(
    QUEUE.maintenance,
    async (data) => {
      if (data?.task === 'sweep') return processSweep(sweepDeps);
      if (data?.task === 'ack-reminders') return processAckReminders(reminderDeps);
      throw new AppError('validation_failed', 'Unknown maintenance task', { task: data?.task });
    },
    // One at a time: sweeps are cheap and must not pile up behind a slow database.
    { config, logger, concurrency: 1 },
  );
}

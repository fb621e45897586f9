/** BullMQ binding of scheduled publishing (workers/processors/scheduled-publish.ts). */
import type { Deps } from '../src/deps.js';
import type { Logger } from '../src/logger.js';
import { QUEUE, type ScheduledPublishJob } from '../src/queue/jobs.js';
import type { ScheduledOutcome } from '../src/services/schedule.js';
import { type BoundWorker, bindWorker } from './binding.js';
import { processScheduledPublish } from './processors/scheduled-publish.js';

/** Each job is one short transaction; a handful at once covers many announcements scheduled for the same minute. */
export const SCHEDULED_CONCURRENCY = 4;

export function createScheduledWorker(deps: Pick<Deps, 'config' | 'db'>, logger: Logger): BoundWorker {
  const processorDeps = { db: deps.db, logger };
  return bindWorker<ScheduledPublishJob, ScheduledOutcome['outcome']>(
    QUEUE.scheduled,
    (data) => processScheduledPublish(data, processorDeps),
    { config: deps.config, logger, concurrency: SCHEDULED_CONCURRENCY },
  );
}

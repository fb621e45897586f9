/** BullMQ binding of the fan-out processor (workers/processors/fanout.ts). */
import type { Deps } from '../src/deps.js';
import type { Logger } from '../src/logger.js';
import { type FanoutJob, QUEUE } from '../src/queue/jobs.js';
import { type BoundWorker, bindWorker } from './binding.js';
import { type FanoutResult, processFanout } from './processors/fanout.js';
import { NOTICE_JOB, type NoticeResult, processNotice } from './processors/notices.js';

/**
 * Fan-outs are few and each pages through its audience on its own; two at a time keeps one huge channel from
 * holding up the others without competing with the e-mail workers for the database.
 */
export const FANOUT_CONCURRENCY = 2;

export function createFanoutWorker(deps: Pick<Deps, 'config' | 'db' | 'queues'>, logger: Logger): BoundWorker {
  const processorDeps = {
    db: deps.db,
    emailQueue: deps.queues.email,
    // Announcements go by web push and webhooks too; corrections also by web push (workers/processors/notices.ts).
    pushQueue: deps.queues.push,
    webhookQueue: deps.queues.webhook,
    pageSize: deps.config.delivery.fanoutPageSize,
    emailBatchSize: deps.config.delivery.emailBatchSize,
    logger,
  };
  // The queue also carries the corrections and retraction notices (workers/processors/notices.ts), by job name.
  return bindWorker<FanoutJob, FanoutResult | NoticeResult>(
    QUEUE.fanout,
    (data, job) =>
      job.name === NOTICE_JOB.correction || job.name === NOTICE_JOB.retraction
        ? processNotice(job.name, data, processorDeps)
        : processFanout(data, processorDeps),
    {
      config: deps.config,
      logger,
      concurrency: FANOUT_CONCURRENCY,
    },
  );
}

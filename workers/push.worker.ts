/** BullMQ binding of the web push processor (workers/processors/push.ts). */
import type { Agent } from 'node:https';
import type { Deps } from '../src/deps.js';
import type { Logger } from '../src/logger.js';
import { createPushSender } from '../src/push/sender.js';
import { type PushJob, QUEUE } from '../src/queue/jobs.js';
import { type BoundWorker, bindWorker } from './binding.js';
import { type PushJobResult, processPushJob } from './processors/push.js';

export function createPushWorker(
  deps: Pick<Deps, 'config' | 'db' | 'queues'>,
  options: { logger: Logger; agent?: Agent },
): BoundWorker {
  const { config } = deps;
  const vapid = config.push.vapid;
  const processorDeps = {
    db: deps.db,
    // Without VAPID keys web push is off: deliveries that exist anyway are skipped `push_disabled`.
    sender: vapid ? createPushSender({ vapid, ...(options.agent ? { agent: options.agent } : {}) }) : null,
    pushQueue: deps.queues.push,
    publicUrl: config.http.publicUrl,
    // Read at every send, not only at registration: the setting may have been narrowed since.
    serviceHosts: config.push.serviceHosts,
    maxAttempts: config.push.maxAttempts,
    logger: options.logger,
  };
  return bindWorker<PushJob, PushJobResult>(QUEUE.push, (data) => processPushJob(data, processorDeps), {
    config,
    logger: options.logger,
    concurrency: config.push.concurrency,
  });
}

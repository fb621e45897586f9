/**
 * What every BullMQ worker binding shares: its own blocking Redis connection (role `worker`), the queue prefix, the
 * translation of permanent errors into UnrecoverableError (BullMQ must not retry a job that cannot succeed), logging
 * of failures, and a close that lets in-flight jobs finish.
 */
import { type Job, type Processor, UnrecoverableError, Worker } from 'bullmq';
import type { Config } from '../src/config.js';
import { isAppError } from '../src/domain/errors.js';
import type { Logger } from '../src/logger.js';
import { bullPrefix, type QueueName } from '../src/queue/jobs.js';
import { createRedis } from '../src/redis.js';

export interface BoundWorker {
  worker: Worker;
  /** Stops taking jobs, waits for the active ones, then closes the connection. */
  close(): Promise<void>;
}

/**
 * Errors that would fail the same way on every retry: a malformed payload (AppError with a 4xx code). Everything
 * else — PostgreSQL or Redis unreachable, a timeout — is retried by BullMQ with the queue's back-off.
 */
export function isPermanentJobError(error: unknown): boolean {
  return isAppError(error) && error.status < 500;
}

export function bindWorker<Data, Result>(
  queue: QueueName,
  processor: (data: Data, job: Job<Data, Result>) => Promise<Result>,
  options: { config: Config; logger: Logger; concurrency: number },
): BoundWorker {
  const connection = createRedis(options.config.redis.url, 'worker', `${queue}-worker`);
  const log = options.logger.child({ queue });
  const run: Processor<Data, Result> = async (job) => {
    try {
      return await processor(job.data, job);
    } catch (error) {
      if (isPermanentJobError(error)) throw new UnrecoverableError((error as Error).message);
      throw error;
    }
  };
  const worker = new Worker<Data, Result>(queue, run, {
    connection,
    prefix: bullPrefix(options.config.redis.prefix, connection),
    concurrency: options.concurrency,
  });
  worker.on('failed', (job, error) => {
    log.warn({ jobId: job?.id, attemptsMade: job?.attemptsMade, err: error }, 'job failed');
  });
  // Without a listener, an 'error' event (Redis connection trouble) would crash the process; the connection retries.
  worker.on('error', (error) => log.error({ err: error }, 'worker error'));
  return {
    worker,
    async close() {
      await worker.close();
      connection.disconnect();
    },
  };
}

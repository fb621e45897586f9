/**
 * The process's shared resources, built once from the configuration: one Prisma client, one Redis connection for
 * producing jobs and publishing, the queues. API and workers take what they need from here; each closes in reverse.
 */
import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import { createPrisma, type Db } from './db/prisma.js';
import type { Logger } from './logger.js';
import { createQueues, type Queues } from './queue/jobs.js';
import { createRedis } from './redis.js';

export interface Deps {
  config: Config;
  db: Db;
  /** Fails fast when Redis is down (no offline queue): request paths answer 503 instead of hanging. */
  redis: Redis;
  queues: Queues;
  close(): Promise<void>;
}

/**
 * `log` hears of a Redis outage once (the first error after the connection was last ready): without a listener BullMQ
 * prints every queue's connection error to stderr, unstructured, at each reconnect attempt, and ioredis its own.
 */
export function createDeps(config: Config, log?: Pick<Logger, 'warn'>): Deps {
  const db = createPrisma({ url: config.database.url, poolSize: config.database.poolSize });
  const redis = createRedis(config.redis.url, 'producer', 'producer');
  const queues = createQueues(redis, config.redis.prefix);
  let outageReported = false;
  redis.on('ready', () => {
    outageReported = false;
  });
  const onRedisError = (error: Error) => {
    if (outageReported) return;
    outageReported = true;
    log?.warn({ err: error }, 'Redis is unavailable; reconnecting (job producers and publishers fail fast meanwhile)');
  };
  redis.on('error', onRedisError);
  for (const queue of Object.values(queues)) if (typeof queue !== 'function') queue.on('error', onRedisError);
  let closing: Promise<void> | undefined;
  return {
    config,
    db,
    redis,
    queues,
    close() {
      closing ??= (async () => {
        await queues.close().catch(() => {});
        redis.disconnect();
        await db.$disconnect();
      })();
      return closing;
    },
  };
}

/**
 * The process's shared resources, built once from the configuration: one Prisma client, one Redis connection for
 * producing jobs and publishing, the queues. API and workers take what they need from here; each closes in reverse.
 */
import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import { createPrisma, type Db } from './db/prisma.js';
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

export function createDeps(config: Config): Deps {
  const db = createPrisma({ url: config.database.url, poolSize: config.database.poolSize });
  const redis = createRedis(config.redis.url, 'producer', 'producer');
  const queues = createQueues(redis, config.redis.prefix);
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

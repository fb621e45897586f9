/**
 * The one factory for Redis connections, with the options each role needs:
 * - `worker`: BullMQ workers block on Redis and must never give up a command (`maxRetriesPerRequest: null`).
 * - `producer`: the API adds jobs on request paths; with Redis down it must fail fast (the request gets a 503)
 *   instead of queueing commands in memory (`enableOfflineQueue: false`).
 * - `subscriber`: pub/sub listener; keeps retrying and re-subscribes after reconnects (ioredis does this itself).
 * - `limiter`: rate-limit counters on every request: fails fast like `producer`, and a command that gets no answer
 *   (a Redis that accepts connections but hangs) gives up after a bound, so the limiter never holds a request.
 */
import { Redis, type RedisOptions } from 'ioredis';

export type RedisRole = 'worker' | 'producer' | 'subscriber' | 'publisher' | 'limiter';

export function createRedis(url: string, role: RedisRole, name: string): Redis {
  const common: RedisOptions = {
    connectionName: `meldingskanal:${name}`,
    // Reconnect with capped back-off; Redis restarts are routine.
    retryStrategy: (times) => Math.min(times * 200, 5000),
  };
  const perRole: Record<RedisRole, RedisOptions> = {
    worker: { maxRetriesPerRequest: null },
    producer: { enableOfflineQueue: false, maxRetriesPerRequest: 1 },
    subscriber: { maxRetriesPerRequest: null },
    publisher: { maxRetriesPerRequest: 2 },
    limiter: { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 500 },
  };
  return new Redis(url, { ...common, ...perRole[role] });
}

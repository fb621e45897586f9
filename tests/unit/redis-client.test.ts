/**
 * createRedis's clients end when disconnected while `reconnecting` (socket closed, retry timer pending). Plain
 * ioredis leaves such a client `reconnecting` for good and never emits `end`, which hung BullMQ's Worker.close()
 * after a Sentinel failover (src/redis.ts, RedisClient). A port where nothing listens keeps the client reconnecting.
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createRedis } from '../../src/redis.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';

describe('createRedis: disconnect while reconnecting', () => {
  for (const role of ['worker', 'subscriber'] as const) {
    it(`ends a ${role} connection (and its duplicate) and rejects its pending commands`, async () => {
      const port = await freePort();
      const client = createRedis(`redis://127.0.0.1:${port}`, role, 'unit');
      // BullMQ's blocking connection is a duplicate of the worker's connection.
      const duplicate = client.duplicate({ connectionName: 'unit-duplicate' });
      for (const redis of [client, duplicate]) {
        redis.on('error', () => {});
        await waitFor(() => redis.status === 'reconnecting', { what: 'the client to be reconnecting' });
        // maxRetriesPerRequest: null keeps it waiting for a connection; the end must settle it.
        const pending = redis.get('k').then(
          () => 'resolved',
          (error: Error) => error.message,
        );
        const ended = once(redis, 'end');
        redis.disconnect();
        await ended;
        expect(redis.status).toBe('end');
        expect(await pending).toBe('Connection is closed.');
      }
    });
  }
});

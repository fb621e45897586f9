/**
 * A Redis outage is reported once, as a structured log line (src/deps.ts): not as BullMQ's unstructured stderr print of
 * every queue's connection error at every reconnect attempt, nor as ioredis's "Unhandled error event".
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createDeps, type Deps } from '../../src/deps.js';
import { waitFor } from '../helpers/wait.js';

let deps: Deps | undefined;

afterEach(async () => {
  await deps?.close();
  vi.restoreAllMocks();
});

describe('a Redis that cannot be reached', () => {
  it('is logged once per outage, through the logger, and nothing is printed to stderr', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {});
    const warnings: string[] = [];
    const lines = new Writable({
      write(chunk: Buffer, _encoding, done) {
        warnings.push((JSON.parse(chunk.toString()) as { msg: string }).msg);
        done();
      },
    });
    deps = createDeps(loadConfig({ REDIS_URL: 'redis://127.0.0.1:1', LOG_LEVEL: 'silent' }), pino(lines));
    // Several reconnect attempts of the producer connection, which all eight queues share.
    let reconnects = 0;
    deps.redis.on('reconnecting', () => {
      reconnects += 1;
    });
    await waitFor(() => reconnects >= 3, { what: 'three reconnect attempts' });
    expect(warnings).toEqual([expect.stringMatching(/^Redis is unavailable/)]);
    expect(printed).not.toHaveBeenCalled();
  });
});

import { describe, expect, it } from 'vitest';
import { FLUSH_MS, RateTallies } from '../../src/http/rate-tally.js';

/** A Redis counter in memory, recording every increment it was sent. */
function fakeRedis() {
  const counts = new Map<string, number>();
  const calls: { key: string; by: number }[] = [];
  const increment = async (key: string, _windowMs: number, by: number): Promise<[number, number]> => {
    calls.push({ key, by });
    const current = (counts.get(key) ?? 0) + by;
    counts.set(key, current);
    return [current, 60_000];
  };
  return { counts, calls, increment };
}

/** One request as the store makes it: locally, or in Redis with the pending local count added. */
async function request(tallies: RateTallies, redis: ReturnType<typeof fakeRedis>, key: string, max: number) {
  const local = tallies.countLocally(key, max);
  if (local) return { ...local, local: true };
  const [current, ttl] = await redis.increment(key, 60_000, 1 + tallies.takePending(key));
  tallies.learn(key, max, 60_000, current, ttl);
  return { current, ttl, local: false };
}

describe('RateTallies', () => {
  it('counts small limits in Redis on every request', async () => {
    const redis = fakeRedis();
    const tallies = new RateTallies(redis.increment, () => {});
    for (let i = 0; i < 10; i++) expect((await request(tallies, redis, 'k', 50)).local).toBe(false);
    expect(redis.calls).toHaveLength(10);
  });

  it('counts a busy key here below half its limit, adds the count to Redis in one increment, and is exact beyond', async () => {
    const redis = fakeRedis();
    const tallies = new RateTallies(redis.increment, () => {});
    const first = await request(tallies, redis, 'k', 100);
    expect(first).toMatchObject({ current: 1, local: false });
    const estimates: number[] = [];
    for (let i = 0; i < 49; i++) {
      const answer = await request(tallies, redis, 'k', 100);
      expect(answer.local).toBe(true);
      estimates.push(answer.current);
    }
    expect(estimates.at(-1)).toBe(50);
    expect(redis.calls).toHaveLength(1);
    // The 51st would pass half the limit: to Redis, with the 49 counted here.
    expect(await request(tallies, redis, 'k', 100)).toMatchObject({ current: 51, local: false });
    expect(redis.calls.at(-1)).toEqual({ key: 'k', by: 50 });
    expect(redis.counts.get('k')).toBe(51);
  });

  it('adds what it counted to Redis within the flush interval', async () => {
    const redis = fakeRedis();
    const tallies = new RateTallies(redis.increment, () => {});
    await request(tallies, redis, 'k', 1000);
    for (let i = 0; i < 5; i++) await request(tallies, redis, 'k', 1000);
    expect(redis.counts.get('k')).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, FLUSH_MS * 3));
    expect(redis.counts.get('k')).toBe(6);
    await tallies.close();
  });

  it('refuses a key Redis reported over its limit until its window ends, without asking Redis', async () => {
    const redis = fakeRedis();
    redis.counts.set('k', 200);
    const tallies = new RateTallies(redis.increment, () => {});
    expect((await request(tallies, redis, 'k', 200)).current).toBe(201);
    const calls = redis.calls.length;
    const again = await request(tallies, redis, 'k', 200);
    expect(again.local).toBe(true);
    expect(again.current).toBeGreaterThan(200);
    expect(redis.calls).toHaveLength(calls);
  });
});

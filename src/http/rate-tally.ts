/**
 * Counting a busy client's requests in this process for a moment, so that the rate limits (src/http/plugins/rate-limit.ts)
 * do not cost a Redis round trip per request. The counter in Redis stays the one shared budget of every API process;
 * this only changes WHEN a request is added to it:
 *
 * - A key is counted in Redis, per request, exactly as before, until Redis has answered once for it in this window.
 * - Then, while the count Redis last reported (plus what this process has counted since) is below half the limit,
 *   requests are counted here and added to Redis in one INCRBY per key every FLUSH_MS. Far from the limit nobody is
 *   refused, so an approximate count changes no answer; `x-ratelimit-remaining` is then an estimate.
 * - From half the limit on, every request is counted in Redis again, exactly, as are the last FLUSH_MS of a window
 *   and every limit below LOCAL_MIN_LIMIT (small limits, such as the sensitive routes', stay exact throughout).
 * - A key Redis reported as over its limit is refused here until its window ends, without asking Redis again: a
 *   flood costs no Redis traffic at all.
 *
 * What can be off: other processes' counts of the last FLUSH_MS. A flood that goes from under half its limit to over
 * it within FLUSH_MS, spread over several processes, may get that many requests past the limit once per window.
 */

/** Limits below this are always counted in Redis per request. */
export const LOCAL_MIN_LIMIT = 100;
/** How often counts made here are added to Redis. */
export const FLUSH_MS = 100;

interface Tally {
  windowEndsAt: number;
  windowMs: number;
  /** The count Redis last reported for this window (this process's flushed requests included). */
  reported: number;
  /** Counted here since, not yet in Redis. */
  unflushed: number;
  /** Redis said the limit was exceeded: refused here until the window ends. */
  exceeded: boolean;
}

export interface TallyResult {
  current: number;
  ttl: number;
}

/** Adds `by` to a key's counter in Redis; resolves with its new count and remaining ttl (ms). */
export type RedisIncrement = (key: string, windowMs: number, by: number) => Promise<[number, number]>;

export class RateTallies {
  private readonly tallies = new Map<string, Tally>();
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private lastPrune = Date.now();

  constructor(
    private readonly increment: RedisIncrement,
    private readonly onFlushError: (error: unknown) => void,
  ) {}

  /**
   * Counts one request of `key` here if it may be (see the file comment) and returns the estimate; undefined means
   * "ask Redis" — then pass its answer to `learn`, with `pending(key)` added to the increment.
   */
  countLocally(key: string, max: number, now = Date.now()): TallyResult | undefined {
    if (max < LOCAL_MIN_LIMIT) return undefined;
    const tally = this.tallies.get(key);
    if (!tally || tally.windowEndsAt - FLUSH_MS <= now) return undefined;
    if (tally.exceeded) return { current: Math.max(tally.reported, max + 1), ttl: tally.windowEndsAt - now };
    const current = tally.reported + tally.unflushed + 1;
    if (current * 2 > max) return undefined;
    tally.unflushed += 1;
    this.dirty.add(key);
    this.timer ??= setTimeout(() => this.flush(), FLUSH_MS).unref();
    return { current, ttl: tally.windowEndsAt - now };
  }

  /** Requests counted here and not yet in Redis; the caller adds them to its own increment and then calls `learn`. */
  takePending(key: string): number {
    const tally = this.tallies.get(key);
    if (!tally || tally.unflushed === 0) return 0;
    const pending = tally.unflushed;
    tally.unflushed = 0;
    this.dirty.delete(key);
    return pending;
  }

  /** What Redis answered for `key` (a per-request increment). */
  learn(key: string, max: number, windowMs: number, current: number, ttl: number, now = Date.now()): void {
    if (max < LOCAL_MIN_LIMIT || ttl <= 0) return;
    const windowEndsAt = now + ttl;
    const tally = this.tallies.get(key);
    // The same window as before (ttl readings differ by the round trip), or a new one.
    if (tally && Math.abs(tally.windowEndsAt - windowEndsAt) < windowMs / 2) {
      tally.reported = Math.max(tally.reported, current);
      tally.exceeded ||= current > max;
      return;
    }
    this.tallies.set(key, {
      windowEndsAt,
      windowMs,
      reported: current,
      unflushed: tally?.unflushed ?? 0,
      exceeded: current > max,
    });
    this.prune(now);
  }

  /** Adds every key's local count to Redis (also called at close). */
  async flush(): Promise<void> {
    this.timer = undefined;
    const keys = [...this.dirty];
    this.dirty.clear();
    await Promise.all(
      keys.map(async (key) => {
        const tally = this.tallies.get(key);
        if (!tally || tally.unflushed === 0) return;
        const by = tally.unflushed;
        tally.unflushed = 0;
        try {
          const [current, ttl] = await this.increment(key, tally.windowMs, by);
          const now = Date.now();
          // A new window in Redis (the old one expired meanwhile): start over from what Redis says.
          tally.windowEndsAt = now + ttl;
          tally.reported = current;
        } catch (error) {
          // Failing open, as the limits do when Redis is down: these requests are simply not counted.
          this.onFlushError(error);
        }
      }),
    );
  }

  close(): Promise<void> {
    clearTimeout(this.timer);
    return this.flush();
  }

  /** Forgets tallies of windows that ended, at most once a second. */
  private prune(now: number): void {
    if (now - this.lastPrune < 1000) return;
    this.lastPrune = now;
    for (const [key, tally] of this.tallies) {
      if (tally.windowEndsAt <= now && tally.unflushed === 0) this.tallies.delete(key);
    }
  }
}

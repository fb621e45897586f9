/**
 * How long to wait before reconnecting: exponential back-off with "equal jitter" — the ceiling doubles with each
 * failed attempt (from `baseMs` up to `maxMs`) and the delay is drawn from its upper half. The jitter spreads the
 * clients of a restarted server over time instead of bringing them all back in the same instant; taking the upper
 * half keeps a floor, so a client never retries in a tight loop. Pure.
 */
export interface Backoff {
  /** The first attempt's ceiling. */
  baseMs: number;
  /** The largest ceiling. */
  maxMs: number;
}

/** Half a second at first (a cut connection usually comes back at once), at most 30 s after repeated failures. */
export const DEFAULT_BACKOFF: Backoff = { baseMs: 500, maxMs: 30_000 };

/** The delay before attempt number `attempt` (0 for the first retry). `random` returns [0, 1). */
export function reconnectDelay(attempt: number, random: () => number = Math.random, backoff = DEFAULT_BACKOFF): number {
  const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(Math.max(attempt, 0), 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

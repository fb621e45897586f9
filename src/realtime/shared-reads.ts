/**
 * Replays under a reconnect storm. When an API process restarts or the network blips, thousands of clients reconnect
 * at once, most with the same `since` (they had all received the same last event), each asking for a replay from
 * PostgreSQL. Run one by one they would take every connection of the pool for seconds — and the publish requests and
 * reads of everyone else would wait behind them (tests/e2e/faults/reconnect-storm.test.ts measured that).
 *
 * So replays go through this gate: at most `maxConcurrent` run at once (the rest of the pool stays free for request
 * paths), and a replay asked for while an identical one is still WAITING for its turn joins it instead of running
 * again. Identical means the same key: channels, `since` and the audience scope the SQL filters by. Only a waiting
 * load is joined, never a running one: a caller watches its channels before it asks, and a load that started before
 * that could miss an event committed in between; one that starts after every joiner asked cannot.
 */
export class ReplayGate<T> {
  private running = 0;
  /** Loads waiting for a turn, first come first served; a finishing load hands its turn to the first. */
  private readonly queue: (() => void)[] = [];
  /** The waiting loads by key: the joinable ones. */
  private readonly waiting = new Map<string, Promise<T>>();

  constructor(private readonly maxConcurrent: number) {
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) throw new Error('maxConcurrent must be at least 1');
  }

  /** Loads running now and waiting for a turn (metrics, tests). */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.queue.length };
  }

  /** Runs `load` in its turn, or joins the identical load that is still waiting for its turn. */
  run(key: string, load: () => Promise<T>): Promise<T> {
    const joinable = this.waiting.get(key);
    if (joinable) return joinable;
    if (this.running < this.maxConcurrent) {
      this.running += 1;
      return this.execute(load);
    }
    const result = new Promise<void>((resolve) => this.queue.push(resolve)).then(() => {
      // From here on it runs: later callers with the same key must not join it.
      this.waiting.delete(key);
      return this.execute(load);
    });
    this.waiting.set(key, result);
    return result;
  }

  private async execute(load: () => Promise<T>): Promise<T> {
    try {
      return await load();
    } finally {
      const next = this.queue.shift();
      // The turn passes to the next waiting load (still counted as running), or is given back.
      if (next) next();
      else this.running -= 1;
    }
  }
}

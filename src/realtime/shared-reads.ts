/**
 * The reads of a subscription under a reconnect storm. When an API process restarts or the network blips, thousands
 * of clients reconnect at once, each subscribing — its credential and channels looked up — and most asking for a
 * replay from the same `since` (they had all received the same last event). Run as they come, these reads queue for
 * every connection of the pool: everyone else's requests wait behind them, and replay transactions time out waiting
 * for a connection (tests/e2e/faults/reconnect-storm.test.ts met both, at 2,000 sockets).
 *
 * So they go through this gate: at most `maxConcurrent` run at once (the rest of the pool stays free for request
 * paths), and a read asked for while an identical one is still WAITING for its turn joins it instead of running
 * again. Identical means the same key: for a replay its channels, `since` and the audience scope the SQL filters by;
 * for a subscription the credential and the channels. Only a waiting read is joined, never a running one: a socket
 * watches its channels before it asks for its replay, and a read that started before that could miss an event
 * committed in between; one that starts after every joiner asked cannot. Keys of different reads must differ (the
 * result of one is handed to the joiners of the same key as is).
 */
export class SharedReadGate {
  private running = 0;
  /** Loads waiting for a turn, first come first served; a finishing load hands its turn to the first. */
  private readonly queue: (() => void)[] = [];
  /** The waiting loads by key: the joinable ones. */
  private readonly waiting = new Map<string, Promise<unknown>>();

  constructor(private readonly maxConcurrent: number) {
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) throw new Error('maxConcurrent must be at least 1');
  }

  /** Loads running now and waiting for a turn (metrics, tests). */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.queue.length };
  }

  /** Runs `load` in its turn, or joins the identical load that is still waiting for its turn. */
  run<T>(key: string, load: () => Promise<T>): Promise<T> {
    const joinable = this.waiting.get(key);
    if (joinable) return joinable as Promise<T>;
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

  private async execute<T>(load: () => Promise<T>): Promise<T> {
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

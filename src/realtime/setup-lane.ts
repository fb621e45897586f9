/**
 * The lane that connections being set up wait in: their `subscribed` frame and watching, and the sending of their
 * replay, run here, a few milliseconds of it per turn of the event loop, instead of all at once where their reads
 * finished.
 *
 * Why: in a reconnect storm thousands of sessions wait for the same shared reads (shared-reads.ts). When a read
 * finishes, every session that joined it continued at once, in the same microtask queue, each writing its frames:
 * hundreds of sockets' worth of system calls with the event loop blocked throughout (the fault test measured blocks
 * of 0.3–1.2 s). Everything else the process does — the publisher's HTTP request, the Redis message of a new event
 * and its broadcast to the clients already connected — waited behind them. In this lane such work is FIFO and runs
 * from setImmediate callbacks for at most `sliceMs` each, so between two slices the event loop polls for I/O and the
 * hub's broadcast of a new event (delivered where its Redis message is read) gets in; the storm's setups just take a
 * little longer, in order.
 *
 * A task is synchronous code (a session's state and the frames it sends change together, with no await in between,
 * so the session's ordering rules hold exactly as if it had run at once).
 */
export class SetupLane {
  private readonly queue: (() => void)[] = [];
  private scheduled = false;

  /**
   * @param sliceMs how long one turn may run tasks (at least one task runs per turn, however long it takes)
   * @param clock milliseconds (tests pass their own)
   */
  constructor(
    private readonly sliceMs: number,
    private readonly clock: () => number = () => performance.now(),
  ) {
    if (!(sliceMs > 0)) throw new Error('sliceMs must be positive');
  }

  /** Tasks waiting for their turn (metrics, tests). */
  get waiting(): number {
    return this.queue.length;
  }

  /** Runs `task` in its turn; resolves with what it returned (rejects with what it threw). */
  run<T>(task: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push(() => {
        try {
          resolve(task());
        } catch (error) {
          reject(error);
        }
      });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.slice);
      }
    });
  }

  private readonly slice = (): void => {
    const deadline = this.clock() + this.sliceMs;
    do this.queue.shift()!();
    while (this.queue.length > 0 && this.clock() < deadline);
    // An immediate scheduled from inside an immediate runs in the NEXT turn of the loop, after its I/O poll.
    if (this.queue.length > 0) setImmediate(this.slice);
    else this.scheduled = false;
  };
}

/**
 * SetupLane: tasks run in order, a slice of them per turn of the event loop, and whatever else the loop has to do
 * (here: an immediate queued after them, standing for a hub broadcast or a request's I/O) gets in between slices.
 */
import { describe, expect, it } from 'vitest';
import { SetupLane } from '../../src/realtime/setup-lane.js';

describe('SetupLane', () => {
  it('runs tasks in order and hands each its result or its error', async () => {
    const lane = new SetupLane(3);
    const order: number[] = [];
    const results = await Promise.allSettled([
      lane.run(() => order.push(1)),
      lane.run(() => {
        order.push(2);
        throw new Error('second');
      }),
      lane.run(() => {
        order.push(3);
        return 'third';
      }),
    ]);
    expect(order).toEqual([1, 2, 3]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      1,
      'second',
      'third',
    ]);
    expect(lane.waiting).toBe(0);
  });

  it('runs tasks for at most sliceMs per turn, and other work gets in between the turns', async () => {
    let now = 0;
    // Each task takes 2 ms of this clock; a turn of 3 ms runs two (the second passes the deadline).
    const lane = new SetupLane(3, () => now);
    const order: string[] = [];
    const done = Array.from({ length: 6 }, (_, i) =>
      lane.run(() => {
        now += 2;
        order.push(`task ${i + 1}`);
      }),
    );
    // Queued after the lane's first turn, in the same phase of the loop: it runs once that turn has yielded.
    setImmediate(() => order.push('broadcast'));
    expect(lane.waiting).toBe(6);
    await Promise.all(done);
    expect(order).toEqual(['task 1', 'task 2', 'broadcast', 'task 3', 'task 4', 'task 5', 'task 6']);
  });

  it('runs one task per turn even when that task alone takes longer than a slice', async () => {
    let now = 0;
    const lane = new SetupLane(1, () => now);
    const order: string[] = [];
    const done = [1, 2].map((i) =>
      lane.run(() => {
        now += 10;
        order.push(`task ${i}`);
      }),
    );
    setImmediate(() => order.push('other'));
    await Promise.all(done);
    expect(order).toEqual(['task 1', 'other', 'task 2']);
  });
});

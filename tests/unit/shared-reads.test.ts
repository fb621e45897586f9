/** SharedReadGate (src/realtime/shared-reads.ts): bounded concurrency, and identical WAITING loads shared. */
import { describe, expect, it } from 'vitest';
import { SharedReadGate } from '../../src/realtime/shared-reads.js';

/** A load that finishes when told to, counting its runs. */
function controllable() {
  const runs: { key: string; finish: (value: string) => void }[] = [];
  const load = (key: string) => () =>
    new Promise<string>((resolve) => {
      runs.push({ key, finish: resolve });
    });
  return { runs, load };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('SharedReadGate', () => {
  it('runs at most maxConcurrent loads at once and the rest in order as turns free up', async () => {
    const gate = new SharedReadGate(2);
    const { runs, load } = controllable();
    const results = ['a', 'b', 'c', 'd'].map((key) => gate.run(key, load(key)));
    await tick();
    expect(runs.map((r) => r.key)).toEqual(['a', 'b']);
    expect(gate.load).toEqual({ running: 2, waiting: 2 });
    runs[0]!.finish('A');
    await tick();
    expect(runs.map((r) => r.key)).toEqual(['a', 'b', 'c']);
    for (const run of runs.slice(1)) run.finish(run.key.toUpperCase());
    await tick();
    runs[3]!.finish('D');
    expect(await Promise.all(results)).toEqual(['A', 'B', 'C', 'D']);
    expect(gate.load).toEqual({ running: 0, waiting: 0 });
  });

  it('shares an identical load while it waits for its turn, but never one that already runs', async () => {
    const gate = new SharedReadGate(1);
    const { runs, load } = controllable();
    const running = gate.run('same', load('same'));
    // Same key, but the first one already runs (it may have read before this caller watched): a load of its own.
    const waiting = gate.run('same', load('same'));
    const joined = [gate.run('same', load('same')), gate.run('same', load('same'))];
    const other = gate.run('other', load('other'));
    await tick();
    runs[0]!.finish('first');
    await tick();
    runs[1]!.finish('second');
    await tick();
    runs[2]!.finish('third');
    expect(await running).toBe('first');
    expect(await waiting).toBe('second');
    expect(await Promise.all(joined)).toEqual(['second', 'second']);
    expect(await other).toBe('third');
    expect(runs.map((r) => r.key)).toEqual(['same', 'same', 'other']);
  });

  it('a failing load frees its turn and fails its joiners only', async () => {
    const gate = new SharedReadGate(1);
    const first = gate.run('k', () => Promise.reject(new Error('database away')));
    const second = gate.run('k', async () => 'ok');
    await expect(first).rejects.toThrow('database away');
    expect(await second).toBe('ok');
    expect(gate.load).toEqual({ running: 0, waiting: 0 });
  });
});

/**
 * The service's processes as real children (`node --import tsx src/main.ts` with a ROLE), for end-to-end and fault
 * tests: their pino log lines parsed, their other output kept for failure messages.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from '../../src/paths.js';
import { waitFor } from './wait.js';

const PRODUCTION_STACK_TRACES = pathToFileURL(
  join(PROJECT_ROOT, 'tests', 'helpers', 'production-stack-traces.mjs'),
).href;

export interface Child {
  name: string;
  process: ChildProcess;
  /** Parsed JSON log lines (pino), in order. */
  logs: Record<string, unknown>[];
  /** Everything else it printed (stderr, non-JSON stdout), for the failure message. */
  other: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `node --import tsx src/main.ts` with exactly the given settings (plus PATH/HOME so node and tsx run): the
 * child sees no variable of this test process, so nothing leaks in by accident.
 */
export function startProcess(
  name: string,
  settings: Record<string, string>,
  /** Extra node options, e.g. `--cpu-prof` to profile a fault test's process (not allowed in NODE_OPTIONS). */
  nodeArgs: string[] = [],
  /**
   * productionStackTraces: stack traces as the image has them, not mapped to the TypeScript sources
   * (tests/helpers/production-stack-traces.mjs), for tests that time the process's event loop.
   */
  options: { productionStackTraces?: boolean } = {},
): Child {
  const afterTsx = options.productionStackTraces ? ['--import', PRODUCTION_STACK_TRACES] : [];
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', ...afterTsx, 'src/main.ts'], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...settings },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const other: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      other.push(line);
    }
  });
  createInterface({ input: child.stderr! }).on('line', (line) => other.push(line));
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  return { name, process: child, logs, other, exited };
}

export function describeChild(child: Child): string {
  const tail = [...child.logs.map((l) => JSON.stringify(l)), ...child.other].slice(-30).join('\n');
  return `${child.name} (exit ${child.process.exitCode ?? 'not yet'}):\n${tail}`;
}

/**
 * Waits for a log line of `child`, failing at once with its output if the process dies first. Start-up lines may need
 * a longer `timeoutMs` on a busy machine (tsx compiles the sources at each start).
 */
export async function waitForLog(
  child: Child,
  match: (line: Record<string, unknown>) => boolean,
  what: string,
  timeoutMs = 30_000,
) {
  // waitFor keeps polling through a probe that throws, so the exit is raced separately to fail at once.
  let stop = false;
  const exitedEarly = child.exited.then(async () => {
    // The last lines may still be in the pipe when 'exit' fires.
    await new Promise((resolve) => setImmediate(resolve));
    if (stop || child.logs.some(match)) return child.logs.find(match)!;
    throw new Error(`${child.name} exited before ${what}.\n${describeChild(child)}`);
  });
  try {
    return await Promise.race([
      waitFor(() => child.logs.find(match), { what: `${child.name}: ${what}`, timeoutMs }).catch((error: Error) => {
        throw new Error(`${error.message}\n${describeChild(child)}`);
      }),
      exitedEarly,
    ]);
  } finally {
    stop = true;
    exitedEarly.catch(() => {});
  }
}

/**
 * Child processes of a benchmark: the product's API and worker (src/main.ts), baseline servers and load clients, each
 * in its own process so that the process measured and the process measuring never share an event loop.
 *
 * Every child is started through `sh -c 'ulimit -n …; exec …'`: 10,000 sockets need more file descriptors than the
 * usual soft limit of 1,024, and a Node process cannot raise its own limit. The soft limit is raised to
 * BENCH_FD_LIMIT (default 65,536) or, where the hard limit is lower, to the hard limit; a benchmark that needs more
 * than it got says so (see `fdLimit`). Children are killed when the benchmark exits, however it exits.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { PROJECT_ROOT } from '../../src/paths.js';

/** The file-descriptor limit children are started with (see the file comment). */
export const WANTED_FD_LIMIT = Number(process.env.BENCH_FD_LIMIT ?? 65_536);

const RAISE_LIMIT = `ulimit -n ${WANTED_FD_LIMIT} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"`;

/** The soft file-descriptor limit a child gets (after raising it as far as allowed). */
export function fdLimit(): number {
  const out = execFileSync('sh', ['-c', `${RAISE_LIMIT.replace('exec "$@"', '')} ulimit -n`], { encoding: 'utf8' });
  const value = out.trim();
  return value === 'unlimited' ? Number.POSITIVE_INFINITY : Number(value);
}

/** Fails with an explanation when children cannot hold `needed` descriptors each. */
export function requireFdLimit(needed: number): void {
  const limit = fdLimit();
  if (limit < needed) {
    throw new Error(
      `This benchmark needs ${needed} file descriptors per process; the hard limit allows ${limit}. ` +
        `Raise it (e.g. \`ulimit -Hn ${needed}\` as root, or LimitNOFILE in a systemd unit) and run again.`,
    );
  }
}

export interface BenchChild {
  name: string;
  process: ChildProcess;
  pid: number;
  /** Lines it printed (stdout and stderr), the last 200, for error messages. */
  output: string[];
  /** Lines of stdout, as they come (a load client prints its result as one JSON line). */
  onLine(listener: (line: string) => void): void;
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`. Resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

const children = new Set<BenchChild>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of children) child.process.kill('SIGKILL');
  });
}

/**
 * Starts `node [nodeArgs] --import tsx <script> [args]` from the project root with a raised descriptor limit and
 * exactly `env` (plus PATH and HOME): nothing of the benchmark's own environment leaks into the product. `tsx: false`
 * runs compiled JavaScript with plain node (the product's build, bench/lib/build.ts).
 */
export function startNode(
  name: string,
  script: string,
  options: { env?: Record<string, string>; args?: string[]; nodeArgs?: string[]; tsx?: boolean } = {},
): BenchChild {
  installExitHook();
  const child = spawn(
    'sh',
    [
      '-c',
      RAISE_LIMIT,
      'sh',
      process.execPath,
      ...(options.nodeArgs ?? []),
      ...(options.tsx === false ? [] : ['--import', 'tsx']),
      script,
      ...(options.args ?? []),
    ],
    {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  const listeners: ((line: string) => void)[] = [];
  const keep = (line: string) => {
    output.push(line);
    if (output.length > 200) output.shift();
  };
  createInterface({ input: child.stdout! }).on('line', (line) => {
    keep(line);
    for (const listener of listeners) listener(line);
  });
  createInterface({ input: child.stderr! }).on('line', keep);
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const handle: BenchChild = {
    name,
    process: child,
    // `exec` replaces the shell, so the shell's pid is the node process's pid.
    pid: child.pid!,
    output,
    onLine: (listener) => listeners.push(listener),
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  children.add(handle);
  void exited.then(() => children.delete(handle));
  return handle;
}

/** The last lines a child printed, for an error message. */
export function describeChild(child: BenchChild): string {
  return `${child.name} (pid ${child.pid}, exit ${child.process.exitCode ?? 'not yet'}):\n${child.output.slice(-30).join('\n')}`;
}

/** A free TCP port on loopback (bound and released; the child binds it a moment later). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Polls `check` every `intervalMs` until it returns a value other than false/undefined, or fails after `timeoutMs`. */
export async function waitUntil<T>(
  check: () => Promise<T | false | undefined> | T | false | undefined,
  what: string,
  options: { timeoutMs?: number; intervalMs?: number; child?: BenchChild } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let lastError: unknown;
  for (;;) {
    if (options.child && options.child.process.exitCode !== null) {
      throw new Error(`${what}: the process exited.\n${describeChild(options.child)}`);
    }
    try {
      const value = await check();
      if (value !== false && value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = options.child ? `\n${describeChild(options.child)}` : '';
      throw new Error(
        `Timed out waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}${detail}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}

/** Resident memory of a process, now and at its peak (VmRSS, VmHWM from /proc), in bytes; null off Linux. */
export function memoryOf(pid: number): { rss: number; peak: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { rss: kib('VmRSS') * 1024, peak: kib('VmHWM') * 1024 };
  } catch {
    return null;
  }
}

/** CPU time (user + system) a process has used so far, in ms, from /proc; null off Linux. */
export function cpuTimeOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / 100;
  } catch {
    return null;
  }
}

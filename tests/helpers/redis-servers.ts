/**
 * Redis servers of a test's own, for scale-out and fault tests: a single server it may restart or flush, a Redis
 * Cluster of three masters, or a master with a replica and a sentinel. Each runs `redis-server` on a free loopback
 * port with its own data directory, and is stopped by its pid; the shared Redis on 6379 is never touched.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);

export interface RedisServer {
  port: number;
  /** `redis://127.0.0.1:<port>` */
  url: string;
  readonly process: ChildProcess;
  /** Stops it gracefully (SIGTERM: the append-only file is flushed) and starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Stops it (SIGTERM) and waits for the exit. */
  stop(): Promise<void>;
  /** A short-lived client for administrative commands (FLUSHALL, CLUSTER INFO…). */
  command<T = unknown>(...args: (string | number)[]): Promise<T>;
}

interface ServerOptions {
  /** Extra redis-server arguments. */
  args?: string[];
  /** Run as a sentinel with this configuration file body (`port` is added). */
  sentinelConfig?: string;
}

/** Data directories to remove at the end of the test file (see stopAll). */
const started = new Set<{ stop(): Promise<void>; dir: string }>();

export async function startRedisServer(options: ServerOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'mk-redis-'));
  const port = await freePort();
  const args = options.sentinelConfig
    ? [join(dir, 'sentinel.conf'), '--sentinel']
    : [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        // As in production (docker-compose.yml): jobs survive a restart, and nothing BullMQ needs is evicted.
        '--appendonly',
        'yes',
        '--maxmemory-policy',
        'noeviction',
        ...(options.args ?? []),
      ];
  if (options.sentinelConfig) {
    await writeFile(
      join(dir, 'sentinel.conf'),
      `port ${port}\nbind 127.0.0.1\ndir ${dir}\n${options.sentinelConfig}\n`,
    );
  }

  let child!: ChildProcess;
  let output = '';
  const launch = async () => {
    output = '';
    child = spawn('redis-server', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    });
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`redis-server on ${port} exited: ${output}`);
        const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: null });
        probe.on('error', () => {});
        try {
          await probe.connect();
          return (await probe.ping()) === 'PONG';
        } finally {
          probe.disconnect();
        }
      },
      { what: `redis-server on port ${port}`, timeoutMs: 15_000 },
    );
  };
  await launch();

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  };
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get process() {
      return child;
    },
    async restart() {
      await stop();
      await launch();
    },
    stop,
    async command<T>(...commandArgs: (string | number)[]) {
      const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
      try {
        return (await client.call(String(commandArgs[0]), ...commandArgs.slice(1).map(String))) as T;
      } finally {
        client.disconnect();
      }
    },
  };
  started.add({ stop, dir });
  return server;
}

export interface RedisCluster {
  nodes: RedisServer[];
  /** `redis+cluster://127.0.0.1:<p1>,127.0.0.1:<p2>` (two seed nodes; the third is discovered). */
  url: string;
}

/** Three masters (no replicas), slots spread by `redis-cli --cluster create`, waited on until the cluster is ok. */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const nodes: RedisServer[] = [];
  for (let i = 0; i < masters; i += 1) {
    nodes.push(
      await startRedisServer({
        args: [
          '--cluster-enabled',
          'yes',
          '--cluster-port',
          String(await freePort()),
          '--cluster-node-timeout',
          '2000',
        ],
      }),
    );
  }
  await run('redis-cli', [
    '--cluster',
    'create',
    ...nodes.map((node) => `127.0.0.1:${node.port}`),
    '--cluster-replicas',
    '0',
    '--cluster-yes',
  ]);
  await waitFor(
    async () => {
      for (const node of nodes) {
        const info = await node.command<string>('CLUSTER', 'INFO');
        if (!/cluster_state:ok/.test(info) || !/cluster_known_nodes:(\d+)/.test(info)) return false;
        if (Number(/cluster_known_nodes:(\d+)/.exec(info)![1]) !== masters) return false;
      }
      return true;
    },
    { what: 'the Redis Cluster to be ok on every node', timeoutMs: 20_000 },
  );
  return {
    nodes,
    url: `redis+cluster://${nodes
      .slice(0, 2)
      .map((node) => `127.0.0.1:${node.port}`)
      .join(',')}`,
  };
}

export interface RedisSentinelSetup {
  master: RedisServer;
  replica: RedisServer;
  sentinel: RedisServer;
  /** `redis+sentinel://127.0.0.1:<sentinel port>/<name>` */
  url: string;
  name: string;
}

/** One master, one replica of it, one sentinel watching them (quorum 1, down after 1 s), all waited on. */
export async function startRedisSentinel(name = 'mkmaster'): Promise<RedisSentinelSetup> {
  const master = await startRedisServer();
  const replica = await startRedisServer({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
  await waitFor(async () => /master_link_status:up/.test(await replica.command<string>('INFO', 'replication')), {
    what: 'the replica to sync with the master',
    timeoutMs: 15_000,
  });
  const sentinel = await startRedisServer({
    sentinelConfig: [
      `sentinel monitor ${name} 127.0.0.1 ${master.port} 1`,
      `sentinel down-after-milliseconds ${name} 1000`,
      `sentinel failover-timeout ${name} 5000`,
      `sentinel parallel-syncs ${name} 1`,
    ].join('\n'),
  });
  await waitFor(
    async () => {
      const replicas = await sentinel.command<string[][]>('SENTINEL', 'REPLICAS', name);
      return replicas.length === 1;
    },
    { what: 'the sentinel to discover the replica', timeoutMs: 15_000 },
  );
  return { master, replica, sentinel, name, url: `redis+sentinel://127.0.0.1:${sentinel.port}/${name}` };
}

/** Stops every server this test file started and removes their data directories. Call in afterAll. */
export async function stopAllRedisServers(): Promise<void> {
  for (const server of started) {
    await server.stop().catch(() => {});
    await rm(server.dir, { recursive: true, force: true });
  }
  started.clear();
}

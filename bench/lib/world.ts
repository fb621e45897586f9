/**
 * A benchmark's own world: a database of its own (created and migrated with src/db/migrate.ts, dropped afterwards),
 * a Redis key prefix of its own (its keys deleted afterwards), and the product's processes started from src/main.ts
 * against them, on loopback only. The shared PostgreSQL and Redis of the machine are used, never restarted or
 * flushed.
 *
 * Where the services are: BENCH_DATABASE_URL (any database on the server; the benchmark's own is created next to it,
 * default postgresql://postgres@127.0.0.1:5432/postgres) and BENCH_REDIS_URL (default redis://127.0.0.1:6379).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { runMigrations } from '../../src/db/migrate.js';
import { buildProduct, PRODUCT_ENTRY } from './build.js';
import { type BenchChild, freePort, startNode, waitUntil } from './processes.js';

export const ADMIN_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Signs unsubscribe links in the product's processes (a benchmark value, never a real secret). */
const BENCH_UNSUBSCRIBE_SECRET = 'bench-unsubscribe-secret-0123456789abcdefghij';

export interface World {
  /** The benchmark's database. */
  databaseUrl: string;
  databaseName: string;
  /** Its Redis key prefix (REDIS_PREFIX of the product). */
  redisPrefix: string;
  /** A pg pool on the benchmark's database, for seeding and checking. */
  pool: pg.Pool;
  /** Environment shared by every product process of this world. */
  productEnv(overrides?: Record<string, string>): Record<string, string>;
  /** Drops the database, deletes the Redis keys, stops what was started. Idempotent. */
  close(): Promise<void>;
}

function databaseUrlFor(name: string): string {
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Deletes every key under `prefix:` (SCAN, never FLUSH: the Redis is shared). */
export async function deleteRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Creates and migrates the benchmark's database; `tag` names it (mk_bench_<tag>_<random>). */
export async function createWorld(tag: string): Promise<World> {
  const suffix = randomBytes(4).toString('hex');
  const databaseName = `mk_bench_${tag.replace(/[^a-z0-9]/g, '')}_${suffix}`;
  const redisPrefix = `mkbench${suffix}`;
  const databaseUrl = databaseUrlFor(databaseName);
  await adminQuery(`CREATE DATABASE ${databaseName}`);
  let pool: pg.Pool | undefined;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await pool?.end().catch(() => {});
      await adminQuery(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`).catch((error: unknown) => {
        console.error(`could not drop the benchmark database ${databaseName}: ${String(error)}`);
      });
      await deleteRedisPrefix(redisPrefix).catch(() => {});
    })();
    return closing;
  };
  // Ctrl-C or a kill still drops the database.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void close().finally(() => process.exit(130));
    });
  }
  try {
    await runMigrations({ database: { url: databaseUrl, directUrl: databaseUrl, poolSize: 1 } }, () => {});
    pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  } catch (error) {
    await close();
    throw error;
  }
  return {
    databaseUrl,
    databaseName,
    redisPrefix,
    pool,
    productEnv: (overrides = {}) => ({
      APP_ENV: 'development',
      DATABASE_URL: databaseUrl,
      REDIS_URL,
      REDIS_PREFIX: redisPrefix,
      UNSUBSCRIBE_SECRET: BENCH_UNSUBSCRIBE_SECRET,
      // Request logs at info would measure pino, not the service; warnings and errors still show.
      LOG_LEVEL: 'warn',
      MIGRATE_ON_START: 'false',
      SEED_ON_EMPTY: 'false',
      HOST: '127.0.0.1',
      DEV_OIDC_PORT: '0',
      // One client address sends everything: the per-IP limits would measure 429s.
      RATE_LIMIT_IP_PER_MINUTE: '1000000',
      RATE_LIMIT_USER_PER_MINUTE: '1000000',
      WS_MAX_CONNECTIONS_PER_IP: '100000',
      ...overrides,
    }),
    close,
  };
}

export interface ProductApi {
  child: BenchChild;
  url: string;
  port: number;
}

/**
 * Starts an API process (ROLE=api, from the build: bench/lib/build.ts) on a free loopback port and waits until /readyz
 * answers 200. `nodeArgs` e.g.
 * `['--cpu-prof', '--cpu-prof-dir=…']` (BENCH_CPU_PROF=1 does that for every product process).
 */
export async function startApi(
  world: World,
  options: { env?: Record<string, string>; name?: string; nodeArgs?: string[] } = {},
): Promise<ProductApi> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  buildProduct();
  const child = startNode(options.name ?? 'api', PRODUCT_ENTRY, {
    env: world.productEnv({ ROLE: 'api', PORT: String(port), PUBLIC_URL: url, ...options.env }),
    nodeArgs: [...profileArgs(options.name ?? 'api'), ...(options.nodeArgs ?? [])],
    tsx: false,
  });
  await waitUntil(
    async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200,
    `${options.name ?? 'api'} /readyz`,
    { child, timeoutMs: 90_000, intervalMs: 200 },
  );
  return { child, url, port };
}

/** Starts a worker process (ROLE=worker) from the build; the caller decides how to tell it is ready. */
export function startWorker(
  world: World,
  options: { env?: Record<string, string>; name?: string; nodeArgs?: string[] } = {},
): BenchChild {
  buildProduct();
  return startNode(options.name ?? 'worker', PRODUCT_ENTRY, {
    env: world.productEnv({ ROLE: 'worker', ...options.env }),
    nodeArgs: [...profileArgs(options.name ?? 'worker'), ...(options.nodeArgs ?? [])],
    tsx: false,
  });
}

/**
 * `--cpu-prof` into bench/profiles/<name>-<time>/ when BENCH_CPU_PROF=1 (see bench/README.md, "Profiling"). The
 * folder holds one file per thread (tsx's loader runs in a thread of its own); the main thread's is the largest.
 */
export function profileArgs(name: string): string[] {
  if (process.env.BENCH_CPU_PROF !== '1') return [];
  return ['--cpu-prof', `--cpu-prof-dir=bench/profiles/${name}-${Date.now()}`];
}

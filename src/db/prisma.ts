/**
 * The one place a Prisma client is constructed: one per process, over the pg driver adapter (no Rust engine), on a
 * pg pool of our own making, which the adapter uses and closes with the client.
 *
 * That pool also serves `queryRows`: the hand-written reads on the hottest paths (a channel's listing page, its
 * records and reading stats) run on it directly. Prisma's raw-query layer costs about three times the driver's CPU
 * for the same statement (it re-encodes every parameter and every value of every row), which for a listing page was
 * most of the page; the statements are the same Prisma.sql fragments, so they stay composable and parameterised.
 */
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { type Prisma, PrismaClient } from '../generated/prisma/client.js';

export type Db = PrismaClient;

/** Each root client's pool (transaction clients have none: their statements must run in their transaction). */
const pools = new WeakMap<object, pg.Pool>();

export function createPrisma(options: { url: string; poolSize: number }): Db {
  const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize });
  const client = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  pools.set(client, pool);
  return client;
}

/**
 * Runs a read straight on the client's pool, or through `$queryRaw` for a transaction client. The rows come as the
 * pg driver parses them, which differs from Prisma in one way that matters: int8 (`count(*)`, bigint ids) arrives
 * as a string, so statements meant for this cast counts to int and compare ids as text.
 */
export async function queryRows<T>(db: Pick<Db, '$queryRaw'>, sql: Prisma.Sql): Promise<T[]> {
  const pool = pools.get(db);
  if (!pool) return db.$queryRaw<T[]>(sql);
  const result = await pool.query(sql.text, sql.values as unknown[]);
  return result.rows as T[];
}

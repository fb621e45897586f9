/**
 * Applies Prisma-format migrations (prisma/migrations/<timestamp>_<name>/migration.sql) without Prisma's Rust schema
 * engine, which cannot be downloaded on locked-down build servers.
 *
 * It keeps Prisma's own bookkeeping, so `prisma migrate status` / `deploy` agree with it wherever the engine exists:
 * - the `_prisma_migrations` table with Prisma's columns, one row per applied migration, `checksum` = SHA-256 (hex)
 *   of the migration file's bytes, `applied_steps_count` = 1, `finished_at` set;
 * - Prisma's advisory lock key (72707369), so two runners — ours or Prisma's — never apply concurrently.
 *
 * Where it differs from Prisma, on purpose: each migration runs inside a transaction together with its bookkeeping
 * row, so a failing migration leaves nothing half-applied and no "failed" row behind (Prisma records a failed row and
 * needs `migrate resolve`; here the fix is simply to correct the SQL and run again). A migration that cannot run in a
 * transaction (`CREATE INDEX CONCURRENTLY`) does not belong in this project.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import type { Config } from '../config.js';
import { MIGRATIONS_DIR } from '../paths.js';

/** The key Prisma's schema engine passes to pg_advisory_lock. */
export const PRISMA_ADVISORY_LOCK_KEY = 72707369;

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
}

export class MigrationError extends Error {
  constructor(
    message: string,
    readonly migration?: string,
  ) {
    super(message);
    this.name = 'MigrationError';
  }
}

const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export function checksumOf(contents: Buffer | string): string {
  return createHash('sha256').update(contents).digest('hex');
}

/**
 * Whether a migration file still matches the checksum recorded when it was applied, judged as Prisma's schema engine
 * judges it, so that this runner and `prisma migrate deploy` agree on what counts as drift:
 * - line endings do not count (a Windows checkout with git's autocrlf turns LF into CRLF), and
 * - rows written by old Prisma versions hold the hex digest without zero-padding of each byte.
 */
export function matchesRecordedChecksum(sql: string, recorded: string): boolean {
  const variants = [sql, sql.replaceAll('\r\n', '\n'), sql.replaceAll('\r\n', '\n').replaceAll('\n', '\r\n')];
  return variants.some((variant) => {
    const digest = createHash('sha256').update(variant, 'utf8').digest();
    const rendered =
      recorded.length === 64 ? digest.toString('hex') : Array.from(digest, (byte) => byte.toString(16)).join('');
    return rendered === recorded;
  });
}

/** Reads the migration folders in name order (their timestamp prefix makes that chronological). */
export async function readMigrations(dir: string): Promise<MigrationFile[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const folders = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const migrations: MigrationFile[] = [];
  for (const name of folders) {
    let bytes: Buffer;
    try {
      bytes = await readFile(join(dir, name, 'migration.sql'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      throw new MigrationError(`Migration folder ${name} has no migration.sql (in ${dir})`, name);
    }
    migrations.push({ name, sql: bytes.toString('utf8'), checksum: checksumOf(bytes) });
  }
  return migrations;
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/**
 * Brings the database up to date. Throws MigrationError, naming the migration, when one fails (its transaction is
 * rolled back), when an applied migration's file changed since, or when Prisma left a failed migration behind.
 */
export async function migrate(
  databaseUrl: string,
  migrationsDir: string,
  log: (message: string) => void = () => {},
): Promise<MigrateResult> {
  const migrations = await readMigrations(migrationsDir);
  const client = new pg.Client({ connectionString: databaseUrl });
  // A connection lost while idle is reported as an 'error' event, which would otherwise crash the process; the next
  // query rejects with the cause anyway.
  client.on('error', () => {});
  await client.connect();
  try {
    // Session-level lock: held across the per-migration transactions, released on unlock or disconnect.
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
    try {
      await client.query(CREATE_MIGRATIONS_TABLE);
      const { rows } = await client.query<AppliedRow>(
        'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at',
      );
      const applied = new Map<string, AppliedRow>();
      for (const row of rows) {
        if (row.rolled_back_at) continue;
        if (!row.finished_at) {
          throw new MigrationError(
            `Migration ${row.migration_name} is recorded as started but not finished (a failed \`prisma migrate\` run). ` +
              'Inspect the database, then mark it with `prisma migrate resolve` or delete its row from "_prisma_migrations".',
            row.migration_name,
          );
        }
        applied.set(row.migration_name, row);
      }

      const changed = migrations.filter((m) => {
        const row = applied.get(m.name);
        return row !== undefined && !matchesRecordedChecksum(m.sql, row.checksum);
      });
      if (changed.length > 0) {
        throw new MigrationError(
          `Refusing to start: applied migration${changed.length > 1 ? 's' : ''} ${changed.map((m) => m.name).join(', ')} ` +
            'changed since they were applied (checksum mismatch). Restore the original file(s) and put the change in a new migration.',
          changed[0]!.name,
        );
      }

      const known = new Set(migrations.map((m) => m.name));
      for (const name of applied.keys()) {
        // Prisma only warns about this too: the database is ahead of this checkout (e.g. a rollback of the code).
        if (!known.has(name)) log(`warning: applied migration ${name} is not in ${migrationsDir}`);
      }

      const result: MigrateResult = { applied: [], alreadyApplied: [] };
      for (const migration of migrations) {
        if (applied.has(migration.name)) {
          result.alreadyApplied.push(migration.name);
          continue;
        }
        await applyOne(client, migration);
        log(`applied migration ${migration.name}`);
        result.applied.push(migration.name);
      }
      return result;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK_KEY]).catch(() => {});
    }
  } finally {
    await client.end();
  }
}

async function applyOne(client: pg.Client, migration: MigrationFile): Promise<void> {
  await client.query('BEGIN');
  try {
    // The simple query protocol (no parameters) runs a multi-statement script as Prisma's engine does.
    await client.query(migration.sql);
    await client.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
       VALUES ($1, $2, $3, now(), clock_timestamp(), 1)`,
      [randomUUID(), migration.checksum, migration.name],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    const pgError = error as { message: string; position?: string; code?: string };
    const where = pgError.position ? ` at character ${pgError.position}` : '';
    throw new MigrationError(
      `Migration ${migration.name} failed and was rolled back: ${pgError.message}${where}${pgError.code ? ` (SQLSTATE ${pgError.code})` : ''}`,
      migration.name,
    );
  }
}

/**
 * Creates the database named in the URL if it does not exist (as `prisma migrate deploy` does). Returns whether it
 * created it. Safe when several processes start at once on an empty server.
 */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name) throw new MigrationError('DATABASE_URL names no database');

  // Try the database itself first: where it exists (the usual case, and managed servers where the role may not
  // connect to the maintenance database) nothing else is needed.
  const probe = new pg.Client({ connectionString: databaseUrl });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return false;
  } catch (error) {
    if ((error as { code?: string }).code !== INVALID_CATALOG_NAME) throw error;
  } finally {
    await probe.end().catch(() => {});
  }

  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    return true;
  } catch (error) {
    // Another process created it between our probe and our CREATE. PostgreSQL reports that as duplicate_database
    // when the other one had committed, and as a unique violation on pg_database when both ran at the same moment.
    const code = (error as { code?: string }).code;
    if (code === DUPLICATE_DATABASE || code === UNIQUE_VIOLATION) return false;
    throw error;
  } finally {
    await client.end();
  }
}

const INVALID_CATALOG_NAME = '3D000';
const DUPLICATE_DATABASE = '42P04';
const UNIQUE_VIOLATION = '23505';

/**
 * What `npm run migrate` and `npm start` do: create the database if needed, then apply the project's pending
 * migrations (prisma/migrations). `log` receives one line per applied migration.
 *
 * Over DATABASE_DIRECT_URL when set: the advisory lock that keeps two runners apart is held by the session across
 * several transactions, which a transaction pooler (PgBouncer in transaction mode) hands to other clients between
 * statements — through it two runners would both apply a migration.
 */
export async function runMigrations(
  config: Pick<Config, 'database'>,
  log: (message: string) => void,
): Promise<MigrateResult> {
  if (await ensureDatabase(config.database.directUrl)) log('created the database');
  return migrate(config.database.directUrl, MIGRATIONS_DIR, log);
}

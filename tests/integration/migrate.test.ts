/**
 * The migration runner (src/db/migrate.ts) against real, empty PostgreSQL databases and throw-away migration folders:
 * Prisma-compatible bookkeeping, the advisory lock, one transaction per migration, and refusals on drift.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checksumOf,
  ensureDatabase,
  MigrationError,
  matchesRecordedChecksum,
  migrate,
  readMigrations,
} from '../../src/db/migrate.js';
import { MIGRATIONS_DIR } from '../../src/paths.js';
import { createEmptyDatabase } from '../helpers/db.js';
import { databaseUrl } from '../helpers/urls.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  await Promise.all(cleanups.map((cleanup) => cleanup()));
});

async function emptyDatabase() {
  const db = await createEmptyDatabase();
  cleanups.push(db.drop);
  return db;
}

/** A temporary migrations folder in Prisma's layout. */
async function migrationsDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mk-migrations-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await writeMigrationFiles(dir, files);
  await writeFile(join(dir, 'migration_lock.toml'), 'provider = "postgresql"\n');
  return dir;
}

async function writeMigrationFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [name, sql] of Object.entries(files)) {
    await mkdir(join(dir, name), { recursive: true });
    await writeFile(join(dir, name, 'migration.sql'), sql);
  }
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

const migrationRows = (url: string) =>
  query<MigrationRow>(url, 'SELECT * FROM "_prisma_migrations" ORDER BY migration_name');

const tableExists = async (url: string, table: string) =>
  (await query<{ exists: boolean }>(url, 'SELECT to_regclass($1) IS NOT NULL AS exists', [`"${table}"`]))[0]!.exists;

const THREE_MIGRATIONS = {
  '20260101000000_first': 'CREATE TABLE "first" (id integer PRIMARY KEY);\n',
  '20260102000000_second': 'CREATE TABLE "second" (id integer PRIMARY KEY);\nINSERT INTO "second" VALUES (1), (2);\n',
  '20260103000000_third': 'ALTER TABLE "first" ADD COLUMN "note" text;\n',
};

describe('migrate', () => {
  it('applies every migration on an empty database and records each exactly as Prisma does', async () => {
    const db = await emptyDatabase();
    const dir = await migrationsDir(THREE_MIGRATIONS);
    const logged: string[] = [];

    const result = await migrate(db.url, dir, (line) => logged.push(line));

    expect(result).toEqual({ applied: Object.keys(THREE_MIGRATIONS), alreadyApplied: [] });
    expect(logged).toEqual(Object.keys(THREE_MIGRATIONS).map((name) => `applied migration ${name}`));
    expect(await query(db.url, 'SELECT id FROM "second" ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }]);
    expect(await query(db.url, 'SELECT note FROM "first"')).toEqual([]);

    const columns = await query(
      db.url,
      `SELECT column_name, data_type, character_maximum_length AS length, is_nullable, column_default
         FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = '_prisma_migrations'
        ORDER BY ordinal_position`,
    );
    expect(columns).toEqual([
      { column_name: 'id', data_type: 'character varying', length: 36, is_nullable: 'NO', column_default: null },
      { column_name: 'checksum', data_type: 'character varying', length: 64, is_nullable: 'NO', column_default: null },
      {
        column_name: 'finished_at',
        data_type: 'timestamp with time zone',
        length: null,
        is_nullable: 'YES',
        column_default: null,
      },
      {
        column_name: 'migration_name',
        data_type: 'character varying',
        length: 255,
        is_nullable: 'NO',
        column_default: null,
      },
      { column_name: 'logs', data_type: 'text', length: null, is_nullable: 'YES', column_default: null },
      {
        column_name: 'rolled_back_at',
        data_type: 'timestamp with time zone',
        length: null,
        is_nullable: 'YES',
        column_default: null,
      },
      {
        column_name: 'started_at',
        data_type: 'timestamp with time zone',
        length: null,
        is_nullable: 'NO',
        column_default: 'now()',
      },
      {
        column_name: 'applied_steps_count',
        data_type: 'integer',
        length: null,
        is_nullable: 'NO',
        column_default: '0',
      },
    ]);
    const primaryKey = await query(
      db.url,
      `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = '"_prisma_migrations"'::regclass AND i.indisprimary`,
    );
    expect(primaryKey).toEqual([{ attname: 'id' }]);

    const rows = await migrationRows(db.url);
    expect(rows.map((r) => r.migration_name)).toEqual(Object.keys(THREE_MIGRATIONS));
    for (const row of rows) {
      const bytes = await readFile(join(dir, row.migration_name, 'migration.sql'));
      expect(row.checksum).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
      expect(row.applied_steps_count).toBe(1);
      expect(row.rolled_back_at).toBeNull();
      expect(row.logs).toBeNull();
    }

    const again = await migrate(db.url, dir);
    expect(again).toEqual({ applied: [], alreadyApplied: Object.keys(THREE_MIGRATIONS) });
    expect(await migrationRows(db.url)).toEqual(rows);
  });

  it('applies only the migrations added since the last run', async () => {
    const db = await emptyDatabase();
    const [first, second, third] = Object.entries(THREE_MIGRATIONS);
    const dir = await migrationsDir(Object.fromEntries([first!]));
    expect((await migrate(db.url, dir)).applied).toEqual([first![0]]);

    await writeMigrationFiles(dir, Object.fromEntries([second!, third!]));
    expect(await migrate(db.url, dir)).toEqual({ applied: [second![0], third![0]], alreadyApplied: [first![0]] });
    expect((await migrationRows(db.url)).map((r) => r.migration_name)).toEqual(Object.keys(THREE_MIGRATIONS));
  });

  it('lets two runners started at once apply each migration exactly once (advisory lock)', async () => {
    const db = await emptyDatabase();
    // Each migration holds its runner for a moment, so without the lock the second runner would see no rows yet
    // and apply them again (failing on CREATE TABLE, or duplicating the INSERT into "counter").
    const dir = await migrationsDir({
      '20260101000000_slow_one':
        'CREATE TABLE "counter" (n integer);\nSELECT pg_sleep(0.3);\nINSERT INTO "counter" VALUES (1);\n',
      '20260102000000_slow_two': 'SELECT pg_sleep(0.3);\nINSERT INTO "counter" VALUES (2);\n',
    });

    const [a, b] = await Promise.all([migrate(db.url, dir), migrate(db.url, dir)]);

    expect([...a.applied, ...b.applied].sort()).toEqual(['20260101000000_slow_one', '20260102000000_slow_two']);
    expect([...a.alreadyApplied, ...b.alreadyApplied].sort()).toEqual([
      '20260101000000_slow_one',
      '20260102000000_slow_two',
    ]);
    expect(await query(db.url, 'SELECT n FROM "counter" ORDER BY n')).toEqual([{ n: 1 }, { n: 2 }]);
    const counts = await query(
      db.url,
      'SELECT migration_name, count(*)::int AS n FROM "_prisma_migrations" GROUP BY 1 ORDER BY 1',
    );
    expect(counts).toEqual([
      { migration_name: '20260101000000_slow_one', n: 1 },
      { migration_name: '20260102000000_slow_two', n: 1 },
    ]);
  });

  it('stops at a failing migration, rolls it back entirely, and succeeds once the file is fixed', async () => {
    const db = await emptyDatabase();
    const broken = '20260102000000_broken';
    const dir = await migrationsDir({
      '20260101000000_first': THREE_MIGRATIONS['20260101000000_first'],
      [broken]:
        'CREATE TABLE "half" (id integer);\nINSERT INTO "no_such_table" VALUES (1);\nCREATE TABLE "after" (id integer);\n',
      '20260103000000_later': 'CREATE TABLE "later" (id integer);\n',
    });

    const failure = await migrate(db.url, dir).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(MigrationError);
    expect((failure as MigrationError).migration).toBe(broken);
    expect((failure as Error).message).toContain(broken);
    expect((failure as Error).message).toContain('relation "no_such_table" does not exist');
    expect(await tableExists(db.url, 'half')).toBe(false);
    expect(await tableExists(db.url, 'after')).toBe(false);
    expect(await tableExists(db.url, 'later')).toBe(false);
    expect(await tableExists(db.url, 'first')).toBe(true);
    expect((await migrationRows(db.url)).map((r) => r.migration_name)).toEqual(['20260101000000_first']);

    await writeMigrationFiles(dir, {
      [broken]:
        'CREATE TABLE "half" (id integer);\nINSERT INTO "half" VALUES (1);\nCREATE TABLE "after" (id integer);\n',
    });
    expect(await migrate(db.url, dir)).toEqual({
      applied: [broken, '20260103000000_later'],
      alreadyApplied: ['20260101000000_first'],
    });
    expect(await tableExists(db.url, 'after')).toBe(true);
    expect((await migrationRows(db.url)).every((r) => r.finished_at !== null)).toBe(true);
  });

  it('refuses to run when an applied migration changed since, naming it, and applies nothing further', async () => {
    const db = await emptyDatabase();
    const dir = await migrationsDir({ '20260101000000_first': THREE_MIGRATIONS['20260101000000_first'] });
    await migrate(db.url, dir);

    await writeMigrationFiles(dir, {
      '20260101000000_first': 'CREATE TABLE "first" (id bigint PRIMARY KEY);\n',
      '20260102000000_second': THREE_MIGRATIONS['20260102000000_second'],
    });
    const failure = await migrate(db.url, dir).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(MigrationError);
    expect((failure as MigrationError).migration).toBe('20260101000000_first');
    expect((failure as Error).message).toMatch(/20260101000000_first changed since .* applied/);
    expect(await tableExists(db.url, 'second')).toBe(false);
    expect((await migrationRows(db.url)).map((r) => r.migration_name)).toEqual(['20260101000000_first']);
  });

  it('treats line-ending changes and old unpadded checksums as unchanged, as Prisma does', async () => {
    const db = await emptyDatabase();
    const lf = 'CREATE TABLE "first" (id integer PRIMARY KEY);\nCREATE TABLE "x" (id integer);\n';
    const dir = await migrationsDir({ '20260101000000_first': lf });
    await migrate(db.url, dir);

    // A Windows checkout with autocrlf.
    await writeMigrationFiles(dir, { '20260101000000_first': lf.replaceAll('\n', '\r\n') });
    expect((await migrate(db.url, dir)).alreadyApplied).toEqual(['20260101000000_first']);

    // "hello" hashes to 2cf24dba5fb0a30e26e8…: byte 0x0e rendered unpadded as "e" by old Prisma versions.
    const padded = checksumOf('hello');
    expect(padded).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    const unpadded = Array.from(createHash('sha256').update('hello').digest(), (b) => b.toString(16)).join('');
    expect(unpadded.length).toBeLessThan(64);
    expect(matchesRecordedChecksum('hello', unpadded)).toBe(true);
    expect(matchesRecordedChecksum('hello\n', padded)).toBe(false);
  });

  it('refuses to run when a failed Prisma run left an unfinished row', async () => {
    const db = await emptyDatabase();
    const dir = await migrationsDir(THREE_MIGRATIONS);
    await migrate(db.url, dir);
    // What `prisma migrate deploy` leaves behind when a migration fails: finished_at and rolled_back_at both NULL.
    await query(
      db.url,
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, started_at, applied_steps_count)
       VALUES (gen_random_uuid(), $1, '20260104000000_failed_in_prisma', 'Database error: …', now(), 0)`,
      [checksumOf('SELECT 1;')],
    );
    await writeMigrationFiles(dir, {
      '20260104000000_failed_in_prisma': 'SELECT 1;',
      '20260105000000_next': 'CREATE TABLE "next" (id integer);',
    });

    const failure = await migrate(db.url, dir).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(MigrationError);
    expect((failure as MigrationError).migration).toBe('20260104000000_failed_in_prisma');
    expect((failure as Error).message).toContain('20260104000000_failed_in_prisma');
    expect((failure as Error).message).toContain('prisma migrate resolve');
    expect(await tableExists(db.url, 'next')).toBe(false);
  });

  it('re-applies a migration that Prisma recorded as failed and then rolled back', async () => {
    const db = await emptyDatabase();
    const dir = await migrationsDir({ '20260101000000_first': THREE_MIGRATIONS['20260101000000_first'] });
    await migrate(db.url, dir, () => {});
    await query(db.url, 'DROP TABLE "first"; DELETE FROM "_prisma_migrations"');
    // `prisma migrate resolve --rolled-back` marks the failed row; the next deploy applies the migration again.
    await query(
      db.url,
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, rolled_back_at)
       VALUES (gen_random_uuid(), 'whatever', '20260101000000_first', now(), now())`,
    );

    expect((await migrate(db.url, dir)).applied).toEqual(['20260101000000_first']);
    expect(await tableExists(db.url, 'first')).toBe(true);
  });

  it('names a migration folder that has no migration.sql', async () => {
    const db = await emptyDatabase();
    const dir = await migrationsDir(THREE_MIGRATIONS);
    await mkdir(join(dir, '20260109000000_empty_folder'));

    await expect(migrate(db.url, dir)).rejects.toThrow(/20260109000000_empty_folder has no migration\.sql/);
    expect(await tableExists(db.url, '_prisma_migrations')).toBe(false);
  });

  it("applies the project's real migrations on an empty database", async () => {
    const db = await emptyDatabase();
    const names = (await readMigrations(MIGRATIONS_DIR)).map((m) => m.name);
    expect(names.length).toBeGreaterThan(0);

    expect(await migrate(db.url, MIGRATIONS_DIR)).toEqual({ applied: names, alreadyApplied: [] });
    expect(await tableExists(db.url, 'Announcement')).toBe(true);
    expect(await migrate(db.url, MIGRATIONS_DIR)).toEqual({ applied: [], alreadyApplied: names });
  });
});

describe('ensureDatabase', () => {
  it('creates a missing database once, even when several processes ask at the same moment', async () => {
    const name = `mk_e_ensure_${process.pid}_${Date.now()}`;
    const url = databaseUrl(name);
    cleanups.push(() => query(databaseUrl('postgres'), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));

    const created = await Promise.all([ensureDatabase(url), ensureDatabase(url), ensureDatabase(url)]);

    expect(created.filter(Boolean)).toHaveLength(1);
    expect(await query(url, 'SELECT current_database() AS name')).toEqual([{ name }]);
    expect(await ensureDatabase(url)).toBe(false);
  });

  it('rejects a URL without a database name', async () => {
    await expect(ensureDatabase('postgresql://postgres@127.0.0.1:5432')).rejects.toThrow(/names no database/);
  });
});

/**
 * Runs once per `vitest run`: builds the web assets (dist/web: every app built by a test serves them, and a changed
 * browser module must be tested as it is now), and makes sure a migrated template database exists. Its name carries a hash of the
 * migration files, so a changed migration gets a fresh template and parallel runs share an identical one safely.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { buildWeb } from '../../scripts/build-web.mjs';
import { ensureDatabase, migrate, readMigrations } from '../../src/db/migrate.js';
import { MIGRATIONS_DIR } from '../../src/paths.js';
import { adminUrl, databaseUrl } from './urls.js';

export default async function setup(project: TestProject): Promise<void> {
  await buildWeb({ quiet: true });
  const migrations = await readMigrations(MIGRATIONS_DIR);
  const hash = createHash('sha256')
    .update(migrations.map((m) => `${m.name}:${m.checksum}`).join('\n'))
    .digest('hex')
    .slice(0, 12);
  const template = `mk_tpl_${hash}`;

  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    // Serialise template creation across concurrent test runs.
    await admin.query('SELECT pg_advisory_lock(hashtext($1))', [template]);
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate', [
      template,
    ]);
    if (!rowCount) {
      const building = `${template}_build`;
      await admin.query(`DROP DATABASE IF EXISTS ${building}`);
      await ensureDatabase(databaseUrl(building));
      await migrate(databaseUrl(building), MIGRATIONS_DIR);
      await admin.query(`DROP DATABASE IF EXISTS ${template}`);
      await admin.query(`ALTER DATABASE ${building} RENAME TO ${template}`);
      await admin.query(`ALTER DATABASE ${template} WITH is_template = true`);
    }
    await admin.query('SELECT pg_advisory_unlock(hashtext($1))', [template]);
  } finally {
    await admin.end();
  }
  project.provide('templateDatabase', template);
}

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
  }
}

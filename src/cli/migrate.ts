/**
 * `npm run migrate`: creates the database if needed and applies pending migrations from prisma/migrations.
 * Exit codes: 0 up to date, 1 a migration could not be applied (the message says which and why), 2 bad configuration.
 */
import { loadConfigOrReport, redactUrl } from '../config.js';
import { runMigrations } from '../db/migrate.js';

async function main(): Promise<number> {
  const config = loadConfigOrReport(process.env, console.error);
  if (!config) return 2;
  try {
    const result = await runMigrations(config, (message) => console.log(message));
    console.log(
      result.applied.length === 0
        ? `Database ${redactUrl(config.database.directUrl)} is up to date (${result.alreadyApplied.length} migration(s) applied before).`
        : `Applied ${result.applied.length} migration(s) to ${redactUrl(config.database.directUrl)}.`,
    );
    return 0;
  } catch (error) {
    console.error(`Migration of ${redactUrl(config.database.directUrl)} failed: ${(error as Error).message}`);
    return 1;
  }
}

process.exitCode = await main();

/**
 * `npm run seed` (and `prisma db seed`): loads the demo content into an empty, migrated database. Does nothing when
 * channels exist. Exit codes: 0 done or nothing to do, 1 failure, 2 bad configuration.
 */
import { loadConfigOrReport } from '../src/config.js';
import { createPrisma } from '../src/db/prisma.js';
import { seedDemoContent } from '../src/services/seed.js';

async function main(): Promise<number> {
  const config = loadConfigOrReport(process.env, console.error);
  if (!config) return 2;
  const db = createPrisma({ url: config.database.url, poolSize: 2 });
  try {
    const { created } = await seedDemoContent(db);
    console.log(created ? 'Loaded the demo content.' : 'The database already has channels; nothing seeded.');
    return 0;
  } catch (error) {
    console.error(`Seeding failed: ${(error as Error).message}`);
    return 1;
  } finally {
    await db.$disconnect();
  }
}

process.exitCode = await main();

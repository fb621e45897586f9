// Prisma CLI configuration. The datasource URL comes from the project's one config schema, so the CLI and the app
// always talk to the same database. Migrations are applied by `npm run migrate` (see src/db/migrate.ts).
import { defineConfig } from 'prisma/config';
import { loadConfig } from './src/config.js';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations', seed: 'tsx prisma/seed.ts' },
  datasource: { url: loadConfig(process.env).database.url },
});

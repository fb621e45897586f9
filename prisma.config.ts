// Prisma CLI configuration. Every `prisma` command loads this file, `prisma generate` in `npm ci`'s postinstall
// included, so it must not depend on runtime settings: installing and building work with any environment (half-set
// SMTP settings, no database), and only starting the service validates the configuration (src/config.ts).
//
// That is why it imports nothing from src/: `generate` needs no database URL at all, and migrations are applied by our
// own runner (`npm run migrate`, src/db/migrate.ts), not by the Prisma CLI. The datasource is declared only for the
// developer tools that do connect (`prisma studio`, `prisma migrate status`), and only when DATABASE_URL is set; this
// is the one file outside src/config.ts that reads the environment, and it reads nothing else.
// tests/integration/install.test.ts generates the client with a half-set environment.
import { defineConfig } from 'prisma/config';

const databaseUrl = process.env.DATABASE_URL?.trim();

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations', seed: 'tsx prisma/seed.ts' },
  ...(databaseUrl ? { datasource: { url: databaseUrl } } : {}),
});

#!/usr/bin/env node
// THE ONE PLACE where Prisma is made to work offline.
//
// Prisma 7's CLI makes sure its Rust schema engine is present before several commands, `generate` included, and
// downloads it from Prisma's binaries host when it is missing. That host is unreachable from this build machine and
// from many locked-down university build servers. Generating the client never *runs* the schema engine: the schema is
// parsed by WebAssembly that ships inside the npm package, and the generated client uses `@prisma/adapter-pg`, no
// engine at all. So, unless the operator has configured a real engine already, we point
// PRISMA_SCHEMA_ENGINE_BINARY at `scripts/schema-engine-unavailable.sh`, a stand-in that refuses to run with an
// explanation. Migrations are applied by our own runner (`npm run migrate`, src/db/migrate.ts), which needs no engine.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const prismaCli = join(dirname(require.resolve('prisma/package.json')), 'build', 'index.js');

const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1' };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= join(here, 'schema-engine-unavailable.sh');

const result = spawnSync(process.execPath, [prismaCli, 'generate', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env,
});
process.exit(result.status ?? 1);

#!/bin/sh
# Stand-in for Prisma's Rust schema engine; see scripts/prisma-generate.mjs for why it exists.
echo "meldingskanal: Prisma's schema engine is not installed here (Prisma downloads it from a host this build cannot reach)." >&2
echo "Apply migrations with 'npm run migrate'. To use 'prisma migrate', install the engine and set PRISMA_SCHEMA_ENGINE_BINARY." >&2
exit 1

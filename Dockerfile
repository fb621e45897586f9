# syntax=docker/dockerfile:1
# One image, two commands: the API (the default CMD) and the worker (ROLE=worker). See docker-compose.yml.
#
#   docker build -t meldingskanal .
#   docker run --rm -e DATABASE_URL=… -e REDIS_URL=… -e SMTP_URL=… -e MAIL_FROM=… -p 3000:3000 meldingskanal
#
# CI has no Docker engine: scripts/docker-steps.ts (`npm run docker:steps`, run by .ci/run) reads THIS file and runs
# its stages outside Docker, then starts the result as a non-root user. It supports only the instructions used here
# and refuses others, so a change here is checked there; keep to that subset (see scripts/dockerfile.ts).

ARG NODE_IMAGE=node:24-bookworm-slim

# ---- deps: every dependency, and the Prisma client generated offline (scripts/prisma-generate.mjs) ----------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# Only what installing and generating read, so this layer is rebuilt only when the lockfile or the schema changes.
# prisma.config.ts imports nothing from src/: installing needs no runtime settings. Our postinstall also builds the
# web assets, from sources this layer does not have: it is skipped here (--ignore-scripts), and its two steps run
# where their inputs are, generating here and the web build in `npm run build`.
COPY package.json package-lock.json prisma.config.ts ./
COPY scripts/prisma-generate.mjs scripts/schema-engine-unavailable.sh ./scripts/
COPY prisma/schema.prisma ./prisma/
RUN npm ci --ignore-scripts --no-audit --no-fund && npm run generate

# ---- build: the web assets (dist/web) and TypeScript → dist/ (the generated Prisma client compiles with src/) -----
FROM deps AS build
COPY . .
RUN npm run build

# ---- runtime: production dependencies, the compiled code and the migrations; nothing else ---------------------------
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
# Our code never branches on NODE_ENV; libraries (Fastify's dependencies, pino) use it to skip development work.
ENV NODE_ENV=production \
    ROLE=api \
    HOST=0.0.0.0 \
    PORT=3000
COPY package.json package-lock.json ./
# --ignore-scripts: the postinstall generates the Prisma client, which is already compiled into dist/.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# src/paths.ts finds the project root by walking up to package.json, then reads prisma/migrations from there.
COPY prisma/migrations ./prisma/migrations
USER node
EXPOSE 3000
# /healthz is liveness only (touches no dependency). The worker has no HTTP server: compose disables this check there.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# `node`, not `npm start`: npm does not forward SIGTERM, and the graceful drain depends on receiving it.
CMD ["node", "dist/src/main.js"]

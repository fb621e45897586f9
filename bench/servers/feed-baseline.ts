/**
 * The bare building blocks the feed benchmark compares the product with, in one process of their own (a bare Fastify,
 * no plugins, no logging):
 *
 * - `GET /hello` — hello-world, the floor of any HTTP answer on this machine;
 * - `GET /memory/:name` — a page held in memory as bytes (the product's own response, captured by the benchmark:
 *   the same body, the same content type);
 * - `GET /pg/page?at=&id=` — the same 20 rows the product lists, read with plain `pg` in one keyset query (without
 *   `at`/`id`: the newest 20) and sent as JSON.
 *
 * Settings (environment): PORT, DATABASE_URL, CHANNEL_ID, MEMORY_PAGES (JSON: name → { file, type }).
 */
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import pg from 'pg';

const port = Number(process.env.PORT);
const channelId = process.env.CHANNEL_ID!;
const pages = JSON.parse(process.env.MEMORY_PAGES ?? '{}') as Record<string, { file: string; type: string }>;
const memory = new Map(Object.entries(pages).map(([name, page]) => [name, { ...page, body: readFileSync(page.file) }]));
// The product's pool size (DATABASE_POOL_SIZE default).
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });

const app = Fastify({ logger: false });

app.get('/hello', async () => ({ hello: 'world' }));

app.get<{ Params: { name: string } }>('/memory/:name', async (request, reply) => {
  const page = memory.get(request.params.name);
  if (!page) return reply.code(404).send();
  return reply.type(page.type).send(page.body);
});

/** What an anonymous reader may see: published, for everyone, not expired (the product's rule, by hand). */
const NEWEST = `
  SELECT a.id, a.title, a.summary, a.body, a.importance, a.type, a.language, a."publishedAt", a."expiresAt",
         a."updatedAt", a.revision
    FROM "Announcement" a
   WHERE a."channelId" = $1 AND a.status = 'published' AND cardinality(a."audienceOrganisationIds") = 0
     AND (a."expiresAt" IS NULL OR a."expiresAt" > now())`;

app.get<{ Querystring: { at?: string; id?: string } }>('/pg/page', async (request) => {
  const { at, id } = request.query;
  const { rows } =
    at && id
      ? await pool.query(
          `${NEWEST} AND (a."publishedAt", a.id) < ($2::timestamptz, $3::uuid) ORDER BY a."publishedAt" DESC, a.id DESC LIMIT 20`,
          [channelId, at, id],
        )
      : await pool.query(`${NEWEST} ORDER BY a."publishedAt" DESC, a.id DESC LIMIT 20`, [channelId]);
  return { items: rows };
});

await app.listen({ host: '127.0.0.1', port });
process.stdout.write('listening\n');
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    void app
      .close()
      .then(() => pool.end())
      .finally(() => process.exit(0));
  });
}

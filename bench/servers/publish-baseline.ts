/**
 * The publish benchmark's baseline, in a process of its own: a bare Fastify whose `POST /publish` writes what a
 * publication writes — the announcement, its first revision, its outbox event and its audit record, and the NOTIFY
 * that wakes the relay — in ONE transaction with plain `pg`, and answers 201 with the new id. No authentication, no
 * validation, no access rules: the floor under the product's publish path on this machine.
 *
 * Settings (environment): PORT, DATABASE_URL, CHANNEL_ID, AUTHOR_ID.
 */
import Fastify from 'fastify';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const channelId = process.env.CHANNEL_ID!;
const authorId = process.env.AUTHOR_ID!;
const app = Fastify({ logger: false });

app.post<{ Body: { title: string; body: string } }>('/publish', async (request, reply) => {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const {
      rows: [created],
    } = await client.query<{ id: string }>(
      `INSERT INTO "Announcement" (id, "channelId", "authorId", title, body, status, "publishedAt", "updatedAt")
       VALUES (gen_random_uuid(), $1, $2, $3, $4, 'published', now(), now()) RETURNING id`,
      [channelId, authorId, request.body.title, request.body.body],
    );
    const id = created!.id;
    await client.query(
      `INSERT INTO "AnnouncementRevision" ("announcementId", revision, "editorId", material, content)
       VALUES ($1, 1, $2, true, $3)`,
      [id, authorId, JSON.stringify({ language: 'nb', title: request.body.title, body: request.body.body })],
    );
    await client.query(
      `INSERT INTO "OutboxEvent" (type, "channelId", "aggregateId", payload)
       VALUES ('announcement.published', $1, $2, $3)`,
      [channelId, id, JSON.stringify({ announcementId: id })],
    );
    await client.query(
      `INSERT INTO "AuditLog" ("actorKind", "actorUserId", action, outcome, "targetType", "targetId")
       VALUES ('user', $1, 'announcement.publish', 'success', 'announcement', $2)`,
      [authorId, id],
    );
    await client.query(`SELECT pg_notify('meldingskanal_outbox', '')`);
    await client.query('COMMIT');
    return reply.code(201).send({ id });
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
});

await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
process.stdout.write('listening\n');
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    void app
      .close()
      .then(() => pool.end())
      .finally(() => process.exit(0));
  });
}

/**
 * PostgreSQL behind PgBouncer in transaction mode (Debian's pgbouncer, started by the test on a free port in front
 * of the test server), as many university database platforms offer it. What works through it: Prisma over the pg
 * driver adapter (its statements are unnamed, so no prepared statement outlives a transaction), interactive
 * transactions, `FOR UPDATE SKIP LOCKED`, transaction-scoped advisory locks, NOTIFY at commit. What does not: a
 * session — a LISTEN or a session advisory lock sits on a server connection PgBouncer hands to other clients after
 * each transaction. Those two (the outbox relay's LISTEN, the migration runner's lock) use DATABASE_DIRECT_URL.
 *
 * The relay here polls only every 10 minutes (OUTBOX_POLL_MS), so an announcement e-mailed within seconds proves its
 * LISTEN heard the publication's NOTIFY over the direct connection.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMigrations, runMigrations } from '../../src/db/migrate.js';
import { buildApp } from '../../src/http/app.js';
import { createSmtpMailer, type Mailer } from '../../src/mail/mailer.js';
import { MIGRATIONS_DIR } from '../../src/paths.js';
import { type RunningWorkers, startWorkers } from '../../workers/main.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createEmptyDatabase } from '../helpers/db.js';
import { createSubscription, silentLogger, uniqueAddress } from '../helpers/delivery.js';
import { createChannel, createUser, tokenFor } from '../helpers/factories.js';
import { type PgBouncer, startPgBouncer } from '../helpers/pgbouncer.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { waitFor } from '../helpers/wait.js';

let bouncer: PgBouncer;
let ctx: TestContext;
let smtp: TestSmtpServer;
let mailer: Mailer;
let workers: RunningWorkers | undefined;

beforeAll(async () => {
  bouncer = await startPgBouncer({ poolMode: 'transaction', poolSize: 5 });
  smtp = await startSmtpServer();
  ctx = await createTestContext((databaseUrl) => ({
    DATABASE_URL: bouncer.urlFor(databaseUrl),
    DATABASE_DIRECT_URL: databaseUrl,
    OUTBOX_POLL_MS: '600000',
  }));
  mailer = createSmtpMailer({ url: smtp.url, poolSize: 2, maxMessages: 1000, ratePerSecond: 0 });
}, 60_000);

afterAll(async () => {
  await workers?.close();
  await mailer?.close();
  await smtp?.close();
  await bouncer?.stop();
  await ctx?.close();
});

/** PgBouncer's admin console: the clients it serves for one database. */
async function bouncerClients(database: string): Promise<number> {
  const admin = new pg.Client({ connectionString: bouncer.urlFor(ctx.database.url.replace(/\/[^/]*$/, '/pgbouncer')) });
  await admin.connect();
  try {
    // The admin console speaks only the simple query protocol.
    const result = await admin.query({ text: 'SHOW CLIENTS', rowMode: 'array' } as pg.QueryConfig);
    const databaseColumn = result.fields.findIndex((field) => field.name === 'database');
    return result.rows.filter((row) => (row as string[])[databaseColumn] === database).length;
  } finally {
    await admin.end();
  }
}

describe('PostgreSQL behind PgBouncer in transaction mode', () => {
  it('serves the API and the delivery pipeline; the relay hears NOTIFY over DATABASE_DIRECT_URL', async () => {
    const db = ctx.deps.db;
    workers = await startWorkers(ctx.deps, { mailer, logger: silentLogger });
    const app = await buildApp(ctx.deps);
    try {
      const channel = await createChannel(db, { visibility: 'public' });
      const publisher = await createUser(db, { isAdmin: true });
      const token = await tokenFor(db, publisher.id);
      const addresses = [uniqueAddress('bouncer-a'), uniqueAddress('bouncer-b')];
      for (const email of addresses) await createSubscription(db, { channelId: channel.id, email });

      const published = await app.inject({
        method: 'POST',
        url: `/api/v1/channels/${channel.slug}/announcements`,
        headers: { authorization: `Bearer ${token}`, 'idempotency-key': 'bouncer-1' },
        payload: { title: 'Gjennom PgBouncer', body: 'Transaksjonsmodus.' },
      });
      expect(published.statusCode, published.body).toBe(201);
      const { id } = published.json() as { id: string };
      // The same key again: the idempotency row is read back through the pooler.
      const replayed = await app.inject({
        method: 'POST',
        url: `/api/v1/channels/${channel.slug}/announcements`,
        headers: { authorization: `Bearer ${token}`, 'idempotency-key': 'bouncer-1' },
        payload: { title: 'Gjennom PgBouncer', body: 'Transaksjonsmodus.' },
      });
      expect(replayed.headers['idempotent-replayed']).toBe('true');

      const listed = await app.inject({ method: 'GET', url: `/api/v1/channels/${channel.slug}/announcements` });
      expect(listed.statusCode).toBe(200);
      expect((listed.json() as { items: { id: string }[] }).items.map((item) => item.id)).toContain(id);

      // Woken by NOTIFY (the poll is 10 minutes away): e-mails within seconds, each delivery settled.
      await waitFor(() => addresses.every((address) => smtp.messagesTo(address).length === 1), {
        what: 'the e-mails, relayed on NOTIFY',
        timeoutMs: 15_000,
      });
      await waitFor(
        async () => (await db.delivery.count({ where: { announcementId: id, status: 'sent' } })) === addresses.length,
        { what: 'the deliveries settled through PgBouncer' },
      );
      expect(await bouncerClients(ctx.database.name)).toBeGreaterThan(0);

      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.json()).toMatchObject({ checks: { postgres: 'ok' } });
    } finally {
      await app.close();
    }
  }, 60_000);

  it('migrates over DATABASE_DIRECT_URL: two runners at once apply each migration exactly once', async () => {
    const empty = await createEmptyDatabase();
    try {
      const database = { url: bouncer.urlFor(empty.url), directUrl: empty.url, poolSize: 2 };
      const [one, two] = await Promise.all([
        runMigrations({ database }, () => {}),
        runMigrations({ database }, () => {}),
      ]);
      const all = (await readMigrations(MIGRATIONS_DIR)).map((m) => m.name);
      expect([...one.applied, ...two.applied].sort()).toEqual(all);
      expect(one.applied.length === 0 || two.applied.length === 0).toBe(true);
    } finally {
      await empty.drop();
    }
  }, 60_000);
});

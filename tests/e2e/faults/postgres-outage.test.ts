/**
 * Fault: PostgreSQL goes away in the middle of a fan-out. The test database's backends are terminated
 * (pg_terminate_backend) and new connections refused (ALTER DATABASE … ALLOW_CONNECTIONS false) — the shared server
 * itself keeps running. While it is away the API answers a publish with 503 `service_unavailable` (and /readyz with
 * 503, postgres `error`); then connections are allowed again and everything resumes by itself, no process restarted:
 * everyone receives the announcement (duplicates only of what was in flight, with the same Message-ID) and the API
 * publishes again. Prints `[fault] …` with the recovery times.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Child, describeChild, startProcess, waitForLog } from '../../helpers/child-process.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { createChannel, createUser, tokenFor } from '../../helpers/factories.js';
import { STARTUP_MS, sized } from '../../helpers/fault-scale.js';
import { type CountingSmtpServer, startCountingSmtpServer } from '../../helpers/smtp-counter.js';
import { adminUrl } from '../../helpers/urls.js';
import { waitFor } from '../../helpers/wait.js';

const RECIPIENTS = sized(1000, 10_000);

let ctx: TestContext;
let smtp: CountingSmtpServer;
let onMessage: ((count: number) => void) | undefined;
let api: Child;
let worker: Child;
let apiUrl: string;
let token: string;
let admin: pg.Client;

beforeAll(async () => {
  ctx = await createTestContext();
  admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  smtp = await startCountingSmtpServer({ onMessage: (count) => onMessage?.(count) });
  const common = { ...ctx.env, APP_ENV: 'development', LOG_LEVEL: 'info' };
  api = startProcess('api', { ...common, ROLE: 'api', HOST: '127.0.0.1', PORT: '0', DEV_OIDC_PORT: '0' });
  worker = startProcess('worker', {
    ...common,
    ROLE: 'worker',
    SMTP_URL: smtp.url,
    MAIL_FROM: 'BOTT Meldingskanal <meldingskanal@example.org>',
    SWEEP_INTERVAL_MS: '500',
    STALE_DELIVERY_MS: '3000',
  });
  const listening = await waitForLog(api, (l) => typeof l.apiUrl === 'string', 'API listening', STARTUP_MS);
  apiUrl = (listening.apiUrl as string).replace('localhost', '127.0.0.1');
  await waitForLog(worker, (l) => l.msg === 'workers started', 'workers started', STARTUP_MS);
  const publisher = await createUser(ctx.deps.db, { isAdmin: true });
  token = await tokenFor(ctx.deps.db, publisher.id);
}, 300_000);

afterAll(async () => {
  for (const child of [api, worker]) {
    if (child && child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
  }
  await admin?.query(`ALTER DATABASE ${ctx.database.name} WITH ALLOW_CONNECTIONS true`).catch(() => {});
  await admin?.end();
  await smtp?.close();
  await ctx?.close();
});

function publish(slug: string, title: string): Promise<Response> {
  return fetch(`${apiUrl}/api/v1/channels/${slug}/announcements`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ title, body: 'Databasen var borte en stund.' }),
  });
}

describe('PostgreSQL away in the middle of a fan-out', () => {
  it('answers 503 service_unavailable while it is away, loses nothing, and resumes by itself', async () => {
    const db = ctx.deps.db;
    const name = ctx.database.name;
    const channel = await createChannel(db, { visibility: 'public' });
    await db.$executeRaw`
      INSERT INTO "Subscription" ("channelId", email, "emailMode", language, "confirmedAt", "updatedAt")
      SELECT ${channel.id}::uuid, 'pg-' || n || '@example.org', 'immediate', 'nb', now(), now()
        FROM generate_series(1, ${RECIPIENTS}::int) AS n`;

    let away: Promise<void> | undefined;
    let awayAt = 0;
    onMessage = (count) => {
      if (count === Math.round(RECIPIENTS * 0.3) && !away) {
        awayAt = Date.now();
        away = (async () => {
          await admin.query(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS false`);
          await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
        })();
      }
    };
    const published = await publish(channel.slug, 'Før databasen forsvant');
    expect(published.status).toBe(201);
    const { id } = (await published.json()) as { id: string };

    await waitFor(() => awayAt > 0, { what: 'PostgreSQL taken away mid fan-out', timeoutMs: 300_000 });
    await away;
    onMessage = undefined;
    const acceptedWhenAway = smtp.messages.length;

    // --- while it is away ---
    const refused = await waitFor(
      async () => {
        const response = await publish(channel.slug, 'Mens databasen er borte');
        return response.status === 503 ? response : undefined;
      },
      { what: 'a publish answered 503', timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(refused.headers.get('content-type')).toMatch(/application\/json/);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('service_unavailable');
    const ready = await waitFor(
      async () => {
        const response = await fetch(`${apiUrl}/readyz`);
        return response.status === 503 ? ((await response.json()) as { checks: Record<string, string> }) : undefined;
      },
      { what: '/readyz 503' },
    );
    expect(ready.checks.postgres).not.toBe('ok');
    // The worker meets it too (a job or the relay fails and will be retried), and keeps running.
    await waitForLog(worker, (l) => Number(l.level) >= 40 && Number(l.time) >= awayAt, 'a failure logged while away');
    const awayForMs = Date.now() - awayAt;

    // --- back ---
    await admin.query(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS true`);
    const backAt = Date.now();
    const again = await waitFor(
      async () => {
        const response = await publish(channel.slug, 'Etter at databasen kom tilbake');
        return response.status === 201 ? response : undefined;
      },
      { what: 'a publish accepted again', timeoutMs: 60_000, intervalMs: 200 },
    );
    const publishBackMs = Date.now() - backAt;
    const second = ((await again.json()) as { id: string }).id;
    await waitFor(
      async () => (await db.delivery.count({ where: { announcementId: id, status: 'sent' } })) === RECIPIENTS,
      { what: 'every delivery of the first announcement sent', timeoutMs: 600_000, intervalMs: 250 },
    );
    const doneMs = Date.now() - backAt;
    await waitFor(
      async () => (await db.delivery.count({ where: { announcementId: second, status: 'sent' } })) === RECIPIENTS,
      { what: 'every delivery of the announcement published after', timeoutMs: 600_000, intervalMs: 250 },
    );
    expect(api.process.exitCode, describeChild(api)).toBeNull();
    expect(worker.process.exitCode, describeChild(worker)).toBeNull();

    const byRecipient = new Map<string, Set<string>>();
    let copies = 0;
    const firstIds = new Set(
      (await db.delivery.findMany({ where: { announcementId: id }, select: { id: true } })).map(
        (d) => `<delivery-${d.id}@localhost>`,
      ),
    );
    for (const mail of smtp.messages) {
      if (!firstIds.has(mail.messageId)) continue;
      copies += 1;
      for (const to of mail.to) byRecipient.set(to, (byRecipient.get(to) ?? new Set()).add(mail.messageId));
    }
    expect(byRecipient.size).toBe(RECIPIENTS);
    for (const ids of byRecipient.values()) expect(ids.size).toBe(1);
    const duplicates = copies - RECIPIENTS;
    // At most what was claimed and in flight when the connections went: EMAIL_CONCURRENCY × EMAIL_BATCH_SIZE.
    expect(duplicates).toBeLessThanOrEqual(ctx.config.delivery.emailConcurrency * ctx.config.delivery.emailBatchSize);

    console.info(
      `[fault] PostgreSQL away mid fan-out (${RECIPIENTS} recipients, ${acceptedWhenAway} e-mails accepted before): ` +
        `publish 503 service_unavailable, /readyz 503 and the worker's retries, away ${awayForMs} ms; after it came back a publish was ` +
        `accepted in ${publishBackMs} ms and everyone had the first announcement ${doneMs} ms later; ` +
        `duplicates ${duplicates}, each with the first copy's Message-ID; no process restarted`,
    );
  }, 900_000);
});

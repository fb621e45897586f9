/**
 * End to end, with the API and the worker as two real child processes started from src/main.ts (ROLE=api and
 * ROLE=worker), cooperating only through PostgreSQL and Redis: an announcement published over HTTP arrives as an
 * e-mail at an in-process SMTP server (with the headers the issue asks for) and as an event on a WebSocket connected
 * to the API. Each serves Prometheus metrics on its own listener (METRICS_PORT, behind METRICS_TOKEN), never on the
 * API port. Then SIGTERM drains both processes within the shutdown deadline, with exit code 0.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveRedisChannel } from '../../src/realtime/protocol.js';
import { type Child, describeChild, startProcess, waitForLog } from '../helpers/child-process.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, tokenFor } from '../helpers/factories.js';
import { LiveClient } from '../helpers/live-client.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { REDIS_URL } from '../helpers/urls.js';
import { waitFor } from '../helpers/wait.js';

const SHUTDOWN_TIMEOUT_MS = 5000;
const MAIL_FROM = 'BOTT Meldingskanal <meldingskanal@example.org>';
const METRICS_TOKEN = 'e2e-metrics-token-0123456789abcdefghij';

let ctx: TestContext;
let smtp: TestSmtpServer;
let api: Child | undefined;
let worker: Child | undefined;
let live: LiveClient | undefined;
let redis: Redis | undefined;

beforeAll(async () => {
  ctx = await createTestContext();
  smtp = await startSmtpServer();
  const common = {
    ...ctx.env,
    APP_ENV: 'development',
    LOG_LEVEL: 'info',
    SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    // The test database is already migrated; the separate roles never migrate or seed anyway.
    MIGRATE_ON_START: 'false',
    SEED_ON_EMPTY: 'false',
    // Each process its own metrics listener, on a free loopback port.
    METRICS_PORT: '0',
    METRICS_TOKEN,
  };
  // The API role starts the development sign-in (no OIDC_ISSUER here): on a free port, like the API itself.
  api = startProcess('api', { ...common, ROLE: 'api', HOST: '127.0.0.1', PORT: '0', DEV_OIDC_PORT: '0' });
  worker = startProcess('worker', { ...common, ROLE: 'worker', SMTP_URL: smtp.url, MAIL_FROM });
}, 60_000);

afterAll(async () => {
  // Whatever happened above, no child outlives the test file.
  for (const child of [api, worker]) {
    if (child && child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
  }
  live?.socket.terminate();
  redis?.disconnect();
  await smtp?.close();
  await ctx?.close();
});

describe('API and worker as separate processes', () => {
  it('delivers an announcement published over HTTP as an e-mail and a live WebSocket event, then drains on SIGTERM', async () => {
    // --- both processes are up ---
    const listening = await waitForLog(api!, (l) => typeof l.apiUrl === 'string', 'API listening');
    const apiUrl = (listening.apiUrl as string).replace('localhost', '127.0.0.1');
    await waitForLog(worker!, (l) => l.msg === 'workers started', 'workers started');
    await waitFor(async () => (await fetch(`${apiUrl}/readyz`)).status === 200, { what: '/readyz 200' });

    // --- metrics: on each process's own listener, behind the token; not on the API port ---
    for (const child of [api!, worker!]) {
      const line = await waitForLog(child, (l) => typeof l.metricsUrl === 'string', 'metrics listening');
      const metricsUrl = line.metricsUrl as string;
      expect(metricsUrl, child.name).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      expect((await fetch(metricsUrl)).status, child.name).toBe(401);
      const scraped = await fetch(metricsUrl, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(scraped.status, child.name).toBe(200);
      const text = await scraped.text();
      expect(text, child.name).toContain('meldingskanal_queue_jobs{queue="fanout"');
      // Only the API process serves HTTP, so only it times requests.
      expect(text.includes('meldingskanal_http_request_duration_seconds_count{'), child.name).toBe(child === api);
    }
    expect((await fetch(`${apiUrl}/metrics`)).status).toBe(404);

    // --- a publisher, a channel and a subscriber ---
    const db = ctx.deps.db;
    const channel = await createChannel(db, { visibility: 'public' });
    const publisher = await createUser(db, { isAdmin: true });
    const publisherToken = await tokenFor(db, publisher.id);
    const subscriber = await createUser(db, { email: `subscriber-${channel.slug}@example.org` });
    const subscriberToken = await tokenFor(db, subscriber.id, { scopes: ['read'] });
    const subscribed = await fetch(`${apiUrl}/api/v1/me/subscriptions/${channel.slug}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${subscriberToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ emailMode: 'immediate' }),
    });
    expect(subscribed.status).toBe(201);

    // --- a WebSocket watching the channel, on the API process ---
    live = await LiveClient.connect(`${apiUrl.replace('http', 'ws')}/api/v1/live`);
    live.send({ type: 'subscribe', channels: [channel.slug] });
    const ack = await live.frame((f) => f.type === 'subscribed', 'subscribed frame');
    expect(ack).toMatchObject({ channels: [channel.slug], denied: [] });
    // The API's hub subscribes to Redis pub/sub in the background; an event published before that would be missed
    // by design (the client would replay it with `since`). Wait on that state, not on time.
    redis = new Redis(REDIS_URL);
    const liveChannel = liveRedisChannel(ctx.config.redis.prefix);
    await waitFor(
      async () => {
        const [, subscribers] = (await redis!.pubsub('NUMSUB', liveChannel)) as [string, number];
        return Number(subscribers) >= 1;
      },
      { what: "the API's live hub subscribed to Redis" },
    );

    // --- publish over HTTP ---
    const published = await fetch(`${apiUrl}/api/v1/channels/${channel.slug}/announcements`, {
      method: 'POST',
      headers: { authorization: `Bearer ${publisherToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Planlagt vedlikehold', body: 'Tjenesten er nede **tirsdag** kl. 07–08.' }),
    });
    expect(published.status).toBe(201);
    const announcement = (await published.json()) as { id: string };

    // --- the e-mail, sent by the worker process over SMTP ---
    const [mail] = await smtp.waitForMessages(1, 'the announcement e-mail');
    expect(mail!.envelope.to).toEqual([subscriber.email]);
    expect(mail!.parsed.headers.get('content-type')).toMatchObject({ value: 'multipart/alternative' });
    // A real text part and an HTML part, both carrying the announcement.
    expect(mail!.parsed.text).toContain('Planlagt vedlikehold');
    expect(mail!.parsed.text).toContain('tirsdag');
    expect(mail!.parsed.html).toContain('Planlagt vedlikehold');
    const header = (name: string) =>
      mail!.headerLines.find((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`));
    expect(header('List-Unsubscribe')).toMatch(
      /^List-Unsubscribe: <http:\/\/localhost:3000\/unsubscribe\?token=[^>]+>$/,
    );
    expect(header('List-Unsubscribe-Post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    const delivery = await waitFor(
      () =>
        db.delivery.findFirst({ where: { announcementId: announcement.id, status: 'sent' } }).then((d) => d ?? false),
      { what: 'the delivery marked sent' },
    );
    expect(mail!.parsed.messageId).toBe(`<delivery-${delivery.id}@localhost>`);

    // --- the live event, relayed by the worker through Redis to the API process ---
    const event = await live.frame((f) => f.type === 'announcement.published', 'announcement.published frame');
    expect(event).toMatchObject({ channel: channel.slug, announcement: { id: announcement.id } });

    // --- graceful shutdown of both, within the deadline ---
    const started = Date.now();
    api!.process.kill('SIGTERM');
    worker!.process.kill('SIGTERM');
    const bound = SHUTDOWN_TIMEOUT_MS + 3000; // the deadline, plus process exit and log flushing
    const [apiExit, workerExit] = await Promise.all(
      [api!, worker!].map((child) =>
        waitFor(() => child.process.exitCode !== null && child.exited, {
          what: `${child.name} to exit`,
          timeoutMs: bound,
        }).then(async () => ({ child, ...(await child.exited) })),
      ),
    );
    const elapsed = Date.now() - started;
    expect(apiExit!.code, describeChild(api!)).toBe(0);
    expect(workerExit!.code, describeChild(worker!)).toBe(0);
    expect(elapsed).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    // The API closed the WebSocket with 1001 (going away) so the client knows to reconnect elsewhere.
    await waitFor(() => live!.closed, { what: 'the WebSocket closed' });
    expect(live.closed?.code).toBe(1001);
    expect(api!.logs.some((l) => l.msg === 'stopped' && l.exitCode === 0)).toBe(true);
  }, 90_000);
});

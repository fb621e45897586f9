/**
 * End to end, with the API and the worker as two real child processes started from src/main.ts (ROLE=api and
 * ROLE=worker), cooperating only through PostgreSQL and Redis: an announcement published over HTTP arrives as an
 * e-mail at an in-process SMTP server (with the headers the issue asks for) and as an event on a WebSocket connected
 * to the API. Then SIGTERM drains both processes within the shutdown deadline, with exit code 0.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/paths.js';
import { liveRedisChannel } from '../../src/realtime/protocol.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, tokenFor } from '../helpers/factories.js';
import { LiveClient } from '../helpers/live-client.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { REDIS_URL } from '../helpers/urls.js';
import { waitFor } from '../helpers/wait.js';

const SHUTDOWN_TIMEOUT_MS = 5000;
const MAIL_FROM = 'BOTT Meldingskanal <meldingskanal@example.org>';

interface Child {
  name: string;
  process: ChildProcess;
  /** Parsed JSON log lines (pino), in order. */
  logs: Record<string, unknown>[];
  /** Everything else it printed (stderr, non-JSON stdout), for the failure message. */
  other: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `node --import tsx src/main.ts` with exactly the given settings (plus PATH/HOME so node and tsx run): the
 * child sees no variable of this test process, so nothing leaks in by accident.
 */
function startProcess(name: string, settings: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...settings },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const other: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      other.push(line);
    }
  });
  createInterface({ input: child.stderr! }).on('line', (line) => other.push(line));
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  return { name, process: child, logs, other, exited };
}

function describeChild(child: Child): string {
  const tail = [...child.logs.map((l) => JSON.stringify(l)), ...child.other].slice(-30).join('\n');
  return `${child.name} (exit ${child.process.exitCode ?? 'not yet'}):\n${tail}`;
}

/** Waits for a log line of `child`, failing at once with its output if the process dies first. */
async function waitForLog(child: Child, match: (line: Record<string, unknown>) => boolean, what: string) {
  return waitFor(
    () => {
      if (child.process.exitCode !== null) throw new Error(`${child.name} exited early.\n${describeChild(child)}`);
      return child.logs.find(match);
    },
    { what: `${child.name}: ${what}`, timeoutMs: 30_000 },
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${describeChild(child)}`);
  });
}

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

/**
 * Scale-out: two API processes and two worker processes (src/main.ts, ROLE=api / ROLE=worker, real children) against
 * one PostgreSQL database and one Redis, cooperating only through them.
 *
 * - Every e-mail is sent once: announcements published alternately through both APIs, fanned out and sent by whichever
 *   worker takes the jobs; the SMTP server counts one Message-ID per recipient and announcement.
 * - Every live client is served whichever API it is connected to: a WebSocket on each API gets every announcement.
 * - Schedulers are not doubled: the sweeper, reminder and digest schedulers exist once however many workers upserted
 *   them, and a digest period run twice (two firings) makes one digest per subscriber.
 * - Graceful path: SIGTERM to one API and one worker in the middle of a fan-out. Both exit 0 within the shutdown
 *   deadline; the other worker finishes with no e-mail lost and none sent twice; the WebSockets of the stopped API
 *   are closed with 1001 and its event streams (SSE) end; they reconnect to the other API with `since` (SSE:
 *   `Last-Event-ID`) and get the announcement they missed replayed, once.
 *
 * Scaled down in `npm test`; `npm run test:faults` runs it at full size (tests/helpers/fault-scale.ts). Figures are
 * printed as `[scale-out] …` lines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIGEST_SCHEDULER_ID, SWEEP_SCHEDULER_ID } from '../../src/queue/jobs.js';
import { type Child, describeChild, startProcess, waitForLog } from '../helpers/child-process.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, tokenFor } from '../helpers/factories.js';
import { STARTUP_MS, sized } from '../helpers/fault-scale.js';
import { LiveClient } from '../helpers/live-client.js';
import { type CountingSmtpServer, startCountingSmtpServer } from '../helpers/smtp-counter.js';
import { SseClient } from '../helpers/sse-client.js';
import { waitFor } from '../helpers/wait.js';

const SHUTDOWN_TIMEOUT_MS = 8000;
const MAIL_FROM = 'BOTT Meldingskanal <meldingskanal@example.org>';

let ctx: TestContext;
let smtp: CountingSmtpServer;
/** Called by the SMTP server before each 250 (the graceful test stops processes from here). */
let onMessage: ((count: number) => void) | undefined;
const apis: { child: Child; url: string }[] = [];
const workers: Child[] = [];
const clients: LiveClient[] = [];
const streams: SseClient[] = [];
let token: string;

function settings(role: 'api' | 'worker'): Record<string, string> {
  return {
    ...ctx.env,
    APP_ENV: 'development',
    LOG_LEVEL: 'info',
    ROLE: role,
    SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    ...(role === 'api'
      ? { HOST: '127.0.0.1', PORT: '0', DEV_OIDC_PORT: '0' }
      : { SMTP_URL: smtp.url, MAIL_FROM, SWEEP_INTERVAL_MS: '1000' }),
  };
}

beforeAll(async () => {
  ctx = await createTestContext();
  smtp = await startCountingSmtpServer({ onMessage: (count) => onMessage?.(count) });
  for (const name of ['api-1', 'api-2']) {
    const child = startProcess(name, settings('api'));
    apis.push({ child, url: '' });
  }
  for (const name of ['worker-1', 'worker-2']) workers.push(startProcess(name, settings('worker')));
  for (const api of apis) {
    const line = await waitForLog(api.child, (l) => typeof l.apiUrl === 'string', 'API listening', STARTUP_MS);
    api.url = (line.apiUrl as string).replace('localhost', '127.0.0.1');
  }
  for (const worker of workers)
    await waitForLog(worker, (l) => l.msg === 'workers started', 'workers started', STARTUP_MS);
  const publisher = await createUser(ctx.deps.db, { isAdmin: true });
  token = await tokenFor(ctx.deps.db, publisher.id);
}, 300_000);

afterAll(async () => {
  for (const client of clients) client.close();
  for (const client of streams) client.close();
  for (const child of [...apis.map((a) => a.child), ...workers]) {
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
  }
  await smtp?.close();
  await ctx?.close();
});

async function subscribers(channelId: string, count: number, label: string, mode = 'immediate'): Promise<void> {
  await ctx.deps.db.$executeRaw`
    INSERT INTO "Subscription" ("channelId", email, "emailMode", language, "confirmedAt", "updatedAt")
    SELECT ${channelId}::uuid, ${label} || '-' || n || '@example.org', ${mode}::"EmailMode", 'nb', now(), now()
      FROM generate_series(1, ${count}::int) AS n`;
}

async function publishThrough(apiUrl: string, slug: string, title: string): Promise<string> {
  const response = await fetch(`${apiUrl}/api/v1/channels/${slug}/announcements`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ title, body: 'Skalert ut.' }),
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

async function watch(apiUrl: string, slug: string, since?: string): Promise<LiveClient> {
  const client = await LiveClient.connect(`${apiUrl.replace(/^http/, 'ws')}/api/v1/live`);
  clients.push(client);
  client.send({ type: 'subscribe', channels: [slug], ...(since ? { since } : {}) });
  await client.frame((f) => f.type === 'subscribed', 'subscribed');
  return client;
}

const publishedIds = (client: LiveClient) => client.ofType('announcement.published').map((f) => f.announcement.id);

/** An event stream (GET /api/v1/live/sse) of one channel, resuming after `lastEventId` as EventSource would. */
async function stream(apiUrl: string, slug: string, lastEventId?: string): Promise<SseClient> {
  const client = await SseClient.connect(
    `${apiUrl}/api/v1/live/sse?channels=${slug}`,
    lastEventId ? { 'last-event-id': lastEventId } : {},
  );
  streams.push(client);
  await client.frame((f) => f.type === 'subscribed', 'the stream subscribed');
  return client;
}

const streamedIds = (client: SseClient) => client.ofType('announcement.published').map((f) => f.announcement.id);

describe('two API and two worker processes on one PostgreSQL and one Redis', () => {
  it('sends every e-mail once and serves every live client, whichever process it is connected to', async () => {
    const channel = await createChannel(ctx.deps.db, { visibility: 'public' });
    const RECIPIENTS = sized(100, 1000);
    const ANNOUNCEMENTS = 4;
    await subscribers(channel.id, RECIPIENTS, `once-${channel.slug}`);
    const watchers = [await watch(apis[0]!.url, channel.slug), await watch(apis[1]!.url, channel.slug)];

    const ids: string[] = [];
    const started = Date.now();
    for (let i = 0; i < ANNOUNCEMENTS; i += 1) {
      ids.push(await publishThrough(apis[i % 2]!.url, channel.slug, `Melding ${i + 1}`));
    }
    await smtp.waitForCount(RECIPIENTS * ANNOUNCEMENTS, 'every e-mail', 120_000);
    const sentMs = Date.now() - started;
    await waitFor(
      async () =>
        (await ctx.deps.db.delivery.count({ where: { announcementId: { in: ids }, status: 'sent' } })) ===
        RECIPIENTS * ANNOUNCEMENTS,
      { what: 'every delivery settled as sent', timeoutMs: 30_000 },
    );
    const received = smtp.byRecipient((to) => to.startsWith(`once-${channel.slug}-`));
    expect(received.size).toBe(RECIPIENTS);
    for (const messageIds of received.values()) {
      expect(messageIds).toHaveLength(ANNOUNCEMENTS);
      expect(new Set(messageIds).size).toBe(ANNOUNCEMENTS);
    }

    for (const watcher of watchers) {
      await waitFor(() => publishedIds(watcher).length >= ANNOUNCEMENTS, { what: 'every live frame on each API' });
      expect(new Set(publishedIds(watcher))).toEqual(new Set(ids));
      expect(publishedIds(watcher)).toHaveLength(ANNOUNCEMENTS);
    }

    // One scheduler each, however many workers upserted them.
    const maintenance = await ctx.deps.queues.maintenance.getJobSchedulers();
    expect(maintenance.map((s) => s.key).sort()).toEqual(['ack-reminders', SWEEP_SCHEDULER_ID].sort());
    const digest = await ctx.deps.queues.digest.getJobSchedulers();
    expect(digest.map((s) => s.key).sort()).toEqual([DIGEST_SCHEDULER_ID.daily, DIGEST_SCHEDULER_ID.weekly].sort());
    const delayedSweeps = (await ctx.deps.queues.maintenance.getDelayed()).filter((job) => job.name === 'sweep');
    expect(delayedSweeps.length).toBeLessThanOrEqual(1);

    console.info(
      `[scale-out] 2 APIs + 2 workers: ${ANNOUNCEMENTS} announcements × ${RECIPIENTS} recipients = ` +
        `${RECIPIENTS * ANNOUNCEMENTS} e-mails in ${sentMs} ms, 0 duplicates; every live frame on both APIs`,
    );
  }, 180_000);

  it('makes one digest per subscriber and period when the period is run twice', async () => {
    const channel = await createChannel(ctx.deps.db, { visibility: 'public', title: 'Daglig' });
    const DIGESTS = sized(100, 300);
    /** Tuesday 17 November 2026, 07:00:30 in Oslo. */
    const firing = Date.parse('2026-11-17T06:00:30Z');
    await ctx.deps.db.announcement.create({
      data: { channelId: channel.id, title: 'Natt', body: 'Kort nedetid.', publishedAt: new Date(firing - 3600_000) },
    });
    await subscribers(channel.id, DIGESTS, `digest-${channel.slug}`, 'daily');
    // Two firings of the same period (two schedulers would do this), taken by whichever workers are free.
    await ctx.deps.queues.digest.addBulk([
      { name: 'run', data: { task: 'run', mode: 'daily', scheduledAt: firing }, opts: { jobId: 'run-a' } },
      { name: 'run', data: { task: 'run', mode: 'daily', scheduledAt: firing + 1000 }, opts: { jobId: 'run-b' } },
    ]);
    await waitFor(async () => (await ctx.deps.db.digest.count({ where: { status: 'sent' } })) === DIGESTS, {
      what: 'every digest sent',
      timeoutMs: 60_000,
    });
    expect(await ctx.deps.db.digest.count()).toBe(DIGESTS);
    const received = smtp.byRecipient((to) => to.startsWith(`digest-${channel.slug}-`));
    expect(received.size).toBe(DIGESTS);
    expect([...received.values()].every((messageIds) => messageIds.length === 1)).toBe(true);
  }, 90_000);

  it('SIGTERM to one API and one worker mid fan-out: both drain in time, nothing lost or doubled, sockets replay', async () => {
    const channel = await createChannel(ctx.deps.db, { visibility: 'public' });
    const RECIPIENTS = sized(400, 3000);
    const STOP_AT = sized(100, 600);
    await subscribers(channel.id, RECIPIENTS, `graceful-${channel.slug}`);
    const [api1, api2] = apis as [(typeof apis)[0], (typeof apis)[0]];
    const worker1 = workers[0]!;
    const onStopped = Array.from({ length: 10 }, () => watch(api1.url, channel.slug));
    const stoppedApiClients = await Promise.all(onStopped);
    const stoppedApiStreams = await Promise.all(Array.from({ length: 5 }, () => stream(api1.url, channel.slug)));
    const otherApiClient = await watch(api2.url, channel.slug);

    const before = smtp.messages.length;
    let signalledAt = 0;
    onMessage = (count) => {
      // Synchronously, before this message's 250: both processes are stopped with sends in flight.
      if (count - before === STOP_AT && signalledAt === 0) {
        signalledAt = Date.now();
        worker1.process.kill('SIGTERM');
        api1.child.process.kill('SIGTERM');
      }
    };
    const first = await publishThrough(api2.url, channel.slug, 'Under last');
    const exits = await Promise.all(
      [worker1, api1.child].map(async (child) => {
        const { code } = await waitFor(() => child.process.exitCode !== null && child.exited, {
          what: `${child.name} to exit after SIGTERM`,
          timeoutMs: SHUTDOWN_TIMEOUT_MS + 10_000,
        }).then(() => child.exited);
        return { child, code, ms: Date.now() - signalledAt };
      }),
    );
    onMessage = undefined;
    for (const exit of exits) {
      expect(exit.code, describeChild(exit.child)).toBe(0);
      expect(exit.ms).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    }

    // The stopped API said "going away"; its clients missed what is published now, on the API still running.
    for (const client of stoppedApiClients) expect((await client.whenClosed()).code).toBe(1001);
    const lastSeen = stoppedApiClients.map((client) => client.ofType('announcement.published').at(-1)?.eventId);
    const missed = await publishThrough(api2.url, channel.slug, 'Mens du var borte');
    await waitFor(() => publishedIds(otherApiClient).includes(missed), { what: 'the live frame on the other API' });
    const reconnected = await Promise.all(lastSeen.map((since) => watch(api2.url, channel.slug, since)));
    for (const client of reconnected) {
      await waitFor(() => publishedIds(client).includes(missed), { what: 'the missed announcement replayed' });
    }
    for (const [index, client] of reconnected.entries()) {
      const seen = [...publishedIds(stoppedApiClients[index]!), ...publishedIds(client)];
      expect(seen.filter((id) => id === first)).toHaveLength(1);
      expect(seen.filter((id) => id === missed)).toHaveLength(1);
    }
    // Event streams: the stopped API ended them; EventSource reconnects with Last-Event-ID, here to the other API.
    for (const sse of stoppedApiStreams) await sse.whenEnded();
    const resumed = await Promise.all(
      stoppedApiStreams.map((sse) => stream(api2.url, channel.slug, sse.parser.lastEventId)),
    );
    for (const [index, sse] of resumed.entries()) {
      await waitFor(() => streamedIds(sse).includes(missed), { what: 'the missed announcement replayed over SSE' });
      const seen = [...streamedIds(stoppedApiStreams[index]!), ...streamedIds(sse)];
      expect(seen.filter((id) => id === first)).toHaveLength(1);
      expect(seen.filter((id) => id === missed)).toHaveLength(1);
    }

    // The worker still running finishes both fan-outs: every recipient got each announcement exactly once.
    await smtp.waitForCount(before + 2 * RECIPIENTS, 'both fan-outs', 120_000);
    await waitFor(
      async () =>
        (await ctx.deps.db.delivery.count({ where: { announcementId: { in: [first, missed] }, status: 'sent' } })) ===
        2 * RECIPIENTS,
      { what: 'every delivery settled as sent', timeoutMs: 30_000 },
    );
    const received = smtp.byRecipient((to) => to.startsWith(`graceful-${channel.slug}-`));
    expect(received.size).toBe(RECIPIENTS);
    const duplicates = [...received.values()].reduce((sum, ids) => sum + ids.length - new Set(ids).size, 0);
    expect(duplicates).toBe(0);
    expect([...received.values()].every((ids) => ids.length === 2)).toBe(true);

    console.info(
      `[scale-out] SIGTERM at ${STOP_AT} of ${RECIPIENTS} e-mails: ${exits
        .map((exit) => `${exit.child.name} exit 0 in ${exit.ms} ms`)
        .join(', ')} (deadline ${SHUTDOWN_TIMEOUT_MS} ms); 0 lost, 0 duplicates; ${reconnected.length} sockets ` +
        `closed 1001 and ${resumed.length} event streams ended, reconnected to the other API (since / Last-Event-ID) ` +
        'and got the missed announcement replayed once',
    );
  }, 240_000);
});

/**
 * GET /api/v1/live/sse with a real HTTP client reading the event stream as EventSource would (tests/helpers/
 * sse-client.ts): the same frames as the WebSocket, `id:` positions, Last-Event-ID replay and reset, heartbeats,
 * authentication and access, Origin and CORS, limits, the slow-reader cut-off, and shutdown. Events are positioned
 * and published by the real outbox relay through real Redis.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { Actor } from '../../src/domain/types.js';
import { buildApp } from '../../src/http/app.js';
import { publishLiveEvent } from '../../src/realtime/events.js';
import { type AnnouncementPublishedEvent, liveFrameOf } from '../../src/realtime/protocol.js';
import { publishAnnouncement } from '../../src/services/publish.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, tokenFor } from '../helpers/factories.js';
import { LiveClient } from '../helpers/live-client.js';
import { headPosition, publishedEvent, relayAll } from '../helpers/live-relay.js';
import { SseClient } from '../helpers/sse-client.js';
import { waitFor } from '../helpers/wait.js';

const WIDGET = 'https://intranett.example.org';

let ctx: TestContext;
let publisher: Actor;
let memberToken: string;
const apps: FastifyInstance[] = [];
const clients: { close(): void }[] = [];
let main: { app: FastifyInstance; base: string };

async function start(overrides: Record<string, string> = {}) {
  const config = loadConfig({ ...ctx.env, ...overrides });
  const app = await buildApp({ ...ctx.deps, config }, { logger: false });
  apps.push(app);
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  await app.liveHub.start();
  return { app, base };
}

async function open(base: string, query: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const client = await SseClient.connect(`${base}/api/v1/live/sse?${query}`, headers);
  clients.push(client);
  return client;
}

async function publish(slug: string, title = 'Melding', body = 'Tekst.'): Promise<AnnouncementPublishedEvent> {
  const db = ctx.deps.db;
  const view = await publishAnnouncement({ db, publicUrl: ctx.config.http.publicUrl }, publisher, slug, {
    title,
    body,
  });
  await relayAll(ctx);
  return publishedEvent(db, view.id, ctx.config.http.publicUrl);
}

beforeAll(async () => {
  ctx = await createTestContext({ WIDGET_ORIGINS: WIDGET, WS_MAX_CHANNELS_PER_SOCKET: '3' });
  const db = ctx.deps.db;
  const admin = await createUser(db, { isAdmin: true });
  publisher = { kind: 'user', userId: admin.id, isAdmin: true, organisationId: null, scopes: ['read', 'publish'] };
  memberToken = await tokenFor(db, (await createUser(db, { organisationCode: 'UiT' })).id);
  await createChannel(db, { slug: 'sse-nyheter', visibility: 'public' });
  await createChannel(db, { slug: 'sse-drift', visibility: 'public' });
  await createChannel(db, { slug: 'sse-tilsatte', visibility: 'internal' });
  main = await start();
});

afterAll(async () => {
  for (const client of clients) client.close();
  for (const app of apps) await app.close();
  await ctx?.close();
});

describe('the event stream', () => {
  it('streams the WebSocket’s frames as events, with the position as id on announcement frames', async () => {
    const stream = await open(main.base, 'channels=sse-nyheter,finst-ikkje');
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(stream.headers['cache-control']).toBe('no-cache, no-transform');
    expect(stream.headers['x-accel-buffering']).toBe('no');
    expect(stream.headers['content-encoding']).toBeUndefined();
    expect(stream.headers['x-request-id']).toEqual(expect.any(String));
    const subscribed = await stream.frame((f) => f.type === 'subscribed', 'subscribed');
    expect(subscribed).toEqual({ type: 'subscribed', channels: ['sse-nyheter'], denied: ['finst-ikkje'] });
    expect(stream.parser.retry).toBeGreaterThanOrEqual(1000);
    expect(stream.parser.retry).toBeLessThanOrEqual(5000);

    const ws = await LiveClient.connect(`${main.base.replace('http', 'ws')}/api/v1/live`);
    clients.push(ws);
    ws.send({ type: 'subscribe', channels: ['sse-nyheter'] });
    await ws.frame((f) => f.type === 'subscribed', 'the WebSocket subscribed');

    const event = await publish('sse-nyheter', 'Over SSE');
    const frame = await stream.frame((f) => f.eventId === event.eventId, 'the announcement');
    // The same JSON as the WebSocket frame.
    expect(frame).toEqual(JSON.parse(JSON.stringify(liveFrameOf(event, null))));
    expect(await ws.frame((f) => f.eventId === event.eventId, 'the WebSocket frame')).toEqual(frame);
    const sent = stream.events.find((e) => JSON.parse(e.data).eventId === event.eventId)!;
    expect(sent.id).toBe(event.eventId);
    expect(stream.parser.lastEventId).toBe(event.eventId);
    // The subscribed frame carries no position.
    expect(stream.events[0]!.id).toBeUndefined();
  });

  it('replays from Last-Event-ID (over ?since=), and resets for a position beyond the log', async () => {
    const before = await publish('sse-drift', 'Før');
    const missed = await publish('sse-drift', 'Gått glipp av');
    // EventSource reconnects with the URL it was opened with, and the last id it received as Last-Event-ID.
    const resumed = await open(main.base, 'channels=sse-drift&since=0', { 'last-event-id': before.eventId });
    await resumed.frame((f) => f.type === 'replayed', 'the end of the replay');
    expect(resumed.frames.map((f) => f.type)).toEqual(['subscribed', 'announcement.published', 'replayed']);
    expect(resumed.eventIds()).toEqual([missed.eventId]);

    const head = await headPosition(ctx.deps.db);
    const unknown = await open(main.base, `channels=sse-drift&since=${BigInt(head) + 1000n}`);
    const reset = await unknown.frame((f) => f.type === 'reset', 'the reset');
    expect(reset).toEqual({ type: 'reset', channels: ['sse-drift'], reason: 'unknown_position', eventId: head });
    // Its id is where EventSource resumes from after the client reloaded over REST.
    expect(unknown.parser.lastEventId).toBe(head);
    const after = await publish('sse-drift', 'Etter reset');
    await unknown.frame((f) => f.eventId === after.eventId, 'the next live event');
  });

  it('authenticates as the WebSocket does: a bearer token reads internal channels, anonymous does not', async () => {
    const member = await open(main.base, 'channels=sse-tilsatte', { authorization: `Bearer ${memberToken}` });
    expect(await member.frame((f) => f.type === 'subscribed', 'subscribed')).toMatchObject({
      channels: ['sse-tilsatte'],
      denied: [],
    });
    const anonymous = await open(main.base, 'channels=sse-tilsatte');
    expect(await anonymous.frame((f) => f.type === 'subscribed', 'subscribed')).toMatchObject({
      channels: [],
      denied: ['sse-tilsatte'],
    });
    expect(
      (await SseClient.refused(`${main.base}/api/v1/live/sse?channels=sse-drift`, { authorization: 'Bearer nope' }))
        .status,
    ).toBe(401);
    const inUrl = await SseClient.refused(`${main.base}/api/v1/live/sse?channels=sse-drift&token=x`);
    expect(inUrl.status).toBe(400);
  });

  it('refuses foreign origins, and answers widget origins with CORS (no credentials) and preflights', async () => {
    const foreign = await SseClient.refused(`${main.base}/api/v1/live/sse?channels=sse-drift`, {
      origin: 'https://elsewhere.example',
    });
    expect(foreign.status).toBe(403);
    expect(JSON.parse(foreign.body)).toMatchObject({ error: { code: 'forbidden' } });

    const widget = await open(main.base, 'channels=sse-drift', { origin: WIDGET });
    expect(widget.headers['access-control-allow-origin']).toBe(WIDGET);
    expect(widget.headers['access-control-allow-credentials']).toBeUndefined();

    const preflight = await main.app.inject({
      method: 'OPTIONS',
      url: '/api/v1/live/sse?channels=sse-drift',
      headers: {
        origin: WIDGET,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'last-event-id',
      },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(WIDGET);
    expect(String(preflight.headers['access-control-allow-headers']).toLowerCase()).toContain('last-event-id');
  });

  it('refuses bad channel lists and positions with 400 before the stream starts', async () => {
    for (const query of [
      'channels=a,b,c,d',
      'channels=',
      'channels=a,,b',
      `channels=${'x'.repeat(65)}`,
      'channels=a&since=abc',
      'channels=a&since=9223372036854775808',
    ]) {
      const refusal = await SseClient.refused(`${main.base}/api/v1/live/sse?${query}`);
      expect(refusal.status, query).toBe(400);
      expect(JSON.parse(refusal.body), query).toMatchObject({ error: { code: 'validation_failed' } });
    }
    const header = await SseClient.refused(`${main.base}/api/v1/live/sse?channels=a`, { 'last-event-id': 'x1' });
    expect(header.status).toBe(400);
  });
});

describe('limits and lifecycle', () => {
  it('counts event streams and WebSockets together against WS_MAX_CONNECTIONS_PER_IP', async () => {
    const capped = await start({ WS_MAX_CONNECTIONS_PER_IP: '2' });
    const stream = await open(capped.base, 'channels=sse-drift');
    const socket = await LiveClient.connect(`${capped.base.replace('http', 'ws')}/api/v1/live`);
    clients.push(socket);
    const refused = await SseClient.refused(`${capped.base}/api/v1/live/sse?channels=sse-drift`);
    expect(refused.status).toBe(429);
    expect((await LiveClient.refused(`${capped.base.replace('http', 'ws')}/api/v1/live`)).status).toBe(429);
    stream.close();
    await waitFor(
      async () => {
        try {
          clients.push(await open(capped.base, 'channels=sse-drift'));
          return true;
        } catch {
          return false;
        }
      },
      { what: 'the slot to be free again' },
    );
  });

  it('sends heartbeat comments', async () => {
    const beating = await start({ WS_PING_INTERVAL_MS: '100' });
    const stream = await open(beating.base, 'channels=sse-drift');
    await waitFor(() => stream.parser.comments.length >= 2, { what: 'two heartbeats' });
    expect(stream.parser.comments[0]).toBe('heartbeat');
    expect(stream.ended).toBe(false);
  });

  it('cuts off a stream that stops reading while the others keep receiving', async () => {
    const small = await start({ WS_MAX_BUFFERED_BYTES: '65536' });
    const slow = await open(small.base, 'channels=sse-nyheter');
    const healthy = await open(small.base, 'channels=sse-nyheter');
    await slow.frame((f) => f.type === 'subscribed', 'subscribed');
    await healthy.frame((f) => f.type === 'subscribed', 'subscribed');
    slow.pause();
    // Copies of a relayed event made large (a quarter of a megabyte each): the kernel's socket buffers fill, then the
    // server's passes the limit.
    const relayed = await publish('sse-nyheter', 'Stor');
    const big = { ...relayed, announcements: [{ ...relayed.announcements[0]!, body: 'x'.repeat(256 * 1024) }] };
    const cut = () => small.app.liveHub.connectionCount < 2;
    let copies = 0;
    while (!cut() && copies < 2000) {
      copies += 1;
      await publishLiveEvent(ctx.deps.redis, ctx.config.redis.prefix, {
        ...big,
        eventId: String(BigInt(big.eventId) + BigInt(copies) * 1_000_000n),
      });
      // A reader that keeps up: it has everything so far before more is sent.
      await waitFor(() => healthy.frames.length >= copies + 2, { what: 'the healthy stream' });
    }
    // The server cut the slow stream (a client that does not read cannot see that until it reads again).
    expect(cut()).toBe(true);
    expect(copies).toBeLessThan(2000);
    slow.response.resume();
    await slow.whenEnded();
    expect(slow.ofType('announcement.published').length).toBeLessThan(copies + 1);
    expect(healthy.ended).toBe(false);
    const after = await publish('sse-nyheter', 'Etter kuttet');
    await healthy.frame((f) => f.eventId === after.eventId, 'the next event on the healthy stream');
  });

  it('ends every stream promptly on app.close()', async () => {
    const closing = await start();
    const one = await open(closing.base, 'channels=sse-drift');
    const two = await open(closing.base, 'channels=sse-nyheter');
    await one.frame((f) => f.type === 'subscribed', 'subscribed');
    const started = performance.now();
    await closing.app.close();
    const took = performance.now() - started;
    await one.whenEnded();
    await two.whenEnded();
    // The streams ended politely (the last chunk arrived), not by a cut connection, and well within the grace.
    expect(one.aborted).toBe(false);
    expect(took).toBeLessThan(2000);
    expect(closing.app.liveHub.connectionCount).toBe(0);
  });
});

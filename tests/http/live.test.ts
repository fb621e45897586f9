/**
 * GET /api/v1/live with real `ws` clients against listening servers, events positioned and published by the real
 * outbox relay through real Redis pub/sub (over a separate connection, as the worker's) and replays read from real
 * PostgreSQL.
 */

import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/domain/types.js';
import { buildApp } from '../../src/http/app.js';
import { publishLiveEvent } from '../../src/realtime/events.js';
import { type AnnouncementPublishedEvent, type LiveEvent, liveFrameOf } from '../../src/realtime/protocol.js';
import { publishAnnouncement } from '../../src/services/publish.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, grantRole, tokenFor } from '../helpers/factories.js';
import { LiveClient } from '../helpers/live-client.js';
import { publishedEvent, relayAll } from '../helpers/live-relay.js';
import { REDIS_URL } from '../helpers/urls.js';
import { waitFor } from '../helpers/wait.js';

let ctx: TestContext;
let appA: FastifyInstance;
let appB: FastifyInstance;
let urlA: string;
let urlB: string;
let relay: Redis;
let publisherActor: Actor;
let memberToken: string;
let roleHolderToken: string;
const clients: LiveClient[] = [];

async function listen(app: FastifyInstance): Promise<string> {
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  // Events published before the hub's Redis subscription is confirmed would not be seen.
  await app.liveHub.start();
  return `${address.replace(/^http/, 'ws')}/api/v1/live`;
}

async function connect(url: string, options: Parameters<typeof LiveClient.connect>[1] = {}) {
  const client = await LiveClient.connect(url, options);
  clients.push(client);
  return client;
}

async function subscribed(client: LiveClient, channels: string[], extra: Record<string, unknown> = {}) {
  const from = client.frames.length;
  client.send({ type: 'subscribe', channels, ...extra });
  return client.frame((f) => f.type === 'subscribed' || f.type === 'error', 'the subscribe answer', from);
}

/**
 * Publishes an announcement (announcement + outbox row in one transaction), relays it (the relay gives it its position
 * and publishes it on Redis) and returns its LiveEvent.
 */
async function publish(slug: string, title = 'Melding'): Promise<AnnouncementPublishedEvent> {
  const db = ctx.deps.db;
  const view = await publishAnnouncement({ db, publicUrl: ctx.config.http.publicUrl }, publisherActor, slug, {
    title,
    body: 'Tekst i **Markdown**.',
  });
  await relayAll(ctx, relay);
  return publishedEvent(db, view.id, ctx.config.http.publicUrl);
}

/** The frame a socket reading originals (no language asked for) is sent for `event`, as it arrives. */
function frameOf(event: LiveEvent) {
  return JSON.parse(JSON.stringify(liveFrameOf(event, null)));
}

/** What the outbox relay does: the event, as JSON, on the live Redis channel (here: again). */
async function relayEvent(event: LiveEvent): Promise<void> {
  await publishLiveEvent(relay, ctx.config.redis.prefix, event);
}

beforeAll(async () => {
  ctx = await createTestContext({ WS_MAX_CHANNELS_PER_SOCKET: '3', WS_MAX_PAYLOAD_BYTES: '1024' });
  const db = ctx.deps.db;
  const admin = await createUser(db, { isAdmin: true });
  publisherActor = { kind: 'user', userId: admin.id, isAdmin: true, organisationId: null, scopes: ['read', 'publish'] };
  memberToken = await tokenFor(db, (await createUser(db, { organisationCode: 'UiT' })).id);
  const roleHolder = await createUser(db);
  roleHolderToken = await tokenFor(db, roleHolder.id);
  await createChannel(db, { slug: 'nyheter', visibility: 'public' });
  await createChannel(db, { slug: 'drift', visibility: 'public' });
  await createChannel(db, { slug: 'tilsatte', visibility: 'internal' });
  const board = await createChannel(db, { slug: 'styret', visibility: 'restricted' });
  await grantRole(db, board.id, roleHolder.id, 'publisher');

  relay = new Redis(REDIS_URL);
  appA = await buildApp(ctx.deps, { logger: false });
  appB = await buildApp(ctx.deps, { logger: false });
  urlA = await listen(appA);
  urlB = await listen(appB);
});

afterAll(async () => {
  for (const client of clients) client.close();
  await appA?.close();
  await appB?.close();
  relay?.disconnect();
  await ctx?.close();
});

describe('subscribing', () => {
  it('acknowledges a subscribe and answers ping with pong', async () => {
    const client = await connect(urlA);
    expect(await subscribed(client, ['nyheter'])).toEqual({ type: 'subscribed', channels: ['nyheter'], denied: [] });
    client.send({ type: 'ping' });
    await client.frame((f) => f.type === 'pong', 'pong');
    expect(appA.liveHub.connectionCount).toBeGreaterThanOrEqual(1);
    expect(appA.liveHub.subscriptionCount).toBeGreaterThanOrEqual(1);
  });

  it('forgets a client that ends its side of the connection at once, and then ends its own side', async () => {
    const connectionsBefore = appA.liveHub.connectionCount;
    const socketsBefore = appA.websocketServer.clients.size;
    const client = await connect(urlA);
    await subscribed(client, ['nyheter']);
    expect(appA.liveHub.connectionCount).toBe(connectionsBefore + 1);
    // A TCP half-close (FIN), as a client that drops its socket sends; the client keeps reading.
    const raw = (client.socket as unknown as { _socket: import('node:net').Socket })._socket;
    const serverEnded = new Promise<void>((resolve) => raw.once('end', () => resolve()));
    raw.end();
    // The session is gone at once, and ws's own end handling (run later, in the setup lane) ends the server's side
    // and closes the socket.
    await waitFor(() => appA.liveHub.connectionCount === connectionsBefore, { what: 'the session forgotten' });
    await serverEnded;
    await waitFor(() => appA.websocketServer.clients.size === socketsBefore, { what: 'the server socket closed' });
  });

  it('denies internal and restricted channels to anonymous exactly like a slug that does not exist', async () => {
    const client = await connect(urlA);
    expect(await subscribed(client, ['tilsatte', 'styret', 'finst-ikkje'])).toEqual({
      type: 'subscribed',
      channels: [],
      denied: ['tilsatte', 'styret', 'finst-ikkje'],
    });
    const restricted = await subscribed(client, ['styret']);
    const missing = await subscribed(client, ['finst-ikkje']);
    expect(JSON.stringify(restricted).replace('styret', 'X')).toBe(JSON.stringify(missing).replace('finst-ikkje', 'X'));
  });

  it('grants what the token holder may read: internal to an organisation member, restricted to a role holder', async () => {
    const member = await connect(urlA, { headers: { authorization: `Bearer ${memberToken}` } });
    expect(await subscribed(member, ['tilsatte', 'styret'])).toEqual({
      type: 'subscribed',
      channels: ['tilsatte'],
      denied: ['styret'],
    });
    const roleHolder = await connect(urlA, { headers: { authorization: `Bearer ${roleHolderToken}` } });
    expect(await subscribed(roleHolder, ['styret'])).toEqual({ type: 'subscribed', channels: ['styret'], denied: [] });
  });

  it('refuses more channels than WS_MAX_CHANNELS_PER_SOCKET with an error frame', async () => {
    const client = await connect(urlA);
    const answer = await subscribed(client, ['nyheter', 'drift', 'a', 'b']);
    expect(answer).toMatchObject({ type: 'error', code: 'too_many_channels' });
    expect(client.closed).toBeUndefined();
  });

  it('answers a malformed frame with bad_frame', async () => {
    const client = await connect(urlA);
    client.send('{"type":"subscribe","channels":"nyheter"}');
    expect(await client.frame((f) => f.type === 'error', 'the error frame')).toMatchObject({ code: 'bad_frame' });
  });
});

describe('live events through Redis', () => {
  it('delivers an event published on Redis by another connection to sockets watching its channel only', async () => {
    const news = await connect(urlA);
    const ops = await connect(urlA);
    await subscribed(news, ['nyheter']);
    await subscribed(ops, ['drift']);

    const first = await publish('nyheter', 'Første');
    const second = await publish('drift', 'Andre');
    const third = await publish('nyheter', 'Tredje');

    await news.frame((f) => f.eventId === third.eventId, 'the third event');
    await ops.frame((f) => f.eventId === second.eventId, 'the second event');
    // Redis and the hub keep order: had `ops` been sent the first event, it would have arrived before the second.
    expect(news.eventIds()).toEqual([first.eventId, third.eventId]);
    expect(ops.eventIds()).toEqual([second.eventId]);
    expect(news.ofType('announcement.published')[0]).toEqual(frameOf(first));
  });

  it('is delivered by every API process to its own clients (cross-process via Redis)', async () => {
    const onA = await connect(urlA);
    const onB = await connect(urlB);
    await subscribed(onA, ['drift']);
    await subscribed(onB, ['drift']);
    const event = await publish('drift', 'Til alle');
    const fromA = await onA.frame((f) => f.eventId === event.eventId, 'the event on A');
    const fromB = await onB.frame((f) => f.eventId === event.eventId, 'the event on B');
    expect(fromA).toEqual(frameOf(event));
    expect(fromB).toEqual(frameOf(event));
  });
});

describe('replay', () => {
  it('replays the gap after `since` in order, skips retracted announcements, then joins the live stream', async () => {
    await createChannel(ctx.deps.db, { slug: 'arkiv', visibility: 'public' });
    const e1 = await publish('arkiv', 'En');
    const e2 = await publish('arkiv', 'To');
    const elsewhere = await publish('nyheter', 'Annan kanal');
    const e3 = await publish('arkiv', 'Tre');
    const e4 = await publish('arkiv', 'Fire');
    await ctx.deps.db.announcement.update({ where: { id: e3.announcements[0]!.id }, data: { status: 'retracted' } });

    const client = await connect(`${urlA}?since=${e1.eventId}`);
    await subscribed(client, ['arkiv']);
    const done = await client.frame((f) => f.type === 'replayed', 'the end of the replay');
    expect(done).toEqual({ type: 'replayed', channels: ['arkiv'], count: 2 });
    expect(client.eventIds()).toEqual([e2.eventId, e4.eventId]);
    expect(client.eventIds()).not.toContain(elsewhere.eventId);
    expect(client.frames.map((f) => f.type)).toEqual([
      'subscribed',
      'announcement.published',
      'announcement.published',
      'replayed',
    ]);

    // The relay publishing a replayed event late is not a second copy; the next event arrives as usual.
    await relayEvent(e4);
    const e5 = await publish('arkiv', 'Fem');
    await client.frame((f) => f.eventId === e5.eventId, 'the live event');
    expect(client.eventIds()).toEqual([e2.eventId, e4.eventId, e5.eventId]);
  });

  it('takes `since` from the subscribe frame too', async () => {
    await createChannel(ctx.deps.db, { slug: 'logg', visibility: 'public' });
    const e1 = await publish('logg', 'En');
    const e2 = await publish('logg', 'To');
    const client = await connect(urlB);
    await subscribed(client, ['logg'], { since: '0' });
    await client.frame((f) => f.type === 'replayed', 'the end of the replay');
    expect(client.eventIds()).toEqual([e1.eventId, e2.eventId]);
  });
});

describe('limits and refusals', () => {
  it('closes a socket that sends a frame over WS_MAX_PAYLOAD_BYTES with 1009', async () => {
    const client = await connect(urlA);
    client.send({ type: 'subscribe', channels: ['x'.repeat(2000)] });
    expect((await client.whenClosed()).code).toBe(1009);
  });

  it('refuses the upgrade with 401 and the error body for a bad token', async () => {
    const refusal = await LiveClient.refused(urlA, { headers: { authorization: 'Bearer mkt_not-a-real-token' } });
    expect(refusal.status).toBe(401);
    expect(JSON.parse(refusal.body)).toMatchObject({ error: { code: 'unauthenticated' } });
  });

  it('does not leave the socket of a refused upgrade open (app.close() finishes)', async () => {
    const app = await buildApp(ctx.deps, { logger: false });
    const url = await listen(app);
    expect((await LiveClient.refused(url, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    let closed = false;
    void app.close().then(() => {
      closed = true;
    });
    await waitFor(() => closed, { timeoutMs: 5000, what: 'app.close() to finish' });
  });

  it('refuses the upgrade with 400 for a malformed since', async () => {
    for (const since of ['abc', '99999999999999999999', '9223372036854775808']) {
      const refusal = await LiveClient.refused(`${urlA}?since=${since}`);
      expect(refusal.status).toBe(400);
      expect(JSON.parse(refusal.body)).toMatchObject({ error: { code: 'validation_failed' } });
    }
  });
});

describe('lifecycle', () => {
  it('terminates a socket that does not answer pings, and keeps one that does', async () => {
    const config = { ...ctx.config, ws: { ...ctx.config.ws, pingIntervalMs: 300 } };
    const app = await buildApp({ ...ctx.deps, config }, { logger: false });
    try {
      const url = await listen(app);
      const healthy = await connect(url);
      const silent = await connect(url, { autoPong: false });
      // A missed pong is noticed at the second ping tick; the socket is cut off (1006: no closing handshake).
      expect((await silent.whenClosed()).code).toBe(1006);
      expect(healthy.closed).toBeUndefined();
    } finally {
      await app.close();
    }
  });

  it('closes every client with 1001 on app.close()', async () => {
    const app = await buildApp(ctx.deps, { logger: false });
    const url = await listen(app);
    const one = await connect(url);
    const two = await connect(url);
    await subscribed(one, ['nyheter']);
    await app.close();
    expect((await one.whenClosed()).code).toBe(1001);
    expect((await two.whenClosed()).code).toBe(1001);
    expect(app.liveHub.connectionCount).toBe(0);
  });
});

/**
 * Who may open the live WebSocket and keep it (src/http/plugins/live.ts): the Origin allowlist, the session cookie,
 * single-use tickets, no credentials in URLs, the connection cap per address, and access re-checks that take channels
 * away (and close the socket when the session or token ended) while the socket stays open — periodically, and at
 * once on an "access changed" hint. Real `ws` clients against listening servers, real PostgreSQL and Redis.
 */

import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { Actor } from '../../src/domain/types.js';
import { buildApp } from '../../src/http/app.js';
import { announceAccessChange } from '../../src/realtime/access-hints.js';
import type { LiveEvent } from '../../src/realtime/protocol.js';
import { publishAnnouncement } from '../../src/services/publish.js';
import { endSession, resolveSession, SESSION_COOKIE, startSession } from '../../src/services/sessions.js';
import { revokeApiToken } from '../../src/services/tokens.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, grantRole, type TestUser, tokenFor } from '../helpers/factories.js';
import { type Frame, LiveClient } from '../helpers/live-client.js';
import { publishedEvent, relayAll } from '../helpers/live-relay.js';
import { REDIS_URL } from '../helpers/urls.js';
import { waitFor } from '../helpers/wait.js';

const PUBLIC_URL = 'https://meldingskanal.example.org';
const WIDGET = 'https://intranett.example.org';
/** Re-checks in `fast` run this often; `hintOnly` never re-checks by itself within a test, so only a hint explains. */
const FAST_RECHECK_MS = 200;

let ctx: TestContext;
let relay: Redis;
let publisher: Actor;
const apps: FastifyInstance[] = [];
const clients: LiveClient[] = [];
let fast: { app: FastifyInstance; url: string; http: string };
let hintOnly: { app: FastifyInstance; url: string; http: string };
let capped: { app: FastifyInstance; url: string; http: string };

async function start(overrides: Record<string, string>) {
  const config = loadConfig({ ...ctx.env, ...overrides });
  const app = await buildApp({ ...ctx.deps, config }, { logger: false });
  apps.push(app);
  const http = await app.listen({ port: 0, host: '127.0.0.1' });
  // Events and hints published before the hub's Redis subscription is confirmed would not be seen.
  await app.liveHub.start();
  return { app, http, url: `${http.replace(/^http/, 'ws')}/api/v1/live` };
}

async function connect(url: string, headers: Record<string, string> = {}) {
  const client = await LiveClient.connect(url, { headers });
  clients.push(client);
  return client;
}

async function subscribe(client: LiveClient, channels: string[], extra: Record<string, unknown> = {}): Promise<Frame> {
  const from = client.frames.length;
  client.send({ type: 'subscribe', channels, ...extra });
  return client.frame((f) => f.type === 'subscribed' || f.type === 'error', 'the subscribe answer', from);
}

/** A signed-in browser: a session for the user, its cookie header and CSRF token. */
async function signIn(user: TestUser) {
  const started = await startSession(ctx.deps.db, { userId: user.id }, ctx.config.session);
  const resolved = await resolveSession(ctx.deps.db, started.secret, ctx.config.session);
  return { secret: started.secret, cookie: `${SESSION_COOKIE}=${started.secret}`, csrfToken: resolved!.csrfToken };
}

/** Publishes an announcement and relays it (positioned, published on Redis by the real outbox relay). */
async function publish(slug: string, title = 'Melding'): Promise<LiveEvent> {
  const db = ctx.deps.db;
  const view = await publishAnnouncement({ db, publicUrl: PUBLIC_URL }, publisher, slug, { title, body: 'Tekst.' });
  await relayAll(ctx, relay);
  return publishedEvent(db, view.id, PUBLIC_URL);
}

async function requestTicket(base: string, headers: Record<string, string>) {
  const response = await fetch(`${base}/api/v1/live/tickets`, { method: 'POST', headers });
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted on by the tests
  const body: any = await response.json();
  return { status: response.status, headers: response.headers, body };
}

function ticketKey(ticket: string): string {
  return `${ctx.config.redis.prefix}:live-ticket:${createHash('sha256').update(ticket).digest('hex')}`;
}

beforeAll(async () => {
  ctx = await createTestContext({ PUBLIC_URL, WIDGET_ORIGINS: WIDGET });
  const admin = await createUser(ctx.deps.db, { isAdmin: true });
  publisher = { kind: 'user', userId: admin.id, isAdmin: true, organisationId: null, scopes: ['read', 'publish'] };
  relay = new Redis(REDIS_URL);
  fast = await start({ LIVE_ACCESS_RECHECK_MS: String(FAST_RECHECK_MS) });
  hintOnly = await start({ LIVE_ACCESS_RECHECK_MS: '600000' });
  capped = await start({ WS_MAX_CONNECTIONS_PER_IP: '2' });
});

afterAll(async () => {
  for (const client of clients) client.close();
  for (const app of apps) await app.close();
  relay?.disconnect();
  await ctx?.close();
});

describe('opening a socket', () => {
  it('refuses an Origin that is neither PUBLIC_URL nor a widget origin, with 403 before upgrading', async () => {
    for (const origin of ['https://evil.example', 'null', `${PUBLIC_URL}.evil.example`]) {
      const refusal = await LiveClient.refused(fast.url, { headers: { origin } });
      expect(refusal.status, origin).toBe(403);
      expect(JSON.parse(refusal.body).error.code).toBe('forbidden');
    }
  });

  it('accepts PUBLIC_URL and widget origins, and clients that send no Origin', async () => {
    const variants: Record<string, string>[] = [{ origin: PUBLIC_URL }, { origin: WIDGET }, {}];
    for (const headers of variants) {
      const client = await connect(fast.url, headers);
      expect(await subscribe(client, ['finst-ikkje'])).toMatchObject({ type: 'subscribed' });
    }
  });

  it('refuses credentials in the URL with 400, whatever else is sent', async () => {
    const token = await tokenFor(ctx.deps.db, (await createUser(ctx.deps.db)).id);
    for (const query of [`token=${token}`, `access_token=${token}`]) {
      const refusal = await LiveClient.refused(`${fast.url}?${query}`, { headers: { origin: PUBLIC_URL } });
      expect(refusal.status, query).toBe(400);
      const { error } = JSON.parse(refusal.body);
      expect(error.code).toBe('validation_failed');
      expect(error.message).toContain('/api/v1/live/tickets');
    }
  });

  it('lets a signed-in browser use its session cookie for internal channels; anonymous gets public only', async () => {
    const db = ctx.deps.db;
    const internal = await createChannel(db, { visibility: 'internal' });
    const session = await signIn(await createUser(db, { organisationCode: 'UiB' }));
    const browser = await connect(fast.url, { cookie: session.cookie, origin: PUBLIC_URL });
    expect(await subscribe(browser, [internal.slug])).toEqual({
      type: 'subscribed',
      channels: [internal.slug],
      denied: [],
    });
    const anonymous = await connect(fast.url, { origin: PUBLIC_URL });
    expect(await subscribe(anonymous, [internal.slug])).toMatchObject({ channels: [], denied: [internal.slug] });

    const event = await publish(internal.slug);
    await browser.frame((f) => f.eventId === event.eventId, 'the internal event');
  });

  it('ignores the session cookie on a handshake from a widget origin: the host page gets public channels only', async () => {
    // A widget on an intranet page that shares a site with the service opens its socket with the visitor's cookie.
    const db = ctx.deps.db;
    const internal = await createChannel(db, { visibility: 'internal' });
    const session = await signIn(await createUser(db, { organisationCode: 'UiB' }));
    const widget = await connect(fast.url, { cookie: session.cookie, origin: WIDGET });
    expect(await subscribe(widget, [internal.slug])).toMatchObject({ channels: [], denied: [internal.slug] });
    // The same cookie from the service's own page, and from a client that sends no Origin, is the person.
    const ownPage = await connect(fast.url, { cookie: session.cookie, origin: PUBLIC_URL });
    expect(await subscribe(ownPage, [internal.slug])).toMatchObject({ channels: [internal.slug], denied: [] });
    const noOrigin = await connect(fast.url, { cookie: session.cookie });
    expect(await subscribe(noOrigin, [internal.slug])).toMatchObject({ channels: [internal.slug], denied: [] });
  });

  it('caps connections per address with 429 before upgrading, and frees the slot when a socket closes', async () => {
    const first = await connect(capped.url);
    await connect(capped.url);
    const refusal = await LiveClient.refused(capped.url);
    expect(refusal.status).toBe(429);
    expect(JSON.parse(refusal.body).error.code).toBe('rate_limited');
    first.close();
    // The server notices the close a moment later; until then a new connection is still refused.
    const again = await waitFor(() => LiveClient.connect(capped.url).catch(() => undefined), {
      what: 'a free connection slot',
    });
    clients.push(again);
    expect((await LiveClient.refused(capped.url)).status).toBe(429);
  });
});

describe('tickets', () => {
  it('are issued to a bearer token, work once, and carry its rights', async () => {
    const db = ctx.deps.db;
    const internal = await createChannel(db, { visibility: 'internal' });
    const token = await tokenFor(db, (await createUser(db, { organisationCode: 'NTNU' })).id);
    const issued = await requestTicket(fast.http, { authorization: `Bearer ${token}` });
    expect(issued.status).toBe(201);
    expect(issued.body).toEqual({ ticket: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), expiresIn: 30 });
    expect(issued.headers.get('cache-control')).toBe('no-store');
    const ttl = await relay.ttl(ticketKey(issued.body.ticket));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30);

    const url = `${fast.url}?ticket=${issued.body.ticket}`;
    const client = await connect(url, { origin: WIDGET });
    expect(await subscribe(client, [internal.slug])).toMatchObject({ channels: [internal.slug], denied: [] });

    const reused = await LiveClient.refused(url, { headers: { origin: WIDGET } });
    expect(reused.status).toBe(401);
    expect(JSON.parse(reused.body).error.code).toBe('unauthenticated');
  });

  it('are issued to a signed-in browser that shows its CSRF token, and stand for its session', async () => {
    const db = ctx.deps.db;
    const session = await signIn(await createUser(db, { organisationCode: 'UiT' }));
    const withoutToken = await requestTicket(fast.http, { cookie: session.cookie, origin: PUBLIC_URL });
    expect(withoutToken.status).toBe(403);
    expect(withoutToken.body.error.code).toBe('csrf_failed');

    const headers = { cookie: session.cookie, origin: PUBLIC_URL, 'x-csrf-token': session.csrfToken };
    const issued = await requestTicket(fast.http, headers);
    expect(issued.status).toBe(201);
    // The ticket is worth nothing once the session has ended.
    await endSession(db, session.secret);
    const refusal = await LiveClient.refused(`${fast.url}?ticket=${issued.body.ticket}`);
    expect(refusal.status).toBe(401);
  });

  it('are refused when expired or forged, and to anonymous callers', async () => {
    const token = await tokenFor(ctx.deps.db, (await createUser(ctx.deps.db)).id);
    const issued = await requestTicket(fast.http, { authorization: `Bearer ${token}` });
    // Let Redis expire it (rather than waiting 30 s): a millisecond TTL, then wait until it is gone.
    await relay.pexpire(ticketKey(issued.body.ticket), 1);
    await waitFor(async () => (await relay.exists(ticketKey(issued.body.ticket))) === 0, { what: 'expiry' });
    expect((await LiveClient.refused(`${fast.url}?ticket=${issued.body.ticket}`)).status).toBe(401);

    const forged = 'A'.repeat(43);
    expect((await LiveClient.refused(`${fast.url}?ticket=${forged}`)).status).toBe(401);
    expect((await LiveClient.refused(`${fast.url}?ticket=not-a-ticket`)).status).toBe(401);

    const anonymous = await requestTicket(fast.http, {});
    expect(anonymous.status).toBe(401);
  });

  it('are not combined with an Authorization header', async () => {
    const token = await tokenFor(ctx.deps.db, (await createUser(ctx.deps.db)).id);
    const issued = await requestTicket(fast.http, { authorization: `Bearer ${token}` });
    const refusal = await LiveClient.refused(`${fast.url}?ticket=${issued.body.ticket}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(refusal.status).toBe(400);
  });
});

describe('access while the socket is open', () => {
  it('takes a restricted channel away within the re-check interval once the role is gone', async () => {
    const db = ctx.deps.db;
    const board = await createChannel(db, { visibility: 'restricted' });
    const open = await createChannel(db, { visibility: 'public' });
    const member = await createUser(db);
    await grantRole(db, board.id, member.id, 'publisher');
    const session = await signIn(member);
    const client = await connect(fast.url, { cookie: session.cookie, origin: PUBLIC_URL });
    expect(await subscribe(client, [board.slug, open.slug])).toMatchObject({ channels: [board.slug, open.slug] });

    // A database change only, no hint: the periodic re-check must find it.
    await db.channelRole.delete({ where: { channelId_userId: { channelId: board.id, userId: member.id } } });
    const frame = await client.frame((f) => f.type === 'unsubscribed', 'the access loss', 0);
    expect(frame).toEqual({ type: 'unsubscribed', channels: [board.slug], reason: 'access' });

    // Nothing more from the restricted channel; the public one goes on.
    const secret = await publish(board.slug, 'Hemmeleg');
    const news = await publish(open.slug, 'Ope');
    await client.frame((f) => f.eventId === news.eventId, 'the public event');
    expect(client.eventIds()).not.toContain(secret.eventId);
    expect(client.closed).toBeUndefined();
  });

  it('acts at once on an access hint, in a process whose own re-check is minutes away', async () => {
    const db = ctx.deps.db;
    const board = await createChannel(db, { visibility: 'restricted' });
    const member = await createUser(db);
    await grantRole(db, board.id, member.id, 'owner');
    const token = await tokenFor(db, member.id);
    const client = await connect(hintOnly.url, { authorization: `Bearer ${token}` });
    expect(await subscribe(client, [board.slug])).toMatchObject({ channels: [board.slug] });

    await db.channelRole.delete({ where: { channelId_userId: { channelId: board.id, userId: member.id } } });
    expect(await announceAccessChange(ctx.deps.redis, ctx.config.redis.prefix, { userId: member.id })).toBe(true);
    const frame = await client.frame((f) => f.type === 'unsubscribed', 'the access loss');
    expect(frame).toEqual({ type: 'unsubscribed', channels: [board.slug], reason: 'access' });
    expect(await subscribe(client, [board.slug])).toMatchObject({ channels: [], denied: [board.slug] });
  });

  it('subscribes with the rights of the moment, not those the socket was opened with', async () => {
    const db = ctx.deps.db;
    const board = await createChannel(db, { visibility: 'restricted' });
    const admin = await createUser(db, { isAdmin: true });
    const client = await connect(hintOnly.url, { authorization: `Bearer ${await tokenFor(db, admin.id)}` });
    await db.user.update({ where: { id: admin.id }, data: { isAdmin: false } });
    expect(await subscribe(client, [board.slug])).toMatchObject({ channels: [], denied: [board.slug] });
  });

  it('takes a channel from anonymous sockets when it stops being public (hint by channel)', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db, { visibility: 'public' });
    const client = await connect(hintOnly.url, { origin: WIDGET });
    await subscribe(client, [channel.slug]);
    await db.channel.update({ where: { id: channel.id }, data: { visibility: 'internal' } });
    await announceAccessChange(ctx.deps.redis, ctx.config.redis.prefix, { channelId: channel.id });
    expect(await client.frame((f) => f.type === 'unsubscribed', 'the access loss')).toEqual({
      type: 'unsubscribed',
      channels: [channel.slug],
      reason: 'access',
    });
  });

  it('closes the socket with 4401 when its session ends, after saying which channels it lost', async () => {
    const db = ctx.deps.db;
    const internal = await createChannel(db, { visibility: 'internal' });
    const session = await signIn(await createUser(db, { organisationCode: 'UiO' }));
    const client = await connect(fast.url, { cookie: session.cookie, origin: PUBLIC_URL });
    await subscribe(client, [internal.slug]);
    expect((await endSession(db, session.secret)).ended).toBe(true);
    const closed = await client.whenClosed();
    expect(closed.code).toBe(4401);
    expect(client.ofType('unsubscribed')).toEqual([
      { type: 'unsubscribed', channels: [internal.slug], reason: 'signed_out' },
    ]);
  });

  it('closes the socket with 4401 when its token is revoked (on the hint, without waiting for a re-check)', async () => {
    const db = ctx.deps.db;
    const user = await createUser(db);
    const token = await tokenFor(db, user.id);
    const client = await connect(hintOnly.url, { authorization: `Bearer ${token}` });
    await subscribe(client, ['finst-ikkje']);
    const record = await db.apiToken.findFirstOrThrow({ where: { userId: user.id } });
    await revokeApiToken(db, record.id);
    await announceAccessChange(ctx.deps.redis, ctx.config.redis.prefix, { userId: user.id });
    expect((await client.whenClosed()).code).toBe(4401);
  });

  it('replays only channels the caller may read', async () => {
    const db = ctx.deps.db;
    const board = await createChannel(db, { visibility: 'restricted' });
    const before = await publish(board.slug, 'Før');
    const replayable = await publish(board.slug, 'Etter');
    const member = await createUser(db);
    await grantRole(db, board.id, member.id, 'publisher');
    const session = await signIn(member);

    const outsider = await connect(`${fast.url}?since=${before.eventId}`, { origin: PUBLIC_URL });
    expect(await subscribe(outsider, [board.slug])).toMatchObject({ channels: [], denied: [board.slug] });
    // A replay always ends with `replayed`; for a denied channel it is empty.
    expect(await outsider.frame((f) => f.type === 'replayed', 'the replay')).toEqual({
      type: 'replayed',
      channels: [],
      count: 0,
    });
    expect(outsider.eventIds()).toEqual([]);

    const insider = await connect(`${fast.url}?since=${before.eventId}`, {
      cookie: session.cookie,
      origin: PUBLIC_URL,
    });
    await subscribe(insider, [board.slug]);
    await insider.frame((f) => f.type === 'replayed', 'the replay');
    expect(insider.eventIds()).toEqual([replayable.eventId]);
  });
});

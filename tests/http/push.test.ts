/**
 * Web push over HTTP: the VAPID public key, registering/listing/removing a browser (with the checks on endpoint and
 * keys), push on/off in the channel subscription, and the service worker at /sw.js — its headers, and its behaviour
 * run in a stand-in for the browser's worker scope.
 */
import { createECDH, randomBytes } from 'node:crypto';
import { runInNewContext } from 'node:vm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import { generateVapidKeys } from '../../src/push/sender.js';
import { SERVICE_WORKER_SOURCE } from '../../src/push/service-worker.js';
import { MAX_PUSH_SUBSCRIPTIONS_PER_USER } from '../../src/services/push-subscriptions.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, type TestUser, tokenFor } from '../helpers/factories.js';

const VAPID = generateVapidKeys();

let ctx: TestContext;
let app: FastifyInstance;
let appWithoutPush: FastifyInstance;
let alice: TestUser;
let aliceToken: string;
let bobToken: string;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  ctx = await createTestContext({
    VAPID_PUBLIC_KEY: VAPID.publicKey,
    VAPID_PRIVATE_KEY: VAPID.privateKey,
    VAPID_SUBJECT: 'mailto:drift@example.no',
  });
  app = await buildApp(ctx.deps, { logger: false });
  const offConfig = loadConfig({ ...ctx.env, VAPID_PUBLIC_KEY: '', VAPID_PRIVATE_KEY: '', VAPID_SUBJECT: '' });
  appWithoutPush = await buildApp({ ...ctx.deps, config: offConfig }, { logger: false });
  const db = ctx.deps.db;
  alice = await createUser(db, { organisationCode: 'UIO' });
  aliceToken = await tokenFor(db, alice.id);
  bobToken = await tokenFor(db, (await createUser(db, { organisationCode: 'UIO' })).id);
  await createChannel(db, { slug: 'drift', visibility: 'public' });
});

afterAll(async () => {
  await app?.close();
  await appWithoutPush?.close();
  await ctx?.close();
});

/** What a browser's `PushSubscription.toJSON()` gives: an FCM endpoint and fresh keys. */
function browserSubscription(overrides: { endpoint?: string; p256dh?: string; auth?: string } = {}) {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return {
    endpoint: overrides.endpoint ?? `https://fcm.googleapis.com/fcm/send/${randomBytes(12).toString('base64url')}`,
    expirationTime: null,
    keys: {
      p256dh: overrides.p256dh ?? ecdh.getPublicKey().toString('base64url'),
      auth: overrides.auth ?? randomBytes(16).toString('base64url'),
    },
  };
}

function register(payload: unknown, token = aliceToken, userAgent = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0') {
  return app.inject({
    method: 'POST',
    url: '/api/v1/me/push-subscriptions',
    headers: { ...bearer(token), 'user-agent': userAgent },
    payload: payload as Record<string, unknown>,
  });
}

async function list(token = aliceToken) {
  const response = await app.inject({ method: 'GET', url: '/api/v1/me/push-subscriptions', headers: bearer(token) });
  expect(response.statusCode).toBe(200);
  return response.json().items as { id: string; endpoint: string; userAgent: string; lastSeenAt: string }[];
}

describe('GET /api/v1/push/public-key', () => {
  it('gives the VAPID public key to signed-in callers', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/push/public-key', headers: bearer(aliceToken) });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ publicKey: VAPID.publicKey });
  });

  it('answers 404 push_disabled when the server has no VAPID keys', async () => {
    const response = await appWithoutPush.inject({
      method: 'GET',
      url: '/api/v1/push/public-key',
      headers: bearer(aliceToken),
    });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('push_disabled');
  });

  it('answers 401 without credentials, like every push endpoint', async () => {
    const responses = await Promise.all([
      app.inject({ method: 'GET', url: '/api/v1/push/public-key' }),
      app.inject({ method: 'GET', url: '/api/v1/me/push-subscriptions' }),
      app.inject({ method: 'POST', url: '/api/v1/me/push-subscriptions', payload: browserSubscription() }),
      app.inject({ method: 'DELETE', url: `/api/v1/me/push-subscriptions/${crypto.randomUUID()}` }),
    ]);
    for (const response of responses) {
      expect(response.statusCode).toBe(401);
      expect(response.json().error.code).toBe('unauthenticated');
    }
    expect(await ctx.deps.db.pushSubscription.count()).toBe(0);
  });
});

describe('/api/v1/me/push-subscriptions', () => {
  it('registers a browser (201), refreshes it when registered again (200), and lists it', async () => {
    const browser = browserSubscription();
    const created = await register(browser);
    expect(created.statusCode).toBe(201);
    const body = created.json();
    expect(body).toMatchObject({
      endpoint: browser.endpoint,
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0',
      expiresAt: null,
      lastSuccessAt: null,
    });
    expect(body).not.toHaveProperty('keys');

    // The web app registers again on the next visit, maybe with renewed keys: same row, later lastSeenAt.
    const renewed = browserSubscription({ endpoint: browser.endpoint });
    const refreshed = await register({ ...renewed, expirationTime: Date.now() + 86_400_000 });
    expect(refreshed.statusCode).toBe(200);
    expect(refreshed.json().id).toBe(body.id);
    expect(refreshed.json().createdAt).toBe(body.createdAt);
    expect(new Date(refreshed.json().lastSeenAt).getTime()).toBeGreaterThanOrEqual(new Date(body.lastSeenAt).getTime());
    expect(refreshed.json().expiresAt).not.toBeNull();
    const row = await ctx.deps.db.pushSubscription.findUniqueOrThrow({ where: { id: body.id } });
    expect(row.p256dh).toBe(renewed.keys.p256dh);
    expect(row.auth).toBe(renewed.keys.auth);

    expect((await list()).map((s) => s.id)).toContain(body.id);
    expect((await list(bobToken)).map((s) => s.id)).not.toContain(body.id);
  });

  it('moves an endpoint registered by another user to the caller (the browser changed hands)', async () => {
    const browser = browserSubscription();
    const bobs = await register(browser, bobToken);
    expect(bobs.statusCode).toBe(201);
    const alices = await register(browserSubscription({ endpoint: browser.endpoint }));
    expect(alices.statusCode).toBe(201);
    expect(alices.json().id).toBe(bobs.json().id);
    expect((await list(bobToken)).map((s) => s.endpoint)).not.toContain(browser.endpoint);
    expect((await list()).map((s) => s.endpoint)).toContain(browser.endpoint);
    const row = await ctx.deps.db.pushSubscription.findUniqueOrThrow({ where: { endpoint: browser.endpoint } });
    expect(row.userId).toBe(alice.id);
  });

  it('accepts keys with base64 padding and stores them canonical (unpadded)', async () => {
    const browser = browserSubscription();
    const response = await register({
      ...browser,
      keys: { p256dh: `${browser.keys.p256dh}=`, auth: `${browser.keys.auth}==` },
    });
    expect(response.statusCode).toBe(201);
    const row = await ctx.deps.db.pushSubscription.findUniqueOrThrow({ where: { endpoint: browser.endpoint } });
    expect(row.p256dh).toBe(browser.keys.p256dh);
    expect(row.auth).toBe(browser.keys.auth);
  });

  it('refuses what could never be sent to, with 400 validation_failed and the field', async () => {
    const good = browserSubscription();
    const compressedPoint = Buffer.concat([Buffer.from([0x02]), randomBytes(32)]).toString('base64url');
    const cases: [string, unknown, string][] = [
      ['http endpoint', { ...good, endpoint: 'http://fcm.googleapis.com/fcm/send/x' }, 'endpoint'],
      ['not a URL', { ...good, endpoint: 'fcm.googleapis.com/x' }, 'endpoint'],
      ['unknown push service', { ...good, endpoint: 'https://push.example.org/x' }, 'endpoint'],
      ['internal host', { ...good, endpoint: 'https://127.0.0.1/x' }, 'endpoint'],
      ['look-alike host', { ...good, endpoint: 'https://evilfcm.googleapis.com.example.org/x' }, 'endpoint'],
      ['credentials', { ...good, endpoint: 'https://user:pw@fcm.googleapis.com/x' }, 'endpoint'],
      [
        'p256dh too short',
        { ...good, keys: { ...good.keys, p256dh: randomBytes(64).toString('base64url') } },
        'keys.p256dh',
      ],
      ['p256dh compressed', { ...good, keys: { ...good.keys, p256dh: compressedPoint } }, 'keys.p256dh'],
      [
        'p256dh not base64url',
        { ...good, keys: { ...good.keys, p256dh: `${good.keys.p256dh.slice(1)}+` } },
        'keys.p256dh',
      ],
      ['auth 15 bytes', { ...good, keys: { ...good.keys, auth: randomBytes(15).toString('base64url') } }, 'keys.auth'],
      ['auth not base64url', { ...good, keys: { ...good.keys, auth: 'aaaa/bbbb+cccc.dddd' } }, 'keys.auth'],
      ['expired', { ...good, expirationTime: Date.now() - 1000 }, 'expirationTime'],
    ];
    for (const [what, payload, field] of cases) {
      const response = await register(payload);
      expect(response.statusCode, what).toBe(400);
      const error = response.json().error;
      expect(error.code, what).toBe('validation_failed');
      expect(
        error.details.problems.map((p: { field: string }) => p.field),
        what,
      ).toContain(field);
    }
    // Shapes the schema refuses before the service sees them.
    const schemaCases: unknown[] = [
      { keys: good.keys },
      { endpoint: good.endpoint },
      { ...good, endpoint: `https://fcm.googleapis.com/${'x'.repeat(2048)}` },
      { ...good, keys: { ...good.keys, extra: 'x' } },
      { ...good, expirationTime: 'tomorrow' },
      { ...good, unexpected: true },
    ];
    for (const payload of schemaCases) {
      const response = await register(payload);
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('validation_failed');
    }
    expect(await ctx.deps.db.pushSubscription.count({ where: { endpoint: good.endpoint } })).toBe(0);
  });

  it('keeps at most MAX_PUSH_SUBSCRIPTIONS_PER_USER browsers, dropping the least recently seen', async () => {
    const user = await createUser(ctx.deps.db);
    const token = await tokenFor(ctx.deps.db, user.id);
    const first = await register(browserSubscription(), token);
    await ctx.deps.db.pushSubscription.update({
      where: { id: first.json().id },
      data: { lastSeenAt: new Date(Date.now() - 3600_000) },
    });
    for (let i = 0; i < MAX_PUSH_SUBSCRIPTIONS_PER_USER; i += 1) {
      expect((await register(browserSubscription(), token)).statusCode).toBe(201);
    }
    const items = await list(token);
    expect(items).toHaveLength(MAX_PUSH_SUBSCRIPTIONS_PER_USER);
    expect(items.map((s) => s.id)).not.toContain(first.json().id);
  });

  it("removes one of the caller's browsers (204); another user's answers 404 like a missing one", async () => {
    const mine = (await register(browserSubscription())).json().id as string;
    const bobs = (await register(browserSubscription(), bobToken)).json().id as string;
    const remove = (id: string, token = aliceToken) =>
      app.inject({ method: 'DELETE', url: `/api/v1/me/push-subscriptions/${id}`, headers: bearer(token) });

    const notMine = await remove(bobs);
    expect(notMine.statusCode).toBe(404);
    expect(notMine.json().error.code).toBe('not_found');
    expect((await remove(crypto.randomUUID())).statusCode).toBe(404);
    expect((await remove('not-a-uuid')).statusCode).toBe(400);

    expect((await remove(mine)).statusCode).toBe(204);
    expect((await list()).map((s) => s.id)).not.toContain(mine);
    expect((await remove(mine)).statusCode).toBe(404);
    expect((await list(bobToken)).map((s) => s.id)).toContain(bobs);
  });
});

describe('push in the channel subscription', () => {
  it('is off by default, and PUT turns it on and off without touching the other fields', async () => {
    const put = (payload: Record<string, unknown>) =>
      app.inject({ method: 'PUT', url: '/api/v1/me/subscriptions/drift', headers: bearer(aliceToken), payload });
    const created = await put({ emailMode: 'daily' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ channel: 'drift', emailMode: 'daily', push: false });

    const on = await put({ push: true });
    expect(on.statusCode).toBe(200);
    expect(on.json()).toMatchObject({ emailMode: 'daily', push: true });
    const listed = await app.inject({ method: 'GET', url: '/api/v1/me/subscriptions', headers: bearer(aliceToken) });
    expect(listed.json().items).toEqual([expect.objectContaining({ channel: 'drift', push: true })]);

    expect((await put({ language: 'en' })).json()).toMatchObject({ push: true, language: 'en' });
    expect((await put({ push: false })).json()).toMatchObject({ push: false, emailMode: 'daily' });
    const bad = await put({ push: 'yes' });
    expect(bad.statusCode).toBe(400);
  });
});

describe('GET /sw.js', () => {
  it('serves the service worker as JavaScript for the whole origin, never cached stale', async () => {
    const response = await app.inject({ method: 'GET', url: '/sw.js' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(response.headers['service-worker-allowed']).toBe('/');
    expect(response.headers['cache-control']).toBe('no-cache');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    // The app's CSP applies to the worker; it needs nothing beyond 'self' and allows no eval.
    expect(response.headers['content-security-policy']).toContain("script-src 'self'");
    expect(response.headers['content-security-policy']).not.toContain('unsafe-eval');
    expect(response.body).toBe(SERVICE_WORKER_SOURCE);
    expect(response.body).not.toMatch(/\beval\(|new Function|importScripts/);
  });
});

/** The service worker run against a stand-in for its global scope (ServiceWorkerGlobalScope) at this origin. */
function runServiceWorker(origin = 'https://meldingskanal.example.no') {
  const listeners = new Map<string, (event: unknown) => void>();
  const notifications: { title: string; options: Record<string, unknown> }[] = [];
  const opened: string[] = [];
  const focused: string[] = [];
  const windows: { url: string; focus: () => Promise<void> }[] = [];
  const self = {
    location: { origin },
    addEventListener: (type: string, listener: (event: unknown) => void) => listeners.set(type, listener),
    skipWaiting: () => Promise.resolve(),
    registration: {
      showNotification: (title: string, options: Record<string, unknown>) => {
        notifications.push({ title, options });
        return Promise.resolve();
      },
    },
    clients: {
      claim: () => Promise.resolve(),
      matchAll: () => Promise.resolve(windows),
      openWindow: (url: string) => {
        opened.push(url);
        return Promise.resolve(null);
      },
    },
  };
  runInNewContext(SERVICE_WORKER_SOURCE, { self, URL });
  const dispatch = async (type: string, event: Record<string, unknown>) => {
    const waits: Promise<unknown>[] = [];
    listeners.get(type)!({ ...event, waitUntil: (promise: Promise<unknown>) => waits.push(promise) });
    await Promise.all(waits);
  };
  const push = (data: unknown) =>
    dispatch('push', {
      data:
        data === undefined
          ? null
          : {
              json: () => (typeof data === 'string' ? JSON.parse(data) : data),
            },
    });
  const click = (data: unknown) => {
    let closed = false;
    return dispatch('notificationclick', { notification: { data, close: () => (closed = true) } }).then(() => closed);
  };
  return { notifications, opened, focused, windows, push, click };
}

describe('the service worker', () => {
  const message = {
    id: '0b9f4a8e-8a4e-4f8e-9a55-3c1d2e3f4a5b',
    channel: 'drift',
    title: 'Planlagt vedlikehald',
    body: 'Tenesta er nede i kveld.',
    url: 'https://meldingskanal.example.no/api/v1/announcements/0b9f4a8e-8a4e-4f8e-9a55-3c1d2e3f4a5b',
    importance: 'info',
    language: 'nn',
  };

  it('shows a notification with title, body, tag, language and the address to open', async () => {
    const sw = runServiceWorker();
    await sw.push(message);
    expect(sw.notifications).toHaveLength(1);
    const [shown] = sw.notifications;
    expect(shown!.title).toBe('Planlagt vedlikehald');
    expect(shown!.options).toMatchObject({
      body: 'Tenesta er nede i kveld.',
      tag: message.id,
      lang: 'nn',
      requireInteraction: false,
    });
    expect((shown!.options.data as { url: string }).url).toBe(message.url);
  });

  it('keeps critical notifications until the person acts on them', async () => {
    const sw = runServiceWorker();
    await sw.push({ ...message, importance: 'critical' });
    expect(sw.notifications[0]!.options.requireInteraction).toBe(true);
  });

  it('still shows a notification for an unreadable message (browsers require one for every push)', async () => {
    const sw = runServiceWorker();
    await sw.push('not json');
    await sw.push(undefined);
    expect(sw.notifications.map((n) => n.title)).toEqual(['Meldingskanal', 'Meldingskanal']);
  });

  it('on click, opens the address, or focuses a window already showing it', async () => {
    const sw = runServiceWorker();
    expect(await sw.click({ url: message.url })).toBe(true);
    expect(sw.opened).toEqual([message.url]);

    sw.windows.push({ url: message.url, focus: () => Promise.resolve(void sw.focused.push(message.url)) });
    await sw.click({ url: message.url });
    expect(sw.focused).toEqual([message.url]);
    expect(sw.opened).toHaveLength(1);
  });

  it('never opens another origin: such an address becomes the start page', async () => {
    const sw = runServiceWorker();
    await sw.push({ ...message, url: 'https://evil.example.org/phish' });
    expect((sw.notifications[0]!.options.data as { url: string }).url).toBe('https://meldingskanal.example.no/');
    await sw.click({ url: 'javascript:alert(1)' });
    expect(sw.opened).toEqual(['https://meldingskanal.example.no/']);
  });
});

/**
 * The webhook management API: registration with its URL validation, the secret shown only at creation and rotation,
 * listing, changing (re-enabling resets the failure count), deleting, the test event sent to a real receiver, audit
 * records, and who may do it (owner and admin yes, publisher no, reader 404). Every operation's policy is also
 * covered row by row in authorisation-matrix.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Webhook as Verifier } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, grantRole, type TestUser, tokenFor } from '../helpers/factories.js';

let ctx: TestContext;
let app: FastifyInstance;
let receiver: http.Server;
let base: string;
const received: { path: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
let owner: TestUser;
let ownerToken: string;
let adminToken: string;
let publisherToken: string;
let readerToken: string;
let publisherId: string;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ path: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(req.url === '/broken' ? 500 : 200).end();
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

  ctx = await createTestContext({ WEBHOOK_ALLOWED_HOSTS: '127.0.0.1', WEBHOOK_TIMEOUT_MS: '2000' });
  app = await buildApp(ctx.deps, { logger: false });
  const db = ctx.deps.db;
  owner = await createUser(db, { organisationCode: 'UiO' });
  const admin = await createUser(db, { isAdmin: true });
  const publisher = await createUser(db, { organisationCode: 'UiO' });
  const reader = await createUser(db, { organisationCode: 'UiO' });
  ownerToken = await tokenFor(db, owner.id);
  adminToken = await tokenFor(db, admin.id);
  publisherToken = await tokenFor(db, publisher.id);
  readerToken = await tokenFor(db, reader.id);
  publisherId = publisher.id;
});

afterAll(async () => {
  receiver?.closeAllConnections();
  receiver?.close();
  await app?.close();
  await ctx?.close();
});

const ALL_EVENTS = ['announcement.published', 'announcement.updated', 'announcement.retracted'];

async function ownedChannel(visibility: 'public' | 'restricted' = 'restricted') {
  const channel = await createChannel(ctx.deps.db, { visibility });
  await grantRole(ctx.deps.db, channel.id, owner.id, 'owner');
  await grantRole(ctx.deps.db, channel.id, publisherId, 'publisher');
  return channel;
}

async function register(slug: string, payload: Record<string, unknown>, token = ownerToken) {
  return app.inject({
    method: 'POST',
    url: `/api/v1/channels/${slug}/webhooks`,
    headers: { ...bearer(token), 'x-request-id': `create-${randomUUID()}` },
    payload,
  });
}

describe('POST /api/v1/channels/:slug/webhooks', () => {
  it('registers a webhook and shows its secret once; listings and reads never show it', async () => {
    const channel = await ownedChannel();
    const response = await register(channel.slug, {
      url: `${base}/hook?token=abc`,
      format: 'slack',
      description: '  #drift  ',
    });
    expect(response.statusCode).toBe(201);
    const created = response.json();
    expect(created).toMatchObject({
      channel: channel.slug,
      url: `${base}/hook?token=abc`,
      format: 'slack',
      description: '#drift',
      enabled: true,
      consecutiveFailures: 0,
      disabledAt: null,
      lastError: null,
      lastSuccessAt: null,
    });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const row = await ctx.deps.db.webhook.findUniqueOrThrow({ where: { id: created.id } });
    expect(row.secret).toBe(created.secret);
    expect(row.createdById).toBe(owner.id);

    const list = await app.inject({ url: `/api/v1/channels/${channel.slug}/webhooks`, headers: bearer(ownerToken) });
    expect(list.statusCode).toBe(200);
    expect(list.json().items).toHaveLength(1);
    expect(list.json().items[0]).not.toHaveProperty('secret');
    expect(list.body).not.toContain(created.secret);
    const one = await app.inject({ url: `/api/v1/webhooks/${created.id}`, headers: bearer(ownerToken) });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toEqual(list.json().items[0]);
    expect(one.body).not.toContain('whsec_');

    const [audit] = await ctx.deps.db.auditLog.findMany({ where: { action: 'webhook.create', targetId: created.id } });
    expect(audit).toMatchObject({ actorUserId: owner.id, outcome: 'success', targetType: 'webhook' });
    // The origin only: the query may carry the receiver's own token.
    expect(audit!.details).toEqual({ channel: channel.slug, format: 'slack', events: ALL_EVENTS, origin: base });
  });

  it('defaults to the standard format and every event type', async () => {
    const channel = await ownedChannel();
    const response = await register(channel.slug, { url: `${base}/standard` });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ format: 'standard', events: ALL_EVENTS });
  });

  it('takes the event types the webhook wants, in the catalogue order, and refuses none, unknown or repeated ones', async () => {
    const channel = await ownedChannel();
    const chosen = await register(channel.slug, {
      url: `${base}/chosen`,
      events: ['announcement.retracted', 'announcement.published'],
    });
    expect(chosen.statusCode).toBe(201);
    expect(chosen.json().events).toEqual(['announcement.published', 'announcement.retracted']);
    const row = await ctx.deps.db.webhook.findUniqueOrThrow({ where: { id: chosen.json().id } });
    expect(row.events).toEqual(['announcement.published', 'announcement.retracted']);
    for (const events of [[], ['announcement.deleted'], ['announcement.updated', 'announcement.updated'], 'all']) {
      const refused = await register(channel.slug, { url: `${base}/refused`, events });
      expect(refused.statusCode, JSON.stringify(events)).toBe(400);
      expect(refused.json().error.code).toBe('validation_failed');
    }
    expect(await ctx.deps.db.webhook.count({ where: { channelId: channel.id } })).toBe(1);
  });

  it.each([
    ['ftp://127.0.0.1/hook', 'invalid_url', 'only http:// and https://'],
    ['http://user:secret@127.0.0.1/hook', 'invalid_url', 'user name or password'],
    ['http://10.1.2.3/hook', 'refused_address', '10.1.2.3 is a private network address'],
    ['http://[::1]/hook', 'refused_address', '::1 is a loopback address'],
    ['http://[::ffff:192.168.0.1]/hook', 'refused_address', 'private network address'],
    ['http://169.254.169.254/latest/meta-data/', 'refused_address', 'link-local'],
    ['http://0.0.0.0:8080/', 'refused_address', 'unspecified'],
    ['http://127.0.0.2/hook', 'refused_address', 'loopback'],
    ['http://nowhere.invalid/hook', 'dns', 'does not resolve'],
  ])('refuses %s with validation_failed (%s)', async (url, reason, words) => {
    const channel = await ownedChannel();
    const response = await register(channel.slug, { url });
    expect(response.statusCode).toBe(400);
    const body = response.json();
    expect(body.error.code).toBe('validation_failed');
    expect(body.error.message).toContain(words);
    expect(body.error.details).toEqual({ field: 'url', reason });
    expect(await ctx.deps.db.webhook.count({ where: { channelId: channel.id } })).toBe(0);
  });

  it('refuses a URL longer than 2048 characters, unknown formats and unknown fields', async () => {
    const channel = await ownedChannel();
    const long = await register(channel.slug, { url: `https://example.org/${'a'.repeat(2030)}` });
    expect(long.statusCode).toBe(400);
    expect(long.json().error.message).toContain('2048 characters');
    const badFormat = await register(channel.slug, { url: `${base}/x`, format: 'discord' });
    expect(badFormat.statusCode).toBe(400);
    expect(badFormat.json().error.code).toBe('validation_failed');
    const extra = await register(channel.slug, { url: `${base}/x`, secret: 'whsec_mine' });
    expect(extra.statusCode).toBe(400);
  });

  it('allows at most 20 webhooks per channel (409 beyond)', async () => {
    const channel = await ownedChannel();
    await ctx.deps.db.webhook.createMany({
      data: Array.from({ length: 20 }, (_, i) => ({
        id: randomUUID(),
        channelId: channel.id,
        url: `${base}/many-${i}`,
        secret: 'whsec_x',
      })),
    });
    const response = await register(channel.slug, { url: `${base}/one-more` });
    expect(response.statusCode).toBe(409);
    expect(response.json().error.code).toBe('conflict');
  });
});

describe('who may manage webhooks', () => {
  it('lets the owner and an administrator; a publisher gets 403; a reader of a restricted channel 404', async () => {
    const channel = await ownedChannel();
    expect((await register(channel.slug, { url: `${base}/by-owner` })).statusCode).toBe(201);
    expect((await register(channel.slug, { url: `${base}/by-admin` }, adminToken)).statusCode).toBe(201);
    const byPublisher = await register(channel.slug, { url: `${base}/by-publisher` }, publisherToken);
    expect(byPublisher.statusCode).toBe(403);
    expect(byPublisher.json().error.code).toBe('forbidden');
    const byReader = await register(channel.slug, { url: `${base}/by-reader` }, readerToken);
    expect(byReader.statusCode).toBe(404);
    expect((await register('no-such-channel', { url: `${base}/x` })).statusCode).toBe(404);
    expect(await ctx.deps.db.webhook.count({ where: { channelId: channel.id } })).toBe(2);
  });

  it('answers 404 for a webhook by id to everyone who may not manage its channel, also in a public channel', async () => {
    const channel = await ownedChannel('public');
    const created = (await register(channel.slug, { url: `${base}/public` })).json();
    for (const token of [publisherToken, readerToken]) {
      for (const [method, url] of [
        ['GET', `/api/v1/webhooks/${created.id}`],
        ['PATCH', `/api/v1/webhooks/${created.id}`],
        ['DELETE', `/api/v1/webhooks/${created.id}`],
        ['POST', `/api/v1/webhooks/${created.id}/rotate-secret`],
        ['POST', `/api/v1/webhooks/${created.id}/test`],
      ] as const) {
        const response = await app.inject({
          method,
          url,
          headers: bearer(token),
          ...(method === 'PATCH' ? { payload: { enabled: false } } : {}),
        });
        expect(response.statusCode, `${method} ${url}`).toBe(404);
      }
    }
    // A reader of a public channel sees the channel, so listing its webhooks is 403, as for channel settings.
    const list = await app.inject({ url: `/api/v1/channels/${channel.slug}/webhooks`, headers: bearer(readerToken) });
    expect(list.statusCode).toBe(403);
    expect(received.filter((r) => r.path === '/public')).toHaveLength(0);
    expect(await ctx.deps.db.webhook.findUnique({ where: { id: created.id } })).not.toBeNull();
  });

  it('needs authentication', async () => {
    const channel = await ownedChannel('public');
    const response = await app.inject({
      method: 'POST',
      url: `/api/v1/channels/${channel.slug}/webhooks`,
      payload: { url: `${base}/anon` },
    });
    expect(response.statusCode).toBe(401);
  });
});

describe('PATCH /api/v1/webhooks/:id', () => {
  it('changes url, format and description, with the same URL rules', async () => {
    const channel = await ownedChannel();
    const created = (await register(channel.slug, { url: `${base}/before` })).json();
    const patch = (payload: Record<string, unknown>) =>
      app.inject({ method: 'PATCH', url: `/api/v1/webhooks/${created.id}`, headers: bearer(ownerToken), payload });
    const changed = await patch({ url: `${base}/after`, format: 'teams', description: 'Teams-kanalen' });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({ url: `${base}/after`, format: 'teams', description: 'Teams-kanalen' });
    expect(changed.json()).not.toHaveProperty('secret');

    const refused = await patch({ url: 'http://192.168.1.1/' });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.details).toEqual({ field: 'url', reason: 'refused_address' });
    expect((await patch({})).statusCode).toBe(400);

    const [audit] = await ctx.deps.db.auditLog.findMany({ where: { action: 'webhook.update', targetId: created.id } });
    expect(audit!.details).toEqual({ channel: channel.slug, changed: ['url', 'format', 'description'] });
  });

  it('changes the event types, at least one', async () => {
    const channel = await ownedChannel();
    const created = (await register(channel.slug, { url: `${base}/events` })).json();
    const patch = (payload: Record<string, unknown>) =>
      app.inject({ method: 'PATCH', url: `/api/v1/webhooks/${created.id}`, headers: bearer(ownerToken), payload });
    const changed = await patch({ events: ['announcement.updated'] });
    expect(changed.statusCode).toBe(200);
    expect(changed.json().events).toEqual(['announcement.updated']);
    expect((await patch({ events: [] })).statusCode).toBe(400);
    const read = await app.inject({ url: `/api/v1/webhooks/${created.id}`, headers: bearer(ownerToken) });
    expect(read.json().events).toEqual(['announcement.updated']);
    const [audit] = await ctx.deps.db.auditLog.findMany({ where: { action: 'webhook.update', targetId: created.id } });
    expect(audit!.details).toEqual({ channel: channel.slug, changed: ['events'], events: ['announcement.updated'] });
  });

  it('switches a webhook off and on again; on again resets the failure count', async () => {
    const channel = await ownedChannel();
    const created = (await register(channel.slug, { url: `${base}/flaky` })).json();
    await ctx.deps.db.webhook.update({
      where: { id: created.id },
      data: { enabled: false, consecutiveFailures: 10, disabledAt: new Date(), lastError: 'HTTP 500' },
    });
    const on = await app.inject({
      method: 'PATCH',
      url: `/api/v1/webhooks/${created.id}`,
      headers: bearer(ownerToken),
      payload: { enabled: true },
    });
    expect(on.statusCode).toBe(200);
    expect(on.json()).toMatchObject({ enabled: true, consecutiveFailures: 0, disabledAt: null, lastError: 'HTTP 500' });

    const off = await app.inject({
      method: 'PATCH',
      url: `/api/v1/webhooks/${created.id}`,
      headers: bearer(ownerToken),
      payload: { enabled: false },
    });
    expect(off.json()).toMatchObject({ enabled: false });
    expect(off.json().disabledAt).not.toBeNull();
    const audits = await ctx.deps.db.auditLog.findMany({
      where: { action: 'webhook.update', targetId: created.id },
      orderBy: { id: 'asc' },
    });
    expect(audits.map((a) => (a.details as { enabled?: boolean }).enabled)).toEqual([true, false]);
  });
});

describe('rotate-secret, delete', () => {
  it('gives a new secret once, which then signs', async () => {
    const channel = await ownedChannel();
    const created = (await register(channel.slug, { url: `${base}/rotating` })).json();
    const rotated = await app.inject({
      method: 'POST',
      url: `/api/v1/webhooks/${created.id}/rotate-secret`,
      headers: bearer(ownerToken),
    });
    expect(rotated.statusCode).toBe(200);
    expect(rotated.json().secret).toMatch(/^whsec_/);
    expect(rotated.json().secret).not.toBe(created.secret);
    expect(rotated.json().id).toBe(created.id);

    await app.inject({ method: 'POST', url: `/api/v1/webhooks/${created.id}/test`, headers: bearer(ownerToken) });
    const request = received.filter((r) => r.path === '/rotating').at(-1)!;
    const headers = {
      'webhook-id': request.headers['webhook-id'] as string,
      'webhook-timestamp': request.headers['webhook-timestamp'] as string,
      'webhook-signature': request.headers['webhook-signature'] as string,
    };
    expect(() => new Verifier(rotated.json().secret).verify(request.body, headers)).not.toThrow();
    expect(() => new Verifier(created.secret).verify(request.body, headers)).toThrow();
    expect(await ctx.deps.db.auditLog.count({ where: { action: 'webhook.rotate_secret', targetId: created.id } })).toBe(
      1,
    );
  });

  it('deletes a webhook', async () => {
    const channel = await ownedChannel();
    const created = (await register(channel.slug, { url: `${base}/gone` })).json();
    const deleted = await app.inject({
      method: 'DELETE',
      url: `/api/v1/webhooks/${created.id}`,
      headers: bearer(ownerToken),
    });
    expect(deleted.statusCode).toBe(204);
    expect((await app.inject({ url: `/api/v1/webhooks/${created.id}`, headers: bearer(ownerToken) })).statusCode).toBe(
      404,
    );
    expect(await ctx.deps.db.auditLog.count({ where: { action: 'webhook.delete', targetId: created.id } })).toBe(1);
  });
});

describe('POST /api/v1/webhooks/:id/test', () => {
  it('sends a signed webhook.test event now and reports the status and latency', async () => {
    const channel = await ownedChannel();
    const created = (await register(channel.slug, { url: `${base}/tested` })).json();
    const response = await app.inject({
      method: 'POST',
      url: `/api/v1/webhooks/${created.id}/test`,
      headers: bearer(ownerToken),
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ ok: true, status: 200, error: null });
    expect(response.json().latencyMs).toBeGreaterThanOrEqual(0);

    const request = received.filter((r) => r.path === '/tested').at(-1)!;
    expect(request.headers['webhook-id']).toMatch(/^msg_test_[0-9a-f]{32}$/);
    const payload = new Verifier(created.secret).verify(request.body, {
      'webhook-id': request.headers['webhook-id'] as string,
      'webhook-timestamp': request.headers['webhook-timestamp'] as string,
      'webhook-signature': request.headers['webhook-signature'] as string,
    });
    expect(payload).toMatchObject({ type: 'webhook.test', data: { webhookId: created.id, channel: channel.slug } });

    // Slack and Teams test messages are in the tester's language.
    await ctx.deps.db.user.update({ where: { id: owner.id }, data: { language: 'en' } });
    await app.inject({
      method: 'PATCH',
      url: `/api/v1/webhooks/${created.id}`,
      headers: bearer(ownerToken),
      payload: { format: 'slack' },
    });
    await app.inject({ method: 'POST', url: `/api/v1/webhooks/${created.id}/test`, headers: bearer(ownerToken) });
    const slack = JSON.parse(received.filter((r) => r.path === '/tested').at(-1)!.body);
    expect(slack.blocks[0].text.text).toBe('Test message from Meldingskanal');
    await ctx.deps.db.user.update({ where: { id: owner.id }, data: { language: 'nb' } });
    const [audit] = await ctx.deps.db.auditLog.findMany({ where: { action: 'webhook.test', targetId: created.id } });
    expect(audit).toMatchObject({ outcome: 'success' });
  });

  it('reports a failing receiver without changing the failure count', async () => {
    const channel = await ownedChannel();
    const created = (await register(channel.slug, { url: `${base}/broken` })).json();
    const response = await app.inject({
      method: 'POST',
      url: `/api/v1/webhooks/${created.id}/test`,
      headers: bearer(ownerToken),
    });
    expect(response.json()).toMatchObject({ ok: false, status: 500, error: 'HTTP 500' });
    expect((await ctx.deps.db.webhook.findUniqueOrThrow({ where: { id: created.id } })).consecutiveFailures).toBe(0);
    const [audit] = await ctx.deps.db.auditLog.findMany({ where: { action: 'webhook.test', targetId: created.id } });
    expect(audit).toMatchObject({ outcome: 'failure', details: { channel: channel.slug, status: 500 } });
  });

  it('reports an address refused at send time (the host changed since registration)', async () => {
    const channel = await ownedChannel();
    const created = (await register(channel.slug, { url: `${base}/fine` })).json();
    await ctx.deps.db.webhook.update({ where: { id: created.id }, data: { url: 'http://10.9.8.7/hook' } });
    const response = await app.inject({
      method: 'POST',
      url: `/api/v1/webhooks/${created.id}/test`,
      headers: bearer(ownerToken),
    });
    expect(response.json()).toEqual({
      ok: false,
      status: null,
      latencyMs: null,
      error: '10.9.8.7 is a private network address, which webhooks may not reach',
    });
  });
});

describe('rate limits', () => {
  it('limits registrations and test sends per user like other sensitive operations', async () => {
    const limited = await createTestContext({
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      RATE_LIMIT_SENSITIVE_PER_MINUTE: '2',
    });
    const limitedApp = await buildApp(limited.deps, { logger: false });
    try {
      const user = await createUser(limited.deps.db);
      const token = await tokenFor(limited.deps.db, user.id);
      const channel = await createChannel(limited.deps.db);
      await grantRole(limited.deps.db, channel.id, user.id, 'owner');
      const create = () =>
        limitedApp.inject({
          method: 'POST',
          url: `/api/v1/channels/${channel.slug}/webhooks`,
          headers: bearer(token),
          payload: { url: `${base}/limited` },
        });
      const first = await create();
      expect(first.statusCode).toBe(201);
      expect((await create()).statusCode).toBe(201);
      const third = await create();
      expect(third.statusCode).toBe(429);
      expect(third.json().error.code).toBe('rate_limited');

      const test = () =>
        limitedApp.inject({ method: 'POST', url: `/api/v1/webhooks/${first.json().id}/test`, headers: bearer(token) });
      expect((await test()).statusCode).toBe(200);
      expect((await test()).statusCode).toBe(200);
      expect((await test()).statusCode).toBe(429);
      // Reading is not limited that way.
      for (let i = 0; i < 3; i++) {
        const read = await limitedApp.inject({ url: `/api/v1/webhooks/${first.json().id}`, headers: bearer(token) });
        expect(read.statusCode).toBe(200);
      }
    } finally {
      await limitedApp.close();
      await limited.close();
    }
  });
});

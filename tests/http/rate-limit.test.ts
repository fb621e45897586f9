import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_BODY_LIMIT_BYTES, BODY_LIMIT_BYTES, buildApp } from '../../src/http/app.js';
import { sensitiveRouteLimit } from '../../src/http/plugins/rate-limit.js';
import { POLICY } from '../../src/http/policy.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, tokenFor } from '../helpers/factories.js';

const IP_LIMIT = 5;
const USER_LIMIT = 3;
const SENSITIVE_LIMIT = 2;

let ctx: TestContext;
// Two API processes, as far as the limits are concerned: separate apps and Redis connections, one Redis prefix.
let appA: FastifyInstance;
let appB: FastifyInstance;
let aliceToken: string;
let bobToken: string;

/** Each test counts from its own client addresses, so the tests share no counters (documentation range). */
let nextHost = 1;
const freshIp = () => `198.51.100.${nextHost++}`;

function get(app: FastifyInstance, url: string, ip: string, token?: string) {
  return app.inject({
    method: 'GET',
    url,
    remoteAddress: ip,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
}

function expectRateLimited(response: LightMyRequestResponse) {
  expect(response.statusCode).toBe(429);
  const retryAfter = Number(response.headers['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  const body = response.json();
  expect(body.error.code).toBe('rate_limited');
  expect(body.error.message).toMatch(/try again in \d+ second/);
  expect(body.requestId).toBe(response.headers['x-request-id']);
}

beforeAll(async () => {
  ctx = await createTestContext({
    RATE_LIMIT_IP_PER_MINUTE: String(IP_LIMIT),
    RATE_LIMIT_USER_PER_MINUTE: String(USER_LIMIT),
    RATE_LIMIT_SENSITIVE_PER_MINUTE: String(SENSITIVE_LIMIT),
  });
  appA = await buildApp(ctx.deps, { logger: false });
  // A sensitive route, declared the way sign-in and token creation declare theirs.
  appA.post(
    '/test/sensitive',
    { config: { policy: POLICY.public, rateLimit: sensitiveRouteLimit(ctx.config) } },
    async () => ({ ok: true }),
  );
  // A route outside API v1, where the app-wide body limit applies.
  appA.post('/test/echo-size', { config: { policy: POLICY.public } }, async (request) => ({
    bytes: JSON.stringify(request.body).length,
  }));
  appB = await buildApp(ctx.deps, { logger: false });
  aliceToken = await tokenFor(ctx.deps.db, (await createUser(ctx.deps.db)).id);
  bobToken = await tokenFor(ctx.deps.db, (await createUser(ctx.deps.db)).id);
});

afterAll(async () => {
  await appA?.close();
  await appB?.close();
  await ctx?.close();
});

describe('per-IP limit', () => {
  it('is shared by API processes through Redis, and answers 429 with Retry-After past it', async () => {
    const ip = freshIp();
    for (let i = 0; i < IP_LIMIT; i++) {
      const response = await get(i % 2 === 0 ? appA : appB, '/api/v1/channels', ip);
      expect(response.statusCode).toBe(200);
      expect(Number(response.headers['x-ratelimit-remaining'])).toBe(IP_LIMIT - i - 1);
      expect(Number(response.headers['x-ratelimit-limit'])).toBe(IP_LIMIT);
    }
    expectRateLimited(await get(appB, '/api/v1/channels', ip));
    expectRateLimited(await get(appA, '/api/v1/channels', ip));
    // Another client is unaffected.
    expect((await get(appA, '/api/v1/channels', freshIp())).statusCode).toBe(200);
  });

  it('counts requests for unknown routes and requests with bad credentials too', async () => {
    const ip = freshIp();
    for (let i = 0; i < IP_LIMIT; i++) {
      const response =
        i % 2 === 0 ? await get(appA, '/api/v1/no-such-route', ip) : await get(appA, '/api/v1/channels', ip, 'mkt_bad');
      expect([401, 404]).toContain(response.statusCode);
    }
    expectRateLimited(await get(appA, '/api/v1/channels', ip, 'mkt_bad'));
  });

  it('exempts the operational endpoints, which also leave the counter alone', async () => {
    const ip = freshIp();
    for (let i = 0; i < IP_LIMIT + 3; i++) {
      for (const url of ['/healthz', '/readyz']) {
        const response = await get(appA, url, ip);
        expect(response.statusCode, url).toBe(200);
        expect(response.headers['x-ratelimit-remaining']).toBeUndefined();
      }
    }
    const first = await get(appA, '/api/v1/channels', ip);
    expect(first.statusCode).toBe(200);
    expect(Number(first.headers['x-ratelimit-remaining'])).toBe(IP_LIMIT - 1);
  });
});

describe('per-user limit', () => {
  it('follows the user across addresses, and leaves other users on the same address alone', async () => {
    const ips = [freshIp(), freshIp(), freshIp(), freshIp()];
    for (let i = 0; i < USER_LIMIT; i++) {
      const response = await get(i % 2 === 0 ? appA : appB, '/api/v1/me/subscriptions', ips[i] as string, aliceToken);
      expect(response.statusCode).toBe(200);
    }
    // A fourth address, far below its IP limit: still refused, because Alice has used her budget.
    expectRateLimited(await get(appB, '/api/v1/me/subscriptions', ips[3] as string, aliceToken));
    // Bob on that same address is fine: the user limit is per user, and the address has used 2 of 5.
    const bob = await get(appA, '/api/v1/me/subscriptions', ips[3] as string, bobToken);
    expect(bob.statusCode).toBe(200);
  });

  it('reports the tighter of the two limits in x-ratelimit-* headers', async () => {
    const carol = await tokenFor(ctx.deps.db, (await createUser(ctx.deps.db)).id);
    const response = await get(appA, '/api/v1/me/subscriptions', freshIp(), carol);
    expect(response.statusCode).toBe(200);
    expect(Number(response.headers['x-ratelimit-limit'])).toBe(USER_LIMIT);
    expect(Number(response.headers['x-ratelimit-remaining'])).toBe(USER_LIMIT - 1);
  });

  it('does not apply to anonymous requests, which only the IP limit counts', async () => {
    const ip = freshIp();
    for (let i = 0; i < IP_LIMIT; i++) expect((await get(appA, '/api/v1/channels', ip)).statusCode).toBe(200);
    expectRateLimited(await get(appA, '/api/v1/channels', ip));
  });
});

describe('per-route limit (sensitive routes)', () => {
  it('applies its own, tighter budget to that route only', async () => {
    const ip = freshIp();
    const post = () => appA.inject({ method: 'POST', url: '/test/sensitive', remoteAddress: ip });
    for (let i = 0; i < SENSITIVE_LIMIT; i++) expect((await post()).statusCode).toBe(200);
    expectRateLimited(await post());
    // The same client can still use the rest of the API (3 of its 5 requests are spent).
    expect((await get(appA, '/api/v1/channels', ip)).statusCode).toBe(200);
  });

  it('guards sign-in start and token creation', async () => {
    const ip = freshIp();
    for (let i = 0; i < SENSITIVE_LIMIT; i++) expect((await get(appA, '/auth/login', ip)).statusCode).not.toBe(429);
    expectRateLimited(await get(appA, '/auth/login', ip));

    const dave = await tokenFor(ctx.deps.db, (await createUser(ctx.deps.db, { isAdmin: true })).id);
    const mint = () =>
      appA.inject({
        method: 'POST',
        url: '/api/v1/me/tokens',
        remoteAddress: freshIp(),
        headers: { authorization: `Bearer ${dave}` },
        payload: { name: 'automation', scopes: ['read'] },
      });
    for (let i = 0; i < SENSITIVE_LIMIT; i++) expect((await mint()).statusCode).toBe(201);
    // Counted per user: a new address does not help.
    expectRateLimited(await mint());
  });
});

describe('client address behind a proxy (TRUST_PROXY)', () => {
  it('ignores X-Forwarded-For from an untrusted peer, so a client cannot pick a fresh address per request', async () => {
    const ip = freshIp();
    for (let i = 0; i < IP_LIMIT; i++) {
      const response = await appA.inject({
        method: 'GET',
        url: '/api/v1/channels',
        remoteAddress: ip,
        headers: { 'x-forwarded-for': freshIp() },
      });
      expect(response.statusCode).toBe(200);
    }
    const spoofed = await appA.inject({
      method: 'GET',
      url: '/api/v1/channels',
      remoteAddress: ip,
      headers: { 'x-forwarded-for': freshIp() },
    });
    expectRateLimited(spoofed);
  });

  it('counts per forwarded client address when the peer is a trusted proxy', async () => {
    const proxy = '10.0.0.7';
    const behindProxy = await buildApp(
      { ...ctx.deps, config: { ...ctx.config, http: { ...ctx.config.http, trustProxy: ['10.0.0.0/8'] } } },
      { logger: false },
    );
    try {
      const client = freshIp();
      const viaProxy = (forwardedFor: string) =>
        behindProxy.inject({
          method: 'GET',
          url: '/api/v1/channels',
          remoteAddress: proxy,
          headers: { 'x-forwarded-for': forwardedFor },
        });
      for (let i = 0; i < IP_LIMIT; i++) expect((await viaProxy(client)).statusCode).toBe(200);
      expectRateLimited(await viaProxy(client));
      // Another client behind the same proxy has its own budget.
      expect((await viaProxy(freshIp())).statusCode).toBe(200);
    } finally {
      await behindProxy.close();
    }
  });
});

describe('Redis unavailable', () => {
  it('fails open: requests are served (reads matter more than limits during an outage)', async () => {
    const noRedis = await buildApp(
      { ...ctx.deps, config: { ...ctx.config, redis: { ...ctx.config.redis, url: 'redis://127.0.0.1:1' } } },
      { logger: false },
    );
    try {
      const ip = freshIp();
      for (let i = 0; i < IP_LIMIT + 2; i++) {
        const response = await get(noRedis, '/api/v1/channels', ip);
        expect(response.statusCode).toBe(200);
        expect(response.headers['x-ratelimit-remaining']).toBeUndefined();
      }
    } finally {
      await noRedis.close();
    }
  });
});

describe('body size limits', () => {
  const jsonOfSize = (bytes: number) => JSON.stringify({ title: 'x', body: 'y'.repeat(bytes) });

  it('answers 413 payload_too_large above the API v1 limit, before authentication is even considered', async () => {
    const { slug } = await createChannel(ctx.deps.db);
    const response = await appA.inject({
      method: 'POST',
      url: `/api/v1/channels/${slug}/announcements`,
      remoteAddress: freshIp(),
      headers: { 'content-type': 'application/json' },
      payload: jsonOfSize(API_BODY_LIMIT_BYTES + 1),
    });
    expect(response.statusCode).toBe(413);
    expect(response.json().error.code).toBe('payload_too_large');
  });

  it('parses API v1 bodies up to the limit (this one then fails validation: a body is at most 20,000 characters)', async () => {
    const { slug } = await createChannel(ctx.deps.db);
    const publisher = await createUser(ctx.deps.db, { isAdmin: true });
    const response = await appA.inject({
      method: 'POST',
      url: `/api/v1/channels/${slug}/announcements`,
      remoteAddress: freshIp(),
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${await tokenFor(ctx.deps.db, publisher.id)}`,
      },
      payload: jsonOfSize(API_BODY_LIMIT_BYTES - 100),
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('validation_failed');
  });

  it('keeps the larger app-wide limit outside API v1, with 413 above it', async () => {
    const post = (bytes: number) =>
      appA.inject({
        method: 'POST',
        url: '/test/echo-size',
        remoteAddress: freshIp(),
        headers: { 'content-type': 'application/json' },
        payload: jsonOfSize(bytes),
      });
    const within = await post(API_BODY_LIMIT_BYTES * 2);
    expect(within.statusCode).toBe(200);
    const over = await post(BODY_LIMIT_BYTES + 1);
    expect(over.statusCode).toBe(413);
    expect(over.json().error.code).toBe('payload_too_large');
  });
});

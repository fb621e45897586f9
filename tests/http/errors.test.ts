import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/domain/errors.js';
import { buildApp } from '../../src/http/app.js';
import { POLICY } from '../../src/http/policy.js';
import { createRedis } from '../../src/redis.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, tokenFor } from '../helpers/factories.js';

let ctx: TestContext;
let app: FastifyInstance;
let adminToken: string;
// A producer connection to a port nothing listens on: Redis "down", as the API sees it.
const deadRedis = createRedis('redis://127.0.0.1:1', 'producer', 'test-dead');
deadRedis.on('error', () => {});

beforeAll(async () => {
  ctx = await createTestContext();
  app = await buildApp(ctx.deps, { logger: false });
  // Routes that fail on purpose, added like any plugin would, to exercise the error handler end to end. Like every
  // route, they declare a policy (the app refuses routes without one).
  const config = { policy: POLICY.public };
  app.get('/test/boom', { config }, async () => {
    throw new Error('connection string postgres://admin:hunter2@db/prod is wrong');
  });
  app.get('/test/redis-down', { config }, async () => deadRedis.get('anything'));
  app.get('/test/app-error', { config }, async () => {
    throw new AppError('conflict', 'Already there', { slug: 'x' });
  });
  adminToken = await tokenFor(ctx.deps.db, (await createUser(ctx.deps.db, { isAdmin: true })).id);
  await createChannel(ctx.deps.db, { slug: 'apen' });
});

afterAll(async () => {
  deadRedis.disconnect();
  await app?.close();
  await ctx?.close();
});

function expectErrorBody(response: { json(): unknown; headers: Record<string, unknown> }, code: string) {
  const body = response.json() as { error: { code: string; message: string }; requestId: string };
  expect(body.error.code).toBe(code);
  expect(body.error.message).toEqual(expect.any(String));
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(body.requestId).toBe(response.headers['x-request-id']);
  return body;
}

describe('error responses', () => {
  it('answers unknown routes with 404 not_found in the error shape', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/nope?token=secret' });
    expect(response.statusCode).toBe(404);
    const body = expectErrorBody(response, 'not_found');
    expect(body.error.message).toBe('No route for GET /api/v1/nope');
  });

  it('echoes a sane caller-supplied request id and replaces an unsafe one', async () => {
    const given = await app.inject({ method: 'GET', url: '/api/v1/nope', headers: { 'x-request-id': 'gw-123.abc' } });
    expect(given.json().requestId).toBe('gw-123.abc');
    const unsafe = await app.inject({ method: 'GET', url: '/api/v1/nope', headers: { 'x-request-id': 'a b<script>' } });
    expect(unsafe.json().requestId).not.toBe('a b<script>');
  });

  it('maps an AppError to its status, keeping message and details', async () => {
    const response = await app.inject({ method: 'GET', url: '/test/app-error' });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toEqual({
      error: { code: 'conflict', message: 'Already there', details: { slug: 'x' } },
      requestId: response.headers['x-request-id'],
    });
  });

  it('turns unexpected errors into a generic 500 that leaks nothing', async () => {
    const response = await app.inject({ method: 'GET', url: '/test/boom' });
    expect(response.statusCode).toBe(500);
    expectErrorBody(response, 'internal_error');
    expect(response.body).not.toMatch(/hunter2|postgres|connection/);
    expect(response.json().error).not.toHaveProperty('details');
  });

  it('answers 503 service_unavailable when Redis cannot be reached', async () => {
    const response = await app.inject({ method: 'GET', url: '/test/redis-down' });
    expect(response.statusCode).toBe(503);
    expectErrorBody(response, 'service_unavailable');
  });

  it('answers 413 payload_too_large for a body over the limit', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/channels',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ slug: 'stor', title: 'x'.repeat(1024 * 1024 + 10) }),
    });
    expect(response.statusCode).toBe(413);
    expectErrorBody(response, 'payload_too_large');
  });

  it('answers 415 unsupported_media_type for bodies that are not JSON', async () => {
    for (const contentType of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded']) {
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/channels',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': contentType },
        payload: 'slug=x&title=y',
      });
      expect(response.statusCode, contentType).toBe(415);
      expectErrorBody(response, 'unsupported_media_type');
    }
  });

  it('answers 400 for malformed and empty JSON bodies', async () => {
    for (const payload of ['{"slug": "x",', '']) {
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/channels',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        payload,
      });
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expectErrorBody(response, 'validation_failed');
    }
  });

  it('lists every validation problem with its field path', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/channels',
      headers: { authorization: `Bearer ${adminToken}` },
      payload: { slug: 'ok-slug', title: { text: 'x' }, extra: 1, more: 2 },
    });
    expect(response.statusCode).toBe(400);
    const body = expectErrorBody(response, 'validation_failed') as unknown as {
      error: { details: { field: string; message: string }[] };
    };
    expect(body.error.details).toEqual(
      expect.arrayContaining([
        { field: 'body.extra', message: 'is not an accepted field' },
        { field: 'body.more', message: 'is not an accepted field' },
        { field: 'body.title', message: 'must be string' },
      ]),
    );
  });
});

describe('authentication', () => {
  it('treats a request without Authorization as anonymous', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/channels' });
    expect(response.statusCode).toBe(200);
  });

  it('rejects an unknown token even on a public read, instead of silently serving it as anonymous', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/api/v1/channels',
      headers: { authorization: `Bearer mkt_${'x'.repeat(40)}` },
    });
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expectErrorBody(response, 'unauthenticated');
  });

  it('rejects other schemes and an empty bearer with invalid_request', async () => {
    for (const authorization of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', adminToken]) {
      const response = await app.inject({ method: 'GET', url: '/api/v1/channels', headers: { authorization } });
      expect(response.statusCode, authorization).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_request"');
      expectErrorBody(response, 'unauthenticated');
    }
  });

  it('accepts the scheme name in any case', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/api/v1/me/subscriptions',
      headers: { authorization: `bearer ${adminToken}` },
    });
    expect(response.statusCode).toBe(200);
  });
});

/**
 * Input hygiene over HTTP (issue 14): what src/domain/text.ts refuses gets 400 `validation_failed` naming the field,
 * wherever it arrives (JSON bodies, path, query, headers, text imports), and nothing is written. The first cases are
 * the three 500s of the issue; the regressions the contract fuzzer (tests/fuzz) found are at the end.
 */
import type { FastifyInstance } from 'fastify';
import Fastify from 'fastify';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { Text } from '../../src/http/schemas/common.js';
import { requestValidation } from '../../src/http/validation.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, type TestChannel, tokenFor } from '../helpers/factories.js';

let ctx: TestContext;
let app: FastifyInstance;
let adminToken: string;
let channel: TestChannel;

beforeAll(async () => {
  ctx = await createTestContext();
  app = await buildApp(ctx.deps, { logger: false });
  adminToken = await tokenFor(ctx.deps.db, (await createUser(ctx.deps.db, { isAdmin: true })).id);
  channel = await createChannel(ctx.deps.db, { slug: 'apen' });
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

interface ErrorJson {
  error: { code: string; message: string; details?: { field: string; message: string }[] };
  requestId: string;
}

function auth(extra: Record<string, string> = {}) {
  return { authorization: `Bearer ${adminToken}`, ...extra };
}

/** The request was refused with 400 validation_failed naming `field`, in the usual shape; returns the problem. */
function expectRefused(response: Awaited<ReturnType<FastifyInstance['inject']>>, field: string): string {
  expect(response.statusCode, response.body).toBe(400);
  const body = response.json() as ErrorJson;
  expect(body.error.code).toBe('validation_failed');
  expect(body.requestId).toBe(response.headers['x-request-id']);
  const problem = body.error.details?.find((p) => p.field === field);
  expect(problem, JSON.stringify(body.error.details)).toBeDefined();
  return problem!.message;
}

const publish = (payload: string | Buffer | object, headers: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url: `/api/v1/channels/${channel.slug}/announcements`,
    headers: auth({ 'content-type': 'application/json', ...headers }),
    payload: typeof payload === 'object' && !Buffer.isBuffer(payload) ? JSON.stringify(payload) : payload,
  });

const announcementCount = () => ctx.deps.db.announcement.count();

describe('the three 500s of the issue answer 400', () => {
  it('a NUL in a title', async () => {
    const before = await announcementCount();
    const response = await publish('{"title":"a\\u0000b","body":"c"}');
    expect(expectRefused(response, 'body.title')).toBe('must not contain control characters (it holds U+0000)');
    expect(await announcementCount()).toBe(before);
  });

  it('a lone UTF-16 surrogate in a title', async () => {
    const response = await publish('{"title":"\\ud800","body":"b"}');
    expect(expectRefused(response, 'body.title')).toMatch(/unpaired surrogate, U\+D800/);
  });

  it('a NUL in a feed path', async () => {
    const response = await app.inject({ method: 'GET', url: '/feeds/channels/%00.atom' });
    expectRefused(response, 'params.file');
  });
});

describe('JSON bodies', () => {
  it('refuses CR/LF in a title, a right-to-left override in a title, and a body of a zero-width space', async () => {
    const before = await announcementCount();
    expect(expectRefused(await publish({ title: 'a\r\nBcc: x@y', body: 'b' }), 'body.title')).toMatch(/single line/);
    expect(expectRefused(await publish({ title: '\u202egnp.exe', body: 'b' }), 'body.title')).toMatch(/bidirectional/);
    expect(expectRefused(await publish({ title: 'Hei', body: '\u200b' }), 'body.body')).toBe('must not be blank');
    expect(expectRefused(await publish({ title: ' \u200d\u200b ', body: 'b' }), 'body.title')).toBe(
      'must not be blank',
    );
    expect(await announcementCount()).toBe(before);
  });

  it('refuses controls inside nested fields (translations, audience) and names the path', async () => {
    const response = await publish({
      title: 'Hei',
      body: 'b',
      translations: [{ language: 'en', title: 'x\u0007', body: 'b' }],
      audience: ['UiO\u200b'],
    });
    expectRefused(response, 'body.translations.0.title');
    expectRefused(response, 'body.audience.0');
  });

  it('keeps tab, LF and CR in a body, stores NFC, and treats a blank summary as none', async () => {
    const response = await publish({ title: 'Sp\u0065\u0301r', body: 'one\ttwo\r\nthree', summary: '\u200b ' });
    expect(response.statusCode, response.body).toBe(201);
    const created = response.json() as { id: string; title: string; body: string; summary: string | null };
    expect(created.title).toBe('Spér');
    expect(created.body).toBe('one\ttwo\r\nthree');
    expect(created.summary).toBeNull();
    const row = await ctx.deps.db.announcement.findUniqueOrThrow({ where: { id: created.id } });
    expect(JSON.stringify(row)).toContain('Spér');
  });

  it('refuses a body that is not UTF-8 instead of storing U+FFFD', async () => {
    const before = await ctx.deps.db.channel.count();
    const bytes = Buffer.concat([
      Buffer.from('{"slug":"latin","title":"'),
      Buffer.from([0xe6, 0x72]),
      Buffer.from('"}'),
    ]);
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/channels',
      headers: auth({ 'content-type': 'application/json' }),
      payload: bytes,
    });
    expect(expectRefused(response, 'body')).toMatch(/UTF-8/);
    expect(await ctx.deps.db.channel.count()).toBe(before);
  });
});

describe('path, query and headers', () => {
  it('answers a path whose escapes are not UTF-8 with the usual error body', async () => {
    for (const url of ['/feeds/channels/%FF.atom', '/api/v1/channels/%C3%28']) {
      expect(expectRefused(await app.inject({ method: 'GET', url }), 'path')).toMatch(/UTF-8/);
    }
  });

  it('refuses query strings whose escapes are not UTF-8, and controls in query values', async () => {
    expect(expectRefused(await app.inject({ method: 'GET', url: '/api/v1/search?q=%FF' }), 'query')).toMatch(/UTF-8/);
    expectRefused(await app.inject({ method: 'GET', url: '/api/v1/search?q=%00' }), 'query.q');
    expectRefused(await app.inject({ method: 'GET', url: '/api/v1/search?q=a%0Ab' }), 'query.q');
    expect((await app.inject({ method: 'GET', url: '/api/v1/search?q=%C3%A6rlig' })).statusCode).toBe(200);
  });

  it('refuses controls in headers and headers the app reads that are not UTF-8', async () => {
    const channels = (headers: Record<string, string>) =>
      app.inject({ method: 'GET', url: '/api/v1/channels', headers });
    expectRefused(await channels({ 'accept-language': 'nb\u0000' }), 'headers.accept-language');
    expectRefused(await channels({ 'user-agent': 'bot \u00ff' }), 'headers.user-agent');
    expectRefused(
      await publish({ title: 'a', body: 'b' }, { 'idempotency-key': 'k\u0001' }),
      'headers.idempotency-key',
    );
    expect((await channels({ 'user-agent': 'Mozilla/5.0 (X11) Ã¦' })).statusCode).toBe(200);
  });
});

describe('text imports', () => {
  const importText = (payload: Buffer | string) =>
    app.inject({
      method: 'POST',
      url: `/api/v1/channels/${channel.slug}/email-subscriptions/import`,
      headers: auth({ 'content-type': 'text/csv' }),
      payload,
    });

  it('refuses a file that is not UTF-8 (a Latin-1 or UTF-16 export), and one with control characters', async () => {
    const before = await ctx.deps.db.subscription.count();
    const latin1 = Buffer.from('email\nkjære@example.org\n', 'latin1');
    expect(expectRefused(await importText(latin1), 'body')).toMatch(/UTF-8/);
    // UTF-16 with its byte-order mark is not UTF-8; without it, every other byte is a NUL.
    const utf16 = Buffer.from('\ufeffemail\nola@example.org\n', 'utf16le');
    expect(expectRefused(await importText(utf16), 'body')).toMatch(/UTF-8/);
    expect(expectRefused(await importText(utf16.subarray(2)), 'body')).toMatch(/control characters/);
    expect(await ctx.deps.db.subscription.count()).toBe(before);
  });
});

describe('form bodies (the web pages)', () => {
  const postLanguage = (payload: string | Buffer) =>
    app.inject({
      method: 'POST',
      url: '/language',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
      payload,
    });

  it('refuses control characters in a field, escapes that are not UTF-8 and bytes that are not UTF-8', async () => {
    for (const payload of ['lang=nn&returnTo=%2F%00', 'lang=%FF', Buffer.from([0x6c, 0x61, 0x6e, 0x67, 0x3d, 0xe6])]) {
      const response = await postLanguage(payload);
      expect(response.statusCode, String(payload)).toBe(400);
    }
    expect((await postLanguage('lang=nn&returnTo=%2F')).statusCode).toBe(303);
  });
});

describe('link pages', () => {
  it('answer a malformed token with their HTML page, not a JSON error', async () => {
    for (const url of ['/unsubscribe?token=a%00b', '/subscriptions/confirm?token=%E2%80%AEx']) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(400);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
    }
  });
});

describe('found by the contract fuzzer (tests/fuzz), each a 500 or a broken contract before its fix', () => {
  it('refuses date-times JavaScript or PostgreSQL cannot hold (the year 0000, a leap second) instead of a 500', async () => {
    for (const time of ['0000-01-01T00:00:00Z', '2016-12-31T23:59:60Z']) {
      const url = `/api/v1/admin/audit?from=${encodeURIComponent(time)}`;
      expectRefused(await app.inject({ method: 'GET', url, headers: auth() }), 'query.from');
      expectRefused(await publish({ title: 'a', body: 'b', expiresAt: time }), 'body.expiresAt');
    }
    const fine = await app.inject({
      method: 'GET',
      url: '/api/v1/admin/audit?from=0001-01-01T00:00:00Z',
      headers: auth(),
    });
    expect(fine.statusCode).toBe(200);
  });

  it('refuses a number too large for a double in a query (Ajv made it Infinity and skipped maximum)', async () => {
    for (const limit of ['1e309', '-1e309']) {
      const response = await app.inject({ method: 'GET', url: `/api/v1/channels?limit=${limit}` });
      expect(expectRefused(response, 'query.limit')).toBe('must be a finite number');
    }
  });

  it('refuses a push subscription whose expirationTime cannot be stored (no Date, or past the year 9999)', async () => {
    for (const expirationTime of [1e308, 1405261343055774]) {
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/me/push-subscriptions',
        headers: auth(),
        payload: {
          endpoint: 'https://fcm.googleapis.com/fcm/send/x',
          expirationTime,
          keys: { p256dh: 'x', auth: 'y' },
        },
      });
      expectRefused(response, 'body.expirationTime');
    }
  });

  it('refuses an import without a body', async () => {
    const response = await app.inject({
      method: 'POST',
      url: `/api/v1/channels/${channel.slug}/email-subscriptions/import`,
      headers: auth(),
    });
    expect(expectRefused(response, 'body')).toBe('is required');
  });

  it('refuses a path parameter with control characters before the route policy and audit log read it', async () => {
    const response = await app.inject({ method: 'DELETE', url: '/api/v1/channels/a%00b' });
    expectRefused(response, 'params.slug');
    expect(await ctx.deps.db.auditLog.count({ where: { requestId: response.headers['x-request-id'] as string } })).toBe(
      0,
    );
  });

  it('documents 400 on every operation, and 400, 413 and 415 on every one that can be sent a body', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (!operation.responses) continue;
        const needed = ['post', 'put', 'patch', 'delete'].includes(method) ? ['400', '413', '415'] : ['400'];
        for (const status of needed) expect(operation.responses, `${method} ${path} ${status}`).toHaveProperty(status);
      }
    }
    const feedToken = await app.inject({
      method: 'POST',
      url: '/api/v1/me/feed-tokens',
      headers: auth({ 'content-type': 'text/plain' }),
      payload: 'x',
    });
    expect(feedToken.statusCode).toBe(415);
  });

  it('answers a malformed request to a link page with the page, not JSON', async () => {
    const requests = [
      { method: 'GET' as const, url: '/unsubscribe?token=%ED%A0%80' },
      { method: 'GET' as const, url: '/unsubscribe?token=x', headers: { 'x-request-id': 'a\u0000b' } },
      {
        method: 'POST' as const,
        url: '/subscriptions/confirm?token=x',
        headers: { 'content-type': 'application/json' },
        payload: '',
      },
    ];
    for (const request of requests) {
      const response = await app.inject(request);
      expect(response.statusCode, request.url).toBe(400);
      expect(response.headers['content-type'], request.url).toMatch(/^text\/html/);
    }
  });
});

describe('every request string declares its kind', () => {
  it('refuses to start an app with a request string that has none, naming it', async () => {
    const bare = Fastify({ schemaController: requestValidation() });
    bare.post(
      '/x',
      {
        schema: {
          body: Type.Object({ ok: Text.title(), nested: Type.Object({ forgot: Type.String() }) }),
          querystring: Type.Object({ uuid: Type.String({ format: 'uuid' }), pick: Type.Enum(['a', 'b']) }),
        },
      },
      async () => 'x',
    );
    await expect(bare.ready()).rejects.toThrow(/POST \/x: body\.nested\.forgot is a string without a text kind/);
    await bare.close();
  });
});

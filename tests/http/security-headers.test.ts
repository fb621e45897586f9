/**
 * Browser-facing headers through the real app: CORS only for widget reads from listed origins and never with
 * credentials (src/http/plugins/cors.ts); helmet's headers and the Content-Security-Policies of the app's pages and
 * of the API docs (src/http/plugins/security-headers.ts). The CSPs are checked in a real browser in
 * tests/e2e/csp.test.ts.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import { docsCsp } from '../../src/http/plugins/security-headers.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel } from '../helpers/factories.js';

const PUBLIC_URL = 'https://meldingskanal.example.org';
const WIDGET = 'https://intranett.example.org';
const OTHER_WIDGET = 'https://www.example.net';
const FOREIGN = 'https://evil.example';
const ISSUER = 'https://auth.example.org';

let ctx: TestContext;
let app: FastifyInstance;
let plainHttpApp: FastifyInstance;
let slug: string;

beforeAll(async () => {
  ctx = await createTestContext({
    PUBLIC_URL,
    WIDGET_ORIGINS: `${WIDGET},${OTHER_WIDGET}`,
    OIDC_ISSUER: ISSUER,
    OIDC_CLIENT_ID: 'meldingskanal',
  });
  slug = (await createChannel(ctx.deps.db, { visibility: 'public' })).slug;
  app = await buildApp(ctx.deps, { logger: false });
  // The same deployment behind plain http (development): no HSTS.
  const plainConfig = loadConfig({
    ...ctx.env,
    PUBLIC_URL: 'http://localhost:3000',
    OIDC_ISSUER: '',
    DEV_OIDC_PORT: '3001',
  });
  plainHttpApp = await buildApp({ ...ctx.deps, config: plainConfig }, { logger: false });
});

afterAll(async () => {
  await app?.close();
  await plainHttpApp?.close();
  await ctx?.close();
});

function directives(header: unknown): Map<string, string[]> {
  expect(typeof header).toBe('string');
  return new Map(
    (header as string)
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...values]) => [name!, values]),
  );
}

const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });
const preflight = (url: string, origin: string, method = 'GET', requestHeaders?: string) =>
  app.inject({
    method: 'OPTIONS',
    url,
    headers: {
      origin,
      'access-control-request-method': method,
      ...(requestHeaders ? { 'access-control-request-headers': requestHeaders } : {}),
    },
  });

function expectNoCredentials(response: LightMyRequestResponse) {
  expect(response.headers['access-control-allow-credentials']).toBeUndefined();
}

describe('CORS', () => {
  it('lets listed widget origins and PUBLIC_URL read channels and announcements, without credentials', async () => {
    for (const origin of [WIDGET, OTHER_WIDGET, PUBLIC_URL]) {
      for (const url of ['/api/v1/channels', `/api/v1/channels/${slug}`, `/api/v1/channels/${slug}/announcements`]) {
        const response = await get(url, { origin });
        expect(response.statusCode, url).toBe(200);
        expect(response.headers['access-control-allow-origin'], `${origin} ${url}`).toBe(origin);
        expect(response.headers.vary).toMatch(/Origin/i);
        expectNoCredentials(response);
      }
    }
  });

  it('gives an unlisted origin no Access-Control-Allow-Origin at all', async () => {
    for (const origin of [FOREIGN, `${WIDGET}.evil.example`, 'null', WIDGET.replace('https:', 'http:')]) {
      const response = await get('/api/v1/channels', { origin });
      expect(response.statusCode).toBe(200);
      expect(response.headers['access-control-allow-origin'], origin).toBeUndefined();
      expectNoCredentials(response);
    }
  });

  it('keeps its headers on error answers, so a widget can read why', async () => {
    const response = await get('/api/v1/channels/finst-ikkje', { origin: WIDGET });
    expect(response.statusCode).toBe(404);
    expect(response.headers['access-control-allow-origin']).toBe(WIDGET);
    expect(response.headers['access-control-expose-headers']).toMatch(/x-request-id/);
  });

  it('answers preflights for widget reads, cached, with a fixed header list (no Authorization)', async () => {
    const response = await preflight(`/api/v1/channels/${slug}/announcements`, WIDGET, 'GET', 'authorization');
    expect(response.statusCode).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe(WIDGET);
    expect(response.headers['access-control-allow-methods']).toBe('GET, HEAD');
    expect(response.headers['access-control-max-age']).toBe('7200');
    expect(String(response.headers['access-control-allow-headers']).toLowerCase()).not.toContain('authorization');
    expectNoCredentials(response);
  });

  it('refuses preflights from unlisted origins and for anything but widget reads', async () => {
    const foreign = await preflight('/api/v1/channels', FOREIGN);
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    for (const [url, method] of [
      ['/api/v1/channels', 'POST'],
      [`/api/v1/me/subscriptions/${slug}`, 'PUT'],
      ['/api/v1/me/subscriptions', 'GET'],
      ['/api/v1/live/tickets', 'POST'],
    ] as const) {
      const response = await preflight(url, WIDGET, method);
      expect(response.headers['access-control-allow-origin'], `${method} ${url}`).toBeUndefined();
      expect(response.headers['access-control-allow-methods'], `${method} ${url}`).toBeUndefined();
      expectNoCredentials(response);
    }
  });

  it('adds nothing to other routes, even for listed origins', async () => {
    for (const url of ['/api/v1/me/subscriptions', '/', '/api/openapi.json']) {
      const response = await get(url, { origin: WIDGET });
      expect(response.headers['access-control-allow-origin'], url).toBeUndefined();
      expectNoCredentials(response);
    }
  });
});

describe('security headers', () => {
  it('gives the front page a strict CSP, and the page needs nothing inline (no style or script blocks)', async () => {
    const response = await get('/');
    expect(response.statusCode).toBe(200);
    const csp = directives(response.headers['content-security-policy']);
    expect(csp.get('default-src')).toEqual(["'self'"]);
    expect(csp.get('object-src')).toEqual(["'none'"]);
    expect(csp.get('base-uri')).toEqual(["'none'"]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    expect(csp.get('form-action')).toEqual(["'self'", ISSUER]);
    expect(csp.get('script-src')?.[0]).toBe("'self'");
    expect(csp.get('script-src')?.[1]).toMatch(/^'nonce-[0-9a-f]{32}'$/);
    for (const values of csp.values()) {
      expect(values).not.toContain("'unsafe-inline'");
      expect(values).not.toContain("'unsafe-eval'");
    }
    // The page's styles and scripts are files from this origin (src/web): nothing inline that a nonce must allow.
    expect(response.body).not.toMatch(/<style|<script(?![^>]*\bsrc=)|\sstyle=/);
    expect(response.body).toMatch(/<link rel="stylesheet" href="\/assets\/app-[A-Z0-9]+\.css"\/?>/);
    // A fresh nonce per response.
    const again = directives((await get('/')).headers['content-security-policy']);
    expect(again.get('style-src')).not.toEqual(csp.get('style-src'));
  });

  it('sends nosniff, a referrer policy, no framing and HSTS (https) on every response, errors included', async () => {
    for (const url of ['/', '/api/v1/channels', '/api/v1/channels/finst-ikkje', '/finst-ikkje']) {
      const response = await get(url);
      expect(response.headers['x-content-type-options'], url).toBe('nosniff');
      expect(response.headers['referrer-policy'], url).toBe('strict-origin-when-cross-origin');
      expect(response.headers['x-frame-options'], url).toBe('DENY');
      expect(response.headers['strict-transport-security'], url).toBe('max-age=31536000; includeSubDomains');
      expect(response.headers['x-powered-by'], url).toBeUndefined();
    }
  });

  it('sends them on a refused WebSocket handshake and on any answered request with an Upgrade header', async () => {
    const upgrade = { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-version': '13' };
    const refused = await app.inject({ url: '/api/v1/live?token=secret', headers: upgrade });
    const answered = await app.inject({ url: '/api/v1/channels', headers: upgrade });
    expect([refused.statusCode, answered.statusCode]).toEqual([400, 200]);
    for (const response of [refused, answered]) {
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['x-frame-options']).toBe('DENY');
      expect(response.headers['strict-transport-security']).toMatch(/max-age=31536000/);
      expect(directives(response.headers['content-security-policy']).get('frame-ancestors')).toEqual(["'none'"]);
    }
  });

  it('sends no HSTS when PUBLIC_URL is plain http, and lets forms reach the development provider', async () => {
    const response = await plainHttpApp.inject({ method: 'GET', url: '/' });
    expect(response.headers['strict-transport-security']).toBeUndefined();
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    const csp = directives(response.headers['content-security-policy']);
    expect(csp.get('form-action')).toEqual(["'self'", 'http://localhost:3001', 'http://127.0.0.1:3001']);
    expect(csp.has('upgrade-insecure-requests')).toBe(false);
  });

  it('gives the API docs their own policy, no laxer than needed', async () => {
    for (const url of ['/api/docs/', '/api/docs/static/swagger-initializer.js']) {
      const response = await get(url);
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-security-policy'], url).toBe(docsCsp(PUBLIC_URL));
    }
    const csp = directives(docsCsp(PUBLIC_URL));
    expect(csp.get('script-src')).toEqual(["'self'"]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    expect(csp.get('object-src')).toEqual(["'none'"]);
    expect(csp.get('img-src')).not.toContain('validator.swagger.io');
    const initializer = await get('/api/docs/static/swagger-initializer.js');
    expect(initializer.body).toMatch(/validatorUrl["']?\s*:\s*null/);
  });

  it('lets a page that sets its own policy keep it (the unsubscribe page: no referrer, nothing but inline style)', async () => {
    const response = await get('/unsubscribe?token=ugyldig');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    expect(directives(response.headers['content-security-policy']).get('default-src')).toEqual(["'none'"]);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });
});

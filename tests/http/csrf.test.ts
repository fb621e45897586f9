/**
 * CSRF protection of cookie-authenticated state changes (src/http/plugins/csrf.ts), through the real app: a session
 * request that changes something needs the session's token AND an acceptable origin; bearer requests, safe methods
 * and the RFC 8058 one-click unsubscribe are not affected.
 */
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { originProblem } from '../../src/http/plugins/csrf.js';
import { signUnsubscribeToken } from '../../src/mail/unsubscribe-token.js';
import { resolveSession, SESSION_COOKIE, startSession } from '../../src/services/sessions.js';
import { createTestContext, TEST_UNSUBSCRIBE_SECRET, type TestContext } from '../helpers/context.js';
import { createSubscription } from '../helpers/delivery.js';
import { createChannel, createUser, tokenFor } from '../helpers/factories.js';

const PUBLIC_URL = 'https://meldingskanal.example.org';
const WIDGET_ORIGIN = 'https://intranett.example.org';

let ctx: TestContext;
let app: FastifyInstance;
let cookie: string;
let csrfToken: string;
let bearer: string;
let channelSlug: string;

beforeAll(async () => {
  ctx = await createTestContext({ PUBLIC_URL, WIDGET_ORIGINS: WIDGET_ORIGIN });
  const db = ctx.deps.db;
  const user = await createUser(db, { organisationCode: 'UiO' });
  const started = await startSession(db, { userId: user.id }, ctx.config.session);
  cookie = `${SESSION_COOKIE}=${started.secret}`;
  const resolved = await resolveSession(db, started.secret, ctx.config.session);
  csrfToken = resolved!.csrfToken;
  bearer = await tokenFor(db, user.id);
  channelSlug = (await createChannel(db, { visibility: 'public' })).slug;
  app = await buildApp(ctx.deps, { logger: false });
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

/** A state change: subscribe to the channel (PUT is idempotent, so every test may make it). */
function subscribe(headers: Record<string, string>, body: Record<string, unknown> = {}): InjectOptions {
  return { method: 'PUT', url: `/api/v1/me/subscriptions/${channelSlug}`, headers, payload: body };
}

const sameOrigin = { origin: PUBLIC_URL };

describe('session-authenticated state changes', () => {
  it('are refused without the CSRF token, with csrf_failed', async () => {
    const response = await app.inject(subscribe({ cookie, ...sameOrigin }));
    expect(response.statusCode).toBe(403);
    expect(response.json().error.code).toBe('csrf_failed');
    expect(response.json().error.message).toContain('x-csrf-token');
  });

  it('are refused with a wrong token, even one of the same length', async () => {
    const wrong = csrfToken.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    const response = await app.inject(subscribe({ cookie, ...sameOrigin, 'x-csrf-token': wrong }));
    expect(response.statusCode).toBe(403);
    expect(response.json().error.code).toBe('csrf_failed');
  });

  it('are refused with the right token from a foreign Origin', async () => {
    const response = await app.inject(subscribe({ cookie, origin: 'https://evil.example', 'x-csrf-token': csrfToken }));
    expect(response.statusCode).toBe(403);
    expect(response.json().error.code).toBe('csrf_failed');
    expect(response.json().error.message).toContain('https://evil.example');
  });

  it('are refused when the browser says the request came from another site, whatever Origin says', async () => {
    for (const site of ['cross-site', 'same-site']) {
      const response = await app.inject(
        subscribe({ cookie, ...sameOrigin, 'sec-fetch-site': site, 'x-csrf-token': csrfToken }),
      );
      expect(response.statusCode, site).toBe(403);
      expect(response.json().error.code).toBe('csrf_failed');
    }
  });

  it('are refused when nothing tells where they came from', async () => {
    const response = await app.inject(subscribe({ cookie, 'x-csrf-token': csrfToken }));
    expect(response.statusCode).toBe(403);
    expect(response.json().error.message).toMatch(/neither Sec-Fetch-Site, Origin nor Referer/);
  });

  it('pass with the token and our own origin (Sec-Fetch-Site, Origin or Referer)', async () => {
    const sources: Record<string, string>[] = [
      { 'sec-fetch-site': 'same-origin' },
      { origin: PUBLIC_URL },
      { referer: `${PUBLIC_URL}/kanaler?x=1` },
    ];
    for (const where of sources) {
      const response = await app.inject(subscribe({ cookie, ...where, 'x-csrf-token': csrfToken }));
      expect([200, 201], JSON.stringify(where)).toContain(response.statusCode);
    }
  });

  it('pass with the token in an _csrf body field, which the route then never sees', async () => {
    // The route's schema refuses unknown fields: the field is removed once checked.
    const response = await app.inject(subscribe({ cookie, ...sameOrigin }, { _csrf: csrfToken, emailMode: 'daily' }));
    expect([200, 201]).toContain(response.statusCode);
    expect(response.json().emailMode).toBe('daily');
  });

  it('does not apply to reads', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/api/v1/me/subscriptions',
      headers: { cookie, origin: 'https://evil.example' },
    });
    expect(response.statusCode).toBe(200);
  });
});

describe('requests without the session cookie', () => {
  it('with a bearer token are exempt: no ambient credential to abuse', async () => {
    const response = await app.inject(
      subscribe({ authorization: `Bearer ${bearer}`, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }),
    );
    expect([200, 201]).toContain(response.statusCode);
  });

  it('with a bearer token and a cookie too are exempt (the bearer token is what authenticates)', async () => {
    const response = await app.inject(subscribe({ authorization: `Bearer ${bearer}`, cookie }));
    expect([200, 201]).toContain(response.statusCode);
  });

  it('RFC 8058 one-click unsubscribe keeps working, from a mail client and from a signed-in browser', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    for (const headers of [{}, { cookie, origin: 'null', 'sec-fetch-site': 'cross-site' }]) {
      const subscription = await createSubscription(db, { channelId: channel.id });
      const token = signUnsubscribeToken(TEST_UNSUBSCRIBE_SECRET, {
        subscriptionId: subscription.id,
        recipient: `email:${subscription.email}`,
      });
      const response = await app.inject({
        method: 'POST',
        url: `/unsubscribe?token=${encodeURIComponent(token)}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        payload: 'List-Unsubscribe=One-Click',
      });
      expect(response.statusCode, JSON.stringify(headers)).toBe(200);
      const after = await db.subscription.findUniqueOrThrow({ where: { id: subscription.id } });
      expect(after.emailMode).toBe('off');
    }
  });
});

describe('originProblem', () => {
  const allowed = [PUBLIC_URL, WIDGET_ORIGIN];
  it('prefers Sec-Fetch-Site, then Origin, then Referer', () => {
    expect(originProblem({ 'sec-fetch-site': 'none' }, allowed)).toBeNull();
    expect(originProblem({ 'sec-fetch-site': 'same-origin', origin: 'https://evil.example' }, allowed)).toBeNull();
    expect(originProblem({ origin: WIDGET_ORIGIN }, allowed)).toBeNull();
    expect(originProblem({ origin: 'null' }, allowed)).toMatch(/another origin/);
    expect(originProblem({ origin: `${PUBLIC_URL}.evil.example` }, allowed)).toMatch(/another origin/);
    expect(originProblem({ referer: 'not a url' }, allowed)).toMatch(/Referer/);
    expect(originProblem({ referer: 'https://evil.example/meldingskanal.example.org' }, allowed)).toMatch(/Referer/);
  });
});

/**
 * Sign-in, sessions and sign-out through the REAL development OpenID provider (oidc-provider, in-process on a free
 * port), driven over HTTP like a browser: /auth/login → the provider's redirects and account picker → /auth/callback.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEV_ACCOUNTS,
  DEV_SIGN_IN_LABEL,
  type DevProvider,
  needsDevSignIn,
  renderAccountPicker,
  seedDevAccounts,
  startDevProvider,
  withDevSignIn,
} from '../../src/auth/dev-provider.js';
import type { Config } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import { SIGN_IN_COOKIE } from '../../src/http/routes/auth.js';
import { seedDemoContent } from '../../src/services/seed.js';
import { SESSION_COOKIE, sessionIdOf } from '../../src/services/sessions.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel } from '../helpers/factories.js';
import { appGet, browserFetch, CookieJar, signInThroughDevProvider } from '../helpers/oidc.js';

let ctx: TestContext;
let dev: DevProvider;
let config: Config;
let app: FastifyInstance;

beforeAll(async () => {
  ctx = await createTestContext();
  dev = await startDevProvider({
    appEnv: 'development',
    port: 0,
    redirectUrl: ctx.config.oidc.redirectUrl,
    postLogoutRedirectUrl: ctx.config.oidc.postLogoutRedirectUrl,
  });
  config = withDevSignIn(ctx.config, dev);
  await seedDemoContent(ctx.deps.db);
  await seedDevAccounts(ctx.deps.db, dev.issuer);
  app = await buildApp({ ...ctx.deps, config }, { logger: false });
});

afterAll(async () => {
  await app?.close();
  await dev?.close();
  await ctx?.close();
});

function signIn(subject: string | null, options: { returnTo?: string; appJar?: CookieJar } = {}) {
  return signInThroughDevProvider(app, { account: subject, redirectUrl: config.oidc.redirectUrl, ...options });
}

async function me(jar: CookieJar) {
  return appGet(app, '/api/v1/me', jar);
}

describe('the development provider', () => {
  it('is asked for only in development without an issuer, and refuses to start in production', async () => {
    expect(needsDevSignIn(ctx.config)).toBe(true);
    expect(needsDevSignIn(config)).toBe(false);
    await expect(
      startDevProvider({
        appEnv: 'production',
        port: 0,
        redirectUrl: 'https://x.example/auth/callback',
        postLogoutRedirectUrl: 'https://x.example/',
      }),
    ).rejects.toThrow(/cannot run when APP_ENV=production/);
  });

  it('gives the API an effective configuration without changing the original', () => {
    expect(config.oidc.issuer).toBe(dev.issuer);
    expect(dev.issuer).toMatch(/^http:\/\/localhost:\d+$/);
    expect(config.oidc.clientId).toBe(dev.clientId);
    expect(config.oidc.clientSecret).toBe(dev.clientSecret);
    expect(ctx.config.oidc.issuer).toBeUndefined();
    expect(Object.isFrozen(config) && Object.isFrozen(config.oidc)).toBe(true);
  });

  it('labels its account picker as a development sign-in, with a button per demo account', async () => {
    const html = renderAccountPicker('abc');
    expect(html).toContain(DEV_SIGN_IN_LABEL);
    expect(html).toContain('<html lang="nb"');
    for (const a of DEV_ACCOUNTS) expect(html).toContain(`value="${a.subject}"`);
    // The demo accounts are roles, not people; the four institutions are all there.
    for (const realm of ['uib.no', 'uio.no', 'uit.no', 'ntnu.no']) {
      expect(DEV_ACCOUNTS.some((a) => a.principalName.endsWith(`@${realm}`) && !a.isAdmin)).toBe(true);
    }
  });

  it('seeds the admin and the BOTT-SA publisher idempotently', async () => {
    await seedDevAccounts(ctx.deps.db, dev.issuer);
    const admin = await ctx.deps.db.user.findUnique({
      where: { oidcIssuer_oidcSubject: { oidcIssuer: dev.issuer, oidcSubject: 'dev-admin' } },
    });
    expect(admin?.isAdmin).toBe(true);
    const publisher = await ctx.deps.db.user.findUnique({
      where: { oidcIssuer_oidcSubject: { oidcIssuer: dev.issuer, oidcSubject: 'dev-publisher-bott-sa' } },
      include: { channelRoles: { include: { channel: true } } },
    });
    expect(publisher?.channelRoles.map((r) => [r.channel.slug, r.role])).toEqual([['bott-sa', 'publisher']]);
    expect(await ctx.deps.db.user.count({ where: { oidcIssuer: dev.issuer } })).toBe(DEV_ACCOUNTS.length);
  });
});

describe('sign-in', () => {
  it('creates the account keyed on (issuer, sub) with the Feide user id and the organisation of its realm', async () => {
    const { callback, appJar } = await signIn('dev-employee-uib', { returnTo: '/api/v1/channels?limit=5' });
    expect(callback.statusCode).toBe(302);
    expect(callback.headers.location).toBe('/api/v1/channels?limit=5');
    const cookie = [callback.headers['set-cookie']].flat().find((c) => c?.startsWith(`${SESSION_COOKIE}=`));
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/Secure/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\//);
    expect(appJar.get(SIGN_IN_COOKIE)).toBeUndefined();

    const user = await ctx.deps.db.user.findUnique({
      where: { oidcIssuer_oidcSubject: { oidcIssuer: dev.issuer, oidcSubject: 'dev-employee-uib' } },
      include: { organisation: true },
    });
    expect(user?.principalName).toBe('ansatt@uib.no');
    expect(user?.organisation?.code).toBe('UiB');
    expect(user?.displayName).toBe('Ansatt ved UiB');
    expect(user?.email).toBe('ansatt@uib.no');
    expect(user?.lastLoginAt).toBeInstanceOf(Date);

    const { response } = await me(appJar);
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({
      id: user?.id,
      displayName: 'Ansatt ved UiB',
      principalName: 'ansatt@uib.no',
      organisationCode: 'UiB',
      isAdmin: false,
      authMethod: 'session',
    });
    expect(body.csrfToken).toMatch(/^[A-Za-z0-9_-]{20,}$/);
  });

  it('signs the seeded admin into the seeded account (same sub), with its admin flag', async () => {
    const { callback, appJar } = await signIn('dev-admin');
    expect(callback.headers.location).toBe('/');
    const body = (await me(appJar)).response.json();
    expect(body).toMatchObject({ isAdmin: true, principalName: 'admin@uio.no', organisationCode: 'UiO' });
    const admin = await ctx.deps.db.user.findUnique({
      where: { oidcIssuer_oidcSubject: { oidcIssuer: dev.issuer, oidcSubject: 'dev-admin' } },
    });
    expect(body.id).toBe(admin?.id);
  });

  it('lets an outside-realm guest read public channels only', async () => {
    const internal = await createChannel(ctx.deps.db, { visibility: 'internal' });
    const { appJar } = await signIn('dev-guest');
    const body = (await me(appJar)).response.json();
    expect(body).toMatchObject({ principalName: 'gjest@example.org', organisationCode: null });
    const user = await ctx.deps.db.user.findUniqueOrThrow({ where: { id: body.id } });
    expect(user.organisationId).toBeNull();
    expect((await appGet(app, `/api/v1/channels/${internal.slug}`, appJar)).response.statusCode).toBe(404);
    expect((await appGet(app, '/api/v1/channels/bott-sa', appJar)).response.statusCode).toBe(200);

    // A member of a member organisation does read it.
    const member = await signIn('dev-employee-ntnu');
    expect((await appGet(app, `/api/v1/channels/${internal.slug}`, member.appJar)).response.statusCode).toBe(200);
  });

  it('makes a new session at every sign-in; the old cookie no longer works', async () => {
    const first = await signIn('dev-employee-uio');
    const oldSecret = first.appJar.get(SESSION_COOKIE) as string;
    expect(oldSecret).toBeTruthy();
    const again = await signIn('dev-employee-uio', { appJar: first.appJar });
    const newSecret = again.appJar.get(SESSION_COOKIE) as string;
    expect(newSecret).toBeTruthy();
    expect(newSecret).not.toBe(oldSecret);
    expect(await ctx.deps.db.session.findUnique({ where: { id: sessionIdOf(oldSecret) } })).toBeNull();

    const stale = new CookieJar();
    stale.set(SESSION_COOKIE, oldSecret);
    expect((await me(stale)).response.statusCode).toBe(401);
    expect((await me(again.appJar)).response.statusCode).toBe(200);
  });

  it('sends open-redirect attempts home', async () => {
    for (const returnTo of ['//evil.example', 'https://evil.example', '/\\evil.example', '/auth/logout']) {
      const { callback } = await signIn('dev-employee-uit', { returnTo });
      expect(callback.statusCode, returnTo).toBe(302);
      expect(callback.headers.location, returnTo).toBe('/');
    }
  });

  it('fails with a 400 page and no session when the person cancels at the provider', async () => {
    const sessionsBefore = await ctx.deps.db.session.count();
    const { callback, appJar } = await signIn(null);
    expect(callback.statusCode).toBe(400);
    expect(callback.headers['content-type']).toMatch(/text\/html/);
    expect(callback.body).toContain('Innloggingen mislyktes');
    expect(callback.body).toContain('Sign-in failed');
    expect(callback.body).not.toMatch(/access_denied|cancelled/);
    expect(appJar.get(SESSION_COOKIE)).toBeUndefined();
    expect(await ctx.deps.db.session.count()).toBe(sessionsBefore);
  });
});

describe('sign-out', () => {
  it('GET /auth/logout shows a button and does not sign out', async () => {
    const { appJar } = await signIn('dev-employee-uib');
    const { response } = await appGet(app, '/auth/logout', appJar);
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('method="post"');
    expect(response.body).toContain('name="_csrf"');
    expect((await me(appJar)).response.statusCode).toBe(200);
  });

  it('POST /auth/logout ends the session and sends the browser to the end-session endpoint with id_token_hint', async () => {
    const { appJar, providerJar } = await signIn('dev-employee-uib');
    const secret = appJar.get(SESSION_COOKIE) as string;
    const csrfToken = (await me(appJar)).response.json().csrfToken as string;

    const response = await app.inject({
      method: 'POST',
      url: '/auth/logout',
      headers: {
        cookie: appJar.header() as string,
        'content-type': 'application/x-www-form-urlencoded',
        origin: new URL(config.http.publicUrl).origin,
      },
      payload: new URLSearchParams({ _csrf: csrfToken }).toString(),
    });
    expect(response.statusCode).toBe(303);
    appJar.absorb(response.headers['set-cookie']);
    expect(appJar.get(SESSION_COOKIE)).toBeUndefined();
    expect(await ctx.deps.db.session.findUnique({ where: { id: sessionIdOf(secret) } })).toBeNull();

    const endSession = new URL(response.headers.location as string);
    expect(endSession.origin).toBe(dev.issuer);
    expect(endSession.searchParams.get('id_token_hint')).toMatch(/^ey/);
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(config.oidc.postLogoutRedirectUrl);

    // The old cookie is anonymous now.
    const stale = new CookieJar();
    stale.set(SESSION_COOKIE, secret);
    expect((await me(stale)).response.statusCode).toBe(401);

    // The provider asks for confirmation, then sends the browser back to the app.
    const confirm = await browserFetch(endSession, providerJar);
    expect(confirm.status).toBe(200);
    const html = await confirm.text();
    expect(html).toContain(DEV_SIGN_IN_LABEL);
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1] as string;
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1] as string;
    const done = await browserFetch(new URL(action, endSession), providerJar, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf, logout: 'yes' }).toString(),
    });
    expect(done.status).toBeGreaterThanOrEqual(300);
    expect(done.status).toBeLessThan(400);
    expect(done.headers.get('location')).toBe(config.oidc.postLogoutRedirectUrl);
  });

  it('an anonymous POST /auth/logout just goes home', async () => {
    const response = await app.inject({ method: 'POST', url: '/auth/logout' });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/');
  });
});

describe('the landing page', () => {
  it('offers "Logg inn" to visitors and "Logg ut" (a POST with the CSRF token) to the signed-in', async () => {
    const anonymous = await appGet(app, '/', new CookieJar());
    expect(anonymous.response.body).toContain('href="/auth/login"');
    expect(anonymous.response.body).not.toContain('action="/auth/logout"');

    const { appJar } = await signIn('dev-employee-ntnu');
    const page = (await appGet(app, '/', appJar)).response;
    expect(page.headers['cache-control']).toMatch(/no-store/);
    expect(page.body).toContain('Logget inn som Ansatt ved NTNU');
    const csrfToken = (await me(appJar)).response.json().csrfToken;
    expect(page.body).toContain(`name="_csrf" value="${csrfToken}"`);
    expect(page.body).toMatch(/<form method="post" action="\/auth\/logout"/);

    // Submitting it, as the browser would (same-origin), signs out.
    const response = await app.inject({
      method: 'POST',
      url: '/auth/logout',
      headers: {
        cookie: appJar.header() as string,
        'content-type': 'application/x-www-form-urlencoded',
        'sec-fetch-site': 'same-origin',
      },
      payload: `_csrf=${encodeURIComponent(csrfToken)}`,
    });
    expect(response.statusCode).toBe(303);
    expect((await me(appJar)).response.statusCode).toBe(401);
  });

  it('refuses a cross-site sign-out without the CSRF token (the session stays)', async () => {
    const { appJar } = await signIn('dev-employee-ntnu');
    const response = await app.inject({
      method: 'POST',
      url: '/auth/logout',
      headers: { cookie: appJar.header() as string, 'sec-fetch-site': 'cross-site' },
    });
    expect(response.statusCode).toBe(403);
    expect((await me(appJar)).response.statusCode).toBe(200);
  });
});

describe('session timeouts', () => {
  it('ends an idle session and one past its absolute limit', async () => {
    const idle = await signIn('dev-employee-uio');
    const idleId = sessionIdOf(idle.appJar.get(SESSION_COOKIE) as string);
    await ctx.deps.db.session.update({
      where: { id: idleId },
      data: { lastSeenAt: new Date(Date.now() - config.session.idleTimeoutMs - 1000) },
    });
    expect((await me(idle.appJar)).response.statusCode).toBe(401);
    expect(await ctx.deps.db.session.findUnique({ where: { id: idleId } })).toBeNull();

    const old = await signIn('dev-employee-uio');
    const oldId = sessionIdOf(old.appJar.get(SESSION_COOKIE) as string);
    await ctx.deps.db.session.update({ where: { id: oldId }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await me(old.appJar)).response.statusCode).toBe(401);
    expect(await ctx.deps.db.session.findUnique({ where: { id: oldId } })).toBeNull();
  });
});

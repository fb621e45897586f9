/**
 * The relying party against a hand-made provider (tests/helpers/oidc.ts) that can misbehave on demand: every
 * defect the issue names must fail the sign-in with no session — wrong iss, wrong aud, expired ID token, alg none,
 * unknown kid, state and nonce mismatch, PKCE mismatch — and the account rules must hold (keyed on sub only; an
 * e-mail never links accounts; the organisation follows the Feide user id's realm).
 */
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oidcClientSettings } from '../../src/auth/oidc.js';
import { type Config, loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import { SIGN_IN_COOKIE } from '../../src/http/routes/auth.js';
import { accessRedisChannel } from '../../src/realtime/access-hints.js';
import { seedDemoContent } from '../../src/services/seed.js';
import { SESSION_COOKIE } from '../../src/services/sessions.js';
import { stateHashOf } from '../../src/services/sign-in.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createUser, tokenFor } from '../helpers/factories.js';
import {
  appGet,
  CookieJar,
  ID_TOKEN_DEFECTS,
  pathOf,
  startTestProvider,
  type TestPerson,
  type TestProvider,
} from '../helpers/oidc.js';
import { REDIS_URL } from '../helpers/urls.js';
import { waitFor } from '../helpers/wait.js';

const FEIDE_ID = 'https://n.feide.no/claims/eduPersonPrincipalName';

let ctx: TestContext;
let op: TestProvider;
let config: Config;
let app: FastifyInstance;
let people = 0;

function person(claims: Record<string, unknown> = {}): TestPerson {
  people++;
  return { sub: `subject-${people}-${Date.now()}`, claims: { name: `Person ${people}`, ...claims } };
}

beforeAll(async () => {
  ctx = await createTestContext();
  op = await startTestProvider({
    clientId: 'meldingskanal-test',
    clientSecret: 'test-client-secret',
    redirectUrl: ctx.config.oidc.redirectUrl,
    endSession: true,
  });
  config = loadConfig({
    ...ctx.env,
    OIDC_ISSUER: op.issuer,
    OIDC_CLIENT_ID: op.clientId,
    OIDC_CLIENT_SECRET: 'test-client-secret',
  });
  await seedDemoContent(ctx.deps.db);
  app = await buildApp({ ...ctx.deps, config }, { logger: false });
});

afterAll(async () => {
  await app?.close();
  await op?.close();
  await ctx?.close();
});

/** /auth/login in this browser; returns the provider's authorisation URL. */
async function begin(jar: CookieJar, returnTo?: string): Promise<string> {
  const query = returnTo === undefined ? '' : `?returnTo=${encodeURIComponent(returnTo)}`;
  const { response, location } = await appGet(app, `/auth/login${query}`, jar);
  expect(response.statusCode, response.body).toBe(302);
  expect(jar.get(SIGN_IN_COOKIE)).toBeTruthy();
  return location as string;
}

async function signIn(who: TestPerson, jar = new CookieJar()) {
  op.person = who;
  const callbackUrl = await op.authorize(await begin(jar));
  const { response } = await appGet(app, pathOf(callbackUrl), jar);
  return { response, jar, callbackUrl };
}

async function userOf(who: TestPerson) {
  return ctx.deps.db.user.findUnique({
    where: { oidcIssuer_oidcSubject: { oidcIssuer: op.issuer, oidcSubject: who.sub } },
    include: { organisation: true },
  });
}

function expectFailurePage(response: { statusCode: number; body: string; headers: Record<string, unknown> }) {
  expect(response.statusCode).toBe(400);
  expect(String(response.headers['content-type'])).toMatch(/text\/html/);
  expect(response.body).toContain('Innloggingen mislyktes');
  expect(response.body).toContain('Sign-in failed');
  expect([response.headers['set-cookie']].flat().some((c) => String(c).startsWith(`${SESSION_COOKIE}=`))).toBe(false);
}

describe('a successful sign-in', () => {
  it('authenticates the client with client_secret_basic, reads userinfo and makes a session', async () => {
    const who = person({ email: 'ola.nordmann@uio.no', [FEIDE_ID]: 'ola@uio.no' });
    const { response, jar } = await signIn(who);
    expect(response.statusCode).toBe(302);
    expect(jar.get(SESSION_COOKIE)).toBeTruthy();
    expect(op.tokenRequests.at(-1)).toEqual({
      authMethod: 'client_secret_basic',
      grantType: 'authorization_code',
      outcome: 'issued',
    });
    const user = await userOf(who);
    expect(user).toMatchObject({
      displayName: who.claims?.name,
      principalName: 'ola@uio.no',
      email: 'ola.nordmann@uio.no',
    });
    expect(user?.organisation?.code).toBe('UiO');

    const audit = await ctx.deps.db.auditLog.findFirst({
      where: { action: 'session.sign_in', actorUserId: user?.id },
    });
    expect(audit).toMatchObject({ outcome: 'success', actorKind: 'user', targetId: user?.id });
  });

  it('finds the same account by sub when the Feide user id changes, and moves it to the new realm', async () => {
    const who = person({ [FEIDE_ID]: 'kari@uib.no' });
    await signIn(who);
    const before = await userOf(who);
    expect(before?.organisation?.code).toBe('UiB');

    who.claims = { ...who.claims, [FEIDE_ID]: 'kari.nordmann@ntnu.no', name: 'Kari Nordmann' };
    const { response } = await signIn(who);
    expect(response.statusCode).toBe(302);
    const after = await userOf(who);
    expect(after?.id).toBe(before?.id);
    expect(after).toMatchObject({ principalName: 'kari.nordmann@ntnu.no', displayName: 'Kari Nordmann' });
    expect(after?.organisation?.code).toBe('NTNU');
    expect(await ctx.deps.db.user.count({ where: { oidcSubject: who.sub } })).toBe(1);
  });

  it('reads the Feide user id from the namespaced secondary ids when the direct claim is absent', async () => {
    const who = person({ 'https://n.feide.no/claims/userid_sec': ['nin:01010112345', 'feide:per@UiT.no'] });
    await signIn(who);
    const user = await userOf(who);
    expect(user?.principalName).toBe('per@uit.no');
    expect(user?.organisation?.code).toBe('UiT');
  });

  it('never links accounts by e-mail, and never takes an address from its owner', async () => {
    const owner = await createUser(ctx.deps.db, { email: 'delt.adresse@uib.no', organisationCode: 'UiB' });
    const who = person({ email: 'Delt.Adresse@UiB.no', [FEIDE_ID]: 'noen@uib.no' });
    const { response, jar } = await signIn(who);
    expect(response.statusCode).toBe(302);
    const user = await userOf(who);
    expect(user?.id).not.toBe(owner.id);
    expect(user?.email).toBeNull();
    expect((await ctx.deps.db.user.findUniqueOrThrow({ where: { id: owner.id } })).email).toBe(owner.email);
    expect(await ctx.deps.db.session.count({ where: { userId: owner.id } })).toBe(0);
    expect((await appGet(app, '/api/v1/me', jar)).response.json().id).toBe(user?.id);

    // Same for two signed-in accounts: a second sub with the first one's address gets its own account.
    const first = person({ email: 'forste@uio.no', [FEIDE_ID]: 'forste@uio.no' });
    const second = person({ email: 'forste@uio.no', [FEIDE_ID]: 'andre@uio.no' });
    await signIn(first);
    await signIn(second);
    const [a, b] = [await userOf(first), await userOf(second)];
    expect(a?.id).not.toBe(b?.id);
    expect(a?.email).toBe('forste@uio.no');
    expect(b?.email).toBeNull();
  });

  it('gives a user outside the member realms no organisation', async () => {
    const who = person({ [FEIDE_ID]: 'gjest@feide.example.org' });
    await signIn(who);
    const user = await userOf(who);
    expect(user?.principalName).toBe('gjest@feide.example.org');
    expect(user?.organisationId).toBeNull();

    const nobody = person();
    await signIn(nobody);
    expect(await userOf(nobody)).toMatchObject({ principalName: null, organisationId: null });
  });

  it('ends the session at sign-out and sends the browser to the end-session endpoint with id_token_hint', async () => {
    const hints: string[] = [];
    const subscriber = new Redis(REDIS_URL);
    subscriber.on('message', (_channel, message) => hints.push(message));
    await subscriber.subscribe(accessRedisChannel(config.redis.prefix));
    const who = person({ [FEIDE_ID]: 'ut@uio.no' });
    const { jar } = await signIn(who);
    const csrfToken = (await appGet(app, '/api/v1/me', jar)).response.json().csrfToken;
    const response = await app.inject({
      method: 'POST',
      url: '/auth/logout',
      headers: {
        cookie: jar.header() as string,
        'content-type': 'application/x-www-form-urlencoded',
        'sec-fetch-site': 'same-origin',
      },
      payload: `_csrf=${encodeURIComponent(csrfToken)}`,
    });
    expect(response.statusCode).toBe(303);
    const location = new URL(response.headers.location as string);
    expect(`${location.origin}${location.pathname}`).toBe(`${op.issuer}/logout`);
    expect(location.searchParams.get('id_token_hint')).toMatch(/^ey/);
    expect(location.searchParams.get('client_id')).toBe(op.clientId);
    expect((await appGet(app, '/api/v1/me', jar)).response.statusCode).toBe(401);
    const audit = await ctx.deps.db.auditLog.count({ where: { action: 'session.sign_out', outcome: 'success' } });
    expect(audit).toBeGreaterThan(0);
    // Every API process is told to re-check this user's live connections at once.
    const userId = (await userOf(who))?.id;
    await waitFor(() => hints.includes(JSON.stringify({ userId })), { what: 'the access-changed hint' });
    await subscriber.quit();
  });
});

/** The check that must catch each defect (the recorded reason: the library's code, and the claim's name). */
const EXPECTED_REASON: Record<(typeof ID_TOKEN_DEFECTS)[number], RegExp> = {
  'wrong-iss': /^OAUTH_JWT_CLAIM_COMPARISON_FAILED:iss$/,
  'wrong-aud': /^OAUTH_JWT_CLAIM_COMPARISON_FAILED:aud$/,
  expired: /^OAUTH_JWT_TIMESTAMP_CHECK_FAILED/,
  'alg-none': /^OAUTH_INVALID_RESPONSE$/,
  'unknown-kid': /^OAUTH_KEY_SELECTION_FAILED$/,
  'wrong-nonce': /^OAUTH_JWT_CLAIM_COMPARISON_FAILED:nonce$/,
  'bad-signature': /^OAUTH_INVALID_RESPONSE$/,
};

describe('every defect fails the sign-in with no session', () => {
  for (const defect of ID_TOKEN_DEFECTS) {
    it(`an ID token with ${defect}`, async () => {
      const sessionsBefore = await ctx.deps.db.session.count();
      const who = person({ [FEIDE_ID]: `defekt@uio.no` });
      op.defect = defect;
      try {
        const { response, jar } = await signIn(who);
        expectFailurePage(response);
        expect(jar.get(SESSION_COOKIE)).toBeUndefined();
      } finally {
        op.defect = null;
      }
      expect(await ctx.deps.db.session.count()).toBe(sessionsBefore);
      expect(await userOf(who)).toBeNull();
      const failure = await ctx.deps.db.auditLog.findFirst({
        where: { action: 'session.sign_in', outcome: 'failure' },
        orderBy: { id: 'desc' },
      });
      expect(failure).toMatchObject({ actorKind: 'anonymous', actorUserId: null });
      expect((failure?.details as { reason?: string } | undefined)?.reason).toMatch(EXPECTED_REASON[defect]);
    });
  }

  it('a callback whose state this browser was not given (login CSRF) — and its owner can still finish', async () => {
    const owner = new CookieJar();
    op.person = person({ [FEIDE_ID]: 'eier@uib.no' });
    const callbackUrl = await op.authorize(await begin(owner));

    const victim = new CookieJar();
    expectFailurePage((await appGet(app, pathOf(callbackUrl), victim)).response);
    const otherBrowser = new CookieJar();
    await begin(otherBrowser);
    expectFailurePage((await appGet(app, pathOf(callbackUrl), otherBrowser)).response);

    const { response } = await appGet(app, pathOf(callbackUrl), owner);
    expect(response.statusCode).toBe(302);
  });

  it('a callback with a state nobody started', async () => {
    const jar = new CookieJar();
    jar.set(SIGN_IN_COOKIE, 'made-up-state');
    expectFailurePage((await appGet(app, '/auth/callback?code=abc&state=made-up-state', jar)).response);
    expectFailurePage((await appGet(app, '/auth/callback?code=abc', new CookieJar())).response);
  });

  it('a replayed callback: the pending sign-in is consumed once', async () => {
    const { response, jar, callbackUrl } = await signIn(person({ [FEIDE_ID]: 'replay@uio.no' }));
    expect(response.statusCode).toBe(302);
    const sessionsBefore = await ctx.deps.db.session.count();
    // The browser's binding cookie is gone after the callback; an attacker replaying it would present it again.
    jar.set(SIGN_IN_COOKIE, callbackUrl.searchParams.get('state') as string);
    const replay = await appGet(app, pathOf(callbackUrl), jar);
    expectFailurePage(replay.response);
    expect(await ctx.deps.db.session.count()).toBe(sessionsBefore);
  });

  it("a PKCE mismatch: a code issued to one sign-in delivered with another's state", async () => {
    const a = new CookieJar();
    const b = new CookieJar();
    op.person = person({ [FEIDE_ID]: 'pkce@uio.no' });
    const callbackA = await op.authorize(await begin(a));
    const callbackB = await op.authorize(await begin(b));
    const spliced = new URL(callbackB);
    spliced.searchParams.set('code', callbackA.searchParams.get('code') as string);
    expectFailurePage((await appGet(app, pathOf(spliced), b)).response);
    expect(op.tokenRequests.at(-1)?.outcome).toBe('refused');
    expect(await userOf(op.person)).toBeNull();
  });

  it('a sign-in that took longer than its time limit', async () => {
    const jar = new CookieJar();
    op.person = person({ [FEIDE_ID]: 'treg@uio.no' });
    const authorizationUrl = await begin(jar);
    const state = new URL(authorizationUrl).searchParams.get('state') as string;
    await ctx.deps.db.oidcLogin.update({
      where: { stateHash: stateHashOf(state) },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    const callbackUrl = await op.authorize(authorizationUrl);
    expectFailurePage((await appGet(app, pathOf(callbackUrl), jar)).response);
    expect(await userOf(op.person)).toBeNull();
  });

  it('stores no state in clear and asks for PKCE S256 and a nonce', async () => {
    const jar = new CookieJar();
    const url = new URL(await begin(jar, '/kanaler'));
    const state = url.searchParams.get('state') as string;
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('nonce')).toBeTruthy();
    expect(url.searchParams.get('scope')).toBe(config.oidc.scopes);
    const row = await ctx.deps.db.oidcLogin.findUniqueOrThrow({ where: { stateHash: stateHashOf(state) } });
    expect(row.stateHash).not.toBe(state);
    expect(row.returnTo).toBe('/kanaler');
    expect(row.expiresAt.getTime() - row.createdAt.getTime()).toBe(10 * 60_000);
  });
});

describe('GET /api/v1/me', () => {
  it('answers 401 to anonymous callers and describes token callers without a CSRF token', async () => {
    const anonymous = await app.inject({ method: 'GET', url: '/api/v1/me' });
    expect(anonymous.statusCode).toBe(401);
    const user = await createUser(ctx.deps.db, { organisationCode: 'NTNU' });
    const token = await tokenFor(ctx.deps.db, user.id);
    const response = await app.inject({
      method: 'GET',
      url: '/api/v1/me',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      id: user.id,
      displayName: expect.any(String),
      principalName: null,
      organisationCode: 'NTNU',
      isAdmin: false,
      authMethod: 'token',
    });
  });

  it('is in the OpenAPI document; the /auth pages are not', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    expect(doc.paths['/api/v1/me']?.get).toBeDefined();
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/auth'))).toEqual([]);
  });
});

describe('provider availability and client types', () => {
  it('answers 503 while the provider is down, keeps serving the API, and retries discovery when it is back', async () => {
    const down = await startTestProvider({ clientId: 'c', redirectUrl: ctx.config.oidc.redirectUrl });
    down.down = true;
    const downConfig = loadConfig({ ...ctx.env, OIDC_ISSUER: down.issuer, OIDC_CLIENT_ID: 'c' });
    const downApp = await buildApp({ ...ctx.deps, config: downConfig }, { logger: false });
    try {
      const login = await downApp.inject({ method: 'GET', url: '/auth/login' });
      expect(login.statusCode).toBe(503);
      expect(login.body).toContain('Innloggingen er utilgjengelig');
      expect((await downApp.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      expect((await downApp.inject({ method: 'GET', url: '/api/v1/channels' })).statusCode).toBe(200);

      down.down = false;
      const retry = await downApp.inject({ method: 'GET', url: '/auth/login' });
      expect(retry.statusCode).toBe(302);
      expect(retry.headers.location).toMatch(new RegExp(`^${down.issuer}/authorize\\?`));
    } finally {
      await downApp.close();
      await down.close();
    }
  });

  it('signs in as a public client (no secret: token_endpoint_auth_method none, PKCE only)', async () => {
    const publicOp = await startTestProvider({ clientId: 'public-client', redirectUrl: ctx.config.oidc.redirectUrl });
    const publicConfig = loadConfig({ ...ctx.env, OIDC_ISSUER: publicOp.issuer, OIDC_CLIENT_ID: 'public-client' });
    const publicApp = await buildApp({ ...ctx.deps, config: publicConfig }, { logger: false });
    try {
      const jar = new CookieJar();
      publicOp.person = person({ [FEIDE_ID]: 'offentlig@uio.no' });
      const login = await appGet(publicApp, '/auth/login', jar);
      const callbackUrl = await publicOp.authorize(login.location as string);
      const { response } = await appGet(publicApp, pathOf(callbackUrl), jar);
      expect(response.statusCode).toBe(302);
      expect(publicOp.tokenRequests.at(-1)).toMatchObject({ authMethod: 'none', outcome: 'issued' });
    } finally {
      await publicApp.close();
      await publicOp.close();
    }
  });

  it('says "not set up" without an issuer, and refuses an http issuer outside development', async () => {
    const bare = await buildApp(ctx.deps, { logger: false });
    try {
      const login = await bare.inject({ method: 'GET', url: '/auth/login' });
      expect(login.statusCode).toBe(503);
      expect(login.body).toContain('Innlogging er ikke satt opp');
    } finally {
      await bare.close();
    }
    expect(() => oidcClientSettings({ ...config, appEnv: 'production' })).toThrow(/must be https/);
    const production = {
      APP_ENV: 'production',
      PUBLIC_URL: 'https://meldingskanal.example',
      SMTP_URL: 'smtp://relay.example:587',
      MAIL_FROM: 'Meldingskanal <noreply@uio.no>',
      UNSUBSCRIBE_SECRET: 'x'.repeat(40),
      OIDC_CLIENT_ID: 'client',
    };
    expect(() => loadConfig({ ...production, OIDC_ISSUER: 'http://auth.example' })).toThrow(
      /OIDC_ISSUER must be https/,
    );
    expect(() =>
      loadConfig({
        ...production,
        OIDC_ISSUER: 'https://auth.dataporten.no',
        OIDC_REDIRECT_URL: 'http://meldingskanal.example/auth/callback',
      }),
    ).toThrow(/OIDC_REDIRECT_URL must be https/);
    expect(loadConfig({ ...production, OIDC_ISSUER: 'https://auth.dataporten.no' }).oidc.issuer).toBe(
      'https://auth.dataporten.no',
    );
  });
});

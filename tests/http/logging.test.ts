/**
 * Logs and job payloads never hold e-mail addresses, tokens or session ids. The app logs at `trace` (everything it
 * can log) into a captured destination while requests carry each kind of secret, a new person signs in for the first
 * time (the account is created from the provider's claims), and an error whose message holds an address is logged;
 * then the captured lines are searched for every secret. Job payloads are read back from Redis after a real publish,
 * relay and fan-out.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import { POLICY } from '../../src/http/policy.js';
import { scrubLogLine } from '../../src/logger.js';
import { jobId } from '../../src/queue/jobs.js';
import { resolveSession, SESSION_COOKIE, startSession } from '../../src/services/sessions.js';
import { hashToken } from '../../src/services/tokens.js';
import { createOutboxRelay } from '../../workers/outbox-relay.js';
import { processFanout } from '../../workers/processors/fanout.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createSubscription, silentLogger } from '../helpers/delivery.js';
import { createChannel, createUser, grantRole, type TestChannel, tokenFor } from '../helpers/factories.js';
import { appGet, CookieJar, pathOf, startTestProvider, type TestProvider } from '../helpers/oidc.js';

const FEIDE_ID = 'https://n.feide.no/claims/eduPersonPrincipalName';

let ctx: TestContext;
let app: FastifyInstance;
let signInApp: FastifyInstance;
let op: TestProvider;
let channel: TestChannel;
const lines: string[] = [];
const destination = { write: (line: string) => void lines.push(line) };

beforeAll(async () => {
  ctx = await createTestContext({ LOG_LEVEL: 'trace' });
  app = await buildApp(ctx.deps, { logDestination: destination });
  // An error that carries personal data in its message, as a library's error might.
  app.get('/test/explode', { config: { policy: POLICY.public } }, async () => {
    throw new Error('SMTP said: 550 <kari.explode@uib.no> unknown; token mkt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
  });
  op = await startTestProvider({
    clientId: 'logging-test',
    clientSecret: 'logging-test-secret',
    redirectUrl: ctx.config.oidc.redirectUrl,
  });
  const signInConfig = loadConfig({
    ...ctx.env,
    OIDC_ISSUER: op.issuer,
    OIDC_CLIENT_ID: op.clientId,
    OIDC_CLIENT_SECRET: 'logging-test-secret',
  });
  signInApp = await buildApp({ ...ctx.deps, config: signInConfig }, { logDestination: destination });
  channel = await createChannel(ctx.deps.db, { slug: 'loggtest' });
});

afterAll(async () => {
  await app?.close();
  await signInApp?.close();
  await op?.close();
  await ctx?.close();
});

function expectAbsent(secrets: Record<string, string>) {
  const all = lines.join('');
  for (const [what, secret] of Object.entries(secrets)) {
    expect(secret.length, what).toBeGreaterThan(5);
    expect(all.includes(secret), `${what} appears in the logs`).toBe(false);
  }
}

describe('request logs', () => {
  it('hold no bearer token, session cookie, session id, CSRF token or e-mail address from a request', async () => {
    const email = 'kari.nordmann.logtest@uib.no';
    const user = await createUser(ctx.deps.db, { organisationCode: 'UiB', email });
    await grantRole(ctx.deps.db, channel.id, user.id, 'publisher');
    const token = await tokenFor(ctx.deps.db, user.id);
    const started = await startSession(ctx.deps.db, { userId: user.id }, ctx.config.session);
    const session = await resolveSession(ctx.deps.db, started.secret, ctx.config.session);
    const browser = {
      cookie: `${SESSION_COOKIE}=${started.secret}`,
      'x-csrf-token': session?.csrfToken ?? '',
      'sec-fetch-site': 'same-origin',
    };
    lines.length = 0;

    const responses = await Promise.all([
      app.inject({ method: 'GET', url: '/api/v1/me/subscriptions', headers: { authorization: `Bearer ${token}` } }),
      app.inject({ method: 'GET', url: '/api/v1/me/export', headers: browser }),
      // An address in a body the API refuses (unknown field), and in one it accepts.
      app.inject({
        method: 'PUT',
        url: `/api/v1/me/subscriptions/${channel.slug}`,
        headers: browser,
        payload: { emailMode: 'daily', email },
      }),
      app.inject({
        method: 'POST',
        url: `/api/v1/channels/${channel.slug}/announcements`,
        headers: { authorization: `Bearer ${token}` },
        payload: { title: `Kontakt ${email}`, body: `Spørsmål til ${email}` },
      }),
      // Tokens in query strings (links in e-mails): the logged URL is the path only (400: unknown parameters).
      app.inject({ method: 'GET', url: `/api/v1/channels?token=${token}&email=${encodeURIComponent(email)}` }),
      // A wrong token and a wrong session are logged no more than right ones.
      app.inject({ method: 'GET', url: '/api/v1/me/subscriptions', headers: { authorization: `Bearer ${token}x` } }),
    ]);
    expect(responses.map((r) => r.statusCode)).toEqual([200, 200, 400, 201, 400, 401]);
    // The app did log these requests (a silent logger would pass the checks below for nothing).
    expect(lines.filter((line) => line.includes('"incoming request"')).length).toBeGreaterThanOrEqual(6);
    expect(lines.join('')).toContain('"url":"/api/v1/channels"');

    expectAbsent({
      token,
      tokenHash: hashToken(token),
      sessionSecret: started.secret,
      sessionId: started.sessionId,
      csrfToken: session?.csrfToken ?? 'missing',
      email,
      emailUrlEncoded: encodeURIComponent(email),
    });
  });

  it('masks addresses and tokens even inside error messages from elsewhere', async () => {
    lines.length = 0;
    const response = await app.inject({ method: 'GET', url: '/test/explode' });
    expect(response.statusCode).toBe(500);
    const logged = lines.join('');
    expect(logged).toContain('request failed');
    // A 500 is logged by its request id, type and stack, without the message (errorSummary in
    // src/http/plugins/errors.ts): the address is not even there to be masked.
    expect(logged).toContain(String(response.headers['x-request-id']));
    expect(logged).not.toContain('SMTP said');
    expectAbsent({ email: 'kari.explode@uib.no', token: 'mkt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
  });

  it('hold nothing personal from a first sign-in that creates the account from the provider claims', async () => {
    const email = 'ola.forste.gang@uio.no';
    const principalName = 'ola.forste@uio.no';
    op.person = { sub: 'first-time-subject', claims: { name: 'Ola Første', email, [FEIDE_ID]: principalName } };
    lines.length = 0;
    const jar = new CookieJar();
    const login = await appGet(signInApp, '/auth/login', jar);
    expect(login.response.statusCode).toBe(302);
    const callbackUrl = await op.authorize(login.location as string);
    const callback = await appGet(signInApp, pathOf(callbackUrl), jar);
    expect(callback.response.statusCode).toBe(302);
    const cookie = jar.get(SESSION_COOKIE);
    expect(cookie).toBeTruthy();
    const me = await signInApp.inject({ method: 'GET', url: '/api/v1/me', headers: { cookie: jar.header() ?? '' } });
    expect(me.json()).toMatchObject({ principalName });
    const account = await ctx.deps.db.user.findFirstOrThrow({ where: { oidcSubject: 'first-time-subject' } });
    expect(account.email).toBe(email);

    expect(lines.length).toBeGreaterThan(0);
    expectAbsent({
      email,
      principalName,
      sessionCookie: String(cookie),
      code: callbackUrl.searchParams.get('code') ?? 'missing',
      state: callbackUrl.searchParams.get('state') ?? 'missing',
    });
  });

  it('scrubLogLine keeps the line valid JSON', () => {
    const line = JSON.stringify({ msg: 'to a.b@c.no and mkt_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB', n: 1 });
    expect(JSON.parse(scrubLogLine(line))).toEqual({ msg: 'to [email] and mkt_[redacted]', n: 1 });
  });
});

describe('job payloads', () => {
  it('carry ids only, from a real publish through relay and fan-out', async () => {
    const db = ctx.deps.db;
    const jobsChannel = await createChannel(db, { slug: 'jobbtest' });
    const reader = await createUser(db, { email: 'lese.jobb@ntnu.no' });
    await createSubscription(db, { channelId: jobsChannel.id, userId: reader.id });
    const bare = await createSubscription(db, { channelId: jobsChannel.id, email: 'bare.adresse@uit.no' });
    const admin = await createUser(db, { isAdmin: true });
    const published = await app.inject({
      method: 'POST',
      url: `/api/v1/channels/${jobsChannel.slug}/announcements`,
      headers: { authorization: `Bearer ${await tokenFor(db, admin.id)}` },
      payload: { title: 'Jobb', body: 'Innhold' },
    });
    expect(published.statusCode).toBe(201);
    const announcementId: string = published.json().id;

    const relay = createOutboxRelay({
      db,
      fanoutQueue: ctx.deps.queues.fanout,
      scheduledQueue: ctx.deps.queues.scheduled,
      publisher: ctx.deps.redis,
      redisPrefix: ctx.config.redis.prefix,
      databaseUrl: ctx.config.database.url,
      publicUrl: ctx.config.http.publicUrl,
      pollMs: 60_000,
      logger: silentLogger,
    });
    await relay.relayOnce();
    const fanoutJob = await ctx.deps.queues.fanout.getJob(jobId.fanout(announcementId));
    expect(fanoutJob?.data).toEqual({ announcementId });

    await processFanout(
      { announcementId },
      { db, emailQueue: ctx.deps.queues.email, pageSize: 100, emailBatchSize: 50, logger: silentLogger },
    );
    const emailJobs = await ctx.deps.queues.email.getJobs(['waiting', 'delayed', 'prioritized']);
    expect(emailJobs.length).toBeGreaterThan(0);
    const deliveryIds = emailJobs.flatMap((job) => {
      expect(Object.keys(job.data)).toEqual(['deliveryIds']);
      return job.data.deliveryIds;
    });
    expect(deliveryIds).toHaveLength(2);
    for (const id of deliveryIds) expect(id).toMatch(/^\d+$/);

    // What Redis actually stores for each job (data, options, name): no address anywhere.
    const redis = ctx.deps.redis;
    for (const key of [
      `${ctx.config.redis.prefix}:bull:fanout:${jobId.fanout(announcementId)}`,
      ...emailJobs.map((job) => `${ctx.config.redis.prefix}:bull:email:${job.id}`),
    ]) {
      const stored = JSON.stringify(await redis.hgetall(key));
      expect(stored.length, key).toBeGreaterThan(2);
      expect(stored).not.toMatch(/@/);
      expect(stored).not.toContain(reader.id);
      expect(stored).not.toContain(String(bare.email));
    }
  });
});

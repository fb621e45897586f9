import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { accessRedisChannel } from '../../src/realtime/access-hints.js';
import { resolveSession, SESSION_COOKIE, startSession } from '../../src/services/sessions.js';
import { hashToken } from '../../src/services/tokens.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, grantRole, type TestChannel, tokenFor } from '../helpers/factories.js';
import { REDIS_URL } from '../helpers/urls.js';
import { waitFor } from '../helpers/wait.js';

let ctx: TestContext;
let app: FastifyInstance;
let channel: TestChannel;
let otherChannel: TestChannel;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A signed-in browser: the session cookie plus what a same-origin page sends with a state change. */
async function signIn(userId: string) {
  const started = await startSession(ctx.deps.db, { userId, idToken: 'header.payload.signature' }, ctx.config.session);
  const resolved = await resolveSession(ctx.deps.db, started.secret, ctx.config.session);
  if (!resolved) throw new Error('session did not resolve');
  return {
    secret: started.secret,
    sessionId: started.sessionId,
    headers: {
      cookie: `${SESSION_COOKIE}=${started.secret}`,
      'x-csrf-token': resolved.csrfToken,
      'sec-fetch-site': 'same-origin',
    },
  };
}

/** A user with something of everything: a subscription, a role, tokens, a session, an announcement, a delivery. */
async function personWithHistory() {
  const db = ctx.deps.db;
  const user = await createUser(db, { organisationCode: 'UiT' });
  await db.user.update({
    where: { id: user.id },
    data: { oidcIssuer: 'https://idp.example', oidcSubject: `sub-${user.id}`, principalName: `ola-${user.id}@uit.no` },
  });
  await db.subscription.create({
    data: { channelId: channel.id, userId: user.id, confirmedAt: new Date(), push: true },
  });
  await db.pushSubscription.create({
    data: {
      id: randomUUID(),
      userId: user.id,
      endpoint: `https://fcm.googleapis.com/fcm/send/${user.id}`,
      p256dh: 'BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM',
      auth: 'tBHItJI5svbpez7KI4CCXg',
      userAgent: 'Firefox',
    },
  });
  await grantRole(db, otherChannel.id, user.id, 'publisher');
  const token = await tokenFor(db, user.id);
  const announcement = await db.announcement.create({
    data: {
      channelId: otherChannel.id,
      authorId: user.id,
      title: 'Skrevet av meg',
      body: 'Tekst',
      publishedAt: new Date(),
    },
  });
  const delivery = await db.delivery.create({
    data: {
      announcementId: announcement.id,
      recipient: `user:${user.id}`,
      medium: 'email',
      status: 'failed',
      lastError: `550 5.1.1 <${user.email}>: mailbox unavailable`,
    },
  });
  const digest = await db.digest.create({
    data: {
      recipient: `user:${user.id}`,
      mode: 'daily',
      periodStart: new Date('2026-11-25T06:00:00Z'),
      periodEnd: new Date('2026-11-26T06:00:00Z'),
      announcementIds: [announcement.id],
      status: 'failed',
      lastError: `550 <${user.email}> unknown`,
    },
  });
  await db.announcementRead.create({ data: { userId: user.id, announcementId: announcement.id } });
  await db.announcementRating.create({ data: { userId: user.id, announcementId: announcement.id, stars: 4 } });
  await db.announcementAcknowledgement.create({
    data: { userId: user.id, announcementId: announcement.id, organisationId: user.organisationId },
  });
  return { user, token, announcement, delivery, digest };
}

beforeAll(async () => {
  ctx = await createTestContext();
  app = await buildApp(ctx.deps, { logger: false });
  channel = await createChannel(ctx.deps.db, { slug: 'nyheter', visibility: 'public' });
  otherChannel = await createChannel(ctx.deps.db, { slug: 'drift', visibility: 'public' });
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

describe('GET /api/v1/me/export', () => {
  it('downloads everything held about the account, without secrets, and records the export', async () => {
    const { user, token, announcement } = await personWithHistory();
    const browser = await signIn(user.id);
    const response = await app.inject({ method: 'GET', url: '/api/v1/me/export', headers: browser.headers });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-disposition']).toMatch(
      /^attachment; filename="meldingskanal-personal-data-\d{4}-\d{2}-\d{2}\.json"$/,
    );
    expect(response.headers['cache-control']).toBe('no-store');
    const data = response.json();

    expect(data.profile).toMatchObject({
      id: user.id,
      email: user.email,
      principalName: `ola-${user.id}@uit.no`,
      oidcIssuer: 'https://idp.example',
      oidcSubject: `sub-${user.id}`,
      isAdmin: false,
    });
    expect(data.organisation).toMatchObject({ code: 'UiT', realm: 'uit.no' });
    expect(data.subscriptions).toEqual([
      expect.objectContaining({ channel: 'nyheter', emailMode: 'immediate', push: true }),
    ]);
    // Where the browser is reached, never the keys its messages are encrypted for.
    expect(data.pushSubscriptions).toEqual([
      expect.objectContaining({ endpoint: `https://fcm.googleapis.com/fcm/send/${user.id}`, userAgent: 'Firefox' }),
    ]);
    expect(Object.keys(data.pushSubscriptions[0]).sort()).toEqual(
      ['createdAt', 'endpoint', 'expiresAt', 'id', 'lastSeenAt', 'lastSuccessAt', 'userAgent'].sort(),
    );
    expect(data.channelRoles).toEqual([expect.objectContaining({ channel: 'drift', role: 'publisher' })]);
    expect(data.apiTokens).toHaveLength(1);
    expect(Object.keys(data.apiTokens[0]).sort()).toEqual(
      ['createdAt', 'expiresAt', 'id', 'lastUsedAt', 'name', 'prefix', 'revokedAt', 'scopes'].sort(),
    );
    expect(data.sessions).toHaveLength(1);
    expect(Object.keys(data.sessions[0]).sort()).toEqual(['createdAt', 'expiresAt', 'lastSeenAt']);
    expect(data.announcements).toEqual([
      expect.objectContaining({ id: announcement.id, channel: 'drift', title: 'Skrevet av meg' }),
    ]);
    expect(data.deliveries).toEqual([
      expect.objectContaining({
        announcementId: announcement.id,
        medium: 'email',
        kind: 'announcement',
        status: 'failed',
      }),
    ]);
    expect(data.digests).toEqual([
      {
        mode: 'daily',
        periodStart: '2026-11-25T06:00:00.000Z',
        periodEnd: '2026-11-26T06:00:00.000Z',
        announcementIds: [announcement.id],
        status: 'failed',
        sentAt: null,
      },
    ]);
    expect(data.reads).toEqual([{ announcementId: announcement.id, readAt: expect.any(String) }]);
    expect(data.ratings).toEqual([
      { announcementId: announcement.id, stars: 4, createdAt: expect.any(String), updatedAt: expect.any(String) },
    ]);
    expect(data.acknowledgements).toEqual([
      { announcementId: announcement.id, acknowledgedAt: expect.any(String), organisation: 'UiT' },
    ]);
    expect(data.auditRecords).toEqual([
      expect.objectContaining({
        action: 'user.export',
        actorUserId: user.id,
        requestId: response.headers['x-request-id'],
      }),
    ]);

    // No secret of any kind: the token, its hash, the session's cookie secret, id (hash), CSRF secret or id token.
    const session = await ctx.deps.db.session.findUniqueOrThrow({ where: { id: browser.sessionId } });
    for (const secret of [
      token,
      hashToken(token),
      browser.secret,
      browser.sessionId,
      session.csrfSecret,
      session.idToken,
    ]) {
      expect(response.body).not.toContain(String(secret));
    }

    const [record] = await ctx.deps.db.auditLog.findMany({
      where: { requestId: String(response.headers['x-request-id']) },
    });
    expect(record).toMatchObject({ action: 'user.export', outcome: 'success', targetType: 'user', targetId: user.id });
  });

  it('works with a token that can read, not with one narrowed to publishing, and not anonymously', async () => {
    const user = await createUser(ctx.deps.db);
    const reader = await tokenFor(ctx.deps.db, user.id, { scopes: ['read'] });
    const publishOnly = await tokenFor(ctx.deps.db, user.id, { scopes: ['publish'] });
    const ok = await app.inject({ method: 'GET', url: '/api/v1/me/export', headers: bearer(reader) });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().profile.id).toBe(user.id);
    const narrowed = await app.inject({ method: 'GET', url: '/api/v1/me/export', headers: bearer(publishOnly) });
    expect(narrowed.statusCode).toBe(403);
    expect((await app.inject({ method: 'GET', url: '/api/v1/me/export' })).statusCode).toBe(401);
  });
});

describe('DELETE /api/v1/me', () => {
  const erase = (headers: Record<string, string>, payload?: unknown) =>
    app.inject({
      method: 'DELETE',
      url: '/api/v1/me',
      headers,
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });

  it('needs the confirmation in the body, so it never happens by accident', async () => {
    const user = await createUser(ctx.deps.db);
    const browser = await signIn(user.id);
    for (const payload of [undefined, {}, { confirm: 'delete' }, { confirm: 'yes' }]) {
      const response = await erase(browser.headers, payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().error.code).toBe('validation_failed');
    }
    expect(await ctx.deps.db.user.count({ where: { id: user.id } })).toBe(1);
  });

  it('refuses API tokens: only the person, signed in, deletes an account', async () => {
    const user = await createUser(ctx.deps.db, { isAdmin: true });
    const token = await tokenFor(ctx.deps.db, user.id);
    const response = await erase(bearer(token), { confirm: 'DELETE' });
    expect(response.statusCode).toBe(403);
    expect(await ctx.deps.db.user.count({ where: { id: user.id } })).toBe(1);
    // A refused attempt at a state-changing route is itself audited.
    const [record] = await ctx.deps.db.auditLog.findMany({
      where: { requestId: String(response.headers['x-request-id']) },
    });
    expect(record).toMatchObject({
      action: 'authorisation.denied',
      targetId: 'DELETE /api/v1/me',
      actorUserId: user.id,
    });
  });

  it('erases the account and what hangs on it, keeps its announcements without author, and records it first', async () => {
    const db = ctx.deps.db;
    const { user, token, announcement, delivery, digest } = await personWithHistory();
    // A bare-address subscription with the account's address: not the account's (see personal-data.ts), so it stays.
    const bare = await db.subscription.create({ data: { channelId: otherChannel.id, email: user.email } });
    const browser = await signIn(user.id);
    const response = await erase(browser.headers, { confirm: 'DELETE' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      erased: true,
      removed: {
        subscriptions: 1,
        pushSubscriptions: 1,
        apiTokens: 1,
        sessions: 1,
        channelRoles: 1,
        reads: 1,
        ratings: 1,
        acknowledgements: 1,
      },
      announcementsKept: 1,
    });
    // The browser is told to drop the session cookie.
    expect(String(response.headers['set-cookie'])).toMatch(new RegExp(`^${SESSION_COOKIE}=;`));

    expect(await db.user.count({ where: { id: user.id } })).toBe(0);
    expect(await db.subscription.count({ where: { userId: user.id } })).toBe(0);
    expect(await db.pushSubscription.count({ where: { userId: user.id } })).toBe(0);
    expect(await db.apiToken.count({ where: { userId: user.id } })).toBe(0);
    expect(await db.session.count({ where: { userId: user.id } })).toBe(0);
    expect(await db.channelRole.count({ where: { userId: user.id } })).toBe(0);
    expect(await db.announcementRead.count({ where: { userId: user.id } })).toBe(0);
    expect(await db.announcementRating.count({ where: { userId: user.id } })).toBe(0);
    expect(await db.announcementAcknowledgement.count({ where: { userId: user.id } })).toBe(0);
    expect(await db.announcement.findUnique({ where: { id: announcement.id } })).toMatchObject({ authorId: null });
    expect(await db.delivery.findUnique({ where: { id: delivery.id } })).toMatchObject({ lastError: null });
    expect(await db.digest.findUnique({ where: { id: digest.id } })).toMatchObject({ lastError: null });
    expect(await db.subscription.count({ where: { id: bare.id } })).toBe(1);

    const records = await db.auditLog.findMany({ where: { requestId: String(response.headers['x-request-id']) } });
    expect(records).toEqual([
      expect.objectContaining({
        action: 'user.erase',
        outcome: 'success',
        actorKind: 'user',
        // Kept as a plain id: the record outlives the account.
        actorUserId: user.id,
        targetType: 'user',
        targetId: user.id,
      }),
    ]);
    // The record was written in the same transaction, before the user row went: it is older than nothing after it.
    expect(records[0]?.at.getTime()).toBeLessThanOrEqual(Date.now());

    // The old credentials lead nowhere.
    expect((await app.inject({ method: 'GET', url: '/api/v1/me/export', headers: browser.headers })).statusCode).toBe(
      401,
    );
    expect((await app.inject({ method: 'GET', url: '/api/v1/me/export', headers: bearer(token) })).statusCode).toBe(
      401,
    );
  });

  it("tells every API process to re-check the erased account's live connections at once", async () => {
    const listener = new Redis(REDIS_URL);
    const hints: string[] = [];
    try {
      listener.on('message', (_channel, message) => hints.push(message));
      await listener.subscribe(accessRedisChannel(ctx.config.redis.prefix));
      const { user } = await personWithHistory();
      const browser = await signIn(user.id);
      expect((await erase(browser.headers, { confirm: 'DELETE' })).statusCode).toBe(200);
      await waitFor(() => hints.some((hint) => JSON.parse(hint).userId === user.id), { what: 'the access hint' });
    } finally {
      listener.disconnect();
    }
  });

  it('shows the announcements of an erased account as written by a former user, in every view', async () => {
    const { user, announcement } = await personWithHistory();
    const one = () => app.inject({ method: 'GET', url: `/api/v1/announcements/${announcement.id}` });
    const feed = () =>
      app.inject({ method: 'GET', url: `/api/v1/channels/${otherChannel.slug}/announcements?limit=100` });
    const inFeed = async () => (await feed()).json().items.find((item: { id: string }) => item.id === announcement.id);
    const displayName = (await ctx.deps.db.user.findUniqueOrThrow({ where: { id: user.id } })).displayName;
    expect((await one()).json().author).toEqual({ name: displayName });
    expect((await inFeed()).author).toEqual({ name: displayName });

    const browser = await signIn(user.id);
    expect((await erase(browser.headers, { confirm: 'DELETE' })).statusCode).toBe(200);

    const after = await one();
    expect(after.statusCode).toBe(200);
    expect(after.json()).toMatchObject({ id: announcement.id, title: 'Skrevet av meg', author: null });
    expect(await inFeed()).toMatchObject({ id: announcement.id, author: null });
  });
});

/**
 * API tokens over HTTP: created in a session (or with an admin token), shown once, listed without secrets, scoped
 * within the creator's rights, expiring, revoked by their owner or an admin, audited. Access per actor is in the
 * matrix test.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { DEFAULT_TOKEN_LIFETIME_DAYS } from '../../src/services/api-tokens.js';
import { csrfTokenFor, SESSION_COOKIE, startSession } from '../../src/services/sessions.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createUser, type TestUser, tokenFor } from '../helpers/factories.js';

let ctx: TestContext;
let app: FastifyInstance;
let member: TestUser;
let admin: TestUser;
let memberSession: Record<string, string>;
let adminSession: Record<string, string>;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const DAY_MS = 24 * 60 * 60 * 1000;

/** Headers of a browser signed in as the user: cookie, CSRF token, same-origin. */
async function sessionHeaders(userId: string): Promise<Record<string, string>> {
  const started = await startSession(ctx.deps.db, { userId }, ctx.config.session);
  const { csrfSecret } = await ctx.deps.db.session.findUniqueOrThrow({ where: { id: started.sessionId } });
  return {
    cookie: `${SESSION_COOKIE}=${started.secret}`,
    'x-csrf-token': csrfTokenFor(csrfSecret),
    origin: new URL(ctx.config.http.publicUrl).origin,
    'sec-fetch-site': 'same-origin',
  };
}

beforeAll(async () => {
  ctx = await createTestContext();
  app = await buildApp(ctx.deps, { logger: false });
  member = await createUser(ctx.deps.db, { organisationCode: 'UiB' });
  admin = await createUser(ctx.deps.db, { isAdmin: true });
  memberSession = await sessionHeaders(member.id);
  adminSession = await sessionHeaders(admin.id);
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

const create = (headers: Record<string, string>, payload: Record<string, unknown>) =>
  app.inject({ method: 'POST', url: '/api/v1/me/tokens', headers, payload });
const listTokens = async (headers: Record<string, string>) => {
  const response = await app.inject({ method: 'GET', url: '/api/v1/me/tokens', headers });
  expect(response.statusCode).toBe(200);
  return response.json().items as Record<string, unknown>[];
};

describe('POST /api/v1/me/tokens', () => {
  it('creates a token in a session: the secret once (mkt_…, no-store), a working credential, audited', async () => {
    const response = await create(memberSession, { name: 'CI-publisering' });
    expect(response.statusCode).toBe(201);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.json();
    expect(Object.keys(body).sort()).toEqual(
      ['createdAt', 'expiresAt', 'id', 'lastUsedAt', 'name', 'prefix', 'scopes', 'token'].sort(),
    );
    expect(body.token).toMatch(/^mkt_[A-Za-z0-9_-]{40}$/);
    expect(body.token.startsWith(body.prefix)).toBe(true);
    // Default: the creator's scopes except admin; the default lifetime.
    expect(body.scopes).toEqual(['read', 'publish']);
    expect(body.lastUsedAt).toBeNull();
    const lifetime = Date.parse(body.expiresAt) - Date.parse(body.createdAt);
    expect(Math.abs(lifetime - DEFAULT_TOKEN_LIFETIME_DAYS * DAY_MS)).toBeLessThan(5_000);

    // Only the hash is stored.
    const stored = await ctx.deps.db.apiToken.findUniqueOrThrow({ where: { id: body.id } });
    expect(stored.tokenHash).not.toContain(body.token.slice(4));

    // The token works, and its use shows in the list (which never carries a secret).
    const me = await app.inject({ method: 'GET', url: '/api/v1/me/subscriptions', headers: bearer(body.token) });
    expect(me.statusCode).toBe(200);
    const listed = (await listTokens(memberSession)).find((t) => t.id === body.id);
    expect(listed).toBeDefined();
    expect(listed).not.toHaveProperty('token');
    expect(JSON.stringify(await listTokens(memberSession))).not.toContain(body.token);
    expect(listed?.lastUsedAt).toEqual(expect.any(String));

    const [record] = await ctx.deps.db.auditLog.findMany({ where: { action: 'token.create', targetId: body.id } });
    expect(record).toMatchObject({ actorUserId: member.id, outcome: 'success' });
    expect(record?.details).toMatchObject({ scopes: ['read', 'publish'], via: 'session' });
    expect(JSON.stringify(record?.details)).not.toContain(body.token);
  });

  it('takes narrower scopes and a lifetime in days', async () => {
    const response = await create(memberSession, { name: 'lesing', scopes: ['read'], expiresInDays: 7 });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body.scopes).toEqual(['read']);
    expect(Math.abs(Date.parse(body.expiresAt) - Date.parse(body.createdAt) - 7 * DAY_MS)).toBeLessThan(5_000);
  });

  it('never grants more than the creator holds: a member may not ask for `admin` (403)', async () => {
    const response = await create(memberSession, { name: 'for mye', scopes: ['read', 'admin'] });
    expect(response.statusCode).toBe(403);
    expect(response.json().error.message).toMatch(/admin/);
  });

  it('refuses an ordinary token (403): a leaked token cannot mint fresh credentials', async () => {
    const token = await tokenFor(ctx.deps.db, member.id);
    const response = await create(bearer(token), { name: 'fra token' });
    expect(response.statusCode).toBe(403);
    expect(response.json().error.message).toMatch(/session/);
  });

  it('lets an admin token mint tokens, but none with a scope it lacks itself', async () => {
    const adminToken = await tokenFor(ctx.deps.db, admin.id, { scopes: ['read', 'admin'] });
    const ok = await create(bearer(adminToken), { name: 'automatisering', scopes: ['read'] });
    expect(ok.statusCode).toBe(201);
    const more = await create(bearer(adminToken), { name: 'mer', scopes: ['publish'] });
    expect(more.statusCode).toBe(403);
    // An admin's session may give a token the admin scope, but only when asked for by name.
    const plain = await create(adminSession, { name: 'vanlig' });
    expect(plain.json().scopes).toEqual(['read', 'publish']);
    const withAdmin = await create(adminSession, { name: 'admin', scopes: ['admin'] });
    expect(withAdmin.json().scopes).toEqual(['admin']);
  });

  it('validates its input (400): blank name, unknown scope, duplicate scopes, lifetime out of range', async () => {
    for (const payload of [
      { name: '   ' },
      { name: 'x', scopes: ['write'] },
      { name: 'x', scopes: ['read', 'read'] },
      { name: 'x', scopes: [] },
      { name: 'x', expiresInDays: 0 },
      { name: 'x', expiresInDays: 366 },
      { name: 'x', expiresInDays: 1.5 },
    ]) {
      const response = await create(memberSession, payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
    }
  });
});

describe('revoking', () => {
  it('DELETE /me/tokens/:id revokes one of my tokens: it stops working, leaves the list, and is audited', async () => {
    const { id, token } = (await create(memberSession, { name: 'kortlivet' })).json();
    const revoked = await app.inject({ method: 'DELETE', url: `/api/v1/me/tokens/${id}`, headers: memberSession });
    expect(revoked.statusCode).toBe(204);
    const use = await app.inject({ method: 'GET', url: '/api/v1/me/tokens', headers: bearer(token) });
    expect(use.statusCode).toBe(401);
    expect((await listTokens(memberSession)).map((t) => t.id)).not.toContain(id);
    const again = await app.inject({ method: 'DELETE', url: `/api/v1/me/tokens/${id}`, headers: memberSession });
    expect(again.statusCode).toBe(404);
    const records = await ctx.deps.db.auditLog.findMany({ where: { action: 'token.revoke', targetId: id } });
    expect(records).toHaveLength(1);
    expect(records[0]?.details).toEqual({ ownerUserId: member.id });
  });

  it('a token may revoke itself (revoking only takes power away)', async () => {
    const { id, token } = (await create(memberSession, { name: 'selv' })).json();
    const response = await app.inject({ method: 'DELETE', url: `/api/v1/me/tokens/${id}`, headers: bearer(token) });
    expect(response.statusCode).toBe(204);
  });

  it("someone else's token answers 404 under /me, and is revoked by an admin under /tokens", async () => {
    const { id } = (await create(memberSession, { name: 'medlemmets' })).json();
    const foreign = await app.inject({ method: 'DELETE', url: `/api/v1/me/tokens/${id}`, headers: adminSession });
    expect(foreign.statusCode).toBe(404);
    const byAdmin = await app.inject({ method: 'DELETE', url: `/api/v1/tokens/${id}`, headers: adminSession });
    expect(byAdmin.statusCode).toBe(204);
    const [record] = await ctx.deps.db.auditLog.findMany({ where: { action: 'token.revoke', targetId: id } });
    expect(record).toMatchObject({ actorUserId: admin.id, details: { ownerUserId: member.id } });
    const notAdmin = await app.inject({ method: 'DELETE', url: `/api/v1/tokens/${id}`, headers: memberSession });
    expect(notAdmin.statusCode).toBe(403);
  });

  it('lists expired tokens with their expiry, and never revoked ones', async () => {
    const expired = await ctx.deps.db.apiToken.create({
      data: {
        userId: member.id,
        name: 'utløpt',
        prefix: 'mkt_expired0',
        tokenHash: `expired-${member.id}`,
        scopes: ['read'],
        expiresAt: new Date(Date.now() - DAY_MS),
      },
    });
    const listed = (await listTokens(memberSession)).find((t) => t.id === expired.id);
    expect(listed?.expiresAt).toBe(expired.expiresAt?.toISOString());
  });
});

/**
 * Server-side sessions (src/services/sessions.ts) on a real database, with explicit clocks instead of waiting:
 * idle and absolute expiry, the coarse lastSeenAt touch, CSRF tokens, ending one or all sessions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  csrfTokenFor,
  csrfTokenMatches,
  endSession,
  endUserSessions,
  pruneExpiredSessions,
  resolveSession,
  sessionIdOf,
  startSession,
} from '../../src/services/sessions.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createUser, type TestUser } from '../helpers/factories.js';

const timeouts = { idleTimeoutMs: 30 * 60_000, absoluteTimeoutMs: 8 * 60 * 60_000 };
const minutes = (n: number) => n * 60_000;

let ctx: TestContext;
let user: TestUser;

beforeAll(async () => {
  ctx = await createTestContext();
  user = await createUser(ctx.deps.db, { organisationCode: 'UiO' });
});

afterAll(async () => {
  await ctx?.close();
});

const at = (start: Date, ms: number) => new Date(start.getTime() + ms);

describe('sessions', () => {
  it('stores only the hash of the cookie secret and resolves the secret to the user', async () => {
    const t0 = new Date();
    const started = await startSession(ctx.deps.db, { userId: user.id, idToken: 'id.token.value' }, timeouts, t0);
    expect(started.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(started.sessionId).toBe(sessionIdOf(started.secret));
    expect(started.expiresAt.getTime()).toBe(t0.getTime() + timeouts.absoluteTimeoutMs);
    expect(await ctx.deps.db.session.findUnique({ where: { id: started.secret } })).toBeNull();

    const resolved = await resolveSession(ctx.deps.db, started.secret, timeouts, at(t0, 1000));
    expect(resolved).toMatchObject({
      sessionId: started.sessionId,
      userId: user.id,
      actor: { kind: 'user', userId: user.id, isAdmin: false, organisationId: user.organisationId },
    });
    expect(resolved?.actor.kind === 'user' && resolved.actor.scopes).toEqual(['read', 'publish']);
  });

  it('refuses malformed and unknown secrets', async () => {
    expect(await resolveSession(ctx.deps.db, 'short', timeouts)).toBeNull();
    expect(await resolveSession(ctx.deps.db, 'x'.repeat(43), timeouts)).toBeNull();
  });

  it('ends a session left idle for the idle timeout, and deletes it', async () => {
    const t0 = new Date();
    const { secret, sessionId } = await startSession(ctx.deps.db, { userId: user.id }, timeouts, t0);
    expect(await resolveSession(ctx.deps.db, secret, timeouts, at(t0, timeouts.idleTimeoutMs - 1))).not.toBeNull();
    // That use touched lastSeenAt, so the idle clock restarted from there.
    const touched = at(t0, timeouts.idleTimeoutMs - 1);
    expect(await resolveSession(ctx.deps.db, secret, timeouts, at(touched, timeouts.idleTimeoutMs - 1))).not.toBeNull();
    const lastSeen = (await ctx.deps.db.session.findUniqueOrThrow({ where: { id: sessionId } })).lastSeenAt;
    expect(await resolveSession(ctx.deps.db, secret, timeouts, at(lastSeen, timeouts.idleTimeoutMs))).toBeNull();
    expect(await ctx.deps.db.session.findUnique({ where: { id: sessionId } })).toBeNull();
  });

  it('ends an active session at its absolute limit', async () => {
    const t0 = new Date();
    const { secret, sessionId } = await startSession(ctx.deps.db, { userId: user.id }, timeouts, t0);
    // Used every 20 minutes: never idle, but the absolute limit still ends it.
    let now = t0;
    while (now.getTime() + minutes(20) < t0.getTime() + timeouts.absoluteTimeoutMs) {
      now = at(now, minutes(20));
      expect(await resolveSession(ctx.deps.db, secret, timeouts, now)).not.toBeNull();
    }
    expect(await resolveSession(ctx.deps.db, secret, timeouts, at(t0, timeouts.absoluteTimeoutMs))).toBeNull();
    expect(await ctx.deps.db.session.findUnique({ where: { id: sessionId } })).toBeNull();
  });

  it('writes lastSeenAt at most once a minute', async () => {
    const t0 = new Date();
    const { secret, sessionId } = await startSession(ctx.deps.db, { userId: user.id }, timeouts, t0);
    const lastSeen = async () => (await ctx.deps.db.session.findUniqueOrThrow({ where: { id: sessionId } })).lastSeenAt;
    await resolveSession(ctx.deps.db, secret, timeouts, at(t0, 30_000));
    expect((await lastSeen()).getTime()).toBe(t0.getTime());
    await resolveSession(ctx.deps.db, secret, timeouts, at(t0, 61_000));
    expect((await lastSeen()).getTime()).toBe(t0.getTime() + 61_000);
  });

  it('derives a CSRF token per session and compares presented tokens exactly', async () => {
    const a = await startSession(ctx.deps.db, { userId: user.id }, timeouts);
    const b = await startSession(ctx.deps.db, { userId: user.id }, timeouts);
    const tokenA = (await resolveSession(ctx.deps.db, a.secret, timeouts))?.csrfToken as string;
    const tokenB = (await resolveSession(ctx.deps.db, b.secret, timeouts))?.csrfToken as string;
    expect(tokenA).not.toBe(tokenB);
    const row = await ctx.deps.db.session.findUniqueOrThrow({ where: { id: a.sessionId } });
    expect(csrfTokenFor(row.csrfSecret)).toBe(tokenA);
    expect(csrfTokenMatches(tokenA, tokenA)).toBe(true);
    expect(csrfTokenMatches(tokenA, tokenB)).toBe(false);
    expect(csrfTokenMatches(tokenA, `${tokenA}x`)).toBe(false);
    expect(csrfTokenMatches(tokenA, '')).toBe(false);
    expect(csrfTokenMatches(tokenA, undefined)).toBe(false);
  });

  it('ends one session, returning its id token for the provider, and all of a user', async () => {
    const other = await createUser(ctx.deps.db);
    const one = await startSession(ctx.deps.db, { userId: other.id, idToken: 'the-id-token' }, timeouts);
    await startSession(ctx.deps.db, { userId: other.id }, timeouts);
    await startSession(ctx.deps.db, { userId: other.id }, timeouts);
    expect(await endSession(ctx.deps.db, one.secret)).toEqual({ ended: true, idToken: 'the-id-token' });
    expect(await endSession(ctx.deps.db, one.secret)).toEqual({ ended: false, idToken: null });
    expect(await resolveSession(ctx.deps.db, one.secret, timeouts)).toBeNull();
    expect(await endUserSessions(ctx.deps.db, other.id)).toBe(2);
    expect(await ctx.deps.db.session.count({ where: { userId: other.id } })).toBe(0);
  });

  it('prunes sessions past their absolute limit', async () => {
    const t0 = new Date();
    const old = await startSession(ctx.deps.db, { userId: user.id }, timeouts, at(t0, -timeouts.absoluteTimeoutMs));
    const fresh = await startSession(ctx.deps.db, { userId: user.id }, timeouts, t0);
    expect(await pruneExpiredSessions(ctx.deps.db, t0)).toBeGreaterThanOrEqual(1);
    expect(await ctx.deps.db.session.findUnique({ where: { id: old.sessionId } })).toBeNull();
    expect(await ctx.deps.db.session.findUnique({ where: { id: fresh.sessionId } })).not.toBeNull();
  });

  it('reflects a change of rights at the next request (admin flag read from the user, not the session)', async () => {
    const promoted = await createUser(ctx.deps.db);
    const { secret } = await startSession(ctx.deps.db, { userId: promoted.id }, timeouts);
    expect((await resolveSession(ctx.deps.db, secret, timeouts))?.actor).toMatchObject({ isAdmin: false });
    await ctx.deps.db.user.update({ where: { id: promoted.id }, data: { isAdmin: true } });
    const actor = (await resolveSession(ctx.deps.db, secret, timeouts))?.actor;
    expect(actor).toMatchObject({ isAdmin: true, scopes: ['read', 'publish', 'admin'] });
  });
});

/**
 * The access re-check of open WebSockets (src/services/live-access.ts) on real PostgreSQL: which credentials are still
 * alive (the same rules as resolveSession and authenticateToken), which watched channels are no longer readable
 * (canReadChannel), and that a re-check of many sockets costs one query per table, not one per socket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/prisma.js';
import { findUnreadableChannels, type LiveCredential, resolveLiveCredentials } from '../../src/services/live-access.js';
import { startSession } from '../../src/services/sessions.js';
import { hashToken } from '../../src/services/tokens.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, grantRole, tokenFor } from '../helpers/factories.js';

let ctx: TestContext;
const HOUR = 3_600_000;
const timeouts = { idleTimeoutMs: HOUR, absoluteTimeoutMs: 10 * HOUR };

beforeAll(async () => {
  ctx = await createTestContext();
});

afterAll(async () => {
  await ctx?.close();
});

/** The database with a count of the queries made per model and method. */
function counting(db: Db): { db: Db; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const wrap = (model: 'session' | 'apiToken' | 'channel') =>
    new Proxy(db[model], {
      get(target, method: string) {
        const value = Reflect.get(target, method);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.set(`${model}.${method}`, (calls.get(`${model}.${method}`) ?? 0) + 1);
          return value.apply(target, args);
        };
      },
    });
  // Hand-written statements (queryRows) go through $queryRaw on a client without a pool of its own: counted too.
  const $queryRaw = (...args: Parameters<Db['$queryRaw']>) => {
    calls.set('$queryRaw', (calls.get('$queryRaw') ?? 0) + 1);
    return db.$queryRaw(...args);
  };
  const proxy = {
    session: wrap('session'),
    apiToken: wrap('apiToken'),
    channel: wrap('channel'),
    $queryRaw,
  } as unknown as Db;
  return { db: proxy, calls };
}

describe('resolveLiveCredentials', () => {
  it('finds the current actor of live sessions and tokens, and null for those that ended', async () => {
    const db = ctx.deps.db;
    const now = new Date();
    const member = await createUser(db, { organisationCode: 'UiB' });
    const admin = await createUser(db, { isAdmin: true });

    const live = await startSession(db, { userId: member.id }, timeouts, now);
    const idle = await startSession(db, { userId: member.id }, timeouts, new Date(now.getTime() - 2 * HOUR));
    const signedOut = await startSession(db, { userId: member.id }, timeouts, now);
    await db.session.delete({ where: { id: signedOut.sessionId } });

    const readOnly = await tokenFor(db, admin.id, { scopes: ['read'] });
    const revoked = await tokenFor(db, admin.id);
    await db.apiToken.updateMany({ where: { tokenHash: hashToken(revoked) }, data: { revokedAt: now } });
    const expiring = await tokenFor(db, admin.id, { expiresAt: new Date(now.getTime() + 60_000) });

    const credentials: LiveCredential[] = [
      { kind: 'anonymous' },
      { kind: 'session', sessionId: live.sessionId },
      { kind: 'session', sessionId: idle.sessionId },
      { kind: 'session', sessionId: signedOut.sessionId },
      { kind: 'token', tokenHash: hashToken(readOnly) },
      { kind: 'token', tokenHash: hashToken(revoked) },
      { kind: 'token', tokenHash: hashToken(expiring) },
      { kind: 'token', tokenHash: 'f'.repeat(64) },
    ];
    // A moment after the expiring token's expiry.
    const later = new Date(now.getTime() + 120_000);
    const actors = await resolveLiveCredentials(db, credentials, timeouts, later);

    expect(actors.get('anonymous')).toEqual({ kind: 'anonymous' });
    expect(actors.get(`session:${live.sessionId}`)).toEqual({
      kind: 'user',
      userId: member.id,
      isAdmin: false,
      organisationId: member.organisationId,
      scopes: ['read', 'publish'],
    });
    expect(actors.get(`session:${idle.sessionId}`)).toBeNull();
    expect(actors.get(`session:${signedOut.sessionId}`)).toBeNull();
    expect(actors.get(`token:${hashToken(readOnly)}`)).toMatchObject({ userId: admin.id, scopes: ['read'] });
    expect(actors.get(`token:${hashToken(revoked)}`)).toBeNull();
    expect(actors.get(`token:${hashToken(expiring)}`)).toBeNull();
    expect(actors.get(`token:${'f'.repeat(64)}`)).toBeNull();
    // A re-check neither refreshes nor deletes sessions: it is not a request.
    const untouched = await db.session.findUniqueOrThrow({ where: { id: live.sessionId } });
    expect(untouched.lastSeenAt.getTime()).toBe(now.getTime());
    expect(await db.session.count({ where: { id: idle.sessionId } })).toBe(1);
  });

  it('costs one query for all sessions and one for all tokens', async () => {
    const db = ctx.deps.db;
    const credentials: LiveCredential[] = [];
    for (let i = 0; i < 20; i++) {
      const user = await createUser(db);
      credentials.push({
        kind: 'session',
        sessionId: (await startSession(db, { userId: user.id }, timeouts)).sessionId,
      });
      credentials.push({ kind: 'token', tokenHash: hashToken(await tokenFor(db, user.id)) });
    }
    const counted = counting(db);
    const actors = await resolveLiveCredentials(counted.db, credentials, timeouts);
    expect([...actors.values()].every((actor) => actor?.kind === 'user')).toBe(true);
    // One statement for the sessions, one for the tokens.
    expect(Object.fromEntries(counted.calls)).toEqual({ $queryRaw: 2 });
  });
});

describe('findUnreadableChannels', () => {
  it("applies canReadChannel with each watcher's current role, in one query", async () => {
    const db = ctx.deps.db;
    const open = await createChannel(db, { visibility: 'public' });
    const staff = await createChannel(db, { visibility: 'internal' });
    const board = await createChannel(db, { visibility: 'restricted' });
    const gone = await createChannel(db, { visibility: 'public' });
    await db.channel.delete({ where: { id: gone.id } });
    const member = await createUser(db, { organisationCode: 'UiT' });
    const boardMember = await createUser(db);
    await grantRole(db, board.id, boardMember.id, 'publisher');
    const userActor = (user: { id: string; organisationId: string | null }) =>
      ({
        kind: 'user',
        userId: user.id,
        isAdmin: false,
        organisationId: user.organisationId,
        scopes: ['read', 'publish'],
      }) as const;
    const all = [open.id, staff.id, board.id, gone.id];

    const counted = counting(db);
    const result = await findUnreadableChannels(counted.db, [
      { actor: { kind: 'anonymous' }, channelIds: all },
      { actor: userActor(member), channelIds: all },
      { actor: userActor(boardMember), channelIds: all },
      { actor: { ...userActor(member), scopes: ['publish'] }, channelIds: [open.id, staff.id] },
      { actor: userActor(member), channelIds: [] },
    ]);
    expect(result.map((ids) => [...ids].sort())).toEqual([
      [staff.id, board.id, gone.id].sort(),
      [board.id, gone.id].sort(),
      // Outside every organisation: internal is not theirs, the board is.
      [staff.id, gone.id].sort(),
      // A token without the read scope reads public channels only.
      [staff.id],
      [],
    ]);
    expect(Object.fromEntries(counted.calls)).toEqual({ 'channel.findMany': 1 });
  });
});

/**
 * Server-side sign-in sessions. The browser holds only a random secret in a `__Host-` cookie (HttpOnly, Secure,
 * SameSite=Lax, Path=/); the database keeps its SHA-256 as the session id, so a database leak yields no usable
 * cookies. A session ends at sign-out, after SESSION_IDLE_TIMEOUT_MS without use, or SESSION_ABSOLUTE_TIMEOUT_MS after
 * sign-in, whichever comes first. Each sign-in makes a new session (a new id), never reusing one presented before.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../db/prisma.js';
import type { Actor } from '../domain/types.js';
import { allowedScopes } from './tokens.js';

/** The `__Host-` prefix makes browsers insist on Secure, Path=/ and no Domain, so no subdomain can plant or read it. */
export const SESSION_COOKIE = '__Host-mk_session';

/** lastSeenAt is written at most this often, so reads do not each cost a write; idle limits are far coarser. */
const TOUCH_RESOLUTION_MS = 60_000;

export interface SessionTimeouts {
  idleTimeoutMs: number;
  absoluteTimeoutMs: number;
}

export interface StartedSession {
  /** The cookie value. Shown to the browser once; only its hash is stored. */
  secret: string;
  sessionId: string;
  expiresAt: Date;
}

export interface ResolvedSession {
  sessionId: string;
  userId: string;
  actor: Actor;
  /** Token to echo in `x-csrf-token` on state-changing requests made with this session. */
  csrfToken: string;
  expiresAt: Date;
}

export function sessionIdOf(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Starts a new session for a user who has just signed in. */
export async function startSession(
  db: Db,
  input: { userId: string; idToken?: string | null },
  timeouts: SessionTimeouts,
  now = new Date(),
): Promise<StartedSession> {
  const secret = randomBytes(32).toString('base64url');
  const sessionId = sessionIdOf(secret);
  const expiresAt = new Date(now.getTime() + timeouts.absoluteTimeoutMs);
  await db.session.create({
    data: {
      id: sessionId,
      userId: input.userId,
      csrfSecret: randomBytes(32).toString('base64url'),
      idToken: input.idToken ?? null,
      createdAt: now,
      lastSeenAt: now,
      expiresAt,
    },
  });
  return { secret, sessionId, expiresAt };
}

/**
 * The live session behind a cookie value, or null when there is none (unknown, ended, idle or past its absolute
 * limit). An expired session is deleted on sight.
 */
export async function resolveSession(
  db: Db,
  secret: string,
  timeouts: SessionTimeouts,
  now = new Date(),
): Promise<ResolvedSession | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(secret)) return null;
  const sessionId = sessionIdOf(secret);
  const session = await db.session.findUnique({ where: { id: sessionId }, include: { user: true } });
  if (!session) return null;
  const idleSince = now.getTime() - session.lastSeenAt.getTime();
  if (session.expiresAt.getTime() <= now.getTime() || idleSince >= timeouts.idleTimeoutMs) {
    await db.session.deleteMany({ where: { id: sessionId } });
    return null;
  }
  if (idleSince > TOUCH_RESOLUTION_MS) {
    await db.session.updateMany({ where: { id: sessionId }, data: { lastSeenAt: now } });
  }
  const { user } = session;
  return {
    sessionId,
    userId: user.id,
    actor: {
      kind: 'user',
      userId: user.id,
      isAdmin: user.isAdmin,
      organisationId: user.organisationId,
      // A person in the browser acts with all of their own rights; tokens are what narrow scopes.
      scopes: allowedScopes(user),
    },
    csrfToken: csrfTokenFor(session.csrfSecret),
    expiresAt: session.expiresAt,
  };
}

/** Ends one session. Returns its id token (for the provider's end-session endpoint), or null when there was none. */
export async function endSession(db: Db, secret: string): Promise<{ ended: boolean; idToken: string | null }> {
  const sessionId = sessionIdOf(secret);
  const session = await db.session.findUnique({ where: { id: sessionId }, select: { idToken: true } });
  const { count } = await db.session.deleteMany({ where: { id: sessionId } });
  return { ended: count > 0, idToken: session?.idToken ?? null };
}

/** Ends every session of a user (account deletion, admin action). Returns how many ended. */
export async function endUserSessions(db: Db, userId: string): Promise<number> {
  const { count } = await db.session.deleteMany({ where: { userId } });
  return count;
}

/** Removes sessions past their absolute limit (housekeeping; resolveSession already refuses them). */
export async function pruneExpiredSessions(db: Db, now = new Date()): Promise<number> {
  const { count } = await db.session.deleteMany({ where: { expiresAt: { lte: now } } });
  return count;
}

/** The CSRF token of a session: derived from its secret, so it needs no storage of its own and dies with it. */
export function csrfTokenFor(csrfSecret: string): string {
  return createHmac('sha256', csrfSecret).update('meldingskanal-csrf-v1').digest('base64url');
}

/** Constant-time comparison of a presented CSRF token with the session's. */
export function csrfTokenMatches(expected: string, presented: string | undefined): boolean {
  if (!presented) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

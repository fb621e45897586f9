/**
 * Sign-in and sign-out with OpenID Connect: the use cases behind /auth/login, /auth/callback and /auth/logout.
 *
 * 1. `beginSignIn` makes state, nonce and PKCE verifier, stores them as a pending OidcLogin (the state only as its
 *    SHA-256: the row is looked up by it, and a database reader cannot finish someone's sign-in) and returns the
 *    provider's authorisation URL. The route also binds the state to the browser (a short-lived cookie), so a
 *    callback URL made for one browser cannot sign in another (login CSRF).
 * 2. `completeSignIn` consumes the pending login exactly once (DELETE … RETURNING: a replayed callback finds nothing),
 *    lets openid-client validate the response and ID token, then finds the account by (issuer, sub) only — creating
 *    it on first sign-in — refreshes its attributes (name, Feide user id, organisation from the id's realm, e-mail)
 *    and starts a new session.
 * 3. `signOut` ends the session and returns the provider's end-session URL, when it has one.
 *
 * Admin rights and channel roles never come from claims; they are granted inside the service.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { newAuthorizationSecrets, type OidcClient, OidcValidationError } from '../auth/oidc.js';
import type { Db } from '../db/prisma.js';
import { isUniqueViolation } from '../db/prisma-errors.js';
import { AppError, isAppError } from '../domain/errors.js';
import { identityFromClaims, realmOf, type SignInIdentity, safeReturnTo } from '../domain/identity.js';
import { type Actor, ANONYMOUS } from '../domain/types.js';
import type { AnnounceAccessChange } from '../realtime/access-hints.js';
import { recordAudit } from './audit.js';
import { endSession, type SessionTimeouts, type StartedSession, startSession } from './sessions.js';
import { allowedScopes } from './tokens.js';

/** How long a person has to finish signing in at the provider. */
export const SIGN_IN_TTL_MS = 10 * 60_000;

export interface SignInDeps {
  db: Db;
  oidc: OidcClient;
  sessions: SessionTimeouts;
}

export function stateHashOf(state: string): string {
  return createHash('sha256').update(state).digest('hex');
}

export interface BegunSignIn {
  authorizationUrl: string;
  /** To bind to the browser (cookie); the callback must present the same value. */
  state: string;
  expiresAt: Date;
}

/** Starts a sign-in. `returnTo` is kept only when it is a path on this site; anything else becomes `/`. */
export async function beginSignIn(
  deps: Pick<SignInDeps, 'db' | 'oidc'>,
  returnTo: unknown,
  now = new Date(),
): Promise<BegunSignIn> {
  const secrets = await newAuthorizationSecrets();
  // First, so that a provider that is down costs no row.
  const authorizationUrl = await deps.oidc.authorizationUrl(secrets);
  const expiresAt = new Date(now.getTime() + SIGN_IN_TTL_MS);
  // Housekeeping: abandoned sign-ins go here, on the indexed expiresAt, instead of in a scheduler.
  await deps.db.oidcLogin.deleteMany({ where: { expiresAt: { lte: now } } });
  await deps.db.oidcLogin.create({
    data: {
      stateHash: stateHashOf(secrets.state),
      nonce: secrets.nonce,
      codeVerifier: secrets.codeVerifier,
      returnTo: safeReturnTo(returnTo),
      createdAt: now,
      expiresAt,
    },
  });
  return { authorizationUrl: authorizationUrl.href, state: secrets.state, expiresAt };
}

/** Why a sign-in failed. Safe to log and audit; never shown in detail to the browser. */
export type SignInFailureReason =
  | 'missing_state'
  | 'state_not_bound_to_browser'
  | 'unknown_or_used_state'
  | 'expired'
  | 'invalid_claims'
  | string;

/** A sign-in that must not go through. The page the person sees says only that it failed. */
export class SignInFailed extends AppError {
  constructor(readonly reason: SignInFailureReason) {
    super('validation_failed', 'The sign-in could not be completed', { reason });
    this.name = 'SignInFailed';
  }
}

interface PendingLogin {
  nonce: string;
  codeVerifier: string;
  returnTo: string;
  expiresAt: Date;
}

/** Takes a pending sign-in out of the table: whoever deletes it owns it, so it can be used once. */
async function consumePendingLogin(db: Db, state: string): Promise<PendingLogin | null> {
  const rows = await db.$queryRaw<PendingLogin[]>`
    DELETE FROM "OidcLogin" WHERE "stateHash" = ${stateHashOf(state)}
    RETURNING "nonce", "codeVerifier", "returnTo", "expiresAt"`;
  return rows[0] ?? null;
}

export interface CompletedSignIn {
  userId: string;
  session: StartedSession;
  returnTo: string;
}

/**
 * Finishes a sign-in at the callback. `callbackUrl` is the redirect URL with the provider's query parameters;
 * `browserState` is the state the browser was given at the start (its cookie). Throws SignInFailed (no session is
 * made), or AppError('service_unavailable') when the provider cannot be reached.
 */
export async function completeSignIn(
  deps: SignInDeps,
  input: { callbackUrl: URL; browserState: string | undefined; requestId?: string },
  now = new Date(),
): Promise<CompletedSignIn> {
  try {
    const state = input.callbackUrl.searchParams.get('state');
    if (!state) throw new SignInFailed('missing_state');
    // A callback whose state this browser was not given is someone else's sign-in (or a forgery): refuse it and
    // leave the pending login alone for its real owner.
    if (!input.browserState || !constantTimeEqual(input.browserState, state)) {
      throw new SignInFailed('state_not_bound_to_browser');
    }
    const pending = await consumePendingLogin(deps.db, state);
    if (!pending) throw new SignInFailed('unknown_or_used_state');
    if (pending.expiresAt.getTime() <= now.getTime()) throw new SignInFailed('expired');

    let validated: Awaited<ReturnType<OidcClient['completeAuthorization']>>;
    try {
      validated = await deps.oidc.completeAuthorization(input.callbackUrl, {
        state,
        nonce: pending.nonce,
        codeVerifier: pending.codeVerifier,
      });
    } catch (error) {
      if (error instanceof OidcValidationError) throw new SignInFailed(error.reason);
      throw error;
    }

    let identity: SignInIdentity;
    try {
      identity = identityFromClaims(validated.claims);
    } catch {
      throw new SignInFailed('invalid_claims');
    }
    const user = await upsertSignedInUser(deps.db, identity, now);
    const session = await startSession(deps.db, { userId: user.id, idToken: validated.idToken }, deps.sessions, now);
    await recordAudit(deps.db, {
      actor: actorOf(user),
      action: 'session.sign_in',
      outcome: 'success',
      targetType: 'user',
      targetId: user.id,
      ...(input.requestId ? { requestId: input.requestId } : {}),
      details: { organisation: user.organisationCode, memberOfOrganisation: user.organisationId !== null },
    });
    return { userId: user.id, session, returnTo: pending.returnTo };
  } catch (error) {
    if (error instanceof SignInFailed) {
      await recordAudit(deps.db, {
        // Whoever was at the browser is not known: the sign-in failed.
        actor: ANONYMOUS,
        action: 'session.sign_in',
        outcome: 'failure',
        ...(input.requestId ? { requestId: input.requestId } : {}),
        details: { reason: error.reason },
      });
    }
    throw error;
  }
}

function constantTimeEqual(a: string, b: string): boolean {
  // Hashing first gives equal lengths, so the comparison time says nothing about where the strings differ.
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export interface SignedInUser {
  id: string;
  isAdmin: boolean;
  organisationId: string | null;
  organisationCode: string | null;
}

function actorOf(user: SignedInUser): Actor {
  return {
    kind: 'user',
    userId: user.id,
    isAdmin: user.isAdmin,
    organisationId: user.organisationId,
    scopes: allowedScopes(user),
  };
}

/** The member organisation with this realm (`uio.no`, matched case-insensitively), or null. */
export async function organisationForRealm(db: Db, realm: string): Promise<{ id: string; code: string } | null> {
  return db.organisation.findFirst({
    where: { realm: { equals: realm, mode: 'insensitive' } },
    select: { id: true, code: true },
  });
}

/** The member organisation of a Feide user id's realm, or null: an outside-realm user. */
async function organisationForPrincipal(
  db: Db,
  principalName: string | null,
): Promise<{ id: string; code: string } | null> {
  const realm = principalName ? realmOf(principalName) : null;
  return realm ? organisationForRealm(db, realm) : null;
}

/**
 * Finds the account of (issuer, subject), creating it on first sign-in, and refreshes its attributes. Never looks
 * an account up by e-mail or Feide user id. An `email` that already belongs to another account is not taken from
 * it: this account stores none (the unique address stays with its owner, and nothing links the two).
 */
export async function upsertSignedInUser(db: Db, identity: SignInIdentity, now = new Date()): Promise<SignedInUser> {
  const organisation = await organisationForPrincipal(db, identity.principalName);
  const key = { oidcIssuer_oidcSubject: { oidcIssuer: identity.issuer, oidcSubject: identity.subject } };
  // Two attempts: a concurrent first sign-in of the same person, or someone taking the address between our check
  // and our write, shows up as a unique violation; the second attempt sees the winner's row.
  for (let attempt = 1; ; attempt++) {
    const existing = await db.user.findUnique({ where: key, select: { id: true } });
    let email: string | null | undefined = identity.email;
    if (email !== undefined) {
      const holder = await db.user.findFirst({
        where: { email: { equals: email, mode: 'insensitive' }, ...(existing ? { NOT: { id: existing.id } } : {}) },
        select: { id: true },
      });
      if (holder) email = null;
    }
    const attributes = {
      principalName: identity.principalName,
      organisationId: organisation?.id ?? null,
      lastLoginAt: now,
      ...(email !== undefined ? { email } : {}),
      ...(identity.displayName ? { displayName: identity.displayName } : {}),
    };
    try {
      const row = existing
        ? await db.user.update({ where: { id: existing.id }, data: attributes, select: { id: true, isAdmin: true } })
        : await db.user.create({
            data: {
              ...attributes,
              oidcIssuer: identity.issuer,
              oidcSubject: identity.subject,
              displayName: identity.displayName ?? identity.principalName ?? 'Innlogget bruker',
            },
            select: { id: true, isAdmin: true },
          });
      return {
        id: row.id,
        isAdmin: row.isAdmin,
        organisationId: organisation?.id ?? null,
        organisationCode: organisation?.code ?? null,
      };
    } catch (error) {
      if (attempt >= 3 || !isUniqueViolation(error)) throw error;
    }
  }
}

/**
 * Ends the session behind a cookie value and says where the browser goes next: the provider's end-session endpoint
 * (with `id_token_hint`, so the provider knows whom to sign out, and our post-logout URL), or `/` when the provider
 * has none or cannot be reached — the local session is over either way.
 */
export async function signOut(
  deps: { db: Db; oidc: OidcClient | null; announceAccessChange?: AnnounceAccessChange },
  input: { secret: string | undefined; actor: Actor; requestId?: string },
): Promise<{ ended: boolean; redirectTo: string }> {
  if (!input.secret) return { ended: false, redirectTo: '/' };
  const { ended, idToken } = await endSession(deps.db, input.secret);
  if (!ended) return { ended: false, redirectTo: '/' };
  // Live connections opened with this session close now rather than at their next periodic re-check.
  if (input.actor.kind === 'user') await deps.announceAccessChange?.({ userId: input.actor.userId });
  await recordAudit(deps.db, {
    actor: input.actor,
    action: 'session.sign_out',
    outcome: 'success',
    ...(input.actor.kind === 'user' ? { targetType: 'user', targetId: input.actor.userId } : {}),
    ...(input.requestId ? { requestId: input.requestId } : {}),
  });
  if (!deps.oidc) return { ended, redirectTo: '/' };
  try {
    const url = await deps.oidc.endSessionUrl(idToken);
    return { ended, redirectTo: url?.href ?? '/' };
  } catch (error) {
    if (isAppError(error) && error.code === 'service_unavailable') return { ended, redirectTo: '/' };
    throw error;
  }
}

export interface CurrentUser {
  id: string;
  displayName: string;
  principalName: string | null;
  organisationCode: string | null;
  isAdmin: boolean;
}

/** The authenticated caller's own account (GET /api/v1/me). */
export async function currentUser(db: Db, actor: Actor): Promise<CurrentUser> {
  if (actor.kind !== 'user') {
    throw new AppError('unauthenticated', 'This needs a signed-in user or a bearer token');
  }
  const user = await db.user.findUnique({
    where: { id: actor.userId },
    select: {
      id: true,
      displayName: true,
      principalName: true,
      isAdmin: true,
      organisation: { select: { code: true } },
    },
  });
  // Deleted between authentication and here: the credential no longer names anyone.
  if (!user) throw new AppError('unauthenticated', 'The account behind this credential no longer exists');
  return {
    id: user.id,
    displayName: user.displayName,
    principalName: user.principalName,
    organisationCode: user.organisation?.code ?? null,
    isAdmin: user.isAdmin,
  };
}

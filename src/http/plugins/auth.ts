/**
 * Authentication → `request.actor`, from one of:
 * - `Authorization: Bearer <api token>` (automation). A header that does not resolve to a live token is a 401, never
 *   a silent downgrade to anonymous, so a client with a revoked or mistyped token learns so at once.
 * - the session cookie (people in a browser; src/services/sessions.ts). An unknown or ended session is simply
 *   anonymous (and the stale cookie is cleared): a browser that was signed out must still read public channels.
 * - neither: the anonymous actor.
 * A bearer header wins over a cookie. `request.session` is set only for session-authenticated requests: CSRF checks
 * apply to exactly those. Authorisation is not decided here: services apply src/domain/access.ts to the actor.
 */
import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Db } from '../../db/prisma.js';
import { AppError } from '../../domain/errors.js';
import { type Actor, ANONYMOUS } from '../../domain/types.js';
import { type ResolvedSession, resolveSession, SESSION_COOKIE, type SessionTimeouts } from '../../services/sessions.js';
import { authenticateToken } from '../../services/tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Who is asking. Set by the auth plugin's onRequest hook before any handler or later hook runs (the decorator's
     * default is null only so that Fastify can shape request objects up front).
     */
    actor: Actor;
    /** How the actor was authenticated. */
    authMethod: 'anonymous' | 'token' | 'session';
    /** The sign-in session, for session-authenticated requests only (null otherwise). */
    session: ResolvedSession | null;
  }
}

export interface AuthPluginOptions {
  db: Db;
  sessions: SessionTimeouts;
}

/** Cookie attributes of the session cookie; `__Host-` requires Secure, Path=/ and no Domain. */
export const SESSION_COOKIE_OPTIONS = { httpOnly: true, secure: true, sameSite: 'lax', path: '/' } as const;

export function setSessionCookie(reply: FastifyReply, secret: string, expiresAt: Date): void {
  reply.setCookie(SESSION_COOKIE, secret, { ...SESSION_COOKIE_OPTIONS, expires: expiresAt });
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, SESSION_COOKIE_OPTIONS);
}

/**
 * Reads a Bearer credential: undefined without an Authorization header, null when the header is not
 * `Bearer <token>` (another scheme, or no token).
 */
export function bearerToken(header: string | undefined): string | null | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  return match?.[1] ?? null;
}

/** A preHandler for routes that need a signed-in actor: anonymous requests get 401 before any work is done. */
export async function requireAuthenticated(request: FastifyRequest): Promise<void> {
  if (request.actor.kind === 'anonymous') {
    throw new AppError(
      'unauthenticated',
      'This needs a signed-in user or a bearer token (Authorization: Bearer <token>)',
    );
  }
}

async function authPlugin(app: FastifyInstance, options: AuthPluginOptions): Promise<void> {
  // Fastify 5 forbids reference-type defaults (they would be shared by every request): null here, the actor per
  // request in the hook below. (The empty dependency list selects the overload that accepts null.)
  app.decorateRequest('actor', null, []);
  app.decorateRequest('authMethod', 'anonymous');
  app.decorateRequest('session', null, []);
  await app.register(fastifyCookie);

  // A callback hook with a fast path: a request with neither an Authorization header nor a session cookie (feed
  // readers, widgets, most page views) is anonymous at once, without a promise; any credential goes the async way.
  app.addHook('onRequest', (request, reply, done) => {
    if (request.headers.authorization === undefined && request.cookies[SESSION_COOKIE] === undefined) {
      request.session = null;
      request.actor = ANONYMOUS;
      request.authMethod = 'anonymous';
      return done();
    }
    authenticate(request, reply).then(() => done(), done);
  });

  async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    request.session = null;
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) {
      const secret = request.cookies[SESSION_COOKIE];
      const session = secret ? await resolveSession(options.db, secret, options.sessions) : null;
      if (secret && !session) clearSessionCookie(reply);
      request.actor = session?.actor ?? ANONYMOUS;
      request.authMethod = session ? 'session' : 'anonymous';
      request.session = session;
      return;
    }
    if (token === null) {
      reply.header('www-authenticate', 'Bearer error="invalid_request"');
      throw new AppError('unauthenticated', 'The Authorization header must be "Bearer <token>"');
    }
    const actor = await authenticateToken(options.db, token);
    if (!actor) {
      reply.header('www-authenticate', 'Bearer error="invalid_token"');
      throw new AppError('unauthenticated', 'The bearer token is not valid (unknown, revoked or expired)');
    }
    request.actor = actor;
    request.authMethod = 'token';
  }
}

export default fp(authPlugin, { name: 'meldingskanal-auth', fastify: '5.x' });

/**
 * Sign-in with OpenID Connect and the signed-in user:
 * - `GET /auth/login?returnTo=/path` → 302 to the provider. The sign-in's `state` is also put in a short-lived
 *   `__Host-` cookie, and the callback must come back to the same browser with the same state.
 * - `GET /auth/callback` → 302 to `returnTo` with a new session cookie; any failure (the provider's error, a state
 *   this browser did not start, a replay, an ID token that fails validation…) is a 400 page that says only that the
 *   sign-in failed, in bokmål and English, and makes no session.
 * - `POST /auth/logout` → ends the session, clears the cookie, 303 to the provider's end-session endpoint (or `/`).
 *   `GET /auth/logout` only shows a button that POSTs: a GET never signs anyone out (link prefetchers, images).
 * - `GET /api/v1/me` → the caller's account (session or API token), with the CSRF token for session callers.
 *
 * The OpenID client is built here from the configuration and discovers the provider in the background when the app
 * is ready; when the provider is down, sign-in answers 503 until it is back, and nothing else is affected. Without
 * OIDC_ISSUER (an API built outside the launcher, which starts the development provider) sign-in is "not set up".
 */
import type {} from '@fastify/swagger';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createOidcClient, type OidcClient, oidcClientSettings } from '../../auth/oidc.js';
import { isAppError } from '../../domain/errors.js';
import { type AccessHint, announceAccessChange as announceAccessChangeHint } from '../../realtime/access-hints.js';
import { endSession, SESSION_COOKIE } from '../../services/sessions.js';
import {
  beginSignIn,
  completeSignIn,
  currentUser,
  SIGN_IN_TTL_MS,
  SignInFailed,
  signOut,
} from '../../services/sign-in.js';
import { buildPageContext, findViewer, type PageDeps } from '../../web/context.js';
import { type SignInProblem, SignInProblemPage, SignOutPage } from '../../web/pages/sign-in.js';
import { renderDocument } from '../../web/render.js';
import type { AppDeps } from '../app.js';
import { clearSessionCookie, requireAuthenticated, setSessionCookie } from '../plugins/auth.js';
import { sensitiveRouteLimit } from '../plugins/rate-limit.js';
import { POLICY } from '../policy.js';
import { BEARER_REQUIRED, errorResponses } from '../schemas/common.js';
import { Me } from '../schemas/me.js';

export interface AuthRouteOptions {
  deps: Pick<AppDeps, 'config' | 'db' | 'redis'>;
  /** The page frame's assets and site facts (its pages: src/web/pages/sign-in.tsx). */
  web: Omit<PageDeps, 'db'>;
}

/** Binds a sign-in in progress to the browser that started it. `__Host-`: Secure, Path=/, no Domain. */
export const SIGN_IN_COOKIE = '__Host-mk_signin';
const SIGN_IN_COOKIE_OPTIONS = { httpOnly: true, secure: true, sameSite: 'lax', path: '/' } as const;

export const LOGIN_PATH = '/auth/login';
export const CALLBACK_PATH = '/auth/callback';
export const LOGOUT_PATH = '/auth/logout';

const FORM_BODY_LIMIT = 4 * 1024;

type ProblemKind = SignInProblem;

const PROBLEM_STATUS: Record<ProblemKind, number> = { failed: 400, unavailable: 503, not_configured: 503 };

/**
 * Headers of these pages. Their own CSP (it replaces the app-wide one): this site's style sheet and scripts only;
 * forms post here, or — the sign-out form, whose answer redirects to the provider's end-session endpoint — to the
 * provider's origin (browsers apply form-action to the redirect too). The callback's address carries a one-time
 * code: kept out of caches and Referer headers.
 */
function pageHeaders(reply: FastifyReply, formTargets: readonly string[] = []): FastifyReply {
  return reply
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .header(
      'content-security-policy',
      "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; font-src 'self'; " +
        `form-action ${["'self'", ...formTargets].join(' ')}; frame-ancestors 'none'; base-uri 'none'`,
    );
}

/** The redirect URL as registered, with this request's query (the provider's parameters) on it. */
function callbackUrlOf(redirectUrl: string, request: FastifyRequest): URL {
  const url = new URL(redirectUrl);
  const raw = request.raw.url ?? '';
  const query = raw.indexOf('?');
  url.search = query === -1 ? '' : raw.slice(query);
  url.hash = '';
  return url;
}

export const authRoutes: FastifyPluginAsyncTypebox<AuthRouteOptions> = async (app, { deps, web }) => {
  const { config, db } = deps;
  /** A page in the reader's language, with the signed-in viewer's frame (src/web/pages/sign-in.tsx). */
  const contextOf = async (request: FastifyRequest) =>
    buildPageContext(request, await findViewer(db, request).catch(() => null), web);
  const sendProblem = async (reply: FastifyReply, request: FastifyRequest, kind: ProblemKind) => {
    const ctx = await contextOf(request);
    return pageHeaders(reply)
      .code(PROBLEM_STATUS[kind])
      .send(renderDocument(SignInProblemPage({ ctx, problem: kind, requestId: request.id })));
  };
  // Ending a session re-checks that user's live connections in every API process at once.
  const announceAccessChange = (hint: AccessHint) => announceAccessChangeHint(deps.redis, config.redis.prefix, hint);
  // Throws for an unsafe configuration (http:// issuer outside development): the app must not start like that.
  const oidc: OidcClient | null = config.oidc.issuer ? createOidcClient(oidcClientSettings(config)) : null;
  const signInDeps = oidc ? { db, oidc, sessions: config.session } : null;

  if (oidc) {
    app.addHook('onReady', async () => {
      // Not awaited: a provider that is down must not hold the API back. The first sign-in retries.
      oidc.discover().then(
        () => app.log.info({ issuer: oidc.issuer }, 'OpenID provider discovered'),
        (error: unknown) =>
          app.log.warn({ issuer: oidc.issuer, err: error }, 'OpenID provider discovery failed; sign-in retries it'),
      );
    });
  }

  // The sign-out form posts urlencoded; only this plugin's routes accept it.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );

  // Its own, tighter rate limit: each start writes a pending sign-in row and costs a round trip to the provider.
  const loginConfig = { policy: POLICY.public, rateLimit: sensitiveRouteLimit(config) };
  app.get(LOGIN_PATH, { config: loginConfig, schema: { hide: true } }, async (request, reply) => {
    if (!signInDeps) return sendProblem(reply, request, 'not_configured');
    const returnTo = (request.query as Record<string, unknown> | undefined)?.returnTo;
    try {
      const begun = await beginSignIn(signInDeps, returnTo);
      reply.setCookie(SIGN_IN_COOKIE, begun.state, { ...SIGN_IN_COOKIE_OPTIONS, maxAge: SIGN_IN_TTL_MS / 1000 });
      return reply.header('cache-control', 'no-store').redirect(begun.authorizationUrl, 302);
    } catch (error) {
      if (isAppError(error) && error.code === 'service_unavailable') {
        request.log.warn({ err: error }, 'sign-in provider unavailable');
        return sendProblem(reply, request, 'unavailable');
      }
      throw error;
    }
  });

  app.get(CALLBACK_PATH, { config: { policy: POLICY.public }, schema: { hide: true } }, async (request, reply) => {
    if (!signInDeps) return sendProblem(reply, request, 'not_configured');
    // Whatever happens next, this sign-in attempt is over.
    reply.clearCookie(SIGN_IN_COOKIE, SIGN_IN_COOKIE_OPTIONS);
    try {
      const completed = await completeSignIn(signInDeps, {
        callbackUrl: callbackUrlOf(config.oidc.redirectUrl, request),
        browserState: request.cookies[SIGN_IN_COOKIE],
        requestId: request.id,
      });
      // A session this browser had before (another account, or the same) ends: every sign-in gets a new id.
      const previous = request.cookies[SESSION_COOKIE];
      if (previous) {
        const { ended } = await endSession(db, previous);
        if (ended && request.session) await announceAccessChange({ userId: request.session.userId });
      }
      setSessionCookie(reply, completed.session.secret, completed.session.expiresAt);
      request.log.info({ userId: completed.userId }, 'signed in');
      return reply.header('cache-control', 'no-store').redirect(completed.returnTo, 302);
    } catch (error) {
      if (error instanceof SignInFailed) {
        request.log.warn({ reason: error.reason }, 'sign-in failed');
        return sendProblem(reply, request, 'failed');
      }
      if (isAppError(error) && error.code === 'service_unavailable') {
        request.log.warn({ err: error }, 'sign-in provider unavailable at the callback');
        return sendProblem(reply, request, 'unavailable');
      }
      throw error;
    }
  });

  const signOutFormTargets = oidc ? [new URL(oidc.issuer).origin] : [];
  app.get(LOGOUT_PATH, { config: { policy: POLICY.public }, schema: { hide: true } }, async (request, reply) => {
    const ctx = await contextOf(request);
    return pageHeaders(reply, signOutFormTargets).send(renderDocument(SignOutPage({ ctx })));
  });

  app.post(LOGOUT_PATH, { config: { policy: POLICY.public }, schema: { hide: true } }, async (request, reply) => {
    const { redirectTo } = await signOut(
      { db, oidc, announceAccessChange },
      { secret: request.cookies[SESSION_COOKIE], actor: request.actor, requestId: request.id },
    );
    clearSessionCookie(reply);
    return reply.header('cache-control', 'no-store').redirect(redirectTo, 303);
  });

  app.get(
    '/api/v1/me',
    {
      config: { policy: POLICY.self },
      preHandler: requireAuthenticated,
      schema: {
        tags: ['me'],
        operationId: 'getMe',
        summary: 'The signed-in user',
        description:
          'The account behind the session cookie or API token. Session callers also get the CSRF token their ' +
          'state-changing requests must carry.',
        security: BEARER_REQUIRED,
        response: { 200: Me, ...errorResponses() },
      },
    },
    async (request) => {
      const user = await currentUser(db, request.actor);
      return {
        ...user,
        authMethod: request.authMethod === 'session' ? ('session' as const) : ('token' as const),
        ...(request.session ? { csrfToken: request.session.csrfToken } : {}),
      };
    },
  );
};

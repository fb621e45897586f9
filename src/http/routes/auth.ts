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
import { createHash } from 'node:crypto';
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
import type { AppDeps } from '../app.js';
import { clearSessionCookie, requireAuthenticated, setSessionCookie } from '../plugins/auth.js';
import { CSRF_FORM_FIELD } from '../plugins/csrf.js';
import { sensitiveRouteLimit } from '../plugins/rate-limit.js';
import { POLICY } from '../policy.js';
import { BEARER_REQUIRED, errorResponses } from '../schemas/common.js';
import { Me } from '../schemas/me.js';

export interface AuthRouteOptions {
  deps: Pick<AppDeps, 'config' | 'db' | 'redis'>;
}

/** Binds a sign-in in progress to the browser that started it. `__Host-`: Secure, Path=/, no Domain. */
export const SIGN_IN_COOKIE = '__Host-mk_signin';
const SIGN_IN_COOKIE_OPTIONS = { httpOnly: true, secure: true, sameSite: 'lax', path: '/' } as const;

export const LOGIN_PATH = '/auth/login';
export const CALLBACK_PATH = '/auth/callback';
export const LOGOUT_PATH = '/auth/logout';

const FORM_BODY_LIMIT = 4 * 1024;

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

type ProblemKind = 'failed' | 'unavailable' | 'not_configured';

const PROBLEMS: Record<ProblemKind, { status: number; nb: [string, string]; en: [string, string] }> = {
  failed: {
    status: 400,
    nb: ['Innloggingen mislyktes', 'Vi kunne ikke fullføre innloggingen. Du er ikke logget inn. Prøv igjen.'],
    en: ['Sign-in failed', 'We could not complete the sign-in. You are not signed in. Please try again.'],
  },
  unavailable: {
    status: 503,
    nb: ['Innloggingen er utilgjengelig', 'Innloggingstjenesten svarer ikke akkurat nå. Prøv igjen om litt.'],
    en: ['Sign-in is unavailable', 'The sign-in service is not answering right now. Please try again shortly.'],
  },
  not_configured: {
    status: 503,
    nb: ['Innlogging er ikke satt opp', 'Denne installasjonen har ingen innloggingstjeneste konfigurert.'],
    en: ['Sign-in is not set up', 'This installation has no sign-in provider configured.'],
  },
};

const PAGE_STYLE = `
      body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; color: #1a1a1a; }
      a { color: #0b5394; }
      a:focus-visible, button:focus-visible { outline: 3px solid #0b5394; outline-offset: 2px; }
      button { font: inherit; padding: 0.5rem 1rem; }
      .reference { font-size: 0.9rem; color: #555; }
    `;
/** The pages' one stylesheet is fixed, so the CSP names it by hash: no 'unsafe-inline', no per-response nonce. */
const PAGE_STYLE_HASH = `'sha256-${createHash('sha256').update(PAGE_STYLE).digest('base64')}'`;

/**
 * Headers of these pages. Their own strict CSP (it replaces the app-wide one): nothing loads but the stylesheet
 * above; forms post here, or — the sign-out form, whose answer redirects to the provider's end-session endpoint — to
 * the provider's origin (browsers apply form-action to the redirect too).
 */
function pageHeaders(reply: FastifyReply, formTargets: readonly string[] = []): FastifyReply {
  return (
    reply
      .type('text/html; charset=utf-8')
      // The callback's address carries a one-time code: keep it out of caches and Referer headers.
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'no-referrer')
      .header(
        'content-security-policy',
        `default-src 'none'; style-src ${PAGE_STYLE_HASH}; form-action ${["'self'", ...formTargets].join(' ')}; ` +
          "frame-ancestors 'none'; base-uri 'none'",
      )
  );
}

function page(title: string, main: string): string {
  return `<!doctype html>
<html lang="nb">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>${escapeHtml(title)} – Meldingskanal</title>
    <style>${PAGE_STYLE}</style>
  </head>
  <body>
    <main>
${main}
    </main>
  </body>
</html>
`;
}

/** A problem page: what happened and what to do, nothing about why (no codes, no claim values). */
export function renderProblemPage(kind: ProblemKind, requestId: string): string {
  const { nb, en } = PROBLEMS[kind];
  const retry = kind === 'not_configured' ? '' : `\n      <p><a href="${LOGIN_PATH}">Prøv å logge inn igjen</a></p>`;
  return page(
    nb[0],
    `      <h1>${escapeHtml(nb[0])}</h1>
      <p>${escapeHtml(nb[1])}</p>
      <section lang="en">
        <h2>${escapeHtml(en[0])}</h2>
        <p>${escapeHtml(en[1])}</p>
      </section>${retry}
      <p><a href="/">Til forsiden <span lang="en">(home)</span></a></p>
      <p class="reference">Referanse <span lang="en">(reference)</span>: <code>${escapeHtml(requestId)}</code></p>`,
  );
}

/** GET /auth/logout: a confirmation with a button, so that only a deliberate POST signs out. */
export function renderSignOutPage(csrfToken: string | null): string {
  const csrf = csrfToken
    ? `\n        <input type="hidden" name="${CSRF_FORM_FIELD}" value="${escapeHtml(csrfToken)}">`
    : '';
  return page(
    'Logg ut',
    `      <h1>Logg ut</h1>
      <p>Vil du logge ut av Meldingskanal? <span lang="en">Sign out of Meldingskanal?</span></p>
      <form method="post" action="${LOGOUT_PATH}">${csrf}
        <button type="submit">Logg ut <span lang="en">(sign out)</span></button>
      </form>
      <p><a href="/">Avbryt <span lang="en">(cancel)</span></a></p>`,
  );
}

function sendProblem(reply: FastifyReply, request: FastifyRequest, kind: ProblemKind): FastifyReply {
  return pageHeaders(reply).code(PROBLEMS[kind].status).send(renderProblemPage(kind, request.id));
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

export const authRoutes: FastifyPluginAsyncTypebox<AuthRouteOptions> = async (app, { deps }) => {
  const { config, db } = deps;
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
  app.get(LOGOUT_PATH, { config: { policy: POLICY.public }, schema: { hide: true } }, async (request, reply) =>
    pageHeaders(reply, signOutFormTargets).send(renderSignOutPage(request.session?.csrfToken ?? null)),
  );

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

/**
 * CSRF protection for cookie-authenticated state changes.
 *
 * The session cookie is an ambient credential: the browser attaches it to any request to this site, including a
 * form another site's page submits (SameSite=Lax stops most cross-site POSTs, but not those from sibling
 * subdomains, which are same-site, nor every older browser). So a SESSION-authenticated request with an unsafe method
 * (POST, PUT, PATCH, DELETE) must show two things, or it is refused with 403 `csrf_failed` before validation and
 * before the handler:
 *
 * 1. the session's CSRF token, in the `x-csrf-token` header (scripts; the token comes from `GET /api/v1/me`), or in
 *    an `_csrf` form field (plain HTML forms) — compared in constant time. Another site can make the browser send a
 *    request, but cannot read the token: reading `/api/v1/me` needs the cookie, and CORS never grants credentials.
 * 2. that it comes from our own pages: `Sec-Fetch-Site: same-origin` (or `none`: typed by the person) when the browser
 *    sends that header; otherwise an `Origin` (else `Referer`) that is PUBLIC_URL's origin or a WIDGET_ORIGINS entry.
 *    Defence in depth, should a token ever leak.
 *
 * Exempt: safe methods (they never change state here); requests with a bearer token or none (no ambient credential
 * to abuse — the auth plugin lets a bearer header win over the cookie); and routes that declare `config.csrf: false`
 * because their authority is something other than the caller's cookie, such as the signed token of the RFC 8058
 * one-click unsubscribe, which mail clients POST without any cookie.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../../domain/errors.js';
import { csrfTokenMatches } from '../../services/sessions.js';

/** Header that carries the session's CSRF token. */
export const CSRF_HEADER = 'x-csrf-token';
/** Form field that carries it in HTML forms (removed from the body once checked, so schemas need not allow it). */
export const CSRF_FORM_FIELD = '_csrf';

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * `false` exempts the route from CSRF checks. Only for routes whose authority is not the caller's session cookie
     * (a signed link token, for example); say why next to it. `'multipart'`: the route reads a multipart form as it
     * streams in and checks its `_csrf` field itself with {@link csrfRefusal} before reading anything after it (the
     * hook runs before such a body is read, so it cannot).
     */
    csrf?: false | 'multipart';
  }
}

export interface CsrfPluginOptions {
  /** config.allowedOrigins: PUBLIC_URL's origin and WIDGET_ORIGINS. */
  allowedOrigins: readonly string[];
}

/**
 * Whether the request comes from an acceptable page, by the headers browsers set themselves (pages cannot forge
 * them): null when it does, otherwise why not.
 */
export function originProblem(
  headers: FastifyRequest['headers'],
  allowedOrigins: ReadonlySet<string> | readonly string[],
): string | null {
  const allowed = allowedOrigins instanceof Set ? allowedOrigins : new Set(allowedOrigins as readonly string[]);
  const fetchSite = single(headers['sec-fetch-site']);
  if (fetchSite !== undefined) {
    return fetchSite === 'same-origin' || fetchSite === 'none'
      ? null
      : `the request came from another site (Sec-Fetch-Site: ${fetchSite})`;
  }
  const origin = single(headers.origin);
  if (origin !== undefined) {
    return allowed.has(origin) ? null : `the request came from another origin (${origin})`;
  }
  const referer = single(headers.referer);
  if (referer !== undefined) {
    let refererOrigin: string | undefined;
    try {
      refererOrigin = new URL(referer).origin;
    } catch {
      refererOrigin = undefined;
    }
    return refererOrigin !== undefined && allowed.has(refererOrigin)
      ? null
      : 'the request came from another origin (Referer)';
  }
  return 'the request carries neither Sec-Fetch-Site, Origin nor Referer, so its origin cannot be checked';
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Whether the body is multipart/form-data (by its Content-Type; the body itself is not read yet). */
export function isMultipartRequest(request: FastifyRequest): boolean {
  const type = single(request.headers['content-type']);
  return type !== undefined && /^multipart\/form-data\s*(;|$)/i.test(type.trim());
}

function presentedToken(request: FastifyRequest): string | undefined {
  const header = single(request.headers[CSRF_HEADER]);
  if (header !== undefined) return header;
  const body = request.body;
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const field = (body as Record<string, unknown>)[CSRF_FORM_FIELD];
    if (typeof field === 'string') return field;
  }
  return undefined;
}

/**
 * The CSRF check of one session-authenticated request, given the token it presents: null when it passes, else the
 * error to refuse it with. The plugin's hook calls this for every unsafe request; a route whose body the hook cannot
 * read yet (a multipart form, read as it streams in: src/http/multipart-form.ts) calls it as soon as its `_csrf`
 * field has arrived, before it reads anything else.
 */
export function csrfRefusal(
  request: FastifyRequest,
  token: string | undefined,
  allowedOrigins: ReadonlySet<string>,
): AppError | null {
  if (request.authMethod !== 'session' || !request.session) return null;
  if (!csrfTokenMatches(request.session.csrfToken, token)) {
    return new AppError(
      'csrf_failed',
      `A signed-in browser request that changes something must carry the session's CSRF token in the ` +
        `${CSRF_HEADER} header (or an ${CSRF_FORM_FIELD} form field); get it from GET /api/v1/me`,
    );
  }
  const problem = originProblem(request.headers, allowedOrigins);
  if (problem) return new AppError('csrf_failed', `Refused as a possible cross-site request: ${problem}`);
  return null;
}

async function csrfPlugin(app: FastifyInstance, options: CsrfPluginOptions): Promise<void> {
  const allowedOrigins = new Set(options.allowedOrigins);

  // preValidation: the body is parsed (a form's `_csrf` field is readable) but not yet validated or acted on.
  // A callback hook: the check never waits, and an async hook would cost every request a promise.
  app.addHook('preValidation', (request, _reply, done) => {
    if (request.authMethod !== 'session' || !request.session) return done();
    if (!UNSAFE_METHODS.has(request.method)) return done();
    if (request.routeOptions.config?.csrf === false) return done();
    // Such a route checks a multipart body itself as it reads it; any other body of it is checked here as usual.
    if (request.routeOptions.config?.csrf === 'multipart' && isMultipartRequest(request)) return done();

    const refusal = csrfRefusal(request, presentedToken(request), allowedOrigins);
    if (refusal) return done(refusal);

    const body = request.body as Record<string, unknown> | null | undefined;
    if (body && typeof body === 'object' && CSRF_FORM_FIELD in body) delete body[CSRF_FORM_FIELD];
    done();
  });
}

export default fp(csrfPlugin, {
  name: 'meldingskanal-csrf',
  fastify: '5.x',
  // request.authMethod and request.session come from the auth plugin.
  dependencies: ['meldingskanal-auth'],
});

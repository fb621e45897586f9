/**
 * Driving the web app's pages in tests as a browser would, without a browser: a signed-in session (the real session
 * service, as sign-in makes it), requests that ask for HTML, and form posts that carry the CSRF token and the
 * same-origin header browsers send. Browser tests (tests/e2e) sign in through the real provider instead.
 */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Db } from '../../src/db/prisma.js';
import { csrfTokenFor, SESSION_COOKIE, startSession } from '../../src/services/sessions.js';

export interface BrowserSession {
  userId: string;
  /** The Cookie header value. */
  cookie: string;
  csrfToken: string;
}

/** A signed-in browser session for an existing user. */
export async function browserSession(db: Db, userId: string): Promise<BrowserSession> {
  const started = await startSession(db, { userId }, { idleTimeoutMs: 3_600_000, absoluteTimeoutMs: 36_000_000 });
  const row = await db.session.findUniqueOrThrow({ where: { id: started.sessionId }, select: { csrfSecret: true } });
  return { userId, cookie: `${SESSION_COOKIE}=${started.secret}`, csrfToken: csrfTokenFor(row.csrfSecret) };
}

/** GET a page as a browser: Accept prefers HTML; with a session, its cookie; `cookies` adds more (mk_lang=nn). */
export function getPage(
  app: FastifyInstance,
  url: string,
  options: { session?: BrowserSession; cookies?: string[]; headers?: Record<string, string> } = {},
): Promise<LightMyRequestResponse> {
  const cookies = [...(options.session ? [options.session.cookie] : []), ...(options.cookies ?? [])];
  return app.inject({
    method: 'GET',
    url,
    headers: {
      accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8',
      ...(cookies.length ? { cookie: cookies.join('; ') } : {}),
      ...options.headers,
    },
  });
}

/**
 * POST a form as a browser from one of our pages: urlencoded, same-origin, with the session's CSRF token when
 * signed in. `fields` values may repeat (checkbox groups) as arrays.
 */
export function postForm(
  app: FastifyInstance,
  url: string,
  fields: Record<string, string | readonly string[]>,
  options: { session?: BrowserSession; cookies?: string[]; headers?: Record<string, string> } = {},
): Promise<LightMyRequestResponse> {
  const body = new URLSearchParams();
  if (options.session) body.append('_csrf', options.session.csrfToken);
  for (const [name, value] of Object.entries(fields)) {
    for (const v of typeof value === 'string' ? [value] : value) body.append(name, v);
  }
  const cookies = [...(options.session ? [options.session.cookie] : []), ...(options.cookies ?? [])];
  const request: InjectOptions = {
    method: 'POST',
    url,
    headers: {
      accept: 'text/html,*/*;q=0.8',
      'content-type': 'application/x-www-form-urlencoded',
      'sec-fetch-site': 'same-origin',
      ...(cookies.length ? { cookie: cookies.join('; ') } : {}),
      ...options.headers,
    },
    payload: body.toString(),
  };
  return app.inject(request);
}

/**
 * The people-facing web app's shared machinery (the pages themselves are in src/http/routes/web/):
 *
 * - the built assets (dist/web, src/web/assets.ts), loaded once and served at /assets/<fingerprinted name> from
 *   memory, pre-compressed, with `Cache-Control: public, max-age=31536000, immutable` (a new build has new names).
 *   Module scripts are fetched in CORS mode, so a page on a WIDGET_ORIGINS origin that loads the widget gets
 *   `Access-Control-Allow-Origin` for its origin;
 * - `app.pageContext(request)`: the reader's language and words, the signed-in viewer, the assets (src/web/context.ts);
 * - `POST /language`: remembers a language choice (a cookie; for a signed-in person also their language setting);
 * - `errorPages`: the error handler and the not-found handler (src/http/plugins/errors.ts) send people an HTML page
 *   in their language instead of JSON — for page routes (`config.page: true`) and for unknown addresses a browser
 *   asks for as HTML. An anonymous visitor who needs to sign in for a page is sent to sign-in and back.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../../config.js';
import type { Db } from '../../db/prisma.js';
import { ERROR_STATUS, type ErrorCode } from '../../domain/errors.js';
import { LANGUAGES, type Language } from '../../domain/types.js';
import { ASSETS_PATH, preferredEncoding, type WebAssets } from '../../web/assets.js';
import {
  buildPageContext,
  findViewer,
  LANGUAGE_COOKIE,
  type PageContext,
  pageContext,
  siteInfo,
} from '../../web/context.js';
import { ErrorPage } from '../../web/pages/error.js';
import { safeReturnPath, WEB_PATHS } from '../../web/paths.js';
import { sendPage } from '../../web/render.js';
import { acceptFormBodies, formString } from '../form-body.js';
import { POLICY } from '../policy.js';

declare module 'fastify' {
  interface FastifyInstance {
    webAssets: WebAssets;
    /** The context pages are rendered with, for this request (one query when signed in, none otherwise). */
    pageContext(request: FastifyRequest): Promise<PageContext>;
  }
  interface FastifyContextConfig {
    /** A people-facing page: its errors are sent as HTML pages in the reader's language, not as JSON. */
    page?: true;
  }
}

/** How the error handlers hand a failure to the web app (see src/http/plugins/errors.ts). */
export interface ErrorPages {
  /** Whether this request should get an HTML error page rather than the JSON error body. */
  wants(request: FastifyRequest, routeFound: boolean): boolean;
  send(request: FastifyRequest, reply: FastifyReply, code: ErrorCode, message: string | undefined): Promise<unknown>;
}

export interface WebDeps {
  config: Config;
  db: Db;
}

/** A year, the longest `max-age` caches honour; fingerprinted names make it safe. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** Language choices are small forms. */
const LANGUAGE_FORM_LIMIT = 4 * 1024;

/** The browser asked for a page: it prefers HTML to JSON (curl, fetch and API clients send other Accept headers). */
export function acceptsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return /\btext\/html\b/.test(accept) && !/^application\/(?:[\w.+-]*\+)?json\b/.test(accept);
}

/** Paths whose clients are programs: their errors stay JSON even when a browser opens them. */
const MACHINE_PREFIXES = ['/api/', '/feeds/', '/assets/'];

/**
 * The error-page side of the web app, made before the error handler is registered (buildApp passes it to the
 * errors plugin); it renders with the same context as pages.
 */
export function createErrorPages(deps: WebDeps, assets: WebAssets): ErrorPages {
  const site = siteInfo(deps.config);
  return {
    wants(request, routeFound) {
      if (routeFound) return request.routeOptions.config?.page === true;
      const path = request.url.split('?', 1)[0] ?? '';
      return acceptsHtml(request) && !MACHINE_PREFIXES.some((prefix) => path.startsWith(prefix));
    },
    async send(request, reply, code, message) {
      // The viewer is looked up for the frame; with the database away the page is rendered for an anonymous visitor.
      const viewer = await findViewer(deps.db, request).catch(() => null);
      const ctx = buildPageContext(request, viewer, { assets, site });
      if (code === 'unauthenticated' && request.method === 'GET' && site.signInAvailable && !ctx.viewer) {
        return reply.header('cache-control', 'no-store').redirect(WEB_PATHS.signIn(request.url), 303);
      }
      const status = ERROR_STATUS[code];
      return sendPage(
        reply,
        ctx,
        ErrorPage({ ctx, code, message: status < 500 ? message : undefined, requestId: request.id }),
        { status },
      );
    },
  };
}

async function webPlugin(app: FastifyInstance, options: WebDeps & { assets: WebAssets }): Promise<void> {
  const { db, config, assets } = options;
  const site = siteInfo(config);
  const allowedOrigins = new Set(config.allowedOrigins);
  app.decorate('webAssets', assets);
  app.decorate('pageContext', (request: FastifyRequest) => pageContext(request, { db, assets, site }));

  app.get(`${ASSETS_PATH}/*`, { config: { policy: POLICY.public }, schema: { hide: true } }, async (request, reply) => {
    const name = (request.params as { '*': string })['*'];
    const file = assets.file(name);
    if (!file) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
    const origin = request.headers.origin;
    if (origin && allowedOrigins.has(origin)) {
      reply.header('access-control-allow-origin', origin).header('cross-origin-resource-policy', 'cross-origin');
    }
    reply
      .header('cache-control', IMMUTABLE)
      .header('etag', file.etag)
      .header('vary', 'Accept-Encoding, Origin')
      .type(file.contentType);
    if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
    const encoding = preferredEncoding(request.headers['accept-encoding']);
    if (encoding !== 'identity') reply.header('content-encoding', encoding);
    return reply.send(file.bodies[encoding]);
  });

  await app.register(async (forms) => {
    acceptFormBodies(forms, LANGUAGE_FORM_LIMIT);
    forms.post(
      WEB_PATHS.language,
      { config: { policy: POLICY.public, page: true }, schema: { hide: true } },
      async (request, reply) => {
        const chosen = formString(request.body, 'lang');
        const returnTo = safeReturnPath(formString(request.body, 'returnTo'));
        if (!chosen || !(LANGUAGES as readonly string[]).includes(chosen)) return reply.redirect(returnTo, 303);
        const language = chosen as Language;
        reply.setCookie(LANGUAGE_COOKIE, language, {
          path: '/',
          maxAge: 365 * 24 * 3600,
          sameSite: 'lax',
          httpOnly: true,
          secure: config.http.publicUrl.startsWith('https:'),
        });
        // A signed-in person's choice follows them to other devices and to the live feed (User.language).
        if (request.authMethod === 'session' && request.actor.kind === 'user') {
          await db.user.updateMany({ where: { id: request.actor.userId }, data: { language } });
        }
        return reply.header('cache-control', 'no-store').redirect(returnTo, 303);
      },
    );
  });
}

export default fp(webPlugin, {
  name: 'meldingskanal-web',
  fastify: '5.x',
  // request.actor/session come from the auth plugin; cookies from @fastify/cookie, which it registers.
  dependencies: ['meldingskanal-auth'],
});

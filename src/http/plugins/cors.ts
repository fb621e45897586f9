/**
 * CORS for the embeddable widget: pages on WIDGET_ORIGINS (and PUBLIC_URL's own origin) may read the public read
 * endpoints from the browser — GET/HEAD of channels and announcements — and nothing else.
 *
 * - Never with credentials: `Access-Control-Allow-Credentials` is never sent, so a browser never lets another
 *   origin read a response made with the visitor's session cookie (it would show internal channels). A widget
 *   therefore reads as anonymous: public channels only, like the feeds.
 * - Never reflected blindly: an origin is echoed in `Access-Control-Allow-Origin` only when it is on the list;
 *   others get no CORS headers at all (and `Vary: Origin`, so caches keep the answers apart).
 * - Request headers are a fixed list (no `Authorization`: an API token in a page's script would be a leaked token).
 * - Preflights are answered here, before authentication and rate limits, and cached by browsers for
 *   PREFLIGHT_MAX_AGE_SECONDS.
 *
 * To open another read endpoint to widgets (feeds, say), add its path to WIDGET_READABLE_PATHS.
 *
 * One write is open to widgets too: the e-mail subscription form (POST /api/v1/channels/{slug}/email-subscriptions,
 * src/http/routes/email-subscriptions.ts), which anyone may call without credentials and which answers the same
 * whatever the address's state. Also without credentials, with Content-Type as its one extra request header.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

/** Paths (without the query) that widget origins may read with GET or HEAD. */
export const WIDGET_READABLE_PATHS: readonly RegExp[] = [
  /^\/api\/v1\/channels\/?$/,
  /^\/api\/v1\/channels\/[^/]+\/?$/,
  /^\/api\/v1\/channels\/[^/]+\/announcements\/?$/,
  /^\/api\/v1\/announcements\/[^/]+\/?$/,
  // Public feeds only: a personal feed's URL is a secret, and no page of another origin needs to read it.
  /^\/feeds\/channels\/[^/]+\.(?:rss|atom|json)$/,
  /^\/feeds\/public\.(?:rss|atom|json)$/,
];

/**
 * The live event stream (GET /api/v1/live/sse), for widgets whose WebSocket fails. Its own request headers:
 * EventSource sends `Last-Event-ID` when it reconnects (and some polyfills `Cache-Control`), which are not
 * CORS-safelisted. Without credentials like every widget read: from another origin it reads public channels only (or
 * with a ticket). The WebSocket needs no CORS: the live plugin checks its `Origin` itself.
 */
export const WIDGET_LIVE_PATH = /^\/api\/v1\/live\/sse\/?$/;

/** The one write widgets may make: asking for a public channel's announcements by e-mail. */
export const WIDGET_SUBSCRIBE_PATH = /^\/api\/v1\/channels\/[^/]+\/email-subscriptions\/?$/;

/** Chrome caps the preflight cache at 2 hours; longer values are cut to that anyway. */
export const PREFLIGHT_MAX_AGE_SECONDS = 7200;

const READ_METHODS = ['GET', 'HEAD'];

export interface CorsPluginOptions {
  /** config.allowedOrigins: PUBLIC_URL's origin and WIDGET_ORIGINS. */
  allowedOrigins: readonly string[];
}

/** Whether a request (or the request a preflight announces) is a widget read. */
export function isWidgetRead(request: Pick<FastifyRequest, 'method' | 'url' | 'headers'>): boolean {
  const announced = request.headers['access-control-request-method'];
  const method = request.method === 'OPTIONS' && typeof announced === 'string' ? announced : request.method;
  if (!READ_METHODS.includes(method.toUpperCase())) return false;
  const path = request.url.split('?')[0] ?? '';
  return WIDGET_READABLE_PATHS.some((pattern) => pattern.test(path));
}

/** Whether a request (or the request a preflight announces) opens the live event stream. */
export function isWidgetLive(request: Pick<FastifyRequest, 'method' | 'url' | 'headers'>): boolean {
  const announced = request.headers['access-control-request-method'];
  const method = request.method === 'OPTIONS' && typeof announced === 'string' ? announced : request.method;
  return method.toUpperCase() === 'GET' && WIDGET_LIVE_PATH.test(request.url.split('?')[0] ?? '');
}

/** Whether a request (or the request a preflight announces) is a widget's e-mail subscription. */
export function isWidgetSubscribe(request: Pick<FastifyRequest, 'method' | 'url' | 'headers'>): boolean {
  const announced = request.headers['access-control-request-method'];
  const method = request.method === 'OPTIONS' && typeof announced === 'string' ? announced : request.method;
  return method.toUpperCase() === 'POST' && WIDGET_SUBSCRIBE_PATH.test(request.url.split('?')[0] ?? '');
}

/** What one kind of cross-origin request may do: its preflight's answer. */
interface CorsRule {
  methods: string;
  allowedHeaders: string;
}

const WIDGET_READ: CorsRule = { methods: READ_METHODS.join(', '), allowedHeaders: 'Accept, Accept-Language' };
const WIDGET_SUBSCRIBE: CorsRule = { methods: 'POST', allowedHeaders: 'Accept, Accept-Language, Content-Type' };
const WIDGET_LIVE: CorsRule = {
  methods: 'GET',
  allowedHeaders: 'Accept, Accept-Language, Last-Event-ID, Cache-Control',
};
/** Response headers a widget's script may read. */
const EXPOSED_HEADERS = 'x-request-id, retry-after';

function ruleFor(request: FastifyRequest): CorsRule | undefined {
  if (isWidgetRead(request)) return WIDGET_READ;
  if (isWidgetLive(request)) return WIDGET_LIVE;
  if (isWidgetSubscribe(request)) return WIDGET_SUBSCRIBE;
  return undefined;
}

/** Adds `Origin` to Vary unless it (or `*`) is there already. */
function varyByOrigin(reply: FastifyReply): void {
  const vary = reply.getHeader('vary');
  if (vary === undefined || vary === '') {
    reply.header('vary', 'Origin');
    return;
  }
  const present = (Array.isArray(vary) ? vary.join(',') : String(vary))
    .split(',')
    .map((name) => name.trim().toLowerCase());
  if (!present.includes('origin') && !present.includes('*')) reply.header('vary', `${String(vary)}, Origin`);
}

/**
 * One onRequest hook (what @fastify/cors did with a delegator, whose options it rebuilt and merged for every request:
 * a measurable part of a cached feed's 304). A request without an Origin header is no CORS request, so it gets only
 * `Vary: Origin` — caches must keep it apart from the answers that carry CORS headers — and nothing else is looked
 * at; preflights (OPTIONS) are always checked, and one without Origin or Access-Control-Request-Method is refused
 * with 400 as before.
 */
async function corsPlugin(app: FastifyInstance, options: CorsPluginOptions): Promise<void> {
  // Exact strings: an origin is echoed only when it is one of these.
  const allowed = new Set(options.allowedOrigins);
  app.decorateRequest('corsPreflightEnabled', false);
  app.addHook('onRequest', (request, reply, done) => {
    varyByOrigin(reply);
    const origin = request.headers.origin;
    const preflight = request.method === 'OPTIONS';
    if (origin === undefined && !preflight) return done();
    const rule = ruleFor(request);
    if (!rule) return done();
    if (origin !== undefined && allowed.has(origin)) reply.header('access-control-allow-origin', origin);
    reply.header('access-control-expose-headers', EXPOSED_HEADERS);
    if (!preflight) return done();
    if (!origin || !request.headers['access-control-request-method']) {
      reply.code(400).type('text/plain').send('Invalid Preflight Request');
      return;
    }
    request.corsPreflightEnabled = true;
    // Answered here, before rate limits and authentication: a browser's preflight carries no credentials.
    reply
      .header('access-control-allow-methods', rule.methods)
      .header('access-control-allow-headers', rule.allowedHeaders)
      .header('access-control-max-age', String(PREFLIGHT_MAX_AGE_SECONDS))
      .code(204)
      .header('content-length', '0')
      .send();
  });
  // Lets Fastify accept preflights at all; they are answered in the hook above, others are 404 as for any path.
  app.options('*', { schema: { hide: true } }, (request, reply) => {
    if (!request.corsPreflightEnabled) return reply.callNotFound();
    return reply.send();
  });
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the CORS hook on a preflight it answers. */
    corsPreflightEnabled: boolean;
  }
}

export default fp(corsPlugin, { name: 'meldingskanal-cors', fastify: '5.x' });

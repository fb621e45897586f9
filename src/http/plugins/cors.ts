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
import cors, { type FastifyCorsOptions } from '@fastify/cors';
import type { FastifyInstance, FastifyRequest } from 'fastify';
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

async function corsPlugin(app: FastifyInstance, options: CorsPluginOptions): Promise<void> {
  const widgetRead: FastifyCorsOptions = {
    // A list: @fastify/cors echoes the request's Origin only when it is one of these exact strings.
    origin: [...options.allowedOrigins],
    credentials: false,
    methods: READ_METHODS,
    allowedHeaders: ['Accept', 'Accept-Language'],
    exposedHeaders: ['x-request-id', 'retry-after'],
    maxAge: PREFLIGHT_MAX_AGE_SECONDS,
  };
  const widgetSubscribe: FastifyCorsOptions = {
    ...widgetRead,
    methods: ['POST'],
    allowedHeaders: ['Accept', 'Accept-Language', 'Content-Type'],
  };
  const widgetLive: FastifyCorsOptions = {
    ...widgetRead,
    methods: ['GET'],
    allowedHeaders: ['Accept', 'Accept-Language', 'Last-Event-ID', 'Cache-Control'],
  };
  const optionsFor = (request: FastifyRequest): FastifyCorsOptions => {
    if (isWidgetRead(request)) return widgetRead;
    if (isWidgetLive(request)) return widgetLive;
    if (isWidgetSubscribe(request)) return widgetSubscribe;
    return { origin: false };
  };
  await app.register(cors, {
    hideOptionsRoute: true,
    delegator: (request, callback) => callback(null, optionsFor(request)),
  });
}

export default fp(corsPlugin, { name: 'meldingskanal-cors', fastify: '5.x' });

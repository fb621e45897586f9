/**
 * Builds the Fastify application from its dependencies, without listening. The entry point (src/main.ts) and the
 * tests call this same function; there are no test-only branches. Plugins are registered explicitly, in this order:
 * cross-cutting (errors, auth, OpenAPI) → operational endpoints → API routes → live updates.
 */

import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import type { TrustProxy } from '../config.js';
import type { Deps } from '../deps.js';
import { type DestinationStream, loggerOptions, scrubbingDestination } from '../logger.js';
import { resolveUnsubscribeKey } from '../mail/unsubscribe-token.js';
import { type AccessHint, announceAccessChange as announceAccessChangeHint } from '../realtime/access-hints.js';
import { announceReaderChange as announceReaderChangeOn, type ReaderChange } from '../realtime/reader-changes.js';
import { loadWebAssets } from '../web/assets.js';
import { siteInfo } from '../web/context.js';
import auditPlugin from './plugins/audit.js';
import authPlugin from './plugins/auth.js';
import corsPlugin from './plugins/cors.js';
import csrfPlugin from './plugins/csrf.js';
import errorsPlugin from './plugins/errors.js';
import healthPlugin from './plugins/health.js';
import inputHygienePlugin, { frameworkErrorHandler } from './plugins/input-hygiene.js';
import livePlugin from './plugins/live.js';
import metricsPlugin from './plugins/metrics.js';
import openApiPlugin, { DOCS_PATH } from './plugins/openapi.js';
import rateLimitPlugin from './plugins/rate-limit.js';
import readCachePlugin from './plugins/read-cache.js';
import securityHeadersPlugin from './plugins/security-headers.js';
import webPlugin, { createErrorPages } from './plugins/web.js';
import policyPlugin, { POLICY } from './policy.js';
import { RequestLogController } from './request-log.js';
import { acknowledgementRoutes } from './routes/acknowledgements.js';
import { adminQueueRoutes } from './routes/admin-queues.js';
import { announcementRoutes } from './routes/announcements.js';
import { attachmentRoutes } from './routes/attachments.js';
import { auditRoutes } from './routes/audit.js';
import { authRoutes } from './routes/auth.js';
import { channelSettingsRoutes } from './routes/channel-settings.js';
import { channelRoutes } from './routes/channels.js';
import { deliveryRoutes } from './routes/deliveries.js';
import { confirmationRoutes, emailSubscriptionRoutes } from './routes/email-subscriptions.js';
import { feedTokenRoutes } from './routes/feed-tokens.js';
import { feedRoutes } from './routes/feeds.js';
import { organisationRoutes } from './routes/organisations.js';
import { personalDataRoutes } from './routes/personal-data.js';
import { pushRoutes, serviceWorkerRoute } from './routes/push.js';
import { readingRoutes } from './routes/reading.js';
import { searchRoutes } from './routes/search.js';
import { subscriptionRoutes } from './routes/subscriptions.js';
import { tokenRoutes } from './routes/tokens.js';
import { unsubscribeRoutes } from './routes/unsubscribe.js';
import { webPageRoutes } from './routes/web/index.js';
import { webhookRoutes } from './routes/webhooks.js';
import { requestValidation } from './validation.js';

export type AppDeps = Pick<Deps, 'config' | 'db' | 'redis' | 'queues'>;

export interface BuildAppOptions {
  /** Pass false to silence request logs (the logger level comes from the configuration otherwise). */
  logger?: boolean;
  /** Where log lines go (standard output by default); every line passes the logger's e-mail and token filter. */
  logDestination?: DestinationStream;
}

/** Largest request body accepted anywhere (413 above it); attachment uploads set their own (ATTACHMENT_MAX_BYTES). */
export const BODY_LIMIT_BYTES = 1024 * 1024;

/** Largest JSON body accepted by API v1 routes (413 above it). */
export const API_BODY_LIMIT_BYTES = 256 * 1024;

/** Fastify wants a mutable array (or a boolean). */
function trustProxyOption(trustProxy: TrustProxy): boolean | string[] {
  return typeof trustProxy === 'boolean' ? trustProxy : [...trustProxy];
}

/** How long app.close() lets connections finish before it cuts those with no response in flight. */
export const CONNECTION_CLOSE_GRACE_MS = 3000;

/**
 * Bounds app.close() by CONNECTION_CLOSE_GRACE_MS instead of by the clients' patience. Node's server.close() ends the
 * keep-alive connections idle at that moment and then waits for every other one to end. Connections Node no longer
 * tracks as idle — seen in tests/http/authorisation-matrix.test.ts: two dozen sockets that carried no request the
 * server still saw, after live handshakes and event streams had been refused or abandoned — held app.close() for over
 * a minute. After the grace, a connection with a response still being written is left to finish (and to the
 * shutdown deadline in src/main.ts); any other is destroyed.
 */
function boundClose(app: FastifyInstance): void {
  const open = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  app.addHook('preClose', async () => {
    const timer = setTimeout(() => {
      for (const socket of open) {
        const response = (socket as Socket & { _httpMessage?: { writableFinished: boolean } })._httpMessage;
        if (!response || response.writableFinished) socket.destroy();
      }
    }, CONNECTION_CLOSE_GRACE_MS);
    timer.unref();
    app.server.once('close', () => clearTimeout(timer));
  });
}

export async function buildApp(deps: AppDeps, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger:
      options.logger === false
        ? false
        : { ...loggerOptions(deps.config.logLevel, 'api'), stream: scrubbingDestination(options.logDestination) },
    bodyLimit: BODY_LIMIT_BYTES,
    // An attachment's download address ends in its percent-encoded name (up to 200 characters, up to 12 each when
    // encoded); the default 100 would answer long names 404. Route schemas still bound every parameter.
    routerOptions: { maxParamLength: 2500 },
    // Which proxies' X-Forwarded-For to believe (TRUST_PROXY), so request.ip (rate limits, logs) is the client's.
    trustProxy: trustProxyOption(deps.config.http.trustProxy),
    // Honour a caller's request id (a gateway's) when it looks sane; otherwise make one.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID();
    },
    logController: new RequestLogController(),
    schemaController: requestValidation(),
    // A path that is not valid UTF-8 once percent-decoded (or too long) is refused before routing: in our error shape.
    frameworkErrors: frameworkErrorHandler,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // A callback hook, not an async one: an async hook costs a promise and a microtask turn on every response.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    done(null, payload);
  });
  boundClose(app);

  // -- registrations (in order). Each line registers one plugin; plugins own their resources (onClose). --
  // 0. route policies, FIRST: its onRoute hook refuses (app start fails) any route added later without a policy.
  //    Swagger UI registers its pages and static files itself and takes no route config: they are public docs.
  //    The CORS plugin adds an `OPTIONS *` route for preflights (answered in its hook, before authentication): public.
  await app.register(policyPlugin, {
    byPrefix: [
      { prefix: DOCS_PATH, policy: POLICY.public },
      { prefix: '*', policy: POLICY.public },
    ],
  });
  // 1. cross-cutting: error handler, rate limits (before authentication: floods stop before any lookup),
  //    authentication, OpenAPI document and docs
  // The web app's built assets (dist/web), read once; its error pages are what people get instead of JSON errors.
  const webAssets = loadWebAssets();
  await app.register(errorsPlugin, { pages: createErrorPages(deps, webAssets) });
  // Denied attempts at privileged routes (401/403) go into the audit log, from this one onError hook.
  await app.register(auditPlugin, { db: deps.db });
  // Browser-facing protections: security headers on every response (errors and 429s too); CORS for widget reads,
  // answering preflights before rate limits and authentication; CSRF checks once the session is known.
  await app.register(securityHeadersPlugin, { config: deps.config });
  await app.register(corsPlugin, { allowedOrigins: deps.config.allowedOrigins });
  await app.register(rateLimitPlugin, { config: deps.config });
  // Bytes that are not UTF-8 and control characters in headers, before anything reads them (src/domain/text.ts has
  // the rules; schema fields are checked by their `x-text` kind in src/http/validation.ts).
  await app.register(inputHygienePlugin);
  await app.register(authPlugin, { db: deps.db, sessions: deps.config.session });
  await app.register(csrfPlugin, { allowedOrigins: deps.config.allowedOrigins });
  await app.register(openApiPlugin, { publicUrl: deps.config.http.publicUrl });

  // 2. operational endpoints: /healthz, /readyz, /metrics
  await app.register(metricsPlugin, { deps });
  await app.register(healthPlugin, { deps });

  // The read cache of channel pages and public feeds (PostgreSQL tells every process what changed).
  await app.register(readCachePlugin, { config: deps.config });

  // 3. API v1 routes
  // Changes that can take reading away (role or token revoked, visibility narrowed, channel deleted) re-check the
  // live connections concerned at once, in every API process.
  const announceAccessChange = (hint: AccessHint) =>
    announceAccessChangeHint(deps.redis, deps.config.redis.prefix, hint);
  // Read-state changes and acknowledgements reach the same user's other live connections, in every API process.
  const announceReaderChange = (change: ReaderChange) =>
    announceReaderChangeOn(deps.redis, deps.config.redis.prefix, change);
  await app.register(
    async (v1) => {
      // API v1 speaks JSON only: without this, Fastify's built-in text/plain parser would turn a text body into a
      // confusing "body must be object" 400 instead of a 415.
      v1.removeContentTypeParser('text/plain');
      // JSON bodies of API v1 are small (an announcement is at most 20,000 characters): a tighter limit than the
      // app's, unless a route sets its own.
      v1.addHook('onRoute', (route) => {
        route.bodyLimit ??= API_BODY_LIMIT_BYTES;
      });
      await v1.register(channelRoutes, { db: deps.db });
      await v1.register(announcementRoutes, {
        db: deps.db,
        publicUrl: deps.config.http.publicUrl,
        viewerSecret: resolveUnsubscribeKey(deps.config, app.log),
        readCache: app.readCache,
      });
      await v1.register(readingRoutes, {
        db: deps.db,
        publicUrl: deps.config.http.publicUrl,
        mailFrom: deps.config.mail.from,
        announceReaderChange,
      });
      await v1.register(acknowledgementRoutes, { db: deps.db, announceReaderChange });
      // Publishers' delivery figures and retries; the administrators' queue view.
      await v1.register(deliveryRoutes, {
        db: deps.db,
        queues: deps.queues,
        emailBatchSize: deps.config.delivery.emailBatchSize,
      });
      await v1.register(adminQueueRoutes, { db: deps.db, queues: deps.queues });
      await v1.register(subscriptionRoutes, { db: deps.db });
      // Subscribers without an account (double opt-in, imports; its own text parsers) and the suppression list.
      await v1.register(emailSubscriptionRoutes, { deps });
      await v1.register(pushRoutes, { db: deps.db, config: deps.config });
      await v1.register(personalDataRoutes, { db: deps.db, announceAccessChange });
      await v1.register(auditRoutes, { db: deps.db });
      await v1.register(channelSettingsRoutes, { db: deps.db, announceAccessChange });
      await v1.register(organisationRoutes, { db: deps.db });
      await v1.register(tokenRoutes, { db: deps.db, config: deps.config, announceAccessChange });
      await v1.register(searchRoutes, { db: deps.db, publicUrl: deps.config.http.publicUrl });
      await v1.register(feedTokenRoutes, { db: deps.db, config: deps.config });
      await v1.register(webhookRoutes, { db: deps.db, config: deps.config });
      // Uploads take raw file bodies up to ATTACHMENT_MAX_BYTES: the plugin's own parsers and body limit.
      await v1.register(attachmentRoutes, {
        db: deps.db,
        publicUrl: deps.config.http.publicUrl,
        attachments: deps.config.attachments,
      });
    },
    { prefix: '/api/v1' },
  );
  // Sign-in (/auth/login, /auth/callback, /auth/logout) and GET /api/v1/me: at the root, since /auth/* is no API v1
  // path and takes HTML forms.
  // (their pages are the web app's, as are those behind e-mail links below)
  const pageFrame = { assets: webAssets, site: siteInfo(deps.config) };
  await app.register(authRoutes, { deps, web: pageFrame });

  // 3b. the web push service worker (/sw.js), at the root so its scope can be the whole origin
  await app.register(serviceWorkerRoute);

  // 4. e-mail link endpoints (unsubscribe, confirm a subscription)
  // (their pages are the web app's frame, in the subscription's language)
  await app.register(unsubscribeRoutes, { deps, web: pageFrame });
  await app.register(confirmationRoutes, { deps, web: pageFrame });

  // 4b. feed documents (RSS, Atom, JSON Feed): public channels, the combined public feed, personal feed URLs
  await app.register(feedRoutes, { db: deps.db, publicUrl: deps.config.http.publicUrl, readCache: app.readCache });

  // 5. live updates (WebSocket and Server-Sent Events)
  await app.register(livePlugin, { deps });

  // 6. the web app: assets, page context, language choice; then the pages (src/web, src/http/routes/web)
  await app.register(webPlugin, { config: deps.config, db: deps.db, assets: webAssets });
  await app.register(webPageRoutes, deps);

  return app;
}

/**
 * This app's Prometheus metrics (`app.metrics`) and the HTTP request-duration histogram in them. Registered without
 * encapsulation (fastify-plugin) so its onResponse hook times every route of the app.
 *
 * The app serves no /metrics route: the figures belong to the operator, so the process serves them on its own
 * listener (METRICS_PORT, loopback by default, optionally behind METRICS_TOKEN; src/metrics-server.ts), never on the
 * port the public reaches.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createMetrics, type Metrics } from '../../metrics.js';
import type { AppDeps } from '../app.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** This app's metrics (its own prom-client Registry). */
    metrics: Metrics;
  }
}

/** The route label of requests that matched no route, so unknown URLs cannot explode the label set. */
export const UNMATCHED_ROUTE = 'unmatched';

export interface MetricsPluginOptions {
  deps: Pick<AppDeps, 'db' | 'queues'>;
}

/**
 * The live plugin's connection count, read at scrape time (that plugin registers after this one); 0 in an app
 * without it, which is the truth: it serves no WebSockets.
 */
function liveConnectionCount(app: FastifyInstance): number {
  if (!app.hasDecorator('liveHub')) return 0;
  const hub = (app as unknown as { liveHub?: { connectionCount?: number } }).liveHub;
  return typeof hub?.connectionCount === 'number' ? hub.connectionCount : 0;
}

async function metricsPlugin(app: FastifyInstance, options: MetricsPluginOptions): Promise<void> {
  const metrics = createMetrics({
    db: options.deps.db,
    queues: options.deps.queues,
    liveConnections: () => liveConnectionCount(app),
    onCollectError: (source, error) => app.log.warn({ source, err: error }, 'metrics collector failed'),
  });
  app.decorate('metrics', metrics);

  // A callback hook: nothing here waits, and an async hook would cost a promise and a microtask turn per request.
  app.addHook('onResponse', (request, reply, done) => {
    const labels = {
      method: request.method,
      // The pattern (`/api/v1/channels/:slug`), never the raw URL: one series per route, not per id.
      route: request.routeOptions.url ?? UNMATCHED_ROUTE,
      status_code: String(reply.statusCode),
    };
    metrics.httpRequestDuration.observe(labels, reply.elapsedTime / 1000);
    // Counted apart from the histogram so that an alert on `increase(…[5m]) > 0` needs no bucket arithmetic.
    if (reply.statusCode >= 500) metrics.httpServerErrors.inc(labels);
    done();
  });
}

export default fp(metricsPlugin, { name: 'meldingskanal-metrics', fastify: '5.x' });

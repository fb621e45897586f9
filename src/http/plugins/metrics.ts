/**
 * `GET /metrics` in Prometheus text format, and the HTTP request-duration histogram behind it. Registered without
 * encapsulation (fastify-plugin) so its onResponse hook times every route of the app.
 *
 * /metrics carries no personal data, only counts, but it belongs to the operator: keep it off the public reverse
 * proxy (scrape it on the internal address).
 */
// Type-only: brings @fastify/swagger's additions to route schemas (tags, summary, hide) into scope.
import type {} from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createMetrics, type Metrics } from '../../metrics.js';
import type { AppDeps } from '../app.js';
import { POLICY } from '../policy.js';

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

  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequestDuration.observe(
      {
        method: request.method,
        // The pattern (`/api/v1/channels/:slug`), never the raw URL: one series per route, not per id.
        route: request.routeOptions.url ?? UNMATCHED_ROUTE,
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });

  app.get(
    '/metrics',
    {
      logLevel: 'warn',
      config: { policy: POLICY.operational },
      schema: { tags: ['operations'], summary: 'Prometheus metrics (text exposition format)' },
    },
    async (_request, reply) => {
      const { contentType, body } = await metrics.render();
      return reply.header('content-type', contentType).header('cache-control', 'no-store').send(body);
    },
  );
}

export default fp(metricsPlugin, { name: 'meldingskanal-metrics', fastify: '5.x' });

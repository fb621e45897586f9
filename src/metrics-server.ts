/**
 * The Prometheus listener of one process: `GET /metrics` on its own port (METRICS_PORT), bound to METRICS_HOST
 * (loopback by default), and behind a bearer token when METRICS_TOKEN is set. Both the API and the worker processes
 * start one (src/main.ts), so Prometheus scrapes workers too; the API's public port never serves metrics.
 *
 * A plain node:http server rather than a second Fastify app: it has one route, and none of the API's plugins
 * (sessions, CSRF, rate limits, policies) belong in front of it. Errors still have the API's shape
 * (`{ "error": { "code", "message" }, "requestId" }`), so whoever reads one sees the same thing as everywhere else.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError } from './domain/errors.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

export const METRICS_PATH = '/metrics';

export interface MetricsServerOptions {
  host: string;
  /** 0 picks a free port (see `url`). */
  port: number;
  /** METRICS_TOKEN: when set, a request must carry `Authorization: Bearer <token>`. */
  token: string | undefined;
  metrics: Pick<Metrics, 'render'>;
  logger: Pick<Logger, 'error'>;
}

export interface MetricsServer {
  /** Where it listens, e.g. `http://127.0.0.1:9464` (with the port picked when 0 was asked for). */
  url: string;
  close(): Promise<void>;
}

/** Compares in constant time, whatever the lengths (both sides are hashed to 32 bytes first). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function bearerOf(request: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  return match?.[1];
}

function sendError(response: ServerResponse, error: AppError, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ error: { code: error.code, message: error.message }, requestId: randomUUID() });
  response.writeHead(error.status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(body);
}

/** Starts listening; resolves once bound (rejects when the port is taken, so start-up fails loudly). */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== METRICS_PATH || (request.method !== 'GET' && request.method !== 'HEAD')) {
      sendError(response, new AppError('not_found', `Only GET ${METRICS_PATH} is served here`));
      return;
    }
    if (options.token !== undefined) {
      const given = bearerOf(request);
      if (given === undefined || !sameSecret(given, options.token)) {
        sendError(response, new AppError('unauthenticated', 'Send "Authorization: Bearer <METRICS_TOKEN>"'), {
          'www-authenticate': 'Bearer realm="metrics"',
        });
        return;
      }
    }
    options.metrics.render().then(
      ({ contentType, body }) => {
        response.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
        response.end(request.method === 'HEAD' ? undefined : body);
      },
      (error: unknown) => {
        options.logger.error({ err: error }, 'metrics could not be rendered');
        sendError(response, new AppError('internal_error', 'The metrics could not be rendered'));
      },
    );
  });
  // A scrape is one short request; a client that holds a connection open without finishing it is dropped.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.on('clientError', (_error, socket) => socket.destroy());

  server.listen(options.port, options.host);
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([error]) => {
      throw error;
    }),
  ]);
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Prometheus keeps its connection alive between scrapes: without this, close() would wait for it.
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

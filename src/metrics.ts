/**
 * Prometheus metrics for one process. Each call makes its own Registry (never prom-client's global default): tests
 * build several apps in one process, and a second registration of the same metric name in one registry throws.
 *
 * Gauges that describe shared state (queue depths, the delivery ledger) are read at scrape time rather than kept up
 * to date by the code paths that change them: they are then right for the whole cluster, whichever process is scraped,
 * and cost nothing between scrapes.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Db } from './db/prisma.js';
import type { Queues } from './queue/jobs.js';
import { withTimeout } from './timeout.js';

/** BullMQ job states reported per queue (BullMQ 6 has no 'paused' job state: pausing is a queue flag). */
export const QUEUE_STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'completed',
  'failed',
] as const;

/** A scrape-time collector gives up after this long, so a slow dependency costs one missing series, not the scrape. */
export const COLLECT_TIMEOUT_MS = 2000;

export interface MetricsSources {
  db: Db;
  queues: Queues;
  /** Open WebSocket connections in this process, read at scrape time. Omit where the process serves none. */
  liveConnections?: () => number;
  /** Told when a scrape-time collector fails (the scrape still answers, without that metric's series). */
  onCollectError?: (source: string, error: unknown) => void;
}

export interface Metrics {
  registry: Registry;
  httpRequestDuration: Histogram<'method' | 'route' | 'status_code'>;
  /** Responses with a 5xx status, by route pattern: what an operator alerts on. */
  httpServerErrors: Counter<'method' | 'route' | 'status_code'>;
  /** The exposition text and its content type. */
  render(): Promise<{ contentType: string; body: string }>;
}

export function createMetrics(sources: MetricsSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const collectErrors = new Counter({
    name: 'meldingskanal_metrics_collect_errors_total',
    help: 'Scrape-time collectors that failed (their metric is missing from that scrape)',
    labelNames: ['source'] as const,
    registers: [registry],
  });

  /**
   * Refreshes one scrape-time gauge. On failure the gauge is left empty: a stale number would be worse than none.
   * (prom-client's own `collect` hooks run concurrently with serialisation, so a failure counted there would only
   * show in the next scrape; refreshing before serialising keeps each scrape self-consistent.)
   */
  const refresh = async (source: string, gauge: Gauge<string>, work: () => Promise<void>): Promise<void> => {
    gauge.reset();
    try {
      await withTimeout(work(), COLLECT_TIMEOUT_MS, `metrics collector ${source}`);
    } catch (error) {
      gauge.reset();
      collectErrors.inc({ source });
      sources.onCollectError?.(source, error);
    }
  };

  const httpRequestDuration = new Histogram({
    name: 'meldingskanal_http_request_duration_seconds',
    help: 'HTTP request duration, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  const httpServerErrors = new Counter({
    name: 'meldingskanal_http_server_errors_total',
    help: 'HTTP responses with a 5xx status (unexpected errors, backing services down), by method, route pattern and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [registry],
  });

  const queueJobs = new Gauge({
    name: 'meldingskanal_queue_jobs',
    help: 'Jobs per BullMQ queue and state (read from Redis at scrape time; shared by the whole deployment)',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
  });
  const collectQueueJobs = async () => {
    // `scheduled` counts the timers of scheduled publications (delayed jobs) too.
    const queues = [
      sources.queues.fanout,
      sources.queues.email,
      sources.queues.push,
      sources.queues.webhook,
      sources.queues.maintenance,
      sources.queues.scheduled,
      sources.queues.confirmation,
      sources.queues.digest,
    ];
    const counts = await Promise.all(queues.map((queue) => queue.getJobCounts(...QUEUE_STATES)));
    queues.forEach((queue, i) => {
      for (const state of QUEUE_STATES) queueJobs.set({ queue: queue.name, state }, counts[i]?.[state] ?? 0);
    });
  };

  const deliveries = new Gauge({
    name: 'meldingskanal_deliveries',
    help: 'Deliveries in the ledger by medium and status (read from PostgreSQL at scrape time)',
    labelNames: ['medium', 'status'] as const,
    registers: [registry],
  });
  const collectDeliveries = async () => {
    // One aggregate over the ledger. Cheap while the ledger is in the millions; beyond that, keep counters instead.
    const rows = await sources.db.$queryRaw<{ medium: string; status: string; n: bigint }[]>`
      SELECT medium::text AS medium, status::text AS status, count(*) AS n FROM "Delivery" GROUP BY 1, 2`;
    for (const row of rows) deliveries.set({ medium: row.medium, status: row.status }, Number(row.n));
  };

  if (sources.liveConnections) {
    const read = sources.liveConnections;
    new Gauge({
      name: 'meldingskanal_websocket_connections',
      help: 'Open live connections (WebSockets and event streams) to this process',
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  }

  return {
    registry,
    httpRequestDuration,
    httpServerErrors,
    async render() {
      await Promise.all([
        refresh('queues', queueJobs, collectQueueJobs),
        refresh('deliveries', deliveries, collectDeliveries),
      ]);
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

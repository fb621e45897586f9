/**
 * The HTTP load generator, run as its own process by bench/lib/load.ts (never inside the server's process): autocannon
 * with the settings given as one JSON argument, a warm-up run that is thrown away, then the measured run. Prints ONE
 * JSON line with the result. Every run is bounded by its duration.
 */
import autocannon from 'autocannon';

export interface LoadSpec {
  url: string;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Fixed total request rate (requests/s) instead of "as fast as possible"; latencies corrected for it. */
  overallRate?: number;
  /** Paths to cycle through (each connection takes them in turn), e.g. older pages by cursor. */
  paths?: string[];
}

export interface LoadResult {
  requestsPerSecond: number;
  total: number;
  /** Requests of the warm-up and the measured run together (for CPU time per request of the whole run). */
  allRequests: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  statusCodes: Record<string, number>;
  errors: number;
  timeouts: number;
}

function options(spec: LoadSpec, durationSeconds: number): autocannon.Options {
  return {
    url: spec.url,
    connections: spec.connections,
    duration: durationSeconds,
    method: (spec.method ?? 'GET') as autocannon.Request['method'],
    headers: spec.headers ?? {},
    ...(spec.body === undefined ? {} : { body: spec.body }),
    ...(spec.overallRate ? { overallRate: spec.overallRate } : {}),
    ...(spec.paths ? { requests: spec.paths.map((path) => ({ path })) } : {}),
    timeout: 10,
  };
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
  const warmup = spec.warmupSeconds > 0 ? await autocannon(options(spec, spec.warmupSeconds)) : undefined;
  const result = await autocannon(options(spec, spec.durationSeconds));
  const statusCodes: Record<string, number> = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) {
    statusCodes[code] = (stats as { count: number }).count;
  }
  const output: LoadResult = {
    requestsPerSecond: result.requests.total / result.duration,
    total: result.requests.total,
    allRequests: result.requests.total + (warmup?.requests.total ?? 0),
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      mean: result.latency.average,
    },
    statusCodes,
    errors: result.errors,
    timeouts: result.timeouts,
  };
  process.stdout.write(`${JSON.stringify(output)}\n`);
}

await main();

/**
 * Publishing: how many announcements per second the API accepts (`POST /api/v1/channels/{slug}/announcements` with a
 * bearer token: validation, access rules, the announcement, its revision, its outbox event and audit record in one
 * transaction, 201 with the announcement), and the p99 latency under that load and at a fixed rate. The API process
 * runs alone (no worker), so the figure is the acceptance path; the relay's work happens elsewhere.
 *
 * Baseline, in the same run: a bare Fastify writing the same rows in one plain-`pg` transaction
 * (bench/servers/publish-baseline.ts). Load from autocannon in its own process, BENCH_PUBLISH_CONNECTIONS connections.
 *
 * Settings: BENCH_PUBLISH_DURATION_S (default 5), BENCH_PUBLISH_WARMUP_S (default 1), BENCH_PUBLISH_CONNECTIONS
 * (default 20), BENCH_PUBLISH_RATE (the fixed rate, default 100/s).
 * Run alone: `npx tsx bench/publish.ts`.
 */
import { runLoad } from './lib/load.js';
import { freePort, startNode, waitUntil } from './lib/processes.js';
import { envNumber, progress, ratio, summarise, Targets } from './lib/report.js';
import { BENCH_BODY, seedChannel, seedPublisher } from './lib/seed.js';
import { createWorld, startApi } from './lib/world.js';

const DURATION_S = envNumber('BENCH_PUBLISH_DURATION_S', 5);
const WARMUP_S = envNumber('BENCH_PUBLISH_WARMUP_S', 1);
const CONNECTIONS = envNumber('BENCH_PUBLISH_CONNECTIONS', 20);
const FIXED_RATE = envNumber('BENCH_PUBLISH_RATE', 100);

async function main(): Promise<void> {
  const world = await createWorld('publish');
  const stops: (() => Promise<void>)[] = [];
  try {
    const publisher = await seedPublisher(world.pool);
    const channelId = await seedChannel(world.pool, 'bench-publish');
    const api = await startApi(world);
    stops.push(() => api.child.stop());
    const baselinePort = await freePort();
    const baseline = startNode('publish-baseline', 'bench/servers/publish-baseline.ts', {
      env: {
        PORT: String(baselinePort),
        DATABASE_URL: world.databaseUrl,
        CHANNEL_ID: channelId,
        AUTHOR_ID: publisher.userId,
      },
    });
    stops.push(() => baseline.stop());
    const baselineUrl = `http://127.0.0.1:${baselinePort}/publish`;
    const body = JSON.stringify({ title: 'Planlagt vedlikehold', body: BENCH_BODY });
    const headers = { 'content-type': 'application/json' };
    await waitUntil(
      async () => (await fetch(baselineUrl, { method: 'POST', headers, body }).catch(() => undefined))?.status === 201,
      'the baseline server',
      { child: baseline },
    );

    const productUrl = `${api.url}/api/v1/channels/bench-publish/announcements`;
    const productHeaders = { ...headers, authorization: `Bearer ${publisher.token}` };
    const spec = (url: string, extra: Record<string, unknown> = {}) => ({
      url,
      method: 'POST',
      body,
      connections: CONNECTIONS,
      durationSeconds: DURATION_S,
      warmupSeconds: WARMUP_S,
      ...extra,
    });
    progress(`baseline: ${CONNECTIONS} connections`);
    const base = await runLoad(spec(baselineUrl, { headers }), 201, baseline.pid);
    progress(`product: ${CONNECTIONS} connections`);
    const product = await runLoad(spec(productUrl, { headers: productHeaders }), 201, api.child.pid);
    progress(`fixed rate ${FIXED_RATE}/s`);
    const baseFixed = await runLoad(spec(baselineUrl, { headers, overallRate: FIXED_RATE }), 201, baseline.pid);
    const productFixed = await runLoad(
      spec(productUrl, { headers: productHeaders, overallRate: FIXED_RATE }),
      201,
      api.child.pid,
    );

    // Every accepted publication has its outbox event.
    const { rows } = await world.pool.query<{ announcements: number; events: number }>(
      `SELECT (SELECT count(*) FROM "Announcement" a WHERE a."channelId" = $1)::int AS announcements,
              (SELECT count(*) FROM "OutboxEvent" e WHERE e."channelId" = $1)::int AS events`,
      [channelId],
    );
    if (rows[0]!.announcements !== rows[0]!.events) throw new Error(`outbox mismatch: ${JSON.stringify(rows[0])}`);

    const targets = new Targets();
    summarise(
      'publish',
      {
        baselineRps: base.requestsPerSecond,
        publishRps: product.requestsPerSecond,
        publishVsBaseline: ratio(product.requestsPerSecond, base.requestsPerSecond),
        baselineP99Ms: base.latencyMs.p99,
        publishP99Ms: product.latencyMs.p99,
        [`baselineP99At${FIXED_RATE}Ms`]: baseFixed.latencyMs.p99,
        [`publishP99At${FIXED_RATE}Ms`]: productFixed.latencyMs.p99,
        // Server CPU time per request (user + system, from /proc): hardly moved by other work on the machine, unlike
        // the rates. The baseline's is its Fastify and pg alone; PostgreSQL's own CPU is in neither.
        cpuUsBaseline: base.serverCpuUsPerRequest,
        cpuUsPublish: product.serverCpuUsPerRequest,
        [`cpuUsBaselineAt${FIXED_RATE}`]: baseFixed.serverCpuUsPerRequest,
        [`cpuUsPublishAt${FIXED_RATE}`]: productFixed.serverCpuUsPerRequest,
        published: rows[0]!.announcements,
        connections: CONNECTIONS,
      },
      targets,
    );
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await world.close();
  }
}

await main();

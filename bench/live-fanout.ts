/**
 * Live fan-out: 1,000 and 10,000 WebSocket clients (and 1,000 Server-Sent Events streams) subscribed to a channel,
 * connected with a bearer token; announcements published over the HTTP API (API and worker are the product's own
 * processes: publish → outbox → relay → Redis → the API's hub → sockets). Measured per size:
 *
 * - time from the publish request to the first and the last client's receipt, p50 and p95 over BENCH_LIVE_PUBLISHES
 *   publishes (each waits until every client has it);
 * - sustained deliveries/s: publishing back to back for BENCH_LIVE_SUSTAIN_S seconds in 8 lanes (each lane's next
 *   publication once every client has its previous one), frames received / time;
 * - a feed request's p99 (the channel's newest page, at a fixed 50 requests/s) while that runs, and idle;
 * - server RSS per connection, and the time to open all connections (each answered `subscribed`).
 *
 * Baseline, in the same run, with the same clients: a bare `ws` server (bench/servers/live-baseline.ts) broadcasting
 * ONE pre-serialised frame — the product's own frame bytes — to the same number of sockets in a plain loop.
 * The clients run in a process of their own (bench/servers/live-clients.ts); 10,000 sockets need 10,000+ file
 * descriptors in the server and in the clients' process: children get `ulimit -n` raised (bench/lib/processes.ts).
 *
 * Settings: BENCH_LIVE_SIZES (default 1000,10000), BENCH_LIVE_PUBLISHES (default 15), BENCH_LIVE_SSE (default 1000;
 * 0 skips), BENCH_LIVE_SUSTAIN_S (default 5). Run alone: `npx tsx bench/live-fanout.ts`.
 */
import { randomBytes } from 'node:crypto';
import { hashToken, TOKEN_PREFIX } from '../src/services/tokens.js';
import { runLoad } from './lib/load.js';
import { type BenchChild, freePort, memoryOf, requireFdLimit, startNode, waitUntil } from './lib/processes.js';
import { envList, envNumber, type Figures, percentile, progress, ratio, summarise, Targets } from './lib/report.js';
import { BENCH_BODY, seedChannel, seedPublisher } from './lib/seed.js';
import { createWorld, startApi, startWorker, type World } from './lib/world.js';

const SIZES = envList('BENCH_LIVE_SIZES', [1000, 10_000]);
const PUBLISHES = envNumber('BENCH_LIVE_PUBLISHES', 15);
const SSE_CLIENTS = process.env.BENCH_LIVE_SSE === '0' ? 0 : envNumber('BENCH_LIVE_SSE', 1000);
const SUSTAIN_S = envNumber('BENCH_LIVE_SUSTAIN_S', 5);
const FEED_RATE = 50;
const SUSTAIN_LANES = 8;
const SLUG = 'bench-live';
const MARKER_LENGTH = 40;
const now = () => performance.timeOrigin + performance.now();

interface Receipts {
  count: number;
  first: number | null;
  last: number | null;
  sample?: string | null;
  /** Connections the server closed so far, by close code (see bench/servers/live-clients.ts). */
  closed?: Record<string, number>;
}

/** The clients' process and its control API. */
interface Clients {
  child: BenchChild;
  connect(spec: Record<string, unknown>): Promise<{ ms: number; connected: number }>;
  expect(marker: string): Promise<void>;
  receipts(marker: string, sample?: boolean): Promise<Receipts>;
  forget(): Promise<void>;
  close(): Promise<void>;
  /** Waits until `count` clients received `marker`. */
  waitFor(marker: string, count: number, what: string): Promise<Receipts>;
}

/** The API's last lines (warnings and errors: the bench runs it at LOG_LEVEL=warn), for a wait that failed. */
let apiOutput: () => string = () => '';

async function startClients(): Promise<Clients> {
  const port = await freePort();
  const child = startNode('live-clients', 'bench/servers/live-clients.ts', { env: { CONTROL_PORT: String(port) } });
  const base = `http://127.0.0.1:${port}`;
  const post = async (path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body ?? {}),
    });
    if (!response.ok) throw new Error(`clients ${path}: ${response.status} ${await response.text()}`);
    return response.status === 204 ? undefined : response.json();
  };
  await waitUntil(async () => (await fetch(`${base}/receipts`).catch(() => undefined))?.ok, 'the live clients', {
    child,
  });
  const receipts = async (marker: string, sample = false) => {
    const response = await fetch(`${base}/receipts?marker=${marker}${sample ? '&sample' : ''}`);
    const text = await response.text();
    if (!response.ok) throw new Error(`clients /receipts: ${response.status} ${text}`);
    return JSON.parse(text) as Receipts;
  };
  return {
    child,
    connect: (spec) => post('/connect', spec) as Promise<{ ms: number; connected: number }>,
    expect: async (marker) => {
      await post('/expect', { marker });
    },
    receipts,
    forget: async () => {
      await post('/forget');
    },
    close: async () => {
      await post('/close');
    },
    waitFor: async (marker, count, what) => {
      let got: Receipts | undefined;
      try {
        return await waitUntil(
          async () => {
            got = await receipts(marker);
            return got.count >= count ? got : undefined;
          },
          what,
          { timeoutMs: 60_000, intervalMs: 10, child },
        );
      } catch (error) {
        // Say how far it got and whether the server dropped connections (slow reader, missed pong) or a frame was lost.
        throw new Error(
          `${(error as Error).message}: ${got?.count ?? 0} received; closed ${JSON.stringify(got?.closed)}\n` +
            `the API's last lines:\n${apiOutput()}`,
        );
      }
    },
  };
}

function marker(): string {
  return `bench-live-${randomBytes(20).toString('hex')}`.slice(0, MARKER_LENGTH);
}

/** A user with a read-only token, as a signed-in reader's client holds. */
async function seedReader(world: World): Promise<string> {
  const {
    rows: [user],
  } = await world.pool.query<{ id: string }>(
    `INSERT INTO "User" (id, email, "displayName", "updatedAt") VALUES (gen_random_uuid(), 'live-reader@example.org', 'Reader', now()) RETURNING id`,
  );
  const token = `${TOKEN_PREFIX}${randomBytes(30).toString('base64url')}`;
  await world.pool.query(
    `INSERT INTO "ApiToken" (id, "userId", name, prefix, "tokenHash", scopes, "createdAt")
     VALUES (gen_random_uuid(), $1, 'live', $2, $3, ARRAY['read'], now())`,
    [user!.id, token.slice(0, 12), hashToken(token)],
  );
  return token;
}

interface Latencies {
  first: number[];
  last: number[];
}

/** Runs `publishes` rounds of `send(marker)`, each until all `count` clients received it. */
async function rounds(clients: Clients, count: number, publishes: number, send: (m: string) => Promise<void>) {
  const latencies: Latencies = { first: [], last: [] };
  for (let i = 0; i < publishes; i += 1) {
    const m = marker();
    await clients.expect(m);
    const started = now();
    await send(m);
    const got = await clients.waitFor(m, count, `${count} receipts of ${m}`);
    latencies.first.push(got.first! - started);
    latencies.last.push(got.last! - started);
  }
  await clients.forget();
  return latencies;
}

/**
 * Sends back to back, SUSTAIN_LANES at a time, for SUSTAIN_S seconds; deliveries per second until the last receipt.
 * Several lanes, so that the fan-out, not one publication's round trip, is what limits the rate. Each lane sends its
 * next publication once every client has its previous one, so at most SUSTAIN_LANES events are on their way to any
 * client: lanes that only waited for the publish answer offered far more than the fan-out (or the clients' process)
 * could take, and the backlog grew with the phase's length. At 10,000 sockets on a loaded machine it took the clients'
 * process more than WS_PING_INTERVAL_MS (30 s) to read its way to a ping, and the server rightly ended every socket
 * that missed its pong (the 00:24 UTC run timed out here; at 00:56 every client saw its socket end with 1006, and at
 * 01:06 the API logged 7,343 then 2,657 connections ended at a heartbeat while the clients' own control server answered
 * 408): that measured the backlog, not the fan-out.
 */
async function sustained(clients: Clients, count: number, send: (m: string) => Promise<void>): Promise<number> {
  const markers: string[] = [];
  const started = now();
  const lane = async () => {
    while (now() - started < SUSTAIN_S * 1000) {
      const m = marker();
      markers.push(m);
      await clients.expect(m);
      await send(m);
      await clients.waitFor(m, count, `${count} receipts of ${m} (sustained)`);
    }
  };
  await Promise.all(Array.from({ length: SUSTAIN_LANES }, lane));
  let last = started;
  let delivered = 0;
  for (const m of markers) {
    const got = await clients.receipts(m);
    last = Math.max(last, got.last!);
    delivered += got.count;
  }
  await clients.forget();
  return delivered / ((last - started) / 1000);
}

function rssMb(child: BenchChild): number {
  return (memoryOf(child.pid)?.rss ?? Number.NaN) / 1024 / 1024;
}

async function main(): Promise<void> {
  requireFdLimit(Math.max(...SIZES, SSE_CLIENTS) + 1000);
  const world = await createWorld('live');
  const stops: (() => Promise<void>)[] = [];
  const figures: Figures = {};
  const targets = new Targets();
  try {
    const publisher = await seedPublisher(world.pool);
    await seedChannel(world.pool, SLUG);
    const readerToken = await seedReader(world);
    const api = await startApi(world);
    stops.push(() => api.child.stop());
    apiOutput = () => api.child.output.slice(-20).join('\n');
    const worker = startWorker(world, {
      env: { LOG_LEVEL: 'info', SMTP_URL: 'smtp://127.0.0.1:9', MAIL_FROM: 'a@example.org' },
    });
    stops.push(() => worker.stop());
    let started = false;
    worker.onLine((line) => {
      if (line.includes('"workers started"')) started = true;
    });
    await waitUntil(() => started, 'the worker', { child: worker, timeoutMs: 90_000 });
    const clients = await startClients();
    stops.push(() => clients.child.stop());

    const publish = async (title: string) => {
      const response = await fetch(`${api.url}/api/v1/channels/${SLUG}/announcements`, {
        method: 'POST',
        headers: { authorization: `Bearer ${publisher.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title, body: BENCH_BODY }),
      });
      if (response.status !== 201) throw new Error(`publish answered ${response.status}: ${await response.text()}`);
    };
    const subscribe = JSON.stringify({ type: 'subscribe', channels: [SLUG] });
    const feedPath = `${api.url}/api/v1/channels/${SLUG}/announcements?limit=20`;
    const feedLoad = () =>
      runLoad({ url: feedPath, connections: 10, durationSeconds: SUSTAIN_S, warmupSeconds: 0, overallRate: FEED_RATE });

    for (const size of SIZES) {
      const tag = size >= 1000 ? `${size / 1000}k` : String(size);
      // --- the product ---
      const before = rssMb(api.child);
      progress(`${tag}: opening ${size} authenticated WebSockets to the API`);
      const connected = await clients.connect({
        transport: 'ws',
        url: `${api.url.replace('http', 'ws')}/api/v1/live`,
        count: size,
        headers: { authorization: `Bearer ${readerToken}` },
        subscribe,
        batch: 100,
      });
      if (connected.connected < size) throw new Error(`only ${connected.connected} of ${size} connected`);
      const perConnection = ((rssMb(api.child) - before) * 1024) / size;
      progress(`${tag}: connected in ${connected.ms.toFixed(0)} ms, ${perConnection.toFixed(1)} KB RSS per connection`);
      // Warm-up publications (not measured), then the frame the baseline will send.
      const sampleMarker = marker();
      await clients.expect(sampleMarker);
      await publish(sampleMarker);
      await clients.waitFor(sampleMarker, size, 'the warm-up frame');
      const sample = (await clients.receipts(sampleMarker, true)).sample!;
      await rounds(clients, size, 2, publish);
      progress(`${tag}: ${PUBLISHES} publishes over HTTP`);
      const product = await rounds(clients, size, PUBLISHES, publish);
      progress(`${tag}: feed p99 idle, then during ${SUSTAIN_S} s of back-to-back publishes`);
      const idleFeed = await feedLoad();
      const [busyFeed, productRate] = await Promise.all([feedLoad(), sustained(clients, size, publish)]);
      await clients.close();

      // --- the baseline: bare ws, the same frame bytes ---
      const basePort = await freePort();
      const base = startNode('live-baseline', 'bench/servers/live-baseline.ts', { env: { PORT: String(basePort) } });
      await waitUntil(
        async () => (await fetch(`http://127.0.0.1:${basePort}/`).catch(() => undefined))?.status === 404,
        'the ws baseline',
        { child: base },
      );
      const baseBefore = rssMb(base);
      progress(`${tag}: baseline, ${size} WebSockets to a bare ws server`);
      const baseConnected = await clients.connect({
        transport: 'ws',
        url: `ws://127.0.0.1:${basePort}/`,
        count: size,
        headers: {},
        subscribe,
        batch: 100,
      });
      const basePerConnection = ((rssMb(base) - baseBefore) * 1024) / size;
      progress(
        `${tag}: baseline connected in ${baseConnected.ms.toFixed(0)} ms, ${basePerConnection.toFixed(1)} KB RSS per connection`,
      );
      const broadcast = async (m: string) => {
        const response = await fetch(`http://127.0.0.1:${basePort}/broadcast`, {
          method: 'POST',
          body: sample.replace(sampleMarker, m),
        });
        if (!response.ok) throw new Error(`baseline broadcast answered ${response.status}`);
      };
      await rounds(clients, size, 2, broadcast);
      const baseline = await rounds(clients, size, PUBLISHES, broadcast);
      const baseRate = await sustained(clients, size, broadcast);
      await clients.close();
      await base.stop();

      const p = (values: number[], q: number) => percentile(values, q);
      Object.assign(figures, {
        [`firstP50Ms${tag}`]: p(product.first, 50),
        [`firstP95Ms${tag}`]: p(product.first, 95),
        [`lastP50Ms${tag}`]: p(product.last, 50),
        [`lastP95Ms${tag}`]: p(product.last, 95),
        [`baseFirstP50Ms${tag}`]: p(baseline.first, 50),
        [`baseLastP50Ms${tag}`]: p(baseline.last, 50),
        [`baseLastP95Ms${tag}`]: p(baseline.last, 95),
        [`deliveriesPerS${tag}`]: productRate,
        [`baseDeliveriesPerS${tag}`]: baseRate,
        [`deliveriesVsBase${tag}`]: ratio(productRate, baseRate),
        [`kbPerConnection${tag}`]: perConnection,
        [`baseKbPerConnection${tag}`]: basePerConnection,
        [`connectMs${tag}`]: connected.ms,
        [`baseConnectMs${tag}`]: baseConnected.ms,
        [`feedP99IdleMs${tag}`]: idleFeed.latencyMs.p99,
        [`feedP99BusyMs${tag}`]: busyFeed.latencyMs.p99,
      });
      targets.atMost(
        `${tag}: last receipt p50 ≤ 1.25× baseline + 10 ms`,
        p(product.last, 50),
        1.25 * p(baseline.last, 50) + 10,
        ' ms',
      );
      targets.atMost(
        `${tag}: last receipt p95 ≤ 1.25× baseline + 20 ms`,
        p(product.last, 95),
        1.25 * p(baseline.last, 95) + 20,
        ' ms',
      );
      targets.atMost(
        `${tag}: first receipt ≤ baseline + 15 ms`,
        p(product.first, 50),
        p(baseline.first, 50) + 15,
        ' ms',
      );
      targets.atLeast(`${tag}: deliveries/s ≥ 0.8× baseline`, productRate / baseRate, 0.8);
      targets.atMost(`${tag}: memory per connection ≤ 2× baseline`, perConnection / basePerConnection, 2);
      targets.atMost(`${tag}: connecting ≤ 2× baseline`, connected.ms / baseConnected.ms, 2);
      if (size >= 10_000) {
        targets.atMost(
          `${tag}: feed p99 during broadcasts ≤ 2× idle + 10 ms`,
          busyFeed.latencyMs.p99,
          2 * idleFeed.latencyMs.p99 + 10,
          ' ms',
        );
      }
    }

    if (SSE_CLIENTS > 0) {
      progress(`SSE: ${SSE_CLIENTS} event streams`);
      const connected = await clients.connect({
        transport: 'sse',
        url: `${api.url}/api/v1/live/sse?channels=${SLUG}`,
        count: SSE_CLIENTS,
        headers: { authorization: `Bearer ${readerToken}` },
        batch: 100,
      });
      await rounds(clients, SSE_CLIENTS, 2, publish);
      const sse = await rounds(clients, SSE_CLIENTS, PUBLISHES, publish);
      await clients.close();
      Object.assign(figures, {
        sseConnectMs: connected.ms,
        sseFirstP50Ms: percentile(sse.first, 50),
        sseLastP50Ms: percentile(sse.last, 50),
        sseLastP95Ms: percentile(sse.last, 95),
      });
    }
    summarise('live-fanout', figures, targets);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await world.close();
  }
}

await main();

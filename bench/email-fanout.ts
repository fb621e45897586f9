/**
 * E-mail fan-out: an announcement published over the HTTP API to a channel with 10,000 and 100,000 subscribers, until
 * the last message is accepted by an SMTP server in another process (bench/servers/smtp-sink.ts). The API and the
 * worker are the product's own processes (src/main.ts, ROLE=api and ROLE=worker, one worker process started afresh
 * for each size, so its peak RSS is that run's). Then a daily digest run for the digest subscribers.
 *
 * Baseline, in the same run, to the same SMTP server: nodemailer's pooled transport sending the same number of the
 * same message straight from a process of its own (bench/servers/mail-baseline.ts), with the product's pool settings.
 * Rates are end to end: messages / (last accepted − start), where start is the publish request for the product and
 * the first send for the baseline.
 *
 * Subscribers are half accounts (a quarter of them in English), half bare addresses; the ledger is checked after each
 * run (every delivery `sent`, none twice).
 *
 * Settings: BENCH_EMAIL_SIZES (default 10000,100000), BENCH_DIGEST_SIZE (default 100000; 0 skips the digest run),
 * BENCH_EMAIL_BATCH_SIZE and BENCH_EMAIL_CONCURRENCY (default: the product's).
 * Run alone: `npx tsx bench/email-fanout.ts`.
 */
import { Redis } from 'ioredis';
import { createQueues } from '../src/queue/jobs.js';
import {
  type BenchChild,
  cpuTimeOf,
  describeChild,
  freePort,
  memoryOf,
  startNode,
  waitUntil,
} from './lib/processes.js';
import { envList, envNumber, type Figures, progress, ratio, summarise, Targets } from './lib/report.js';
import { BENCH_BODY, seedAnnouncements, seedChannel, seedPublisher, seedSubscribers } from './lib/seed.js';
import { createWorld, profileArgs, REDIS_URL, startApi, startWorker, type World } from './lib/world.js';

const SIZES = envList('BENCH_EMAIL_SIZES', [10_000, 100_000]);
const DIGEST_SIZE = process.env.BENCH_DIGEST_SIZE === '0' ? 0 : envNumber('BENCH_DIGEST_SIZE', 100_000);
const MAIL_FROM = 'BOTT Meldingskanal <meldingskanal@example.org>';
/** The product's defaults (SMTP_POOL_SIZE, SMTP_MAX_MESSAGES): the baseline uses the same pool. */
const POOL_SIZE = 10;
const MAX_MESSAGES = 1000;
/**
 * The worker's V8 old-space limit, as bench/README.md recommends for worker processes (`NODE_OPTIONS=
 * --max-old-space-size=192`, or a container memory limit, from which Node derives it): the worker's live heap stays
 * under ~80 MB, but without a limit V8 lets garbage pile up to a fraction of the machine's memory before collecting.
 * BENCH_WORKER_HEAP_MB=0 runs with V8's default.
 */
const WORKER_HEAP_MB = process.env.BENCH_WORKER_HEAP_MB === '0' ? 0 : envNumber('BENCH_WORKER_HEAP_MB', 192);
const WORKER_NODE_ARGS = WORKER_HEAP_MB > 0 ? [`--max-old-space-size=${WORKER_HEAP_MB}`] : [];
/**
 * BENCH_EMAIL_BATCH_SIZE and BENCH_EMAIL_CONCURRENCY try other EMAIL_BATCH_SIZE and EMAIL_CONCURRENCY settings in the
 * worker; unset, the product's defaults are measured.
 */
const WORKER_SETTINGS: Record<string, string> = Object.fromEntries(
  [
    ['EMAIL_BATCH_SIZE', process.env.BENCH_EMAIL_BATCH_SIZE],
    ['EMAIL_CONCURRENCY', process.env.BENCH_EMAIL_CONCURRENCY],
  ].filter((entry): entry is [string, string] => Boolean(entry[1])),
);

interface SinkStats {
  accepted: number;
  firstAt: number | null;
  lastAt: number | null;
}

interface Sink {
  url: string;
  stats(): Promise<SinkStats>;
  reset(): Promise<void>;
  /** Waits until `count` messages were accepted since the reset; fails after `timeoutMs`. */
  waitFor(count: number, timeoutMs: number, what: string, watch?: BenchChild): Promise<SinkStats>;
}

async function startSink(stops: (() => Promise<void>)[]): Promise<Sink> {
  const smtpPort = await freePort();
  const controlPort = await freePort();
  const child = startNode('smtp-sink', 'bench/servers/smtp-sink.ts', {
    env: { SMTP_PORT: String(smtpPort), CONTROL_PORT: String(controlPort) },
  });
  stops.push(() => child.stop());
  const control = `http://127.0.0.1:${controlPort}`;
  await waitUntil(async () => (await fetch(`${control}/stats`).catch(() => undefined))?.ok, 'the SMTP sink', { child });
  const stats = async () => (await (await fetch(`${control}/stats`)).json()) as SinkStats;
  return {
    url: `smtp://127.0.0.1:${smtpPort}`,
    stats,
    reset: async () => {
      await fetch(`${control}/reset`, { method: 'POST' });
    },
    waitFor: (count, timeoutMs, what, watch) =>
      waitUntil(
        async () => {
          const now = await stats();
          return now.accepted >= count ? now : undefined;
        },
        what,
        { timeoutMs, intervalMs: 50, ...(watch ? { child: watch } : {}) },
      ),
  };
}

/** Starts a worker process against the sink and waits until it has started its workers. */
async function startMailWorker(world: World, sink: Sink, name: string): Promise<BenchChild> {
  const worker = startWorker(world, {
    name,
    nodeArgs: WORKER_NODE_ARGS,
    // Info, to see "workers started"; per-batch lines are at debug.
    env: { SMTP_URL: sink.url, MAIL_FROM, LOG_LEVEL: 'info', SMTP_POOL_SIZE: String(POOL_SIZE), ...WORKER_SETTINGS },
  });
  let started = false;
  worker.onLine((line) => {
    if (line.includes('"workers started"')) started = true;
  });
  await waitUntil(() => started, `${name} started`, { child: worker, timeoutMs: 90_000 });
  return worker;
}

/** Peak RSS of a process so far, sampled from /proc (VmHWM). */
function peakRssMb(child: BenchChild): number {
  return (memoryOf(child.pid)?.peak ?? Number.NaN) / 1024 / 1024;
}

interface Baseline {
  rate: number;
  seconds: number;
  /** CPU time per message of the sender process, µs. */
  cpuUs: number;
}

async function runBaseline(sink: Sink, count: number): Promise<Baseline> {
  await sink.reset();
  const sender = startNode('mail-baseline', 'bench/servers/mail-baseline.ts', {
    // Profiled too (BENCH_CPU_PROF=1): the worker's profile is read against nodemailer's own costs.
    nodeArgs: profileArgs(`mail-baseline-${count}`),
    env: { SMTP_URL: sink.url, COUNT: String(count), POOL_SIZE: String(POOL_SIZE), MAX_MESSAGES: String(MAX_MESSAGES) },
  });
  let result: { sent: number; startedAt: number; finishedAt: number; cpuMs: number } | undefined;
  sender.onLine((line) => {
    if (line.startsWith('{')) result = JSON.parse(line);
  });
  if ((await sender.exited) !== 0 || !result) throw new Error(`the baseline sender failed\n${describeChild(sender)}`);
  const stats = await sink.waitFor(count, 10_000, 'the baseline messages at the sink');
  const seconds = (stats.lastAt! - result.startedAt) / 1000;
  return { rate: count / seconds, seconds, cpuUs: (result.cpuMs * 1000) / count };
}

/**
 * Every delivery of the announcement sent, exactly `count` of them. Waits (bounded) for the worker to settle the last
 * rows: a row is marked sent after the sink accepted its message, so the sink can see the last message first.
 */
async function checkLedger(world: World, announcementId: string, count: number, worker: BenchChild): Promise<void> {
  let last: { status: string; n: number }[] = [];
  const settled = await waitUntil(
    async () => {
      const { rows } = await world.pool.query<{ status: string; n: number }>(
        `SELECT status::text, count(*)::int AS n FROM "Delivery" WHERE "announcementId" = $1 AND medium = 'email' GROUP BY status`,
        [announcementId],
      );
      last = rows;
      return rows.length === 1 && rows[0]!.status === 'sent' && rows[0]!.n === count;
    },
    'the ledger',
    { timeoutMs: 30_000, intervalMs: 100, child: worker },
  ).catch(() => false);
  const sent = last.find((row) => row.status === 'sent')?.n ?? 0;
  if (!settled || sent !== count || last.some((row) => row.status !== 'sent')) {
    throw new Error(`ledger of ${announcementId}: ${JSON.stringify(last)}, expected ${count} sent`);
  }
}

async function main(): Promise<void> {
  const world = await createWorld('email');
  const stops: (() => Promise<void>)[] = [];
  const figures: Figures = {};
  const targets = new Targets();
  try {
    const publisher = await seedPublisher(world.pool);
    const sink = await startSink(stops);
    const api = await startApi(world);
    stops.push(() => api.child.stop());

    const peaks = new Map<number, number>();
    for (const size of SIZES) {
      const slug = `bench-mail-${size}`;
      progress(`${size} subscribers: seeding`);
      const channelId = await seedChannel(world.pool, slug);
      await seedSubscribers(world.pool, channelId, size, { tag: `m${size}` });

      progress(`${size} subscribers: baseline (nodemailer pool, ${POOL_SIZE} connections)`);
      const baseline = await runBaseline(sink, size);

      const worker = await startMailWorker(world, sink, `worker-${size}`);
      await sink.reset();
      progress(`${size} subscribers: publishing over HTTP`);
      const cpuBefore = cpuTimeOf(worker.pid);
      const publishedAt = Date.now();
      const response = await fetch(`${api.url}/api/v1/channels/${slug}/announcements`, {
        method: 'POST',
        headers: { authorization: `Bearer ${publisher.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: `Planlagt vedlikehold for ${size}`, body: BENCH_BODY }),
      });
      if (response.status !== 201) throw new Error(`publish answered ${response.status}: ${await response.text()}`);
      const { id } = (await response.json()) as { id: string };
      // Bounded: at least 50 messages a second, or it counts as stuck.
      const stats = await sink.waitFor(size, 60_000 + size * 20, `${size} messages at the sink`, worker);
      // The worker's CPU time includes settling the last rows in the ledger.
      await checkLedger(world, id, size, worker);
      const peak = peakRssMb(worker);
      const workerCpuUs = (((cpuTimeOf(worker.pid) ?? Number.NaN) - (cpuBefore ?? Number.NaN)) * 1000) / size;
      peaks.set(size, peak);
      await worker.stop();

      const seconds = (stats.lastAt! - publishedAt) / 1000;
      const rate = size / seconds;
      const first = (stats.firstAt! - publishedAt) / 1000;
      const tag = size >= 1000 ? `${size / 1000}k` : String(size);
      Object.assign(figures, {
        [`baselineRate${tag}`]: baseline.rate,
        [`rate${tag}`]: rate,
        [`rateVsBaseline${tag}`]: ratio(rate, baseline.rate),
        [`firstMailS${tag}`]: first,
        [`lastMailS${tag}`]: seconds,
        [`workerPeakRssMb${tag}`]: peak,
        // CPU time per message, independent of what else runs on the machine (the sink and PostgreSQL not included).
        [`workerCpuUsPerMail${tag}`]: workerCpuUs,
        [`baselineCpuUsPerMail${tag}`]: baseline.cpuUs,
      });
      targets.atLeast(`${tag}: rate ≥ 0.8× nodemailer pool`, rate / baseline.rate, 0.8);
      if (size >= 100_000) targets.atMost(`${tag}: first e-mail ≤ 1 s after the publish`, first, 1, ' s');
      targets.atMost(`${tag}: worker peak RSS < 300 MB`, peak, 300, ' MB');
      figures.workerHeapLimitMb = WORKER_HEAP_MB || 'V8 default';
    }
    const smallest = Math.min(...SIZES);
    const largest = Math.max(...SIZES);
    if (smallest !== largest) {
      const growth = peaks.get(largest)! / peaks.get(smallest)!;
      figures.workerPeakGrowth = ratio(peaks.get(largest)!, peaks.get(smallest)!);
      targets.atMost(`worker peak RSS at ${largest} within 25 % of ${smallest}`, growth, 1.25, '×');
    }

    if (DIGEST_SIZE > 0) await digestRun(world, sink, publisher.userId, figures, targets);
    summarise('email-fanout', figures, targets);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await world.close();
  }
}

/**
 * A daily digest run for DIGEST_SIZE subscribers of one channel with three announcements in the period: the run job
 * the daily scheduler would add (with its scheduled time), until the last digest is accepted.
 */
async function digestRun(world: World, sink: Sink, authorId: string, figures: Figures, targets: Targets) {
  // The period ends at the cut just passed: DIGEST_TIME a few minutes ago, in UTC.
  const cut = new Date(Math.floor((Date.now() - 5 * 60_000) / 60_000) * 60_000);
  const digestTime = `${String(cut.getUTCHours()).padStart(2, '0')}:${String(cut.getUTCMinutes()).padStart(2, '0')}`;
  progress(`digest: ${DIGEST_SIZE} daily subscribers, seeding`);
  const channelId = await seedChannel(world.pool, 'bench-digest');
  await seedAnnouncements(world.pool, channelId, 3, { authorId, newestAt: new Date(cut.getTime() - 30 * 60_000) });
  await seedSubscribers(world.pool, channelId, DIGEST_SIZE, { tag: 'digest', mode: 'daily' });
  const worker = startWorker(world, {
    name: 'worker-digest',
    nodeArgs: WORKER_NODE_ARGS,
    env: {
      SMTP_URL: sink.url,
      MAIL_FROM,
      LOG_LEVEL: 'info',
      SMTP_POOL_SIZE: String(POOL_SIZE),
      DIGEST_TIME: digestTime,
      DIGEST_TIME_ZONE: 'UTC',
    },
  });
  let started = false;
  worker.onLine((line) => {
    if (line.includes('"workers started"')) started = true;
  });
  await waitUntil(() => started, 'digest worker started', { child: worker, timeoutMs: 90_000 });

  await sink.reset();
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queues = createQueues(redis, world.redisPrefix);
  const startedAt = Date.now();
  progress('digest: run job added');
  await queues.digest.add('run', { task: 'run', mode: 'daily', scheduledAt: cut.getTime() + 30_000 });
  try {
    const stats = await sink.waitFor(DIGEST_SIZE, 60_000 + DIGEST_SIZE * 20, 'the digests at the sink', worker);
    const seconds = (stats.lastAt! - startedAt) / 1000;
    const peak = peakRssMb(worker);
    Object.assign(figures, {
      digestRate: DIGEST_SIZE / seconds,
      digestFirstS: (stats.firstAt! - startedAt) / 1000,
      digestLastS: seconds,
      digestWorkerPeakRssMb: peak,
    });
    targets.atMost('digest: worker peak RSS < 300 MB', peak, 300, ' MB');
    const { rows } = await world.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "Digest" WHERE mode = 'daily' AND status = 'sent'`,
    );
    if (rows[0]!.n !== DIGEST_SIZE) throw new Error(`digests sent: ${rows[0]!.n}, expected ${DIGEST_SIZE}`);
  } finally {
    await queues.close();
    redis.disconnect();
    await worker.stop();
  }
}

await main();

/**
 * Fault: a crowd of clients reconnecting at once (2,000 under `npm run test:faults`, 300 in the normal suite — a
 * deploy, a network blip) and a slow reader must not hurt everyone else. The API and the worker are real processes;
 * the crowd runs in a process of its own (storm-clients.ts), the 50 "other" clients and the slow readers in this one.
 *
 * Rounds, alternating: a quiet round publishes one announcement over the API and times how long until the LAST of the
 * 50 watchers has it; a storm round does the same while the whole crowd drops and reconnects at that moment, every
 * socket subscribing with `since` (a replay from PostgreSQL each). Meanwhile a WebSocket and an event stream that
 * stopped reading are there too; at the end their own channel gets large announcements, and they are cut off (1013 /
 * end of stream) instead of being buffered for.
 *
 * Every watcher gets every announcement once and none is disconnected; under `npm run test:faults` the storm rounds'
 * median must also stay within 20 % of the quiet rounds' median (plus 10 ms of timer noise). Prints `[fault] …` with
 * both.
 *
 * So that the two kinds of round differ only by the storm: a storm round starts once the whole crowd has the quiet
 * round's announcement (the server is then done broadcasting it, as it is done with the storm's replays when a quiet
 * round starts), and the crowd runs at the lowest CPU priority (nice 19) — it stands for 2,000 clients on other
 * machines, whose own CPU would not be taken from the server's processes on this one. The API and the worker run with
 * stack traces as in the image, not source-mapped (tests/helpers/production-stack-traces.mjs: under tsx each of the
 * crowd's reset connections cost a source-mapped stack trace, ~100 ms of the API's event loop per storm that
 * production does not pay). FAULT_CPU_PROF=<dir> writes
 * V8 CPU profiles of the API and the worker there (`npx tsx bench/profile-top.ts <file>` reads them).
 */
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../src/paths.js';
import { type Child, startProcess, waitForLog } from '../../helpers/child-process.js';
import { createTestContext, type TestContext } from '../../helpers/context.js';
import { createChannel, createUser, tokenFor } from '../../helpers/factories.js';
import { FULL_SCALE, STARTUP_MS, sized } from '../../helpers/fault-scale.js';
import { LiveClient } from '../../helpers/live-client.js';
import { SseClient } from '../../helpers/sse-client.js';
import { waitFor } from '../../helpers/wait.js';

const CROWD = sized(300, 2000);
const WATCHERS = 50;
const ROUNDS = sized(4, 12);
const BODY = 'Vedlikehold av fellestjenestene i natt.';
/**
 * The announcements that only the slow readers watch: as large as allowed (20,000 characters of three bytes each), so
 * that what the server cannot hand to a reader that stopped reading passes what the kernel's socket buffers absorb
 * (megabytes on loopback) and then WS_MAX_BUFFERED_BYTES.
 */
const FLOOD_BODY = '€'.repeat(20_000);
const FLOOD = 60;

let ctx: TestContext;
let api: Child;
let worker: Child;
let apiUrl: string;
let token: string;
let crowd: ReturnType<typeof spawn> | undefined;
// biome-ignore lint/suspicious/noExplicitAny: the crowd's JSON lines
const crowdLines: Record<string, any>[] = [];
const clients: LiveClient[] = [];
const streams: SseClient[] = [];

beforeAll(async () => {
  ctx = await createTestContext();
  const common = { ...ctx.env, APP_ENV: 'development', LOG_LEVEL: 'warn' };
  const profileDir = process.env.FAULT_CPU_PROF;
  const profiled = (name: string) => (profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, name)}`] : []);
  api = startProcess(
    'api',
    {
      ...common,
      LOG_LEVEL: 'info',
      ROLE: 'api',
      HOST: '127.0.0.1',
      PORT: '0',
      DEV_OIDC_PORT: '0',
      // Every client of this test comes from 127.0.0.1, and in a burst the crowd's new sockets may be counted before the
      // server has seen its old ones close.
      WS_MAX_CONNECTIONS_PER_IP: String(2 * CROWD + WATCHERS + 50),
      RATE_LIMIT_IP_PER_MINUTE: '100000',
      WS_MAX_BUFFERED_BYTES: String(64 * 1024),
      // The slow readers must be cut off by the buffer limit, not by a missed pong (the full-size run outlasts a ping).
      WS_PING_INTERVAL_MS: '600000',
    },
    profiled('api'),
    { productionStackTraces: true },
  );
  worker = startProcess(
    'worker',
    {
      ...common,
      LOG_LEVEL: 'info',
      ROLE: 'worker',
      // Nothing here is e-mailed (no subscribers); the relay and the fan-out are what the live frames need.
      SMTP_URL: 'smtp://127.0.0.1:9',
      MAIL_FROM: 'BOTT Meldingskanal <meldingskanal@example.org>',
    },
    profiled('worker'),
    { productionStackTraces: true },
  );
  const listening = await waitForLog(api, (l) => typeof l.apiUrl === 'string', 'API listening', STARTUP_MS);
  apiUrl = (listening.apiUrl as string).replace('localhost', '127.0.0.1');
  await waitForLog(worker, (l) => l.msg === 'workers started', 'workers started', STARTUP_MS);
  const publisher = await createUser(ctx.deps.db, { isAdmin: true });
  token = await tokenFor(ctx.deps.db, publisher.id);
}, 300_000);

afterAll(async () => {
  crowd?.stdin?.end();
  crowd?.kill('SIGKILL');
  for (const client of clients) client.close();
  for (const stream of streams) stream.close();
  if (process.env.FAULT_CPU_PROF) {
    // A profile is written when the process exits by itself; SIGTERM is the service's own shutdown.
    for (const child of [api, worker]) child?.process.kill('SIGTERM');
    await Promise.all([api?.exited, worker?.exited]);
  }
  for (const child of [api, worker]) {
    if (child && child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
  }
  await ctx?.close();
});

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

describe('a reconnect storm and slow readers', () => {
  it('cost the other clients no frame and no connection (under test:faults: at most 20 % latency)', async () => {
    const channel = await createChannel(ctx.deps.db, { visibility: 'public' });
    const flood = await createChannel(ctx.deps.db, { visibility: 'public' });
    const liveUrl = `${apiUrl.replace(/^http/, 'ws')}/api/v1/live`;

    const watchers = await Promise.all(Array.from({ length: WATCHERS }, () => LiveClient.connect(liveUrl)));
    clients.push(...watchers);
    for (const watcher of watchers) watcher.send({ type: 'subscribe', channels: [channel.slug] });
    await Promise.all(watchers.map((w) => w.frame((f) => f.type === 'subscribed', 'watcher subscribed')));

    // The slow readers: subscribed, then they stop reading.
    const slowSocket = await LiveClient.connect(liveUrl);
    clients.push(slowSocket);
    slowSocket.send({ type: 'subscribe', channels: [channel.slug, flood.slug] });
    await slowSocket.frame((f) => f.type === 'subscribed', 'slow reader subscribed');
    const slowStream = await SseClient.connect(`${apiUrl}/api/v1/live/sse?channels=${channel.slug},${flood.slug}`);
    streams.push(slowStream);
    await slowStream.frame((f) => f.type === 'subscribed', 'slow stream subscribed');
    (slowSocket.socket as unknown as { _socket: Socket })._socket.pause();
    slowStream.pause();

    crowd = spawn(
      process.execPath,
      ['--import', 'tsx', join('tests', 'e2e', 'faults', 'storm-clients.ts'), liveUrl, channel.slug, String(CROWD)],
      { cwd: PROJECT_ROOT, stdio: ['pipe', 'pipe', 'inherit'] },
    );
    setPriority(crowd.pid!, 19);
    createInterface({ input: crowd.stdout! }).on('line', (line) => crowdLines.push(JSON.parse(line)));
    const ready = await waitFor(() => crowdLines.find((l) => 'ready' in l), {
      what: 'the crowd connected',
      timeoutMs: 120_000,
    });
    expect(ready.ready).toBe(CROWD);

    const quiet: number[] = [];
    const storm: number[] = [];
    let lastEventId: string | undefined;
    for (let round = 0; round < 2 * ROUNDS; round += 1) {
      const stormy = round % 2 === 1;
      const burstsBefore = crowdLines.filter((l) => 'burst' in l).length;
      // Each reconnecting socket asks for everything since the first round: a replay of up to 2 × ROUNDS events.
      if (stormy) crowd.stdin!.write(`burst ${lastEventId ?? ''}\n`);
      const started = performance.now();
      const response = await fetch(`${apiUrl}/api/v1/channels/${channel.slug}/announcements`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: `Runde ${round + 1}`, body: BODY }),
      });
      expect(response.status).toBe(201);
      const { id } = (await response.json()) as { id: string };
      const arrivals = await Promise.all(
        watchers.map(async (watcher) => {
          await watcher.frame((f) => f.type === 'announcement.published' && f.announcement.id === id, 'the frame');
          return performance.now();
        }),
      );
      (stormy ? storm : quiet).push(Math.max(...arrivals) - started);
      lastEventId ??= watchers[0]!.ofType('announcement.published').at(-1)?.eventId;
      if (!stormy) {
        const seenBefore = crowdLines.filter((l) => 'seen' in l).length;
        crowd.stdin!.write(`seen ${id}\n`);
        await waitFor(() => crowdLines.filter((l) => 'seen' in l)[seenBefore], {
          what: 'the crowd has the announcement',
          timeoutMs: 60_000,
        });
      }
      if (stormy) {
        const burst = await waitFor(() => crowdLines.filter((l) => 'burst' in l)[burstsBefore], {
          what: 'the crowd reconnected',
          timeoutMs: 120_000,
        });
        expect(burst.failed, JSON.stringify(burst.failures)).toBe(0);
        expect(burst.replayed + burst.reset).toBe(CROWD);
      }
    }

    // Every watcher got every announcement, once, and stayed connected.
    for (const watcher of watchers) {
      expect(watcher.closed).toBeUndefined();
      const ids = watcher.ofType('announcement.published').map((f) => f.announcement.id);
      expect(ids).toHaveLength(2 * ROUNDS);
      expect(new Set(ids).size).toBe(2 * ROUNDS);
    }
    // The slow readers' own channel gets large announcements until what they have not read passes every buffer.
    for (let i = 0; i < FLOOD; i += 1) {
      const response = await fetch(`${apiUrl}/api/v1/channels/${flood.slug}/announcements`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: `Stor melding ${i + 1}`, body: FLOOD_BODY }),
      });
      expect(response.status).toBe(201);
    }
    // They were cut off rather than buffered for: read again, and see how the server ended them.
    (slowSocket.socket as unknown as { _socket: Socket })._socket.resume();
    expect((await waitFor(() => slowSocket.closed, { what: 'the slow socket closed', timeoutMs: 60_000 })).code).toBe(
      1013,
    );
    expect(slowSocket.ofType('announcement.published').length).toBeLessThan(2 * ROUNDS + FLOOD);
    slowStream.response.resume();
    await slowStream.whenEnded(30_000);
    expect(slowStream.ofType('announcement.published').length).toBeLessThan(2 * ROUNDS + FLOOD);

    const quietP50 = median(quiet);
    const stormP50 = median(storm);
    const bursts = crowdLines.filter((l) => 'burst' in l);
    console.info(
      `[fault] reconnect storm: ${CROWD} sockets reconnecting with since at once (median ${median(
        bursts.map((b) => b.ms!),
      )} ms until all replayed) + a WebSocket and an event stream that stopped reading (cut off: 1013 / stream ended); ` +
        `last of ${WATCHERS} watchers received each announcement: quiet median ${quietP50.toFixed(1)} ms, during ` +
        `storms ${stormP50.toFixed(1)} ms (${((stormP50 / quietP50 - 1) * 100).toFixed(0)} %), ${ROUNDS} rounds each`,
    );
    // A latency target is a benchmark's business on a machine of its own: the normal suite runs on a shared one and
    // checks the behaviour above; `npm run test:faults` (run on a quiet machine) holds the figure to the target too.
    if (FULL_SCALE) expect(stormP50).toBeLessThanOrEqual(quietP50 * 1.2 + 10);
  }, 900_000);
});

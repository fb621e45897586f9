/**
 * The reconnecting crowd of tests/e2e/faults/reconnect-storm.test.ts, in a process of its own so that its thousands
 * of sockets do not load the test process that measures the others' latency. Not a test file: started as
 * `node --import tsx tests/e2e/faults/storm-clients.ts <live url> <channel slug> <count>`.
 *
 * It opens `count` WebSockets to the live endpoint and subscribes each to the channel, then prints `{"ready":count}`.
 * On each stdin line `burst <since>` it drops every socket and reconnects all of them at once, each subscribing with
 * `since`, and prints `{"burst":n,"ms":…,"replayed":…,"reset":…,"failed":…}` when every one has its answer (the
 * replayed events and `replayed`, or `reset`). On `seen <announcement id>` it prints `{"seen":"<id>"}` once every
 * connected socket has received that announcement. Exits when stdin closes.
 */
import { createInterface } from 'node:readline';
import WebSocket from 'ws';

const [url, slug, countText] = process.argv.slice(2);
const count = Number(countText);
let sockets: WebSocket[] = [];
/** How many sockets received each announcement (live or replayed), and the one a `seen` command waits for. */
const received = new Map<string, number>();
let awaited: string | undefined;

function reportSeen(): void {
  if (awaited === undefined || (received.get(awaited) ?? 0) < sockets.length) return;
  process.stdout.write(`${JSON.stringify({ seen: awaited })}\n`);
  awaited = undefined;
}

type Outcome = 'replayed' | 'reset' | 'subscribed' | 'failed';
/** Why sockets failed, by reason (`http <status>`, `close <code>`, `error <code>`), for the test's message. */
const failures: Record<string, number> = {};
const failedBecause = (reason: string) => {
  failures[reason] = (failures[reason] ?? 0) + 1;
};

/** One client: connects, subscribes (with `since` if given), resolves with how the subscription was answered. */
function client(since: string | undefined): Promise<{ socket: WebSocket | undefined; outcome: Outcome }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url!);
    let done = false;
    const finish = (outcome: Outcome) => {
      if (done) return;
      done = true;
      resolve({ socket: outcome === 'failed' ? undefined : socket, outcome });
    };
    socket.on('open', () => {
      socket.send(JSON.stringify({ type: 'subscribe', channels: [slug], ...(since ? { since } : {}) }));
    });
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; announcement?: { id: string } };
      if (frame.type === 'announcement.published' && frame.announcement) {
        received.set(frame.announcement.id, (received.get(frame.announcement.id) ?? 0) + 1);
        reportSeen();
      }
      if (frame.type === 'replayed' || frame.type === 'reset') finish(frame.type);
      else if (frame.type === 'subscribed' && !since) finish('subscribed');
      else if (frame.type === 'error') {
        if (!done) failedBecause(`frame ${(frame as { code?: string }).code}`);
        finish('failed');
      }
    });
    socket.on('unexpected-response', (_request, response) => {
      if (!done) failedBecause(`http ${response.statusCode}`);
      finish('failed');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (!done) failedBecause(`error ${error.code ?? error.message}`);
      finish('failed');
    });
    socket.on('close', (code) => {
      if (!done) failedBecause(`close ${code}`);
      finish('failed');
    });
  });
}

async function connectAll(since: string | undefined) {
  const results = await Promise.all(Array.from({ length: count }, () => client(since)));
  sockets = results.flatMap((r) => (r.socket ? [r.socket] : []));
  const tally = (outcome: Outcome) => results.filter((r) => r.outcome === outcome).length;
  const outcome = {
    replayed: tally('replayed'),
    reset: tally('reset'),
    subscribed: tally('subscribed'),
    failed: tally('failed'),
    failures: { ...failures },
  };
  for (const reason of Object.keys(failures)) delete failures[reason];
  return outcome;
}

const initial = await connectAll(undefined);
process.stdout.write(`${JSON.stringify({ ready: initial.subscribed, failed: initial.failed })}\n`);

let bursts = 0;
createInterface({ input: process.stdin })
  .on('line', async (line) => {
    const [command, since] = line.trim().split(' ');
    if (command === 'seen') {
      awaited = since;
      reportSeen();
      return;
    }
    if (command !== 'burst') return;
    for (const socket of sockets) socket.terminate();
    const started = performance.now();
    const outcome = await connectAll(since);
    bursts += 1;
    process.stdout.write(
      `${JSON.stringify({ burst: bursts, ms: Math.round(performance.now() - started), ...outcome })}\n`,
    );
  })
  .on('close', () => {
    for (const socket of sockets) socket.terminate();
    process.exit(0);
  });

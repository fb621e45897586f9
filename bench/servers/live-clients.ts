/**
 * The live benchmark's clients, in a process of their own: opens N WebSocket connections (`ws`) or N Server-Sent
 * Events streams to a server, subscribes each to a channel, and records when each connection receives a frame that
 * contains a marker the benchmark is waiting for (a unique announcement title). Receipt times are this machine's
 * clock (`performance.timeOrigin + performance.now()`, ms with fractions), comparable with the benchmark's own.
 *
 * Controlled over HTTP on loopback (CONTROL_PORT):
 *   POST /connect {transport:'ws'|'sse', url, count, headers, subscribe?, batch}  → {ms, connected}
 *     opens `count` connections, at most `batch` at a time; done when each has answered its subscription
 *     (`subscribed` frame on a WebSocket; the stream's first byte on SSE)
 *   POST /expect {marker}     start counting receipts of frames containing `marker`
 *   GET  /receipts?marker=…   {count, first, last, closed}
 *     `closed`: the connections closed by the server so far, by close code (a WebSocket) or `stream` (an event
 *     stream's end), so that a wait that times out can tell a lost frame from a connection the server dropped
 *   POST /close               closes every connection
 */
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import WebSocket from 'ws';

const now = () => performance.timeOrigin + performance.now();

/** Every marker the benchmark waits for has this many characters (see openStream). */
const MARKER_LENGTH = 40;

interface Receipts {
  count: number;
  first: number | null;
  last: number | null;
  /** The first matching frame, as text (the baseline sends these bytes). */
  sample: string | null;
}

const expected = new Map<string, { marker: Buffer; receipts: Receipts }>();
const sockets: WebSocket[] = [];
const streams: IncomingMessage[] = [];
/** Connections that ended while this process still held them, by close code (`stream` for an event stream). */
const closed: Record<string, number> = {};
let closing = false;

function noteClosed(reason: string): void {
  if (!closing) closed[reason] = (closed[reason] ?? 0) + 1;
}

function received(data: Buffer): void {
  if (expected.size === 0) return;
  const at = now();
  for (const { marker, receipts } of expected.values()) {
    if (data.includes(marker)) {
      receipts.count += 1;
      receipts.first ??= at;
      receipts.last = at;
      receipts.sample ??= data.toString();
    }
  }
}

interface ConnectSpec {
  transport: 'ws' | 'sse';
  url: string;
  count: number;
  headers: Record<string, string>;
  /** A WebSocket's subscribe frame. */
  subscribe?: string;
  batch: number;
}

function openWebSocket(spec: ConnectSpec): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(spec.url, { headers: spec.headers, perMessageDeflate: false });
    let subscribed = false;
    socket.on('open', () => {
      if (spec.subscribe) socket.send(spec.subscribe);
      else {
        subscribed = true;
        resolve();
      }
    });
    socket.on('message', (data: Buffer) => {
      if (!subscribed) {
        if (data.includes('"subscribed"')) {
          subscribed = true;
          resolve();
        }
        return;
      }
      received(data);
    });
    socket.on('error', (error) => {
      if (!subscribed) reject(error);
    });
    socket.on('close', (code) => noteClosed(String(code)));
    sockets.push(socket);
  });
}

function openStream(spec: ConnectSpec): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(spec.url, { headers: { accept: 'text/event-stream', ...spec.headers } }, (response) => {
      if (response.statusCode !== 200) {
        reject(new Error(`event stream answered ${response.statusCode}`));
        response.resume();
        return;
      }
      streams.push(response);
      response.on('close', () => noteClosed('stream'));
      let started = false;
      // A frame may be split between chunks: look at the end of the previous one too, one byte short of a marker
      // (markers are MARKER_LENGTH characters), so no marker is seen twice.
      let tail: Buffer = Buffer.alloc(0);
      response.on('data', (chunk: Buffer) => {
        if (!started) {
          started = true;
          resolve();
        }
        const joined = tail.length > 0 ? Buffer.concat([tail, chunk]) : chunk;
        received(joined);
        tail = joined.subarray(Math.max(0, joined.length - (MARKER_LENGTH - 1)));
      });
    });
    request.on('error', reject);
    request.end();
  });
}

async function connect(spec: ConnectSpec): Promise<{ ms: number; connected: number }> {
  const started = now();
  let next = 0;
  const lane = async () => {
    while (next < spec.count) {
      next += 1;
      await (spec.transport === 'ws' ? openWebSocket(spec) : openStream(spec));
    }
  };
  await Promise.all(Array.from({ length: Math.min(spec.batch, spec.count) }, lane));
  return { ms: now() - started, connected: spec.transport === 'ws' ? sockets.length : streams.length };
}

async function body(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {};
}

const control = createServer((request, response) => {
  const reply = (status: number, value?: unknown) => {
    response
      .writeHead(status, { 'content-type': 'application/json' })
      .end(value === undefined ? '' : JSON.stringify(value));
  };
  const url = new URL(request.url ?? '/', 'http://control');
  void (async () => {
    if (request.method === 'POST' && url.pathname === '/connect') {
      return reply(200, await connect((await body(request)) as ConnectSpec));
    }
    if (request.method === 'POST' && url.pathname === '/expect') {
      const { marker } = (await body(request)) as { marker: string };
      expected.set(marker, {
        marker: Buffer.from(marker),
        receipts: { count: 0, first: null, last: null, sample: null },
      });
      return reply(204);
    }
    if (url.pathname === '/receipts') {
      const marker = url.searchParams.get('marker') ?? '';
      const receipts = expected.get(marker)?.receipts ?? { count: 0, first: null, last: null, sample: null };
      return reply(200, { ...receipts, sample: url.searchParams.has('sample') ? receipts.sample : undefined, closed });
    }
    if (request.method === 'POST' && url.pathname === '/forget') {
      expected.clear();
      return reply(204);
    }
    if (request.method === 'POST' && url.pathname === '/close') {
      // Closed on purpose: not counted as dropped by the server (the close events come after this turn).
      closing = true;
      for (const socket of sockets.splice(0)) socket.terminate();
      for (const stream of streams.splice(0)) stream.destroy();
      setTimeout(() => {
        closing = false;
        for (const key of Object.keys(closed)) delete closed[key];
      }, 1000);
      return reply(204);
    }
    reply(404);
  })().catch((error: unknown) => reply(500, { error: String(error) }));
});

control.listen(Number(process.env.CONTROL_PORT), '127.0.0.1', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => process.exit(0));

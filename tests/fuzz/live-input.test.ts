/**
 * Fuzzing the live endpoints' input (issue 14), over real connections: what `GET /api/v1/live` (WebSocket) and
 * `GET /api/v1/live/sse` (Server-Sent Events) take from a client — the handshake's query and headers, and on a
 * WebSocket every frame. Whatever arrives:
 * - a refused handshake or stream is a documented 4xx with the usual JSON error body, never a 5xx;
 * - each frame is answered with frames of the protocol (src/realtime/README.md; an `error` frame with a documented
 *   code, never `internal_error`), or the socket is closed with a documented code;
 * - the socket is never stuck: a `ping` after the sequence is answered with `pong` unless the socket was closed;
 * - and the process still serves (GET /healthz) at the end.
 * Seeded and bounded like the contract fuzzer (FUZZ_SEED, FUZZ_RUNS).
 */
import { request as httpRequest, validateHeaderValue } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { LIVE_PATH, LIVE_SSE_PATH } from '../../src/http/plugins/live.js';
import { percentEncode } from '../helpers/fuzz/contract.js';
import { NASTY_HEADER_VALUES, NASTY_STRINGS } from '../helpers/fuzz/corpus.js';
import { hostileValue } from '../helpers/fuzz/schema-arbitrary.js';
import { createFuzzWorld, type FuzzWorld } from '../helpers/fuzz/world.js';
import { waitFor } from '../helpers/wait.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 30);
const SEED = Number(process.env.FUZZ_SEED ?? 20261207);

/** Close codes of src/realtime/README.md (1006 is no close frame: a missed ping, which these tests never cause). */
const DOCUMENTED_CLOSE_CODES = [1001, 1007, 1008, 1009, 1013, 4401];
const SERVER_FRAME_TYPES = [
  'subscribed',
  'unsubscribed',
  'replayed',
  'reset',
  'pong',
  'error',
  'announcement.published',
  'announcement.updated',
  'announcement.retracted',
  'read.changed',
  'acknowledged',
];
const ERROR_CODES = ['bad_frame', 'too_many_channels', 'replay_unavailable'];

let world: FuzzWorld;
let maxPayload: number;

beforeAll(async () => {
  world = await createFuzzWorld();
  maxPayload = world.ctx.config.ws.maxPayloadBytes;
});

afterAll(async () => {
  await world?.close();
});

// ---- frames ----

type Frame =
  | { kind: 'text'; data: string }
  | { kind: 'binary'; data: Buffer }
  /** A text frame whose bytes are not UTF-8. */
  | { kind: 'notUtf8' }
  /** A text frame one byte over WS_MAX_PAYLOAD_BYTES. */
  | { kind: 'oversize' };

function frameArbitrary(): fc.Arbitrary<Frame> {
  const slug = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...world.pools.slug, 'no-such-channel') },
    { weight: 2, arbitrary: fc.constantFrom(...NASTY_STRINGS.filter((s) => s.length <= 64)) },
    { weight: 1, arbitrary: hostileValue },
  );
  const channels = fc.oneof(
    { weight: 6, arbitrary: fc.array(slug, { minLength: 1, maxLength: 4 }) },
    { weight: 1, arbitrary: fc.array(fc.constantFrom(...world.pools.slug), { minLength: 60, maxLength: 80 }) },
    { weight: 1, arbitrary: hostileValue },
  );
  const since = fc.oneof(
    fc.constant(undefined),
    fc.constantFrom('0', '1', '9223372036854775807', '9223372036854775808', '-1', '01', 1, null),
    hostileValue,
  );
  const json = (value: unknown): Frame => ({ kind: 'text', data: JSON.stringify(value) ?? 'undefined' });
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ channels, since }).map((f) => json({ type: 'subscribe', ...f })) },
    { weight: 2, arbitrary: channels.map((c) => json({ type: 'unsubscribe', channels: c })) },
    { weight: 2, arbitrary: fc.constant(json({ type: 'ping' })) },
    {
      weight: 3,
      arbitrary: fc
        .constantFrom(
          '{',
          'null',
          '[]',
          '"ping"',
          '1e999',
          '{"type":"nope"}',
          '{"type":"ping","extra":1}',
          '{"type":"subscribe"}',
          '{"type":"subscribe","channels":"a"}',
          '{"type":"subscribe","channels":[]}',
          '{"type":"subscribe","channels":[1,{},null]}',
          '{"type":"subscribe","channels":["a\\u0000b"]}',
          '{"type":"subscribe","channels":["\\ud800"]}',
          '{"__proto__":{"type":"ping"}}',
          `${'['.repeat(1000)}${']'.repeat(1000)}`,
          '',
        )
        .map((data): Frame => ({ kind: 'text', data })),
    },
    { weight: 1, arbitrary: fc.record({ type: hostileValue, channels: hostileValue }).map(json) },
    {
      weight: 1,
      arbitrary: fc.uint8Array({ maxLength: 64 }).map((b): Frame => ({ kind: 'binary', data: Buffer.from(b) })),
    },
    { weight: 1, arbitrary: fc.constant<Frame>({ kind: 'notUtf8' }) },
    { weight: 1, arbitrary: fc.constant<Frame>({ kind: 'oversize' }) },
  );
}

interface Socket {
  ws: WebSocket;
  frames: Record<string, unknown>[];
  closed?: { code: number };
}

async function openSocket(query = '', headers: Record<string, string> = {}): Promise<Socket> {
  const ws = new WebSocket(`${world.address.replace('http', 'ws')}${LIVE_PATH}${query}`, { headers });
  const socket: Socket = { ws, frames: [] };
  ws.on('message', (data, isBinary) => {
    const text = data.toString();
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      frame = { type: `not JSON: ${text.slice(0, 80)}` };
    }
    socket.frames.push(isBinary ? { type: 'a binary frame' } : (frame as Record<string, unknown>));
  });
  ws.on('close', (code) => {
    socket.closed = { code };
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return socket;
}

function sendFrame(socket: Socket, frame: Frame): void {
  if (socket.ws.readyState !== WebSocket.OPEN) return;
  switch (frame.kind) {
    case 'text':
      socket.ws.send(frame.data);
      break;
    case 'binary':
      socket.ws.send(frame.data, { binary: true });
      break;
    case 'notUtf8':
      // ws does not check what it sends: a text frame with a lone continuation byte and an invalid lead.
      socket.ws.send(Buffer.from([0x7b, 0x80, 0xff, 0x7d]), { binary: false });
      break;
    case 'oversize':
      socket.ws.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(maxPayload) }));
      break;
  }
}

/** What is wrong with the frames a socket was sent, or null. */
function frameProblem(socket: Socket): string | null {
  for (const frame of socket.frames) {
    if (!SERVER_FRAME_TYPES.includes(String(frame.type))) return `a frame of no known type: ${JSON.stringify(frame)}`;
    if (frame.type === 'error' && !ERROR_CODES.includes(String(frame.code))) {
      return `an error frame with code ${JSON.stringify(frame.code)}: ${JSON.stringify(frame)}`;
    }
  }
  if (socket.closed && !DOCUMENTED_CLOSE_CODES.includes(socket.closed.code)) {
    return `closed with ${socket.closed.code}, which src/realtime/README.md does not document`;
  }
  return null;
}

describe('WebSocket frames', () => {
  it('answers any sequence of frames with protocol frames or a documented close, and is never stuck', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(frameArbitrary(), { minLength: 1, maxLength: 10 }), async (frames) => {
        const socket = await openSocket();
        try {
          for (const frame of frames) sendFrame(socket, frame);
          const pings = frames.filter((f) => f.kind === 'text' && f.data === '{"type":"ping"}').length + 1;
          sendFrame(socket, { kind: 'text', data: '{"type":"ping"}' });
          await waitFor(
            () => socket.closed !== undefined || socket.frames.filter((f) => f.type === 'pong').length >= pings,
            { what: `a pong for each of ${pings} pings, or a close, after ${JSON.stringify(frames).slice(0, 500)}` },
          );
          const problem = frameProblem(socket);
          if (problem) throw new Error(`${problem}\n  frames sent: ${JSON.stringify(frames).slice(0, 1000)}`);
          if (frames.some((f) => f.kind === 'oversize') && socket.closed) {
            // An oversized frame closes with 1009 at once (unless an earlier frame already closed the socket).
            const first = frames.findIndex((f) => f.kind === 'oversize' || f.kind === 'notUtf8');
            if (frames[first]?.kind === 'oversize') expect(socket.closed.code).toBe(1009);
          }
        } finally {
          socket.ws.terminate();
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
  });

  it('closes a socket with 1009 for an oversized frame and 1007 for one that is not UTF-8', async () => {
    for (const [frame, code] of [
      [{ kind: 'oversize' }, 1009],
      [{ kind: 'notUtf8' }, 1007],
    ] as const) {
      const socket = await openSocket();
      sendFrame(socket, frame);
      await waitFor(() => socket.closed, { what: `a close with ${code}` });
      expect(socket.closed?.code).toBe(code);
    }
  });

  it('refuses hostile slugs with a bad_frame error, not an internal_error', async () => {
    const socket = await openSocket();
    try {
      const hostile = ['a\u0000b', '\ud800', 'a\u202eb', 'x\u200by'];
      for (const slug of hostile)
        sendFrame(socket, { kind: 'text', data: JSON.stringify({ type: 'subscribe', channels: [slug] }) });
      await waitFor(() => socket.frames.length >= hostile.length, { what: 'an answer to each frame' });
      expect(socket.frames.map((f) => f.code)).toEqual(hostile.map(() => 'bad_frame'));
    } finally {
      socket.ws.terminate();
    }
  });

  it('survives a flood of subscribe frames: answered in order, or closed with 1008, never stuck', async () => {
    const socket = await openSocket();
    try {
      const slugs = world.pools.slug;
      for (let i = 0; i < 500; i++) {
        sendFrame(socket, {
          kind: 'text',
          data: JSON.stringify({ type: 'subscribe', channels: [slugs[i % slugs.length]] }),
        });
      }
      sendFrame(socket, { kind: 'text', data: '{"type":"ping"}' });
      await waitFor(() => socket.closed !== undefined || socket.frames.some((f) => f.type === 'pong'), {
        what: 'the flood to be answered or the socket closed',
      });
      expect(frameProblem(socket)).toBeNull();
      // 500 frames at once are more than 32 waiting to be handled.
      expect(socket.closed?.code).toBe(1008);
    } finally {
      socket.ws.terminate();
    }
  });
});

// ---- the handshakes' query and headers ----

interface HandshakeInput {
  query: Record<string, unknown>;
  headers: Record<string, string>;
}

function handshakeArbitrary(withChannels: boolean): fc.Arbitrary<HandshakeInput> {
  const optional = <T>(arbitrary: fc.Arbitrary<T>) =>
    fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary });
  const text = fc.oneof(fc.constantFrom(...NASTY_STRINGS), hostileValue);
  const channels = fc.oneof(
    { weight: 4, arbitrary: fc.subarray(world.pools.slug, { minLength: 1 }).map((s) => s.join(',')) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        ',',
        'a,,b',
        `${world.pools.slug[0]},${'x'.repeat(70)}`,
        Array(60).fill('a').join(','),
      ),
    },
    { weight: 2, arbitrary: text },
  );
  return fc
    .record({
      query: fc.record({
        ...(withChannels ? { channels: optional(channels).map((c) => c ?? world.pools.slug[0]) } : {}),
        since: optional(fc.oneof(fc.constantFrom('0', '5', '9223372036854775808', '-1', '1e3'), text)),
        ticket: optional(text),
        lang: optional(fc.oneof(fc.constantFrom('nb', 'nn', 'en', 'sv', 'NB'), text)),
        token: optional(fc.constant('mkt_secret')),
        extra: optional(text),
      }),
      headers: fc.record({
        origin: optional(
          fc.oneof(fc.constantFrom('https://evil.example', 'null'), fc.constantFrom(...NASTY_HEADER_VALUES)),
        ),
        authorization: optional(
          fc.oneof(fc.constant(`Bearer ${world.adminToken}`), fc.constantFrom(...NASTY_HEADER_VALUES)),
        ),
        'accept-language': optional(fc.constantFrom(...NASTY_HEADER_VALUES)),
        'last-event-id': optional(
          fc.oneof(fc.constantFrom('0', '12', '99999999999999999999'), fc.constantFrom(...NASTY_HEADER_VALUES)),
        ),
      }),
    })
    .map(({ query, headers }) => ({
      query,
      // Only what Node can put on the wire (CR, LF and NUL cannot be sent; the HTTP parser refuses them anyway).
      headers: Object.fromEntries(
        Object.entries(headers).filter(([name, value]) => {
          if (value === undefined) return false;
          try {
            validateHeaderValue(name, value);
            return true;
          } catch {
            return false;
          }
        }),
      ) as Record<string, string>,
    }));
}

function queryString(query: Record<string, unknown>): string {
  const parts = Object.entries(query)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${percentEncode(typeof v === 'string' ? v : (JSON.stringify(v) ?? ''))}`);
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

function documentedStatuses(path: string): string[] {
  return Object.keys(world.doc.paths?.[path]?.get?.responses ?? {});
}

/** A refused handshake or stream: a documented 4xx with the usual error body. */
function refusalProblem(path: string, status: number, body: string): string | null {
  if (status >= 500) return `answered ${status}: ${body.slice(0, 300)}`;
  // Node's HTTP parser answers a request line and headers over 16 KiB (maxHeaderSize) itself, before the app.
  if (status === 431) return null;
  if (!documentedStatuses(path).includes(String(status))) return `answered ${status}, which is not documented`;
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown }; requestId?: unknown };
    if (typeof parsed.error?.code !== 'string' || typeof parsed.requestId !== 'string')
      return `not an error body: ${body}`;
  } catch {
    return `answered ${status} with a body that is not JSON: ${body.slice(0, 300)}`;
  }
  return null;
}

describe('handshakes', () => {
  it('opens a WebSocket or refuses it with a documented 4xx and an error body', async () => {
    await fc.assert(
      fc.asyncProperty(handshakeArbitrary(false), async ({ query, headers }) => {
        const url = `${world.address.replace('http', 'ws')}${LIVE_PATH}${queryString(query)}`;
        const outcome = await new Promise<{ opened: true } | { status: number; body: string }>((resolve, reject) => {
          const ws = new WebSocket(url, { headers });
          ws.once('open', () => {
            ws.terminate();
            resolve({ opened: true });
          });
          ws.once('unexpected-response', (_req, res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              body += chunk;
            });
            res.on('end', () => {
              ws.terminate();
              resolve({ status: res.statusCode ?? 0, body });
            });
          });
          ws.once('error', (error) => reject(new Error(`the handshake failed without an answer: ${error.message}`)));
        });
        if ('status' in outcome) {
          const problem = refusalProblem(LIVE_PATH, outcome.status, outcome.body);
          if (problem) throw new Error(`${problem}\n  ${url} ${JSON.stringify(headers)}`);
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
  });

  it('starts an event stream with `subscribed`, or refuses it with a documented 4xx and an error body', async (test) => {
    if (!world.doc.paths?.[LIVE_SSE_PATH]) test.skip();
    await fc.assert(
      fc.asyncProperty(handshakeArbitrary(true), async ({ query, headers }) => {
        const url = `${world.address}${LIVE_SSE_PATH}${queryString(query)}`;
        const outcome = await new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
          // A connection per request: a kept-alive one the server closes meanwhile would be a "socket hang up" of ours.
          const req = httpRequest(url, { headers, agent: false }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            const type = String(res.headers['content-type'] ?? '');
            res.on('data', (chunk: string) => {
              body += chunk;
              // A stream: its first frame is enough.
              if (res.statusCode === 200 && /\ndata: .*\n\n/.test(body)) {
                req.destroy();
                resolve({ status: 200, type, body });
              }
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, type, body }));
          });
          req.on('error', (error) => {
            if (!req.destroyed) reject(error);
          });
          req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
          req.end();
        });
        const where = `\n  ${url} ${JSON.stringify(headers)}`;
        if (outcome.status === 200) {
          expect(outcome.type, where).toMatch(/^text\/event-stream/);
          const first = /\ndata: (.*)\n\n/.exec(outcome.body)?.[1];
          expect(JSON.parse(first ?? '{}').type, where).toBe('subscribed');
        } else {
          const problem = refusalProblem(LIVE_SSE_PATH, outcome.status, outcome.body);
          if (problem) throw new Error(`${problem}${where}`);
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
  });

  it('still serves afterwards', async () => {
    expect((await world.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});

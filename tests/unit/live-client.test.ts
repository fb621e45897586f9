/**
 * The browser's live client (src/web/client/live/) without a browser: back-off, frame parsing, the event-stream
 * parser, positions and de-duplication, list merging, and the connection's behaviour (resume, fallback to SSE,
 * heartbeats, reset, refusals) over fake ports and fake timers.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  compareForDisplay,
  mergeAnnouncements,
  removeAnnouncement,
  upsertAnnouncement,
} from '../../src/web/client/live/announcements.js';
import { DEFAULT_BACKOFF, reconnectDelay } from '../../src/web/client/live/backoff.js';
import {
  createLiveConnection,
  type LiveOptions,
  type LivePorts,
  type LiveStatus,
  STABLE_MS,
} from '../../src/web/client/live/connection.js';
import { comparePositions, type LiveAnnouncement, parseServerFrame } from '../../src/web/client/live/frames.js';
import { createPositionTracker } from '../../src/web/client/live/positions.js';
import { createSseParser } from '../../src/web/client/live/sse.js';

describe('reconnectDelay', () => {
  it('doubles its ceiling per attempt up to the maximum, and draws from the upper half (equal jitter)', () => {
    expect(reconnectDelay(0, () => 0)).toBe(250);
    expect(reconnectDelay(0, () => 0.999_999)).toBe(500);
    expect(reconnectDelay(3, () => 0)).toBe(2000);
    expect(reconnectDelay(3, () => 0.5)).toBe(3000);
    expect(reconnectDelay(20, () => 0.999_999)).toBe(DEFAULT_BACKOFF.maxMs);
    expect(reconnectDelay(1000, () => 0)).toBe(DEFAULT_BACKOFF.maxMs / 2);
    expect(reconnectDelay(-1, () => 0)).toBe(250);
  });

  it('spreads clients: different random draws give different delays within [ceiling/2, ceiling]', () => {
    const delays = Array.from({ length: 200 }, () => reconnectDelay(4));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(4000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(8000);
    expect(new Set(delays).size).toBeGreaterThan(50);
  });
});

describe('parseServerFrame', () => {
  const announcement = { id: 'a1', channel: 'c', title: 'T' };

  it('accepts the frames the client acts on', () => {
    expect(
      parseServerFrame(
        JSON.stringify({ type: 'announcement.published', eventId: '12', channel: 'c', channelId: 'x', announcement }),
      ),
    ).toMatchObject({ type: 'announcement.published', eventId: '12' });
    expect(parseServerFrame('{"type":"reset","channels":["c"],"reason":"too_old","eventId":"99"}')).toMatchObject({
      type: 'reset',
      eventId: '99',
    });
    expect(parseServerFrame('{"type":"pong"}')).toEqual({ type: 'pong' });
    expect(parseServerFrame('{"type":"subscribed","channels":["c"],"denied":[]}')).toMatchObject({
      type: 'subscribed',
    });
  });

  it('drops what is not a frame it knows, rather than guessing', () => {
    for (const text of [
      'not json',
      'null',
      '[]',
      '"pong"',
      '{"type":"constructor"}',
      '{"type":"toString"}',
      '{"type":"announcement.typo","eventId":"1","channel":"c"}',
      '{"type":"something.new"}',
      JSON.stringify({ type: 'announcement.published', eventId: 12, channel: 'c', announcement }),
      JSON.stringify({ type: 'announcement.published', eventId: '1e3', channel: 'c', announcement }),
      JSON.stringify({ type: 'announcement.published', eventId: '12', announcement }),
      JSON.stringify({ type: 'announcement.published', eventId: '12', channel: 'c' }),
      JSON.stringify({ type: 'announcement.retracted', eventId: '12', channel: 'c' }),
      '{"type":"reset","channels":["c"],"reason":"too_old"}',
      '{"type":"subscribed","channels":"c","denied":[]}',
    ]) {
      expect(parseServerFrame(text), text).toBeUndefined();
    }
  });
});

describe('comparePositions', () => {
  it('orders decimal strings beyond the safe integers, ignoring leading zeros', () => {
    expect(comparePositions('9', '10')).toBeLessThan(0);
    expect(comparePositions('10', '9')).toBeGreaterThan(0);
    expect(comparePositions('0010', '10')).toBe(0);
    expect(comparePositions('0', '0')).toBe(0);
    expect(comparePositions('90071992547409931', '90071992547409930')).toBeGreaterThan(0);
  });
});

describe('the position tracker', () => {
  it('keeps the highest position and drops positions it has seen', () => {
    const tracker = createPositionTracker('5');
    expect(tracker.position).toBe('5');
    expect(tracker.accept('7')).toBe(true);
    expect(tracker.accept('6')).toBe(true);
    expect(tracker.position).toBe('7');
    expect(tracker.accept('7')).toBe(false);
    expect(tracker.accept('6')).toBe(false);
    expect(tracker.position).toBe('7');
  });

  it('remembers a bounded number of positions', () => {
    const tracker = createPositionTracker(undefined, 3);
    for (const p of ['1', '2', '3', '4']) tracker.accept(p);
    expect(tracker.accept('1')).toBe(true);
    expect(tracker.accept('4')).toBe(false);
  });

  it('after a reset continues from its position, even a lower one, and forgets what it saw', () => {
    const tracker = createPositionTracker();
    tracker.accept('50');
    tracker.resetTo('20');
    expect(tracker.position).toBe('20');
    expect(tracker.accept('50')).toBe(true);
  });
});

describe('the event-stream parser', () => {
  function parse(chunks: string[]) {
    const events: { data: string; id: string }[] = [];
    let comments = 0;
    const retries: number[] = [];
    const parser = createSseParser({
      event: (data, id) => events.push({ data, id }),
      comment: () => {
        comments += 1;
      },
      retry: (ms) => retries.push(ms),
    });
    for (const chunk of chunks) parser.push(chunk);
    return { events, comments, retries };
  }

  it('reads events, ids, retry and comments, whatever the chunking and line breaks', () => {
    const stream =
      '\uFEFFretry: 2500\n\n: heartbeat\n\nid: 7\ndata: {"a":1}\n\ndata:x\r\ndata: y\r\n\r\nid: 8\rdata: z\r\r\n';
    const whole = parse([stream]);
    expect(whole.events).toEqual([
      { data: '{"a":1}', id: '7' },
      { data: 'x\ny', id: '7' },
      { data: 'z', id: '8' },
    ]);
    expect(whole.comments).toBe(1);
    expect(whole.retries).toEqual([2500]);
    // Byte by byte, a CRLF split between two chunks included.
    expect(parse([...stream]).events).toEqual(whole.events);
  });

  it('sends nothing for an event without data, nor before its blank line', () => {
    expect(parse(['id: 3\n\nevent: x\n\n']).events).toEqual([]);
    expect(parse(['data: half']).events).toEqual([]);
    expect(parse(['data: a\n', '\n']).events).toEqual([{ data: 'a', id: '' }]);
    expect(parse(['retry: soon\n\n']).retries).toEqual([]);
  });
});

describe('merging announcements', () => {
  const item = (id: string, publishedAt: string, pinned?: boolean): LiveAnnouncement => ({
    id,
    channel: 'c',
    language: 'nb',
    title: id,
    summary: null,
    importance: 'info',
    publishedAt,
    expiresAt: null,
    ...(pinned === undefined ? {} : { pinned }),
  });

  it('orders pinned first, then newest first', () => {
    const list = [
      item('a', '2026-01-01T10:00:00Z'),
      item('b', '2026-01-02T10:00:00Z'),
      item('p', '2025-01-01T00:00:00Z', true),
    ];
    expect([...list].sort(compareForDisplay).map((a) => a.id)).toEqual(['p', 'b', 'a']);
  });

  it('upserts by id, keeping a pinned mark the live frame does not carry', () => {
    let list = [item('p', '2025-01-01T00:00:00Z', true), item('a', '2026-01-01T10:00:00Z')];
    list = upsertAnnouncement(list, { ...item('p', '2025-01-01T00:00:00Z'), title: 'edited' });
    expect(list.map((a) => [a.id, a.title, a.pinned])).toEqual([
      ['p', 'edited', true],
      ['a', 'a', undefined],
    ]);
    list = upsertAnnouncement(list, item('n', '2026-02-01T10:00:00Z'));
    list = upsertAnnouncement(list, item('n', '2026-02-01T10:00:00Z'));
    expect(list.map((a) => a.id)).toEqual(['p', 'n', 'a']);
    expect(removeAnnouncement(list, 'n').map((a) => a.id)).toEqual(['p', 'a']);
  });

  it('merges pages with each announcement once, a pinned copy winning', () => {
    const merged = mergeAnnouncements([
      [item('p', '2025-01-01T00:00:00Z', true), item('a', '2026-01-01T10:00:00Z')],
      [item('b', '2026-01-03T10:00:00Z'), item('p', '2025-01-01T00:00:00Z', false)],
    ]);
    expect(merged.map((a) => [a.id, Boolean(a.pinned)])).toEqual([
      ['p', true],
      ['b', false],
      ['a', false],
    ]);
  });
});

/** Fake ports: sockets and streams the test drives by hand, the page's events, and a clock on fake timers. */
function fakePorts() {
  const sockets: {
    url: string;
    sent: string[];
    closed: boolean;
    events: Parameters<LivePorts['openSocket']>[1];
  }[] = [];
  const streams: {
    url: string;
    credentials: string;
    aborted: boolean;
    events: Parameters<LivePorts['openStream']>[2];
  }[] = [];
  let page: Parameters<LivePorts['watch']>[0] | undefined;
  let unwatched = false;
  let online = true;
  const ports: LivePorts = {
    openSocket(url, events) {
      const socket = { url, sent: [] as string[], closed: false, events };
      sockets.push(socket);
      return {
        send: (text) => socket.sent.push(text),
        close: () => {
          socket.closed = true;
        },
      };
    },
    openStream(url, credentials, events) {
      const stream = { url, credentials, aborted: false, events };
      streams.push(stream);
      return {
        abort: () => {
          stream.aborted = true;
        },
      };
    },
    now: () => Date.now(),
    random: () => 0,
    online: () => online,
    watch(events) {
      page = events;
      return () => {
        unwatched = true;
      };
    },
  };
  return {
    ports,
    sockets,
    streams,
    page: () => page!,
    setOnline(value: boolean) {
      online = value;
    },
    get unwatched() {
      return unwatched;
    },
    lastSocket: () => sockets.at(-1)!,
    lastStream: () => streams.at(-1)!,
  };
}

const published = (eventId: string, id = `a${eventId}`) =>
  JSON.stringify({
    type: 'announcement.published',
    eventId,
    channel: 'c',
    channelId: 'x',
    announcement: { id, channel: 'c', title: id },
  });
const SUBSCRIBED = JSON.stringify({ type: 'subscribed', channels: ['c'], denied: [] });

describe('the live connection', () => {
  let fake: ReturnType<typeof fakePorts>;
  let frames: { type: string; eventId?: string }[];
  let resets: { channels: readonly string[]; reason: string }[];
  let statuses: LiveStatus[];

  beforeEach(() => {
    vi.useFakeTimers();
    fake = fakePorts();
    frames = [];
    resets = [];
    statuses = [];
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function open(options: Partial<LiveOptions> = {}) {
    return createLiveConnection(
      {
        service: 'https://meldinger.example',
        channels: ['c', 'd'],
        lang: 'nn',
        onFrame: (frame) => frames.push(frame as never),
        onReset: (channels, reason) => resets.push({ channels, reason }),
        onStatus: (status) => statuses.push(status),
        ...options,
      },
      fake.ports,
    );
  }

  it('subscribes over a WebSocket, hands on each event once, and resumes from the highest position', () => {
    const live = open();
    const first = fake.lastSocket();
    expect(first.url).toBe('wss://meldinger.example/api/v1/live?lang=nn');
    first.events.open();
    expect(JSON.parse(first.sent[0]!)).toEqual({ type: 'subscribe', channels: ['c', 'd'] });
    first.events.message(SUBSCRIBED);
    expect(statuses.at(-1)).toEqual({ state: 'live', transport: 'websocket', reconnected: false });
    first.events.message(published('10'));
    first.events.message(published('11'));
    first.events.message(published('10'));
    expect(live.position).toBe('11');

    first.events.close(1006);
    expect(statuses.at(-1)).toMatchObject({ state: 'waiting', retryInMs: 250 });
    vi.advanceTimersByTime(250);
    const second = fake.lastSocket();
    second.events.open();
    expect(JSON.parse(second.sent[0]!)).toEqual({ type: 'subscribe', channels: ['c', 'd'], since: '11' });
    second.events.message(SUBSCRIBED);
    expect(statuses.at(-1)).toMatchObject({ state: 'live', reconnected: true });
    // The replay overlapping what came live: only the new one is handed on.
    second.events.message(published('11'));
    second.events.message(published('12'));
    expect(frames.filter((f) => f.type === 'announcement.published').map((f) => f.eventId)).toEqual(['10', '11', '12']);
    live.close();
    expect(second.closed).toBe(true);
    expect(fake.unwatched).toBe(true);
  });

  it('backs off exponentially while attempts fail, and starts over after a connection that lasted', () => {
    open({ transport: 'websocket' });
    const delays: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      fake.lastSocket().events.close(1006);
      delays.push(statuses.at(-1)!.retryInMs!);
      vi.advanceTimersByTime(statuses.at(-1)!.retryInMs!);
    }
    expect(delays).toEqual([250, 500, 1000, 2000]);
    const socket = fake.lastSocket();
    socket.events.open();
    socket.events.message(SUBSCRIBED);
    vi.advanceTimersByTime(STABLE_MS);
    // Heartbeats kept it up meanwhile; then it is cut.
    for (const sent of socket.sent.slice(1)) expect(sent).toBe('{"type":"ping"}');
    socket.events.close(1001);
    expect(statuses.at(-1)!.retryInMs).toBe(250);
  });

  it('falls back to Server-Sent Events after two WebSocket attempts that never got subscribed, and resumes there', () => {
    const live = open({ since: '40' });
    fake.lastSocket().events.close(1006);
    vi.advanceTimersByTime(250);
    fake.lastSocket().events.open();
    fake.lastSocket().events.close(1006);
    vi.advanceTimersByTime(500);
    expect(fake.sockets).toHaveLength(2);
    expect(live.transport).toBe('sse');
    const stream = fake.lastStream();
    expect(stream.url).toBe('https://meldinger.example/api/v1/live/sse?channels=c%2Cd&since=40&lang=nn');
    expect(stream.credentials).toBe('same-origin');
    stream.events.response(200);
    stream.events.chunk(`retry: 3000\n\ndata: ${SUBSCRIBED}\n\nid: 41\ndata: ${published('41')}\n\n`);
    expect(statuses.at(-1)).toMatchObject({ state: 'live', transport: 'sse' });
    expect(live.position).toBe('41');
    // The stream ends (the server restarts): the server's retry: is honoured for the first attempt.
    stream.events.end();
    expect(statuses.at(-1)).toMatchObject({ state: 'waiting', retryInMs: 3000 });
    vi.advanceTimersByTime(3000);
    expect(fake.lastStream().url).toContain('since=41');
    expect(fake.sockets).toHaveLength(2);
  });

  it('does not count WebSocket failures while the device is offline: it stays on WebSockets', () => {
    const live = open();
    fake.setOnline(false);
    for (let i = 0; i < 4; i += 1) {
      fake.lastSocket().events.close(1006);
      vi.advanceTimersByTime(statuses.at(-1)!.retryInMs!);
    }
    fake.setOnline(true);
    fake.page().online();
    expect(live.transport).toBe('websocket');
    expect(fake.streams).toHaveLength(0);
    expect(fake.sockets.length).toBeGreaterThanOrEqual(5);
  });

  it('pings a quiet WebSocket and gives it up when the pong does not come', () => {
    open({ heartbeatMs: 1000, pongTimeoutMs: 300 });
    const socket = fake.lastSocket();
    socket.events.open();
    socket.events.message(SUBSCRIBED);
    vi.advanceTimersByTime(1000);
    expect(socket.sent.at(-1)).toBe('{"type":"ping"}');
    socket.events.message('{"type":"pong"}');
    vi.advanceTimersByTime(1000);
    expect(socket.sent.filter((s) => s.includes('ping'))).toHaveLength(2);
    vi.advanceTimersByTime(299);
    expect(socket.closed).toBe(false);
    vi.advanceTimersByTime(1);
    expect(socket.closed).toBe(true);
    expect(statuses.at(-1)).toMatchObject({ state: 'waiting' });
    expect(frames.some((f) => f.type === 'pong')).toBe(false);
  });

  it('gives up an event stream that stays silent past streamSilenceMs; heartbeat comments keep it', () => {
    open({ transport: 'sse', streamSilenceMs: 1000 });
    const stream = fake.lastStream();
    stream.events.response(200);
    stream.events.chunk(`data: ${SUBSCRIBED}\n\n`);
    vi.advanceTimersByTime(900);
    stream.events.chunk(': heartbeat\n\n');
    vi.advanceTimersByTime(900);
    expect(stream.aborted).toBe(false);
    vi.advanceTimersByTime(100);
    expect(stream.aborted).toBe(true);
    expect(statuses.at(-1)).toMatchObject({ state: 'waiting' });
  });

  it('checks the connection when the page comes back, and reconnects at once when the network does', () => {
    open({ pongTimeoutMs: 300 });
    const socket = fake.lastSocket();
    socket.events.open();
    socket.events.message(SUBSCRIBED);
    fake.page().wake();
    expect(socket.sent.at(-1)).toBe('{"type":"ping"}');
    vi.advanceTimersByTime(300);
    expect(socket.closed).toBe(true);
    // Waiting for the back-off: the network returning does not wait for it.
    expect(statuses.at(-1)).toMatchObject({ state: 'waiting' });
    fake.page().online();
    expect(fake.sockets).toHaveLength(2);
  });

  it('reopens an event stream when the network returns (its connection is likely gone; nothing is lost)', () => {
    open({ transport: 'sse' });
    fake.lastStream().events.response(200);
    fake.lastStream().events.chunk(`data: ${SUBSCRIBED}\n\nid: 5\ndata: ${published('5')}\n\n`);
    fake.page().online();
    expect(fake.streams[0]!.aborted).toBe(true);
    vi.advanceTimersByTime(250);
    expect(fake.lastStream().url).toContain('since=5');
  });

  it('hands a reset to onReset and continues from its position', () => {
    const live = open({ since: '900' });
    const socket = fake.lastSocket();
    socket.events.open();
    socket.events.message(SUBSCRIBED);
    socket.events.message('{"type":"reset","channels":["c","d"],"reason":"unknown_position","eventId":"120"}');
    expect(resets).toEqual([{ channels: ['c', 'd'], reason: 'unknown_position' }]);
    expect(live.position).toBe('120');
    expect(frames.some((f) => f.type === 'reset')).toBe(false);
    socket.events.message(published('121'));
    expect(live.position).toBe('121');
  });

  it('asks for a reload when it reconnects with no position to resume from (nothing was received before)', () => {
    open();
    fake.lastSocket().events.open();
    fake.lastSocket().events.message(SUBSCRIBED);
    expect(resets).toEqual([]);
    fake.lastSocket().events.close(1006);
    vi.advanceTimersByTime(250);
    fake.lastSocket().events.open();
    expect(JSON.parse(fake.lastSocket().sent[0]!)).toEqual({ type: 'subscribe', channels: ['c', 'd'] });
    fake.lastSocket().events.message(SUBSCRIBED);
    expect(resets).toEqual([{ channels: ['c', 'd'], reason: 'no_position' }]);
    // Once it has a position, a reconnection resumes instead.
    fake.lastSocket().events.message(published('3'));
    fake.lastSocket().events.close(1006);
    vi.advanceTimersByTime(250);
    fake.lastSocket().events.open();
    fake.lastSocket().events.message(SUBSCRIBED);
    expect(resets).toHaveLength(1);
  });

  it('treats the end of the session as a reset of every channel', () => {
    open();
    const socket = fake.lastSocket();
    socket.events.open();
    socket.events.message(SUBSCRIBED);
    socket.events.message('{"type":"unsubscribed","channels":["c","d"],"reason":"signed_out"}');
    socket.events.close(4401);
    expect(resets.map((r) => r.reason)).toEqual(['signed_out', 'signed_out']);
    expect(statuses.at(-1)).toMatchObject({ state: 'waiting' });
  });

  it('stops for good when the event stream is refused with a 4xx, and retries a 429 or 5xx', () => {
    open({ transport: 'sse' });
    fake.lastStream().events.response(503);
    expect(statuses.at(-1)).toMatchObject({ state: 'waiting' });
    vi.advanceTimersByTime(250);
    fake.lastStream().events.response(429);
    vi.advanceTimersByTime(500);
    fake.lastStream().events.response(403);
    expect(statuses.at(-1)).toEqual({ state: 'stopped', transport: 'sse', refusedWith: 403 });
    vi.advanceTimersByTime(60_000);
    expect(fake.streams).toHaveLength(3);
    expect(fake.unwatched).toBe(true);
  });

  it('ignores what a given-up attempt still reports', () => {
    open({ pongTimeoutMs: 100 });
    const old = fake.lastSocket();
    old.events.open();
    old.events.message(SUBSCRIBED);
    fake.page().wake();
    vi.advanceTimersByTime(100);
    old.events.message(published('77'));
    old.events.close(1006);
    expect(frames.filter((f) => f.type === 'announcement.published')).toEqual([]);
    expect(statuses.filter((s) => s.state === 'waiting')).toHaveLength(1);
  });
});

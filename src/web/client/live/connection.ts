/**
 * The live connection itself, written against small ports (a socket, an HTTP stream, timers' clock, page events) so
 * that it runs — and is tested — without a browser; browser.ts binds the ports to WebSocket, fetch and window.
 *
 * - Transport: a WebSocket (`/api/v1/live`) unless told otherwise; with `transport: 'auto'` (the default) two
 *   WebSocket attempts in a row that never got as far as `subscribed` (a proxy that refuses `Upgrade`, a firewall
 *   that cuts it) while the device is online switch the connection to Server-Sent Events (`/api/v1/live/sse`) for
 *   the rest of its life. Both carry the same frames.
 * - Resuming: every connection subscribes with `since` = the highest position received (or the last `reset`'s), so
 *   the server replays what was missed; positions seen recently are dropped when they come again (positions.ts).
 *   A `reset` — or the end of the session the connection was opened with, or a reconnection with no position to
 *   resume from (nothing had been received yet) — is handed to `onReset`: reload those channels over REST, the
 *   server will not replay them.
 * - Reconnecting: after any end, with jittered exponential back-off (backoff.ts); the back-off starts over once a
 *   connection has stayed up for STABLE_MS. The network coming back (`online`) reconnects at once; the page coming
 *   back (visible again, restored from the back-forward cache — a laptop that slept) checks the connection.
 * - Stalls: a WebSocket that has been quiet for `heartbeatMs` is sent a `ping` frame and must answer within
 *   `pongTimeoutMs`; an event stream must deliver something (at least the server's `: heartbeat` comment, every
 *   WS_PING_INTERVAL_MS) every `streamSilenceMs`. Otherwise it is given up and a new one opened — a socket that
 *   died while the machine slept looks open until then.
 * - Refusals an HTTP status reveals (the event stream: 4xx other than 429, such as 403 for an origin the service
 *   does not allow) stop the connection for good (`state: 'stopped'`); retrying would not help.
 */
import { type Backoff, DEFAULT_BACKOFF, reconnectDelay } from './backoff.js';
import { isPositioned, parseServerFrame, type ServerFrame } from './frames.js';
import { createPositionTracker } from './positions.js';
import { createSseParser } from './sse.js';

export type LiveTransportName = 'websocket' | 'sse';

export type LiveState = 'connecting' | 'live' | 'waiting' | 'stopped';

export interface LiveStatus {
  state: LiveState;
  transport: LiveTransportName;
  /** With `live`: this is not the first connection (state that is not replayed, like read state, may have changed). */
  reconnected?: boolean;
  /** With `waiting`: the next attempt starts in this many milliseconds. */
  retryInMs?: number;
  /** With `stopped`: the HTTP status that refused the connection. */
  refusedWith?: number;
}

export interface LiveOptions {
  /** The service's origin (`https://meldinger.example`). */
  service: string;
  /** Channel slugs (1 to the server's WS_MAX_CHANNELS_PER_SOCKET). */
  channels: readonly string[];
  /** The frames' language (nb, nn or en); without it, the signed-in user's setting or the browser's languages. */
  lang?: string;
  /** Resume after this position (one the caller received earlier, e.g. stored across page loads). */
  since?: string;
  /** `auto` (default): WebSocket, falling back to Server-Sent Events when WebSockets fail. */
  transport?: 'auto' | LiveTransportName;
  /**
   * Whether the event stream's request sends cookies (`fetch`'s credentials; default `same-origin`). A WebSocket
   * always carries the service's cookies the browser has; from another origin the server treats a widget as
   * anonymous on both because its cookies are SameSite.
   */
  credentials?: 'omit' | 'same-origin' | 'include';
  /** A quiet WebSocket is pinged after this long (default 25 s). */
  heartbeatMs?: number;
  /** …and given up when the pong has not come after this long (default 5 s). */
  pongTimeoutMs?: number;
  /** An event stream is given up after this long without a byte (default 75 s: 2.5 × the server's 30 s heartbeat). */
  streamSilenceMs?: number;
  backoff?: Backoff;
  /**
   * Every frame but `pong` and `reset`, announcement frames once each (treat them as upserts by announcement id:
   * announcements.ts). `subscribed` says which channels were `denied`.
   */
  onFrame(frame: ServerFrame): void;
  /**
   * Reload these channels over REST (GET /api/v1/channels/{slug}/announcements): the server could not replay what
   * was missed (`reason`: too_many_events, too_old, unknown_position), the session ended (`signed_out`), or the
   * connection came back without a position to resume from (`no_position`: nothing had been received before).
   */
  onReset?(channels: readonly string[], reason: string): void;
  onStatus?(status: LiveStatus): void;
}

export interface LiveConnection {
  /** The position the connection resumes from. */
  readonly position: string | undefined;
  readonly transport: LiveTransportName;
  /** Looks at once whether the connection is alive (reconnecting if it is waiting or dead). */
  check(): void;
  /** Closes it for good. */
  close(): void;
}

/** The ports the connection runs on (browser.ts binds them; tests bind fakes). */
export interface LivePorts {
  openSocket(
    url: string,
    events: { open(): void; message(text: string): void; close(code: number): void },
  ): { send(text: string): void; close(): void };
  /** A GET that expects `text/event-stream`: `response` once with the status, then `chunk`s, then `end` once. */
  openStream(
    url: string,
    credentials: 'omit' | 'same-origin' | 'include',
    events: { response(status: number): void; chunk(text: string): void; end(): void },
  ): { abort(): void };
  now(): number;
  random(): number;
  /** Whether the device says it has a network (navigator.onLine): failures while it has none say nothing. */
  online(): boolean;
  /** Calls `wake` when the page is shown again and `online` when the network returns; returns the unsubscriber. */
  watch(events: { wake(): void; online(): void }): () => void;
}

/** WebSocket attempts in a row that fail before `subscribed` before the connection switches to SSE. */
export const WEBSOCKET_FAILURES_BEFORE_SSE = 2;

/** A connection that lasted this long was a success: the next failure starts the back-off from the beginning. */
export const STABLE_MS = 10_000;

/** The close code of a WebSocket whose session or token ended (src/realtime/README.md). */
const CLOSE_SIGNED_OUT = 4401;

interface Attempt {
  transport: LiveTransportName;
  send(text: string): void;
  stop(): void;
}

type Timer = ReturnType<typeof setTimeout>;

export function createLiveConnection(options: LiveOptions, ports: LivePorts): LiveConnection {
  const tracker = createPositionTracker(options.since);
  const heartbeatMs = options.heartbeatMs ?? 25_000;
  const pongTimeoutMs = options.pongTimeoutMs ?? 5_000;
  const streamSilenceMs = options.streamSilenceMs ?? 75_000;
  const channels = [...options.channels];
  const query = (extra: Record<string, string | undefined>) => {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries({ ...extra, lang: options.lang })) {
      if (value !== undefined) params.set(name, value);
    }
    const text = params.toString();
    return text ? `?${text}` : '';
  };

  let transport: LiveTransportName = options.transport === 'sse' ? 'sse' : 'websocket';
  let current: Attempt | undefined;
  let live = false;
  let liveSince = 0;
  let everLive = false;
  let attempts = 0;
  let webSocketFailures = 0;
  let lastReceived = ports.now();
  /** The `retry:` the last event stream asked for: the first delay after that stream ends. */
  let serverRetryMs: number | undefined;
  let stopped = false;
  /** The position the current attempt subscribed with. */
  let resumedFrom: string | undefined;
  let retryTimer: Timer | undefined;
  let quietTimer: Timer | undefined;
  let pongTimer: Timer | undefined;

  const status = (value: Omit<LiveStatus, 'transport'>) => options.onStatus?.({ ...value, transport });

  const clearTimers = () => {
    clearTimeout(retryTimer);
    clearTimeout(quietTimer);
    clearTimeout(pongTimer);
    retryTimer = quietTimer = pongTimer = undefined;
  };

  /** Something arrived: the connection is alive; wait for the next sign of life. */
  const alive = () => {
    lastReceived = ports.now();
    clearTimeout(pongTimer);
    clearTimeout(quietTimer);
    pongTimer = undefined;
    quietTimer = current?.transport === 'sse' ? setTimeout(giveUp, streamSilenceMs) : setTimeout(probe, heartbeatMs);
  };

  /** Asks a WebSocket for a pong; no answer in time means it is dead. */
  const probe = () => {
    if (current?.transport !== 'websocket' || pongTimer) return;
    current.send('{"type":"ping"}');
    pongTimer = setTimeout(giveUp, pongTimeoutMs);
  };

  const giveUp = () => {
    current?.stop();
    ended();
  };

  const frame = (text: string) => {
    alive();
    const parsed = parseServerFrame(text);
    if (!parsed || parsed.type === 'pong') return;
    if (parsed.type === 'subscribed') {
      live = true;
      liveSince = ports.now();
      webSocketFailures = 0;
      status({ state: 'live', reconnected: everLive });
      // A reconnection without a position to resume from (nothing was received before the cut) cannot be replayed:
      // whatever happened in between is only in REST.
      if (everLive && resumedFrom === undefined) options.onReset?.(channels, 'no_position');
      everLive = true;
    }
    if (parsed.type === 'reset') {
      tracker.resetTo(parsed.eventId);
      options.onReset?.(parsed.channels, parsed.reason);
      return;
    }
    if (isPositioned(parsed) && !tracker.accept(parsed.eventId)) return;
    options.onFrame(parsed);
    if (parsed.type === 'unsubscribed' && parsed.reason === 'signed_out') {
      // The server closes next; whatever this connection showed of restricted channels must go.
      options.onReset?.(parsed.channels, 'signed_out');
    }
  };

  /** The attempt ended (closed, cut, given up, refused): schedule the next one. */
  const ended = (closeCode?: number) => {
    if (stopped) return;
    const wasLive = live;
    const endedTransport = current?.transport ?? transport;
    current = undefined;
    live = false;
    clearTimers();
    // A WebSocket that fails while the device is offline says nothing about WebSockets: it does not count.
    if (!wasLive && endedTransport === 'websocket' && (options.transport ?? 'auto') === 'auto' && ports.online()) {
      webSocketFailures += 1;
      if (webSocketFailures >= WEBSOCKET_FAILURES_BEFORE_SSE) transport = 'sse';
    }
    if (wasLive && ports.now() - liveSince >= STABLE_MS) attempts = 0;
    if (closeCode === CLOSE_SIGNED_OUT) options.onReset?.(channels, 'signed_out');
    // A stream's `retry:` spreads the clients of a restarting server; it applies to the first attempt after it.
    const delay = Math.max(
      reconnectDelay(attempts, ports.random, options.backoff ?? DEFAULT_BACKOFF),
      serverRetryMs ?? 0,
    );
    serverRetryMs = undefined;
    attempts += 1;
    status({ state: 'waiting', retryInMs: delay });
    retryTimer = setTimeout(connect, delay);
  };

  /** Opens a WebSocket; the attempt is `current` before the socket exists, so every callback can recognise it. */
  const openWebSocket = () => {
    const url = `${options.service.replace(/^http/, 'ws')}/api/v1/live${query({})}`;
    let socket: { send(text: string): void; close(): void } | undefined;
    const attempt: Attempt = {
      transport: 'websocket',
      send: (text) => socket?.send(text),
      stop: () => socket?.close(),
    };
    current = attempt;
    socket = ports.openSocket(url, {
      open() {
        if (current !== attempt) return;
        alive();
        resumedFrom = tracker.position;
        attempt.send(JSON.stringify({ type: 'subscribe', channels, ...(resumedFrom ? { since: resumedFrom } : {}) }));
      },
      message(text) {
        if (current === attempt) frame(text);
      },
      close(code) {
        if (current === attempt) ended(code);
      },
    });
  };

  const openEventStream = () => {
    const url = `${options.service}/api/v1/live/sse${query({ channels: channels.join(','), since: tracker.position })}`;
    const parser = createSseParser({
      event: (data) => frame(data),
      comment: () => alive(),
      retry: (ms) => {
        serverRetryMs = ms;
      },
    });
    let stream: { abort(): void } | undefined;
    const attempt: Attempt = { transport: 'sse', send() {}, stop: () => stream?.abort() };
    current = attempt;
    stream = ports.openStream(url, options.credentials ?? 'same-origin', {
      response(code) {
        if (current !== attempt) return;
        if (code === 200) {
          alive();
        } else if (code >= 400 && code < 500 && code !== 429) {
          stop();
          status({ state: 'stopped', refusedWith: code });
        } else {
          attempt.stop();
          ended();
        }
      },
      chunk(text) {
        if (current === attempt) parser.push(text);
      },
      end() {
        if (current === attempt) ended();
      },
    });
  };

  function connect() {
    if (stopped) return;
    clearTimers();
    status({ state: 'connecting' });
    resumedFrom = tracker.position;
    if (transport === 'sse') openEventStream();
    else openWebSocket();
  }

  function stop() {
    stopped = true;
    clearTimers();
    const attempt = current;
    current = undefined;
    attempt?.stop();
    unwatch();
  }

  const check = () => {
    if (stopped) return;
    if (retryTimer) {
      connect();
    } else if (live && current?.transport === 'websocket') {
      probe();
    } else if (live && ports.now() - lastReceived > heartbeatMs) {
      // An event stream cannot be pinged; one that missed what should have come is opened again (nothing is lost).
      giveUp();
    }
  };

  const unwatch = ports.watch({
    wake: check,
    online() {
      if (stopped) return;
      // The network changed under an event stream: its connection is probably gone, and reopening loses nothing.
      if (live && current?.transport === 'sse') giveUp();
      else check();
    },
  });

  connect();

  return {
    get position() {
      return tracker.position;
    },
    get transport() {
      return transport;
    },
    check,
    close: stop,
  };
}

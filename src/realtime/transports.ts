/**
 * The two LiveTransports a LiveSession runs over (session.ts): a `ws` WebSocket, and a Server-Sent Events stream
 * written straight to the raw HTTP response. The session's rules (access, replay, reset, limits) are the same for
 * both; only how a frame is written, how the connection ends and what a heartbeat is differ.
 */
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { EncodedFrame } from './protocol.js';
import type { LiveTransport } from './session.js';
import { formatSseRetry, SSE_HEARTBEAT } from './sse.js';

/** ws's options for a text message (it copies them: one object for every send). */
const TEXT = { binary: false } as const;

/**
 * A WebSocket as a transport: text messages (the frame's shared UTF-8 bytes), pings answered by pongs. A class, not an
 * object of closures: one per open socket, and its methods are shared (a heap snapshot counted ~0.5 KB per socket for
 * the closures and their context).
 */
export class WebSocketTransport implements LiveTransport {
  readonly answersHeartbeats = true;

  constructor(private readonly socket: WebSocket) {}

  get isOpen(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  send(frame: EncodedFrame): void {
    // The bytes are shared by every socket sent this frame; a server does not mask, so ws sends them as they are.
    this.socket.send(frame.bytes, TEXT);
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  terminate(): void {
    this.socket.terminate();
  }

  heartbeat(): void {
    this.socket.ping();
  }

  batch(write: (flush: () => void) => void): void {
    // ws writes each frame as its own header-and-payload writev; held back on the TCP socket underneath (ws's own
    // cork nests inside this one), a replay's frames go out in one system call. ws keeps that socket in `_socket`
    // (not public API, but stable across ws's versions); without it the frames are simply written one by one.
    const raw = (this.socket as unknown as { _socket?: Duplex | null })._socket;
    if (!raw) {
      write(() => {});
      return;
    }
    raw.cork();
    try {
      write(() => {
        raw.uncork();
        raw.cork();
      });
    } finally {
      raw.uncork();
    }
  }
}

/**
 * An event stream as a transport, over the raw response (the route has hijacked it from Fastify and written the
 * headers). Writes never wait for `drain`: the session measures what is unsent (`writableLength`, which includes
 * the socket's buffer) before each frame and cuts off a client that lets it pile up past WS_MAX_BUFFERED_BYTES.
 */
export class EventStreamTransport implements LiveTransport {
  readonly answersHeartbeats = false;
  private ended = false;
  private graceTimer: NodeJS.Timeout | undefined;

  /**
   * @param closeGraceMs how long a politely ended stream may take to flush before its connection is cut
   */
  constructor(
    private readonly response: ServerResponse,
    private readonly closeGraceMs: number,
  ) {
    response.once('close', () => {
      this.ended = true;
      clearTimeout(this.graceTimer);
    });
  }

  /** Tells the client how long to wait before it reconnects (sent first; EventSource honours it). */
  start(retryMs: number): void {
    this.response.write(formatSseRetry(retryMs));
  }

  get isOpen(): boolean {
    return !this.ended && !this.response.destroyed && this.response.writable;
  }

  get bufferedAmount(): number {
    return this.response.writableLength;
  }

  send(frame: EncodedFrame): void {
    this.response.write(frame.eventStream);
  }

  /**
   * Ends the stream. SSE has no close codes (`code` is the WebSocket's, unused): the client just reconnects
   * (EventSource by itself, with Last-Event-ID). A client that has not read what was already sent — one cut off for
   * being too slow — would not read a polite end either: its connection is cut at once, which also frees what was
   * buffered for it.
   */
  close(_code: number, _reason: string): void {
    if (this.ended) return;
    this.ended = true;
    if (this.response.writableLength > 0) {
      this.response.destroy();
      return;
    }
    this.response.end();
    this.graceTimer = setTimeout(() => this.response.destroy(), this.closeGraceMs);
    this.graceTimer.unref();
  }

  terminate(): void {
    this.ended = true;
    this.response.destroy();
  }

  heartbeat(): void {
    if (this.isOpen) this.response.write(SSE_HEARTBEAT);
  }

  /** A replay's events in one system call: the response (its socket) holds the writes back until `write` returns. */
  batch(write: (flush: () => void) => void): void {
    this.response.cork();
    try {
      write(() => {
        this.response.uncork();
        this.response.cork();
      });
    } finally {
      this.response.uncork();
    }
  }
}

/** A real `ws` client for the live endpoint that records every frame and its close, for tests to wait on. */
import WebSocket, { type ClientOptions } from 'ws';
import { waitFor } from './wait.js';

// biome-ignore lint/suspicious/noExplicitAny: frames are asserted on by the tests
export type Frame = Record<string, any>;

export class LiveClient {
  readonly frames: Frame[] = [];
  /** When each frame arrived (performance.now()), for latency figures. */
  readonly arrivals: number[] = [];
  closed: { code: number; reason: string } | undefined;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()));
      this.arrivals.push(performance.now());
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
    });
  }

  /** Opens a socket and resolves once the handshake succeeded. */
  static async connect(url: string, options: ClientOptions = {}): Promise<LiveClient> {
    const socket = new WebSocket(url, options);
    const client = new LiveClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  /** Attempts a handshake that should be refused; resolves with the HTTP status and body of the refusal. */
  static async refused(url: string, options: ClientOptions = {}): Promise<{ status: number; body: string }> {
    const socket = new WebSocket(url, options);
    return new Promise((resolve, reject) => {
      socket.once('open', () => {
        socket.terminate();
        reject(new Error('the handshake succeeded'));
      });
      socket.once('unexpected-response', (_req, res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => {
          socket.terminate();
          resolve({ status: res.statusCode ?? 0, body });
        });
      });
      socket.once('error', () => {});
    });
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Waits for the first frame (from index `from`) that matches. */
  async frame(match: (frame: Frame) => boolean, what: string, from = 0): Promise<Frame> {
    return waitFor(() => this.frames.slice(from).find(match), { what });
  }

  ofType(type: string): Frame[] {
    return this.frames.filter((f) => f.type === type);
  }

  eventIds(): string[] {
    return this.ofType('announcement.published').map((f) => f.eventId);
  }

  /**
   * Stops (or resumes) reading from the connection, as a client on a stalled network: what the server sends piles up
   * in the kernel's buffers, then in the server's.
   */
  pauseReading(paused = true): void {
    const raw = (this.socket as unknown as { _socket?: import('node:net').Socket })._socket;
    if (!raw) throw new Error('the socket is not connected');
    if (paused) raw.pause();
    else raw.resume();
  }

  async whenClosed(): Promise<{ code: number; reason: string }> {
    return waitFor(() => this.closed, { what: 'the socket to close' });
  }

  close(): void {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) {
      this.socket.terminate();
    }
  }
}

/**
 * A Server-Sent Events client for tests, over node:http: a parser that follows the HTML standard's event-stream
 * interpretation (what EventSource does) and a client that records every event, comment and `retry:`, for tests to
 * wait on. It can stop reading (pause) to play a slow reader.
 */
import http from 'node:http';
import { waitFor } from './wait.js';

/** One dispatched event: its data (lines joined with \n), the last event id at that point, and its type. */
export interface SseEvent {
  data: string;
  lastEventId: string;
  /** The `id:` field of this very event, if it had one. */
  id?: string;
  event: string;
}

/**
 * The event-stream parser: feed it decoded text in chunks of any size. Lines end in CRLF, LF or CR; a blank line
 * dispatches; `:` starts a comment; a field without a colon has an empty value; one space after the colon is
 * dropped; `data` lines are joined with \n; an `id` containing NUL is ignored; `retry` only takes ASCII digits; an
 * event without data is not dispatched (its id still counts).
 */
export class SseParser {
  lastEventId = '';
  retry: number | undefined;
  comments: string[] = [];
  private buffer = '';
  private data: string[] = [];
  private eventType = '';
  private eventId: string | undefined;
  private first = true;

  feed(chunk: string): SseEvent[] {
    this.buffer += chunk;
    if (this.first && this.buffer.length > 0) {
      if (this.buffer.charCodeAt(0) === 0xfeff) this.buffer = this.buffer.slice(1);
      this.first = false;
    }
    const events: SseEvent[] = [];
    for (;;) {
      const match = /\r\n|\n|\r/.exec(this.buffer);
      if (!match) break;
      // A CR at the very end may be the first half of a CRLF still on its way.
      if (match[0] === '\r' && match.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) {
      this.comments.push(line.slice(1).replace(/^ /, ''));
      return undefined;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.eventType = value;
        break;
      case 'id':
        if (!value.includes('\0')) {
          this.lastEventId = value;
          this.eventId = value;
        }
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break;
    }
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    const data = this.data;
    const id = this.eventId;
    const type = this.eventType || 'message';
    this.data = [];
    this.eventType = '';
    this.eventId = undefined;
    if (data.length === 0) return undefined;
    return { data: data.join('\n'), lastEventId: this.lastEventId, event: type, ...(id !== undefined ? { id } : {}) };
  }
}

// biome-ignore lint/suspicious/noExplicitAny: frames are asserted on by the tests
export type SseFrame = Record<string, any>;

export class SseClient {
  readonly parser = new SseParser();
  readonly events: SseEvent[] = [];
  /** Each event's data, parsed as JSON (every frame of the live stream is JSON). */
  readonly frames: SseFrame[] = [];
  /** When each frame arrived (performance.now()), for latency figures. */
  readonly arrivals: number[] = [];
  ended = false;
  /** The connection broke rather than the stream ending properly. */
  aborted = false;

  private constructor(
    readonly request: http.ClientRequest,
    readonly response: http.IncomingMessage,
  ) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      for (const event of this.parser.feed(chunk)) {
        this.events.push(event);
        this.frames.push(JSON.parse(event.data));
        this.arrivals.push(performance.now());
      }
    });
    response.on('aborted', () => {
      this.aborted = true;
    });
    response.on('error', () => {
      this.aborted = true;
    });
    response.on('close', () => {
      this.ended = true;
    });
  }

  /** Opens a stream; resolves once a 200 with text/event-stream arrived, else rejects with the status and body. */
  static connect(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const request = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (response) => {
        if (response.statusCode !== 200) {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            body += chunk;
          });
          response.on('end', () => reject(new SseRefused(response.statusCode ?? 0, body, response.headers)));
          return;
        }
        resolve(new SseClient(request, response));
      });
      request.on('error', reject);
    });
  }

  /** Opens a stream that should be refused; resolves with the status, body and headers. */
  static async refused(url: string, headers: Record<string, string> = {}): Promise<SseRefused> {
    try {
      const client = await SseClient.connect(url, headers);
      client.close();
    } catch (error) {
      if (error instanceof SseRefused) return error;
      throw error;
    }
    throw new Error('the stream was opened');
  }

  get headers(): http.IncomingHttpHeaders {
    return this.response.headers;
  }

  /** Waits for the first frame (from index `from`) that matches. */
  frame(match: (frame: SseFrame) => boolean, what: string, from = 0): Promise<SseFrame> {
    return waitFor(() => this.frames.slice(from).find(match), { what });
  }

  ofType(type: string): SseFrame[] {
    return this.frames.filter((f) => f.type === type);
  }

  eventIds(): string[] {
    return this.ofType('announcement.published').map((f) => f.eventId);
  }

  /** Stops reading: the server's writes pile up in its buffers, as with a client on a stalled network. */
  pause(): void {
    this.response.pause();
  }

  whenEnded(timeoutMs?: number): Promise<true> {
    return waitFor(() => this.ended, { what: 'the stream to end', ...(timeoutMs ? { timeoutMs } : {}) });
  }

  close(): void {
    this.request.destroy();
  }
}

export class SseRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    readonly headers: http.IncomingHttpHeaders,
  ) {
    super(`the stream was refused with ${status}: ${body}`);
  }
}

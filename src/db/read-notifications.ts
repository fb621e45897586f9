/**
 * What PostgreSQL says about changes readers would see: the triggers of migration `20261127120000_read_change_notify`
 * NOTIFY `meldingskanal_reads` with a channel id (that channel's announcements, their parts, its stats or the channel
 * itself changed) or `*` (something every channel shows changed: an author's name, an organisation's code). The
 * notifications come at commit, from whatever wrote — any API or worker process, the CLI, an operator's SQL.
 *
 * This listener holds one dedicated connection (a LISTEN is a session's; a pool would hand it back) and tells its
 * handler about each notification. It is trustworthy only while that connection is known to work, so:
 * - `onReset` is called when listening starts and again after every reconnect: notifications sent while it was not
 *   listening are lost, so whatever was derived from earlier reads must be forgotten;
 * - `listening` is false while it is (re)connecting, and when its own heartbeat (a NOTIFY it sends itself every
 *   HEARTBEAT_MS) has not come back within HEARTBEAT_TIMEOUT_MS. That also catches a connection pooler in transaction
 *   mode (PgBouncer), where LISTEN silently hears nothing: the cache then simply stays off.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';

/** The channel the triggers notify on. */
export const READS_NOTIFY_CHANNEL = 'meldingskanal_reads';
/** Payload meaning "any channel". */
export const ALL_CHANNELS = '*';

const HEARTBEAT_MS = 5_000;
const HEARTBEAT_TIMEOUT_MS = 5_000;
const CONNECT_TIMEOUT_MS = 10_000;
const RETRY_MAX_MS = 10_000;

export interface ReadNotificationHandler {
  /** A channel id, or ALL_CHANNELS. */
  onChange(channel: string): void;
  /** Listening (re)started or stopped being trustworthy: forget everything learnt before. */
  onReset(): void;
}

export interface ReadNotificationLog {
  warn(obj: object, msg: string): void;
}

export class ReadNotifications {
  private closed = false;
  private client: pg.Client | undefined;
  private confirmed = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private pendingPing: { payload: string; sentAt: number } | undefined;
  private readonly loop: Promise<void>;
  private wakeRetry: (() => void) | undefined;
  private firstListen!: () => void;
  /** Resolves once the first LISTEN is confirmed (or close() was called). */
  readonly ready: Promise<void> = new Promise((resolve) => {
    this.firstListen = resolve;
  });

  constructor(
    private readonly databaseUrl: string,
    private readonly handler: ReadNotificationHandler,
    private readonly log: ReadNotificationLog,
  ) {
    this.loop = this.run();
  }

  /** True while notifications are known to arrive (connected, listening, heartbeat answered in time). */
  get listening(): boolean {
    if (!this.confirmed || this.closed) return false;
    return !this.pendingPing || Date.now() - this.pendingPing.sentAt < HEARTBEAT_TIMEOUT_MS;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.confirmed = false;
    this.firstListen();
    this.wakeRetry?.();
    clearInterval(this.heartbeat);
    await this.client?.end().catch(() => {});
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      const client = new pg.Client({
        connectionString: this.databaseUrl,
        application_name: 'meldingskanal-read-cache',
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      });
      this.client = client;
      const ended = new Promise<void>((resolve) => {
        client.on('error', (error) => {
          if (!this.closed) this.log.warn({ err: error }, 'read cache: LISTEN connection failed');
          resolve();
        });
        client.on('end', () => resolve());
      });
      try {
        await client.connect();
        client.on('notification', (message) => this.receive(message.payload ?? ''));
        await client.query(`LISTEN ${READS_NOTIFY_CHANNEL}`);
        failures = 0;
        this.confirmed = true;
        this.pendingPing = undefined;
        // Whatever happened while we were not listening is unknown.
        this.handler.onReset();
        this.firstListen();
        this.heartbeat = setInterval(() => this.ping(client), HEARTBEAT_MS);
        this.heartbeat.unref();
        await ended;
      } catch (error) {
        if (!this.closed) this.log.warn({ err: error }, 'read cache: could not LISTEN');
      } finally {
        this.confirmed = false;
        clearInterval(this.heartbeat);
        await client.end().catch(() => {});
      }
      if (this.closed) break;
      this.handler.onReset();
      failures += 1;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(RETRY_MAX_MS, 250 * 2 ** Math.min(failures, 6)));
        this.wakeRetry = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  private receive(payload: string): void {
    if (this.pendingPing && payload === this.pendingPing.payload) {
      this.pendingPing = undefined;
      return;
    }
    if (payload.startsWith('ping:')) return;
    this.handler.onChange(payload);
  }

  private ping(client: pg.Client): void {
    if (this.pendingPing) {
      // The last one never came back: this connection hears nothing. Reset and reconnect.
      if (Date.now() - this.pendingPing.sentAt >= HEARTBEAT_TIMEOUT_MS) {
        this.log.warn({}, 'read cache: LISTEN heartbeat did not come back; reconnecting');
        void client.end().catch(() => {});
      }
      return;
    }
    const payload = `ping:${randomUUID()}`;
    this.pendingPing = { payload, sentAt: Date.now() };
    client.query('SELECT pg_notify($1, $2)', [READS_NOTIFY_CHANNEL, payload]).catch(() => {});
  }
}

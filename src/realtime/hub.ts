/**
 * LiveHub: one per API process. It holds ONE Redis subscriber connection on `liveRedisChannel(prefix)` (the outbox
 * relay publishes every LiveEvent there, from whichever worker process) and a map channelId → listeners (one per
 * WebSocket). Each event is validated once and handed to every listener of its channel with its EventFrames: each
 * listener decides whether its actor may see the announcement, and takes the frame of its language, serialised once
 * per language version for all listeners.
 *
 * Why the fan-out yields: a broadcast to 10,000 sockets costs ~0.2 s of CPU; doing it in one loop would stall every
 * HTTP request of the process for that long. The hub delivers in slices (`sliceSize` deliveries or `sliceMs`, whichever
 * comes first) and gives the event loop back between slices with setImmediate. Events are dispatched strictly one
 * after another, so a listener late in a long fan-out never receives event N+1 before event N. Consecutive events of
 * one channel that are waiting together are handed to each listener as one run (deliverAll): most of a delivery's
 * cost is the write system call (~75 % of the fan-out's CPU in the live benchmark's profile), and a run is one write
 * per socket.
 */
import type { Redis } from 'ioredis';
import { createRedis } from '../redis.js';
import { withTimeout } from '../timeout.js';
import { type AccessHint, accessRedisChannel, parseAccessHint } from './access-hints.js';
import { EventFrames, type LiveEvent, liveRedisChannel, parseLiveEvent } from './protocol.js';
import { parseReaderChange, type ReaderChange, readerRedisChannel } from './reader-changes.js';

/** A socket-like receiver of events. */
export interface LiveListener {
  /**
   * Receives an event and its frames (serialised once per language version, shared by all listeners). Errors are
   * caught and logged by the hub.
   */
  deliver(event: LiveEvent, frames: EventFrames): void;
  /**
   * Receives several consecutive events of one channel at once, in order (what deliver() would get one by one), so it
   * can write them to its connection together: one system call instead of one per event. Optional.
   */
  deliverAll?(frames: readonly EventFrames[]): void;
}

export interface HubLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface LiveHubOptions {
  redisUrl: string;
  /** config.redis.prefix: the hub listens on `liveRedisChannel(prefix)`. */
  prefix: string;
  log: HubLogger;
  /** Deliveries between two yields to the event loop, at most. */
  sliceSize?: number;
  /**
   * Milliseconds of deliveries between two yields, at most: a delivery writes to a socket (a system call, ~35 µs on the
   * fault test's machine), so 1,000 of them held the event loop for ~35 ms, and the requests and the Redis messages
   * behind them waited that long (a reconnect storm's first moments are such a fan-out to the crowd).
   */
  sliceMs?: number;
  /** Milliseconds (tests pass their own). */
  clock?: () => number;
  /**
   * Called with each "access changed" hint (access-hints.ts). Given, the hub also listens on
   * `accessRedisChannel(prefix)`, over the same connection.
   */
  onAccessHint?: (hint: AccessHint) => void;
  /**
   * Called with each reader change (reader-changes.ts). Given, the hub also listens on `readerRedisChannel(prefix)`,
   * over the same connection.
   */
  onReaderChange?: (change: ReaderChange) => void;
}

export const DEFAULT_SLICE_SIZE = 1000;
/**
 * Most events of one channel handed to a listener together (deliverAll). Events that arrive together — a relay's
 * batch, back-to-back publications while a fan-out runs — then cost each socket one write, not one per event.
 */
const MAX_RUN = 32;
export const DEFAULT_SLICE_MS = 5;
const QUIT_TIMEOUT_MS = 1000;

export class LiveHub {
  private readonly subscriber: Redis;
  private readonly redisChannel: string;
  private readonly accessChannel: string | undefined;
  private readonly onAccessHint: ((hint: AccessHint) => void) | undefined;
  private readonly readerChannel: string | undefined;
  private readonly onReaderChange: ((change: ReaderChange) => void) | undefined;
  private readonly log: HubLogger;
  private readonly sliceSize: number;
  private readonly sliceMs: number;
  private readonly clock: () => number;
  /** channelId → its listeners. */
  private readonly byChannel = new Map<string, Set<LiveListener>>();
  /** listener → the channelIds it watches; every connected listener has an entry (possibly empty). */
  private readonly byListener = new Map<LiveListener, Set<string>>();
  private subscriptions = 0;
  private readonly queue: EventFrames[] = [];
  private draining = false;
  private idle: Promise<void> = Promise.resolve();
  private starting: Promise<void> | undefined;
  private closed = false;

  constructor(options: LiveHubOptions) {
    this.redisChannel = liveRedisChannel(options.prefix);
    this.onAccessHint = options.onAccessHint;
    this.accessChannel = options.onAccessHint ? accessRedisChannel(options.prefix) : undefined;
    this.onReaderChange = options.onReaderChange;
    this.readerChannel = options.onReaderChange ? readerRedisChannel(options.prefix) : undefined;
    this.log = options.log;
    this.sliceSize = options.sliceSize ?? DEFAULT_SLICE_SIZE;
    this.sliceMs = options.sliceMs ?? DEFAULT_SLICE_MS;
    this.clock = options.clock ?? (() => performance.now());
    this.subscriber = createRedis(options.redisUrl, 'subscriber', 'live-hub');
    // Without an 'error' listener ioredis would print every reconnect failure as an unhandled error event.
    this.subscriber.on('error', (error) => this.log.warn({ err: error }, 'live hub: Redis subscriber error'));
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.redisChannel) this.receive(message);
      else if (channel === this.accessChannel) this.receiveAccessHint(message);
      else if (channel === this.readerChannel) this.receiveReaderChange(message);
    });
  }

  /**
   * Subscribes to the Redis channel. Resolves once Redis confirmed the subscription (events published before that
   * are not seen). Safe to call more than once. ioredis re-subscribes by itself after a reconnect.
   */
  start(): Promise<void> {
    const channels = [this.redisChannel, this.accessChannel, this.readerChannel].filter(
      (channel): channel is string => channel !== undefined,
    );
    this.starting ??= this.subscriber.subscribe(...channels).then(
      () => undefined,
      (error: unknown) => {
        // Closed before Redis answered: nothing to report.
        if (!this.closed) throw error;
      },
    );
    return this.starting;
  }

  /** Open connections known to the hub (metrics). */
  get connectionCount(): number {
    return this.byListener.size;
  }

  /** (connection, channel) pairs being watched (metrics). */
  get subscriptionCount(): number {
    return this.subscriptions;
  }

  /** Registers a connection, before it watches any channel, so it is counted. */
  connect(listener: LiveListener): void {
    if (!this.byListener.has(listener)) this.byListener.set(listener, new Set());
  }

  /** Forgets a connection and all its channels. */
  disconnect(listener: LiveListener): void {
    const channels = this.byListener.get(listener);
    if (!channels) return;
    for (const channelId of channels) this.removeFromChannel(listener, channelId);
    this.byListener.delete(listener);
  }

  /** Starts delivering `channelId`'s events to `listener` (connecting it if needed). Returns false if it already did. */
  watch(listener: LiveListener, channelId: string): boolean {
    this.connect(listener);
    const channels = this.byListener.get(listener)!;
    if (channels.has(channelId)) return false;
    channels.add(channelId);
    let listeners = this.byChannel.get(channelId);
    if (!listeners) {
      listeners = new Set();
      this.byChannel.set(channelId, listeners);
    }
    listeners.add(listener);
    this.subscriptions += 1;
    return true;
  }

  /** Stops delivering `channelId`'s events to `listener`. */
  unwatch(listener: LiveListener, channelId: string): void {
    const channels = this.byListener.get(listener);
    if (!channels?.delete(channelId)) return;
    this.removeFromChannel(listener, channelId);
  }

  /**
   * Handles one message from Redis (public so the dispatch path can be exercised without a second process).
   * A malformed message is dropped with a warning: one bad publisher must not break delivery for everyone.
   */
  receive(message: string): void {
    if (this.closed) return;
    const parsed = parseLiveEvent(message);
    if (!parsed.ok) {
      this.log.warn(
        { reason: parsed.reason, length: message.length, start: message.slice(0, 200) },
        'live hub: dropped a malformed event',
      );
      return;
    }
    // Not subscribed to by anyone in this process: nothing to serialise.
    if (!this.byChannel.has(parsed.event.channelId)) return;
    // Expired while the event travelled (the relay already leaves out announcements expired when it relays): gone
    // from feeds and widgets, so not pushed either.
    if (parsed.event.type !== 'announcement.retracted' && hasExpired(parsed.event.announcements[0]!.expiresAt)) return;
    this.queue.push(new EventFrames(parsed.event));
    if (!this.draining) this.idle = this.drain();
  }

  private receiveAccessHint(message: string): void {
    if (this.closed || !this.onAccessHint) return;
    const hint = parseAccessHint(message);
    if (!hint) {
      this.log.warn({ length: message.length }, 'live hub: dropped a malformed access hint');
      return;
    }
    try {
      this.onAccessHint(hint);
    } catch (error) {
      this.log.error({ err: error }, 'live hub: the access hint handler failed');
    }
  }

  private receiveReaderChange(message: string): void {
    if (this.closed || !this.onReaderChange) return;
    const change = parseReaderChange(message);
    if (!change) {
      this.log.warn({ length: message.length }, 'live hub: dropped a malformed reader change');
      return;
    }
    try {
      this.onReaderChange(change);
    } catch (error) {
      this.log.error({ err: error }, 'live hub: the reader change handler failed');
    }
  }

  /** Resolves when every event received so far has been handed to its listeners. */
  whenIdle(): Promise<void> {
    return this.idle;
  }

  /** Unsubscribes from Redis and forgets every listener. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.byChannel.clear();
    this.byListener.clear();
    this.subscriptions = 0;
    // A polite QUIT when connected; with Redis down a QUIT would wait in ioredis's offline queue for a reconnect
    // that may never come, so shutdown does not wait on it (nor more than QUIT_TIMEOUT_MS in any case).
    if (this.subscriber.status === 'ready') {
      await withTimeout(this.subscriber.quit(), QUIT_TIMEOUT_MS, 'Redis QUIT').catch(() => {});
    }
    this.subscriber.disconnect();
  }

  private removeFromChannel(listener: LiveListener, channelId: string): void {
    const listeners = this.byChannel.get(channelId);
    if (!listeners?.delete(listener)) return;
    this.subscriptions -= 1;
    if (listeners.size === 0) this.byChannel.delete(channelId);
  }

  private async drain(): Promise<void> {
    this.draining = true;
    let sinceYield = 0;
    let sliceEnds = this.clock() + this.sliceMs;
    try {
      while (this.queue.length > 0) {
        // A run: the events at the head of the queue that are for the same channel (those received by now), handed to
        // each listener together, in order. Every listener still gets event N before N+1, and the next run starts
        // only when this one reached every listener.
        const channelId = this.queue[0]!.event.channelId;
        let length = 1;
        while (length < this.queue.length && length < MAX_RUN && this.queue[length]!.event.channelId === channelId) {
          length += 1;
        }
        const run = this.queue.splice(0, length);
        // A snapshot: listeners joining or leaving during a sliced fan-out do not disturb the iteration. One that
        // left still gets the call and ignores it (its socket is closed).
        const listeners = [...(this.byChannel.get(channelId) ?? [])];
        for (const listener of listeners) {
          if (sinceYield >= this.sliceSize || (sinceYield > 0 && this.clock() >= sliceEnds)) {
            sinceYield = 0;
            await new Promise<void>((resolve) => setImmediate(resolve));
            if (this.closed) return;
            sliceEnds = this.clock() + this.sliceMs;
          }
          // A listener's run is not split across slices (it is at most MAX_RUN events).
          sinceYield += run.length;
          if (run.length > 1 && listener.deliverAll) {
            try {
              listener.deliverAll(run);
            } catch (error) {
              this.log.error({ err: error, eventId: run[0]!.event.eventId }, 'live hub: a listener failed');
            }
            continue;
          }
          for (const frames of run) {
            try {
              listener.deliver(frames.event, frames);
            } catch (error) {
              this.log.error({ err: error, eventId: frames.event.eventId }, 'live hub: a listener failed');
            }
          }
        }
      }
    } finally {
      this.draining = false;
    }
  }
}

function hasExpired(expiresAt: string | null): boolean {
  return expiresAt !== null && Date.parse(expiresAt) <= Date.now();
}

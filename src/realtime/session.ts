/**
 * One live connection's state on the server — a WebSocket or an event stream: its channels, its position in the live
 * log, its replay and its health. Kept apart from the Fastify plugin and written against small ports (a transport,
 * a hub, two look-ups), so its rules are unit-tested without a network (tests/unit/live-session.test.ts).
 *
 * De-duplication and order: each position is sent at most once per connection (a window of the last RECENT_IDS
 * positions sent is remembered), and nothing at or below the `since` the client connected with (it said it has
 * those). While a replay is being read, live events are held back, then merged with the replayed ones, sorted by
 * position, de-duplicated and sent; so a replay and the live stream join without a gap, a repeat or a reordering.
 * Positions are commit-ordered (src/db/live-replay.ts), so live events arrive in position order; one that arrives
 * late with a lower position (re-published after a failed relay) is still delivered rather than dropped: a missing
 * announcement is worse than one out of place. A gap that cannot be replayed whole is never papered over: the
 * client is sent `reset` and reloads over REST.
 *
 * Who sees what: an event reaches this connection only when its actor may see the announcement — canSeeAnnouncement
 * with the actor and its role in the event's channel, as REST decides (an organisation-limited announcement goes to
 * members of those organisations and to the channel's editors and administrators). The same check applies to
 * replayed events (which the replay query already filtered the same way) and to retractions, so a retraction only
 * names announcements the connection could have been sent. Each connection reads in one language, fixed when it was
 * opened.
 */
import type { ChannelFacts } from '../domain/access.js';
import { canSeeAnnouncement } from '../domain/announcement.js';
import type { Actor, Language } from '../domain/types.js';
import type { LiveListener } from './hub.js';
import {
  CLOSE,
  type ClientFrame,
  type EncodedFrame,
  EventFrames,
  encodedFrameOf,
  type FrameErrorCode,
  type LiveEvent,
  parseClientFrame,
  parseEventId,
  type ResetReason,
  type ServerFrame,
  type UnsubscribeReason,
} from './protocol.js';

/**
 * What a session needs of its connection (implementations: transports.ts — a `ws` WebSocket, or an event stream over
 * the raw HTTP response).
 */
export interface LiveTransport {
  /** False once the connection is closing or closed: nothing more can be sent. */
  readonly isOpen: boolean;
  /** Bytes accepted for sending but not yet handed to the network: what a client that does not read piles up. */
  readonly bufferedAmount: number;
  /** Sends one frame (the transport takes its own encoding of it: WebSocket text, or an SSE event with `id:`). */
  send(frame: EncodedFrame): void;
  /**
   * Ends the connection. WebSocket: a close frame with `code`. SSE has no close codes: the stream ends, and is cut at
   * once for `tryAgainLater` (the client does not read, so a polite end would never reach it).
   */
  close(code: number, reason: string): void;
  /** Cuts the connection at once, without a closing handshake. */
  terminate(): void;
  /** WebSocket: a ping (answered by a pong → markAlive). SSE: a comment line, so proxies keep an idle stream open. */
  heartbeat(): void;
  /**
   * Runs `write` with the connection's writes held back and handed to the network together when it returns (one
   * system call for a replay's frames instead of one per frame); `flush` hands over what is held so far. Optional:
   * without it every frame is written on its own.
   */
  batch?(write: (flush: () => void) => void): void;
  /**
   * Whether the peer answers heartbeats. A WebSocket that missed a pong is terminated at the next heartbeat; an event
   * stream cannot answer, so a dead peer shows as a write error, the socket's close, or data piling up.
   */
  readonly answersHeartbeats: boolean;
}

/**
 * Ids remembered per socket for de-duplication. A repeat comes from the relay re-publishing after a crash or from a
 * replay overlapping the live stream, so it is recent; the window covers a full replay (500) with room to spare.
 */
export const RECENT_IDS = 2000;

export interface SessionHub {
  connect(listener: LiveListener): void;
  disconnect(listener: LiveListener): void;
  watch(listener: LiveListener, channelId: string): boolean;
  unwatch(listener: LiveListener, channelId: string): void;
}

/** A channel the actor may read, with the facts canSeeAnnouncement decides on (its visibility, the actor's role). */
export interface GrantedChannel extends ChannelFacts {
  id: string;
  slug: string;
}

export interface SessionPorts {
  hub: SessionHub;
  /**
   * Splits slugs into the channels this connection's actor may read and the rest (unknown and unreadable alike), and
   * says who the actor is at this moment (omitted: unchanged).
   */
  resolveChannels(slugs: string[]): Promise<{ actor?: Actor; granted: GrantedChannel[]; denied: string[] }>;
  /**
   * Events after position `since` in these channels that this connection's actor may see, oldest first; or a reset
   * when they cannot all be replayed (too many, or `since` outside the log), with the newest position (`head`).
   */
  replay(channelIds: string[], since: bigint): Promise<ReplayOutcome>;
  /**
   * Runs a synchronous step of setting up a subscription — watching its channels and sending `subscribed`, sending a
   * replay — in its turn (the live plugin's SetupLane: a reconnect storm's setups then run a slice per turn of the event
   * loop, and live broadcasts to the connected clients get in between). Omitted: at once.
   */
  setup?<T>(step: () => T): Promise<T>;
  log: { warn(obj: object, msg: string): void; debug(obj: object, msg: string): void };
}

/** What a replay port answers (see SessionPorts.replay). */
export type ReplayOutcome =
  | { kind: 'replay'; events: LiveEvent[] }
  | { kind: 'reset'; reason: ResetReason; head: bigint };

export interface SessionLimits {
  maxChannels: number;
  maxBufferedBytes: number;
  /** Malformed frames tolerated; the next one closes the socket with 1008. */
  maxBadFrames: number;
  /** Frames received but not yet handled (they are handled one at a time, in order); more closes with 1008. */
  maxQueuedFrames: number;
  /** Live events held back during one replay; more closes with 1013 (the client reconnects with `since`). */
  maxHeldEvents: number;
}

/** Who the socket is for and the language it reads in (null: each announcement's original). */
export interface SessionViewer {
  actor: Actor;
  language: Language | null;
}

export class LiveSession implements LiveListener {
  /** slug → channelId of the channels this socket watches. */
  private readonly channels = new Map<string, string>();
  /** The same channels by id, with the actor's facts there, for the per-event checks in deliver(). */
  private readonly channelIds = new Map<string, ChannelFacts>();
  private actor: Actor;
  private readonly language: Language | null;
  /** Events at or below this id are ones the client said it has (its `since`). */
  private floor = 0n;
  /**
   * Announcements this socket was sent (published or updated, not retracted since), the most recent RECENT_IDS: an
   * edit that narrows the audience tells exactly these sockets to remove it.
   */
  private readonly sentAnnouncements = new Set<string>();
  /**
   * The positions sent most recently, oldest first (a Set keeps insertion order), by their decimal string: event ids
   * are canonical (parseEventId admits no leading zeros), and a string's hash is computed once for the one string every
   * connection is handed, where a bigint's was hashed again by each connection's Set.
   */
  private readonly recent = new Set<string>();
  /** The URL's `since`, applied to the first subscribe frame that has none of its own. */
  private pendingSince: string | undefined;
  /** Live events held back while a replay is read; undefined when no replay is running. */
  private held: EventFrames[] | undefined;
  private badFrames = 0;
  private queued = 0;
  private chain: Promise<void> = Promise.resolve();
  /** While frames are written as one batch (transport.batch): hands what is held so far to the network. */
  private flush: (() => void) | undefined;
  private closed = false;
  private alive = true;

  constructor(
    private readonly socket: LiveTransport,
    private readonly ports: SessionPorts,
    private readonly limits: SessionLimits,
    viewer: SessionViewer,
    since?: string,
  ) {
    this.actor = viewer.actor;
    this.language = viewer.language;
    this.pendingSince = since;
    // A reconnecting client already has every event up to `since`.
    this.floor = (since !== undefined ? parseEventId(since) : null) ?? 0n;
    ports.hub.connect(this);
  }

  /** Feeds one inbound WebSocket message. Frames are handled strictly in order, one at a time. */
  receive(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    const text = isBinary ? undefined : toText(data);
    this.enqueue(() => this.handle(text));
  }

  /**
   * Handles a frame the server makes on the client's behalf: an event stream's subscription, which its URL states
   * (the frame is checked as an inbound one would be). In order with everything else, like receive().
   */
  request(frame: ClientFrame): void {
    this.enqueue(() => this.handle(JSON.stringify(frame)));
  }

  private enqueue(task: () => Promise<void>): void {
    if (this.closed) return;
    if (this.queued >= this.limits.maxQueuedFrames) {
      this.close(CLOSE.policyViolation, 'too many frames in flight');
      return;
    }
    this.queued += 1;
    this.chain = this.chain
      .then(task)
      .catch((error: unknown) => {
        this.ports.log.warn({ err: error }, 'live: a frame failed');
        this.send({ type: 'error', code: 'internal_error', message: 'The frame could not be handled; try again' });
      })
      .finally(() => {
        this.queued -= 1;
      });
  }

  /** Resolves when every frame received so far has been handled (tests and shutdown use it). */
  settled(): Promise<void> {
    return this.chain;
  }

  /** Hub callback: one live event for a channel this socket watches. */
  deliver(event: LiveEvent, frames: EventFrames): void {
    // The hub hands each event to a snapshot of a channel's listeners, so a socket whose access to the channel was
    // just revoked can still be called for it: the channel must still be watched here, not just at dispatch.
    if (this.closed || !this.channelIds.has(event.channelId)) return;
    if (this.held) {
      this.held.push(frames);
      if (this.held.length > this.limits.maxHeldEvents)
        this.close(CLOSE.tryAgainLater, 'too many events during replay');
      return;
    }
    if (this.alreadyHas(frames)) return;
    this.sendEvent(frames);
  }

  /**
   * Hub callback: consecutive events of one channel, in order, as deliver() would get them one by one; what they send
   * is written to the connection together (one system call, see batch()).
   */
  deliverAll(runOfFrames: readonly EventFrames[]): void {
    if (this.closed) return;
    this.batch(() => {
      for (const frames of runOfFrames) this.deliver(frames.event, frames);
    });
  }

  /**
   * A change of the reader's own state made elsewhere (reader-changes.ts; a ReaderFrame, encoded once for all the
   * user's connections): sent as it is, not positioned, also during a replay.
   */
  deliverReaderFrame(frame: EncodedFrame): void {
    if (this.closed) return;
    this.sendRaw(frame);
  }

  /** Who the connection belongs to now (the plugin routes reader changes by it). */
  get viewer(): Actor {
    return this.actor;
  }

  /**
   * Who the socket's actor is now and its facts in the channels it watches, after an access re-check: later events
   * are decided with them (an organisation change or a lost role narrows what it is sent). Channels not in `facts`
   * keep theirs.
   */
  refreshAccess(actor: Actor, facts: ReadonlyMap<string, ChannelFacts>): void {
    this.actor = actor;
    for (const [id, channel] of facts) if (this.channelIds.has(id)) this.channelIds.set(id, channel);
  }

  /**
   * Whether this socket is sent `event`: its channel is watched and the actor may see the announcement (for a
   * retraction: could have seen it while it was published).
   */
  private mayReceive(frames: EventFrames): boolean {
    const channel = this.channelIds.get(frames.event.channelId);
    if (!channel) return false;
    return canSeeAnnouncement(this.actor, channel, frames.audience);
  }

  /**
   * Sends what this socket gets for an event, if anything; returns false when the socket could not take it (closed,
   * or too slow: it is then closed). An edit that took the announcement out of the caller's audience is sent, to a
   * socket that was sent the announcement on this connection, as a retraction with reason `audience` (remove it: it
   * is no longer for this reader); other sockets outside the audience get nothing.
   */
  private sendEvent(frames: EventFrames): boolean {
    const event = frames.event;
    const announcementId = event.type === 'announcement.retracted' ? event.announcementId : event.announcements[0]!.id;
    const visible = this.mayReceive(frames);
    let frame: EncodedFrame;
    if (visible) {
      frame = frames.frame(this.language);
    } else if (event.type === 'announcement.updated' && this.sentAnnouncements.has(announcementId)) {
      const { eventId, channelId, channel } = event;
      frame = encodedFrameOf({
        type: 'announcement.retracted',
        eventId,
        channelId,
        channel,
        announcementId,
        reason: 'audience',
      });
    } else {
      return true;
    }
    if (!this.sendRaw(frame)) return false;
    this.remember(frames.event.eventId);
    this.sentAnnouncements.delete(announcementId);
    if (visible && event.type !== 'announcement.retracted') {
      // Re-inserted last, so the set forgets first the announcements it was sent longest ago.
      this.sentAnnouncements.add(announcementId);
      if (this.sentAnnouncements.size > RECENT_IDS) {
        this.sentAnnouncements.delete(this.sentAnnouncements.values().next().value!);
      }
    }
    return true;
  }

  /** The channels this socket watches (slug and id), for access re-checks. */
  watched(): { slug: string; id: string }[] {
    return [...this.channels].map(([slug, id]) => ({ slug, id }));
  }

  /**
   * Stops watching channels the caller may no longer read and tells the client which, and why. Channels not watched
   * are ignored; nothing is sent when none was watched.
   */
  revoke(slugs: readonly string[], reason: UnsubscribeReason): void {
    if (this.closed) return;
    const removed = slugs.filter((slug) => this.stopWatching(slug));
    if (removed.length > 0) this.send({ type: 'unsubscribed', channels: removed, reason });
  }

  /**
   * The session or token this socket was opened with ended: the client is told which channels it lost, then the
   * socket is closed with 4401 so it does not reconnect with the same, dead, credentials.
   */
  endCredentials(): void {
    if (this.closed) return;
    this.revoke([...this.channels.keys()], 'signed_out');
    this.close(CLOSE.credentialsEnded, 'session or token ended');
  }

  /** The socket answered a ping. */
  markAlive(): void {
    this.alive = true;
  }

  /**
   * One heartbeat tick: a socket that has not answered the previous ping is terminated (a half-open TCP connection
   * would otherwise hold its memory and subscriptions until the OS notices, which can take hours); the others are
   * pinged again. Returns false when the socket was terminated.
   */
  heartbeat(): boolean {
    if (this.closed) return false;
    if (!this.socket.answersHeartbeats) {
      // No answer to wait for: a comment line keeps proxies from closing the idle stream; a peer that stopped reading
      // shows as unsent data piling up.
      if (this.socket.bufferedAmount > this.limits.maxBufferedBytes) {
        this.close(CLOSE.tryAgainLater, 'client too slow');
        return false;
      }
      this.socket.heartbeat();
      return true;
    }
    if (!this.alive) {
      this.ports.log.debug({}, 'live: terminating a socket that missed a pong');
      this.dispose();
      this.socket.terminate();
      return false;
    }
    this.alive = false;
    this.socket.heartbeat();
    return true;
  }

  /** Closes the socket with `code` and stops receiving events. */
  close(code: number, reason: string): void {
    if (this.closed) return;
    this.dispose();
    this.socket.close(code, reason);
  }

  /** Leaves the hub; called when the socket closed, whoever closed it. Idempotent. */
  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.held = undefined;
    this.ports.hub.disconnect(this);
  }

  private async handle(text: string | undefined): Promise<void> {
    if (this.closed) return;
    if (text === undefined) return this.reject('bad_frame', 'frames must be JSON text, not binary');
    const parsed = parseClientFrame(text, { maxChannels: this.limits.maxChannels });
    if (!parsed.ok) return this.reject(parsed.code, parsed.message);
    const frame = parsed.frame;
    switch (frame.type) {
      case 'ping':
        this.send({ type: 'pong' });
        return;
      case 'unsubscribe':
        return this.unsubscribe(frame.channels);
      case 'subscribe':
        return this.subscribe(frame);
    }
  }

  private reject(code: FrameErrorCode, message: string): void {
    if (code === 'bad_frame') {
      this.badFrames += 1;
      if (this.badFrames > this.limits.maxBadFrames) {
        this.close(CLOSE.policyViolation, 'too many malformed frames');
        return;
      }
    }
    this.send({ type: 'error', code, message });
  }

  private unsubscribe(slugs: string[]): void {
    for (const slug of slugs) this.stopWatching(slug);
    this.send({ type: 'unsubscribed', channels: slugs });
  }

  /** Returns false when the channel was not watched. */
  private stopWatching(slug: string): boolean {
    const id = this.channels.get(slug);
    if (id === undefined) return false;
    this.channels.delete(slug);
    this.channelIds.delete(id);
    this.ports.hub.unwatch(this, id);
    return true;
  }

  private async subscribe(frame: Extract<ClientFrame, { type: 'subscribe' }>): Promise<void> {
    const since = frame.since ?? this.pendingSince;
    this.pendingSince = undefined;

    const fresh = frame.channels.filter((slug) => !this.channels.has(slug));
    const resolved =
      fresh.length > 0 ? await this.ports.resolveChannels(fresh) : { actor: undefined, granted: [], denied: [] };
    if (this.closed) return;
    const replaying = await this.setup(() => this.startWatching(frame, resolved, since));
    if (!replaying) return;

    let replay: ReplayOutcome;
    try {
      replay = await this.ports.replay(replaying.channelIds, replaying.since);
    } catch (error) {
      this.ports.log.warn({ err: error }, 'live: replay failed');
      // Sending the held live events would move the client's position past the gap: it must come back with the same
      // `since` instead (1013: try again later).
      this.held = undefined;
      this.send({
        type: 'error',
        code: 'replay_unavailable',
        message: 'The replay could not be read; reconnect later',
      });
      this.close(CLOSE.tryAgainLater, 'replay unavailable');
      return;
    }
    // Live events keep being held until the replay is sent, however long its turn takes.
    await this.setup(() => this.batch(() => this.sendReplay(replay, replaying.slugs)));
  }

  /** A step of setting up, in its turn (SessionPorts.setup), or at once. */
  private setup<T>(step: () => T): Promise<T> {
    return this.ports.setup ? this.ports.setup(step) : Promise.resolve(step());
  }

  /**
   * The subscribe frame's granted channels are watched and `subscribed` is sent; with `since`, live events are held
   * from here on and the replay to read is returned.
   */
  private startWatching(
    frame: Extract<ClientFrame, { type: 'subscribe' }>,
    { actor, granted, denied }: { actor?: Actor; granted: GrantedChannel[]; denied: string[] },
    since: string | undefined,
  ): { channelIds: string[]; slugs: string[]; since: bigint } | undefined {
    if (this.closed) return undefined;
    if (actor) this.actor = actor;
    if (this.channels.size + granted.length > this.limits.maxChannels) {
      this.reject(
        'too_many_channels',
        `a socket may watch at most ${this.limits.maxChannels} channels (it watches ${this.channels.size})`,
      );
      return undefined;
    }

    const sinceId = since === undefined ? null : parseEventId(since);
    // With `since`, a `replayed` frame always follows the acknowledgement (count 0 when there is nothing to replay),
    // so a client can wait for it.
    const replaying = sinceId !== null;
    // Hold live events back BEFORE watching, so none slips between the replay's query and the live stream.
    if (replaying) this.held = [];
    for (const channel of granted) {
      this.channels.set(channel.slug, channel.id);
      this.channelIds.set(channel.id, { visibility: channel.visibility, role: channel.role });
      this.ports.hub.watch(this, channel.id);
    }
    const deniedSet = new Set(denied);
    this.send({
      type: 'subscribed',
      channels: frame.channels.filter((slug) => !deniedSet.has(slug)),
      denied,
    });
    if (!replaying) return undefined;

    // A client that reconnects has every event up to `since`; one that already received events keeps its position.
    if (this.recent.size === 0 && sinceId > this.floor) this.floor = sinceId;
    return { channelIds: granted.map((c) => c.id), slugs: granted.map((c) => c.slug), since: sinceId };
  }

  /** Sends a replay that was read, merged with the live events held meanwhile (or the reset and those after it). */
  private sendReplay(replay: ReplayOutcome, slugs: string[]): void {
    const held = this.held ?? [];
    this.held = undefined;
    if (this.closed) return;

    if (replay.kind === 'reset') {
      // The client reloads these channels over REST, which shows everything up to `head`; live events after it follow.
      // A `since` beyond the head was never a position of this log: nothing at or below it may be taken as received.
      if (this.floor > replay.head) this.floor = replay.head;
      if (!this.send({ type: 'reset', channels: slugs, reason: replay.reason, eventId: String(replay.head) })) return;
      const after = held
        .map((frames) => [frames.position, frames] as const)
        .filter(([id, frames]) => id > replay.head && !this.alreadyHas(frames))
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      for (const [, frames] of after) if (!this.sendEvent(frames)) return;
      return;
    }

    // Replayed events are history the client asked for (they may be older than events it already has on other
    // channels, or than the `since` it connected with); held live events follow the usual rule. Merge, de-duplicate
    // by position, send in position order.
    const byId = new Map<bigint, EventFrames>();
    for (const event of replay.events) {
      const frames = EventFrames.of(event);
      if (!this.recent.has(frames.event.eventId)) byId.set(frames.position, frames);
    }
    for (const frames of held) {
      if (!this.alreadyHas(frames)) byId.set(frames.position, frames);
    }
    const ordered = [...byId.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [, frames] of ordered) {
      // Access to a channel may have been revoked while its replay was read; the replay query filtered by audience
      // already, and the same rule is applied here to both sources.
      if (!this.sendEvent(frames)) return;
    }
    this.send({ type: 'replayed', channels: slugs, count: replay.events.length });
  }

  /** Runs `write` as one batch of the transport's writes, when it can batch them. */
  private batch(write: () => void): void {
    if (!this.socket.batch || this.flush) {
      write();
      return;
    }
    this.socket.batch((flush) => {
      this.flush = flush;
      try {
        write();
      } finally {
        this.flush = undefined;
      }
    });
  }

  private alreadyHas(frames: EventFrames): boolean {
    return frames.position <= this.floor || this.recent.has(frames.event.eventId);
  }

  private remember(id: string): void {
    this.recent.add(id);
    if (this.recent.size > RECENT_IDS) this.recent.delete(this.recent.values().next().value!);
  }

  private send(frame: ServerFrame): boolean {
    return this.sendRaw(encodedFrameOf(frame));
  }

  /**
   * Sends unless the connection is gone or too far behind: a client that does not read would otherwise make the
   * server buffer every event for it. Such a connection is closed with 1013 (try again later); it reconnects with
   * `since`. A connection with nothing unsent takes any frame, so one announcement larger than the limit does not cut
   * off every reader: what is held per connection stays below the limit plus one frame.
   */
  private sendRaw(frame: EncodedFrame): boolean {
    if (this.closed || !this.socket.isOpen) return false;
    let buffered = this.socket.bufferedAmount;
    if (this.flush && buffered > 0 && buffered + frame.json.length > this.limits.maxBufferedBytes) {
      // In a batch, `buffered` includes the frames held back for it: hand them to the network first, so the limit
      // judges only what the client has not taken, as it does for frames written one by one.
      this.flush();
      buffered = this.socket.bufferedAmount;
    }
    if (buffered > 0 && buffered + frame.json.length > this.limits.maxBufferedBytes) {
      this.close(CLOSE.tryAgainLater, 'client too slow');
      return false;
    }
    this.socket.send(frame);
    return true;
  }
}

function toText(data: Buffer | ArrayBuffer | Buffer[]): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

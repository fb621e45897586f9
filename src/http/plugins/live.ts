/**
 * Live updates (wire protocol: src/realtime/README.md): `GET /api/v1/live`, a WebSocket endpoint;
 * `GET /api/v1/live/sse`, the same frames as Server-Sent Events; and `POST /api/v1/live/tickets`, which hands out
 * single-use tickets for opening either.
 *
 * - Everything is decided before the upgrade (or before the event stream starts), so a refused client gets an HTTP
 *   status and no connection:
 *   1. `?token=` / `?access_token=` → 400: long-lived credentials never travel in URLs (logs, history, Referer).
 *   2. An `Origin` header that is not PUBLIC_URL's origin or a WIDGET_ORIGINS entry → 403. Browsers always send
 *      Origin on a WebSocket handshake and attach the session cookie to it whichever page opened it, so this is
 *      what stops another site's page from using a signed-in visitor's session (cross-site WebSocket hijacking).
 *      Non-browser clients send no Origin and are let through (they authenticate with a bearer header or not at all).
 *   3. Credentials, in the auth plugin's onRequest hook: a bearer header (a bad one answers 401), or the session
 *      cookie — only from the service's own pages (or with no Origin): a widget origin's connection is anonymous —;
 *      or here a `?ticket=` from POST /api/v1/live/tickets, consumed atomically (used, expired or forged → 401).
 *      None: anonymous, public channels only.
 *   4. At most WS_MAX_CONNECTIONS_PER_IP open WebSockets and event streams together per client address in this
 *      process → 429.
 * - Both transports run the same LiveSession (src/realtime/session.ts) over a LiveTransport (transports.ts): access,
 *   audience, language, replay and `reset`, de-duplication, limits, heartbeats and access re-checks are one code path.
 * - Access is decided per channel at subscribe time with the same rule as REST (canReadChannel), with the actor
 *   re-read from the database at that moment, and a channel the actor may not read is reported exactly like one
 *   that does not exist. Replays only cover the channels granted.
 * - Each announcement event goes only to connections whose actor may see the announcement (canSeeAnnouncement: its
 *   organisation audience, or an editor of the channel); the session decides per event with the actor and its role
 *   in the channel, and the replay query applies the same rule in SQL (audienceScopeSql).
 * - Each connection reads in one language (`?lang=`, else the user's setting, else Accept-Language, else the
 *   original), fixed when it opens; events carry every language version and the connection is sent its own.
 * - Access is then re-checked every LIVE_ACCESS_RECHECK_MS for every connection, in a few batched queries
 *   (src/services/live-access.ts): channels the caller can no longer read are removed (`unsubscribed`, reason
 *   `access`); a connection whose session or token ended is told (`signed_out`) and closed (4401). An "access
 *   changed" hint on Redis (src/realtime/access-hints.ts, published after sign-out or a role change) re-checks the
 *   connections concerned at once, in every API process. Reader changes (src/realtime/reader-changes.ts) go to the
 *   connections of the user they concern.
 * - The plugin owns the process's LiveHub (decorated as `app.liveHub`): it creates it, starts it and closes it.
 * - Inbound WebSocket frames are capped at WS_MAX_PAYLOAD_BYTES (ws's default is 100 MiB); every connection gets a
 *   heartbeat every WS_PING_INTERVAL_MS (a WebSocket that missed the previous pong is terminated); a connection whose
 *   unsent data passes WS_MAX_BUFFERED_BYTES is closed with 1013 (an event stream is cut).
 * - On app.close() every WebSocket is closed with 1001 (going away) and every event stream is ended, so clients
 *   reconnect, with jitter, elsewhere.
 *
 * Why the event stream is written by hand over `reply.raw` rather than with @fastify/sse: that plugin declares
 * engines node >= 20.20.2 (we support >= 20.19), and its writes wait for `drain` one promise per event, so a client
 * that stops reading would pile up pending writes without bound instead of being cut off at WS_MAX_BUFFERED_BYTES;
 * it serialises each event per stream (we send one shared encoding per language version), and it does not end open
 * streams on app.close(). What we need of it is a dozen lines: the headers, `retry:`, `id:`/`data:` events
 * (src/realtime/sse.ts) and heartbeat comments.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Type } from 'typebox';
import type { WebSocket } from 'ws';
import { loadAnnouncementRecords } from '../../db/announcement-records.js';
import { type ChannelRecord, findChannelsBySlugs } from '../../db/channels.js';
import { findEventsSince } from '../../db/live-replay.js';
import { findUserLanguage } from '../../db/users.js';
import { canReadChannel } from '../../domain/access.js';
import { audienceScope } from '../../domain/announcement.js';
import { AppError } from '../../domain/errors.js';
import { languageFromAcceptLanguage } from '../../domain/language.js';
import { type Actor, ANONYMOUS, LANGUAGES, type Language } from '../../domain/types.js';
import type { AccessHint } from '../../realtime/access-hints.js';
import { liveEventOf } from '../../realtime/events.js';
import { LiveHub } from '../../realtime/hub.js';
import {
  CLOSE,
  type ClientFrame,
  encodedFrameOf,
  type LiveEvent,
  parseClientFrame,
  parseEventId,
} from '../../realtime/protocol.js';
import type { ReaderChange } from '../../realtime/reader-changes.js';
import {
  type GrantedChannel,
  LiveSession,
  type LiveTransport,
  type ReplayOutcome,
  type SessionLimits,
  type SessionPorts,
} from '../../realtime/session.js';
import { SetupLane } from '../../realtime/setup-lane.js';
import { SharedReadGate } from '../../realtime/shared-reads.js';
import { EventStreamTransport, WebSocketTransport } from '../../realtime/transports.js';
import {
  checkWatchedChannels,
  credentialKey,
  type LiveCredential,
  resolveLiveCredentials,
} from '../../services/live-access.js';
import { issueLiveTicket, LIVE_TICKET_TTL_SECONDS, redeemLiveTicket } from '../../services/live-tickets.js';
import { hashToken } from '../../services/tokens.js';
import type { AppDeps } from '../app.js';
import { POLICY } from '../policy.js';
import { BEARER_OPTIONAL, BEARER_REQUIRED, errorResponses, Text } from '../schemas/common.js';
import { LIVE_FRAME_SCHEMAS } from '../schemas/live.js';
import { bearerToken } from './auth.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** This process's live-event hub (connection and subscription counts for metrics). */
    liveHub: LiveHub;
  }
}

export const LIVE_PATH = '/api/v1/live';
export const LIVE_SSE_PATH = '/api/v1/live/sse';
export const LIVE_TICKETS_PATH = '/api/v1/live/tickets';

/** Query parameters that would put a long-lived credential in a URL; refused outright so nobody builds on them. */
const CREDENTIALS_IN_URL = ['token', 'access_token'] as const;

/** A channel as a subscription reads it (with the caller's role in it). */
type ReadableChannel = ChannelRecord;

/** Most events one replay sends; when more are missing the client is sent `reset` and reloads over REST. */
export const REPLAY_LIMIT = 500;

/** How long app.close() waits for clients to answer the 1001 close (or to take a stream's end) before cutting off. */
export const CLOSE_GRACE_MS = 2000;

/**
 * The `retry:` an event stream starts with: how long EventSource waits before it reconnects once the stream ends. Drawn
 * per stream from this range, so that a restart does not bring every client back in the same instant.
 */
export const SSE_RETRY_MS = { min: 1000, max: 5000 } as const;

/** Session limits that are protocol policy rather than deployment settings. */
const MAX_BAD_FRAMES = 5;
const MAX_QUEUED_FRAMES = 32;
const MAX_HELD_EVENTS = 10_000;
/**
 * How long one turn of the setup lane may run connections' setups (src/realtime/setup-lane.ts): the most a live
 * broadcast or a request waits behind a reconnect storm's setups per turn of the event loop.
 */
const SETUP_SLICE_MS = 3;

export interface LivePluginOptions {
  deps: Pick<AppDeps, 'config' | 'db' | 'redis'>;
}

const LiveQuery = Type.Object(
  {
    since: Type.Optional(
      Text.identifier({ pattern: '^(0|[1-9][0-9]{0,18})$', description: 'Last event id received, to replay the gap' }),
    ),
    ticket: Type.Optional(
      Text.identifier({ maxLength: 100, description: 'A single-use ticket from POST /api/v1/live/tickets' }),
    ),
    lang: Type.Optional(
      Type.Union(
        LANGUAGES.map((language) => Type.Literal(language)),
        {
          description:
            "The language announcements are sent in; else the signed-in user's language, else Accept-Language, " +
            'else each announcement’s original (with the usual fallback when one lacks it)',
        },
      ),
    ),
  },
  { additionalProperties: false },
);

const LanguageQuery = LiveQuery.properties.lang;

const SseQuery = Type.Object(
  {
    channels: Text.identifier({
      minLength: 1,
      maxLength: 4000,
      description: 'The channels to watch: slugs, comma-separated (at most WS_MAX_CHANNELS_PER_SOCKET)',
      examples: ['bott-sa,drift'],
    }),
    since: LiveQuery.properties.since,
    ticket: LiveQuery.properties.ticket,
    lang: LanguageQuery,
  },
  { additionalProperties: false },
);

const SseHeaders = Type.Object({
  'last-event-id': Type.Optional(
    Text.identifier({
      description: 'The last `id:` received (EventSource sends it when it reconnects); takes precedence over `since`',
    }),
  ),
});

const LiveTicket = Type.Object(
  {
    ticket: Type.String({ description: 'Pass as `?ticket=` when opening GET /api/v1/live. Works once.' }),
    expiresIn: Type.Integer({ description: 'Seconds the ticket stays valid', examples: [LIVE_TICKET_TTL_SECONDS] }),
  },
  { additionalProperties: false },
);

/** One open socket: what it was authenticated with, and who that is now. */
interface Watcher {
  readonly session: LiveSession;
  readonly credential: LiveCredential;
  /** Refreshed by every access re-check and every subscribe. */
  actor: Actor;
}

/** Sockets to re-check: everything, or those of some users and those watching some channels. */
interface RecheckScope {
  all: boolean;
  userIds: Set<string>;
  channelIds: Set<string>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the live route's hooks: what the socket about to be opened is authenticated with. */
    liveCredential?: LiveCredential;
    /** Set by the live route's hooks: the language the socket is sent announcements in (null: the original). */
    liveLanguage?: Language | null;
    /** Set by the event-stream route's hooks: the subscribe frame its `channels` make. */
    liveSubscription?: ClientFrame;
  }
}

async function livePlugin(app: FastifyInstance, options: LivePluginOptions): Promise<void> {
  const { config, db, redis } = options.deps;
  const allowedOrigins = new Set(config.allowedOrigins);
  const publicOrigin = new URL(config.http.publicUrl).origin;

  const hub = new LiveHub({
    redisUrl: config.redis.url,
    prefix: config.redis.prefix,
    log: app.log,
    onAccessHint: (hint) => requestRecheck(scopeOfHint(hint)),
    onReaderChange: (change) => deliverReaderChange(change),
  });
  app.decorate('liveHub', hub);
  // Not awaited: with Redis down the API still starts (and /readyz says so); the subscription is made once Redis
  // answers. Tests and callers that need it await `app.liveHub.start()`, which returns the same promise.
  hub.start().catch((error: unknown) => app.log.error({ err: error }, 'live hub: could not subscribe to Redis'));

  // The frames, as schemas in the OpenAPI document (components.schemas), referred to by both routes' descriptions.
  for (const schema of LIVE_FRAME_SCHEMAS) app.addSchema(schema);

  const limits: SessionLimits = {
    maxChannels: config.ws.maxChannelsPerSocket,
    maxBufferedBytes: config.ws.maxBufferedBytes,
    maxBadFrames: MAX_BAD_FRAMES,
    maxQueuedFrames: MAX_QUEUED_FRAMES,
    maxHeldEvents: MAX_HELD_EVENTS,
  };
  const watchers = new Map<LiveSession, Watcher>();
  /** Open event streams and their ends (the raw response's close), for shutdown. */
  const streams = new Map<LiveSession, Promise<void>>();

  /**
   * Ends every event stream (EventSource reconnects after its `retry:`), waits up to CLOSE_GRACE_MS for them to
   * finish, and cuts off the rest (each transport cuts its own connection after the same grace).
   */
  async function closeAllStreams(): Promise<void> {
    const ended = [...streams.values()];
    for (const session of streams.keys()) session.close(CLOSE.goingAway, 'server shutting down');
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_GRACE_MS);
    });
    await Promise.race([Promise.all(ended), grace]);
    clearTimeout(timer);
  }

  /** The connections of each signed-in user, for reader changes (a credential's user never changes). */
  const byUser = new Map<string, Set<Watcher>>();

  function addWatcher(watcher: Watcher): void {
    watchers.set(watcher.session, watcher);
    if (watcher.actor.kind !== 'user') return;
    let own = byUser.get(watcher.actor.userId);
    if (!own) {
      own = new Set();
      byUser.set(watcher.actor.userId, own);
    }
    own.add(watcher);
  }

  function removeWatcher(session: LiveSession): void {
    const watcher = watchers.get(session);
    watchers.delete(session);
    if (watcher?.actor.kind !== 'user') return;
    const own = byUser.get(watcher.actor.userId);
    own?.delete(watcher);
    if (own?.size === 0) byUser.delete(watcher.actor.userId);
  }

  /**
   * A reader change goes to every connection of its user that may keep read state (a token without scope `read`
   * could not have made it, and is not told of it), encoded once for all of them.
   */
  function deliverReaderChange(change: ReaderChange): void {
    const own = byUser.get(change.userId);
    if (!own) return;
    const frame = encodedFrameOf(change.frame);
    for (const watcher of own) {
      if (watcher.actor.kind === 'user' && watcher.actor.scopes.includes('read')) {
        watcher.session.deliverReaderFrame(frame);
      }
    }
  }

  /** The actor behind a credential now, or null when it ended (one or two queries; none for anonymous). */
  const currentActor = async (credential: LiveCredential): Promise<Actor | null> => {
    const actors = await resolveLiveCredentials(db, [credential], config.session);
    return actors.get(credentialKey(credential)) ?? null;
  };

  /** Where sessions set up their subscriptions and send their replays, a slice per turn of the event loop. */
  const setupLane = new SetupLane(SETUP_SLICE_MS);

  /**
   * A connection as its session's ports, and as the plugin's watcher of it: one object per connection whose methods
   * are shared (a heap snapshot counted ~0.3 KB per socket for a ports object of closures and its context).
   */
  class Connection implements Watcher, SessionPorts {
    readonly hub = hub;
    // Assigned right after construction: the session is made with this object as its ports.
    session!: LiveSession;

    constructor(
      readonly credential: LiveCredential,
      public actor: Actor,
      readonly log: FastifyRequest['log'],
    ) {}

    setup<T>(step: () => T): Promise<T> {
      return setupLane.run(step);
    }

    async resolveChannels(slugs: string[]) {
      // The rights of this moment, as a REST request would see them, not those the socket was opened with; read through
      // the gate, so the identical subscriptions of a reconnect storm are read once (src/realtime/shared-reads.ts).
      const wanted = [...new Set(slugs)].sort();
      const { actor, channels } = await reads.run(
        JSON.stringify(['subscribe', credentialKey(this.credential), wanted]),
        () => readSubscription(this.credential, wanted),
      );
      if (!actor) {
        this.session.endCredentials();
        removeWatcher(this.session);
        return { granted: [], denied: slugs };
      }
      this.actor = actor;
      // With the actor's role in each channel: the session decides with it who sees an organisation-limited
      // announcement (a channel's editors see them all).
      const granted: GrantedChannel[] = [];
      const denied: string[] = [];
      for (const slug of slugs) {
        const channel = channels.get(slug);
        if (channel && canReadChannel(actor, channel)) {
          granted.push({ id: channel.id, slug: channel.slug, visibility: channel.visibility, role: channel.role });
        } else {
          denied.push(slug);
        }
      }
      return { actor, granted, denied };
    }

    async replay(channelIds: string[], since: bigint): Promise<ReplayOutcome> {
      // The actor as resolveChannels just re-read it (a replay always follows a subscribe).
      const { actor } = this;
      // Identical replays (same channels, since and audience scope: what the SQL filters by) waiting in a reconnect
      // storm are read once (src/realtime/shared-reads.ts).
      const key = JSON.stringify(['replay', [...channelIds].sort(), String(since), audienceScope(actor)]);
      return reads.run(key, () => readReplay(channelIds, since, actor));
    }
  }

  /** A subscription's and a replay's reads: at most half the pool at once, so a storm leaves the rest to requests. */
  const reads = new SharedReadGate(Math.max(1, Math.floor(config.database.poolSize / 2)));
  const readSubscription = async (credential: LiveCredential, slugs: string[]) => {
    const actor = await currentActor(credential);
    if (!actor) return { actor, channels: new Map<string, ReadableChannel>() };
    // One statement for all the frame's channels, with the actor's role in each.
    return { actor, channels: await findChannelsBySlugs(db, slugs, actor) };
  };
  const readReplay = async (channelIds: string[], since: bigint, actor: Actor): Promise<ReplayOutcome> => {
    const now = new Date();
    const found = await findEventsSince(db, { channelIds, since, limit: REPLAY_LIMIT, actor, now });
    if (found.kind === 'reset') return found;
    const records = new Map(
      (
        await loadAnnouncementRecords(
          db,
          found.rows.map((row) => row.announcementId),
        )
      ).map((r) => [r.id, r]),
    );
    const events = found.rows.flatMap((row): LiveEvent[] => {
      const event = liveEventOf(row, records.get(row.announcementId) ?? null, config.http.publicUrl, now);
      return event ? [event] : [];
    });
    return { kind: 'replay', events };
  };

  const upgradeListenersBefore = new Set(app.server.listeners('upgrade'));
  await app.register(websocket, {
    options: { maxPayload: config.ws.maxPayloadBytes },
    // Errors on an established socket (until letRequestGo replaces the plugin's listener), and errors the handler throws.
    errorHandler(error, socket, request) {
      onSocketError(request.log, error, socket);
    },
    // Before the HTTP server stops accepting: WebSockets get 1001, event streams end; both reconnect elsewhere.
    preClose: async () => {
      await Promise.all([closeAllSockets(app.websocketServer), closeAllStreams()]);
    },
  });

  // A WebSocket handshake is handled in its turn in the setup lane: @fastify/websocket's 'upgrade' listener (which
  // routes the request through Fastify's hooks) runs from there, not where Node parsed the request. In a reconnect
  // storm thousands of handshakes arrive within a second; handled where they arrive, they filled whole turns of the
  // event loop, and every other request and Redis message waited behind them. A socket that closes while it waits is
  // dropped; until its turn it gets an error listener (Node removes its own before emitting 'upgrade').
  const upgradeListeners = app.server.listeners('upgrade').filter((listener) => !upgradeListenersBefore.has(listener));
  for (const listener of upgradeListeners) app.server.removeListener('upgrade', listener as never);
  const ignoreWhileWaiting = () => {};
  app.server.on('upgrade', (rawRequest: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', ignoreWhileWaiting);
    setupLane
      .run(() => {
        socket.removeListener('error', ignoreWhileWaiting);
        if (socket.destroyed) return;
        for (const listener of upgradeListeners) listener.call(app.server, rawRequest, socket, head);
      })
      .catch((error: unknown) => {
        app.log.warn({ err: error }, 'live: a WebSocket handshake failed');
        socket.destroy();
      });
  });

  // @fastify/websocket destroys the raw socket of a refused upgrade in its onResponse hook, but only if its own
  // onRequest hook ran first. An onRequest hook registered before it (the auth plugin's, answering 401) ends the
  // request earlier; the socket, detached from the HTTP server by the upgrade, would then stay open forever (and
  // app.close() would wait on it). So any upgrade request that was answered with a plain HTTP response is cut here.
  // (A callback hook: it runs after every response of the app, and an async one would cost a promise each time.)
  app.addHook('onResponse', (request, _reply, done) => {
    if (request.ws !== true && isUpgradeRequest(request.raw.headers)) request.raw.socket.destroy();
    done();
  });

  const heartbeat = setInterval(() => {
    let ended = 0;
    for (const session of watchers.keys()) {
      if (session.heartbeat()) continue;
      removeWatcher(session);
      ended += 1;
    }
    // One line per tick, not per connection: many at once (a client host that stopped reading, a network partition)
    // is what an operator needs to see, and the count says how many clients will be reconnecting.
    if (ended > 0) {
      app.log.warn(
        { ended, open: watchers.size, pingIntervalMs: config.ws.pingIntervalMs },
        'live: connections ended at a heartbeat (a WebSocket that missed its pong, an event stream too far behind)',
      );
    }
  }, config.ws.pingIntervalMs);
  // The timer alone must not keep a process alive that is otherwise done.
  heartbeat.unref();

  // ---- access re-checks ----
  let pendingScope: RecheckScope | undefined;
  let recheckRunning: Promise<void> | undefined;
  let closing = false;

  /** Queues a re-check of `scope`; re-checks run one at a time, and scopes queued meanwhile are merged. */
  function requestRecheck(scope: RecheckScope): void {
    if (closing) return;
    if (pendingScope) {
      pendingScope.all ||= scope.all;
      for (const id of scope.userIds) pendingScope.userIds.add(id);
      for (const id of scope.channelIds) pendingScope.channelIds.add(id);
    } else {
      pendingScope = scope;
    }
    recheckRunning ??= (async () => {
      try {
        while (pendingScope && !closing) {
          const next = pendingScope;
          pendingScope = undefined;
          await recheckAccess(next).catch((error: unknown) =>
            // Sockets stay as they are until the next tick: with PostgreSQL away, no new events are relayed either.
            app.log.warn({ err: error }, 'live: access re-check failed'),
          );
        }
      } finally {
        recheckRunning = undefined;
      }
    })();
  }

  async function recheckAccess(scope: RecheckScope): Promise<void> {
    const targets = [...watchers.values()].filter(
      (w) =>
        scope.all ||
        (w.actor.kind === 'user' && scope.userIds.has(w.actor.userId)) ||
        w.session.watched().some((c) => scope.channelIds.has(c.id)),
    );
    if (targets.length === 0) return;
    const actors = await resolveLiveCredentials(
      db,
      targets.map((w) => w.credential),
      config.session,
    );
    const stillIn: Watcher[] = [];
    for (const watcher of targets) {
      const actor = actors.get(credentialKey(watcher.credential)) ?? null;
      if (!actor) {
        watcher.session.endCredentials();
        removeWatcher(watcher.session);
        continue;
      }
      watcher.actor = actor;
      // Events are decided with who the actor is now (its organisation may have changed).
      watcher.session.refreshAccess(actor, new Map());
      if (watcher.session.watched().length > 0) stillIn.push(watcher);
    }
    if (stillIn.length === 0) return;
    const checked = await checkWatchedChannels(
      db,
      stillIn.map((w) => ({ actor: w.actor, channelIds: w.session.watched().map((c) => c.id) })),
    );
    stillIn.forEach((watcher, i) => {
      const { unreadable: lost, facts } = checked[i]!;
      // A role lost (or gained) in a channel still readable changes which organisation-limited announcements it gets.
      watcher.session.refreshAccess(watcher.actor, facts);
      if (lost.size === 0) return;
      watcher.session.revoke(
        watcher.session
          .watched()
          .filter((c) => lost.has(c.id))
          .map((c) => c.slug),
        'access',
      );
    });
  }

  const recheckTimer = setInterval(
    () => requestRecheck({ all: true, userIds: new Set(), channelIds: new Set() }),
    config.ws.accessRecheckMs,
  );
  recheckTimer.unref();

  // ---- connections per client address ----
  const openPerIp = new Map<string, number>();
  /** Takes one of the address's connection slots; the returned function gives it back (once, whoever calls it). */
  function takeConnectionSlot(ip: string): (() => void) | null {
    const open = openPerIp.get(ip) ?? 0;
    if (open >= config.ws.maxConnectionsPerIp) return null;
    openPerIp.set(ip, open + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (openPerIp.get(ip) ?? 1) - 1;
      if (left > 0) openPerIp.set(ip, left);
      else openPerIp.delete(ip);
    };
  }

  app.addHook('onClose', async () => {
    closing = true;
    clearInterval(heartbeat);
    clearInterval(recheckTimer);
    await recheckRunning;
    for (const session of watchers.keys()) session.dispose();
    watchers.clear();
    byUser.clear();
    await hub.close();
  });

  app.post(
    LIVE_TICKETS_PATH,
    {
      // Any authenticated caller; the ticket stands for exactly the credential that asked for it.
      config: { policy: POLICY.signedIn },
      schema: {
        tags: ['live'],
        operationId: 'createLiveTicket',
        summary: 'A single-use ticket for opening the live WebSocket',
        description:
          'For clients that cannot send an Authorization header on a WebSocket handshake and must never put a ' +
          `long-lived token in a URL: the ticket stands for this request's session or token, works once and expires ` +
          `after ${LIVE_TICKET_TTL_SECONDS} s. Open \`GET /api/v1/live?ticket=<ticket>\`. A signed-in browser on ` +
          'this site may also simply open the WebSocket: its session cookie is accepted there.',
        security: BEARER_REQUIRED,
        response: { 201: LiveTicket, ...errorResponses(403) },
      },
    },
    async (request, reply) => {
      const credential = requestCredential(request);
      if (credential.kind === 'anonymous') {
        throw new AppError('unauthenticated', 'Sign in or send a bearer token to get a live ticket');
      }
      const issued = await issueLiveTicket(redis, config.redis.prefix, credential);
      return reply.code(201).header('cache-control', 'no-store').send(issued);
    },
  );

  app.get(
    LIVE_PATH,
    {
      websocket: true,
      config: {
        // Anyone may connect; each subscribed channel is checked with canReadChannel, as REST reads are.
        policy: POLICY.channelRead,
        // @fastify/websocket hides its routes from the document; this one is part of the API, so it is shown: its
        // upgrade request, its refusals and (in components.schemas) its frames.
        swaggerTransform: ({ schema, url }) => ({ schema: { ...schema, hide: false }, url }),
      },
      schema: {
        tags: ['live'],
        operationId: 'openLiveConnection',
        summary: 'Live updates over a WebSocket',
        description:
          'Upgrades to a WebSocket. The client sends `LiveClientFrame`s (subscribe, unsubscribe, ping) and gets ' +
          '`LiveServerFrame`s (see components.schemas), one JSON text message each; `eventId` is the position to ' +
          'resume from (`?since=` or a subscribe frame’s `since`); a `reset` frame means: reload over REST. The ' +
          'server pings every WS_PING_INTERVAL_MS; close codes 1001 (shutting down), 1008, 1009, 1013 (too slow, or ' +
          'try again later) and 4401 (credentials ended). Authentication: the session cookie, a bearer token, ' +
          '`?ticket=` from POST /api/v1/live/tickets, or none (public channels); an Origin must be PUBLIC_URL’s or ' +
          'one of WIDGET_ORIGINS. The same frames as Server-Sent Events: GET /api/v1/live/sse. Protocol: ' +
          'src/realtime/README.md.',
        security: BEARER_OPTIONAL,
        querystring: LiveQuery,
        response: {
          101: {
            description:
              'Switching Protocols: the connection is now a WebSocket carrying LiveClientFrame and LiveServerFrame',
            type: 'null',
          },
          ...errorResponses(400, 403),
        },
      },
      // Before validation, so a URL credential gets its own message rather than "not an accepted field".
      onRequest: refuseBeforeValidation,
      preHandler: [
        async (request, reply) => {
          const { since } = request.query as { since?: string };
          checkSince(since, 'query.since');
          await authenticateLive(request, reply);
          if (!request.ws) return;
          await openConnection(request);
          upgradeResponses.set(request, reply.raw);
        },
        openInTurn,
      ],
    },
    (socket: WebSocket, request) => {
      const { since } = request.query as { since?: string };
      const session = startSession(request, new WebSocketTransport(socket), since);
      const release = slotReleases.get(request);
      // Handlers are attached synchronously: a frame sent right after the handshake must not be lost.
      socket.on('message', (data, isBinary) => session.receive(data, isBinary));
      socket.on('pong', () => session.markAlive());
      const end = once(() => endSession(release, session));
      socket.on('close', end);
      endOnPeerEnd(socket, end);
      letRequestGo(socket, request);
    },
  );

  app.get(
    LIVE_SSE_PATH,
    {
      // Anyone may connect; each channel is checked with canReadChannel, as REST reads are.
      config: { policy: POLICY.channelRead },
      schema: {
        tags: ['live'],
        operationId: 'openLiveEventStream',
        summary: 'Live updates as Server-Sent Events',
        description:
          'The frames of the live WebSocket (`GET /api/v1/live`), as a `text/event-stream`: one event per frame, its ' +
          'JSON as `data:` (schema: `LiveServerFrame`), `id:` = the position on announcement and `reset` frames. ' +
          'The stream opens with `retry:`, then `subscribed` for `channels`, then the replay (`replayed`) or a ' +
          '`reset` when `since` or `Last-Event-ID` is given, then live frames; a `: heartbeat` comment every ' +
          'WS_PING_INTERVAL_MS. It ends when the server shuts down, when the client reads too slowly (unsent data ' +
          'past WS_MAX_BUFFERED_BYTES) or when the credentials it was opened with end: reconnect with ' +
          '`Last-Event-ID` (EventSource does). Authentication as for the WebSocket: the session cookie, a bearer ' +
          'token, `?ticket=` from POST /api/v1/live/tickets, or none (public channels). Readable by WIDGET_ORIGINS ' +
          '(CORS, without credentials). Protocol: src/realtime/README.md.',
        security: BEARER_OPTIONAL,
        querystring: SseQuery,
        headers: SseHeaders,
        response: {
          200: {
            description:
              'An event stream that stays open; each `data:` is one LiveServerFrame (see components.schemas)',
            content: { 'text/event-stream': { schema: Type.String() } },
          },
          ...errorResponses(400, 403),
        },
      },
      onRequest: refuseBeforeValidation,
      preHandler: [
        async (request, reply) => {
          const { since, channels } = request.query as { since?: string; channels: string };
          checkSince(since, 'query.since');
          checkSince(request.headers['last-event-id'] as string | undefined, 'headers.last-event-id');
          request.liveSubscription = subscriptionOf(channels);
          await authenticateLive(request, reply);
          await openConnection(request);
        },
        openInTurn,
      ],
    },
    async (request, reply) => {
      const { since } = request.query as { since?: string };
      const lastEventId = request.headers['last-event-id'] as string | undefined;
      // Fastify leaves the response alone from here: it stays open, and is written and ended by the transport.
      reply.hijack();
      const response = reply.raw;
      // Headers hooks set on the reply (CORS); helmet's are already on the raw response.
      for (const [name, value] of Object.entries(reply.getHeaders())) {
        if (value !== undefined) response.setHeader(name, value);
      }
      response.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        // No caching, and no transformation: a proxy that compresses or buffers would hold events back.
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
        'x-request-id': request.id,
      });
      // Half-open connections (a laptop that went to sleep) are noticed by the OS's keep-alive probes; a stream has
      // no pong to miss.
      request.raw.socket.setKeepAlive(true, config.ws.pingIntervalMs);
      const transport = new EventStreamTransport(response, CLOSE_GRACE_MS);
      transport.start(SSE_RETRY_MS.min + Math.floor(Math.random() * (SSE_RETRY_MS.max - SSE_RETRY_MS.min)));
      // EventSource resends the last id it got; it is newer than the URL's since, which stays as it was.
      const session = startSession(request, transport, lastEventId ?? since);
      const release = slotReleases.get(request);
      streams.set(
        session,
        new Promise<void>((resolve) =>
          response.once('close', () => {
            streams.delete(session);
            endSession(release, session);
            resolve();
          }),
        ),
      );
      session.request(request.liveSubscription!);
    },
  );

  /**
   * The last preHandler of both routes, once the connection is accepted: it is opened — the WebSocket's 101 response,
   * its ws object and session; the event stream's headers and session — in its turn in the setup lane. `done` runs the
   * rest of Fastify's hooks and the route's handler synchronously (@fastify/websocket's upgrade and ws's handshake do
   * not wait either), so the lane times what opening a connection really costs, and a reconnect storm's openings are
   * spread over turns of the event loop with the live broadcasts and the other requests in between.
   */
  function openInTurn(request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void): void {
    // A plain GET of the WebSocket route is answered by @fastify/websocket: nothing to open.
    if (request.routeOptions.url === LIVE_PATH && !request.ws) {
      done();
      return;
    }
    setupLane
      .run(() => done())
      .catch((error: unknown) => request.log.error({ err: error }, 'live: opening a connection failed'));
  }

  /** Refusals that do not depend on the query's validity: credentials in the URL (400), a foreign Origin (403). */
  async function refuseBeforeValidation(request: FastifyRequest): Promise<void> {
    const query = (request.query ?? {}) as Record<string, unknown>;
    const inUrl = CREDENTIALS_IN_URL.find((name) => query[name] !== undefined);
    if (inUrl) {
      throw new AppError(
        'validation_failed',
        `Credentials do not go in URLs (?${inUrl}=): send "Authorization: Bearer <token>", or get a single-use ` +
          `ticket from POST ${LIVE_TICKETS_PATH} and pass ?ticket=`,
        [{ field: `query.${inUrl}`, message: 'is not accepted' }],
      );
    }
    const origin = request.headers.origin;
    if (origin !== undefined && !allowedOrigins.has(origin)) {
      throw new AppError('forbidden', 'Live connections from this origin are not allowed');
    }
  }

  /** The credential the connection is opened with: `?ticket=` (consumed here) or the request's own. */
  async function authenticateLive(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const { ticket } = request.query as { ticket?: string };
    if (ticket !== undefined) {
      request.liveCredential = await redeemTicket(request, reply, ticket);
      return;
    }
    const origin = request.headers.origin;
    if (request.authMethod === 'session' && origin !== undefined && origin !== publicOrigin) {
      // A widget on an intranet page that shares a site with the service (intranett.uio.no, meldinger.uio.no) opens
      // its WebSocket with the visitor's session cookie: the browser sends it whichever page opens the socket. The
      // host page's own scripts could then read what that session may read. So a session counts only on the
      // service's own pages; from a widget origin the connection is anonymous (public channels), like its REST reads.
      request.actor = ANONYMOUS;
      request.authMethod = 'anonymous';
      request.session = null;
    }
    request.liveCredential = requestCredential(request);
  }

  /** Fixes the connection's language and takes one of its address's connection slots (429 when none is left). */
  async function openConnection(request: FastifyRequest): Promise<void> {
    request.liveLanguage = await socketLanguage(request);
    const release = takeConnectionSlot(request.ip);
    if (!release) {
      throw new AppError(
        'rate_limited',
        `Too many live connections from this address (at most ${config.ws.maxConnectionsPerIp}); close some first`,
      );
    }
    // The slot is freed when the connection ends, however it ends (also when the handshake itself fails), also when it
    // ended while the request waited (for its turn in the setup lane, or a look-up).
    const socket = request.raw.socket;
    if (!socket || socket.closed) release();
    else socket.once('close', release);
    slotReleases.set(request, release);
  }

  /**
   * The event stream's subscription, from `?channels=`: checked as a WebSocket's subscribe frame is (slugs, at most
   * WS_MAX_CHANNELS_PER_SOCKET), but refused with 400 before the stream starts.
   */
  function subscriptionOf(channels: string): ClientFrame {
    const slugs = channels.split(',').map((slug) => slug.trim());
    const parsed = parseClientFrame(JSON.stringify({ type: 'subscribe', channels: slugs }), {
      maxChannels: config.ws.maxChannelsPerSocket,
    });
    if (!parsed.ok) {
      throw new AppError('validation_failed', `channels: ${parsed.message}`, [
        { field: 'query.channels', message: parsed.message },
      ]);
    }
    return parsed.frame;
  }

  /** A session for a connection that has just opened, registered for heartbeats, re-checks and reader changes. */
  function startSession(request: FastifyRequest, transport: LiveTransport, since: string | undefined): LiveSession {
    const connection = new Connection(request.liveCredential ?? { kind: 'anonymous' }, request.actor, request.log);
    connection.session = new LiveSession(
      transport,
      connection,
      limits,
      { actor: request.actor, language: request.liveLanguage ?? null },
      since,
    );
    addWatcher(connection);
    return connection.session;
  }

  /**
   * Once the WebSocket is open, its session has what it needs of the HTTP request (actor, credential, language, the
   * request's logger); the rest — Fastify's request and reply, Node's IncomingMessage with its headers and the
   * ServerResponse with the headers hooks set on it — would otherwise live as long as the socket, kept by two links
   * (a heap snapshot of 1,000 sockets showed ~2.5 KB each):
   * - @fastify/websocket's 'error' listener on the socket, a closure over request and reply (it hands them to
   *   errorHandler). It is the only 'error' listener at this point (ws adds none on the WebSocket itself); it is
   *   replaced by one that does the same (onSocketError) with the request's logger alone. Should a later version add
   *   others, nothing is removed (the socket then just keeps its request, as before).
   * - The ServerResponse @fastify/websocket assigned to the raw socket (as Node does for every request), which Node
   *   keeps there until the response ends; an upgraded connection's never does. Detached, as Node does when a
   *   response ends. Nothing listens for that response's end: the reply is hijacked (no onResponse hooks), the
   *   connection slot and the session end with the socket's own 'close'.
   */
  function letRequestGo(socket: WebSocket, request: FastifyRequest): void {
    const listeners = socket.listeners('error');
    if (listeners.length === 1) {
      socket.removeListener('error', listeners[0] as (error: Error) => void);
      const log = request.log;
      socket.on('error', (error) => onSocketError(log, error, socket));
    }
    const response = upgradeResponses.get(request);
    upgradeResponses.delete(request);
    if (response?.socket) response.detachSocket(response.socket);
  }

  /**
   * When the client's side of the TCP connection ends (its FIN), the session ends at once, and ws's own handling of
   * that end (ending its frame parser, half-closing the socket, after which the socket closes) runs in its turn in the
   * setup lane.
   *
   * Why: in a reconnect storm thousands of clients drop their sockets at the same moment, and the kernel reports all
   * those ends in one or two polls of the event loop. Handled there, ws's end → shutdown → close chain for 2,000
   * sockets filled turns of 45–90 ms (tests/e2e/faults/reconnect-storm.test.ts), and the publisher's request and the
   * broadcast to everyone else waited behind them. Now what stays in the poll is reading the end and forgetting the
   * session (O(1)); no frame is sent to a socket whose peer has gone. ws's listener is found by its name; should a
   * version of ws rename it, nothing is deferred (the behaviour of before), which the storm test's figure would show.
   */
  function endOnPeerEnd(socket: WebSocket, end: () => void): void {
    const raw = (socket as unknown as { _socket?: Socket })._socket;
    const wsOnEnd = raw?.listeners('end').find((listener) => listener.name === 'socketOnEnd');
    if (!raw || !wsOnEnd) return;
    raw.removeListener('end', wsOnEnd as () => void);
    raw.on('end', () => {
      end();
      void setupLane.run(() => {
        // Already closed meanwhile (a reset, an error): ws's close handling has run, and its end handling must not.
        if (!raw.destroyed) (wsOnEnd as () => void).call(raw);
      });
    });
  }

  /** The connection ended, whoever ended it. */
  function endSession(release: (() => void) | undefined, session: LiveSession): void {
    release?.();
    removeWatcher(session);
    session.dispose();
  }

  /**
   * The language a socket is sent announcements in, fixed when it opens: `?lang=`, else the signed-in user's
   * language (their setting, whichever device they connect from), else Accept-Language, else null (each
   * announcement's original). pickVersion's fallback then applies per announcement.
   */
  async function socketLanguage(request: FastifyRequest): Promise<Language | null> {
    const { lang } = request.query as { lang?: Language };
    if (lang !== undefined) return lang;
    if (request.actor.kind === 'user') {
      const language = await findUserLanguage(db, request.actor.userId);
      if (language) return language;
    }
    return languageFromAcceptLanguage(request.headers['accept-language']);
  }

  /** Consumes `?ticket=` and makes its credential the request's: 401 for a used, expired or forged ticket. */
  async function redeemTicket(request: FastifyRequest, reply: FastifyReply, ticket: string): Promise<LiveCredential> {
    if (request.headers.authorization !== undefined) {
      throw new AppError('validation_failed', 'Send either a ticket or an Authorization header, not both');
    }
    const credential = await redeemLiveTicket(redis, config.redis.prefix, ticket);
    const actor = credential ? await currentActor(credential) : null;
    if (!credential || !actor) {
      reply.header('www-authenticate', 'Bearer error="invalid_token"');
      throw new AppError('unauthenticated', 'The live ticket is not valid (unknown, already used or expired)');
    }
    request.actor = actor;
    request.authMethod = credential.kind;
    return credential;
  }
}

/** Refuses a `since` (or Last-Event-ID) that is not a position: 400. Absent is fine. */
function checkSince(since: string | undefined, field: string): void {
  // The query pattern admits 19 digits; a bigint stops at 9223372036854775807. The header has no pattern.
  if (since !== undefined && parseEventId(since) === null) {
    throw new AppError(
      'validation_failed',
      `${field.split('.')[1]} must be an event id (a non-negative 64-bit integer)`,
      [{ field, message: 'is not an event id' }],
    );
  }
}

/** Connection-slot releases of connections on their way to the handler. */
const slotReleases = new WeakMap<FastifyRequest, () => void>();

/** The (never sent) HTTP responses of WebSocket upgrades on their way to the handler, to detach (letRequestGo). */
const upgradeResponses = new WeakMap<FastifyRequest, ServerResponse>();

/**
 * An error on an established socket. ws reports protocol violations (an oversized frame, bad UTF-8) here AFTER it has
 * started closing the socket with the right code (1009, 1007…); terminating now could cut that close frame off, so
 * only a socket that is still open is terminated.
 */
/** `fn` run on the first call only. */
function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}

function onSocketError(log: FastifyRequest['log'], error: unknown, socket: WebSocket): void {
  log.debug({ err: error }, 'live: socket error');
  if (socket.readyState === socket.OPEN) socket.terminate();
}

/** What the request is authenticated with, by reference (a session id or a token hash, never a secret). */
function requestCredential(request: FastifyRequest): LiveCredential {
  if (request.authMethod === 'session' && request.session) {
    return { kind: 'session', sessionId: request.session.sessionId };
  }
  if (request.authMethod === 'token') {
    const token = bearerToken(request.headers.authorization);
    if (token) return { kind: 'token', tokenHash: hashToken(token) };
  }
  return { kind: 'anonymous' };
}

/** The sockets a hint asks to re-check. */
function scopeOfHint(hint: AccessHint): RecheckScope {
  const userIds = new Set(hint.userId ? [hint.userId] : []);
  const channelIds = new Set(hint.channelId ? [hint.channelId] : []);
  return { all: userIds.size === 0 && channelIds.size === 0, userIds, channelIds };
}

function isUpgradeRequest(headers: FastifyRequest['raw']['headers']): boolean {
  return typeof headers.upgrade === 'string' && /\bupgrade\b/i.test(headers.connection ?? '');
}

/**
 * Closes every socket with 1001 (going away) so clients reconnect elsewhere, gives them CLOSE_GRACE_MS to answer
 * the closing handshake, then cuts off the rest, so shutdown never waits on an unresponsive client.
 */
async function closeAllSockets(server: FastifyInstance['websocketServer']): Promise<void> {
  const clients = [...server.clients];
  const closed = clients.map(
    (socket) =>
      new Promise<void>((resolve) => {
        if (socket.readyState === socket.CLOSED) return resolve();
        socket.once('close', () => resolve());
      }),
  );
  for (const socket of clients) socket.close(CLOSE.goingAway, 'server shutting down');
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, CLOSE_GRACE_MS);
  });
  await Promise.race([Promise.all(closed), grace]);
  clearTimeout(timer);
  for (const socket of clients) if (socket.readyState !== socket.CLOSED) socket.terminate();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export default fp(livePlugin, {
  name: 'meldingskanal-live',
  fastify: '5.x',
  // request.actor comes from the auth plugin, registered earlier in buildApp.
  dependencies: ['meldingskanal-auth'],
});

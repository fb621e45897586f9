/**
 * Live updates: `GET /api/v1/live`, a WebSocket endpoint (wire protocol: src/realtime/README.md).
 *
 * - Authentication happens before the upgrade, in the auth plugin's onRequest hook: no Authorization header means
 *   anonymous, a bad token answers 401 and no socket is opened. (Browser tickets/cookies, and with them an Origin
 *   check, come later: a bearer header cannot be sent by another site's page, so there is no ambient credential to
 *   hijack yet.)
 * - Access is decided per channel at subscribe time with the same rule as REST (canReadChannel), and a channel the
 *   actor may not read is reported exactly like one that does not exist.
 * - The plugin owns the process's LiveHub (decorated as `app.liveHub`): it creates it, starts it and closes it.
 * - Inbound frames are capped at WS_MAX_PAYLOAD_BYTES (ws's default is 100 MiB); the socket is pinged every
 *   WS_PING_INTERVAL_MS and terminated when it missed the previous pong; a socket whose unsent data passes
 *   WS_MAX_BUFFERED_BYTES is closed with 1013.
 * - On app.close() every socket is closed with 1001 (going away) so clients reconnect, with jitter, elsewhere.
 */
import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Type } from 'typebox';
import type { WebSocket } from 'ws';
import { findChannelBySlug } from '../../db/channels.js';
import { findPublishedEventsSince } from '../../db/live-replay.js';
import { canReadChannel } from '../../domain/access.js';
import { AppError } from '../../domain/errors.js';
import type { Actor } from '../../domain/types.js';
import { liveEventFrom } from '../../realtime/events.js';
import { LiveHub } from '../../realtime/hub.js';
import { CLOSE, parseEventId } from '../../realtime/protocol.js';
import { LiveSession, type SessionLimits, type SessionPorts } from '../../realtime/session.js';
import type { AppDeps } from '../app.js';
import { POLICY } from '../policy.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** This process's live-event hub (connection and subscription counts for metrics). */
    liveHub: LiveHub;
  }
}

export const LIVE_PATH = '/api/v1/live';

/** Most events one replay sends; past it the newest are sent and the `replayed` frame says `truncated`. */
export const REPLAY_LIMIT = 500;

/** How long app.close() waits for clients to answer the 1001 close before cutting the rest off. */
export const CLOSE_GRACE_MS = 2000;

/** Session limits that are protocol policy rather than deployment settings. */
const MAX_BAD_FRAMES = 5;
const MAX_QUEUED_FRAMES = 32;
const MAX_HELD_EVENTS = 10_000;

export interface LivePluginOptions {
  deps: Pick<AppDeps, 'config' | 'db'>;
}

const LiveQuery = Type.Object(
  {
    since: Type.Optional(
      Type.String({ pattern: '^(0|[1-9][0-9]{0,18})$', description: 'Last event id received, to replay the gap' }),
    ),
  },
  { additionalProperties: false },
);

async function livePlugin(app: FastifyInstance, options: LivePluginOptions): Promise<void> {
  const { config, db } = options.deps;

  const hub = new LiveHub({ redisUrl: config.redis.url, prefix: config.redis.prefix, log: app.log });
  app.decorate('liveHub', hub);
  // Not awaited: with Redis down the API still starts (and /readyz says so); the subscription is made once Redis
  // answers. Tests and callers that need it await `app.liveHub.start()`, which returns the same promise.
  hub.start().catch((error: unknown) => app.log.error({ err: error }, 'live hub: could not subscribe to Redis'));

  const limits: SessionLimits = {
    maxChannels: config.ws.maxChannelsPerSocket,
    maxBufferedBytes: config.ws.maxBufferedBytes,
    maxBadFrames: MAX_BAD_FRAMES,
    maxQueuedFrames: MAX_QUEUED_FRAMES,
    maxHeldEvents: MAX_HELD_EVENTS,
  };
  const sessions = new Set<LiveSession>();

  const portsFor = (actor: Actor, request: FastifyRequest): SessionPorts => ({
    hub,
    log: request.log,
    async resolveChannels(slugs) {
      const found = await Promise.all(slugs.map((slug) => findChannelBySlug(db, slug, actor)));
      const granted: { id: string; slug: string }[] = [];
      const denied: string[] = [];
      found.forEach((channel, i) => {
        if (channel && canReadChannel(actor, channel)) granted.push({ id: channel.id, slug: channel.slug });
        else denied.push(slugs[i]!);
      });
      return { granted, denied };
    },
    async replay(channelIds, since) {
      const { rows, truncated } = await findPublishedEventsSince(db, { channelIds, since, limit: REPLAY_LIMIT });
      const events = rows.map((row) =>
        liveEventFrom(
          { id: row.eventId, channelId: row.channelId },
          row.announcement,
          { slug: row.channelSlug },
          config.http.publicUrl,
        ),
      );
      return { events, truncated };
    },
  });

  await app.register(websocket, {
    options: { maxPayload: config.ws.maxPayloadBytes },
    // Errors on an established socket. ws reports protocol violations (an oversized frame, bad UTF-8) here AFTER it
    // has started closing the socket with the right code (1009, 1007…); terminating now could cut that close frame
    // off, so only a socket that is still open is terminated.
    errorHandler(error, socket, request) {
      request.log.debug({ err: error }, 'live: socket error');
      if (socket.readyState === socket.OPEN) socket.terminate();
    },
    preClose: async () => {
      await closeAllSockets(app.websocketServer);
    },
  });

  // @fastify/websocket destroys the raw socket of a refused upgrade in its onResponse hook, but only if its own
  // onRequest hook ran first. An onRequest hook registered before it (the auth plugin's, answering 401) ends the
  // request earlier; the socket, detached from the HTTP server by the upgrade, would then stay open forever (and
  // app.close() would wait on it). So any upgrade request that was answered with a plain HTTP response is cut here.
  app.addHook('onResponse', async (request) => {
    if (request.ws !== true && isUpgradeRequest(request.raw.headers)) request.raw.socket.destroy();
  });

  const heartbeat = setInterval(() => {
    for (const session of sessions) if (!session.heartbeat()) sessions.delete(session);
  }, config.ws.pingIntervalMs);
  // The timer alone must not keep a process alive that is otherwise done.
  heartbeat.unref();

  app.addHook('onClose', async () => {
    clearInterval(heartbeat);
    for (const session of sessions) session.dispose();
    sessions.clear();
    await hub.close();
  });

  app.get(
    LIVE_PATH,
    {
      websocket: true,
      // Anyone may connect; each subscribed channel is checked with canReadChannel, as REST reads are.
      config: { policy: POLICY.channelRead },
      schema: { querystring: LiveQuery },
      // The pattern admits 19 digits; a bigint stops at 9223372036854775807.
      preHandler: async (request) => {
        const { since } = request.query as { since?: string };
        if (since !== undefined && parseEventId(since) === null) {
          throw new AppError('validation_failed', 'since must be an event id (a non-negative 64-bit integer)', [
            { field: 'query.since', message: 'is out of range' },
          ]);
        }
      },
    },
    (socket: WebSocket, request) => {
      const { since } = request.query as { since?: string };
      const session = new LiveSession(socket, portsFor(request.actor, request), limits, since);
      sessions.add(session);
      // Handlers are attached synchronously: a frame sent right after the handshake must not be lost.
      socket.on('message', (data, isBinary) => session.receive(data, isBinary));
      socket.on('pong', () => session.markAlive());
      socket.on('close', () => {
        sessions.delete(session);
        session.dispose();
      });
    },
  );
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

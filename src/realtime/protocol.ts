/**
 * The live wire protocol (see src/realtime/README.md): JSON text frames, a discriminated union on `type`.
 * Also the message that travels over Redis pub/sub between the outbox relay and every API process.
 */
import type { AnnouncementView } from '../services/views.js';

/** Redis pub/sub channel carrying LiveEvents to every API process. */
export const liveRedisChannel = (prefix: string) => `${prefix}:live`;

/** An event as published on Redis and forwarded to sockets. `eventId` is the outbox event id (monotonic). */
export interface LiveEvent {
  eventId: string;
  type: 'announcement.published';
  channelId: string;
  channel: string;
  announcement: AnnouncementView;
}

// ---- client → server ----
export type ClientFrame =
  | { type: 'subscribe'; channels: string[]; since?: string }
  | { type: 'unsubscribe'; channels: string[] }
  | { type: 'ping' };

// ---- server → client ----
export type ServerFrame =
  | { type: 'subscribed'; channels: string[]; denied: string[] }
  | { type: 'unsubscribed'; channels: string[] }
  | LiveEvent
  | { type: 'pong' }
  | { type: 'error'; code: string; message: string };

export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  policyViolation: 1008,
  messageTooBig: 1009,
  tryAgainLater: 1013,
  serviceRestart: 1012,
} as const;

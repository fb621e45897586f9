/**
 * The live wire protocol (see src/realtime/README.md): JSON text frames, a discriminated union on `type`.
 * Also the message that travels over Redis pub/sub between the outbox relay and every API process.
 *
 * Everything here is pure (no I/O), so the parsing rules are unit-tested on their own (tests/unit/live-protocol.test.ts).
 */
import { renderMarkdown } from '../content/markdown.js';
import type { AnnouncementView } from '../services/views.js';

/** Redis pub/sub channel carrying LiveEvents to every API process. */
export const liveRedisChannel = (prefix: string) => `${prefix}:live`;

/** An event as published on Redis and forwarded to sockets. `eventId` is the outbox event id (monotonic). */
export type LiveEvent = AnnouncementPublishedEvent | AnnouncementRetractedEvent;

export interface AnnouncementPublishedEvent {
  eventId: string;
  type: 'announcement.published';
  channelId: string;
  channel: string;
  announcement: AnnouncementView;
}

/**
 * An announcement was withdrawn: clients remove it. Only its id travels (the content is withdrawn, not re-sent).
 * Replays after a reconnect (`since`) carry published announcements only, so a retraction missed while disconnected
 * shows as the announcement's absence from the next REST read.
 */
export interface AnnouncementRetractedEvent {
  eventId: string;
  type: 'announcement.retracted';
  channelId: string;
  channel: string;
  announcementId: string;
}

// ---- client → server ----
export type ClientFrame =
  | { type: 'subscribe'; channels: string[]; since?: string }
  | { type: 'unsubscribe'; channels: string[] }
  | { type: 'ping' };

// ---- server → client ----
export type ServerFrame =
  | { type: 'subscribed'; channels: string[]; denied: string[] }
  /**
   * Answers an `unsubscribe` frame (no reason), or tells the client the server removed channels: `access` when the
   * caller may no longer read them (a role or the channel's visibility changed), `signed_out` when the session or
   * token behind the socket ended (the socket is then closed with 4401).
   */
  | { type: 'unsubscribed'; channels: string[]; reason?: UnsubscribeReason }
  /** Ends the replay a subscribe frame with `since` asked for; `truncated` means older events were left out. */
  | { type: 'replayed'; channels: string[]; count: number; truncated: boolean }
  | LiveEvent
  | { type: 'pong' }
  | { type: 'error'; code: FrameErrorCode; message: string };

/** Why the server removed channels from a socket by itself. */
export type UnsubscribeReason = 'access' | 'signed_out';

/** Codes of `error` frames. None of them closes the socket by itself (repeated `bad_frame` does, with 1008). */
export type FrameErrorCode = 'bad_frame' | 'too_many_channels' | 'replay_unavailable' | 'internal_error';

export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  policyViolation: 1008,
  messageTooBig: 1009,
  tryAgainLater: 1013,
  serviceRestart: 1012,
  /** The session or token the socket was opened with ended (signed out, expired, revoked). Application range. */
  credentialsEnded: 4401,
} as const;

/** Longest channel slug a frame may name (the REST API's slug limit). */
export const MAX_SLUG_LENGTH = 64;

/** Largest value of a PostgreSQL bigint, the type of OutboxEvent.id. */
const MAX_EVENT_ID = 9_223_372_036_854_775_807n;

/**
 * Parses an event id (a non-negative decimal integer string that fits a PostgreSQL bigint), or returns null.
 * Numbers are refused: ids past 2^53 do not survive JSON numbers.
 */
export function parseEventId(raw: unknown): bigint | null {
  if (typeof raw !== 'string' || !/^(0|[1-9]\d{0,18})$/.test(raw)) return null;
  const id = BigInt(raw);
  return id <= MAX_EVENT_ID ? id : null;
}

export type ParsedClientFrame =
  | { ok: true; frame: ClientFrame }
  | { ok: false; code: 'bad_frame' | 'too_many_channels'; message: string };

const ALLOWED_KEYS: Record<ClientFrame['type'], readonly string[]> = {
  subscribe: ['type', 'channels', 'since'],
  unsubscribe: ['type', 'channels'],
  ping: ['type'],
};

/**
 * Validates one inbound text frame. Unknown fields are refused, as in the REST API, so a client's typo is reported
 * rather than ignored. Channel lists are de-duplicated (first occurrence wins) and may name at most `maxChannels`.
 */
export function parseClientFrame(raw: string, limits: { maxChannels: number }): ParsedClientFrame {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return bad('the frame is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return bad('the frame must be a JSON object');
  const record = value as Record<string, unknown>;
  const type = record.type;
  if (type !== 'subscribe' && type !== 'unsubscribe' && type !== 'ping') {
    return bad('"type" must be "subscribe", "unsubscribe" or "ping"');
  }
  const unknown = Object.keys(record).filter((key) => !ALLOWED_KEYS[type].includes(key));
  if (unknown.length > 0) return bad(`unknown field(s) in a ${type} frame: ${unknown.join(', ')}`);
  if (type === 'ping') return { ok: true, frame: { type } };

  const channels = record.channels;
  if (!Array.isArray(channels) || channels.length === 0) return bad('"channels" must be a non-empty array of slugs');
  if (!channels.every((slug) => typeof slug === 'string' && slug.length > 0 && slug.length <= MAX_SLUG_LENGTH)) {
    return bad(`each channel must be a slug of 1–${MAX_SLUG_LENGTH} characters`);
  }
  const unique = [...new Set(channels as string[])];
  if (unique.length > limits.maxChannels) {
    return {
      ok: false,
      code: 'too_many_channels',
      message: `a socket may watch at most ${limits.maxChannels} channels`,
    };
  }
  if (type === 'unsubscribe') return { ok: true, frame: { type, channels: unique } };
  if (record.since === undefined) return { ok: true, frame: { type, channels: unique } };
  if (parseEventId(record.since) === null) return bad('"since" must be an event id: a decimal string such as "1234"');
  return { ok: true, frame: { type, channels: unique, since: record.since as string } };
}

function bad(message: string): ParsedClientFrame {
  return { ok: false, code: 'bad_frame', message };
}

const IMPORTANCE_VALUES: readonly string[] = ['info', 'important', 'critical'];
const STATUS_VALUES: readonly string[] = ['draft', 'published', 'retracted'];

/**
 * Validates a LiveEvent received from Redis and returns a copy holding only the declared fields (so the frame
 * forwarded to sockets never carries anything a publisher added by mistake), or a reason it was refused.
 */
export function parseLiveEvent(raw: string): { ok: true; event: LiveEvent } | { ok: false; reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { ok: false, reason: 'not valid JSON' };
  }
  if (typeof value !== 'object' || value === null) return { ok: false, reason: 'not a JSON object' };
  const e = value as Record<string, unknown>;
  if (parseEventId(e.eventId) === null) return { ok: false, reason: 'eventId is not a decimal id string' };
  if (e.type !== 'announcement.published' && e.type !== 'announcement.retracted') {
    return { ok: false, reason: `unknown event type ${JSON.stringify(e.type)}` };
  }
  if (!isText(e.channelId) || !isText(e.channel)) return { ok: false, reason: 'channelId and channel must be strings' };
  if (e.type === 'announcement.retracted') {
    if (!isText(e.announcementId)) return { ok: false, reason: 'announcementId must be a string' };
    return {
      ok: true,
      event: {
        eventId: e.eventId as string,
        type: 'announcement.retracted',
        channelId: e.channelId,
        channel: e.channel,
        announcementId: e.announcementId,
      },
    };
  }
  const a = e.announcement as Record<string, unknown> | null | undefined;
  if (typeof a !== 'object' || a === null) return { ok: false, reason: 'announcement is missing' };
  const fieldsOk =
    isText(a.id) &&
    isText(a.channel) &&
    typeof a.title === 'string' &&
    typeof a.body === 'string' &&
    typeof a.url === 'string' &&
    IMPORTANCE_VALUES.includes(a.importance as string) &&
    STATUS_VALUES.includes(a.status as string) &&
    (a.publishedAt === null || typeof a.publishedAt === 'string');
  if (!fieldsOk) return { ok: false, reason: 'announcement fields are missing or of the wrong type' };
  // Absent only in events of a version from before authors were shown: read as "no author", like a former user.
  const author = a.author === undefined || a.author === null ? null : a.author;
  if (author !== null && (typeof author !== 'object' || typeof (author as { name?: unknown }).name !== 'string')) {
    return { ok: false, reason: 'announcement author must be null or { name }' };
  }
  return {
    ok: true,
    event: {
      eventId: e.eventId as string,
      type: 'announcement.published',
      channelId: e.channelId as string,
      channel: e.channel as string,
      // The announcement travels as the server built it (src/services/views.ts); fields checked above are the
      // ones a client cannot do without.
      announcement: {
        ...(a as unknown as AnnouncementView),
        // Events stored before bodyHtml existed lack it: render it here, as the server would have.
        bodyHtml: typeof a.bodyHtml === 'string' ? a.bodyHtml : renderMarkdown(a.body as string),
        author: author === null ? null : { name: (author as { name: string }).name },
      },
    },
  };
}

function isText(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** Serialises a server frame (one call per broadcast event, shared by every socket that receives it). */
export function encodeFrame(frame: ServerFrame): string {
  return JSON.stringify(frame);
}

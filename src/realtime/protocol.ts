/**
 * The live wire protocol (see src/realtime/README.md): JSON text frames, a discriminated union on `type`.
 * Also the message that travels over Redis pub/sub between the outbox relay and every API process.
 *
 * Everything here is pure (no I/O), so the parsing rules are unit-tested on their own (tests/unit/live-protocol.test.ts).
 */
import { renderMarkdown } from '../content/markdown.js';
import { languagePreference } from '../domain/announcement.js';
import { textProblem } from '../domain/text.js';
import { LANGUAGES, type Language } from '../domain/types.js';
import type { AnnouncementView } from '../services/views.js';
import { formatSseEvent } from './sse.js';

/** Redis pub/sub channel carrying LiveEvents to every API process. */
export const liveRedisChannel = (prefix: string) => `${prefix}:live`;

/** The outbox event type of an edit to a published announcement (written by the authoring service). */
export const ANNOUNCEMENT_UPDATED = 'announcement.updated';

/**
 * An event as published on Redis (by the outbox relay) and received by every API process's hub. It carries more than
 * any client is sent: the audience, which each socket's session checks against its actor (canSeeAnnouncement), and
 * the announcement in every language it has, of which each socket is sent one (`liveFrameOf`). `eventId` is the
 * event's position in the live log (OutboxEvent.position, drawn by the relay in commit order), not the row id.
 */
export type LiveEvent = AnnouncementPublishedEvent | AnnouncementUpdatedEvent | AnnouncementRetractedEvent;

interface LiveEventBase {
  eventId: string;
  channelId: string;
  channel: string;
  /** The announcement's audience (organisation ids; empty: everyone). Never sent to clients. */
  audienceOrganisationIds: string[];
}

export interface AnnouncementPublishedEvent extends LiveEventBase {
  type: 'announcement.published';
  /** One view per language version, the original first (`announcementView` with each version's language). */
  announcements: AnnouncementView[];
}

/** A published announcement was edited; `announcements` are its views after the edit. */
export interface AnnouncementUpdatedEvent extends LiveEventBase {
  type: 'announcement.updated';
  /** The publisher marked the edit as material (it changes what readers should know), not a minor fix. */
  material: boolean;
  /** The revision this edit made. */
  revision: number;
  announcements: AnnouncementView[];
}

/**
 * An announcement was withdrawn: clients remove it. Only its id travels to clients (the content is withdrawn, not
 * re-sent); the audience travels on Redis so a retraction reaches only sockets that could have been sent the
 * announcement.
 */
export interface AnnouncementRetractedEvent extends LiveEventBase {
  type: 'announcement.retracted';
  announcementId: string;
}

// ---- what a socket is sent for an event ----
export type LiveFrame = AnnouncementPublishedFrame | AnnouncementUpdatedFrame | AnnouncementRetractedFrame;

export interface AnnouncementPublishedFrame {
  type: 'announcement.published';
  eventId: string;
  channelId: string;
  channel: string;
  /** In the socket's language (see languagePreference), `announcement.language` says which version it is. */
  announcement: AnnouncementView;
}

export interface AnnouncementUpdatedFrame {
  type: 'announcement.updated';
  eventId: string;
  channelId: string;
  channel: string;
  material: boolean;
  revision: number;
  announcement: AnnouncementView;
}

export interface AnnouncementRetractedFrame {
  type: 'announcement.retracted';
  eventId: string;
  channelId: string;
  channel: string;
  announcementId: string;
  /**
   * `audience` when the announcement was not withdrawn but an edit took it out of this reader's audience (sent to a
   * socket that was sent the announcement on this connection); absent for a publisher's retraction. Either way:
   * remove it.
   */
  reason?: 'audience';
}

/**
 * The view of the version a reader asking for `language` gets: pickVersion's fallback (src/domain/announcement.ts)
 * over views that are one per language version, the original first.
 */
export function viewInLanguage(views: readonly AnnouncementView[], language: Language | null): AnnouncementView {
  const original = views[0];
  if (!original) throw new Error('A live event carries at least the original version');
  if (language === null) return original;
  for (const wanted of languagePreference(language)) {
    const found = views.find((view) => view.language === wanted);
    if (found) return found;
  }
  return original;
}

/** What a socket reading in `language` (null: each announcement's original) is sent for `event`. */
export function liveFrameOf(event: LiveEvent, language: Language | null): LiveFrame {
  const { eventId, channelId, channel } = event;
  switch (event.type) {
    case 'announcement.retracted':
      return { type: event.type, eventId, channelId, channel, announcementId: event.announcementId };
    case 'announcement.published':
      return {
        type: event.type,
        eventId,
        channelId,
        channel,
        announcement: viewInLanguage(event.announcements, language),
      };
    case 'announcement.updated':
      return {
        type: event.type,
        eventId,
        channelId,
        channel,
        material: event.material,
        revision: event.revision,
        announcement: viewInLanguage(event.announcements, language),
      };
  }
}

/**
 * One serialised server frame, with what each transport sends for it encoded at most once: a broadcast frame is
 * shared by every connection reading the same language version (EventFrames), so 10,000 WebSockets and event streams
 * cost one JSON.stringify and one encoding per transport, not one per connection.
 */
export class EncodedFrame {
  private utf8: Buffer | undefined;
  private event: Buffer | undefined;

  /**
   * @param json the frame, serialised (one line: JSON.stringify escapes line breaks)
   * @param eventId its position, for frames that carry one (announcement events, `reset`): SSE sends it as `id:`
   */
  constructor(
    readonly json: string,
    readonly eventId?: string,
  ) {}

  /** The payload of the WebSocket text message. */
  get bytes(): Buffer {
    this.utf8 ??= Buffer.from(this.json, 'utf8');
    return this.utf8;
  }

  /** The Server-Sent Events event: `id:` when it has a position, `data:`, and the blank line that ends it. */
  get eventStream(): Buffer {
    this.event ??= Buffer.from(formatSseEvent(this.json, this.eventId), 'utf8');
    return this.event;
  }
}

/** A frame for one connection (not shared), with its position if it has one. */
export function encodedFrameOf(frame: ServerFrame): EncodedFrame {
  const eventId = 'eventId' in frame ? frame.eventId : undefined;
  return new EncodedFrame(encodeFrame(frame), eventId);
}

/**
 * The frames of one event, serialised at most once per language version and shared by every connection that is sent
 * that version (and encoded at most once per transport, see EncodedFrame).
 */
export class EventFrames {
  private readonly encoded = new Map<string, EncodedFrame>();
  /**
   * The frame per language a connection asks for (null: the original), so a broadcast picks the version once per
   * language, not once per connection.
   */
  private readonly byRequested = new Map<Language | null, EncodedFrame>();
  /** The event's position, parsed once for all the connections it is handed to (they de-duplicate by it). */
  readonly position: bigint;
  /** What canSeeAnnouncement decides on for this event, made once for all connections. */
  readonly audience: { status: 'published'; audienceOrganisationIds: readonly string[] };

  constructor(readonly event: LiveEvent) {
    this.position = BigInt(event.eventId);
    this.audience = { status: 'published', audienceOrganisationIds: event.audienceOrganisationIds };
  }

  /**
   * The frames of an event object, made once per object: the replay a reconnect storm shares
   * (src/realtime/shared-reads.ts) hands the same events to thousands of sessions, which then share the serialisations.
   */
  static of(event: LiveEvent): EventFrames {
    let frames = framesOfEvent.get(event);
    if (!frames) {
      frames = new EventFrames(event);
      framesOfEvent.set(event, frames);
    }
    return frames;
  }

  /** The serialised frame for a connection reading in `language`. */
  for(language: Language | null): string {
    return this.frame(language).json;
  }

  /** The shared frame for a connection reading in `language`. */
  frame(language: Language | null): EncodedFrame {
    const known = this.byRequested.get(language);
    if (known !== undefined) return known;
    // Keyed by the version actually sent, so an nn and an nb reader of an announcement with neither share a frame.
    const key =
      this.event.type === 'announcement.retracted' ? '' : viewInLanguage(this.event.announcements, language).language;
    let frame = this.encoded.get(key);
    if (frame === undefined) {
      frame = new EncodedFrame(encodeFrame(liveFrameOf(this.event, language)), this.event.eventId);
      this.encoded.set(key, frame);
    }
    this.byRequested.set(language, frame);
    return frame;
  }

  /** How many serialisations were made: at most one per version sent (tests check the sharing with it). */
  get serialisations(): number {
    return this.encoded.size;
  }
}

const framesOfEvent = new WeakMap<LiveEvent, EventFrames>();

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
   * token behind the connection ended (it is then closed: WebSocket 4401).
   */
  | { type: 'unsubscribed'; channels: string[]; reason?: UnsubscribeReason }
  /** Ends a replay a subscribe with `since` asked for: every event after `since` was sent. */
  | { type: 'replayed'; channels: string[]; count: number }
  /**
   * Instead of a replay: the gap after `since` cannot be replayed whole, so the client reloads these channels over
   * REST and continues from `eventId`, the newest position when the log was read.
   */
  | { type: 'reset'; channels: string[]; reason: ResetReason; eventId: string }
  | LiveFrame
  | ReaderFrame
  | { type: 'pong' }
  | { type: 'error'; code: FrameErrorCode; message: string };

/** Why a subscribe with `since` gets `reset` rather than a replay (src/realtime/README.md). */
export type ResetReason = 'too_old' | 'unknown_position' | 'too_many_events';

/**
 * A change of the signed-in reader's own state, made from any device, sent to all of that user's connections (not
 * positioned, not replayed: REST has the state). See reader-changes.ts.
 */
export type ReaderFrame =
  /** Announcements marked read (`read: true`) or unread, in `channel`. */
  | { type: 'read.changed'; read: boolean; announcementIds: string[]; channel: string }
  /** Everything of `channel` marked read; without `channel`, everything of the reader's feed. */
  | { type: 'read.changed'; read: true; all: true; channel?: string }
  | { type: 'acknowledged'; announcementId: string; channel: string; acknowledgedAt: string };

/** Why the server removed channels from a connection by itself. */
export type UnsubscribeReason = 'access' | 'signed_out';

/**
 * Codes of `error` frames. `replay_unavailable` is followed by the end of the connection (WebSocket 1013), so the
 * client reconnects with the same `since`; the others leave it open (repeated `bad_frame` closes with 1008).
 */
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

/** Largest value of a PostgreSQL bigint, the type of OutboxEvent.position. */
const MAX_EVENT_ID = 9_223_372_036_854_775_807n;

/**
 * Parses an event id — a position in the live log: a non-negative decimal integer string that fits a PostgreSQL
 * bigint — or returns null. Numbers are refused: positions past 2^53 do not survive JSON numbers.
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
  // Input hygiene, as for every string a request carries (src/domain/text.ts): a NUL or a lone surrogate in a slug
  // would reach the channel lookup (PostgreSQL refuses it: an internal_error frame).
  for (const slug of channels as string[]) {
    const problem = textProblem(slug, 'identifier');
    if (problem) return bad(`each channel ${problem}`);
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
const STATUS_VALUES: readonly string[] = ['draft', 'scheduled', 'published', 'retracted'];
const EVENT_TYPES: readonly string[] = ['announcement.published', ANNOUNCEMENT_UPDATED, 'announcement.retracted'];

type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * Validates a LiveEvent received from Redis and returns a copy holding only the declared fields (so the frame
 * forwarded to sockets never carries anything a publisher added by mistake), or a reason it was refused. An event
 * without its audience is refused: delivering it to everyone could show an announcement to readers outside it.
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
  if (!EVENT_TYPES.includes(e.type as string)) {
    return { ok: false, reason: `unknown event type ${JSON.stringify(e.type)}` };
  }
  if (!isText(e.channelId) || !isText(e.channel)) return { ok: false, reason: 'channelId and channel must be strings' };
  const audience = e.audienceOrganisationIds;
  if (!Array.isArray(audience) || !audience.every(isText)) {
    return { ok: false, reason: 'audienceOrganisationIds must be an array of organisation ids' };
  }
  const base = {
    eventId: e.eventId as string,
    channelId: e.channelId,
    channel: e.channel,
    audienceOrganisationIds: [...audience] as string[],
  };
  if (e.type === 'announcement.retracted') {
    if (!isText(e.announcementId)) return { ok: false, reason: 'announcementId must be a string' };
    return { ok: true, event: { ...base, type: 'announcement.retracted', announcementId: e.announcementId } };
  }
  const views = parseViews(e.announcements);
  if (!views.ok) return views;
  if (e.type === 'announcement.published') {
    return { ok: true, event: { ...base, type: 'announcement.published', announcements: views.value } };
  }
  if (typeof e.material !== 'boolean') return { ok: false, reason: 'material must be a boolean' };
  if (typeof e.revision !== 'number' || !Number.isSafeInteger(e.revision) || e.revision < 1) {
    return { ok: false, reason: 'revision must be a positive integer' };
  }
  return {
    ok: true,
    event: {
      ...base,
      type: 'announcement.updated',
      material: e.material,
      revision: e.revision,
      announcements: views.value,
    },
  };
}

/** One view per language, the original first: at least one, no language twice. */
function parseViews(raw: unknown): Parsed<AnnouncementView[]> {
  if (!Array.isArray(raw) || raw.length === 0) {
    return { ok: false, reason: 'announcements must be a non-empty array of views' };
  }
  const views: AnnouncementView[] = [];
  for (const item of raw) {
    const view = parseView(item);
    if (!view.ok) return view;
    if (views.some((v) => v.language === view.value.language)) {
      return { ok: false, reason: `announcements has two ${view.value.language} versions` };
    }
    views.push(view.value);
  }
  return { ok: true, value: views };
}

function parseView(raw: unknown): Parsed<AnnouncementView> {
  if (typeof raw !== 'object' || raw === null) return { ok: false, reason: 'an announcement view is missing' };
  const a = raw as Record<string, unknown>;
  const fieldsOk =
    isText(a.id) &&
    isText(a.channel) &&
    (LANGUAGES as readonly unknown[]).includes(a.language) &&
    typeof a.title === 'string' &&
    typeof a.body === 'string' &&
    typeof a.url === 'string' &&
    IMPORTANCE_VALUES.includes(a.importance as string) &&
    STATUS_VALUES.includes(a.status as string) &&
    (a.publishedAt === null || typeof a.publishedAt === 'string');
  if (!fieldsOk) return { ok: false, reason: 'announcement fields are missing or of the wrong type' };
  const author = a.author === undefined || a.author === null ? null : a.author;
  if (author !== null && (typeof author !== 'object' || typeof (author as { name?: unknown }).name !== 'string')) {
    return { ok: false, reason: 'announcement author must be null or { name }' };
  }
  const view: Record<string, unknown> = {};
  for (const key of VIEW_KEYS) if (a[key] !== undefined) view[key] = a[key];
  // Events stored before bodyHtml existed lack it: render it here, as the server would have.
  view.bodyHtml = typeof a.bodyHtml === 'string' ? a.bodyHtml : renderMarkdown(a.body as string);
  view.author = author === null ? null : { name: (author as { name: string }).name };
  // The view travels as the server built it (src/services/views.ts); fields checked above are the ones a client
  // cannot do without, and the ones the hub reads (language).
  return { ok: true, value: view as unknown as AnnouncementView };
}

/** Every field of AnnouncementView (a Record, so the compiler notices one added to the view and missing here). */
const VIEW_FIELDS: Record<keyof AnnouncementView, true> = {
  id: true,
  channel: true,
  language: true,
  languages: true,
  title: true,
  summary: true,
  body: true,
  bodyHtml: true,
  importance: true,
  type: true,
  affectedSystem: true,
  startsAt: true,
  endsAt: true,
  calendarUrl: true,
  resolves: true,
  resolvedBy: true,
  audience: true,
  status: true,
  publishedAt: true,
  publishAt: true,
  expiresAt: true,
  expired: true,
  revision: true,
  editedAt: true,
  acknowledgement: true,
  attachments: true,
  url: true,
  author: true,
  rating: true,
  views: true,
  pinned: true,
};
const VIEW_KEYS = Object.keys(VIEW_FIELDS);

function isText(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** Serialises a server frame (a broadcast event's frames go through EventFrames, once per language version). */
export function encodeFrame(frame: ServerFrame): string {
  return JSON.stringify(frame);
}

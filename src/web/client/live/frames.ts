/**
 * The live protocol's server frames as the browser modules read them (the server's own definition, with every
 * field: src/realtime/protocol.ts; the protocol: src/realtime/README.md), their parsing, and positions.
 *
 * Pure (no DOM, no Node): the widget, the web app's live pages and the unit tests import it alike.
 */

export type Importance = 'info' | 'important' | 'critical';

/** The fields of an announcement (REST `Announcement`, live `announcement`) the browser modules use. */
export interface LiveAnnouncement {
  id: string;
  channel: string;
  language: string;
  title: string;
  summary: string | null;
  importance: Importance;
  publishedAt: string | null;
  expiresAt: string | null;
  /** Only in REST listings (a channel's first page): live frames do not carry it. */
  pinned?: boolean;
}

export type PositionedFrame =
  | { type: 'announcement.published'; eventId: string; channel: string; announcement: LiveAnnouncement }
  | {
      type: 'announcement.updated';
      eventId: string;
      channel: string;
      material: boolean;
      revision: number;
      announcement: LiveAnnouncement;
    }
  | { type: 'announcement.retracted'; eventId: string; channel: string; announcementId: string; reason?: string };

export type ServerFrame =
  | PositionedFrame
  | { type: 'subscribed'; channels: string[]; denied: string[] }
  | { type: 'unsubscribed'; channels: string[]; reason?: 'access' | 'signed_out' }
  | { type: 'replayed'; channels: string[]; count: number }
  | { type: 'reset'; channels: string[]; reason: string; eventId: string }
  | { type: 'pong' }
  | { type: 'error'; code: string; message: string }
  | { type: 'read.changed'; read: boolean; announcementIds?: string[]; all?: true; channel?: string }
  | { type: 'acknowledged'; announcementId: string; channel: string; acknowledgedAt: string };

const POSITION = /^\d{1,30}$/;

type Json = Record<string, unknown>;
const isStrings = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');
const isAnnouncement = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && typeof (value as Json).id === 'string';

/** Which fields each frame type must have, beyond `type` (a frame without them is dropped, not half-handled). */
const CHECKS: Record<ServerFrame['type'], (frame: Json) => boolean> = {
  'announcement.published': (f) => isAnnouncement(f.announcement),
  'announcement.updated': (f) => isAnnouncement(f.announcement),
  'announcement.retracted': (f) => typeof f.announcementId === 'string',
  subscribed: (f) => isStrings(f.channels) && isStrings(f.denied),
  unsubscribed: (f) => isStrings(f.channels),
  replayed: (f) => isStrings(f.channels),
  reset: (f) => isStrings(f.channels) && typeof f.eventId === 'string' && POSITION.test(f.eventId),
  pong: () => true,
  error: (f) => typeof f.code === 'string',
  'read.changed': (f) => typeof f.read === 'boolean',
  acknowledged: (f) => typeof f.announcementId === 'string',
};

/**
 * One frame from its JSON text, or undefined for anything that is not a frame this client knows (malformed JSON, an
 * unknown type — a newer server's — or missing fields): unknown frames are ignored, never guessed at.
 */
export function parseServerFrame(text: string): ServerFrame | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const frame = value as Json;
  // Own keys only: `"type":"constructor"` must not find Object.prototype's.
  if (typeof frame.type !== 'string' || !Object.hasOwn(CHECKS, frame.type)) return undefined;
  const check = CHECKS[frame.type as ServerFrame['type']];
  if (frame.type.startsWith('announcement.')) {
    if (typeof frame.eventId !== 'string' || !POSITION.test(frame.eventId) || typeof frame.channel !== 'string') {
      return undefined;
    }
  }
  return check(frame) ? (frame as unknown as ServerFrame) : undefined;
}

/** Whether a frame carries a position (`eventId`) in the live log. */
export function isPositioned(frame: ServerFrame): frame is PositionedFrame {
  return frame.type.startsWith('announcement.');
}

/**
 * Orders two positions (decimal strings that may not fit a JSON number): negative when `a` comes first. Leading
 * zeros do not count.
 */
export function comparePositions(a: string, b: string): number {
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  if (x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}

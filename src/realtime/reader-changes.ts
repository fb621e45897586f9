/**
 * Reader changes: a signed-in reader marked something read or unread, or acknowledged an announcement, from one
 * device; the same user's other open connections (WebSockets and event streams, in every API process) are told at
 * once, so an unread badge on another tab or device follows without polling.
 *
 * The reading and acknowledgement services call the AnnounceReaderChange port after their change is committed; bound
 * in src/http/app.ts, it publishes `{"userId","frame"}` on `<prefix>:reader`, which every LiveHub receives on its one
 * subscriber connection and hands to the live plugin, which sends the frame to that user's connections. Best effort,
 * like access hints (access-hints.ts): pub/sub is not durable and the REST state is the truth, so a lost message only
 * leaves another tab's badge stale until it next reloads.
 */
import type { Redis } from 'ioredis';
import type { ReaderFrame } from './protocol.js';

export const readerRedisChannel = (prefix: string) => `${prefix}:reader`;

/** A reader change: whose it is, and the frame their connections are sent. */
export interface ReaderChange {
  userId: string;
  frame: ReaderFrame;
}

/**
 * What services are given to announce a reader change: best effort, after commit; it never throws (the change it
 * follows has been made and must not be reported as failed because Redis is away).
 */
export type AnnounceReaderChange = (change: ReaderChange) => Promise<unknown>;

/** Publishes a reader change to every API process; resolves with whether Redis took it. */
export async function announceReaderChange(redis: Redis, prefix: string, change: ReaderChange): Promise<boolean> {
  try {
    await redis.publish(readerRedisChannel(prefix), JSON.stringify({ userId: change.userId, frame: change.frame }));
    return true;
  } catch {
    return false;
  }
}

const ID_PATTERN = /^[A-Za-z0-9-]{1,64}$/;
/** A slug as the REST API allows it (and then some): the frame is only forwarded, never used to look anything up. */
const SLUG_PATTERN = /^[A-Za-z0-9._~-]{1,64}$/;
/** Mark-read requests name one announcement; this bounds a malformed message, not a real one. */
const MAX_IDS = 1000;

/**
 * Validates a reader change received from Redis and returns a copy with only the declared fields, or null (such a
 * message is ignored): what is forwarded to clients is exactly a ReaderFrame.
 */
export function parseReaderChange(raw: string): ReaderChange | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { userId, frame } = value as Record<string, unknown>;
  if (typeof userId !== 'string' || !ID_PATTERN.test(userId)) return null;
  if (typeof frame !== 'object' || frame === null) return null;
  const f = frame as Record<string, unknown>;
  const channelOk = (channel: unknown): channel is string => typeof channel === 'string' && SLUG_PATTERN.test(channel);
  if (f.type === 'acknowledged') {
    if (!isId(f.announcementId) || !channelOk(f.channel) || typeof f.acknowledgedAt !== 'string') return null;
    if (Number.isNaN(Date.parse(f.acknowledgedAt))) return null;
    return {
      userId,
      frame: {
        type: 'acknowledged',
        announcementId: f.announcementId,
        channel: f.channel,
        acknowledgedAt: f.acknowledgedAt,
      },
    };
  }
  if (f.type !== 'read.changed') return null;
  if (f.all === true) {
    if (f.read !== true) return null;
    if (f.channel === undefined) return { userId, frame: { type: 'read.changed', read: true, all: true } };
    if (!channelOk(f.channel)) return null;
    return { userId, frame: { type: 'read.changed', read: true, all: true, channel: f.channel } };
  }
  const ids = f.announcementIds;
  if (typeof f.read !== 'boolean' || !channelOk(f.channel)) return null;
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_IDS || !ids.every(isId)) return null;
  return { userId, frame: { type: 'read.changed', read: f.read, announcementIds: [...ids], channel: f.channel } };
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

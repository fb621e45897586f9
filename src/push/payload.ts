/**
 * What a web push message carries: a small JSON document that the service worker (src/push/service-worker.ts) turns
 * into a notification. In the subscriber's language with pickVersion's fallback, like e-mail. Push services accept
 * about 4 KB of encrypted payload; we stay under PUSH_PAYLOAD_MAX_BYTES of JSON so the encryption's overhead (RFC 8188
 * record header, padding, tag) always fits.
 */
import { renderPlainText } from '../content/markdown.js';
import type { AnnouncementRecord } from '../db/announcement-records.js';
import { pickVersion } from '../domain/announcement.js';
import type { Importance, Language } from '../domain/types.js';
import { announcementUrl } from '../services/views.js';

export const PUSH_PAYLOAD_MAX_BYTES = 3072;
/** A notification shows two or three lines; more is cut by the operating system anyway. */
export const PUSH_BODY_MAX_CHARS = 240;

export interface PushPayload {
  /** The announcement's id (the service worker's notification tag: a newer message replaces an older one). */
  id: string;
  /** The channel's slug. */
  channel: string;
  title: string;
  /** The summary, or the start of the body as plain text. */
  body: string;
  /** Where a click on the notification leads. */
  url: string;
  importance: Importance;
  /** The language of title and body (BCP 47: nb, nn, en). */
  language: Language;
}

/** At most `max` characters (code points, so no surrogate pair is split), with an ellipsis when cut. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  return `${chars
    .slice(0, Math.max(0, max - 1))
    .join('')
    .trimEnd()}…`;
}

/** Whitespace (line breaks of the plain-text rendering included) collapsed to single spaces. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export function pushPayloadOf(
  record: AnnouncementRecord,
  options: { publicUrl: string; language: Language | null },
): PushPayload {
  const version = pickVersion(record.versions, options.language);
  const preview = version.summary?.trim() ? version.summary : renderPlainText(version.body);
  const payload: PushPayload = {
    id: record.id,
    channel: record.channelSlug,
    title: oneLine(version.title),
    body: truncate(oneLine(preview), PUSH_BODY_MAX_CHARS),
    url: announcementUrl(options.publicUrl, record.id),
    importance: record.importance,
    language: version.language,
  };
  // Titles are short and bodies cut above, but many multi-byte characters or a very long title could still pass the
  // limit: shorten the body, then the title, until it fits.
  while (serialisedBytes(payload) > PUSH_PAYLOAD_MAX_BYTES) {
    const bodyChars = [...payload.body].length;
    const titleChars = [...payload.title].length;
    if (bodyChars > 0) payload.body = bodyChars <= 2 ? '' : truncate(payload.body, Math.floor(bodyChars / 2));
    else if (titleChars > 2) payload.title = truncate(payload.title, Math.floor(titleChars / 2));
    else break; // id, slug and address alone are far below the limit; this only guards the loop
  }
  return payload;
}

export function serialisedBytes(payload: PushPayload): number {
  return Buffer.byteLength(JSON.stringify(payload));
}

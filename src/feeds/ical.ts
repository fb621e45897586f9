/**
 * The iCalendar (RFC 5545) download of a planned-downtime announcement: one VEVENT in a VCALENDAR, METHOD:PUBLISH.
 * Written here rather than with a library because it is small and every rule that matters — escaping, UTF-8-aware
 * folding, CRLF, UTC times — is easiest to audit in one place.
 */
import { AppError } from '../domain/errors.js';
import { LANGUAGES, type Language } from '../domain/types.js';
import { assertAbsoluteHttpUrl } from './model.js';

export const ICS_PRODUCT_ID = '-//BOTT//Meldingskanal//EN';

/** A maintenance window, as announced. */
export interface MaintenanceEvent {
  /** Globally unique and permanent for the announcement (e.g. `<announcement id>@<public host>`), so re-imports update. */
  uid: string;
  /** Plain text. */
  title: string;
  /** Plain text (not the HTML body). */
  description: string;
  start: Date;
  end: Date;
  /** Absolute http(s) URL of the announcement's page. */
  url: string;
  /** The affected system, shown at the top of the description. */
  system: string;
  /**
   * Who publishes the event. RFC 5546 requires ORGANIZER on a PUBLISH, and its value is a calendar address (a URI),
   * so a name alone is not enough: pass e.g. `mailto:` + the service's sender address.
   */
  organiser: { name: string; address: string };
  /** RFC 5545 revision number: must grow with every change (edit, cancellation) so calendars replace their copy. */
  sequence: number;
  /** `cancelled` for a retracted announcement (STATUS:CANCELLED with a higher SEQUENCE removes it on re-import). */
  status: 'confirmed' | 'cancelled';
  /** Language of the title and description (LANGUAGE parameter, and the label of the affected-system line). */
  language: Language;
  /** DTSTAMP: when this iCalendar object was created — the response time, passed in so the function stays pure. */
  stamp: Date;
  /** When the announcement last changed, if known (LAST-MODIFIED). */
  lastModified?: Date | null;
}

const AFFECTED_SYSTEM_LABEL: Readonly<Record<Language, string>> = {
  nb: 'Berørt system',
  nn: 'Råka system',
  en: 'Affected system',
};

function invalid(message: string, field: string): AppError {
  return new AppError('internal_error', `Invalid maintenance event: ${message}`, { field });
}

/**
 * Renders the event as an iCalendar object (`text/calendar; charset=utf-8`): CRLF line endings, content lines folded
 * at 75 octets without splitting a UTF-8 sequence, TEXT values escaped, times in UTC (`Z`). TRANSP:TRANSPARENT, because
 * a maintenance window should not mark the reader as busy.
 *
 * @throws AppError internal_error when the event is invalid (end not after start, relative URL, bad sequence…).
 */
export function renderMaintenanceIcs(event: MaintenanceEvent): string {
  assertValidEvent(event);
  const language = `LANGUAGE=${event.language}`;
  const description = [
    `${AFFECTED_SYSTEM_LABEL[event.language]}: ${event.system}`,
    '',
    event.description,
    '',
    // Many calendar programs do not show the URL property, so the link goes in the text too.
    event.url,
  ].join('\n');
  const lines = [
    'BEGIN:VCALENDAR',
    `PRODID:${ICS_PRODUCT_ID}`,
    'VERSION:2.0',
    'CALSCALE:GREGORIAN',
    'METHOD:PUBLISH',
    'BEGIN:VEVENT',
    `UID:${escapeText(event.uid)}`,
    `DTSTAMP:${utcDateTime(event.stamp)}`,
    `SEQUENCE:${event.sequence}`,
    `DTSTART:${utcDateTime(event.start)}`,
    `DTEND:${utcDateTime(event.end)}`,
    `SUMMARY;${language}:${escapeText(event.title)}`,
    `DESCRIPTION;${language}:${escapeText(description)}`,
    `URL:${event.url}`,
    `ORGANIZER;CN=${quoteParameter(event.organiser.name)}:${event.organiser.address}`,
    `STATUS:${event.status === 'cancelled' ? 'CANCELLED' : 'CONFIRMED'}`,
    'TRANSP:TRANSPARENT',
  ];
  if (event.lastModified != null) lines.push(`LAST-MODIFIED:${utcDateTime(event.lastModified)}`);
  lines.push('END:VEVENT', 'END:VCALENDAR');
  return lines.map(foldLine).join('\r\n').concat('\r\n');
}

function assertValidEvent(event: MaintenanceEvent): void {
  for (const field of ['uid', 'title', 'system'] as const) {
    if (typeof event[field] !== 'string' || event[field].trim() === '')
      throw invalid(`${field} must be non-empty`, field);
  }
  if (typeof event.description !== 'string') throw invalid('description must be a string', 'description');
  for (const field of ['start', 'end', 'stamp'] as const) {
    if (!(event[field] instanceof Date) || Number.isNaN(event[field].getTime())) {
      throw invalid(`${field} must be a valid Date`, field);
    }
  }
  if (event.lastModified != null && Number.isNaN(event.lastModified.getTime())) {
    throw invalid('lastModified must be a valid Date', 'lastModified');
  }
  if (event.end.getTime() <= event.start.getTime()) throw invalid('end must be after start', 'end');
  assertAbsoluteHttpUrl(event.url, 'url');
  if (!Number.isSafeInteger(event.sequence) || event.sequence < 0) {
    throw invalid('sequence must be a non-negative integer', 'sequence');
  }
  if (event.status !== 'confirmed' && event.status !== 'cancelled') {
    throw invalid('status must be confirmed or cancelled', 'status');
  }
  if (!(LANGUAGES as readonly string[]).includes(event.language)) throw invalid('unknown language', 'language');
  if (typeof event.organiser.name !== 'string' || event.organiser.name.trim() === '') {
    throw invalid('organiser.name must be non-empty', 'organiser.name');
  }
  // A CAL-ADDRESS is a URI written raw (no TEXT escaping applies), so it must be free of anything that could break
  // the content line.
  if (!/^(?:mailto:[^\s@",;:\\<>]+@[^\s@",;:\\<>]+|https?:\/\/[^\s"\\<>]+)$/.test(event.organiser.address)) {
    throw invalid('organiser.address must be a mailto: or http(s) URI', 'organiser.address');
  }
}

/** `YYYYMMDDTHHMMSSZ`, RFC 5545 DATE-TIME form #2 (UTC). */
export function utcDateTime(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/**
 * Control characters are not allowed in TEXT (RFC 5545 §3.3.11: only HTAB among the CTLs), and lone surrogates cannot
 * be encoded as UTF-8. Line breaks are handled separately, as the `\n` escape.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the purpose
const ICAL_ILLEGAL_CHARS = /[\u0000-\u0008\u000B-\u001F\u007F]|\p{Cs}/gu;

/** Escapes a TEXT value: `\` `;` `,` get a backslash, every line break (CRLF, CR or LF) becomes `\n`. */
export function escapeText(value: string): string {
  return value
    .replace(/\r\n?/g, '\n')
    .replace(ICAL_ILLEGAL_CHARS, '')
    .replace(/[\\;,\n]/g, (char) => (char === '\n' ? '\\n' : `\\${char}`));
}

/**
 * A parameter value as a quoted-string. DQUOTE and line breaks cannot appear inside one, so they are encoded as RFC 6868
 * specifies (`^'`, `^n`, and `^^` for the caret itself); other control characters are dropped.
 */
export function quoteParameter(value: string): string {
  const encoded = value
    .replace(/\r\n?/g, '\n')
    .replace(ICAL_ILLEGAL_CHARS, '')
    .replace(/[\^\n"]/g, (char) => (char === '^' ? '^^' : char === '\n' ? '^n' : "^'"));
  return `"${encoded}"`;
}

const MAX_LINE_OCTETS = 75;

/**
 * Folds a content line (RFC 5545 §3.1): no line longer than 75 octets excluding the CRLF; continuation lines begin with
 * one space, which counts towards their 75. Splits only between code points, so a multi-byte UTF-8 character is never
 * cut in two (which would leave both halves invalid UTF-8).
 */
export function foldLine(line: string): string {
  if (Buffer.byteLength(line, 'utf8') <= MAX_LINE_OCTETS) return line;
  const segments: string[] = [];
  let current = '';
  let currentOctets = 0;
  let limit = MAX_LINE_OCTETS;
  for (const char of line) {
    const octets = Buffer.byteLength(char, 'utf8');
    if (currentOctets + octets > limit) {
      segments.push(current);
      current = '';
      currentOctets = 0;
      // Every later segment is preceded by the folding space.
      limit = MAX_LINE_OCTETS - 1;
    }
    current += char;
    currentOctets += octets;
  }
  segments.push(current);
  return segments.join('\r\n ');
}

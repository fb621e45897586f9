/**
 * Dates and times in forms: `<input type="datetime-local">` shows and sends a wall-clock time without a zone
 * (`2026-12-07T09:30`), which on this service is Norwegian time (Europe/Oslo, as every date on its pages): converted
 * here to and from instants, across the summer-time changes (src/digest/period.ts: zonedTimeToInstant).
 */
import { zonedTimeToInstant } from '../digest/period.js';
import { TIME_ZONE } from './i18n/translator.js';

// sv-SE writes dates and times as ISO 8601 does ("2026-12-07 09:30:00").
const WALL_CLOCK = new Intl.DateTimeFormat('sv-SE', {
  timeZone: TIME_ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** The value of a datetime-local input for an instant, in Norwegian time: minutes, with seconds when not zero. */
export function localDateTimeValue(instant: Date | string | null | undefined): string {
  if (instant === null || instant === undefined) return '';
  const date = typeof instant === 'string' ? new Date(instant) : instant;
  if (Number.isNaN(date.getTime())) return '';
  const text = WALL_CLOCK.format(date).replace(' ', 'T');
  return text.endsWith(':00') ? text.slice(0, -3) : text;
}

const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

/**
 * The instant a datetime-local value names in Norwegian time; null for an empty value; 'invalid' for anything that
 * is not a real date and time (2026-02-30T10:00, 25:00, text).
 */
export function parseLocalDateTime(value: string | undefined): Date | null | 'invalid' {
  const text = (value ?? '').trim();
  if (!text) return null;
  const match = LOCAL_DATE_TIME.exec(text);
  if (!match) return 'invalid';
  const [year, month, day, hour, minute, second] = match.slice(1).map((part) => Number(part ?? 0)) as number[];
  const calendar = new Date(Date.UTC(year!, month! - 1, day!));
  if (
    calendar.getUTCMonth() !== month! - 1 ||
    calendar.getUTCDate() !== day ||
    hour! > 23 ||
    minute! > 59 ||
    second! > 59
  ) {
    return 'invalid';
  }
  const instant = zonedTimeToInstant({ year: year!, month: month!, day: day! }, hour!, minute!, TIME_ZONE);
  return new Date(instant.getTime() + second! * 1000);
}

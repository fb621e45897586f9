/**
 * The calendar of digests: when a run's period ends, and the cron pattern its job scheduler fires on. Pure (no I/O).
 *
 * Digests are cut at a LOCAL wall-clock time (DIGEST_TIME in DIGEST_TIME_ZONE, default 07:00 Europe/Oslo), so a day is
 * not always 24 hours: the day that ends on the morning after the spring change is 23 hours long, the one after the
 * autumn change 25. Periods are therefore computed on the local calendar and converted to instants, never by adding
 * 86,400,000 ms to an instant.
 *
 * A run is named by the time its scheduler fired for (not the time it ran), and its period ends at that time
 * TRUNCATED to the latest scheduled local time at or before it. So a late run, a retried run, a second scheduler
 * firing and a run started by hand at 07:03 all find the same period end.
 */

export type DigestMode = 'daily' | 'weekly';

export const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface DigestSchedule {
  /** Local wall-clock time of the cut. */
  hour: number;
  minute: number;
  /** IANA time zone, e.g. `Europe/Oslo`. */
  timeZone: string;
  /** The day weekly digests are cut. */
  weekday: Weekday;
}

interface LocalDate {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The wall-clock fields of an instant in a zone. */
function localFields(instant: Date, timeZone: string) {
  const parts = formatterFor(timeZone).formatToParts(instant);
  const field = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((part) => part.type === type)?.value);
  return {
    year: field('year'),
    month: field('month'),
    day: field('day'),
    hour: field('hour'),
    minute: field('minute'),
    second: field('second'),
  };
}

/** The zone's offset from UTC at an instant, in ms (positive east of Greenwich). */
function offsetMs(instant: Date, timeZone: string): number {
  const f = localFields(instant, timeZone);
  const asUtc = Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second);
  return asUtc - (instant.getTime() - instant.getUTCMilliseconds());
}

/**
 * The instant at which the zone's clocks show this local date and time. A time that does not exist (skipped by the
 * spring change) is moved forward by the change (02:30 → 03:30 in Oslo, as the clocks read an hour on); a time that
 * exists twice (the autumn change) maps to its first occurrence.
 */
export function zonedTimeToInstant(date: LocalDate, hour: number, minute: number, timeZone: string): Date {
  const wall = Date.UTC(date.year, date.month - 1, date.day, hour, minute);
  // The offset a few hours before and after the wall time brackets any change; try the earlier one first.
  const before = offsetMs(new Date(wall - 3 * 3600_000), timeZone);
  const after = offsetMs(new Date(wall + 3 * 3600_000), timeZone);
  for (const offset of before === after ? [before] : [before, after]) {
    const candidate = new Date(wall - offset);
    const f = localFields(candidate, timeZone);
    if (
      f.year === date.year &&
      f.month === date.month &&
      f.day === date.day &&
      f.hour === hour &&
      f.minute === minute
    ) {
      return candidate;
    }
  }
  // Skipped by the spring change: read with the offset before the change, which lands an hour later on the clocks.
  return new Date(wall - before);
}

function localDateOf(instant: Date, timeZone: string): LocalDate {
  const f = localFields(instant, timeZone);
  return { year: f.year, month: f.month, day: f.day };
}

function addDays(date: LocalDate, days: number): LocalDate {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

function weekdayOf(date: LocalDate): Weekday {
  return WEEKDAYS[new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay()]!;
}

/** The cut on a local date. */
function cutOn(date: LocalDate, schedule: DigestSchedule): Date {
  return zonedTimeToInstant(date, schedule.hour, schedule.minute, schedule.timeZone);
}

/**
 * The end of the period a run fired for at `scheduledAt`: the latest cut (a daily cut, or a weekly cut on the
 * configured weekday) at or before it.
 */
export function periodEndFor(mode: DigestMode, scheduledAt: Date, schedule: DigestSchedule): Date {
  let date = localDateOf(scheduledAt, schedule.timeZone);
  // At most 8 steps back: today may be the weekday but before the cut.
  for (let step = 0; step < 9; step += 1) {
    if (mode === 'daily' || weekdayOf(date) === schedule.weekday) {
      const cut = cutOn(date, schedule);
      if (cut.getTime() <= scheduledAt.getTime()) return cut;
    }
    date = addDays(date, -1);
  }
  throw new Error('No digest cut found in the 8 days before the scheduled time');
}

/**
 * The cut `periods` periods before `periodEnd` on the local calendar (one day or one week each): the same local time,
 * so 23 or 25 hours across a daylight-saving change.
 */
export function cutsBefore(mode: DigestMode, periodEnd: Date, periods: number, schedule: DigestSchedule): Date {
  const date = localDateOf(periodEnd, schedule.timeZone);
  return cutOn(addDays(date, -(mode === 'daily' ? 1 : 7) * periods), schedule);
}

/** The default start of a period with no digest before it: one day or one week (local) before its end. */
export function defaultPeriodStart(mode: DigestMode, periodEnd: Date, schedule: DigestSchedule): Date {
  return cutsBefore(mode, periodEnd, 1, schedule);
}

/**
 * How far back a digest reaches at most, however long ago the recipient's last one was: 7 days for daily digests,
 * 4 weeks for weekly ones. "Since the last digest" catches up after runs that did not happen (workers down over a
 * weekend); the bound keeps a subscriber who had no digest for months (nothing new, or another mode) from getting a
 * digest of old news.
 */
export const MAX_CATCH_UP_PERIODS: Record<DigestMode, number> = { daily: 7, weekly: 4 };

/**
 * Seconds after the cut at which the scheduler fires. An announcement's publishedAt is its transaction's start
 * (now()), so one published at 06:59:59.9 may commit a moment after 07:00; firing at 07:00:30 lets it commit before
 * the run reads the period. The run still cuts at 07:00:00 (periodEndFor truncates).
 */
export const CUT_GRACE_SECONDS = 30;

/**
 * The job scheduler's cron pattern (second minute hour day-of-month month day-of-week), interpreted in the schedule's
 * zone: CUT_GRACE_SECONDS after the cut, every day or on the weekday.
 */
export function cronPattern(mode: DigestMode, schedule: Pick<DigestSchedule, 'hour' | 'minute' | 'weekday'>): string {
  const dayOfWeek = mode === 'daily' ? '*' : String(WEEKDAYS.indexOf(schedule.weekday));
  return `${CUT_GRACE_SECONDS} ${schedule.minute} ${schedule.hour} * * ${dayOfWeek}`;
}

/** `HH:MM` (24 h) → hour and minute; throws a readable error otherwise. */
export function parseLocalTime(raw: string): { hour: number; minute: number } {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(raw.trim());
  if (!match) throw new Error(`must be a local time HH:MM (24-hour clock, e.g. 07:00), got "${raw}"`);
  return { hour: Number(match[1]), minute: Number(match[2]) };
}

/** An IANA time zone name that this runtime knows (checked with Intl), returned in its canonical form. */
export function parseTimeZone(raw: string): string {
  const value = raw.trim();
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    throw new Error(`must be an IANA time zone such as Europe/Oslo, got "${raw}"`);
  }
}

export function parseWeekday(raw: string): Weekday {
  const value = raw.trim().toLowerCase();
  if (!(WEEKDAYS as readonly string[]).includes(value)) {
    throw new Error(`must be a weekday in English (${WEEKDAYS.join(', ')}), got "${raw}"`);
  }
  return value as Weekday;
}

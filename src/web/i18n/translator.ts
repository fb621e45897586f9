/**
 * A page's words in its reader's language: `t('nav.home')`, `t('feed.unread', { count: 3 })`, and dates and times
 * as that language writes them, in Norwegian time (every reader of the service lives by Europe/Oslo, and a date on
 * a page must match the date in the e-mail).
 */
import type { Language } from '../../domain/types.js';
import { CATALOGUE, type MessageKey } from './catalogue.js';
import { formatMessage, type Message, type MessageParams } from './define.js';
import { LOCALES, TIME_ZONE } from './locales.js';

/** A `{name}` placeholder, as formatMessage fills them in. */
const PLACEHOLDER = /\{\w+\}/;

export type Translate = (key: MessageKey, params?: MessageParams) => string;

export { LOCALES, TIME_ZONE } from './locales.js';

export interface Translator {
  readonly language: Language;
  readonly t: Translate;
  /** "7. desember 2026" / "7 December 2026". */
  date(value: Date): string;
  /** "7. desember 2026 kl. 09:30" / "7 December 2026, 09:30". */
  dateTime(value: Date): string;
  /** "for 5 minutter siden", "i går" — relative to `now`, for feeds; falls back to the date after a week. */
  relative(value: Date, now?: Date): string;
}

const cache = new Map<Language, Translator>();

/** Formatted instants kept per formatter; past this many it starts afresh (a page shows a few dozen). */
const MEMO_LIMIT = 10_000;

/**
 * `format` remembered by instant. Formatting a date in a time zone is the costliest thing a page's words do (~2 µs a
 * call, two per announcement of a list), and its result depends on nothing but the instant (the locale, options and
 * zone are fixed per formatter), while the same announcements' dates are formatted on every request.
 */
function memoByInstant(format: (value: Date) => string): (value: Date) => string {
  const memo = new Map<number, string>();
  return (value: Date) => {
    const instant = value.getTime();
    let text = memo.get(instant);
    if (text === undefined) {
      text = format(value);
      if (memo.size >= MEMO_LIMIT) memo.clear();
      memo.set(instant, text);
    }
    return text;
  };
}

/**
 * How `relative` writes a distance of time: below a minute "now" (amount 0), then in whole minutes, hours and days
 * (`size` seconds each, rounded), and from a week on the date. `relativeChangesAt` reads the same table.
 */
const RELATIVE_STEPS = [
  { below: 60, unit: 'second', size: 0 },
  { below: 3600, unit: 'minute', size: 60 },
  { below: 86_400, unit: 'hour', size: 3600 },
  { below: 7 * 86_400, unit: 'day', size: 86_400 },
] as const;

function relativeStep(seconds: number): (typeof RELATIVE_STEPS)[number] | undefined {
  const abs = Math.abs(seconds);
  return RELATIVE_STEPS.find((step) => abs < step.below);
}

/**
 * The first instant (ms since the epoch) at or after which `relative(value, ·)` may read otherwise than at `now`, or
 * null if it never will (a past instant more than a week ago reads as its date). For a page kept as finished HTML:
 * "for 5 minutter siden" stays right until then. Exact for past instants (the text changes within a millisecond
 * after it); for an instant more than a minute ahead (clock skew — announcements are published in the past) it
 * answers a second on, which is early and so only costs a render.
 */
export function relativeChangesAt(value: Date, now: Date): number | null {
  const seconds = Math.round((value.getTime() - now.getTime()) / 1000);
  if (seconds >= 60) return now.getTime() + 1000;
  const step = relativeStep(seconds);
  if (!step) return null;
  // Time runs on, so `seconds` falls: the text changes at the first whole `elapsed` (= -seconds) where the rounded
  // amount does (Math.round(-elapsed / size) drops below the current one once elapsed > size × (0.5 − amount)), or
  // where the next step starts, whichever comes first.
  let elapsed: number = step.below;
  if (step.size > 0) {
    const amount = Math.round(seconds / step.size);
    elapsed = Math.min(Math.floor(step.size * (0.5 - amount)) + 1, step.below);
  }
  // `seconds` (rounded) reaches -elapsed once (value − now) / 1000 < −elapsed + 0.5.
  return value.getTime() + (elapsed - 0.5) * 1000;
}

/** The translator of one language (made once per process: Intl formatters are costly to build, cheap to use). */
export function translator(language: Language): Translator {
  let made = cache.get(language);
  if (made) return made;
  const messages = CATALOGUE[language];
  const locale = LOCALES[language];
  const dateFormat = new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: TIME_ZONE });
  const dateTimeFormat = new Intl.DateTimeFormat(locale, {
    dateStyle: 'long',
    timeStyle: 'short',
    timeZone: TIME_ZONE,
  });
  const relativeFormat = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  // Messages without placeholders or plural forms are their own text whatever the parameters (formatMessage returns
  // them unchanged): most of a page's words, looked up without the placeholder scan.
  const constant = new Map<MessageKey, string>();
  for (const [key, message] of Object.entries(messages) as [MessageKey, Message][]) {
    if (typeof message === 'string' && !PLACEHOLDER.test(message)) constant.set(key, message);
  }
  const date = memoByInstant((value) => dateFormat.format(value));
  const dateTime = memoByInstant((value) => dateTimeFormat.format(value));
  // "for 5 minutter siden": a handful of (amount, unit) pairs, each formatted once.
  const relativeTexts = new Map<string, string>();
  const relativeText = (amount: number, unit: 'second' | 'minute' | 'hour' | 'day') => {
    const memoKey = `${amount}${unit}`;
    let text = relativeTexts.get(memoKey);
    if (text === undefined) {
      text = relativeFormat.format(amount, unit);
      relativeTexts.set(memoKey, text);
    }
    return text;
  };
  made = Object.freeze({
    language,
    t: (key: MessageKey, params?: MessageParams) => constant.get(key) ?? formatMessage(language, messages[key], params),
    date,
    dateTime,
    relative(value: Date, now: Date = new Date()) {
      const seconds = Math.round((value.getTime() - now.getTime()) / 1000);
      const step = relativeStep(seconds);
      if (!step) return date(value);
      return relativeText(step.size === 0 ? 0 : Math.round(seconds / step.size), step.unit);
    },
  });
  cache.set(language, made);
  return made;
}

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
      const abs = Math.abs(seconds);
      if (abs < 60) return relativeText(0, 'second');
      if (abs < 3600) return relativeText(Math.round(seconds / 60), 'minute');
      if (abs < 86_400) return relativeText(Math.round(seconds / 3600), 'hour');
      if (abs < 7 * 86_400) return relativeText(Math.round(seconds / 86_400), 'day');
      return date(value);
    },
  });
  cache.set(language, made);
  return made;
}

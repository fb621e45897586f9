/**
 * A page's words in its reader's language: `t('nav.home')`, `t('feed.unread', { count: 3 })`, and dates and times
 * as that language writes them, in Norwegian time (every reader of the service lives by Europe/Oslo, and a date on
 * a page must match the date in the e-mail).
 */
import type { Language } from '../../domain/types.js';
import { CATALOGUE, type MessageKey } from './catalogue.js';
import { formatMessage, type MessageParams } from './define.js';
import { LOCALES, TIME_ZONE } from './locales.js';

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
  made = Object.freeze({
    language,
    t: (key: MessageKey, params?: MessageParams) => formatMessage(language, messages[key], params),
    date: (value: Date) => dateFormat.format(value),
    dateTime: (value: Date) => dateTimeFormat.format(value),
    relative(value: Date, now: Date = new Date()) {
      const seconds = Math.round((value.getTime() - now.getTime()) / 1000);
      const abs = Math.abs(seconds);
      if (abs < 60) return relativeFormat.format(0, 'second');
      if (abs < 3600) return relativeFormat.format(Math.round(seconds / 60), 'minute');
      if (abs < 86_400) return relativeFormat.format(Math.round(seconds / 3600), 'hour');
      if (abs < 7 * 86_400) return relativeFormat.format(Math.round(seconds / 86_400), 'day');
      return dateFormat.format(value);
    },
  });
  cache.set(language, made);
  return made;
}

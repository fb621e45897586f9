/** The widget's words and dates in its language, from the one catalogue (i18n/messages/widget.ts). */
import { formatMessage, type MessageParams } from '../../i18n/define.js';
import { LOCALES, TIME_ZONE } from '../../i18n/locales.js';
import { widget } from '../../i18n/messages/widget.js';
import type { WidgetLanguage } from './settings.js';

export type WidgetMessage = keyof (typeof widget)['nb'];

export interface WidgetWords {
  language: WidgetLanguage;
  t(key: WidgetMessage, params?: MessageParams): string;
  /** "7. desember 2026 kl. 09:30" (full layout) or "7. des. 2026" (compact), Norwegian time. */
  date(iso: string, compact: boolean): string;
}

export function wordsFor(language: WidgetLanguage): WidgetWords {
  const messages = widget[language];
  const full = new Intl.DateTimeFormat(LOCALES[language], {
    dateStyle: 'long',
    timeStyle: 'short',
    timeZone: TIME_ZONE,
  });
  const short = new Intl.DateTimeFormat(LOCALES[language], { dateStyle: 'medium', timeZone: TIME_ZONE });
  return {
    language,
    t: (key, params) => formatMessage(language, messages[key], params),
    date: (iso, compact) => (compact ? short : full).format(new Date(iso)),
  };
}

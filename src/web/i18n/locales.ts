/**
 * How the interface's languages are written for Intl, and the time zone dates are shown in. Its own module (pure
 * data, no catalogue) so that the widget's bundle can use it without carrying the whole catalogue.
 */
import type { Language } from '../../domain/types.js';

/** BCP 47 tags for Intl and for `lang` attributes' neighbours (hreflang, Content-Language use the bare codes). */
export const LOCALES: Readonly<Record<Language, string>> = { nb: 'nb-NO', nn: 'nn-NO', en: 'en-GB' };

/** Every reader of the service lives by Norwegian time: a date on a page must match the date in the e-mail. */
export const TIME_ZONE = 'Europe/Oslo';

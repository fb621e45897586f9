/** Choosing among our languages (bokmål, nynorsk, English) from what a client says it prefers. */
import { LANGUAGES, type Language } from './types.js';

/**
 * The best of our languages in an Accept-Language header, by q-value (`no` counts as bokmål); null when it names
 * none of them.
 */
export function languageFromAcceptLanguage(acceptLanguage: string | undefined): Language | null {
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part) => {
      // Whitespace may surround the `;` (RFC 9110 OWS): `nb ;q=0.5` names bokmål.
      const [tag = '', ...params] = part.toLowerCase().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { tag: tag.trim(), q: q ? Number(q.slice(2)) || 0 : 1 };
    })
    .filter((entry) => entry.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const { tag } of ranked) {
    const primary = tag.split('-')[0];
    if (primary === 'nn') return 'nn';
    if (primary === 'nb' || primary === 'no') return 'nb';
    if (primary === 'en') return 'en';
  }
  return null;
}

export function isLanguage(value: string): value is Language {
  return (LANGUAGES as readonly string[]).includes(value);
}

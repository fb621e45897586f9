/**
 * The language a reader asked for, from an HTTP request: `?lang=` (nb, nn or en; the route's query schema refuses
 * anything else with 400) wins over Accept-Language; with neither (or an Accept-Language naming none of our languages)
 * the reader gets each announcement's original. What a reader then gets when an announcement lacks the language is
 * pickVersion's documented fallback (src/domain/announcement.ts).
 */
import type { FastifyReply } from 'fastify';
import { languageFromAcceptLanguage } from '../domain/language.js';
import type { Language } from '../domain/types.js';

/** The words every route that returns announcements uses to document the negotiation (OpenAPI descriptions). */
export const READER_LANGUAGE_DESCRIPTION =
  'Language: `?lang=nb|nn|en`, else the best of nb, nn, en in Accept-Language, else each announcement’s original. ' +
  'An announcement without that language falls back to the other Norwegian written form (for nb and nn), then to ' +
  'its original; `language` in each announcement says which one was returned.';

/** The reader's requested language, or null for "the original". */
export function readerLanguage(request: {
  query: unknown;
  headers: { 'accept-language'?: string | undefined };
}): Language | null {
  const query = request.query as { lang?: Language } | undefined;
  if (query?.lang !== undefined) return query.lang;
  return languageFromAcceptLanguage(request.headers['accept-language']);
}

/**
 * Headers of a response holding one announcement in `language`: Content-Language says which version it is, and Vary
 * tells caches that Accept-Language chose it.
 */
export function sendsLanguage(reply: FastifyReply, language: Language): void {
  reply.header('content-language', language);
  variesByLanguage(reply);
}

/** Vary: Accept-Language, for any response whose content readerLanguage chose (lists hold several languages). */
export function variesByLanguage(reply: FastifyReply): void {
  const vary = reply.getHeader('vary');
  const present = String(vary ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase());
  if (!present.includes('accept-language')) {
    reply.header('vary', vary ? `${String(vary)}, Accept-Language` : 'Accept-Language');
  }
}

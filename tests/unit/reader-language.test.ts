/** The HTTP side of language negotiation (src/http/reader-language.ts) and the calendar organiser from MAIL_FROM. */
import { describe, expect, it } from 'vitest';
import { readerLanguage } from '../../src/http/reader-language.js';
import { calendarOrganiser } from '../../src/services/announcements.js';

describe('readerLanguage', () => {
  it('takes ?lang= first, then Accept-Language, else null (the original)', () => {
    expect(readerLanguage({ query: { lang: 'nn' }, headers: { 'accept-language': 'en' } })).toBe('nn');
    expect(readerLanguage({ query: {}, headers: { 'accept-language': 'sv, en;q=0.4, nb;q=0.6' } })).toBe('nb');
    expect(readerLanguage({ query: {}, headers: { 'accept-language': 'no' } })).toBe('nb');
    expect(readerLanguage({ query: {}, headers: { 'accept-language': 'de, fr;q=0.5' } })).toBeNull();
    expect(readerLanguage({ query: undefined, headers: {} })).toBeNull();
  });
});

describe('calendarOrganiser', () => {
  it('reads a name and address, or a bare address, from MAIL_FROM', () => {
    expect(calendarOrganiser('BOTT Meldingskanal <drift@bott.no>')).toEqual({
      name: 'BOTT Meldingskanal',
      address: 'mailto:drift@bott.no',
    });
    expect(calendarOrganiser('"BOTT, drift" <drift@bott.no>')).toEqual({
      name: 'BOTT, drift',
      address: 'mailto:drift@bott.no',
    });
    expect(calendarOrganiser('drift@bott.no')).toEqual({ name: 'Meldingskanal', address: 'mailto:drift@bott.no' });
  });
});

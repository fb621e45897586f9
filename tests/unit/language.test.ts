/**
 * Choosing bokmål, nynorsk or English from an Accept-Language header (src/domain/language.ts): q-values decide,
 * `no` is bokmål, regions and subtags do not matter, and headers naming none of our languages — or nothing sensible at
 * all — give null (the caller's default applies).
 */
import { describe, expect, it } from 'vitest';
import { isLanguage, languageFromAcceptLanguage } from '../../src/domain/language.js';

describe('languageFromAcceptLanguage', () => {
  it('picks each of our languages by its own tag', () => {
    expect(languageFromAcceptLanguage('nb')).toBe('nb');
    expect(languageFromAcceptLanguage('nn')).toBe('nn');
    expect(languageFromAcceptLanguage('en')).toBe('en');
  });

  it('reads `no` (Norwegian, unspecified) as bokmål', () => {
    expect(languageFromAcceptLanguage('no')).toBe('nb');
    expect(languageFromAcceptLanguage('no-NO')).toBe('nb');
    expect(languageFromAcceptLanguage('no;q=0.9, nn;q=0.8')).toBe('nb');
    expect(languageFromAcceptLanguage('nn;q=0.9, no;q=0.8')).toBe('nn');
  });

  it('ignores regions, scripts and private subtags, and case', () => {
    expect(languageFromAcceptLanguage('nb-NO')).toBe('nb');
    expect(languageFromAcceptLanguage('nn-NO')).toBe('nn');
    expect(languageFromAcceptLanguage('en-GB')).toBe('en');
    expect(languageFromAcceptLanguage('en-US')).toBe('en');
    expect(languageFromAcceptLanguage('en-Latn-US')).toBe('en');
    expect(languageFromAcceptLanguage('nb-NO-x-bergen')).toBe('nb');
    expect(languageFromAcceptLanguage('NN-no')).toBe('nn');
    expect(languageFromAcceptLanguage('EN')).toBe('en');
  });

  it('ranks by q-value, whatever the order of the header', () => {
    expect(languageFromAcceptLanguage('en;q=0.5, nn;q=0.9')).toBe('nn');
    expect(languageFromAcceptLanguage('nb;q=0.1, en;q=0.2')).toBe('en');
    expect(languageFromAcceptLanguage('en;q=0.8, nb')).toBe('nb');
    expect(languageFromAcceptLanguage('nn;q=0.999, nb;q=1.0')).toBe('nb');
    expect(languageFromAcceptLanguage('en;q=0.001, nn;q=0')).toBe('en');
  });

  it('keeps the header order between equal q-values', () => {
    expect(languageFromAcceptLanguage('nn, nb')).toBe('nn');
    expect(languageFromAcceptLanguage('nb, nn')).toBe('nb');
    expect(languageFromAcceptLanguage('en;q=0.7, nb;q=0.7')).toBe('en');
    expect(languageFromAcceptLanguage('nb;q=0.7, en;q=0.7')).toBe('nb');
  });

  it('skips languages we do not have and takes the best one we do', () => {
    expect(languageFromAcceptLanguage('de-DE, de;q=0.9, en;q=0.5')).toBe('en');
    expect(languageFromAcceptLanguage('sv-SE,sv;q=0.9,da;q=0.8,nn;q=0.3,nb;q=0.2')).toBe('nn');
    expect(languageFromAcceptLanguage('se, nb;q=0.5')).toBe('nb');
    // A browser's typical header in Norway.
    expect(languageFromAcceptLanguage('nb-NO,nb;q=0.9,no;q=0.8,nn;q=0.7,en-US;q=0.6,en;q=0.5')).toBe('nb');
  });

  it('treats q=0 as "not this one"', () => {
    expect(languageFromAcceptLanguage('nb;q=0')).toBeNull();
    expect(languageFromAcceptLanguage('nb;q=0.000, en')).toBe('en');
    expect(languageFromAcceptLanguage('en, nb;q=0')).toBe('en');
  });

  it('allows whitespace around separators and other parameters beside q', () => {
    expect(languageFromAcceptLanguage('  de ,  nn ; q=0.8 ,en;q=0.5 ')).toBe('nn');
    expect(languageFromAcceptLanguage('nb ;q=0.5, de')).toBe('nb');
    expect(languageFromAcceptLanguage('en;q=0.4, nn;level=1;q=0.6')).toBe('nn');
    expect(languageFromAcceptLanguage('nb\t;\tq=0.5')).toBe('nb');
  });

  it('gives null for no header, nothing of ours, and garbage', () => {
    for (const header of [
      undefined,
      '',
      '   ',
      ',,,',
      ';;;',
      '*',
      '*;q=0.5',
      'de-DE,de;q=0.9',
      'q=1',
      'nob, nno',
      'english',
      'nbx',
      'nb_NO',
      'x-nb',
      '🇳🇴',
      'nb;q=abc',
      'nb;q=',
      'nb;q=-1',
      'a'.repeat(10_000),
    ]) {
      expect(languageFromAcceptLanguage(header), JSON.stringify(header)).toBeNull();
    }
  });

  it('still finds our language beside garbage entries', () => {
    expect(languageFromAcceptLanguage('garbage;;q=x, ,*, nn-NO;q=0.2')).toBe('nn');
    expect(languageFromAcceptLanguage('nb;q=abc, en;q=0.1')).toBe('en');
  });
});

describe('isLanguage', () => {
  it('accepts exactly our three languages', () => {
    expect(['nb', 'nn', 'en', 'no', 'NB', 'nb-NO', ''].filter(isLanguage)).toEqual(['nb', 'nn', 'en']);
  });
});

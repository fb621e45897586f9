import { describe, expect, it } from 'vitest';
import { LANGUAGES } from '../../src/domain/types.js';
import { AREAS, CATALOGUE } from '../../src/web/i18n/catalogue.js';
import { formatMessage, placeholdersOf } from '../../src/web/i18n/define.js';
import { relativeChangesAt, translator } from '../../src/web/i18n/translator.js';

describe('the user-interface catalogue', () => {
  it('has every key in bokmål, nynorsk and English, none empty, with the same placeholders and plural forms', () => {
    const problems: string[] = [];
    const keys = Object.keys(CATALOGUE.nb);
    for (const language of LANGUAGES) {
      const messages = CATALOGUE[language] as Record<string, unknown>;
      const own = Object.keys(messages);
      for (const key of keys) if (!own.includes(key)) problems.push(`${language}: ${key} is missing`);
      for (const key of own) if (!keys.includes(key)) problems.push(`${language}: ${key} is not in bokmål`);
    }
    for (const key of keys) {
      const nb = CATALOGUE.nb[key as keyof typeof CATALOGUE.nb];
      for (const language of LANGUAGES) {
        const message = CATALOGUE[language][key as keyof typeof CATALOGUE.nb];
        if (message === undefined) continue;
        const texts = typeof message === 'string' ? [message] : [message.one, message.other];
        if (texts.some((text) => !text.trim())) problems.push(`${language}: ${key} is empty`);
        if (typeof message !== typeof nb) problems.push(`${language}: ${key} is plural in one language only`);
        if (placeholdersOf(message).join() !== placeholdersOf(nb).join()) {
          problems.push(
            `${language}: ${key} has placeholders {${placeholdersOf(message)}} not {${placeholdersOf(nb)}}`,
          );
        }
        if (typeof message !== 'string' && !placeholdersOf(message).includes('count')) {
          problems.push(`${language}: ${key} is plural without {count}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('defines each key in one area only (a second definition would silently win)', () => {
    const seen = new Map<string, string>();
    const twice: string[] = [];
    for (const [area, messages] of Object.entries(AREAS)) {
      for (const key of Object.keys(messages.nb)) {
        if (seen.has(key)) twice.push(`${key} in ${seen.get(key)} and ${area}`);
        seen.set(key, area);
      }
    }
    expect(twice).toEqual([]);
  });

  it('fills placeholders, picks plural forms by count and writes numbers as the language does', () => {
    expect(formatMessage('nb', 'Hei, {name}!', { name: 'Kari' })).toBe('Hei, Kari!');
    expect(formatMessage('nb', { one: '{count} abonnent', other: '{count} abonnenter' }, { count: 1 })).toBe(
      '1 abonnent',
    );
    expect(formatMessage('nb', { one: '{count} abonnent', other: '{count} abonnenter' }, { count: 1200 })).toBe(
      '1\u00a0200 abonnenter',
    );
    expect(formatMessage('en', { one: '{count} subscriber', other: '{count} subscribers' }, { count: 1200 })).toBe(
      '1,200 subscribers',
    );
    // A placeholder without a value stays visible rather than vanishing.
    expect(formatMessage('en', 'Hello {name}')).toBe('Hello {name}');
  });

  it('writes dates and times in Norwegian time, as each language does', () => {
    const at = new Date('2026-12-07T08:30:00Z');
    expect(translator('nb').dateTime(at)).toBe('7. desember 2026 kl. 09:30');
    expect(translator('nn').date(at)).toBe('7. desember 2026');
    expect(translator('en').date(at)).toBe('7 December 2026');
    const now = new Date('2026-12-07T12:00:00Z');
    expect(translator('nn').relative(new Date('2026-12-07T09:00:00Z'), now)).toBe('for 3 timar sidan');
    expect(translator('en').relative(new Date('2026-12-06T12:00:00Z'), now)).toBe('yesterday');
    expect(translator('nb').relative(new Date('2026-11-01T12:00:00Z'), now)).toBe('1. november 2026');
  });

  it('says when a relative time next reads otherwise: not before, and within a millisecond after', () => {
    const en = translator('en');
    const published = new Date('2026-12-07T08:30:00.250Z');
    // From the moment of publication to past a week, at uneven offsets (every bucket and its boundaries).
    let checked = 0;
    for (let offset = 0; offset < 8 * 86_400_000; offset += offset < 7_200_000 ? 7_919 : 3_600_011) {
      const now = new Date(published.getTime() + offset);
      const text = en.relative(published, now);
      const changesAt = relativeChangesAt(published, now);
      if (changesAt === null) {
        expect(offset, 'only past a week').toBeGreaterThanOrEqual(7 * 86_400_000 - 500);
        expect(en.relative(published, new Date(now.getTime() + 365 * 86_400_000))).toBe(text);
        continue;
      }
      expect(changesAt).toBeGreaterThan(now.getTime());
      expect(en.relative(published, new Date(changesAt - 1)), `${offset} ms: unchanged until then`).toBe(text);
      expect(en.relative(published, new Date(changesAt + 1)), `${offset} ms: changed right after`).not.toBe(text);
      checked += 1;
    }
    expect(checked).toBeGreaterThan(900);
    // The boundaries between the steps: "now" → 1 minute → … → 59 minutes → 1 hour → … → the date.
    expect(relativeChangesAt(published, published)).toBe(published.getTime() + 59_500);
    expect(relativeChangesAt(published, new Date(published.getTime() + 3_599_000))).toBe(
      published.getTime() + 3_599_500,
    );
    // A time ahead of the clock (skew) is looked at again a second later.
    expect(relativeChangesAt(published, new Date(published.getTime() - 120_000))).toBe(published.getTime() - 119_000);
  });
});

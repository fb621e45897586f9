/** The input hygiene rules (src/domain/text.ts), on their own. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeUtf8,
  isBlankText,
  normaliseText,
  TEXT_KINDS,
  type TextKind,
  textProblem,
} from '../../src/domain/text.js';
import { headerProblem, urlEncodedProblem } from '../../src/http/plugins/input-hygiene.js';

const TEXT: TextKind[] = ['identifier', 'title', 'line', 'multiline'];

describe('textProblem', () => {
  it('refuses NUL, other C0 and C1 controls and DEL in every kind of text', () => {
    for (const kind of TEXT) {
      for (const char of ['\u0000', '\u0001', '\u0008', '\u000b', '\u001b', '\u007f', '\u0085', '\u009f']) {
        expect(textProblem(`a${char}b`, kind), `${kind} ${char.codePointAt(0)}`).toMatch(/control characters/);
      }
    }
  });

  it('names the character by its code point, never echoing it', () => {
    expect(textProblem('a\u0000b', 'title')).toBe('must not contain control characters (it holds U+0000)');
    expect(textProblem('\ud800', 'line')).toBe('must be valid Unicode text (it holds an unpaired surrogate, U+D800)');
  });

  it('refuses lone surrogates (either half) but not a pair', () => {
    for (const kind of TEXT) {
      expect(textProblem('\ud800', kind)).toMatch(/unpaired surrogate/);
      expect(textProblem('x\udc00', kind)).toMatch(/unpaired surrogate/);
      expect(textProblem('\udc00\ud800', kind)).toMatch(/unpaired surrogate/);
      expect(textProblem('😀', kind)).toBeNull();
    }
  });

  it('allows tab, LF and CR only in multi-line text', () => {
    for (const char of ['\t', '\n', '\r', '\u2028', '\u2029']) {
      expect(textProblem(`a${char}b`, 'multiline')).toBeNull();
      for (const kind of ['identifier', 'title', 'line'] as const) {
        expect(textProblem(`a${char}b`, kind), kind).toMatch(/single line/);
      }
    }
    expect(textProblem('a\r\nBcc: x@y', 'title')).toMatch(/single line/);
  });

  it('refuses bidi override, embedding and isolate controls in titles, not the marks', () => {
    for (const char of ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069']) {
      expect(textProblem(`${char}gnp.exe`, 'title')).toMatch(/bidirectional/);
      expect(textProblem(`${char}x`, 'multiline')).toBeNull();
    }
    expect(textProblem('\u200fשלום', 'title')).toBeNull();
  });

  it('refuses invisible characters in identifiers', () => {
    for (const char of ['\u200b', '\u200d', '\u202e', '\ufeff', '\u00ad']) {
      expect(textProblem(`a${char}b`, 'identifier')).toMatch(/invisible/);
    }
    expect(textProblem('bott-okonomi', 'identifier')).toBeNull();
  });

  it('leaves e-mail addresses to parseAddress', () => {
    expect(textProblem('x@y.no\r\nBcc: z@y.no', 'email')).toBeNull();
  });

  it('accepts ordinary text of every script', () => {
    for (const kind of TEXT) {
      for (const text of ['Planlagt vedlikehold', 'Ærlig øl på Åsane', 'Привет', 'مرحبا', '日本語', 'e\u0301']) {
        expect(textProblem(text, kind), `${kind} ${text}`).toBeNull();
      }
    }
  });
});

describe('isBlankText and normaliseText', () => {
  it('counts white space and invisible characters as nothing', () => {
    for (const blank of [
      '',
      ' ',
      '\u200b',
      '\u200b\u200c\u200d',
      '\ufeff',
      '\u00a0\u3000',
      '\u202e',
      '\u2800',
      '\u3164',
    ]) {
      expect(isBlankText(blank), JSON.stringify(blank)).toBe(true);
    }
    expect(isBlankText('\u200ba')).toBe(false);
  });

  it('normalises text to NFC, makes blank text empty, and keeps identifiers as they are', () => {
    expect(normaliseText('e\u0301', 'title')).toBe('é');
    expect(normaliseText('\u200b', 'line')).toBe('');
    expect(normaliseText('e\u0301', 'identifier')).toBe('e\u0301');
  });

  it('gives text that is accepted again after normalising (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.constantFrom(...TEXT), (text, kind) => {
        if (textProblem(text, kind) !== null) return;
        const normal = normaliseText(text, kind);
        expect(textProblem(normal, kind)).toBeNull();
        expect(normaliseText(normal, kind)).toBe(normal);
      }),
      { seed: 14, numRuns: 300 },
    );
  });

  it('has one kind per rule set', () => {
    expect(new Set(TEXT_KINDS).size).toBe(TEXT_KINDS.length);
  });
});

describe('byte-level checks', () => {
  it('decodes only well-formed UTF-8', () => {
    expect(decodeUtf8(Buffer.from('Ærlig 😀'))).toBe('Ærlig 😀');
    for (const bytes of [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xc0, 0xaf]]) {
      expect(decodeUtf8(Uint8Array.from(bytes)), JSON.stringify(bytes)).toBeNull();
    }
  });

  it('checks percent-escapes of query strings and form bodies as UTF-8', () => {
    expect(urlEncodedProblem('q=%C3%A6&x=1')).toBeNull();
    expect(urlEncodedProblem('q=100%&x=%zz')).toBeNull();
    expect(urlEncodedProblem('q=ære')).toBeNull();
    expect(urlEncodedProblem('q=%FF')).toMatch(/UTF-8/);
    expect(urlEncodedProblem('q=%C3%28')).toMatch(/UTF-8/);
    expect(urlEncodedProblem('q=%ED%A0%80')).toMatch(/UTF-8/);
  });

  it('refuses control characters in any header, and bytes that are not UTF-8 in headers the app reads', () => {
    expect(headerProblem('x-anything', 'a\u0000b')).toMatch(/control characters/);
    expect(headerProblem('user-agent', 'a\nb')).toMatch(/control characters/);
    expect(headerProblem('user-agent', 'Mozilla/5.0\tx')).toBeNull();
    // Node hands header bytes over as Latin-1: "Ã¦" is the UTF-8 of "æ", a lone "\u00e6" the byte 0xE6.
    expect(headerProblem('user-agent', 'Ã¦')).toBeNull();
    expect(headerProblem('user-agent', '\u00e6')).toBe('must be UTF-8 text');
    expect(headerProblem('x-proxy-header', '\u00e6')).toBeNull();
    expect(headerProblem('accept-language', '\u2603')).toBe('must be UTF-8 text');
  });
});

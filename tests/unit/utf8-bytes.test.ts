import { describe, expect, it } from 'vitest';
import { utf8Bytes } from '../../src/http/utf8-bytes.js';

describe('utf8Bytes', () => {
  it('gives Buffer.from’s bytes, in the room it reserves and when a text needs more than that', () => {
    const texts = [
      '',
      'plain ASCII',
      'Nedetid på æøå — «sitat» “quote”',
      // 3 bytes a character: more than the 1.25 reserved, so the second encoding.
      '—'.repeat(1000),
      // Surrogate pairs (4 bytes for two UTF-16 units) and lone surrogates (encoded as U+FFFD).
      '😀'.repeat(500),
      `${'a'.repeat(100)}${'😀'.repeat(30)}`,
      'ab\ud800',
      '\udc00cd',
    ];
    // Every length around the room's edge, with characters of each UTF-8 length.
    const alphabet = ['a', 'æ', '—', '😀'];
    for (let length = 0; length < 120; length += 1) {
      let text = '';
      for (let i = 0; i < length; i += 1) text += alphabet[(i * 7 + length) % alphabet.length];
      texts.push(text, `${'x'.repeat(length)}${'—'.repeat(Math.ceil(length / 8))}`);
    }
    for (const text of texts)
      expect(utf8Bytes(text).equals(Buffer.from(text, 'utf8')), JSON.stringify(text)).toBe(true);
  });
});

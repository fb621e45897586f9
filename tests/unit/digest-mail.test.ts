/**
 * The digest e-mail as a pure function (src/mail/digest.ts): subjects in nb/nn/en with singular and plural, the
 * heading structure and `lang`, importance labels, excerpts, List-Unsubscribe only for a one-channel digest,
 * Message-ID, and user text (titles, channel titles, summaries) inert in the HTML (the subject carries none).
 */
import { type DefaultTreeAdapterTypes, parse } from 'parse5';
import { describe, expect, it } from 'vitest';
import {
  composeDigestEmail,
  type DigestChannelSection,
  type DigestEmailInput,
  digestExcerpt,
  digestSubject,
} from '../../src/mail/digest.js';
import { loadXssVectors } from '../helpers/xss-corpus.js';

const section = (channelTitle: string, titles: string[], token = 'a'.repeat(10)): DigestChannelSection => ({
  channelTitle,
  unsubscribeToken: `1.${token}`,
  items: titles.map((title, i) => ({
    title,
    excerpt: `Om ${title}`,
    importance: i === 0 ? 'important' : 'info',
    contentLanguage: 'nb',
    url: `https://meldingskanal.example.no/api/v1/announcements/${i}`,
  })),
});

const base: DigestEmailInput = {
  digestId: 42n,
  to: 'kari@example.org',
  from: 'noreply@example.no',
  publicUrl: 'https://meldingskanal.example.no',
  language: 'nb',
  mode: 'daily',
  periodStart: new Date('2026-11-24T06:00:00Z'),
  periodEnd: new Date('2026-11-25T06:00:00Z'),
  sections: [section('IT-drift', ['Nytt VPN'])],
};

/** Every element of a parsed document, with its attributes. */
function elements(html: string): { tag: string; attrs: { name: string; value: string }[] }[] {
  const found: { tag: string; attrs: { name: string; value: string }[] }[] = [];
  const stack: DefaultTreeAdapterTypes.Node[] = [parse(html)];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if ('tagName' in node) found.push({ tag: node.tagName, attrs: node.attrs });
    if ('childNodes' in node) stack.push(...node.childNodes);
    if ('content' in node) stack.push(node.content);
  }
  return found;
}

const MARKUP_OF_THE_DIGEST = new Set(['html', 'head', 'meta', 'title', 'style', 'body', 'div', 'h1', 'h2', 'h3', 'p']);
for (const tag of ['strong', 'span', 'a', 'hr']) MARKUP_OF_THE_DIGEST.add(tag);

describe('subjects', () => {
  it('counts the messages in the reader’s language, singular and plural', () => {
    expect(digestSubject('nb', 1)).toBe('Sammendrag fra Meldingskanal: 1 ny melding');
    expect(digestSubject('nb', 4)).toBe('Sammendrag fra Meldingskanal: 4 nye meldinger');
    expect(digestSubject('nn', 1)).toBe('Samandrag frå Meldingskanal: 1 ny melding');
    expect(digestSubject('nn', 2)).toBe('Samandrag frå Meldingskanal: 2 nye meldingar');
    expect(digestSubject('en', 1)).toBe('Digest from Meldingskanal: 1 new announcement');
    expect(digestSubject('en', 3)).toBe('Digest from Meldingskanal: 3 new announcements');
  });
});

describe('the message', () => {
  it('has the Message-ID of the digest, headings per channel and item, and one-click unsubscribe for one channel', () => {
    const mail = composeDigestEmail({ ...base, sections: [section('IT-drift', ['Nytt VPN', 'Nedetid'])] });
    expect(mail.messageId).toBe('<digest-42@meldingskanal.example.no>');
    expect(mail.subject).toBe('Sammendrag fra Meldingskanal: 2 nye meldinger');
    expect(mail.headers['List-Unsubscribe']).toBe(
      `<https://meldingskanal.example.no/unsubscribe?token=1.${'a'.repeat(10)}>`,
    );
    expect(mail.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    expect(mail.headers['Auto-Submitted']).toBe('auto-generated');
    const tags = elements(mail.html).map((e) => e.tag);
    expect(tags.filter((t) => t === 'h1')).toHaveLength(1);
    expect(tags.filter((t) => t === 'h2')).toHaveLength(1);
    expect(tags.filter((t) => t === 'h3')).toHaveLength(2);
    expect(mail.html).toContain('<html lang="nb">');
    expect(mail.html).toContain('Viktig</strong>');
    expect(mail.html).toContain('Dagens sammendrag');
    // Times in Oslo: 06:00Z in November is 07:00.
    expect(mail.text).toContain('kl. 07:00');
    expect(mail.text).toContain('VIKTIG: Nytt VPN');
    expect(mail.text).toContain(
      'Meld deg av e-post fra «IT-drift»: https://meldingskanal.example.no/unsubscribe?token=',
    );
  });

  it('has no List-Unsubscribe when it spans channels, and a link per channel in the body', () => {
    const mail = composeDigestEmail({
      ...base,
      language: 'en',
      mode: 'weekly',
      sections: [section('A', ['One'], 'b'.repeat(10)), section('B', ['Two'], 'c'.repeat(10))],
    });
    expect(mail.headers['List-Unsubscribe']).toBeUndefined();
    expect(mail.headers['List-Unsubscribe-Post']).toBeUndefined();
    expect(mail.html).toContain(`unsubscribe?token=1.${'b'.repeat(10)}`);
    expect(mail.html).toContain(`unsubscribe?token=1.${'c'.repeat(10)}`);
    expect(mail.html).toContain('Your weekly digest');
  });

  it('marks items in another language than the mail with their own lang', () => {
    const s = section('IT-drift', ['New VPN']);
    s.items[0]!.contentLanguage = 'en';
    const html = composeDigestEmail({ ...base, sections: [s] }).html;
    expect(html).toMatch(/<span lang="en">New VPN<\/span>/);
    expect(html).toContain('<p style="margin:0 0 8px" lang="en">Om New VPN</p>');
  });

  it('refuses an address with a line break (header injection)', () => {
    expect(() => composeDigestEmail({ ...base, to: 'kari@example.org\r\nBcc: x@example.org' })).toThrow(/not usable/);
  });
});

describe('excerpts', () => {
  it('are the summary when there is one, else the body as plain text, cut at a word with an ellipsis', () => {
    expect(digestExcerpt('  Kort.  ', '# Lang tekst')).toBe('Kort.');
    expect(digestExcerpt(null, '**Fet** tekst med [lenke](https://example.org).')).toBe(
      'Fet tekst med lenke (https://example.org).',
    );
    const long = digestExcerpt(null, 'ord '.repeat(100));
    expect(long.length).toBeLessThanOrEqual(201);
    expect(long.endsWith('ord…')).toBe(true);
  });
});

describe('user text is inert', () => {
  it('in titles, channel titles and excerpts: no element or attribute beyond the template’s own', () => {
    for (const vector of loadXssVectors()) {
      const s = section(vector, [vector]);
      s.items[0]!.excerpt = vector;
      const mail = composeDigestEmail({ ...base, sections: [s] });
      for (const element of elements(mail.html)) {
        expect(MARKUP_OF_THE_DIGEST.has(element.tag), `<${element.tag}> from ${JSON.stringify(vector)}`).toBe(true);
        for (const attr of element.attrs) {
          expect(['style', 'lang', 'href', 'role', 'aria-label', 'charset', 'name', 'content']).toContain(attr.name);
          if (attr.name === 'href') expect(attr.value).toMatch(/^https:\/\/meldingskanal\.example\.no\//);
        }
      }
      // The text part carries the title as it is (plain text), on its own line.
      expect(mail.text).toContain(vector.split(/\r?\n/)[0]!.trim());
    }
  });
});

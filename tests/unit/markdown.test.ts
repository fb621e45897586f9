/** Rendering announcement bodies: the dialect, the policy decisions and the plain-text form, by example. */
import { describe, expect, it } from 'vitest';
import {
  escapeHtml,
  MARKDOWN_MAX_NESTING,
  MARKDOWN_MAX_SOURCE_LENGTH,
  renderMarkdown,
  renderPlainText,
  sanitizeHtml,
  wwwAutolinkTailLength,
} from '../../src/content/markdown.js';
import { findExecutableHtml } from '../helpers/html-safety.js';

const REL = 'rel="noopener noreferrer nofollow ugc"';

describe('renderMarkdown', () => {
  it('renders # as h2 (the title is the page h1) and keeps h2–h6', () => {
    expect(renderMarkdown('# Nedetid')).toBe('<h2>Nedetid</h2>\n');
    expect(renderMarkdown('Nedetid\n===')).toBe('<h2>Nedetid</h2>\n');
    expect(renderMarkdown('## To\n### Tre\n###### Seks')).toBe('<h2>To</h2>\n<h3>Tre</h3>\n<h6>Seks</h6>\n');
  });

  it('renders GitHub tables with alignment as the align attribute, never style', () => {
    const html = renderMarkdown('| Dag | Tid | Antall |\n|:--|:-:|--:|\n| Mandag | 08–16 | 3 |\n| Tirsdag | 9 |');
    expect(html).toBe(
      [
        '<table>',
        '<thead>',
        '<tr>',
        '<th align="left">Dag</th>',
        '<th align="center">Tid</th>',
        '<th align="right">Antall</th>',
        '</tr>',
        '</thead>',
        '<tbody>',
        '<tr>',
        '<td align="left">Mandag</td>',
        '<td align="center">08–16</td>',
        '<td align="right">3</td>',
        '</tr>',
        '<tr>',
        '<td align="left">Tirsdag</td>',
        '<td align="center">9</td>',
        '<td align="right"></td>',
        '</tr>',
        '</tbody>',
        '</table>',
        '',
      ].join('\n'),
    );
    expect(renderMarkdown('| a |\n|---|\n| b |')).toBe(
      '<table>\n<thead>\n<tr>\n<th>a</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td>b</td>\n</tr>\n</tbody>\n</table>\n',
    );
  });

  it('links https://, www. and e-mail autolink literals, with the safe rel', () => {
    expect(renderMarkdown('Se https://uio.no og www.uib.no eller post@ntnu.no.')).toBe(
      `<p>Se <a href="https://uio.no" ${REL}>https://uio.no</a> og <a href="https://www.uib.no" ${REL}>www.uib.no</a>` +
        ` eller <a href="mailto:post@ntnu.no" ${REL}>post@ntnu.no</a>.</p>\n`,
    );
  });

  it('follows GFM in what ends an autolink literal', () => {
    // Trailing punctuation, an unbalanced parenthesis and an entity-like tail are not part of the link.
    expect(renderMarkdown('(www.uib.no/a_(b)).')).toBe(
      `<p>(<a href="https://www.uib.no/a_(b)" ${REL}>www.uib.no/a_(b)</a>).</p>\n`,
    );
    expect(renderMarkdown('www.uit.no/side?x=1&amp;')).toBe(
      `<p><a href="https://www.uit.no/side?x=1" ${REL}>www.uit.no/side?x=1</a>&amp;</p>\n`,
    );
    // Not links: no dot after www., an underscore in the last two labels, a file name, a bare domain.
    expect(renderMarkdown('www.uib www.a_b.no www.uib.n_o README.md uio.no')).not.toContain('<a');
    expect(wwwAutolinkTailLength('www.uio.no, og', 4)).toBe('uio.no'.length);
    expect(wwwAutolinkTailLength('www.x_y.no', 4)).toBe(0);
  });

  it('keeps explicit links with title and the safe rel, never target', () => {
    const html = renderMarkdown('[Driftsmeldinger](https://www.ntnu.no/drift "Drift") og <https://uib.no>');
    expect(html).toBe(
      `<p><a href="https://www.ntnu.no/drift" ${REL} title="Drift">Driftsmeldinger</a> og ` +
        `<a href="https://uib.no" ${REL}>https://uib.no</a></p>\n`,
    );
    expect(html).not.toContain('target');
  });

  it('leaves links with refused URLs as their literal text (relative, javascript:, data:)', () => {
    expect(renderMarkdown('[x](/kanaler/1) [y](javascript:alert(1)) [z](data:text/html,hei)')).toBe(
      '<p>[x](/kanaler/1) [y](javascript:alert(1)) [z](data:text/html,hei)</p>\n',
    );
  });

  it('escapes < in code blocks and code spans, and keeps a vetted language class', () => {
    expect(renderMarkdown('```ts\nif (a < b && c > d) {}\n```')).toBe(
      '<pre><code class="language-ts">if (a &lt; b &amp;&amp; c &gt; d) {}\n</code></pre>\n',
    );
    expect(renderMarkdown('```"><script>\nx\n```')).toBe('<pre><code>x\n</code></pre>\n');
    expect(renderMarkdown('    <div>\n')).toBe('<pre><code>&lt;div&gt;\n</code></pre>\n');
    expect(renderMarkdown('Bruk `<br>` her')).toBe('<p>Bruk <code>&lt;br&gt;</code> her</p>\n');
  });

  it('renders nested and numbered lists', () => {
    expect(renderMarkdown('- a\n  - b\n    1. c\n    2. d\n- e\n\n3. tre\n4. fire')).toBe(
      [
        '<ul>',
        '<li>a',
        '<ul>',
        '<li>b',
        '<ol>',
        '<li>c</li>',
        '<li>d</li>',
        '</ol>',
        '</li>',
        '</ul>',
        '</li>',
        '<li>e</li>',
        '</ul>',
        '<ol start="3">',
        '<li>tre</li>',
        '<li>fire</li>',
        '</ol>',
        '',
      ].join('\n'),
    );
  });

  it('keeps Norwegian letters as they are', () => {
    expect(renderMarkdown('Blåbærsyltetøy på **Ås**: ÆØÅ æøå')).toBe(
      '<p>Blåbærsyltetøy på <strong>Ås</strong>: ÆØÅ æøå</p>\n',
    );
  });

  it('renders emphasis, strikethrough as del, quotes, rules and line breaks', () => {
    expect(renderMarkdown('*a* **b** ~~c~~\n\n> sitat\n\n---\n\nlinje  \nneste\ntredje')).toBe(
      '<p><em>a</em> <strong>b</strong> <del>c</del></p>\n<blockquote>\n<p>sitat</p>\n</blockquote>\n<hr />\n' +
        '<p>linje<br />\nneste<br />\ntredje</p>\n',
    );
  });

  it('strips raw HTML: tags and comments go, text stays, script and style content goes', () => {
    expect(renderMarkdown('a <b>fet</b> <span style="color:red">rød</span> <script>alert(1)</script>slutt')).toBe(
      '<p>a fet rød slutt</p>\n',
    );
    expect(renderMarkdown('<div align="center">\nVelkommen *hit*!\n</div>\n\n<!-- notat -->\n\netter')).toBe(
      '<p>Velkommen <em>hit</em>!</p>\n<p>etter</p>\n',
    );
    expect(renderMarkdown('<script>\nalert(1)\n</script>\n\n<style>p{}</style>\n\nx')).toBe('<p>x</p>\n');
    expect(renderMarkdown('<iframe src="https://x.example"></iframe>')).toBe('');
  });

  it('keeps https images with alt text, and turns other images into their alt text', () => {
    expect(renderMarkdown('![Kart over campus](https://uio.no/kart.png "Kart")')).toBe(
      '<p><img src="https://uio.no/kart.png" alt="Kart over campus" title="Kart" /></p>\n',
    );
    expect(renderMarkdown('![Kart](http://uio.no/kart.png) ![Piksel](data:image/png;base64,AAAA)')).toBe(
      '<p>Kart ![Piksel](data:image/png;base64,AAAA)</p>\n',
    );
  });

  it('never throws on NUL, lone surrogates, huge input or deep nesting, and stays bounded', () => {
    expect(renderMarkdown('a\u0000b')).toBe('<p>a\uFFFDb</p>\n');
    expect(renderMarkdown('x\uD800y\uDC00')).toBe('<p>x\uFFFDy\uFFFD</p>\n');
    expect(renderMarkdown('😀')).toBe('<p>😀</p>\n');

    const huge = 'a'.repeat(MARKDOWN_MAX_SOURCE_LENGTH + 1000);
    expect(renderMarkdown(huge)).toBe(`<p>${'a'.repeat(MARKDOWN_MAX_SOURCE_LENGTH)}</p>\n`);
    // A cut through a surrogate pair leaves no lone surrogate behind.
    const cutPair = `${'a'.repeat(MARKDOWN_MAX_SOURCE_LENGTH - 1)}😀`;
    expect(renderMarkdown(cutPair)).toBe(`<p>${'a'.repeat(MARKDOWN_MAX_SOURCE_LENGTH - 1)}\uFFFD</p>\n`);

    const quotes = renderMarkdown(`${'>'.repeat(5000)} dyp`);
    expect(quotes.split('<blockquote>').length - 1).toBeLessThanOrEqual(MARKDOWN_MAX_NESTING);
    const list = Array.from({ length: 2000 }, (_, i) => `${'  '.repeat(i)}- punkt`).join('\n');
    expect(renderMarkdown(list).split('<ul>').length - 1).toBeLessThanOrEqual(MARKDOWN_MAX_NESTING);
    for (const pathological of [
      '['.repeat(50_000),
      '*a **'.repeat(20_000),
      '<a '.repeat(30_000),
      'www.'.repeat(25_000),
      `(www.${')'.repeat(2000)}`.repeat(40),
    ])
      expect(findExecutableHtml(renderMarkdown(pathological))).toEqual([]);
  });

  it('produces a fixed point of the sanitiser', () => {
    const html = renderMarkdown(
      '# T\n\n"sitat" & \'apostrof\' [l](https://uio.no?a=1&b="2") ![b](https://x.no/"a".png)',
    );
    expect(sanitizeHtml(html)).toBe(html);
  });
});

describe('sanitizeHtml', () => {
  it('maps h1 and s, adds rel to links, drops target, style and unknown elements', () => {
    expect(
      sanitizeHtml(
        '<h1 style="color:red">T</h1><s>x</s><a href="https://uio.no" target="_blank" rel="opener">l</a><span>s</span>',
      ),
    ).toBe(`<h2>T</h2><del>x</del><a href="https://uio.no" ${REL}>l</a>s`);
  });

  it('unwraps links with refused or missing URLs and removes images with refused sources', () => {
    expect(sanitizeHtml('<a href="/relativ">r</a> <a>n</a> <img src="http://x.no/a.png" alt="a"><img alt="b">')).toBe(
      'r n ',
    );
  });

  it('unwraps a refused link without disturbing the closing tags after it', () => {
    // sanitize-html renames a later closing tag if a link is unwrapped by renaming it; exclusiveFilter is used instead.
    expect(sanitizeHtml('<p><a href="">x</a></p><pre><code>y</code></pre>')).toBe('<p>x</p><pre><code>y</code></pre>');
    expect(renderMarkdown('[x]() og\n\n```\nz\n```')).toBe('<p>x og</p>\n<pre><code>z\n</code></pre>\n');
  });

  it('keeps only valid alignment and language classes', () => {
    expect(sanitizeHtml('<table><tr><td align="justify">a</td><td align="RIGHT">b</td></tr></table>')).toBe(
      '<table><tr><td>a</td><td align="right">b</td></tr></table>',
    );
    expect(sanitizeHtml('<code class="language-js evil">x</code><code class="x">y</code>')).toBe(
      '<code class="language-js">x</code><code>y</code>',
    );
  });
});

describe('renderPlainText', () => {
  it('writes headings, paragraphs, lists, quotes, code and rules readably, without markup', () => {
    const text = renderPlainText(
      [
        '# Planlagt nedetid',
        '',
        'Systemet er **nede** fra kl. 08.',
        'Andre linje.',
        '',
        '### Berørte tjenester',
        '',
        '- Lønn',
        '  - Reiser',
        '- Økonomi',
        '',
        '1. først',
        '2. så',
        '',
        '> Husk å lagre.',
        '',
        '```',
        'if (a < b) {}',
        '```',
        '',
        '---',
        '',
        'Slutt ~~mandag~~ tirsdag.',
      ].join('\n'),
    );
    expect(text).toBe(
      [
        'Planlagt nedetid',
        '----------------',
        '',
        'Systemet er nede fra kl. 08.',
        'Andre linje.',
        '',
        'Berørte tjenester',
        '',
        '- Lønn',
        '  - Reiser',
        '- Økonomi',
        '',
        '1. først',
        '2. så',
        '',
        '> Husk å lagre.',
        '',
        '    if (a < b) {}',
        '',
        '* * *',
        '',
        'Slutt ~~mandag~~ tirsdag.',
      ].join('\n'),
    );
  });

  it('writes links as "text (url)" and autolinks once', () => {
    expect(
      renderPlainText(
        '[Driftsside](https://uio.no/drift), https://uib.no, www.uit.no, post@ntnu.no og [e-post](mailto:a@b.no)',
      ),
    ).toBe(
      'Driftsside (https://uio.no/drift), https://uib.no, https://www.uit.no, post@ntnu.no og e-post (mailto:a@b.no)',
    );
    expect(renderPlainText('![Kart](https://uio.no/k.png) [![Logo](https://uio.no/l.png)](https://uio.no)')).toBe(
      'Kart (https://uio.no/k.png) Logo (https://uio.no)',
    );
  });

  it('writes tables as aligned columns', () => {
    expect(
      renderPlainText('| Dag | Tid | Antall |\n|:--|:-:|--:|\n| Mandag | 08–16 | 3 |\n| Tirsdag | 9 | 12345 |'),
    ).toBe(
      [
        'Dag     |  Tid  | Antall',
        '------- | ----- | ------',
        'Mandag  | 08–16 |      3',
        'Tirsdag |   9   |  12345',
      ].join('\n'),
    );
  });

  it('loose lists keep blank lines between items; continuation lines are indented under the marker', () => {
    expect(renderPlainText('- a\n\n  mer\n\n- b')).toBe('- a\n\n  mer\n\n- b');
  });

  it('strips raw HTML and never adds markup', () => {
    const text = renderPlainText('a <b>fet</b> <script>alert(1)</script>ord\n\n<div>\nBlokk\n</div>\n\n<!-- x -->');
    expect(text).toBe('a fet ord\n\nBlokk');
    expect(text).not.toMatch(/<[a-z!/]/i);
    expect(renderPlainText('Ære, øl og ål\u0007')).toBe('Ære, øl og ål');
  });
});

describe('escapeHtml', () => {
  it('escapes the five HTML-special characters and nothing else', () => {
    expect(escapeHtml(`<b title="x">Tom & 'Jerry'</b> æøå`)).toBe(
      '&lt;b title=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/b&gt; æøå',
    );
  });
});

describe('images in e-mails', () => {
  it('become links to the image, labelled with the alt text, so opening the e-mail loads nothing remote', () => {
    const source = 'Se kartet: ![Kart over Gløshaugen](https://www.ntnu.no/kart.png) og ![](https://uio.no/a.png)';
    expect(renderMarkdown(source)).toContain('<img src="https://www.ntnu.no/kart.png" alt="Kart over Gløshaugen"');
    const html = renderMarkdown(source, { images: 'link' });
    expect(html).not.toContain('<img');
    expect(html).toContain(
      '<a href="https://www.ntnu.no/kart.png" rel="noopener noreferrer nofollow ugc">Kart over Gløshaugen</a>',
    );
    expect(html).toContain(
      '<a href="https://uio.no/a.png" rel="noopener noreferrer nofollow ugc">https://uio.no/a.png</a>',
    );
    expect(sanitizeHtml(html)).toBe(html);
  });

  it('still refuses image sources the rules refuse', () => {
    const html = renderMarkdown('![x](javascript:alert(1)) ![y](http://plain.example/a.png)', { images: 'link' });
    expect(html).not.toMatch(/href="(javascript|http:)/);
  });
});

/**
 * Property tests for the Markdown renderer over thousands of generated inputs: arbitrary strings (control
 * characters, astral characters and lone surrogates included) mixed with Markdown syntax, raw HTML and the pieces of
 * the XSS corpus. For every input: nothing throws, the HTML cannot execute (parsed as a browser would, see
 * tests/helpers/html-safety.ts), and the HTML is a fixed point of the sanitiser.
 *
 * Set FC_SEED to replay a failure (fast-check prints the seed and the shrunk counterexample).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderMarkdown, renderPlainText, sanitizeHtml } from '../../src/content/markdown.js';
import { findExecutableHtml } from '../helpers/html-safety.js';
import { loadXssVectors } from '../helpers/xss-corpus.js';

const MARKDOWN_PIECES = [
  '# ',
  '## ',
  '###### ',
  '\n===\n',
  '**',
  '*',
  '_',
  '~~',
  '`',
  '```',
  '```js\n',
  '\n```\n',
  '    ',
  '> ',
  '- ',
  '1. ',
  '3) ',
  '---\n',
  '| a | b |\n|:-|-:|\n',
  '| ',
  ' |\n',
  '[x](',
  '](https://uio.no)',
  '[x]: ',
  '[x]',
  '![a](https://x.no/a.png)',
  '![a](',
  '](',
  ')',
  '"',
  "'",
  'https://uio.no',
  'http://',
  'www.uib.no',
  'www.',
  'post@uio.no',
  'mailto:',
  '<https://uio.no>',
  '<post@uio.no>',
  'javascript:',
  'JaVaScRiPt:',
  'java\tscript:',
  'vbscript:',
  'data:text/html,',
  'data:image/svg+xml;base64,PHN2Zz4=',
  '&amp;',
  '&lt;',
  '&#x6A;',
  '&#106;',
  '&colon;',
  '&#0;',
  '&#x09;',
  '&quot;',
  '\\',
  '  \n',
  '\n',
  '\n\n',
  '\r\n',
  'æøå ÆØÅ',
];

const HTML_PIECES = [
  '<script>',
  '</script>',
  '<style>',
  '</style>',
  '<img src=x onerror=alert(1)>',
  '<img src="https://x.no/a.png" alt="a">',
  '<a href="javascript:alert(1)">',
  '<a href="https://uio.no" target="_blank">',
  '</a>',
  '<a href="',
  '<a href=/relativ>',
  '<img src="',
  '<img src=http://x.no/a.png>',
  '<svg onload=alert(1)>',
  '<math>',
  '<mglyph>',
  '<template>',
  '<div>',
  '</div>',
  '<p>',
  '</p>',
  '<table>',
  '<iframe>',
  '<noscript>',
  '<xmp>',
  '<textarea>',
  '<title>',
  '<!--',
  '-->',
  '<![CDATA[',
  ']]>',
  '<?',
  '?>',
  '<!DOCTYPE html>',
  ' onload=',
  ' style="x"',
  '<b>',
  '</b>',
  '<br/>',
  '<h1>',
  '<',
  '>',
  '</',
  '=',
];

const corpus = loadXssVectors();

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));

const piece = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...MARKDOWN_PIECES) },
  { weight: 4, arbitrary: fc.constantFrom(...HTML_PIECES) },
  { weight: 2, arbitrary: fc.constantFrom(...corpus) },
  { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 8 }) },
  { weight: 1, arbitrary: loneSurrogate },
);

/** Markdown-ish sources: a few dozen pieces joined. */
const source = fc.array(piece, { maxLength: 24 }).map((pieces) => pieces.join(''));

const seed = process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {};

function assertSafeAndStable(html: string): void {
  const findings = findExecutableHtml(html);
  if (findings.length > 0) throw new Error(`executable HTML (${findings.join('; ')}): ${html}`);
  const again = sanitizeHtml(html);
  if (again !== html) throw new Error(`not stable:\n${html}\n---\n${again}`);
}

describe('renderMarkdown, over generated inputs', () => {
  it('never throws, never emits executable HTML, and is a fixed point of the sanitiser', () => {
    fc.assert(
      fc.property(source, (markdown) => {
        assertSafeAndStable(renderMarkdown(markdown));
        // The e-mail variant (images as links) keeps the same guarantees.
        assertSafeAndStable(renderMarkdown(markdown, { images: 'link' }));
      }),
      { numRuns: 3000, ...seed },
    );
  });

  it('does the same for arbitrary strings without any Markdown or HTML bias', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 100 })), (text) => {
        assertSafeAndStable(renderMarkdown(text));
      }),
      { numRuns: 2000, ...seed },
    );
  });

  it('renders plain text without throwing, and adds no "<" of its own', () => {
    fc.assert(
      fc.property(source, (markdown) => {
        const text = renderPlainText(markdown);
        // "<" can only come from the author: typed, or written as an entity (&lt; &#60; …).
        if (!markdown.includes('<') && !markdown.includes('&')) expect(text).not.toContain('<');
      }),
      { numRuns: 2000, ...seed },
    );
  });
});

describe('sanitizeHtml, over generated HTML', () => {
  it('never throws and never lets executable HTML through', () => {
    fc.assert(
      fc.property(source, (html) => {
        const findings = findExecutableHtml(sanitizeHtml(html));
        if (findings.length > 0) throw new Error(`executable HTML (${findings.join('; ')})`);
      }),
      { numRuns: 2000, ...seed },
    );
  });
});

it('the generators reach the interesting cases (so the properties above are not vacuous)', () => {
  const samples = fc.sample(source, { numRuns: 2000, seed: 1 }).map((sample) => renderMarkdown(sample));
  expect(samples.some((html) => html.includes('<a href='))).toBe(true);
  expect(samples.some((html) => html.includes('<img src='))).toBe(true);
  expect(samples.some((html) => html.includes('<table>'))).toBe(true);
  expect(samples.some((html) => html.includes('<pre><code'))).toBe(true);
  expect(samples.some((html) => html.includes('<h2>'))).toBe(true);
});

/**
 * Known XSS vectors (tests/fixtures/xss-vectors.txt) through the Markdown renderer and through the sanitiser on its
 * own. "Not executable" is decided by parsing the output as a browser would (parse5) and walking every node.
 */
import { describe, expect, it } from 'vitest';
import { renderMarkdown, renderPlainText, sanitizeHtml } from '../../src/content/markdown.js';
import { findExecutableHtml } from '../helpers/html-safety.js';
import { loadXssVectors } from '../helpers/xss-corpus.js';

const vectors = loadXssVectors();

describe('XSS corpus', () => {
  it('has the classic vectors in it', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(100);
  });

  it('the checker itself finds what it must (so a pass below means something)', () => {
    expect(findExecutableHtml('<img src=x onerror=alert(1)>')).toContain('event handler onerror on <img>');
    expect(
      findExecutableHtml('<a href="java&#x09;script:alert(1)" rel="noopener noreferrer nofollow ugc">x</a>'),
    ).toEqual(['href java\tscript:alert(1)']);
    expect(findExecutableHtml('<svg><a>x</a></svg>')).toContain('element <svg>');
    expect(findExecutableHtml('<p style="x">a</p><!-- c -->')).toEqual(['style on <p>', 'comment']);
    expect(findExecutableHtml('<a href="https://uio.no">x</a>')).toEqual(['link rel (none)']);
    expect(findExecutableHtml('<img src="http://uio.no/a.png" alt="">')).toEqual(['src http://uio.no/a.png']);
    expect(
      findExecutableHtml('<p>ok <a href="mailto:a@b.no" rel="noopener noreferrer nofollow ugc">a</a></p>'),
    ).toEqual([]);
  });

  describe.each(vectors.map((vector) => [JSON.stringify(vector), vector]))('%s', (_name, vector) => {
    it('renders as Markdown to HTML that cannot execute, stably', () => {
      const html = renderMarkdown(vector);
      expect(findExecutableHtml(html)).toEqual([]);
      expect(html).not.toMatch(/\s(?:href|src)="\s*(?:javascript|vbscript|data):/i);
      expect(sanitizeHtml(html)).toBe(html);
      expect(() => renderPlainText(vector)).not.toThrow();
    });

    it('is reduced by sanitizeHtml to HTML that cannot execute, stably', () => {
      const html = sanitizeHtml(vector);
      expect(findExecutableHtml(html)).toEqual([]);
      expect(sanitizeHtml(html)).toBe(html);
    });
  });

  it('still shows the reader what a refused link said, and keeps code as code', () => {
    expect(renderMarkdown('[x](javascript:alert(1))')).toBe('<p>[x](javascript:alert(1))</p>\n');
    expect(renderMarkdown('`<script>alert(1)</script>`')).toBe(
      '<p><code>&lt;script&gt;alert(1)&lt;/script&gt;</code></p>\n',
    );
    expect(renderMarkdown('<img src=x onerror=alert(1)>')).toBe('');
    expect(renderMarkdown('![x" onerror="alert(1)](https://example.org/a.png)')).toBe(
      '<p><img src="https://example.org/a.png" alt="x&quot; onerror=&quot;alert(1)" /></p>\n',
    );
  });
});

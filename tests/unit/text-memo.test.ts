import { describe, expect, it } from 'vitest';
import { renderMarkdown, renderPlainText } from '../../src/content/markdown.js';
import { TextMemo } from '../../src/content/memo.js';

describe('TextMemo', () => {
  it('renders each key once while it is remembered', () => {
    const memo = new TextMemo(1000);
    let calls = 0;
    const render = (key: string) => {
      calls += 1;
      return key.toUpperCase();
    };
    expect(memo.get('abc', render)).toBe('ABC');
    expect(memo.get('abc', render)).toBe('ABC');
    expect(calls).toBe(1);
  });

  it('holds at most its bound of characters, dropping the least recently used first', () => {
    const memo = new TextMemo(20);
    const render = (key: string) => key;
    memo.get('aaaa', render); // 8 characters
    memo.get('bbbb', render); // 16
    memo.get('aaaa', render); // used again: b is now the oldest
    memo.get('cccc', render); // 24 > 20: b goes
    expect(memo.count).toBe(2);
    const rendered: string[] = [];
    const tracking = (key: string) => {
      rendered.push(key);
      return key;
    };
    memo.get('aaaa', tracking);
    memo.get('cccc', tracking);
    expect(rendered).toEqual([]);
    memo.get('bbbb', tracking);
    expect(rendered).toEqual(['bbbb']);
  });

  it('does not keep a result larger than its whole bound', () => {
    const memo = new TextMemo(10);
    expect(memo.get('x'.repeat(20), (key) => key)).toHaveLength(20);
    expect(memo.count).toBe(0);
  });
});

describe('memoised renderers', () => {
  it('answer the same for the same body, with and without image links', () => {
    const body = 'Hei **alle**\n\n![logo](https://example.org/logo.png)';
    const first = renderMarkdown(body);
    expect(renderMarkdown(body)).toBe(first);
    expect(first).toContain('<img');
    const asLinks = renderMarkdown(body, { images: 'link' });
    expect(asLinks).not.toContain('<img');
    expect(renderMarkdown(body, { images: 'link' })).toBe(asLinks);
    expect(renderPlainText(body)).toBe(renderPlainText(body));
    expect(renderPlainText(body)).toContain('alle');
  });
});

/**
 * The templates' safety rules, checked over the source: text and attributes are escaped by preact-render-to-string,
 * raw HTML enters only through TrustedHtml (sanitised bodies), and no page depends on inline styles or scripts (the
 * CSP allows neither).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/paths.js';
import { TrustedHtml } from '../../src/web/components/trusted-html.js';
import { renderDocument } from '../../src/web/render.js';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.(tsx?|mjs)$/.test(entry.name) ? [path] : [];
  });
}

const TEMPLATE_SOURCES = [join(PROJECT_ROOT, 'src', 'web'), join(PROJECT_ROOT, 'src', 'http', 'routes', 'web')]
  .flatMap(sources)
  .filter((path) => !path.includes(`${join('src', 'web', 'client')}`));

describe('templates', () => {
  it('escape text and attribute values', () => {
    const hostile = '"><script>alert(1)</script><img src=x onerror=alert(1)>';
    const html = renderDocument(
      <p title={hostile} data-x={hostile}>
        {hostile}
      </p>,
    );
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script>');
    expect(html).toContain('title="&quot;>&lt;script>');
  });

  it('let raw HTML in through TrustedHtml only', () => {
    const offenders = TEMPLATE_SOURCES.filter(
      (path) =>
        !path.endsWith(join('components', 'trusted-html.tsx')) &&
        readFileSync(path, 'utf8').includes('dangerouslySetInnerHTML'),
    ).map((path) => relative(PROJECT_ROOT, path));
    expect(offenders).toEqual([]);
    expect(renderDocument(<TrustedHtml html={{ sanitisedHtml: '<p><strong>ok</strong></p>' }} />)).toBe(
      '<!doctype html><div><p><strong>ok</strong></p></div>',
    );
  });

  it('use no inline style attributes or inline scripts (the pages’ CSP refuses both)', () => {
    const offenders = TEMPLATE_SOURCES.filter((path) => {
      const text = readFileSync(path, 'utf8');
      return /\sstyle=\{|\sstyle="|<script(?![^>]*\bsrc=)[^>]*>[^<]/.test(text);
    }).map((path) => relative(PROJECT_ROOT, path));
    expect(offenders).toEqual([]);
  });
});

/**
 * The widget as shipped (dist/web, built by the tests' global setup like by every install): at most 15 KB gzipped,
 * one self-contained module — no imports at all, so nothing is fetched from elsewhere at run time.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { WEB_ASSETS_DIR } from '../../src/web/assets.js';

const WIDGET_GZIP_BUDGET_BYTES = 15 * 1024;

describe('the shipped widget', () => {
  const manifest = JSON.parse(readFileSync(join(WEB_ASSETS_DIR, 'manifest.json'), 'utf8')) as Record<string, string>;
  const file = manifest['widget.js'];

  it(`is at most ${WIDGET_GZIP_BUDGET_BYTES / 1024} KB gzipped`, () => {
    expect(file).toMatch(/^widget-[A-Z0-9]{8}\.js$/);
    const gzipped = readFileSync(join(WEB_ASSETS_DIR, `${file}.gz`));
    expect(gzipped.length).toBeGreaterThan(1000);
    expect(gzipped.length).toBeLessThanOrEqual(WIDGET_GZIP_BUDGET_BYTES);
  });

  it('is one module that imports nothing, and its .gz is the same file', () => {
    const source = readFileSync(join(WEB_ASSETS_DIR, file!), 'utf8');
    expect(gunzipSync(readFileSync(join(WEB_ASSETS_DIR, `${file}.gz`))).toString('utf8')).toBe(source);
    expect(source).not.toMatch(/\bimport\s*[("'{*]|\bimport\s+\w/);
    expect(source).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
    expect(source).toContain('meldingskanal-feed');
  });
});

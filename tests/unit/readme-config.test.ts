/** The README's configuration table is exactly the one generated from src/config.ts (`npm run config:docs`). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configTableMarkdown, SETTINGS } from '../../src/config.js';
import { PROJECT_ROOT } from '../../src/paths.js';

describe('README configuration table', () => {
  it('matches configTableMarkdown() — regenerate with `npm run config:docs` when a setting changes', async () => {
    const readme = await readFile(join(PROJECT_ROOT, 'README.md'), 'utf8');
    const table = configTableMarkdown();
    expect(readme).toContain(table);
    // Exactly that table: no second, hand-edited copy and no stray row for a removed setting.
    const rows = readme.split('\n').filter((line) => /^\| `[A-Z][A-Z0-9_]*` \|/.test(line));
    expect(rows).toEqual(table.split('\n').slice(2));
    expect(rows).toHaveLength(Object.keys(SETTINGS).length);
  });
});

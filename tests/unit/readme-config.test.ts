/**
 * The README's configuration table is the one generated from src/config.ts (`npm run config:docs`), so the docs
 * cannot drift from the code. Compared cell by cell: the formatter (Biome) pads Markdown tables to align them, which
 * changes the spacing but never a cell.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configTableMarkdown, SETTINGS } from '../../src/config.js';
import { PROJECT_ROOT } from '../../src/paths.js';

const START = '<!-- config-table:start -->';
const END = '<!-- config-table:end -->';

/** Rows of a Markdown table as trimmed cells, without the |---| separator row. */
function tableCells(markdown: string): string[][] {
  return markdown
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('|') && !/^\|[\s:|-]+\|$/.test(line))
    .map((line) =>
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    );
}

describe('README configuration table', () => {
  it('has exactly the rows configTableMarkdown() generates — regenerate with `npm run config:docs`', async () => {
    const readme = await readFile(join(PROJECT_ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf(START);
    const end = readme.indexOf(END);
    expect(start, `README.md must contain ${START}`).toBeGreaterThan(-1);
    expect(end, `README.md must contain ${END} after ${START}`).toBeGreaterThan(start);

    const documented = tableCells(readme.slice(start + START.length, end));
    expect(documented).toEqual(tableCells(configTableMarkdown()));
    expect(documented).toHaveLength(Object.keys(SETTINGS).length + 1); // + the header row
    // No second, hand-edited copy of a setting's row elsewhere in the README.
    const outside = readme.slice(0, start) + readme.slice(end);
    expect(outside).not.toMatch(/^\| *`[A-Z][A-Z0-9_]*` *\|/m);
  });
});

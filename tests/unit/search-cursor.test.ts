/** The search (rank, id) and directory (title, slug) cursors: round trips, and refusal of anything else. */
import { describe, expect, it } from 'vitest';
import {
  decodeDirectoryCursor,
  decodeSearchCursor,
  encodeChannelCursor,
  encodeDirectoryCursor,
  encodeSearchCursor,
} from '../../src/domain/cursor.js';
import { AppError } from '../../src/domain/errors.js';

const raw = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const ID = '0f8fad5b-d9cb-469f-a165-70867728950e';

function expectInvalid(attempt: () => unknown) {
  expect(attempt).toThrow(AppError);
  try {
    attempt();
  } catch (error) {
    expect((error as AppError).code).toBe('invalid_cursor');
  }
}

describe('search cursors', () => {
  it('round-trip the rank text and the id', () => {
    for (const rank of ['0.1', '1', '2.4e-05', '0.30000001']) {
      expect(decodeSearchCursor(encodeSearchCursor({ rank, id: ID }))).toEqual({ rank, id: ID });
    }
    expect(decodeSearchCursor(encodeSearchCursor({ rank: '1', id: ID.toUpperCase() })).id).toBe(ID);
  });

  it('refuse ranks that are no number, ids that are no UUID, and cursors of other listings', () => {
    for (const r of ['', 'NaN', 'Infinity', '1; DROP TABLE x', '1'.repeat(33), 1]) {
      expectInvalid(() => decodeSearchCursor(raw({ k: 'se', r, i: ID })));
    }
    expectInvalid(() => decodeSearchCursor(raw({ k: 'se', r: '1', i: 'not-a-uuid' })));
    expectInvalid(() => decodeSearchCursor(encodeDirectoryCursor({ title: 'A', slug: 'a' })));
    expectInvalid(() => decodeSearchCursor(encodeChannelCursor({ slug: 'a' })));
  });
});

describe('directory cursors', () => {
  it('round-trip the title and slug, including an empty title and Norwegian letters', () => {
    for (const title of ['', 'Økonomi og lønn', 'A "quoted" title']) {
      expect(decodeDirectoryCursor(encodeDirectoryCursor({ title, slug: 'x-1' }))).toEqual({ title, slug: 'x-1' });
    }
  });

  it('refuse malformed values and cursors of other listings', () => {
    expectInvalid(() => decodeDirectoryCursor(raw({ k: 'di', t: 'A', s: '' })));
    expectInvalid(() => decodeDirectoryCursor(raw({ k: 'di', t: 'x'.repeat(201), s: 'a' })));
    expectInvalid(() => decodeDirectoryCursor(raw({ k: 'di', t: 1, s: 'a' })));
    expectInvalid(() => decodeDirectoryCursor(encodeSearchCursor({ rank: '1', id: ID })));
  });
});

import { describe, expect, it } from 'vitest';
import {
  decodeAnnouncementCursor,
  decodeChannelCursor,
  decodeTokenCursor,
  decodeUserCursor,
  encodeAnnouncementCursor,
  encodeChannelCursor,
  encodeTokenCursor,
  encodeUserCursor,
} from '../../src/domain/cursor.js';
import { AppError } from '../../src/domain/errors.js';

const raw = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function expectInvalid(attempt: () => unknown) {
  try {
    attempt();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('invalid_cursor');
    expect((error as AppError).status).toBe(400);
    return;
  }
  throw new Error('expected invalid_cursor');
}

describe('channel cursors', () => {
  it('round-trip the slug as an opaque base64url string', () => {
    const cursor = encodeChannelCursor({ slug: 'bott-sa' });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(cursor).not.toContain('bott-sa');
    expect(decodeChannelCursor(cursor)).toEqual({ slug: 'bott-sa' });
  });

  it('reject garbage, wrong kinds and wrong shapes', () => {
    for (const bad of [
      '',
      'not base64!',
      'e30=', // padding is not base64url
      raw('just a string'),
      raw([1, 2]),
      raw(null),
      raw({ s: 'x' }),
      raw({ k: 'an', s: 'x' }),
      raw({ k: 'ch', s: 7 }),
      raw({ k: 'ch', s: '' }),
      raw({ k: 'ch', s: 'x'.repeat(65) }),
      'x'.repeat(513),
      Buffer.from('{"k":"ch",').toString('base64url'),
    ]) {
      expectInvalid(() => decodeChannelCursor(bad));
    }
  });
});

describe('announcement cursors', () => {
  const key = { publishedAt: new Date('2026-03-01T10:15:30.123Z'), id: '0f8fad5b-d9cb-469f-a165-70867728950e' };

  it('round-trip publishedAt to the millisecond and the id', () => {
    const decoded = decodeAnnouncementCursor(encodeAnnouncementCursor(key));
    expect(decoded.publishedAt.toISOString()).toBe('2026-03-01T10:15:30.123Z');
    expect(decoded.id).toBe(key.id);
  });

  it('reject bad times, bad ids and channel cursors', () => {
    for (const bad of [
      encodeChannelCursor({ slug: 'x' }),
      raw({ k: 'an', p: 'yesterday', i: key.id }),
      raw({ k: 'an', p: '2026-13-45T99:99:99.999Z', i: key.id }),
      raw({ k: 'an', p: key.publishedAt.toISOString(), i: 'not-a-uuid' }),
      raw({ k: 'an', p: key.publishedAt.toISOString() }),
      raw({ k: 'an', i: key.id }),
    ]) {
      expectInvalid(() => decodeAnnouncementCursor(bad));
    }
  });
});

describe('the admin lists’ cursors (people by name, tokens newest first)', () => {
  const id = '0d5f1c5e-8a4b-4c1e-9f3a-2b7c6d5e4f3a';

  it('round-trip name and id, and time and id', () => {
    expect(decodeUserCursor(encodeUserCursor({ name: 'Åse Ødegård', id: id.toUpperCase() }))).toEqual({
      name: 'Åse Ødegård',
      id,
    });
    const createdAt = new Date('2026-12-07T09:30:00.123Z');
    expect(decodeTokenCursor(encodeTokenCursor({ createdAt, id }))).toEqual({ createdAt, id });
  });

  it('reject each other, other kinds and bad parts', () => {
    const token = encodeTokenCursor({ createdAt: new Date(), id });
    expectInvalid(() => decodeUserCursor(token));
    expectInvalid(() => decodeTokenCursor(encodeUserCursor({ name: 'x', id })));
    expectInvalid(() => decodeUserCursor(encodeChannelCursor({ slug: 'bott-sa' })));
    expectInvalid(() => decodeUserCursor(raw({ k: 'us', n: 'x', i: 'not-a-uuid' })));
    expectInvalid(() => decodeUserCursor(raw({ k: 'us', n: 'x'.repeat(201), i: id })));
    expectInvalid(() => decodeTokenCursor(raw({ k: 'tk', c: '2026-12-07', i: id })));
  });
});

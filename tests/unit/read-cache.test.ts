import { describe, expect, it } from 'vitest';
import { ALL_CHANNELS } from '../../src/db/read-notifications.js';
import { ReadCache } from '../../src/services/read-cache.js';

function cache(options: { ttlMs?: number; maxBytes?: number; listening?: () => boolean } = {}) {
  return new ReadCache(
    { ttlMs: options.ttlMs ?? 60_000, maxBytes: options.maxBytes ?? 1000 },
    options.listening ?? (() => true),
  );
}

describe('ReadCache', () => {
  it('keeps an entry until a notification for one of its channels', () => {
    const c = cache();
    c.store(c.begin(), 'k', 'page', { bytes: 10, dependencies: ['ch1', 'ch2'] });
    c.store(c.begin(), 'other', 'x', { bytes: 10, dependencies: ['ch3'] });
    expect(c.get('k')).toBe('page');
    c.invalidate('ch2');
    expect(c.get('k')).toBeUndefined();
    expect(c.get('other')).toBe('x');
  });

  it('drops entries that depend on every channel at any notification, and everything at "*"', () => {
    const c = cache();
    c.store(c.begin(), 'all', 'combined', { bytes: 10, dependencies: ALL_CHANNELS });
    c.store(c.begin(), 'one', 'page', { bytes: 10, dependencies: ['ch1'] });
    c.invalidate('ch9');
    expect(c.get('all')).toBeUndefined();
    expect(c.get('one')).toBe('page');
    c.invalidate(ALL_CHANNELS);
    expect(c.get('one')).toBeUndefined();
  });

  it('refuses to store what was read before a notification that came during the reads', () => {
    const c = cache();
    const token = c.begin();
    c.invalidate('unrelated-channel');
    expect(c.store(token, 'k', 'stale?', { bytes: 10, dependencies: ['ch1'] })).toBe(false);
    expect(c.get('k')).toBeUndefined();
    expect(c.store(c.begin(), 'k', 'fresh', { bytes: 10, dependencies: ['ch1'] })).toBe(true);
  });

  it('ends an entry at its validUntil and after the TTL', async () => {
    const c = cache({ ttlMs: 40 });
    c.store(c.begin(), 'soon', 'a', { bytes: 1, dependencies: ['ch'], validUntil: Date.now() + 5 });
    c.store(c.begin(), 'ttl', 'b', { bytes: 1, dependencies: ['ch'] });
    expect(c.store(c.begin(), 'past', 'c', { bytes: 1, dependencies: ['ch'], validUntil: Date.now() - 1 })).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(c.get('soon')).toBeUndefined();
    expect(c.get('ttl')).toBe('b');
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(c.get('ttl')).toBeUndefined();
  });

  it('holds at most maxBytes, dropping the least recently read first', () => {
    const c = cache({ maxBytes: 100 });
    c.store(c.begin(), 'a', 'a', { bytes: 40, dependencies: ['ch'] });
    c.store(c.begin(), 'b', 'b', { bytes: 40, dependencies: ['ch'] });
    c.get('a');
    c.store(c.begin(), 'c', 'c', { bytes: 40, dependencies: ['ch'] });
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBe('a');
    expect(c.get('c')).toBe('c');
    expect(c.stats().bytes).toBe(80);
    expect(c.store(c.begin(), 'huge', 'h', { bytes: 101, dependencies: ['ch'] })).toBe(false);
  });

  it('serves and stores nothing while notifications are not known to arrive, or with a TTL of 0', () => {
    let listening = true;
    const c = cache({ listening: () => listening });
    c.store(c.begin(), 'k', 'v', { bytes: 1, dependencies: ['ch'] });
    listening = false;
    expect(c.get('k')).toBeUndefined();
    expect(c.store(c.begin(), 'j', 'v', { bytes: 1, dependencies: ['ch'] })).toBe(false);
    const off = cache({ ttlMs: 0 });
    expect(off.enabled).toBe(false);
    expect(off.store(off.begin(), 'k', 'v', { bytes: 1, dependencies: ['ch'] })).toBe(false);
  });
});

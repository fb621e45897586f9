/**
 * The API process's cache of what anonymous and signed-in readers read most: the newest page of a channel (per
 * audience scope and language), its feed documents, the channel row behind a slug, and the finished HTML of the pages
 * anonymous readers open most (src/web/page-cache.ts). A hit costs no query at all.
 *
 * Correctness comes from PostgreSQL, not from the code paths that write (src/db/read-notifications.ts): triggers
 * announce every change of announcements, their parts and stats, channels, authors' names and organisations' codes,
 * at commit, to every API process. Each entry names the channels it was read from (or depends on all of them), and a
 * notification drops the entries of its channel. Three more rules close the gaps:
 *
 * - **No store across a change.** `begin()` takes the cache's generation before the reads; `store()` keeps the result
 *   only if no notification arrived meanwhile (a page read just before a publication committed would otherwise be
 *   kept after the publication's notification had already passed).
 * - **Time.** An entry also ends at the first moment its content changes by itself — the next `expiresAt` or
 *   `pinnedUntil` among the channel's announcements (`validUntil`) — and after READ_CACHE_TTL_MS in any case.
 * - **Only while listening.** While the LISTEN connection is down, or its heartbeat is late, nothing is served from
 *   the cache or stored in it; every (re)connect starts from an empty cache.
 *
 * Bounded by READ_CACHE_MAX_BYTES (entry sizes as their owners report them), least recently used first out.
 */
import { ALL_CHANNELS, type ReadNotificationLog, ReadNotifications } from '../db/read-notifications.js';

export interface ReadCacheOptions {
  /** READ_CACHE_TTL_MS: the longest an entry is kept; 0 turns the cache off. */
  ttlMs: number;
  /** READ_CACHE_MAX_BYTES. */
  maxBytes: number;
}

/** What an entry depends on: the ids of the channels it was read from, or every channel. */
export type Dependencies = readonly string[] | typeof ALL_CHANNELS;

interface Entry {
  value: unknown;
  bytes: number;
  expiresAt: number;
  dependencies: Dependencies;
}

/** The moment `begin()` was called, to hand to `store()`. */
export interface ReadToken {
  readonly generation: number;
}

export class ReadCache {
  private readonly entries = new Map<string, Entry>();
  /** channel id → keys of the entries that depend on it. */
  private readonly byChannel = new Map<string, Set<string>>();
  /** Keys of entries that depend on every channel. */
  private readonly onAll = new Set<string>();
  private bytes = 0;
  private generation = 0;
  private hits = 0;
  private misses = 0;

  constructor(
    private readonly options: ReadCacheOptions,
    /** Whether change notifications are known to arrive now (ReadNotifications.listening). */
    private readonly isListening: () => boolean,
  ) {}

  get enabled(): boolean {
    return this.options.ttlMs > 0 && this.isListening();
  }

  /** The entry under `key`, or undefined (absent, expired, or the cache cannot be trusted now). */
  get<T>(key: string): T | undefined {
    if (!this.enabled) return undefined;
    const entry = this.entries.get(key);
    if (!entry) {
      this.misses += 1;
      return undefined;
    }
    if (entry.expiresAt <= Date.now()) {
      this.remove(key);
      this.misses += 1;
      return undefined;
    }
    // Most recently used last: Map keeps insertion order.
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.hits += 1;
    return entry.value as T;
  }

  /** Call before reading what will be stored. */
  begin(): ReadToken {
    return { generation: this.generation };
  }

  /**
   * Keeps `value` under `key` if nothing changed since `token` was taken; `validUntil` (ms since the epoch) ends it
   * early. Returns whether it was kept.
   */
  store(
    token: ReadToken,
    key: string,
    value: unknown,
    options: { bytes: number; dependencies: Dependencies; validUntil?: number | null },
  ): boolean {
    if (!this.enabled || token.generation !== this.generation) return false;
    if (options.bytes > this.options.maxBytes) return false;
    const expiresAt = Math.min(Date.now() + this.options.ttlMs, options.validUntil ?? Number.POSITIVE_INFINITY);
    if (expiresAt <= Date.now()) return false;
    this.remove(key);
    this.entries.set(key, { value, bytes: options.bytes, expiresAt, dependencies: options.dependencies });
    this.bytes += options.bytes;
    if (options.dependencies === ALL_CHANNELS) this.onAll.add(key);
    else {
      for (const channel of options.dependencies) {
        let keys = this.byChannel.get(channel);
        if (!keys) {
          keys = new Set();
          this.byChannel.set(channel, keys);
        }
        keys.add(key);
      }
    }
    for (const oldest of this.entries.keys()) {
      if (this.bytes <= this.options.maxBytes) break;
      this.remove(oldest);
    }
    return true;
  }

  /** A change notification: drops what depends on `channel` (a channel id, or ALL_CHANNELS for everything). */
  invalidate(channel: string): void {
    this.generation += 1;
    if (channel === ALL_CHANNELS) {
      this.clear();
      return;
    }
    for (const key of [...(this.byChannel.get(channel) ?? []), ...this.onAll]) this.remove(key);
  }

  /** Forgets everything (and voids stores begun before). */
  clear(): void {
    this.generation += 1;
    this.entries.clear();
    this.byChannel.clear();
    this.onAll.clear();
    this.bytes = 0;
  }

  /** For metrics and tests. */
  stats(): { entries: number; bytes: number; hits: number; misses: number } {
    return { entries: this.entries.size, bytes: this.bytes, hits: this.hits, misses: this.misses };
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
    if (entry.dependencies === ALL_CHANNELS) this.onAll.delete(key);
    else {
      for (const channel of entry.dependencies) {
        const keys = this.byChannel.get(channel);
        keys?.delete(key);
        if (keys?.size === 0) this.byChannel.delete(channel);
      }
    }
  }
}

/** A ReadCache fed by PostgreSQL's change notifications; close() stops listening. */
export interface ListeningReadCache {
  cache: ReadCache;
  /** Resolves once the first LISTEN is confirmed (the cache is off until then). */
  ready: Promise<void>;
  close(): Promise<void>;
}

export function startReadCache(
  databaseUrl: string,
  options: ReadCacheOptions,
  log: ReadNotificationLog,
): ListeningReadCache {
  let cache!: ReadCache;
  if (options.ttlMs === 0) {
    cache = new ReadCache(options, () => false);
    return { cache, ready: Promise.resolve(), close: async () => {} };
  }
  const notifications = new ReadNotifications(
    databaseUrl,
    { onChange: (channel) => cache.invalidate(channel), onReset: () => cache.clear() },
    log,
  );
  cache = new ReadCache(options, () => notifications.listening);
  return { cache, ready: notifications.ready, close: () => notifications.close() };
}

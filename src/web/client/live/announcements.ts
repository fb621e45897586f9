/**
 * Keeping a list of announcements up to date from live frames, and merging REST pages: announcement frames are
 * upserts by `announcement.id` (a publication relayed twice may arrive under two positions, and an edit that widened
 * the audience reaches readers who never got the original), retractions removals by `announcementId`. Pure.
 */
import type { LiveAnnouncement } from './frames.js';

/**
 * The display order: pinned first, then newest first (by `publishedAt`; the id breaks ties so the order is stable).
 */
export function compareForDisplay(a: LiveAnnouncement, b: LiveAnnouncement): number {
  if (Boolean(a.pinned) !== Boolean(b.pinned)) return a.pinned ? -1 : 1;
  const byTime = (b.publishedAt ?? '').localeCompare(a.publishedAt ?? '');
  return byTime || a.id.localeCompare(b.id);
}

/**
 * The list with `item` added or replacing the one of the same id (which keeps its `pinned`: live frames do not
 * carry it), in display order.
 */
export function upsertAnnouncement<T extends LiveAnnouncement>(items: readonly T[], item: T): T[] {
  const known = items.find((existing) => existing.id === item.id);
  const next = known && item.pinned === undefined ? { ...item, pinned: known.pinned } : item;
  return [...items.filter((existing) => existing.id !== item.id), next].sort(compareForDisplay);
}

/** The list without the announcement `id`. */
export function removeAnnouncement<T extends LiveAnnouncement>(items: readonly T[], id: string): T[] {
  return items.filter((item) => item.id !== id);
}

/** Several REST pages (one per channel, say) as one list in display order, each announcement once. */
export function mergeAnnouncements<T extends LiveAnnouncement>(pages: readonly (readonly T[])[]): T[] {
  const byId = new Map<string, T>();
  for (const page of pages) {
    for (const item of page) {
      const known = byId.get(item.id);
      byId.set(item.id, known?.pinned && !item.pinned ? known : item);
    }
  }
  return [...byId.values()].sort(compareForDisplay);
}

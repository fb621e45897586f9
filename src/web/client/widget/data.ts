/**
 * What the widget reads over REST from the service: the channels' latest announcements and, on the service's own
 * site, the signed-in reader's unread count. Reads from another origin are CORS requests without credentials
 * (src/http/plugins/cors.ts): anonymous, public channels only. On the service's own origin the session cookie goes
 * along (`credentials: 'same-origin'`), so a signed-in reader also sees the internal channels they may read.
 */
import { mergeAnnouncements } from '../live/announcements.js';
import type { LiveAnnouncement } from '../live/frames.js';
import type { WidgetSettings } from './settings.js';

export interface LoadedFeed {
  /** Display order, at most `limit`. */
  items: LiveAnnouncement[];
  /** Slugs the service answered 404 for: no such channel, or one this reader may not read. */
  missing: string[];
  /** The channel's title, when the widget shows one channel. */
  title: string | undefined;
}

/** An HTTP status other than 2xx and 404: worth trying again later. */
export class LoadError extends Error {}

async function getJson(url: string, signal: AbortSignal): Promise<unknown> {
  const response = await fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' }, signal });
  if (response.status === 404) return undefined;
  if (!response.ok) throw new LoadError(`${url} answered ${response.status}`);
  return response.json();
}

/**
 * The latest announcements of every channel (one request per channel, or per channel and importance when the widget
 * shows some importances only: the API filters by one), merged: pinned first, then newest first.
 */
export async function loadFeed(service: string, settings: WidgetSettings, signal: AbortSignal): Promise<LoadedFeed> {
  const missing = new Set<string>();
  const pages = await Promise.all(
    settings.channels.flatMap((slug) =>
      (settings.importances ?? [undefined]).map(async (importance) => {
        const query = new URLSearchParams({ limit: String(settings.limit), lang: settings.language });
        if (importance) query.set('importance', importance);
        const page = (await getJson(
          `${service}/api/v1/channels/${encodeURIComponent(slug)}/announcements?${query}`,
          signal,
        )) as { items: LiveAnnouncement[] } | undefined;
        if (!page) missing.add(slug);
        return page?.items ?? [];
      }),
    ),
  );
  let title: string | undefined;
  const [only] = settings.channels;
  if (settings.channels.length === 1 && !settings.heading && only && !missing.has(only)) {
    const channel = (await getJson(`${service}/api/v1/channels/${encodeURIComponent(only)}`, signal)) as
      | { title?: string }
      | undefined;
    title = channel?.title;
  }
  return { items: mergeAnnouncements(pages).slice(0, settings.limit), missing: [...missing], title };
}

/**
 * The reader's unread announcements in these channels, or undefined when nobody is signed in (the endpoint answers
 * 401) or the count cannot be read. Only on the service's own origin: elsewhere the session cookie is not sent.
 */
export async function loadUnread(service: string, channels: readonly string[], signal: AbortSignal) {
  const response = await fetch(`${service}/api/v1/me/unread`, {
    credentials: 'same-origin',
    headers: { accept: 'application/json' },
    signal,
  });
  if (!response.ok) return undefined;
  const counts = (await response.json()) as { byChannel: { channel: string; unread: number }[] };
  return counts.byChannel.filter((entry) => channels.includes(entry.channel)).reduce((sum, e) => sum + e.unread, 0);
}

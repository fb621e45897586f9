/**
 * One widget's life: load the latest announcements over REST, keep them current from the live connection, show
 * the unread count on the service's own site, and tell screen readers about new ones.
 *
 * - The live connection opens first, and the first REST load starts once it is subscribed (or after
 *   FIRST_LOAD_WAIT_MS, and again once it is); frames that arrive while a load is under way are held and applied on
 *   top of its result (they are upserts and removals, so applying one the load already reflects changes nothing).
 *   So nothing published between the subscription and the REST read is lost, and the live client resumes from its
 *   last position after every reconnection (or asks for a reload when it cannot).
 * - A `reset` (the server cannot replay what was missed), access taken away, or an announcement removed from a full
 *   list (another should take its place) reloads over REST.
 * - A failed load says so, with a retry button, and tries again by itself with back-off.
 * - New announcements are highlighted (not with reduced motion) and said politely; critical ones assertively.
 *   Announcements past their `expiresAt` disappear when it passes.
 */

import { WEB_PATHS } from '../../paths.js';
import { removeAnnouncement, upsertAnnouncement } from '../live/announcements.js';
import { reconnectDelay } from '../live/backoff.js';
import { openLive } from '../live/browser.js';
import type { LiveConnection } from '../live/connection.js';
import type { LiveAnnouncement, ServerFrame } from '../live/frames.js';
import { loadFeed, loadUnread } from './data.js';
import type { WidgetSettings } from './settings.js';
import { buildView } from './view.js';
import { wordsFor } from './words.js';

/**
 * How long the first load waits for the live subscription. Loading after it is subscribed means nothing published
 * in between can fall between the two; a connection that takes longer must not keep the announcements from showing
 * (they are loaded again once it is up).
 */
const FIRST_LOAD_WAIT_MS = 1500;

/** How long a lost connection must stay lost before the widget says so (a blip reconnects within a second). */
const OFFLINE_NOTICE_MS = 4000;

/** The widget's container is "wide" from this many of its own em: each announcement becomes two columns. */
const WIDE_EM = 34;

/** The longest a timer may wait (setTimeout's limit). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface Feed {
  stop(): void;
}

export function startFeed(host: HTMLElement, root: ShadowRoot, settings: WidgetSettings, service: string): Feed {
  const words = wordsFor(settings.language);
  const t = words.t;
  const view = buildView(root, settings, words, service);
  const sameSite = service === location.origin;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const later = (run: () => void, ms: number) => {
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        run();
      },
      Math.min(ms, MAX_TIMER_MS),
    );
    timers.add(timer);
    return timer;
  };
  const abort = new AbortController();
  let stopped = false;

  const resize = new ResizeObserver(([entry]) => {
    const em = Number.parseFloat(getComputedStyle(host).fontSize) || 16;
    const wide = (entry?.contentRect.width ?? 0) >= WIDE_EM * em;
    const width = wide ? 'wide' : 'narrow';
    if (view.container.dataset.width !== width) view.container.dataset.width = width;
  });
  resize.observe(host);

  view.setHeading(settings.heading ?? t('widget.heading'));
  if (!settings.channels.length) {
    view.setStatus(t('widget.notConfigured'));
    return { stop: () => resize.disconnect() };
  }
  const [onlyChannel] = settings.channels;
  view.setFooter(
    settings.channels.length === 1 && onlyChannel
      ? t('widget.moreInChannel', { channel: onlyChannel })
      : t('widget.moreEverywhere'),
    `${service}${settings.channels.length === 1 && onlyChannel ? WEB_PATHS.channel(onlyChannel) : WEB_PATHS.home}`,
  );

  let items: LiveAnnouncement[] = [];
  /** Frames held while a load is under way (undefined: none is). */
  let held: ServerFrame[] | undefined = [];
  let loadState: 'loading' | 'ready' | 'failed' | 'missing' = 'loading';
  let loadAttempts = 0;
  let offline = false;
  let offlineTimer: ReturnType<typeof setTimeout> | undefined;
  let expiryTimer: ReturnType<typeof setTimeout> | undefined;
  let fresh = new Set<string>();
  let said: { polite: string[]; assertive: string[] } = { polite: [], assertive: [] };
  let renderQueued = false;

  const showStatus = () => {
    if (loadState === 'missing') return view.setStatus(t('widget.notFound'));
    if (loadState === 'failed') return view.setStatus(t('widget.failed'), reload);
    if (offline) return view.setStatus(t('widget.offline'));
    if (loadState === 'loading' && !items.length) return view.setStatus(t('widget.loading'));
    view.setStatus(loadState === 'ready' && !visible().length ? t('widget.empty') : '');
  };

  const visible = () => {
    const now = Date.now();
    return items.filter((a) => !a.expiresAt || Date.parse(a.expiresAt) > now);
  };

  /** Renders once per burst of frames (a replay brings many at a time). */
  const queueRender = () => {
    if (renderQueued) return;
    renderQueued = true;
    queueMicrotask(() => {
      renderQueued = false;
      if (stopped) return;
      const shown = visible();
      view.render(shown, fresh);
      fresh = new Set();
      if (said.assertive.length) view.announce(said.assertive.join(' '), true);
      if (said.polite.length) view.announce(said.polite.join(' '), false);
      said = { polite: [], assertive: [] };
      showStatus();
      clearTimeout(expiryTimer);
      const next = Math.min(...items.map((a) => (a.expiresAt ? Date.parse(a.expiresAt) : Number.POSITIVE_INFINITY)));
      if (Number.isFinite(next)) expiryTimer = later(queueRender, next - Date.now() + 50);
    });
  };

  let unreadTimer: ReturnType<typeof setTimeout> | undefined;
  /** The unread badge, on the service's own site (the session cookie is sent only there). */
  const refreshUnread = () => {
    if (!sameSite || stopped) return;
    clearTimeout(unreadTimer);
    unreadTimer = later(() => {
      loadUnread(service, settings.channels, abort.signal)
        .then((count) => view.setBadge(count))
        .catch(() => {});
    }, 200);
  };

  let reloadTimer: ReturnType<typeof setTimeout> | undefined;
  /** Loads again soon (several reasons in a burst make one load). */
  const reloadSoon = () => {
    clearTimeout(reloadTimer);
    reloadTimer = later(reload, 100);
  };

  let loadStarted = false;
  function reload() {
    if (stopped) return;
    loadStarted = true;
    clearTimeout(reloadTimer);
    held ??= [];
    // What readers had before this load: announcements that a held frame brings and they did not have are new to
    // them (the first load tells nobody anything: everything is new).
    const previous = loadState === 'ready' ? items : undefined;
    loadState = items.length ? loadState : 'loading';
    showStatus();
    loadFeed(service, settings, abort.signal).then(
      (loaded) => {
        if (stopped) return;
        loadAttempts = 0;
        if (loaded.title && !settings.heading) view.setHeading(loaded.title);
        if (loaded.title && onlyChannel) {
          view.setFooter(
            t('widget.moreInChannel', { channel: loaded.title }),
            `${service}${WEB_PATHS.channel(onlyChannel)}`,
          );
        }
        items = loaded.items;
        const before = previous && new Set(previous.map((a) => a.id));
        if (previous && before) {
          // Newer than anything shown before (a reset, say, brings what was missed over REST): new to readers.
          const newest =
            previous
              .map((a) => a.publishedAt ?? '')
              .sort()
              .pop() ?? '';
          for (const announcement of items) {
            if (!before.has(announcement.id) && (announcement.publishedAt ?? '') > newest) tell(announcement);
            before.add(announcement.id);
          }
        }
        loadState = loaded.missing.length === settings.channels.length ? 'missing' : 'ready';
        const pending = held ?? [];
        held = undefined;
        for (const frame of pending) apply(frame, before);
        queueRender();
        refreshUnread();
      },
      () => {
        if (stopped) return;
        loadState = 'failed';
        showStatus();
        later(reload, reconnectDelay(loadAttempts++));
      },
    );
  }

  const wanted = (announcement: LiveAnnouncement) =>
    settings.channels.includes(announcement.channel) &&
    (!settings.importances || settings.importances.includes(announcement.importance));

  /**
   * One live frame, applied to the list. `shownBefore`: the announcements readers have seen (undefined: tell
   * nobody, the first load is under way); a frame that brings another one is said to screen readers.
   */
  function apply(frame: ServerFrame, shownBefore: Set<string> | undefined) {
    if (frame.type === 'announcement.published' || frame.type === 'announcement.updated') {
      const announcement = frame.announcement;
      const speak = shownBefore !== undefined;
      if (!wanted(announcement)) {
        // An edit changed its importance out of the filter.
        if (items.some((a) => a.id === announcement.id)) remove(announcement.id);
        return;
      }
      items = upsertAnnouncement(items, announcement).slice(0, settings.limit);
      const shown = items.some((a) => a.id === announcement.id);
      if (speak && shown && !shownBefore.has(announcement.id)) {
        tell(announcement);
        shownBefore.add(announcement.id);
      } else if (speak && shown && frame.type === 'announcement.updated' && frame.material) {
        said.polite.push(t('widget.announceChanged', { title: announcement.title }));
      }
      if (frame.type === 'announcement.published') refreshUnread();
    } else if (frame.type === 'announcement.retracted') {
      remove(frame.announcementId);
      refreshUnread();
    } else if (frame.type === 'read.changed' || frame.type === 'acknowledged') {
      refreshUnread();
    } else if (frame.type === 'unsubscribed' && frame.reason === 'access') {
      reloadSoon();
    }
  }

  /** Highlights a new announcement and says it: politely, or assertively when it is critical. */
  function tell(announcement: LiveAnnouncement) {
    fresh.add(announcement.id);
    const critical = announcement.importance === 'critical';
    const words = t(critical ? 'widget.announceCritical' : 'widget.announceNew', { title: announcement.title });
    (critical ? said.assertive : said.polite).push(words);
  }

  function remove(id: string) {
    const wasFull = items.length >= settings.limit;
    items = removeAnnouncement(items, id);
    // The next one down belongs in the list now.
    if (wasFull) reloadSoon();
  }

  let subscribedOnce = false;
  const firstLoadTimer = later(reload, FIRST_LOAD_WAIT_MS);
  showStatus();
  const live: LiveConnection = openLive({
    service,
    channels: settings.channels,
    lang: settings.language,
    transport: settings.transport,
    onFrame(frame) {
      if (held) held.push(frame);
      else {
        apply(frame, new Set(items.map((a) => a.id)));
        queueRender();
      }
    },
    onReset: () => reloadSoon(),
    onStatus(status) {
      view.container.dataset.live = status.state;
      view.container.dataset.transport = status.transport;
      if (status.state === 'live' && !subscribedOnce) {
        subscribedOnce = true;
        clearTimeout(firstLoadTimer);
        // Loaded before the subscription began: what was published in between is only in REST.
        if (loadStarted) reloadSoon();
        else reload();
      }
      if (status.state === 'live') {
        clearTimeout(offlineTimer);
        offlineTimer = undefined;
        if (offline) {
          offline = false;
          showStatus();
        }
        if (status.reconnected) refreshUnread();
      } else if (!offline && !offlineTimer) {
        offlineTimer = later(() => {
          offlineTimer = undefined;
          offline = true;
          showStatus();
        }, OFFLINE_NOTICE_MS);
      }
    },
  });

  return {
    stop() {
      stopped = true;
      abort.abort();
      live.close();
      resize.disconnect();
      for (const timer of timers) clearTimeout(timer);
    },
  };
}

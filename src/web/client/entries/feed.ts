/**
 * My feed, live (src/web/pages/my-feed.tsx): announcements published in my channels appear on top as they come,
 * through the shared live client (../live/), built from the page's `<template>` (text only: every value goes in as
 * textContent or an attribute, never as HTML); edits update them, retractions remove them; read-state changes from
 * my other tabs and devices (`read.changed`) mark them. The mark-read and mark-all-read forms are sent in place
 * (the same POST the form makes without JavaScript, whose 303 is not followed), and the unread count follows.
 */
import { openLive, type ServerFrame } from '../live/index.js';

/** The announcement fields a card shows: the frame carries the REST announcement, of which these. */
interface FrameAnnouncement {
  id: string;
  channel: string;
  title: string;
  summary: string | null;
  importance: 'info' | 'important' | 'critical';
  type?: 'general' | 'maintenance' | 'incident' | 'release';
  resolves?: string | null;
  publishedAt: string | null;
  language: string;
}

const list = document.querySelector<HTMLUListElement>('[data-feed-list]');
const status = document.querySelector<HTMLElement>('[data-live-status]');
const template = document.querySelector<HTMLTemplateElement>('#feed-item-template');
const counter = document.querySelector<HTMLElement>('[data-unread-total]');
const pageLanguage = document.documentElement.lang || 'nb';

/** The feed's own paths (src/web/paths.ts: WEB_PATHS.announcement, channel, myFeedRead). */
const paths = {
  announcement: (id: string) => `/announcements/${encodeURIComponent(id)}`,
  channel: (slug: string) => `/channels/${encodeURIComponent(slug)}`,
  read: (id: string) => `/me/feed/${encodeURIComponent(id)}/read`,
};

/** Channel titles as the page shows them (the cards already on it name their channels). */
function channelTitle(slug: string): string {
  const link = document.querySelector<HTMLAnchorElement>(`.mk-meta a[href="${CSS.escape(paths.channel(slug))}"]`);
  return link?.textContent ?? slug;
}

function cardOf(id: string): HTMLElement | null {
  return list?.querySelector<HTMLElement>(`[data-announcement="${CSS.escape(id)}"]`) ?? null;
}

// ---- the unread count ----------------------------------------------------------------------------------------

let unread = Number(counter?.dataset.unreadTotal ?? 0);
const plurals = new Intl.PluralRules(pageLanguage);
const numbers = new Intl.NumberFormat(pageLanguage);

function setUnread(count: number): void {
  unread = Math.max(0, count);
  if (!counter) return;
  counter.dataset.unreadTotal = String(unread);
  const form = plurals.select(unread) === 'one' ? counter.dataset.unreadOne : counter.dataset.unreadOther;
  if (form) counter.textContent = form.replace('{count}', numbers.format(unread));
  const readAll = document.querySelector<HTMLFormElement>('[data-read-all-form]');
  if (readAll) readAll.hidden = unread === 0;
}

// ---- read state on a card ------------------------------------------------------------------------------------

function markCard(card: HTMLElement, read: boolean): void {
  const was = card.dataset.read === 'true';
  if (was === read) return;
  card.dataset.read = String(read);
  setUnread(unread + (read ? -1 : 1));
  const tag = card.querySelector<HTMLElement>('[data-tag="unread"]');
  if (tag) tag.hidden = read;
  const form = card.querySelector<HTMLFormElement>('[data-read-form]');
  const field = form?.querySelector<HTMLInputElement>('input[name="read"]');
  const button = form?.querySelector<HTMLButtonElement>('button');
  if (field) field.value = read ? 'false' : 'true';
  if (button) button.textContent = (read ? form?.dataset.labelUnread : form?.dataset.labelRead) ?? button.textContent;
}

/** Sends a form as the browser would, without following its 303 (a redirect means it was done). */
async function submitInPlace(form: HTMLFormElement): Promise<boolean> {
  const response = await fetch(form.action, {
    method: 'POST',
    credentials: 'same-origin',
    redirect: 'manual',
    headers: { accept: 'text/html' },
    body: new URLSearchParams(new FormData(form) as unknown as Record<string, string>),
  });
  return response.type === 'opaqueredirect' || response.ok;
}

document.addEventListener('submit', (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  const readForm = form.hasAttribute('data-read-form');
  const readAllForm = form.hasAttribute('data-read-all-form');
  if (!readForm && !readAllForm) return;
  event.preventDefault();
  const button = form.querySelector('button');
  if (button) button.disabled = true;
  submitInPlace(form)
    .then((done) => {
      if (!done) return form.submit();
      if (readAllForm) {
        for (const card of list?.querySelectorAll<HTMLElement>('[data-read="false"]') ?? []) markCard(card, true);
        setUnread(0);
      } else {
        const card = form.closest<HTMLElement>('[data-announcement]');
        const read = form.querySelector<HTMLInputElement>('input[name="read"]')?.value !== 'false';
        if (card) markCard(card, read);
      }
    })
    // Offline or refused: send it the ordinary way, so the person sees the server's answer.
    .catch(() => form.submit())
    .finally(() => {
      if (button) button.disabled = false;
    });
});

// ---- live items ----------------------------------------------------------------------------------------------

function fill(card: HTMLElement, announcement: FrameAnnouncement): void {
  const title = card.querySelector<HTMLAnchorElement>('[data-slot="title"]');
  if (title) {
    title.textContent = announcement.title;
    title.href = paths.announcement(announcement.id);
    if (announcement.language !== pageLanguage) title.lang = announcement.language;
  }
  const summary = card.querySelector<HTMLElement>('[data-slot="summary"]');
  if (summary) {
    summary.textContent = announcement.summary ?? '';
    summary.hidden = !announcement.summary;
  }
}

function buildCard(announcement: FrameAnnouncement): HTMLElement | null {
  const fragment = template?.content.cloneNode(true) as DocumentFragment | undefined;
  const card = fragment?.querySelector<HTMLElement>('li.mk-announcement');
  if (!card) return null;
  card.dataset.announcement = announcement.id;
  card.dataset.importance = announcement.importance;
  const kept = new Set(['unread']);
  if (announcement.importance !== 'info') kept.add(announcement.importance);
  if (announcement.resolves) kept.add('resolved');
  else if (announcement.type && announcement.type !== 'general') kept.add(announcement.type);
  for (const tag of card.querySelectorAll<HTMLElement>('[data-tag]')) {
    if (!kept.has(tag.dataset.tag ?? '')) tag.remove();
  }
  fill(card, announcement);
  const channel = card.querySelector<HTMLAnchorElement>('[data-slot="channel"]');
  if (channel) {
    channel.textContent = channelTitle(announcement.channel);
    channel.href = paths.channel(announcement.channel);
  }
  const time = card.querySelector<HTMLTimeElement>('[data-slot="time"]');
  if (time && announcement.publishedAt) time.dateTime = announcement.publishedAt;
  const form = card.querySelector<HTMLFormElement>('[data-slot="read-form"]');
  if (form) form.action = paths.read(announcement.id);
  return card;
}

function announce(text: string): void {
  if (status) status.textContent = text;
}

function onFrame(frame: ServerFrame): void {
  if (!list) return;
  switch (frame.type) {
    case 'announcement.published':
    case 'announcement.updated': {
      const announcement = frame.announcement as unknown as FrameAnnouncement;
      const known = cardOf(announcement.id);
      if (known) {
        fill(known, announcement);
        return;
      }
      // Only the first page shows the newest; a later page would put it out of order.
      if (!list.hasAttribute('data-first-page')) return;
      const card = buildCard(announcement);
      if (!card) return;
      list.prepend(card);
      document.querySelector<HTMLElement>('[data-feed-empty]')?.remove();
      setUnread(unread + 1);
      announce((template?.dataset.newText ?? '{title}').replace('{title}', announcement.title));
      return;
    }
    case 'announcement.retracted': {
      const card = cardOf(frame.announcementId);
      if (!card) return;
      if (card.dataset.read === 'false') setUnread(unread - 1);
      card.remove();
      return;
    }
    case 'read.changed': {
      const cards = frame.all
        ? [...list.querySelectorAll<HTMLElement>('[data-announcement]')]
        : (frame.announcementIds ?? []).map(cardOf).filter((card): card is HTMLElement => card !== null);
      for (const card of cards) markCard(card, frame.read);
      return;
    }
    default:
      return;
  }
}

const channels = (status?.dataset.liveChannels ?? '').split(',').filter(Boolean);
if (list && template && channels.length > 0) {
  openLive({
    service: location.origin,
    channels,
    lang: pageLanguage,
    onFrame,
    // What was missed cannot be replayed (or the session ended): the page itself is the fresh state.
    onReset: () => location.reload(),
    onStatus(live) {
      // For people nothing changes (new items say so themselves); for tests and styles, the connection's state.
      if (status) status.dataset.liveState = live.state;
      // Read state is not replayed: after a reconnection, the count is read again (marks on cards stay as they are).
      if (live.state === 'live' && live.reconnected) {
        fetch('/api/v1/me/unread', { credentials: 'same-origin', headers: { accept: 'application/json' } })
          .then((response) => (response.ok ? (response.json() as Promise<{ total: number }>) : null))
          .then((counts) => {
            if (counts) setUnread(counts.total);
          })
          .catch(() => {});
      }
    },
  });
}

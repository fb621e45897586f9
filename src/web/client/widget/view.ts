/**
 * The widget's markup, made with DOM calls (text always through textContent: announcement titles and summaries are
 * plain text and can never become markup). The structure, for assistive technology:
 *
 * ```html
 * <section part="container" lang="nb" aria-labelledby="h">
 *   <div part="header"><h2 part="heading" id="h">…</h2> <a part="badge">3 uleste</a></div>
 *   <p part="status" role="status">…</p> <button part="retry">Prøv igjen</button>
 *   <ul part="list">
 *     <li part="item item-critical"><h3 part="title"><a part="link" href="…/announcements/{id}">…</a></h3>
 *       <p part="meta"><time part="date" datetime="…">…</time> <span part="importance">Kritisk</span></p>
 *       <p part="summary">…</p></li>
 *   </ul>
 *   <p part="footer"><a part="more" href="…/channels/{slug}">Alle kunngjøringer fra …</a></p>
 *   <div aria-live="polite"></div> <div aria-live="assertive"></div>   (visually hidden)
 * </section>
 * ```
 *
 * The list is updated in place, keyed by announcement id: an item is rebuilt only when its content changed, and
 * items that stay are never moved, so keyboard focus on a link survives live updates.
 */

import { WEB_PATHS } from '../../paths.js';
import type { LiveAnnouncement } from '../live/frames.js';
import type { WidgetSettings } from './settings.js';
import type { WidgetWords } from './words.js';

export interface WidgetView {
  container: HTMLElement;
  setHeading(text: string): void;
  setBadge(count: number | undefined): void;
  /** The status line (loading, empty, failed, offline); empty text hides it. `retry`: show the retry button. */
  setStatus(text: string, retry?: () => void): void;
  setFooter(text: string, href: string): void;
  render(items: readonly LiveAnnouncement[], fresh: ReadonlySet<string>): void;
  /** Says `text` to screen readers: politely, or at once (`assertive`, for critical announcements). */
  announce(text: string, assertive: boolean): void;
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  part: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (part) node.setAttribute('part', part);
  if (text !== undefined) node.textContent = text;
  return node;
}

export function buildView(root: ShadowRoot, settings: WidgetSettings, words: WidgetWords, service: string): WidgetView {
  const container = element('section', `c${settings.layout === 'compact' ? ' compact' : ''}`, 'container');
  container.lang = words.language;
  container.setAttribute('aria-labelledby', 'mk-heading');
  const header = element('div', 'h', 'header');
  const heading = element(`h${settings.headingLevel}` as 'h2', 'hd', 'heading');
  heading.id = 'mk-heading';
  const badge = element('a', 'bd', 'badge');
  badge.href = `${service}${WEB_PATHS.myFeed}`;
  badge.hidden = true;
  header.append(heading, badge);
  const status = element('p', 'st', 'status');
  status.setAttribute('role', 'status');
  const retry = element('button', '', 'retry', words.t('widget.retry'));
  retry.type = 'button';
  retry.hidden = true;
  const list = element('ul', 'l', 'list');
  const footer = element('p', 'f', 'footer');
  const more = element('a', '', 'more');
  footer.append(more);
  footer.hidden = true;
  const polite = element('div', 'vh', '');
  polite.setAttribute('aria-live', 'polite');
  const assertive = element('div', 'vh', '');
  assertive.setAttribute('aria-live', 'assertive');
  const statusLine = element('div', '', '');
  statusLine.append(status, retry);
  container.append(header, statusLine, list, footer, polite, assertive);
  root.replaceChildren(container);

  const titleLevel = `h${Math.min(settings.headingLevel + 1, 6)}` as 'h3';
  const compact = settings.layout === 'compact';
  const built = new Map<string, { node: HTMLLIElement; signature: string }>();
  let retryHandler: (() => void) | undefined;
  retry.addEventListener('click', () => retryHandler?.());

  const item = (announcement: LiveAnnouncement, fresh: boolean): HTMLLIElement => {
    const { importance } = announcement;
    const parts = ['item'];
    if (importance !== 'info') parts.push(`item-${importance}`);
    if (announcement.pinned) parts.push('item-pinned');
    const node = element(
      'li',
      `i${importance === 'critical' ? ' crit' : importance === 'important' ? ' imp' : ''}${fresh ? ' new' : ''}`,
      parts.join(' '),
    );
    // An announcement not available in the widget's language comes in its original: say which one it is in.
    if (announcement.language !== words.language) node.lang = announcement.language;
    const title = element(titleLevel, 't', 'title');
    const link = element('a', '', 'link', announcement.title);
    link.href = `${service}${WEB_PATHS.announcement(announcement.id)}`;
    title.append(link);
    const meta = element('p', 'm', 'meta');
    if (announcement.publishedAt) {
      const time = element('time', '', 'date', words.date(announcement.publishedAt, compact));
      time.dateTime = announcement.publishedAt;
      time.lang = words.language;
      meta.append(time);
    }
    if (importance !== 'info') {
      const badgeText = words.t(
        importance === 'critical' ? 'widget.importance.critical' : 'widget.importance.important',
      );
      const label = element('span', 'b', 'importance', badgeText);
      label.lang = words.language;
      meta.append(label);
    }
    if (announcement.pinned) {
      const pinned = element('span', 'p', 'pinned', words.t('widget.pinned'));
      pinned.lang = words.language;
      meta.append(pinned);
    }
    node.append(title, meta);
    if (!compact && announcement.summary) node.append(element('p', 's', 'summary', announcement.summary));
    return node;
  };

  return {
    container,
    setHeading(text) {
      heading.textContent = text;
    },
    setBadge(count) {
      badge.hidden = !count;
      if (count) badge.textContent = words.t('widget.unread', { count });
    },
    setStatus(text, onRetry) {
      status.textContent = text;
      retryHandler = onRetry;
      retry.hidden = !onRetry;
    },
    setFooter(text, href) {
      more.textContent = text;
      more.href = href;
      footer.hidden = false;
    },
    render(items, fresh) {
      const wanted = new Set(items.map((a) => a.id));
      for (const [id, entry] of built) {
        if (!wanted.has(id)) {
          entry.node.remove();
          built.delete(id);
        }
      }
      items.forEach((announcement, index) => {
        const signature = JSON.stringify(announcement);
        let entry = built.get(announcement.id);
        if (!entry || entry.signature !== signature) {
          const node = item(announcement, fresh.has(announcement.id));
          if (entry) entry.node.replaceWith(node);
          entry = { node, signature };
          built.set(announcement.id, entry);
        }
        const at = list.children[index];
        if (at !== entry.node) list.insertBefore(entry.node, at ?? null);
      });
    },
    announce(text, urgent) {
      const region = urgent ? assertive : polite;
      // Emptied first, so the same words twice are said twice.
      region.textContent = '';
      setTimeout(() => {
        region.textContent = text;
      }, 50);
    },
  };
}

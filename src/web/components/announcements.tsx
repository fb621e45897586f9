/**
 * Announcements in lists (the front page, a channel, my feed): one card each, with its importance and type as tags,
 * when it was published, and its summary — the same everywhere, so a reader learns one shape. The title is the link
 * to the announcement's page; a heading of its own level (the list's section decides), so screen-reader users can
 * jump from one to the next. Also the keyset pagination these lists share.
 */
import type { ComponentChildren } from 'preact';
import type { AnnouncementType } from '../../domain/announcement.js';
import type { Importance } from '../../domain/types.js';
import type { AnnouncementView } from '../../services/views.js';
import type { PageContext } from '../context.js';
import type { MessageKey } from '../i18n/catalogue.js';
import { WEB_PATHS } from '../paths.js';

const IMPORTANCE_TAG: Record<Exclude<Importance, 'info'>, { color: string; label: MessageKey }> = {
  important: { color: 'warning', label: 'announcement.importance.important' },
  critical: { color: 'danger', label: 'announcement.importance.critical' },
};

const TYPE_LABEL: Record<AnnouncementType, MessageKey> = {
  general: 'announcement.type.general',
  maintenance: 'announcement.type.maintenance',
  incident: 'announcement.type.incident',
  release: 'announcement.type.release',
};

export function typeLabel(ctx: PageContext, type: AnnouncementType): string {
  return ctx.t(TYPE_LABEL[type]);
}

/** `<time>` with the machine-readable instant and the reader's way of writing it. */
export function Time({ ctx, value, relative }: { ctx: PageContext; value: string; relative?: boolean }) {
  const date = new Date(value);
  return (
    <time dateTime={value} title={relative ? ctx.dateTime(date) : undefined}>
      {relative ? ctx.relative(date, ctx.now) : ctx.dateTime(date)}
    </time>
  );
}

/** The tags of an announcement: importance (beyond info), type (beyond general), pinned, expired, unread. */
export function AnnouncementTags({
  ctx,
  announcement,
  unread,
}: {
  ctx: PageContext;
  announcement: Pick<AnnouncementView, 'importance' | 'type' | 'pinned' | 'expired' | 'resolves'>;
  unread?: boolean;
}) {
  const tags: { key: string; color: string; text: string }[] = [];
  if (unread) tags.push({ key: 'unread', color: 'accent', text: ctx.t('announcement.unread') });
  if (announcement.importance !== 'info') {
    const tag = IMPORTANCE_TAG[announcement.importance];
    tags.push({ key: 'importance', color: tag.color, text: ctx.t(tag.label) });
  }
  if (announcement.resolves) tags.push({ key: 'resolved', color: 'success', text: ctx.t('announcement.resolved') });
  else if (announcement.type !== 'general') {
    tags.push({ key: 'type', color: 'info', text: typeLabel(ctx, announcement.type) });
  }
  if (announcement.pinned) tags.push({ key: 'pinned', color: 'neutral', text: ctx.t('announcement.pinned') });
  if (announcement.expired) tags.push({ key: 'expired', color: 'neutral', text: ctx.t('announcement.expired') });
  if (tags.length === 0) return null;
  return (
    <ul class="mk-tags">
      {tags.map((tag) => (
        <li key={tag.key} data-tag={tag.key}>
          <span class="ds-tag" data-color={tag.color} data-size="sm">
            {tag.text}
          </span>
        </li>
      ))}
    </ul>
  );
}

/** Where and when a maintenance window or incident applies, as the reader writes dates. */
export function AffectedWindow({ ctx, announcement }: { ctx: PageContext; announcement: AnnouncementView }) {
  if (!announcement.affectedSystem && !announcement.startsAt) return null;
  return (
    <p class="mk-meta">
      {announcement.affectedSystem ? (
        <span>{ctx.t('announcement.affects', { system: announcement.affectedSystem })}</span>
      ) : null}
      {announcement.startsAt ? (
        <span>
          {ctx.t('announcement.window')} <Time ctx={ctx} value={announcement.startsAt} />
          {announcement.endsAt ? (
            <>
              {' – '}
              <Time ctx={ctx} value={announcement.endsAt} />
            </>
          ) : null}
        </span>
      ) : null}
    </p>
  );
}

export interface AnnouncementCardProps {
  ctx: PageContext;
  announcement: AnnouncementView;
  /** The heading level of the title: the list's section heading plus one. */
  headingLevel: 2 | 3;
  /** Lists that span channels name each item's channel. */
  channelTitle?: string | undefined;
  /** In my feed: unread items are marked (and bold). */
  read?: boolean;
  /** Controls below the card (mark read). */
  actions?: ComponentChildren;
}

export function AnnouncementCard(props: AnnouncementCardProps) {
  const { ctx, announcement: a } = props;
  const Heading = props.headingLevel === 2 ? 'h2' : 'h3';
  const otherLanguage = a.language !== ctx.language ? a.language : undefined;
  return (
    <li
      class="ds-card mk-announcement"
      data-importance={a.importance}
      data-read={props.read === undefined ? undefined : String(props.read)}
      data-announcement={a.id}
    >
      <AnnouncementTags ctx={ctx} announcement={a} unread={props.read === false} />
      <Heading class="ds-heading mk-announcement__title" data-size="xs">
        <a class="ds-link" href={WEB_PATHS.announcement(a.id)} lang={otherLanguage}>
          {a.title}
        </a>
      </Heading>
      <p class="mk-meta">
        {props.channelTitle ? (
          <a class="ds-link" href={WEB_PATHS.channel(a.channel)}>
            {props.channelTitle}
          </a>
        ) : null}
        {a.publishedAt ? (
          <span>
            {ctx.t('announcement.published')} <Time ctx={ctx} value={a.publishedAt} relative />
          </span>
        ) : null}
      </p>
      {a.summary ? (
        <p class="ds-paragraph" lang={otherLanguage}>
          {a.summary}
        </p>
      ) : null}
      <AffectedWindow ctx={ctx} announcement={a} />
      {props.actions}
    </li>
  );
}

/**
 * "Older" (the next keyset page) and, past the first page, "Newest" (the start). Keyset pages have no numbers and
 * no way back but to the start; the cursor is opaque. `hrefFor(cursor)` builds the page's own address with it.
 */
export function KeysetPagination({
  ctx,
  nextCursor,
  onLaterPage,
  hrefFor,
  order = 'time',
}: {
  ctx: PageContext;
  nextCursor: string | null;
  onLaterPage: boolean;
  hrefFor: (cursor: string | null) => string;
  /** `time`: newest first ("Older", "Newest"); `alphabet`: by name ("Next page", "First page"). */
  order?: 'time' | 'alphabet';
}) {
  if (!nextCursor && !onLaterPage) return null;
  return (
    <nav class="mk-pagination" aria-label={ctx.t('pagination.label')}>
      <ul class="mk-inline">
        {onLaterPage ? (
          <li>
            <a class="ds-button" data-variant="secondary" href={hrefFor(null)}>
              {ctx.t(order === 'time' ? 'pagination.newest' : 'pagination.first')}
            </a>
          </li>
        ) : null}
        {nextCursor ? (
          <li>
            <a class="ds-button" data-variant="secondary" href={hrefFor(nextCursor)} rel="next">
              {ctx.t(order === 'time' ? 'pagination.older' : 'pagination.next')}
            </a>
          </li>
        ) : null}
      </ul>
    </nav>
  );
}

/** `path` with these query parameters (undefined and null ones left out). */
export function withQuery(path: string, params: Record<string, string | null | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) query.set(name, value);
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

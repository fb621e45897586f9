/**
 * My feed (/me/feed): the announcements of every channel I subscribe to, newest first, unread ones marked, each with
 * a POST form to mark it read (or unread) and one to mark everything read — forms that work without JavaScript.
 * With it, entries/feed.ts adds announcements as they are published (live updates) and sends those forms in place.
 *
 * New items are built in the browser from the `<template>` below: the server writes the card once in the page's
 * language with empty slots, and the script fills them with text (never HTML) from the live frame.
 */
import type { FeedItemView, UnreadCountsView } from '../../services/reading.js';
import { AnnouncementCard, KeysetPagination, withQuery } from '../components/announcements.js';
import { Alert, Button, CsrfField } from '../components/forms.js';
import type { PageContext } from '../context.js';
import { CATALOGUE, type MessageKey } from '../i18n/catalogue.js';
import { Layout, PageHeading } from '../layout.js';
import { WEB_PATHS } from '../paths.js';

export const FEED_DONE = ['read', 'unread', 'all-read'] as const;
export type FeedDone = (typeof FEED_DONE)[number];

const DONE_MESSAGE: Record<FeedDone, MessageKey> = {
  read: 'feed.markedRead',
  unread: 'feed.markedUnread',
  'all-read': 'feed.markedAllRead',
};

export interface MyFeedPageProps {
  ctx: PageContext;
  items: readonly (FeedItemView & { channelTitle: string })[];
  nextCursor: string | null;
  onLaterPage: boolean;
  unread: UnreadCountsView;
  /** Slugs of the channels I subscribe to (the live connection watches them). */
  subscribedChannels: readonly string[];
  done?: FeedDone | undefined;
}

/** The POST form that marks one announcement read (or unread) and comes back to `returnTo`. */
export function ReadToggle({
  ctx,
  id,
  read,
  returnTo,
}: {
  ctx: PageContext;
  id: string;
  read: boolean;
  returnTo: string;
}) {
  return (
    <form
      method="post"
      action={WEB_PATHS.myFeedRead(id)}
      class="mk-inline"
      data-read-form
      data-label-read={ctx.t('feed.markRead')}
      data-label-unread={ctx.t('feed.markUnread')}
    >
      <CsrfField ctx={ctx} />
      <input type="hidden" name="read" value={read ? 'false' : 'true'} />
      <input type="hidden" name="returnTo" value={returnTo} />
      <Button variant="tertiary" data-size="sm">
        {ctx.t(read ? 'feed.markUnread' : 'feed.markRead')}
      </Button>
    </form>
  );
}

export function MyFeedPage(props: MyFeedPageProps) {
  const { ctx } = props;
  const returnTo = ctx.path;
  // The count's two forms with their {count} placeholder, for the script to keep the count as items are read.
  const unreadMessage = CATALOGUE[ctx.language]['feed.unreadCount'];
  const pluralForms = typeof unreadMessage === 'string' ? { one: unreadMessage, other: unreadMessage } : unreadMessage;
  return (
    <Layout ctx={ctx} title={ctx.t('feed.title')} current="myFeed" scripts={['entries/feed.js']}>
      {props.done ? (
        <Alert color="success" role="status">
          {ctx.t(DONE_MESSAGE[props.done])}
        </Alert>
      ) : null}
      <PageHeading title={ctx.t('feed.title')} lead={ctx.t('feed.lead')} />
      <div class="mk-inline">
        <p
          class="ds-paragraph"
          data-unread-total={props.unread.total}
          data-unread-one={pluralForms.one}
          data-unread-other={pluralForms.other}
        >
          {ctx.t('feed.unreadCount', { count: props.unread.total })}
        </p>
        {props.unread.total > 0 ? (
          <form method="post" action={WEB_PATHS.myFeedReadAll} data-read-all-form>
            <CsrfField ctx={ctx} />
            <Button variant="secondary" data-size="sm">
              {ctx.t('feed.markAllRead')}
            </Button>
          </form>
        ) : null}
      </div>
      {props.subscribedChannels.length === 0 ? (
        <p class="ds-paragraph">
          {ctx.t('feed.noSubscriptions')}{' '}
          <a class="ds-link" href={WEB_PATHS.channels}>
            {ctx.t('nav.channels')}
          </a>
        </p>
      ) : null}
      <section aria-labelledby="feed-heading" class="mk-stack">
        <h2 class="ds-heading" data-size="md" id="feed-heading">
          {ctx.t('feed.heading')}
        </h2>
        {/* Announces new items the live updates add (polite: it never interrupts). */}
        <p
          class="mk-live-status"
          role="status"
          data-live-status
          data-live-channels={props.subscribedChannels.join(',')}
        />
        {props.items.length === 0 ? (
          <p class="ds-paragraph" data-feed-empty>
            {ctx.t('feed.none')}
          </p>
        ) : null}
        <ul class="mk-announcements" data-feed-list data-first-page={props.onLaterPage ? undefined : ''}>
          {props.items.map((item) => (
            <AnnouncementCard
              key={item.id}
              ctx={ctx}
              announcement={item}
              channelTitle={item.channelTitle}
              read={item.read}
              headingLevel={3}
              actions={<ReadToggle ctx={ctx} id={item.id} read={item.read} returnTo={returnTo} />}
            />
          ))}
        </ul>
        <KeysetPagination
          ctx={ctx}
          nextCursor={props.nextCursor}
          onLaterPage={props.onLaterPage}
          hrefFor={(cursor) => withQuery(WEB_PATHS.myFeed, { cursor })}
        />
      </section>
      <FeedItemTemplate ctx={ctx} returnTo={returnTo} />
    </Layout>
  );
}

/**
 * The card of a live item, with slots (`data-slot`) the script fills with text and optional tags (`data-tag`) it
 * keeps or drops. Written by the same components' words, so a live card reads like a rendered one.
 */
function FeedItemTemplate({ ctx, returnTo }: { ctx: PageContext; returnTo: string }) {
  return (
    <template id="feed-item-template" data-new-text={ctx.t('feed.live.new')}>
      <li class="ds-card mk-announcement" data-read="false">
        <ul class="mk-tags">
          <li data-tag="unread">
            <span class="ds-tag" data-color="accent" data-size="sm">
              {ctx.t('announcement.unread')}
            </span>
          </li>
          <li data-tag="important">
            <span class="ds-tag" data-color="warning" data-size="sm">
              {ctx.t('announcement.importance.important')}
            </span>
          </li>
          <li data-tag="critical">
            <span class="ds-tag" data-color="danger" data-size="sm">
              {ctx.t('announcement.importance.critical')}
            </span>
          </li>
          <li data-tag="maintenance">
            <span class="ds-tag" data-color="info" data-size="sm">
              {ctx.t('announcement.type.maintenance')}
            </span>
          </li>
          <li data-tag="incident">
            <span class="ds-tag" data-color="info" data-size="sm">
              {ctx.t('announcement.type.incident')}
            </span>
          </li>
          <li data-tag="release">
            <span class="ds-tag" data-color="info" data-size="sm">
              {ctx.t('announcement.type.release')}
            </span>
          </li>
          <li data-tag="resolved">
            <span class="ds-tag" data-color="success" data-size="sm">
              {ctx.t('announcement.resolved')}
            </span>
          </li>
        </ul>
        <h3 class="ds-heading mk-announcement__title" data-size="xs">
          <a class="ds-link" href="/" data-slot="title">
            …
          </a>
        </h3>
        <p class="mk-meta">
          <a class="ds-link" href="/" data-slot="channel">
            …
          </a>
          <span>
            {ctx.t('announcement.published')} <time data-slot="time">{ctx.relative(ctx.now, ctx.now)}</time>
          </span>
        </p>
        <p class="ds-paragraph" data-slot="summary" />
        <form
          method="post"
          action="/"
          class="mk-inline"
          data-read-form
          data-slot="read-form"
          data-label-read={ctx.t('feed.markRead')}
          data-label-unread={ctx.t('feed.markUnread')}
        >
          <CsrfField ctx={ctx} />
          <input type="hidden" name="read" value="true" />
          <input type="hidden" name="returnTo" value={returnTo} />
          <Button variant="tertiary" data-size="sm">
            {ctx.t('feed.markRead')}
          </Button>
        </form>
      </li>
    </template>
  );
}

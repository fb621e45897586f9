/**
 * A channel's page (/channels/{slug}): its announcements (pinned ones on top, then newest first, paged; the archive
 * with expired ones on request), how to subscribe — with the account (a POST form: e-mail mode, or leave), or, on a
 * public channel, with an e-mail address alone (double opt-in) —, its feeds, and the widget snippet to copy.
 * Everything works without JavaScript; the copy button is an enhancement (entries/copy.ts).
 */
import type { ComponentChildren } from 'preact';
import { EMAIL_MODES, type EmailMode } from '../../domain/types.js';
import type { ChannelPageData } from '../../services/reader-pages.js';
import { AnnouncementCard, KeysetPagination, withQuery } from '../components/announcements.js';
import {
  Alert,
  Button,
  ChoiceGroup,
  CsrfField,
  ErrorSummary,
  type FieldErrors,
  TextField,
} from '../components/forms.js';
import type { PageContext } from '../context.js';
import type { MessageKey } from '../i18n/catalogue.js';
import { Layout, PageHeading } from '../layout.js';
import { WEB_PATHS } from '../paths.js';
import { visibilityLabel } from './channels.js';
import { FeedLinks } from './home.js';

/** What a form on this page just did (the 303's `?done=`), to say so on top. */
export const CHANNEL_DONE = ['subscribed', 'saved', 'unsubscribed', 'email-requested'] as const;
export type ChannelDone = (typeof CHANNEL_DONE)[number];

const DONE_MESSAGE: Record<ChannelDone, MessageKey> = {
  subscribed: 'channel.subscribe.done',
  saved: 'channel.subscribe.saved',
  unsubscribed: 'channel.subscribe.removed',
  'email-requested': 'channel.emailSubscribe.sent',
};

export const EMAIL_MODE_LABEL: Record<EmailMode, MessageKey> = {
  immediate: 'emailMode.immediate',
  daily: 'emailMode.daily',
  weekly: 'emailMode.weekly',
  off: 'emailMode.off',
};

/** The e-mail-only form as submitted, to show it again with its errors (400). */
export interface EmailSubscriptionForm {
  email: string;
  emailMode: string;
  errors: FieldErrors;
}

export interface ChannelPageProps {
  ctx: PageContext;
  data: ChannelPageData;
  archive: boolean;
  onLaterPage: boolean;
  done?: ChannelDone | undefined;
  emailForm?: EmailSubscriptionForm | undefined;
  /** The account subscription form came back invalid (400). */
  subscribeErrors?: FieldErrors | undefined;
  /** The widget's snippet for this channel (public channels only). */
  widgetSnippet?: string | undefined;
}

export function ChannelPage(props: ChannelPageProps) {
  const { ctx, data } = props;
  const { channel } = data;
  const isPublic = channel.visibility === 'public';
  const feedBase = `/feeds/channels/${encodeURIComponent(channel.slug)}`;
  return (
    <Layout
      ctx={ctx}
      title={channel.title}
      current="channels"
      scripts={isPublic ? ['entries/copy.js'] : []}
      head={
        isPublic ? (
          <link
            rel="alternate"
            type="application/atom+xml"
            title={channel.title}
            href={`${feedBase}.atom?lang=${ctx.language}`}
          />
        ) : undefined
      }
    >
      <nav class="ds-breadcrumbs" aria-label={ctx.t('breadcrumbs.label')}>
        <ol>
          <li>
            <a class="ds-link" href={WEB_PATHS.channels}>
              {ctx.t('channels.title')}
            </a>
          </li>
          <li>
            <a class="ds-link" href={WEB_PATHS.channel(channel.slug)} aria-current="page">
              {channel.title}
            </a>
          </li>
        </ol>
      </nav>
      {props.done ? (
        <Alert color="success" role="status">
          {ctx.t(DONE_MESSAGE[props.done])}
        </Alert>
      ) : null}
      <PageHeading title={channel.title} lead={channel.description || undefined} />
      {!isPublic ? <p class="mk-meta">{visibilityLabel(ctx, channel.visibility)}</p> : null}
      <div class="mk-columns">
        <section aria-labelledby="announcements-heading" class="mk-stack">
          <h2 class="ds-heading" data-size="md" id="announcements-heading">
            {ctx.t(props.archive ? 'channel.archive.heading' : 'channel.announcements.heading')}
          </h2>
          {data.announcements.items.length === 0 ? (
            <p class="ds-paragraph">{ctx.t(props.archive ? 'channel.archive.none' : 'channel.none')}</p>
          ) : (
            <ul class="mk-announcements">
              {data.announcements.items.map((item) => (
                <AnnouncementCard key={item.id} ctx={ctx} announcement={item} headingLevel={3} />
              ))}
            </ul>
          )}
          <KeysetPagination
            ctx={ctx}
            nextCursor={data.announcements.nextCursor}
            onLaterPage={props.onLaterPage}
            hrefFor={(cursor) =>
              withQuery(WEB_PATHS.channel(channel.slug), { archive: props.archive ? '1' : null, cursor })
            }
          />
          <p class="ds-paragraph">
            <a
              class="ds-link"
              href={withQuery(WEB_PATHS.channel(channel.slug), { archive: props.archive ? null : '1' })}
            >
              {ctx.t(props.archive ? 'channel.archive.hide' : 'channel.archive.show')}
            </a>
          </p>
        </section>
        <div class="mk-stack">
          <SubscribeSection {...props} />
          <section aria-labelledby="feeds-heading" class="mk-stack">
            <h2 class="ds-heading" data-size="sm" id="feeds-heading">
              {ctx.t('layout.feeds')}
            </h2>
            {isPublic ? (
              <>
                <p class="ds-paragraph">{ctx.t('channel.feeds.text')}</p>
                <FeedLinks ctx={ctx} label={channel.title} base={feedBase} />
              </>
            ) : (
              <p class="ds-paragraph">
                {ctx.t('channel.feeds.personal')}{' '}
                <a class="ds-link" href={`${WEB_PATHS.myAccount}#feed-urls-heading`}>
                  {ctx.t('nav.account')}
                </a>
              </p>
            )}
          </section>
          {props.widgetSnippet ? <WidgetSection ctx={ctx} snippet={props.widgetSnippet} /> : null}
        </div>
      </div>
    </Layout>
  );
}

function SubscribeSection(props: ChannelPageProps) {
  const { ctx, data } = props;
  const { channel, subscription } = data;
  const modes = (modesOf: readonly EmailMode[]) =>
    modesOf.map((mode) => ({ value: mode, label: ctx.t(EMAIL_MODE_LABEL[mode]) }));
  let body: ComponentChildren;
  if (data.canSubscribe) {
    body = (
      <>
        <ErrorSummary ctx={ctx} errors={props.subscribeErrors} />
        <form method="post" action={WEB_PATHS.channelSubscription(channel.slug)} class="mk-stack">
          <CsrfField ctx={ctx} />
          <p class="ds-paragraph">{ctx.t(subscription ? 'channel.subscribe.subscribed' : 'channel.subscribe.text')}</p>
          <ChoiceGroup
            ctx={ctx}
            name="emailMode"
            type="radio"
            legend={ctx.t('emailMode.legend')}
            choices={modes(EMAIL_MODES)}
            value={subscription?.emailMode ?? 'immediate'}
            error={props.subscribeErrors?.emailMode}
          />
          <div class="mk-inline">
            <Button name="action" value={subscription ? 'save' : 'subscribe'}>
              {ctx.t(subscription ? 'channel.subscribe.save' : 'channel.subscribe.button')}
            </Button>
            {subscription ? (
              <Button variant="secondary" name="action" value="unsubscribe">
                {ctx.t('channel.subscribe.unsubscribe')}
              </Button>
            ) : null}
          </div>
          {subscription ? (
            <p class="ds-paragraph" data-size="sm">
              {ctx.t('channel.subscribe.more')}{' '}
              <a class="ds-link" href={WEB_PATHS.mySubscriptions}>
                {ctx.t('nav.subscriptions')}
              </a>
            </p>
          ) : null}
        </form>
      </>
    );
  } else if (channel.visibility === 'public') {
    const form = props.emailForm;
    body = (
      <>
        <ErrorSummary ctx={ctx} errors={form?.errors} />
        <form method="post" action={WEB_PATHS.channelEmailSubscription(channel.slug)} class="mk-stack" noValidate>
          <CsrfField ctx={ctx} />
          <p class="ds-paragraph">{ctx.t('channel.emailSubscribe.text')}</p>
          <TextField
            ctx={ctx}
            name="email"
            type="email"
            autocomplete="email"
            label={ctx.t('channel.emailSubscribe.email')}
            value={form?.email}
            error={form?.errors.email}
            maxLength={254}
          />
          <ChoiceGroup
            ctx={ctx}
            name="emailMode"
            type="radio"
            legend={ctx.t('emailMode.legend')}
            choices={modes(['immediate', 'daily', 'weekly'])}
            value={form?.emailMode ?? 'immediate'}
            error={form?.errors.emailMode}
          />
          <Button>{ctx.t('channel.emailSubscribe.button')}</Button>
        </form>
        {ctx.site.signInAvailable ? (
          <p class="ds-paragraph" data-size="sm">
            {ctx.t('channel.subscribe.signInHint')}{' '}
            <a class="ds-link" href={WEB_PATHS.signIn(WEB_PATHS.channel(channel.slug))}>
              {ctx.t('auth.signIn')}
            </a>
          </p>
        ) : null}
      </>
    );
  } else {
    return null;
  }
  return (
    <section aria-labelledby="subscribe-heading" class="mk-stack ds-card" data-variant="tinted">
      <h2 class="ds-heading" data-size="sm" id="subscribe-heading">
        {ctx.t('channel.subscribe.heading')}
      </h2>
      {body}
    </section>
  );
}

function WidgetSection({ ctx, snippet }: { ctx: PageContext; snippet: string }) {
  return (
    <section aria-labelledby="widget-heading" class="mk-stack" data-copy>
      <h2 class="ds-heading" data-size="sm" id="widget-heading">
        {ctx.t('channel.widget.heading')}
      </h2>
      <ds-field class="ds-field">
        <label class="ds-label" for="widget-snippet" data-weight="medium">
          {ctx.t('channel.widget.label')}
        </label>
        <p class="ds-paragraph" data-size="sm" data-field="description" id="widget-snippet-description">
          {ctx.t('channel.widget.text')}
        </p>
        <textarea
          class="ds-input mk-code"
          id="widget-snippet"
          readOnly
          rows={5}
          spellcheck={false}
          aria-describedby="widget-snippet-description"
          data-copy-source
        >
          {snippet}
        </textarea>
      </ds-field>
      <p class="mk-inline" data-copy-controls hidden>
        <button class="ds-button" data-variant="secondary" type="button" data-copy-button>
          {ctx.t('channel.widget.copy')}
        </button>
        <span role="status" data-copy-status data-copied-text={ctx.t('channel.widget.copied')} />
      </p>
    </section>
  );
}

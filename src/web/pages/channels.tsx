/**
 * The channel directory (/channels): every channel the reader may read, by title, with a filter (a GET form, so it
 * works without JavaScript and its results can be linked), paged with the directory's keyset cursor. The list and
 * the filter are shared with the front page.
 */
import type { ChannelVisibility } from '../../domain/types.js';
import type { DirectoryEntry } from '../../services/directory.js';
import { KeysetPagination, Time, withQuery } from '../components/announcements.js';
import type { PageContext } from '../context.js';
import type { MessageKey } from '../i18n/catalogue.js';
import { Layout, PageHeading } from '../layout.js';
import { WEB_PATHS } from '../paths.js';

const VISIBILITY_LABEL: Record<ChannelVisibility, MessageKey> = {
  public: 'channels.visibility.public',
  internal: 'channels.visibility.internal',
  restricted: 'channels.visibility.restricted',
};

export function visibilityLabel(ctx: PageContext, visibility: ChannelVisibility): string {
  return ctx.t(VISIBILITY_LABEL[visibility]);
}

/** The directory filter: a search field and its button (GET, `q`). */
export function ChannelFilter({ ctx, action, q }: { ctx: PageContext; action: string; q: string | undefined }) {
  return (
    <search>
      <form method="get" action={action} class="mk-inline">
        <ds-field class="ds-field">
          <label class="ds-label" for="channel-filter">
            {ctx.t('home.channels.filter')}
          </label>
          <input class="ds-input" type="search" id="channel-filter" name="q" value={q ?? ''} maxLength={100} />
        </ds-field>
        <button class="ds-button" data-variant="secondary" type="submit">
          {ctx.t('home.channels.filterButton')}
        </button>
      </form>
    </search>
  );
}

export function ChannelDirectoryList({
  ctx,
  channels,
  q,
  headingLevel,
  compact,
}: {
  ctx: PageContext;
  channels: readonly DirectoryEntry[];
  q: string | undefined;
  headingLevel: 2 | 3;
  /** The front page's column: no description of roles. */
  compact?: boolean;
}) {
  if (channels.length === 0) {
    return <p class="ds-paragraph">{ctx.t(q ? 'home.channels.noMatch' : 'home.channels.none')}</p>;
  }
  const Heading = headingLevel === 2 ? 'h2' : 'h3';
  return (
    <ul class="mk-announcements">
      {channels.map((channel) => (
        <li key={channel.slug} class="ds-card" data-variant="tinted">
          <Heading class="ds-heading" data-size="xs">
            <a class="ds-link" href={WEB_PATHS.channel(channel.slug)}>
              {channel.title}
            </a>
          </Heading>
          {channel.description ? <p class="ds-paragraph">{channel.description}</p> : null}
          <p class="mk-meta">
            {channel.visibility !== 'public' ? <span>{visibilityLabel(ctx, channel.visibility)}</span> : null}
            <span>{ctx.t('home.channels.subscribers', { count: channel.subscriberCount })}</span>
            {!compact ? (
              <span>{ctx.t('channels.publishers', { count: channel.roles.owners + channel.roles.publishers })}</span>
            ) : null}
          </p>
          {channel.latestAnnouncement ? (
            <p class="mk-meta">
              <span>
                {ctx.t('home.channels.latest')}{' '}
                <a
                  class="ds-link"
                  href={WEB_PATHS.announcement(channel.latestAnnouncement.id)}
                  lang={
                    channel.latestAnnouncement.language !== ctx.language
                      ? channel.latestAnnouncement.language
                      : undefined
                  }
                >
                  {channel.latestAnnouncement.title}
                </a>{' '}
                (<Time ctx={ctx} value={channel.latestAnnouncement.publishedAt} relative />)
              </span>
            </p>
          ) : null}
        </li>
      ))}
    </ul>
  );
}

export interface ChannelDirectoryPageProps {
  ctx: PageContext;
  channels: readonly DirectoryEntry[];
  nextCursor: string | null;
  /** This is a later page (a cursor was given). */
  onLaterPage: boolean;
  q: string | undefined;
}

export function ChannelDirectoryPage(props: ChannelDirectoryPageProps) {
  const { ctx, q } = props;
  return (
    <Layout ctx={ctx} title={ctx.t('channels.title')} current="channels">
      <PageHeading title={ctx.t('channels.title')} lead={ctx.t('channels.lead')} />
      <ChannelFilter ctx={ctx} action={WEB_PATHS.channels} q={q} />
      <ChannelDirectoryList ctx={ctx} channels={props.channels} q={q} headingLevel={2} />
      <KeysetPagination
        ctx={ctx}
        nextCursor={props.nextCursor}
        onLaterPage={props.onLaterPage}
        hrefFor={(cursor) => withQuery(WEB_PATHS.channels, { q, cursor })}
        order="alphabet"
      />
    </Layout>
  );
}

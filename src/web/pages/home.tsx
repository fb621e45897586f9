/**
 * The front page: what the service is, the channels the reader may read (with a filter, which works without
 * JavaScript as a GET form), and the public feeds.
 */
import type { DirectoryEntry } from '../../services/directory.js';
import type { PageContext } from '../context.js';
import { Layout, PageHeading } from '../layout.js';
import { WEB_PATHS } from '../paths.js';

export interface HomePageProps {
  ctx: PageContext;
  channels: readonly DirectoryEntry[];
  /** The directory filter as typed, if any. */
  q: string | undefined;
}

export function HomePage({ ctx, channels, q }: HomePageProps) {
  return (
    <Layout
      ctx={ctx}
      title={ctx.t('site.name')}
      current="home"
      head={
        <link
          rel="alternate"
          type="application/atom+xml"
          title={ctx.t('home.feed.public')}
          href={`/feeds/public.atom?lang=${ctx.language}`}
        />
      }
    >
      <PageHeading title={ctx.t('site.name')} lead={ctx.t('site.description')} />
      <section aria-labelledby="channels-heading" class="mk-stack">
        <h2 class="ds-heading" data-size="md" id="channels-heading">
          {ctx.t('home.channels.heading')}
        </h2>
        <search>
          <form method="get" action={WEB_PATHS.home} class="mk-inline">
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
        {channels.length === 0 ? (
          <p class="ds-paragraph">{ctx.t(q ? 'home.channels.noMatch' : 'home.channels.none')}</p>
        ) : (
          <ul class="mk-announcements">
            {channels.map((channel) => (
              <li key={channel.slug} class="ds-card" data-variant="tinted">
                <h3 class="ds-heading" data-size="xs">
                  <a class="ds-link" href={WEB_PATHS.channel(channel.slug)}>
                    {channel.title}
                  </a>
                </h3>
                {channel.description ? <p class="ds-paragraph">{channel.description}</p> : null}
                <p class="mk-meta">
                  <span>{ctx.t('home.channels.subscribers', { count: channel.subscriberCount })}</span>
                  {channel.latestAnnouncement ? (
                    <span>
                      {ctx.t('home.channels.latest')}{' '}
                      <a class="ds-link" href={WEB_PATHS.announcement(channel.latestAnnouncement.id)}>
                        {channel.latestAnnouncement.title}
                      </a>{' '}
                      (
                      <time dateTime={channel.latestAnnouncement.publishedAt}>
                        {ctx.date(new Date(channel.latestAnnouncement.publishedAt))}
                      </time>
                      )
                    </span>
                  ) : null}
                </p>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="feeds-heading" class="mk-stack">
        <h2 class="ds-heading" data-size="md" id="feeds-heading">
          {ctx.t('layout.feeds')}
        </h2>
        <p class="ds-paragraph">{ctx.t('home.feed.text')}</p>
        <p class="ds-paragraph mk-inline">
          <span>{ctx.t('home.feed.public')}:</span>
          <a class="ds-link" href={`/feeds/public.atom?lang=${ctx.language}`}>
            Atom
          </a>
          <a class="ds-link" href={`/feeds/public.rss?lang=${ctx.language}`}>
            RSS
          </a>
          <a class="ds-link" href={`/feeds/public.json?lang=${ctx.language}`}>
            JSON Feed
          </a>
        </p>
      </section>
    </Layout>
  );
}

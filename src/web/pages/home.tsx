/**
 * The front page: what the service is, the latest announcements the reader may read across channels, the channels
 * (with a filter, which works without JavaScript as a GET form; the channel directory pages through all of them),
 * and the public feeds.
 */
import type { DirectoryEntry } from '../../services/directory.js';
import type { ChannelledAnnouncement } from '../../services/latest.js';
import { AnnouncementCard } from '../components/announcements.js';
import { Alert } from '../components/forms.js';
import type { PageContext } from '../context.js';
import { Layout, PageHeading } from '../layout.js';
import { WEB_PATHS } from '../paths.js';
import { ChannelDirectoryList, ChannelFilter } from './channels.js';

export interface HomePageProps {
  ctx: PageContext;
  latest: readonly ChannelledAnnouncement[];
  channels: readonly DirectoryEntry[];
  /** More channels than listed here: the directory has them. */
  moreChannels: boolean;
  /** The directory filter as typed, if any. */
  q: string | undefined;
  /** The account was just deleted (the deletion's redirect). */
  accountDeleted?: boolean;
}

export function HomePage({ ctx, latest, channels, moreChannels, q, accountDeleted }: HomePageProps) {
  const atom = `/feeds/public.atom?lang=${ctx.language}`;
  return (
    <Layout
      ctx={ctx}
      title={ctx.t('site.name')}
      current="home"
      head={<link rel="alternate" type="application/atom+xml" title={ctx.t('home.feed.public')} href={atom} />}
    >
      {accountDeleted ? (
        <Alert color="success" role="status">
          {ctx.t('account.deleted')}
        </Alert>
      ) : null}
      <PageHeading title={ctx.t('site.name')} lead={ctx.t('site.description')} />
      {!ctx.viewer && ctx.site.signInAvailable ? (
        // The sign-in button is in the header, on every page; here only why one would.
        <p class="ds-paragraph">{ctx.t('home.signInHint')}</p>
      ) : null}
      <div class="mk-columns">
        <section aria-labelledby="latest-heading" class="mk-stack">
          <h2 class="ds-heading" data-size="md" id="latest-heading">
            {ctx.t('home.latest.heading')}
          </h2>
          {latest.length === 0 ? (
            <p class="ds-paragraph">{ctx.t('home.latest.none')}</p>
          ) : (
            <ul class="mk-announcements">
              {latest.map((item) => (
                <AnnouncementCard
                  key={item.announcement.id}
                  ctx={ctx}
                  announcement={item.announcement}
                  channelTitle={item.channelTitle}
                  headingLevel={3}
                />
              ))}
            </ul>
          )}
          <p class="ds-paragraph">
            <a class="ds-link" href={WEB_PATHS.search}>
              {ctx.t('home.latest.search')}
            </a>
          </p>
        </section>
        <section aria-labelledby="channels-heading" class="mk-stack">
          <h2 class="ds-heading" data-size="md" id="channels-heading">
            {ctx.t('home.channels.heading')}
          </h2>
          <ChannelFilter ctx={ctx} action={WEB_PATHS.home} q={q} />
          <ChannelDirectoryList ctx={ctx} channels={channels} q={q} headingLevel={3} compact />
          {moreChannels || !q ? (
            <p class="ds-paragraph">
              <a class="ds-link" href={q ? `${WEB_PATHS.channels}?q=${encodeURIComponent(q)}` : WEB_PATHS.channels}>
                {ctx.t('home.channels.all')}
              </a>
            </p>
          ) : null}
        </section>
      </div>
      <section aria-labelledby="feeds-heading" class="mk-stack">
        <h2 class="ds-heading" data-size="md" id="feeds-heading">
          {ctx.t('layout.feeds')}
        </h2>
        <p class="ds-paragraph">{ctx.t('home.feed.text')}</p>
        <FeedLinks ctx={ctx} label={ctx.t('home.feed.public')} base="/feeds/public" />
      </section>
    </Layout>
  );
}

/** Atom, RSS and JSON Feed links of one feed, in the page's language. */
export function FeedLinks({ ctx, label, base }: { ctx: PageContext; label: string; base: string }) {
  return (
    <p class="ds-paragraph mk-inline">
      <span>{label}:</span>
      <a class="ds-link" href={`${base}.atom?lang=${ctx.language}`}>
        Atom
      </a>
      <a class="ds-link" href={`${base}.rss?lang=${ctx.language}`}>
        RSS
      </a>
      <a class="ds-link" href={`${base}.json?lang=${ctx.language}`}>
        JSON Feed
      </a>
    </p>
  );
}

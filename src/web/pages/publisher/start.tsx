/**
 * The publishing start page: each channel the viewer publishes in (administrators: every channel), with its drafts
 * and scheduled announcements, the latest published ones, and links to write a new one and to its settings.
 */
import type { PublishingChannel } from '../../../services/publishing.js';
import type { AnnouncementView } from '../../../services/views.js';
import { Alert } from '../../components/forms.js';
import type { PageContext } from '../../context.js';
import { Layout, PageHeading } from '../../layout.js';
import { WEB_PATHS } from '../../paths.js';
import { StatusTag } from './shared.js';

export interface PublishStartPageProps {
  ctx: PageContext;
  channels: readonly PublishingChannel[];
}

function AnnouncementItem({ ctx, announcement }: { ctx: PageContext; announcement: AnnouncementView }) {
  const published = announcement.status === 'published';
  const href = published
    ? WEB_PATHS.announcementDeliveries(announcement.id)
    : WEB_PATHS.editAnnouncement(announcement.id);
  return (
    <li class="mk-publish-item">
      <a class="ds-link" href={href} lang={announcement.language}>
        {announcement.title}
      </a>
      <span class="mk-meta">
        <StatusTag ctx={ctx} status={announcement.status} />
        {announcement.status === 'scheduled' && announcement.publishAt ? (
          <span>
            {ctx.t('publisher.status.scheduledFor', { time: ctx.dateTime(new Date(announcement.publishAt)) })}
          </span>
        ) : null}
        {published && announcement.publishedAt ? (
          <span>
            {ctx.t('publisher.status.publishedAt', { time: ctx.dateTime(new Date(announcement.publishedAt)) })}
          </span>
        ) : null}
        {published ? (
          <a class="ds-link" href={WEB_PATHS.editAnnouncement(announcement.id)}>
            {ctx.t('publisher.deliveries.edit')}
            <span class="ds-sr-only">: {announcement.title}</span>
          </a>
        ) : null}
      </span>
    </li>
  );
}

export function PublishStartPage({ ctx, channels }: PublishStartPageProps) {
  const title = ctx.t('publisher.start.title');
  return (
    <Layout ctx={ctx} title={title} current="publish">
      <PageHeading title={title} lead={ctx.t('publisher.start.lead')} />
      {channels.length === 0 ? <Alert color="info">{ctx.t('publisher.start.none')}</Alert> : null}
      {channels.map((channel) => {
        const headingId = `channel-${channel.slug}`;
        return (
          <section key={channel.slug} class="ds-card mk-stack mk-publish-channel" aria-labelledby={headingId}>
            <h2 class="ds-heading" data-size="sm" id={headingId}>
              {channel.title}
            </h2>
            <p class="mk-meta">
              <span>{ctx.t(`publisher.visibility.${channel.visibility}`)}</span>
              <span>
                {ctx.t(
                  channel.role === 'owner'
                    ? 'publisher.role.owner'
                    : channel.role === 'publisher'
                      ? 'publisher.role.publisher'
                      : 'publisher.role.admin',
                )}
              </span>
            </p>
            <p class="mk-inline">
              <a class="ds-button" data-variant="primary" href={WEB_PATHS.newAnnouncement(channel.slug)}>
                {ctx.t('publisher.start.newAnnouncement', { channel: channel.title })}
              </a>
              {channel.canManage ? (
                <a class="ds-link" href={WEB_PATHS.channelSettings(channel.slug)}>
                  {ctx.t('publisher.start.settings', { channel: channel.title })}
                </a>
              ) : null}
            </p>
            <h3 class="ds-heading" data-size="xs">
              {ctx.t('publisher.start.unpublished')}
            </h3>
            {channel.unpublished.length === 0 ? (
              <p class="ds-paragraph">{ctx.t('publisher.start.noUnpublished')}</p>
            ) : (
              <ul class="mk-publish-list">
                {channel.unpublished.map((announcement) => (
                  <AnnouncementItem key={announcement.id} ctx={ctx} announcement={announcement} />
                ))}
              </ul>
            )}
            <h3 class="ds-heading" data-size="xs">
              {ctx.t('publisher.start.recent')}
            </h3>
            {channel.recent.length === 0 ? (
              <p class="ds-paragraph">{ctx.t('publisher.start.noRecent')}</p>
            ) : (
              <ul class="mk-publish-list">
                {channel.recent.map((announcement) => (
                  <AnnouncementItem key={announcement.id} ctx={ctx} announcement={announcement} />
                ))}
              </ul>
            )}
          </section>
        );
      })}
    </Layout>
  );
}

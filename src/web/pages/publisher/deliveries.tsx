/**
 * An announcement for its publishers: its state and links (edit, the readers' page, retract), its deliveries per
 * medium (sent, failed, skipped with the reasons; a button to retry the failed ones), how many have opened and
 * rated it, and who has acknowledged it, by organisation. Counts only, never who.
 */
import type { AnnouncementStatus } from '../../../domain/announcement.js';
import type { AcknowledgementStatsView } from '../../../services/acknowledgements.js';
import { DELIVERY_MEDIA, type DeliveryStats, type DeliveryStatsGroup } from '../../../services/delivery-stats.js';
import type { AnnouncementReadingStats } from '../../../services/views.js';
import { Alert, Button, CsrfField } from '../../components/forms.js';
import type { PageContext } from '../../context.js';
import type { MessageKey } from '../../i18n/catalogue.js';
import { Layout, PageHeading } from '../../layout.js';
import { WEB_PATHS } from '../../paths.js';
import { StatusTag } from './shared.js';

export interface DeliveriesPageProps {
  ctx: PageContext;
  announcement: {
    id: string;
    title: string;
    language: string;
    status: AnnouncementStatus;
    publishedAt: Date | null;
    publishAt: Date | null;
    channelTitle: string;
  };
  deliveries: DeliveryStats;
  readers: AnnouncementReadingStats;
  acknowledgements: AcknowledgementStatsView;
  notice?: { color: 'success' | 'warning'; text: string };
}

const MEDIUM_LABELS: Record<string, MessageKey> = {
  email: 'publisher.medium.email',
  push: 'publisher.medium.push',
  webhook: 'publisher.medium.webhook',
};

const KIND_LABELS: Record<string, MessageKey> = {
  announcement: 'publisher.kind.announcement',
  ack_reminder: 'publisher.kind.ack_reminder',
  correction: 'publisher.kind.correction',
  retraction: 'publisher.kind.retraction',
};

const REASON_LABELS: Record<string, MessageKey> = {
  suppressed: 'publisher.reason.suppressed',
  unsubscribed: 'publisher.reason.unsubscribed',
  subscription_removed: 'publisher.reason.subscription_removed',
  no_access: 'publisher.reason.no_access',
  audience: 'publisher.reason.audience',
  push_off: 'publisher.reason.push_off',
  no_push_subscription: 'publisher.reason.no_push_subscription',
  superseded: 'publisher.reason.superseded',
  announcement_expired: 'publisher.reason.announcement_expired',
  announcement_not_published: 'publisher.reason.announcement_not_published',
  webhook_disabled: 'publisher.reason.webhook_disabled',
  digest_mode: 'publisher.reason.digest_mode',
  no_address: 'publisher.reason.no_address',
  acknowledged: 'publisher.reason.acknowledged',
  event_not_wanted: 'publisher.reason.event_not_wanted',
};

function kindLabel(ctx: PageContext, group: DeliveryStatsGroup): string {
  const key = KIND_LABELS[group.kind];
  return key ? ctx.t(key, { revision: group.revision }) : group.kind;
}

/** A skip reason in words, or its code when it has none (a plain call: a component may not return a bare string). */
function reasonLabel(ctx: PageContext, reason: string) {
  const key = REASON_LABELS[reason];
  return key ? ctx.t(key) : <code>{reason}</code>;
}

function MediumTable({ ctx, medium, groups }: { ctx: PageContext; medium: string; groups: DeliveryStatsGroup[] }) {
  const label = MEDIUM_LABELS[medium] ? ctx.t(MEDIUM_LABELS[medium]) : medium;
  const skipped = groups.filter((group) => group.skipReasons.length > 0);
  return (
    <div class="mk-stack">
      <div class="mk-figures">
        <table class="ds-table" data-border>
          <caption>{ctx.t('publisher.deliveries.caption', { medium: label })}</caption>
          <thead>
            <tr>
              <th scope="col">{ctx.t('publisher.col.kind')}</th>
              <th scope="col">{ctx.t('publisher.col.pending')}</th>
              <th scope="col">{ctx.t('publisher.col.sent')}</th>
              <th scope="col">{ctx.t('publisher.col.failed')}</th>
              <th scope="col">{ctx.t('publisher.col.skipped')}</th>
              <th scope="col">{ctx.t('publisher.col.total')}</th>
            </tr>
          </thead>
          <tbody>
            {groups.map((group) => (
              <tr key={`${group.kind}-${group.revision}`} data-kind={group.kind}>
                <th scope="row">{kindLabel(ctx, group)}</th>
                <td data-status="pending">{group.pending + group.sending}</td>
                <td data-status="sent">{group.sent}</td>
                <td data-status="failed">{group.failed}</td>
                <td data-status="skipped">{group.skipped}</td>
                <td>{group.total}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {skipped.map((group) => (
        <div key={`${group.kind}-${group.revision}-reasons`}>
          <p class="ds-paragraph" data-size="sm">
            {label}, {kindLabel(ctx, group).toLocaleLowerCase(ctx.language)} –{' '}
            {ctx.t('publisher.deliveries.skipReasons')}:
          </p>
          <ul class="ds-list" data-size="sm">
            {group.skipReasons.map((reason) => (
              <li key={reason.reason}>
                {reasonLabel(ctx, reason.reason)}: {reason.count}
              </li>
            ))}
          </ul>
        </div>
      ))}
    </div>
  );
}

export function DeliveriesPage(props: DeliveriesPageProps) {
  const { ctx, announcement, deliveries, readers, acknowledgements } = props;
  const t = ctx.t;
  const title = t('publisher.deliveries.title');
  const media = DELIVERY_MEDIA.filter((medium) => deliveries.groups.some((group) => group.medium === medium));
  const failedBy = (medium: string) =>
    deliveries.groups.filter((group) => group.medium === medium).reduce((sum, group) => sum + group.failed, 0);
  const unpublished = announcement.status === 'draft' || announcement.status === 'scheduled';
  return (
    <Layout ctx={ctx} title={`${title}: ${announcement.title}`} current="publish">
      <PageHeading title={title} lead={<span lang={announcement.language}>{announcement.title}</span>} />
      <div class="mk-inline">
        <StatusTag ctx={ctx} status={announcement.status} />
        {announcement.status === 'scheduled' && announcement.publishAt ? (
          <span>{t('publisher.status.scheduledFor', { time: ctx.dateTime(announcement.publishAt) })}</span>
        ) : null}
        {announcement.publishedAt ? (
          <span>{t('publisher.status.publishedAt', { time: ctx.dateTime(announcement.publishedAt) })}</span>
        ) : null}
        {announcement.status !== 'retracted' ? (
          <a class="ds-link" href={WEB_PATHS.editAnnouncement(announcement.id)}>
            {t('publisher.deliveries.edit')}
          </a>
        ) : null}
        {announcement.status === 'published' ? (
          <a class="ds-link" href={WEB_PATHS.announcement(announcement.id)}>
            {t('publisher.deliveries.readerPage')}
          </a>
        ) : null}
      </div>
      {props.notice ? (
        <Alert color={props.notice.color} role="status">
          {props.notice.text}
        </Alert>
      ) : null}

      <section aria-labelledby="deliveries-heading" class="mk-stack">
        <h2 class="ds-heading" data-size="sm" id="deliveries-heading">
          {t('publisher.deliveries.heading')}
        </h2>
        <p class="ds-paragraph">{t('publisher.deliveries.help')}</p>
        {media.length === 0 ? (
          <p class="ds-paragraph">
            {t(unpublished ? 'publisher.deliveries.notPublished' : 'publisher.deliveries.none')}
          </p>
        ) : (
          media.map((medium) => (
            <MediumTable
              key={medium}
              ctx={ctx}
              medium={medium}
              groups={deliveries.groups.filter((group) => group.medium === medium)}
            />
          ))
        )}
        {deliveries.totals.failed > 0 ? (
          <div class="mk-stack">
            <p class="ds-paragraph" data-size="sm">
              {t('publisher.deliveries.retryHelp')}
            </p>
            <div class="mk-inline">
              {media
                .filter((medium) => failedBy(medium) > 0)
                .map((medium) => (
                  <form
                    key={medium}
                    method="post"
                    action={`${WEB_PATHS.announcementDeliveries(announcement.id)}/retry`}
                  >
                    <CsrfField ctx={ctx} />
                    <input type="hidden" name="medium" value={medium} />
                    <Button variant="secondary">
                      {t('publisher.deliveries.retry', {
                        count: failedBy(medium),
                        medium: t(MEDIUM_LABELS[medium] ?? 'publisher.medium.email'),
                      })}
                    </Button>
                  </form>
                ))}
            </div>
          </div>
        ) : null}
      </section>

      <section aria-labelledby="readers-heading" class="mk-stack">
        <h2 class="ds-heading" data-size="sm" id="readers-heading">
          {t('publisher.readers.heading')}
        </h2>
        <p class="ds-paragraph" data-testid="views">
          {t('publisher.readers.views', { count: readers.views })}
        </p>
        <p class="ds-paragraph" data-testid="rating">
          {readers.rating.average === null
            ? t('publisher.readers.noRating')
            : t('publisher.readers.rating', {
                average: new Intl.NumberFormat(ctx.language === 'en' ? 'en-GB' : 'nb-NO', {
                  maximumFractionDigits: 1,
                }).format(readers.rating.average),
                votes: readers.rating.votes,
              })}
        </p>
      </section>

      <section aria-labelledby="ack-heading" class="mk-stack">
        <h2 class="ds-heading" data-size="sm" id="ack-heading">
          {t('publisher.ack.heading')}
        </h2>
        {!acknowledgements.required ? (
          <p class="ds-paragraph">{t('publisher.ack.notRequired')}</p>
        ) : (
          <>
            <p class="ds-paragraph" data-testid="ack-total">
              {t('publisher.ack.total', { total: acknowledgements.total, expected: acknowledgements.expected })}
              {acknowledgements.deadline
                ? ` ${t('publisher.ack.deadline', { time: ctx.dateTime(new Date(acknowledgements.deadline)) })}`
                : ''}
            </p>
            {acknowledgements.byOrganisation.length > 0 ? (
              <div class="mk-figures">
                <table class="ds-table" data-border>
                  <caption>{t('publisher.ack.caption')}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t('publisher.col.organisation')}</th>
                      <th scope="col">{t('publisher.col.acknowledged')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {acknowledgements.byOrganisation.map((row) => (
                      <tr key={row.organisation ?? ''}>
                        <th scope="row">{row.organisation ?? t('publisher.ack.noOrganisation')}</th>
                        <td>{row.acknowledged}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ) : null}
          </>
        )}
      </section>

      {announcement.status === 'published' ? (
        <section aria-labelledby="retract-heading" class="mk-stack mk-danger-zone">
          <h2 class="ds-heading" data-size="sm" id="retract-heading">
            {t('publisher.retract.heading')}
          </h2>
          <p class="ds-paragraph">{t('publisher.retract.help')}</p>
          <p>
            <a
              class="ds-button"
              data-variant="secondary"
              data-color="danger"
              href={WEB_PATHS.retractAnnouncement(announcement.id)}
            >
              {t('publisher.retract.start')}
            </a>
          </p>
        </section>
      ) : null}
    </Layout>
  );
}

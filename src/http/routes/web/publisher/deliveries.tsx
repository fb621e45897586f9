/**
 * An announcement for its publishers (src/web/pages/publisher/deliveries.tsx) and its retraction:
 *
 * - `GET /announcements/:id/deliveries` — state, delivery figures (src/services/delivery-stats.ts), views and rating
 *   (src/services/reading.ts), acknowledgements by organisation (src/services/acknowledgements.ts);
 * - `POST /announcements/:id/deliveries/retry` — the failed deliveries of one medium back to pending and queued;
 * - `GET|POST /announcements/:id/retract` — the confirmation step, then the retraction with its reason.
 *
 * Who may: the channel's publishers, owners and administrators — the services' loadAnnouncementToManage answers 404
 * to anyone who may not read the channel and 403 to a reader who may not publish there, as the API does.
 */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../../../domain/errors.js';
import { normaliseText, textProblem } from '../../../../domain/text.js';
import { acknowledgementStats } from '../../../../services/acknowledgements.js';
import { loadAnnouncementToManage } from '../../../../services/announcement-access.js';
import {
  DELIVERY_MEDIA,
  type DeliveryMedium,
  deliveryStats,
  retryFailedDeliveries,
} from '../../../../services/delivery-stats.js';
import { withReadingStats } from '../../../../services/reading.js';
import { retractAnnouncement } from '../../../../services/retract.js';
import { announcementView } from '../../../../services/views.js';
import { DeliveriesPage } from '../../../../web/pages/publisher/deliveries.js';
import { RetractPage } from '../../../../web/pages/publisher/retract.js';
import { WEB_PATHS } from '../../../../web/paths.js';
import { sendPage } from '../../../../web/render.js';
import { formString } from '../../../form-body.js';
import { POLICY } from '../../../policy.js';
import type { WebRouteOptions } from '../index.js';
import { idParam, requireViewer, savedNotice } from './page-helpers.js';

/** A retraction's reason: as an edit's note. */
const MAX_REASON_LENGTH = 500;

export async function deliveryPages(app: FastifyInstance, { db, config, queues }: WebRouteOptions): Promise<void> {
  const publicUrl = config.http.publicUrl;
  const pageConfig = { config: { policy: POLICY.signedIn, page: true as const }, schema: { hide: true } };

  app.get('/announcements/:id/deliveries', pageConfig, async (request, reply) => {
    const ctx = await app.pageContext(request);
    requireViewer(ctx);
    const id = idParam(request);
    const record = await loadAnnouncementToManage(db, ctx.actor, id, 'see the deliveries of');
    const [deliveries, acknowledgements, channel] = await Promise.all([
      deliveryStats({ db }, ctx.actor, id),
      acknowledgementStats({ db }, ctx.actor, id),
      db.channel.findUniqueOrThrow({ where: { id: record.channelId }, select: { title: true } }),
    ]);
    const [view] = await withReadingStats(db, [announcementView(record, { publicUrl, language: ctx.language })]);
    const notice = savedNotice(ctx, request);
    return sendPage(
      reply,
      ctx,
      <DeliveriesPage
        ctx={ctx}
        announcement={{
          id,
          title: view?.title ?? '',
          language: view?.language ?? 'nb',
          status: record.status,
          publishedAt: record.publishedAt,
          publishAt: record.publishAt,
          channelTitle: channel.title,
        }}
        deliveries={deliveries}
        readers={{ rating: view?.rating ?? { average: null, votes: 0 }, views: view?.views ?? 0 }}
        acknowledgements={acknowledgements}
        {...(notice ? { notice } : {})}
      />,
    );
  });

  app.post('/announcements/:id/deliveries/retry', pageConfig, async (request, reply) => {
    const ctx = await app.pageContext(request);
    requireViewer(ctx);
    const id = idParam(request);
    const medium = formString(request.body, 'medium');
    if (medium !== undefined && !(DELIVERY_MEDIA as readonly string[]).includes(medium)) {
      throw new AppError('validation_failed', `medium must be one of ${DELIVERY_MEDIA.join(', ')}`);
    }
    await retryFailedDeliveries({ db, queues, emailBatchSize: config.delivery.emailBatchSize }, ctx.actor, id, {
      ...(medium ? { medium: medium as DeliveryMedium } : {}),
      requestId: request.id,
    });
    return reply
      .header('cache-control', 'no-store')
      .redirect(`${WEB_PATHS.announcementDeliveries(id)}?saved=retried`, 303);
  });

  async function toRetract(actor: Parameters<typeof loadAnnouncementToManage>[1], id: string, message: string) {
    const record = await loadAnnouncementToManage(db, actor, id, 'retract');
    if (record.status !== 'published') throw new AppError('conflict', message);
    const version = record.versions[0];
    return { id, title: version?.title ?? '', language: version?.language ?? 'nb' };
  }

  app.get('/announcements/:id/retract', pageConfig, async (request, reply) => {
    const ctx = await app.pageContext(request);
    requireViewer(ctx);
    const announcement = await toRetract(ctx.actor, idParam(request), ctx.t('publisher.error.notRetractable'));
    return sendPage(reply, ctx, <RetractPage ctx={ctx} announcement={announcement} reason="" />);
  });

  app.post('/announcements/:id/retract', pageConfig, async (request, reply) => {
    const ctx = await app.pageContext(request);
    requireViewer(ctx);
    const id = idParam(request);
    const announcement = await toRetract(ctx.actor, id, ctx.t('publisher.error.notRetractable'));
    const raw = formString(request.body, 'reason') ?? '';
    const problem = textProblem(raw, 'multiline');
    const reason = problem ? '' : normaliseText(raw, 'multiline').trim();
    const error = problem
      ? ctx.t('publisher.error.characters', { character: /U\+[0-9A-F]+/.exec(problem)?.[0] ?? '' })
      : !reason
        ? ctx.t('publisher.error.reason')
        : reason.length > MAX_REASON_LENGTH
          ? ctx.t('publisher.error.tooLong', { max: MAX_REASON_LENGTH })
          : undefined;
    if (error) {
      return sendPage(
        reply,
        ctx,
        <RetractPage ctx={ctx} announcement={announcement} reason={problem ? '' : raw} errors={{ reason: error }} />,
        { status: 400 },
      );
    }
    await retractAnnouncement({ db, publicUrl }, ctx.actor, id, request.id, { reason });
    return reply
      .header('cache-control', 'no-store')
      .redirect(`${WEB_PATHS.announcementDeliveries(id)}?saved=retracted`, 303);
  });
}

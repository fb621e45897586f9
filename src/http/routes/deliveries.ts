/**
 * An announcement's deliveries, for the editors of its channel (publishers, owners) and admins:
 * GET /announcements/{id}/deliveries (counts per medium, kind and status, with skip reasons) and
 * POST /announcements/{id}/deliveries/retry (failed ones back to pending). Rules and queries:
 * src/services/delivery-stats.ts.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Db } from '../../db/prisma.js';
import type { Queues } from '../../queue/jobs.js';
import { deliveryStats, retryFailedDeliveries } from '../../services/delivery-stats.js';
import { POLICY } from '../policy.js';
import { AnnouncementParams } from '../schemas/announcements.js';
import { BEARER_REQUIRED, errorResponses } from '../schemas/common.js';
import { DeliveryStats, RetryDeliveriesQuery, RetryDeliveriesResult } from '../schemas/deliveries.js';

export interface DeliveryRoutesOptions {
  db: Db;
  queues: Pick<Queues, 'email' | 'push' | 'webhook'>;
  /** EMAIL_BATCH_SIZE. */
  emailBatchSize: number;
}

export const deliveryRoutes: FastifyPluginAsyncTypebox<DeliveryRoutesOptions> = async (app, options) => {
  const deps = { db: options.db, queues: options.queues, emailBatchSize: options.emailBatchSize };

  app.get(
    '/announcements/:id/deliveries',
    {
      config: { policy: POLICY.channelPublish },
      schema: {
        tags: ['announcements'],
        operationId: 'getDeliveryFigures',
        summary: 'Delivery figures of an announcement',
        description:
          'For the publishers and owners of its channel and admins (token scope `publish`): how many deliveries ' +
          'are pending, being sent, sent, failed and skipped (with the reasons), per medium (`email`, `push`, ' +
          '`webhook`), kind (the announcement, acknowledgement reminders, corrections per revision, the retraction ' +
          'notice) and revision. Counts only, never recipients. Digests are not counted here (one digest carries ' +
          'several announcements). 404 when the caller may not read the channel; 403 when they may read but not ' +
          'publish there.',
        security: BEARER_REQUIRED,
        params: AnnouncementParams,
        response: { 200: DeliveryStats, ...errorResponses(400, 403, 404) },
      },
    },
    async (request) => deliveryStats(deps, request.actor, request.params.id),
  );

  app.post(
    '/announcements/:id/deliveries/retry',
    {
      config: { policy: POLICY.channelPublish },
      schema: {
        tags: ['announcements'],
        operationId: 'retryFailedDeliveries',
        summary: 'Retry the failed deliveries of an announcement',
        description:
          'Puts its `failed` deliveries (of every medium, or of `medium`) back to pending with their attempts ' +
          'reset and queues them; answers how many. Sent and skipped deliveries are never touched, and the senders ' +
          'check everything again: an address on the suppression list stays unsent (`skipped`, `suppressed`), as ' +
          'does a webhook that was switched off. Audited (`announcement.retry_deliveries`). Publishers and owners ' +
          'of its channel, or an admin (token scope `publish`); 404 when the caller may not read the channel, 403 ' +
          'when they may read but not publish there.',
        security: BEARER_REQUIRED,
        params: AnnouncementParams,
        querystring: RetryDeliveriesQuery,
        response: { 200: RetryDeliveriesResult, ...errorResponses(400, 403, 404) },
      },
    },
    async (request) =>
      retryFailedDeliveries(deps, request.actor, request.params.id, {
        ...(request.query.medium ? { medium: request.query.medium } : {}),
        requestId: request.id,
      }),
  );
};

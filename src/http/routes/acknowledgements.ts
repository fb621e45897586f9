/**
 * Acknowledgements ("I have read this"): POST /announcements/{id}/acknowledgement for readers,
 * GET /announcements/{id}/acknowledgements for the channel's editors. Rules and queries: src/services/acknowledgements.ts.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Db } from '../../db/prisma.js';
import type { AnnounceReaderChange } from '../../realtime/reader-changes.js';
import { acknowledgeAnnouncement, acknowledgementStats } from '../../services/acknowledgements.js';
import { POLICY } from '../policy.js';
import { Acknowledgement, AcknowledgementStats } from '../schemas/acknowledgements.js';
import { AnnouncementParams } from '../schemas/announcements.js';
import { BEARER_REQUIRED, errorResponses } from '../schemas/common.js';

export interface AcknowledgementRoutesOptions {
  db: Db;
  /** Tells the reader's other live connections of an acknowledgement (src/realtime/reader-changes.ts). */
  announceReaderChange?: AnnounceReaderChange;
}

export const acknowledgementRoutes: FastifyPluginAsyncTypebox<AcknowledgementRoutesOptions> = async (app, options) => {
  const deps = { db: options.db, announceReaderChange: options.announceReaderChange };

  app.post(
    '/announcements/:id/acknowledgement',
    {
      config: { policy: POLICY.signedIn },
      schema: {
        tags: ['announcements'],
        operationId: 'acknowledgeAnnouncement',
        summary: 'Acknowledge an announcement ("I have read this")',
        description:
          'For an announcement that asks for acknowledgement (`acknowledgement.required`). Answers 201 the first ' +
          'time and 200 with the same `acknowledgedAt` after that. Keeps the organisation the caller belongs to ' +
          'now, for the per-organisation counts. 404 for an announcement the caller may not read (as for one that ' +
          'does not exist); 409 when it does not ask for acknowledgement or is not published. A token needs scope ' +
          '`read`. There is deliberately no GET that acknowledges: e-mail links only lead to the announcement.',
        security: BEARER_REQUIRED,
        params: AnnouncementParams,
        response: { 200: Acknowledgement, 201: Acknowledgement, ...errorResponses(400, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { view, created } = await acknowledgeAnnouncement(deps, request.actor, request.params.id);
      return reply.code(created ? 201 : 200).send(view);
    },
  );

  app.get(
    '/announcements/:id/acknowledgements',
    {
      config: { policy: POLICY.channelPublish },
      schema: {
        tags: ['announcements'],
        operationId: 'getAcknowledgementFigures',
        summary: 'Acknowledgement figures of an announcement',
        description:
          'For the publishers and owners of its channel and admins (token scope `publish`): how many have ' +
          'acknowledged, how many are expected to, per organisation and per day (Europe/Oslo). Counts only, never ' +
          'names. 404 when the caller may not read the channel; 403 when they may read but not publish there.',
        security: BEARER_REQUIRED,
        params: AnnouncementParams,
        response: { 200: AcknowledgementStats, ...errorResponses(400, 403, 404) },
      },
    },
    async (request) => acknowledgementStats(deps, request.actor, request.params.id),
  );
};

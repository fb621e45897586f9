/** A person's own data: GET /api/v1/me/export (download) and DELETE /api/v1/me (erase the account). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Db } from '../../db/prisma.js';
import type { AnnounceAccessChange } from '../../realtime/access-hints.js';
import { eraseOwnAccount, exportPersonalData } from '../../services/personal-data.js';
import { callerOf } from '../caller.js';
import { clearSessionCookie } from '../plugins/auth.js';
import { POLICY } from '../policy.js';
import { BEARER_REQUIRED, BODY_ERRORS, errorResponses } from '../schemas/common.js';
import { EraseAccountBody, ErasureSummary, PersonalDataExport } from '../schemas/personal-data.js';

export interface PersonalDataRoutesOptions {
  db: Db;
  /** Tells every API process to re-check the erased user's live connections at once. */
  announceAccessChange: AnnounceAccessChange;
}

export const personalDataRoutes: FastifyPluginAsyncTypebox<PersonalDataRoutesOptions> = async (
  app,
  { db, announceAccessChange },
) => {
  app.get(
    '/me/export',
    {
      config: { policy: POLICY.self },
      schema: {
        tags: ['personal data'],
        operationId: 'exportMyData',
        summary: 'Download everything the service holds about me',
        description:
          'One JSON document, as a file download: profile, organisation, subscriptions, channel roles, API tokens ' +
          '(never their secrets), sign-in sessions (times only), announcements you wrote, deliveries to you and the ' +
          'audit records about you. In a signed-in session, or with a token that has scope `read`. Recorded in the ' +
          'audit log.',
        security: BEARER_REQUIRED,
        response: { 200: PersonalDataExport, ...errorResponses(403) },
      },
    },
    async (request, reply) => {
      const data = await exportPersonalData({ db }, callerOf(request));
      const day = data.exportedAt.slice(0, 10);
      return reply
        .header('content-disposition', `attachment; filename="meldingskanal-personal-data-${day}.json"`)
        .header('cache-control', 'no-store')
        .send(data);
    },
  );

  app.delete(
    '/me',
    {
      config: { policy: POLICY.self },
      schema: {
        tags: ['personal data'],
        operationId: 'deleteMyAccount',
        summary: 'Delete my account',
        description:
          'Erases the account: subscriptions, API tokens, channel roles and sign-in sessions go; announcements you ' +
          'wrote stay, with the author shown as a former user. Cannot be undone: send `{"confirm": "DELETE"}`. ' +
          'Only in a signed-in session (API tokens cannot delete accounts). Recorded in the audit log.',
        security: BEARER_REQUIRED,
        body: EraseAccountBody,
        response: { 200: ErasureSummary, ...errorResponses(...BODY_ERRORS, 403) },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const summary = await eraseOwnAccount({ db }, caller, request.body.confirm);
      // After the commit: the account's live connections lose everything but public channels now, not at the next
      // periodic re-check.
      if (request.actor.kind === 'user') await announceAccessChange({ userId: request.actor.userId });
      // The session is gone with the account; tell the browser to drop its cookie too.
      clearSessionCookie(reply);
      return reply.send({
        erased: true as const,
        removed: {
          subscriptions: summary.subscriptions,
          pushSubscriptions: summary.pushSubscriptions,
          apiTokens: summary.apiTokens,
          sessions: summary.sessions,
          channelRoles: summary.channelRoles,
          reads: summary.reads,
          ratings: summary.ratings,
          acknowledgements: summary.acknowledgements,
        },
        announcementsKept: summary.announcementsKept,
      });
    },
  );
};

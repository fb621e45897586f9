/** GET /api/v1/admin/audit: the audit log, for administrators. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Db } from '../../db/prisma.js';
import { listAuditLog } from '../../services/audit.js';
import { POLICY } from '../policy.js';
import { AuditPage, AuditQuery } from '../schemas/audit.js';
import { BEARER_REQUIRED, errorResponses } from '../schemas/common.js';

export interface AuditRoutesOptions {
  db: Db;
}

export const auditRoutes: FastifyPluginAsyncTypebox<AuditRoutesOptions> = async (app, { db }) => {
  app.get(
    '/admin/audit',
    {
      config: { policy: POLICY.admin },
      schema: {
        tags: ['audit'],
        operationId: 'listAuditRecords',
        summary: 'List audit records',
        description:
          'Every privileged action and every denied attempt at one, newest first. Filters combine (AND); `from` is ' +
          'inclusive and `to` exclusive. Administrators only (a token needs scope `admin`).',
        security: BEARER_REQUIRED,
        querystring: AuditQuery,
        response: { 200: AuditPage, ...errorResponses(400, 403) },
      },
    },
    async (request, reply) => {
      const { from, to, ...filters } = request.query;
      const page = await listAuditLog({ db }, request.actor, {
        ...filters,
        ...(from ? { from: new Date(from) } : {}),
        ...(to ? { to: new Date(to) } : {}),
      });
      return reply.header('cache-control', 'no-store').send(page);
    },
  );
};

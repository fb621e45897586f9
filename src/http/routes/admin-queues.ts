/**
 * The administrators' view of the delivery queues: GET /admin/queues (BullMQ job counts per queue, paused, and the
 * ledger's counts) and GET /admin/queues/{name}/failed (a queue's failed jobs, without their data). Queries:
 * src/services/admin-queues.ts.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Db } from '../../db/prisma.js';
import type { Queues } from '../../queue/jobs.js';
import { failedJobs, queueOverview } from '../../services/admin-queues.js';
import { POLICY } from '../policy.js';
import { FailedJobs, FailedJobsQuery, QueueOverview, QueueParams } from '../schemas/admin-queues.js';
import { BEARER_REQUIRED, errorResponses } from '../schemas/common.js';

export interface AdminQueueRoutesOptions {
  db: Db;
  queues: Queues;
}

export const adminQueueRoutes: FastifyPluginAsyncTypebox<AdminQueueRoutesOptions> = async (app, options) => {
  const deps = { db: options.db, queues: options.queues };

  app.get(
    '/admin/queues',
    {
      config: { policy: POLICY.admin },
      schema: {
        tags: ['admin'],
        operationId: 'getQueueOverview',
        summary: 'The delivery queues and the ledger',
        description:
          'For administrators (token scope `admin`): per BullMQ queue its job counts by state and whether it is ' +
          'paused (read from Redis now), and the ledger in PostgreSQL — deliveries per medium and digests by ' +
          'status, with how long the oldest due pending row has waited. Counts only.',
        security: BEARER_REQUIRED,
        response: { 200: QueueOverview, ...errorResponses(401, 403) },
      },
    },
    async (request) => queueOverview(deps, request.actor),
  );

  app.get(
    '/admin/queues/:name/failed',
    {
      config: { policy: POLICY.admin },
      schema: {
        tags: ['admin'],
        operationId: 'listFailedJobs',
        summary: "A queue's failed jobs",
        description:
          'For administrators (token scope `admin`): the most recently failed jobs of one queue (`limit`, default ' +
          '20, at most 100) with their id, name, failure reason, attempts and times — never their data. Failed ' +
          'jobs are kept 7 days. A failed job is not lost work: the ledger in PostgreSQL still holds its ' +
          'deliveries, which the sweeper re-queues. 404 for a queue that does not exist.',
        security: BEARER_REQUIRED,
        params: QueueParams,
        querystring: FailedJobsQuery,
        response: { 200: FailedJobs, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => failedJobs(deps, request.actor, request.params.name, request.query.limit ?? 20),
  );
};

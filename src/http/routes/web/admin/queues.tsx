/**
 * Queue health for administrators (src/web/pages/admin/queues.tsx), over src/services/admin-queues.ts as
 * GET /api/v1/admin/queues is:
 *
 * - `GET /admin/queues` — each queue's job counts and paused flag, the ledger by status;
 * - `GET /admin/queues/:name` — one queue's most recently failed jobs (no job data).
 */
import type { FastifyInstance } from 'fastify';
import { notFound } from '../../../../domain/errors.js';
import { failedJobs, MAX_FAILED_JOBS, queueOverview } from '../../../../services/admin-queues.js';
import { AdminQueuePage, AdminQueuesPage } from '../../../../web/pages/admin/queues.js';
import { WEB_PATHS } from '../../../../web/paths.js';
import { sendPage } from '../../../../web/render.js';
import type { WebRouteOptions } from '../index.js';
import { ADMIN_ROUTE, adminPageContext } from './helpers.js';

export async function adminQueuePages(app: FastifyInstance, { db, queues }: WebRouteOptions): Promise<void> {
  app.get(WEB_PATHS.adminQueues, ADMIN_ROUTE, async (request, reply) => {
    const ctx = await adminPageContext(app, request);
    const overview = await queueOverview({ db, queues }, ctx.actor);
    return sendPage(reply, ctx, <AdminQueuesPage ctx={ctx} overview={overview} />);
  });

  app.get('/admin/queues/:name', ADMIN_ROUTE, async (request, reply) => {
    const ctx = await adminPageContext(app, request);
    const name = (request.params as { name?: unknown }).name;
    if (typeof name !== 'string' || name.length > 100) throw notFound('Queue');
    const { queue, jobs } = await failedJobs({ queues }, ctx.actor, name, MAX_FAILED_JOBS);
    return sendPage(reply, ctx, <AdminQueuePage ctx={ctx} queue={queue} jobs={jobs} />);
  });
}

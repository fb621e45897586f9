/** `GET /admin` — the administrators' start page (src/web/pages/admin/start.tsx). */
import type { FastifyInstance } from 'fastify';
import { AdminStartPage } from '../../../../web/pages/admin/start.js';
import { WEB_PATHS } from '../../../../web/paths.js';
import { sendPage } from '../../../../web/render.js';
import { ADMIN_ROUTE, adminPageContext } from './helpers.js';

export async function adminStartPage(app: FastifyInstance): Promise<void> {
  app.get(WEB_PATHS.admin, ADMIN_ROUTE, async (request, reply) => {
    const ctx = await adminPageContext(app, request);
    return sendPage(reply, ctx, <AdminStartPage ctx={ctx} />);
  });
}

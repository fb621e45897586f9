/**
 * `GET /admin/suppressions?email=` — look up one address on the e-mail suppression list
 * (src/web/pages/admin/suppressions.tsx), through src/services/suppression.ts findSuppression as the API does. A
 * GET form, like the API's look-up: it changes nothing, and query strings never reach the logs (src/logger.ts).
 */
import type { FastifyInstance } from 'fastify';
import { isAppError } from '../../../../domain/errors.js';
import { findSuppression, type SuppressionView } from '../../../../services/suppression.js';
import { normaliseEmail } from '../../../../services/users.js';
import { AdminSuppressionsPage } from '../../../../web/pages/admin/suppressions.js';
import { WEB_PATHS } from '../../../../web/paths.js';
import { sendPage } from '../../../../web/render.js';
import type { WebRouteOptions } from '../index.js';
import { queryParam } from '../page-input.js';
import { ADMIN_ROUTE, adminPageContext } from './helpers.js';

export async function adminSuppressionPage(app: FastifyInstance, { db }: WebRouteOptions): Promise<void> {
  app.get(WEB_PATHS.adminSuppressions, ADMIN_ROUTE, async (request, reply) => {
    const ctx = await adminPageContext(app, request);
    const email = queryParam(request, 'email')?.trim() ?? '';
    if (!email) return sendPage(reply, ctx, <AdminSuppressionsPage ctx={ctx} email="" />);
    let address: string;
    try {
      address = normaliseEmail(email);
    } catch (error) {
      if (!isAppError(error)) throw error;
      return sendPage(
        reply,
        ctx,
        <AdminSuppressionsPage ctx={ctx} email={email} errors={{ email: ctx.t('admin.error.email') }} />,
        { status: 400 },
      );
    }
    let result: SuppressionView | 'none';
    try {
      result = await findSuppression(db, ctx.actor, address);
    } catch (error) {
      // Never suppressed is an answer, not an error, on this page.
      if (!isAppError(error) || error.code !== 'not_found') throw error;
      result = 'none';
    }
    return sendPage(reply, ctx, <AdminSuppressionsPage ctx={ctx} email={email} result={result} />);
  });
}

/**
 * Everyone's API tokens for administrators (src/web/pages/admin/tokens.tsx), thin over src/services/api-tokens.ts:
 *
 * - `GET /admin/tokens` — newest first, keyset pages (`cursor`), `user=<id>` for one person's;
 * - `GET|POST /admin/tokens/:id/revoke` — the confirmation step, then the revocation (which also ends the token's
 *   live connections, as the API's does).
 */
import type { FastifyInstance } from 'fastify';
import { notFound } from '../../../../domain/errors.js';
import { announceAccessChange } from '../../../../realtime/access-hints.js';
import { getAnyToken, listAllTokens, revokeAnyToken } from '../../../../services/api-tokens.js';
import { getUserForAdmin } from '../../../../services/users.js';
import { AdminTokensPage, RevokeTokenPage } from '../../../../web/pages/admin/tokens.js';
import { WEB_PATHS } from '../../../../web/paths.js';
import { sendPage } from '../../../../web/render.js';
import { callerOf } from '../../../caller.js';
import type { WebRouteOptions } from '../index.js';
import { queryParam } from '../page-input.js';
import { idParam } from '../publisher/page-helpers.js';
import { ADMIN_ROUTE, adminNotice, adminPageContext, redirectDone } from './helpers.js';

/** Tokens per page. */
export const ADMIN_TOKEN_PAGE_SIZE = 50;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function adminTokenPages(app: FastifyInstance, { db, config, redis }: WebRouteOptions): Promise<void> {
  const revokeDeps = {
    db,
    announceAccessChange: (hint: Parameters<typeof announceAccessChange>[2]) =>
      announceAccessChange(redis, config.redis.prefix, hint),
  };

  app.get(WEB_PATHS.adminTokens, ADMIN_ROUTE, async (request, reply) => {
    const ctx = await adminPageContext(app, request);
    const userId = queryParam(request, 'user');
    if (userId !== undefined && !UUID.test(userId)) throw notFound('User');
    const cursor = queryParam(request, 'cursor');
    const [page, owner] = await Promise.all([
      listAllTokens({ db }, callerOf(request), {
        limit: ADMIN_TOKEN_PAGE_SIZE,
        ...(userId ? { userId: userId.toLowerCase() } : {}),
        ...(cursor ? { cursor } : {}),
      }),
      userId ? getUserForAdmin({ db }, ctx.actor, userId.toLowerCase()) : undefined,
    ]);
    return sendPage(
      reply,
      ctx,
      <AdminTokensPage
        ctx={ctx}
        tokens={page.items}
        owner={owner ? { userId: owner.id, displayName: owner.displayName } : undefined}
        nextCursor={page.nextCursor}
        onLaterPage={cursor !== undefined}
        notice={adminNotice(ctx, request)}
      />,
    );
  });

  app.get('/admin/tokens/:id/revoke', ADMIN_ROUTE, async (request, reply) => {
    const ctx = await adminPageContext(app, request);
    const token = await getAnyToken({ db }, callerOf(request), idParam(request, 'Token'));
    return sendPage(reply, ctx, <RevokeTokenPage ctx={ctx} token={token} />);
  });

  app.post('/admin/tokens/:id/revoke', ADMIN_ROUTE, async (request, reply) => {
    await adminPageContext(app, request);
    await revokeAnyToken(revokeDeps, callerOf(request), idParam(request, 'Token'));
    return redirectDone(reply, WEB_PATHS.adminTokens, 'tokenRevoked');
  });
}

/**
 * People and roles for administrators (src/web/pages/admin/users.tsx):
 *
 * - `GET /admin/users` — find people by name, e-mail address or Feide id (`q`, `admins=1`, keyset `cursor`;
 *   src/services/users.ts searchUsers);
 * - `GET /admin/users/:id` — one person;
 * - `POST /admin/users/:id/admin` — make them an administrator or take that away (`admin=grant|revoke`;
 *   setAdministrator, audited);
 * - `POST /admin/users/:id/roles` and `/roles/revoke` — give or take a channel role, through the same use cases as
 *   the channel settings (src/services/channel-settings.ts), so their rules and audit records apply.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, isAppError, notFound } from '../../../../domain/errors.js';
import type { ChannelRoleKind } from '../../../../domain/types.js';
import { announceAccessChange } from '../../../../realtime/access-hints.js';
import { revokeChannelRole, setChannelRole } from '../../../../services/channel-settings.js';
import { listChannels } from '../../../../services/channels.js';
import { getUserForAdmin, MAX_USER_QUERY_LENGTH, searchUsers, setAdministrator } from '../../../../services/users.js';
import type { PageContext } from '../../../../web/context.js';
import { AdminUserPage, AdminUsersPage } from '../../../../web/pages/admin/users.js';
import { WEB_PATHS } from '../../../../web/paths.js';
import { sendPage } from '../../../../web/render.js';
import { callerOf } from '../../../caller.js';
import { formString } from '../../../form-body.js';
import type { WebRouteOptions } from '../index.js';
import { queryParam } from '../page-input.js';
import { idParam } from '../publisher/page-helpers.js';
import { ADMIN_ROUTE, adminNotice, adminPageContext, redirectDone } from './helpers.js';

/** People per page of a search. */
export const ADMIN_USER_PAGE_SIZE = 50;
/** The channels the role form offers (every channel, by title; BOTT has a handful). */
const ROLE_FORM_CHANNELS = 500;

export async function adminUserPages(app: FastifyInstance, { db, config, redis }: WebRouteOptions): Promise<void> {
  const deps = {
    db,
    announceAccessChange: (hint: Parameters<typeof announceAccessChange>[2]) =>
      announceAccessChange(redis, config.redis.prefix, hint),
  };

  app.get(WEB_PATHS.adminUsers, ADMIN_ROUTE, async (request, reply) => {
    const ctx = await adminPageContext(app, request);
    const values = { q: queryParam(request, 'q')?.trim() ?? '', admins: queryParam(request, 'admins') === '1' };
    if (values.q.length > MAX_USER_QUERY_LENGTH) {
      return sendPage(
        reply,
        ctx,
        <AdminUsersPage
          ctx={ctx}
          values={values}
          users={[]}
          nextCursor={null}
          onLaterPage={false}
          errors={{ q: ctx.t('publisher.error.tooLong', { max: MAX_USER_QUERY_LENGTH }) }}
        />,
        { status: 400 },
      );
    }
    const cursor = queryParam(request, 'cursor');
    const page = await searchUsers({ db }, ctx.actor, {
      ...(values.q ? { q: values.q } : {}),
      adminsOnly: values.admins,
      limit: ADMIN_USER_PAGE_SIZE,
      ...(cursor ? { cursor } : {}),
    });
    return sendPage(
      reply,
      ctx,
      <AdminUsersPage
        ctx={ctx}
        values={values}
        users={page.items}
        nextCursor={page.nextCursor}
        onLaterPage={cursor !== undefined}
      />,
    );
  });

  async function renderUser(
    reply: FastifyReply,
    ctx: PageContext,
    request: FastifyRequest,
    extra: { values?: { channel: string; role: ChannelRoleKind }; errors?: Record<string, string> } = {},
    status = 200,
  ) {
    const [user, channels] = await Promise.all([
      getUserForAdmin({ db }, ctx.actor, idParam(request, 'User')),
      listChannels({ db }, ctx.actor, { limit: ROLE_FORM_CHANNELS }),
    ]);
    return sendPage(
      reply,
      ctx,
      <AdminUserPage
        ctx={ctx}
        user={user}
        channels={channels.items
          .map((channel) => ({ slug: channel.slug, title: channel.title }))
          .sort((a, b) => a.title.localeCompare(b.title, ctx.language === 'en' ? 'en' : 'nb'))}
        values={extra.values ?? { channel: '', role: 'publisher' }}
        errors={extra.errors}
        notice={adminNotice(ctx, request)}
      />,
      { status },
    );
  }

  app.get('/admin/users/:id', ADMIN_ROUTE, async (request, reply) => {
    const ctx = await adminPageContext(app, request);
    return renderUser(reply, ctx, request);
  });

  app.post('/admin/users/:id/admin', ADMIN_ROUTE, async (request, reply) => {
    await adminPageContext(app, request);
    const userId = idParam(request, 'User');
    const wanted = formString(request.body, 'admin');
    if (wanted !== 'grant' && wanted !== 'revoke') {
      // Only the page's own buttons send this field: anything else is a malformed request, not a form to correct.
      throw new AppError('validation_failed', 'admin must be grant or revoke', { field: 'admin' });
    }
    await setAdministrator(deps, callerOf(request), { userId, isAdmin: wanted === 'grant' });
    return redirectDone(reply, WEB_PATHS.adminUser(userId), wanted === 'grant' ? 'adminGranted' : 'adminRevoked');
  });

  app.post('/admin/users/:id/roles', ADMIN_ROUTE, async (request, reply) => {
    const ctx = await adminPageContext(app, request);
    const userId = idParam(request, 'User');
    const channel = (formString(request.body, 'channel') ?? '').trim();
    const role: ChannelRoleKind = formString(request.body, 'role') === 'owner' ? 'owner' : 'publisher';
    const errors: Record<string, string> = {};
    if (!channel) {
      errors.channel = ctx.t('admin.error.channel');
    } else {
      try {
        await setChannelRole(deps, callerOf(request), { slug: channel, userId, role });
        return redirectDone(reply, WEB_PATHS.adminUser(userId), 'roleGranted');
      } catch (error) {
        // A channel that is not (any more) there is the form's problem; an unknown person is the page's (404).
        if (!isAppError(error) || error.message !== notFound('Channel').message) throw error;
        errors.channel = ctx.t('admin.error.channelUnknown');
      }
    }
    return renderUser(reply, ctx, request, { values: { channel, role }, errors }, 400);
  });

  app.post('/admin/users/:id/roles/revoke', ADMIN_ROUTE, async (request, reply) => {
    await adminPageContext(app, request);
    const userId = idParam(request, 'User');
    const slug = formString(request.body, 'channel') ?? '';
    if (!slug || slug.length > 100) throw notFound('Channel');
    await revokeChannelRole(deps, callerOf(request), { slug, userId });
    return redirectDone(reply, WEB_PATHS.adminUser(userId), 'roleRemoved');
  });
}

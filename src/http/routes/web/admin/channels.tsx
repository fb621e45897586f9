/**
 * Channels for administrators (src/web/pages/admin/channels.tsx), thin over src/services/channels.ts and
 * src/services/channel-settings.ts:
 *
 * - `GET /admin/channels` — every channel with its owners (keyset pages by slug); `POST` creates one (the API's
 *   schema, CreateChannelBody);
 * - `GET /admin/channels/:slug` — its owners and publishers; `POST …/owners` makes someone owner (by e-mail address or
 *   Feide id, or a publisher by id), `POST …/owners/remove` takes their role away;
 * - `GET|POST /admin/channels/:slug/delete` — the confirmation step (type the slug), then the deletion.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isAppError, notFound } from '../../../../domain/errors.js';
import { CHANNEL_VISIBILITIES, type ChannelVisibility } from '../../../../domain/types.js';
import { announceAccessChange } from '../../../../realtime/access-hints.js';
import {
  deleteChannel,
  listChannelRoles,
  revokeChannelRole,
  setChannelRole,
} from '../../../../services/channel-settings.js';
import { createChannel, getChannel, listChannelOverview } from '../../../../services/channels.js';
import { findPersonByAddress } from '../../../../services/publishing.js';
import type { PageContext } from '../../../../web/context.js';
import {
  AdminChannelPage,
  AdminChannelsPage,
  DeleteChannelPage,
  type NewChannelValues,
} from '../../../../web/pages/admin/channels.js';
import { WEB_PATHS } from '../../../../web/paths.js';
import { sendPage } from '../../../../web/render.js';
import { callerOf } from '../../../caller.js';
import { formString } from '../../../form-body.js';
import { CreateChannelBody } from '../../../schemas/channels.js';
import type { WebRouteOptions } from '../index.js';
import { queryParam } from '../page-input.js';
import { FormProblems } from '../publisher/editor-form.js';
import { slugOf } from '../publisher/page-helpers.js';
import { ADMIN_ROUTE, adminNotice, adminPageContext, checkForm, redirectDone } from './helpers.js';

/** Channels per page of the overview. */
export const ADMIN_CHANNEL_PAGE_SIZE = 50;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function adminChannelPages(app: FastifyInstance, { db, config, redis }: WebRouteOptions): Promise<void> {
  const channelDeps = {
    db,
    announceAccessChange: (hint: Parameters<typeof announceAccessChange>[2]) =>
      announceAccessChange(redis, config.redis.prefix, hint),
  };

  async function renderList(
    reply: FastifyReply,
    ctx: PageContext,
    request: FastifyRequest,
    extra: { values?: NewChannelValues; errors?: Record<string, string> } = {},
    status = 200,
  ) {
    const cursor = queryParam(request, 'cursor');
    const page = await listChannelOverview({ db }, ctx.actor, {
      limit: ADMIN_CHANNEL_PAGE_SIZE,
      ...(cursor ? { cursor } : {}),
    });
    return sendPage(
      reply,
      ctx,
      <AdminChannelsPage
        ctx={ctx}
        channels={page.items}
        nextCursor={page.nextCursor}
        onLaterPage={cursor !== undefined}
        values={extra.values ?? { slug: '', title: '', description: '', visibility: 'internal' }}
        errors={extra.errors}
        notice={adminNotice(ctx, request)}
      />,
      { status },
    );
  }

  app.get(WEB_PATHS.adminChannels, ADMIN_ROUTE, async (request, reply) => {
    const ctx = await adminPageContext(app, request);
    return renderList(reply, ctx, request);
  });

  app.post(WEB_PATHS.adminChannels, ADMIN_ROUTE, async (request, reply) => {
    const ctx = await adminPageContext(app, request);
    const visibility = formString(request.body, 'visibility') ?? '';
    const values: NewChannelValues = {
      slug: (formString(request.body, 'slug') ?? '').trim(),
      title: formString(request.body, 'title') ?? '',
      description: formString(request.body, 'description') ?? '',
      visibility: (CHANNEL_VISIBILITIES as readonly string[]).includes(visibility)
        ? (visibility as ChannelVisibility)
        : 'internal',
    };
    const problems = new FormProblems(ctx.t);
    const input = {
      slug: values.slug,
      title: values.title,
      ...(values.description.trim() ? { description: values.description } : {}),
      visibility,
    };
    checkForm(
      request,
      CreateChannelBody,
      input,
      {
        slug: { field: 'slug', key: 'admin.error.slug' },
        title: { field: 'title', key: 'publisher.error.name' },
        description: { field: 'description', key: 'publisher.error.description' },
        visibility: { field: 'visibility', key: 'publisher.error.choice' },
      },
      problems,
    );
    if (problems.empty) {
      try {
        // The schema accepted it, so the visibility is one of CHANNEL_VISIBILITIES.
        const created = await createChannel(
          { db },
          ctx.actor,
          { ...input, visibility: input.visibility as ChannelVisibility },
          request.id,
        );
        return redirectDone(reply, WEB_PATHS.adminChannel(created.slug), 'channelCreated');
      } catch (error) {
        if (!isAppError(error)) throw error;
        if (error.code === 'conflict') problems.add('slug', 'admin.error.slugTaken');
        else if (error.code === 'validation_failed') problems.add('title', 'publisher.error.name');
        else throw error;
      }
    }
    return renderList(reply, ctx, request, { values, errors: problems.fieldErrors }, 400);
  });

  async function renderChannel(
    reply: FastifyReply,
    ctx: PageContext,
    request: FastifyRequest,
    slug: string,
    extra: { person?: string; errors?: Record<string, string> } = {},
    status = 200,
  ) {
    const caller = callerOf(request);
    // As an administrator: every channel (getChannel reads it with the administrator's read scope).
    const [channel, roles] = await Promise.all([
      getChannel({ db }, ctx.actor, slug),
      listChannelRoles(channelDeps, caller, slug),
    ]);
    return sendPage(
      reply,
      ctx,
      <AdminChannelPage
        ctx={ctx}
        channel={channel}
        roles={roles}
        person={extra.person ?? ''}
        errors={extra.errors}
        notice={adminNotice(ctx, request)}
      />,
      { status },
    );
  }

  app.get('/admin/channels/:slug', ADMIN_ROUTE, async (request, reply) => {
    const ctx = await adminPageContext(app, request);
    return renderChannel(reply, ctx, request, slugOf(request));
  });

  app.post('/admin/channels/:slug/owners', ADMIN_ROUTE, async (request, reply) => {
    const ctx = await adminPageContext(app, request);
    const slug = slugOf(request);
    const userId = formString(request.body, 'userId');
    const person = formString(request.body, 'person') ?? '';
    const problems = new FormProblems(ctx.t);
    try {
      // A publisher listed on the page is made owner by id; anyone else by the address they signed in with.
      const id = userId !== undefined && UUID.test(userId) ? userId : (await findPersonByAddress(db, person)).id;
      await setChannelRole(channelDeps, callerOf(request), { slug, userId: id, role: 'owner' });
      return redirectDone(reply, WEB_PATHS.adminChannel(slug), 'ownerAdded');
    } catch (error) {
      if (!isAppError(error) || (error.details as { field?: unknown } | undefined)?.field !== 'person') throw error;
      problems.add(
        'person',
        error.code === 'not_found'
          ? 'publisher.error.personUnknown'
          : error.code === 'conflict'
            ? 'publisher.error.personAmbiguous'
            : 'publisher.error.person',
      );
    }
    return renderChannel(reply, ctx, request, slug, { person, errors: problems.fieldErrors }, 400);
  });

  app.post('/admin/channels/:slug/owners/remove', ADMIN_ROUTE, async (request, reply) => {
    await adminPageContext(app, request);
    const slug = slugOf(request);
    const userId = formString(request.body, 'userId') ?? '';
    if (!UUID.test(userId)) throw notFound('Role');
    await revokeChannelRole(channelDeps, callerOf(request), { slug, userId });
    return redirectDone(reply, WEB_PATHS.adminChannel(slug), 'roleRemoved');
  });

  app.get('/admin/channels/:slug/delete', ADMIN_ROUTE, async (request, reply) => {
    const ctx = await adminPageContext(app, request);
    const channel = await getChannel({ db }, ctx.actor, slugOf(request));
    return sendPage(reply, ctx, <DeleteChannelPage ctx={ctx} channel={channel} confirm="" />);
  });

  app.post('/admin/channels/:slug/delete', ADMIN_ROUTE, async (request, reply) => {
    const ctx = await adminPageContext(app, request);
    const channel = await getChannel({ db }, ctx.actor, slugOf(request));
    const confirm = (formString(request.body, 'confirm') ?? '').trim();
    if (confirm !== channel.slug) {
      return sendPage(
        reply,
        ctx,
        <DeleteChannelPage
          ctx={ctx}
          channel={channel}
          confirm={confirm}
          errors={{ confirm: ctx.t('admin.error.confirmSlug') }}
        />,
        { status: 400 },
      );
    }
    await deleteChannel(channelDeps, callerOf(request), channel.slug);
    return redirectDone(reply, WEB_PATHS.adminChannels, 'channelDeleted');
  });
}

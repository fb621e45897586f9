/**
 * Managing a channel: PATCH/DELETE /api/v1/channels/:slug and its roles under /api/v1/channels/:slug/roles.
 * Owners change settings and manage publishers; administrators do everything, including owners and deletion.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Db } from '../../db/prisma.js';
import type { AnnounceAccessChange } from '../../realtime/access-hints.js';
import {
  deleteChannel,
  listChannelRoles,
  revokeChannelRole,
  setChannelRole,
  updateChannel,
} from '../../services/channel-settings.js';
import { callerOf } from '../caller.js';
import { POLICY } from '../policy.js';
import {
  ChannelRole,
  ChannelRoleList,
  ChannelRoleParams,
  PutChannelRoleBody,
  UpdateChannelBody,
} from '../schemas/channel-settings.js';
import { Channel, ChannelParams } from '../schemas/channels.js';
import { BEARER_REQUIRED, BODY_ERRORS, errorResponses } from '../schemas/common.js';

export interface ChannelSettingsRoutesOptions {
  db: Db;
  /** Re-checks live connections at once after a change that can take reading away. */
  announceAccessChange?: AnnounceAccessChange;
}

const HIDDEN = 'A channel the caller may not read answers 404, like one that does not exist.';

export const channelSettingsRoutes: FastifyPluginAsyncTypebox<ChannelSettingsRoutesOptions> = async (
  app,
  { db, announceAccessChange },
) => {
  const deps = { db, announceAccessChange };
  app.patch(
    '/channels/:slug',
    {
      config: { policy: POLICY.channelManage },
      schema: {
        tags: ['channels'],
        operationId: 'updateChannel',
        summary: "Change a channel's settings",
        description: `Title, description and visibility. The channel's owners and administrators. ${HIDDEN}`,
        security: BEARER_REQUIRED,
        params: ChannelParams,
        body: UpdateChannelBody,
        response: { 200: Channel, ...errorResponses(...BODY_ERRORS, 403, 404) },
      },
    },
    async (request) => updateChannel(deps, callerOf(request), request.params.slug, request.body),
  );

  app.delete(
    '/channels/:slug',
    {
      config: { policy: POLICY.admin },
      schema: {
        tags: ['channels'],
        operationId: 'deleteChannel',
        summary: 'Delete a channel',
        description: 'With its announcements, roles and subscriptions. Administrators only.',
        security: BEARER_REQUIRED,
        params: ChannelParams,
        response: { 204: Type.Null({ description: 'Deleted' }), ...errorResponses(400, 403, 404) },
      },
    },
    async (request, reply) => {
      await deleteChannel(deps, callerOf(request), request.params.slug);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/channels/:slug/roles',
    {
      config: { policy: POLICY.channelManage },
      schema: {
        tags: ['channels'],
        operationId: 'listChannelRoles',
        summary: "List a channel's owners and publishers",
        description: `The channel's owners and administrators. ${HIDDEN}`,
        security: BEARER_REQUIRED,
        params: ChannelParams,
        response: { 200: ChannelRoleList, ...errorResponses(400, 403, 404) },
      },
    },
    async (request) => ({ items: await listChannelRoles(deps, callerOf(request), request.params.slug) }),
  );

  app.put(
    '/channels/:slug/roles/:userId',
    {
      config: { policy: POLICY.channelManage },
      schema: {
        tags: ['channels'],
        operationId: 'grantChannelRole',
        summary: 'Give a person a role in a channel',
        description:
          'Creates the role (201) or changes it (200). Owners grant and revoke `publisher`; only administrators ' +
          `grant or revoke \`owner\` (also when changing an owner into a publisher). ${HIDDEN}`,
        security: BEARER_REQUIRED,
        params: ChannelRoleParams,
        body: PutChannelRoleBody,
        response: {
          200: ChannelRole,
          201: Type.Object(ChannelRole.properties, { additionalProperties: false, description: 'Created' }),
          ...errorResponses(...BODY_ERRORS, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const { role, created } = await setChannelRole(deps, callerOf(request), {
        slug: request.params.slug,
        userId: request.params.userId,
        role: request.body.role,
      });
      return reply.code(created ? 201 : 200).send(role);
    },
  );

  app.delete(
    '/channels/:slug/roles/:userId',
    {
      config: { policy: POLICY.channelManage },
      schema: {
        tags: ['channels'],
        operationId: 'revokeChannelRole',
        summary: "Remove a person's role in a channel",
        description: `Owners remove publishers; only administrators remove owners. 404 when the person has no role. ${HIDDEN}`,
        security: BEARER_REQUIRED,
        params: ChannelRoleParams,
        response: { 204: Type.Null({ description: 'Removed' }), ...errorResponses(400, 403, 404) },
      },
    },
    async (request, reply) => {
      await revokeChannelRole(deps, callerOf(request), request.params);
      return reply.code(204).send(null);
    },
  );
};

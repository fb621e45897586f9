/** /api/v1/channels: create (admins), list and get the channels the caller may read. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Db } from '../../db/prisma.js';
import { createChannel, getChannel, listChannels } from '../../services/channels.js';
import { POLICY } from '../policy.js';
import { Channel, ChannelPage, ChannelParams, CreateChannelBody } from '../schemas/channels.js';
import { BEARER_OPTIONAL, BEARER_REQUIRED, BODY_ERRORS, errorResponses, PageQuery } from '../schemas/common.js';

export interface ChannelRoutesOptions {
  db: Db;
}

export const channelRoutes: FastifyPluginAsyncTypebox<ChannelRoutesOptions> = async (app, { db }) => {
  app.post(
    '/channels',
    {
      config: { policy: POLICY.admin },
      schema: {
        tags: ['channels'],
        operationId: 'createChannel',
        summary: 'Create a channel',
        description: 'Needs an admin token (scope `admin`). The slug is permanent.',
        security: BEARER_REQUIRED,
        body: CreateChannelBody,
        response: { 201: Channel, ...errorResponses(...BODY_ERRORS, 403, 409) },
      },
    },
    async (request, reply) => {
      const channel = await createChannel({ db }, request.actor, request.body, request.id);
      return reply.code(201).header('location', `/api/v1/channels/${channel.slug}`).send(channel);
    },
  );

  app.get(
    '/channels',
    {
      config: { policy: POLICY.public },
      schema: {
        tags: ['channels'],
        operationId: 'listChannels',
        summary: 'List channels',
        description: 'The channels the caller may read (public ones without a token), ordered by slug.',
        security: BEARER_OPTIONAL,
        querystring: PageQuery,
        response: { 200: ChannelPage, ...errorResponses(400) },
      },
    },
    async (request) => listChannels({ db }, request.actor, request.query),
  );

  app.get(
    '/channels/:slug',
    {
      config: { policy: POLICY.channelRead },
      schema: {
        tags: ['channels'],
        operationId: 'getChannel',
        summary: 'Get a channel',
        description: 'A channel the caller may not read answers 404, like one that does not exist.',
        security: BEARER_OPTIONAL,
        params: ChannelParams,
        response: { 200: Channel, ...errorResponses(400, 404) },
      },
    },
    async (request) => getChannel({ db }, request.actor, request.params.slug),
  );
};

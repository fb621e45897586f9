/**
 * Personal feed URLs: /api/v1/me/feed-tokens. A feed reader cannot sign in, so a person who reads internal or
 * restricted channels gets a secret URL (src/services/feed-tokens.ts) that serves their personal feed.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Config } from '../../config.js';
import type { Db } from '../../db/prisma.js';
import { createMyFeedToken, listMyFeedTokens, revokeMyFeedToken } from '../../services/feed-tokens.js';
import { callerOf } from '../caller.js';
import { sensitiveRouteLimit } from '../plugins/rate-limit.js';
import { POLICY } from '../policy.js';
import { BEARER_REQUIRED, errorResponses } from '../schemas/common.js';
import { CreatedFeedToken, FeedTokenList, FeedTokenParams } from '../schemas/feed-tokens.js';

export interface FeedTokenRoutesOptions {
  db: Db;
  /** PUBLIC_URL, for the absolute feed URLs; and the tighter rate limit of creation. */
  config: Pick<Config, 'rateLimit' | 'http'>;
}

export const feedTokenRoutes: FastifyPluginAsyncTypebox<FeedTokenRoutesOptions> = async (app, { db, config }) => {
  app.get(
    '/me/feed-tokens',
    {
      config: { policy: POLICY.self },
      schema: {
        tags: ['feeds'],
        operationId: 'listMyFeedTokens',
        summary: 'List my personal feed URLs',
        description: 'Without their secrets. Revoked ones are not listed.',
        security: BEARER_REQUIRED,
        response: { 200: FeedTokenList, ...errorResponses() },
      },
    },
    async (request) => ({ items: await listMyFeedTokens({ db }, callerOf(request)) }),
  );

  app.post(
    '/me/feed-tokens',
    {
      // Minting credentials in bulk is never routine.
      config: { policy: POLICY.self, rateLimit: sensitiveRouteLimit(config) },
      schema: {
        tags: ['feeds'],
        operationId: 'createFeedToken',
        summary: 'Create a personal feed URL',
        description:
          'For reading internal and restricted channels in a feed reader: the channels you subscribe to and may ' +
          'read at each fetch. In a signed-in session (or with a token that has scope `admin`). The secret URLs are ' +
          'in this response only.',
        security: BEARER_REQUIRED,
        response: { 201: CreatedFeedToken, ...errorResponses(403) },
      },
    },
    async (request, reply) => {
      const created = await createMyFeedToken({ db, publicUrl: config.http.publicUrl }, callerOf(request));
      // The secret must not linger in caches.
      return reply.code(201).header('cache-control', 'no-store').send(created);
    },
  );

  app.delete(
    '/me/feed-tokens/:id',
    {
      config: { policy: POLICY.self },
      schema: {
        tags: ['feeds'],
        operationId: 'revokeFeedToken',
        summary: 'Revoke a personal feed URL',
        description: 'The URL answers 404 from now on. 404 for one that is not yours, like one that does not exist.',
        security: BEARER_REQUIRED,
        params: FeedTokenParams,
        response: { 204: Type.Null({ description: 'Revoked' }), ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      await revokeMyFeedToken({ db }, callerOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
};

/**
 * API tokens: /api/v1/me/tokens (one's own) and /api/v1/tokens/:id (administrators revoke anyone's).
 * Creating needs a signed-in session or a token with scope `admin` (src/services/api-tokens.ts says why).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Config } from '../../config.js';
import type { Db } from '../../db/prisma.js';
import type { AnnounceAccessChange } from '../../realtime/access-hints.js';
import { createMyToken, listMyTokens, revokeAnyToken, revokeMyToken } from '../../services/api-tokens.js';
import { callerOf } from '../caller.js';
import { sensitiveRouteLimit } from '../plugins/rate-limit.js';
import { POLICY } from '../policy.js';
import { BEARER_REQUIRED, BODY_ERRORS, errorResponses } from '../schemas/common.js';
import { ApiTokenList, CreateApiTokenBody, CreatedApiToken, TokenParams } from '../schemas/tokens.js';

export interface TokenRoutesOptions {
  db: Db;
  /** For the tighter rate limit of token creation. */
  config: Pick<Config, 'rateLimit'>;
  /** Re-checks a revoked token's live connections at once. */
  announceAccessChange?: AnnounceAccessChange;
}

export const tokenRoutes: FastifyPluginAsyncTypebox<TokenRoutesOptions> = async (
  app,
  { db, config, announceAccessChange },
) => {
  app.get(
    '/me/tokens',
    {
      config: { policy: POLICY.self },
      schema: {
        tags: ['tokens'],
        operationId: 'listMyTokens',
        summary: 'List my API tokens',
        description: 'Without their secrets. Revoked tokens are not listed; expired ones are, with expiresAt.',
        security: BEARER_REQUIRED,
        response: { 200: ApiTokenList, ...errorResponses() },
      },
    },
    async (request) => ({ items: await listMyTokens({ db }, callerOf(request)) }),
  );

  app.post(
    '/me/tokens',
    {
      // A tighter rate limit: minting credentials in bulk is never routine.
      config: { policy: POLICY.self, rateLimit: sensitiveRouteLimit(config) },
      schema: {
        tags: ['tokens'],
        operationId: 'createToken',
        summary: 'Create an API token',
        description:
          'In a signed-in session, or with a token that has scope `admin` (an ordinary token cannot mint ' +
          'tokens). Scopes never exceed your own. The secret is in this response only.',
        security: BEARER_REQUIRED,
        body: CreateApiTokenBody,
        response: { 201: CreatedApiToken, ...errorResponses(...BODY_ERRORS, 403) },
      },
    },
    async (request, reply) => {
      const created = await createMyToken({ db }, callerOf(request), request.body);
      // The secret must not linger in caches.
      return reply.code(201).header('cache-control', 'no-store').send(created);
    },
  );

  app.delete(
    '/me/tokens/:id',
    {
      config: { policy: POLICY.self },
      schema: {
        tags: ['tokens'],
        operationId: 'revokeMyToken',
        summary: 'Revoke one of my API tokens',
        description: '404 for a token that is not yours, like one that does not exist.',
        security: BEARER_REQUIRED,
        params: TokenParams,
        response: { 204: Type.Null({ description: 'Revoked' }), ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      await revokeMyToken({ db, announceAccessChange }, callerOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/tokens/:id',
    {
      config: { policy: POLICY.admin },
      schema: {
        tags: ['tokens'],
        operationId: 'revokeToken',
        summary: "Revoke anyone's API token",
        description: 'Administrators only.',
        security: BEARER_REQUIRED,
        params: TokenParams,
        response: { 204: Type.Null({ description: 'Revoked' }), ...errorResponses(400, 403, 404) },
      },
    },
    async (request, reply) => {
      await revokeAnyToken({ db, announceAccessChange }, callerOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
};

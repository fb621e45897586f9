/**
 * Authentication: `Authorization: Bearer <api token>` → `request.actor`. No header means the anonymous actor (public
 * reads stay open); a header that does not resolve to a live token is a 401, never a silent downgrade to anonymous,
 * so a client with a revoked or mistyped token learns so at once. Authorisation is not decided here: services apply
 * the rules of src/domain/access.ts to the actor.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Db } from '../../db/prisma.js';
import { AppError } from '../../domain/errors.js';
import { type Actor, ANONYMOUS } from '../../domain/types.js';
import { authenticateToken } from '../../services/tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Who is asking. Set by the auth plugin's onRequest hook before any handler or later hook runs (the decorator's
     * default is null only so that Fastify can shape request objects up front).
     */
    actor: Actor;
  }
}

export interface AuthPluginOptions {
  db: Db;
}

/**
 * Reads a Bearer credential: undefined without an Authorization header, null when the header is not
 * `Bearer <token>` (another scheme, or no token).
 */
export function bearerToken(header: string | undefined): string | null | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  return match?.[1] ?? null;
}

/** A preHandler for routes that need a signed-in actor: anonymous requests get 401 before any work is done. */
export async function requireAuthenticated(request: FastifyRequest): Promise<void> {
  if (request.actor.kind === 'anonymous') {
    throw new AppError('unauthenticated', 'This needs a bearer token (Authorization: Bearer <token>)');
  }
}

async function authPlugin(app: FastifyInstance, options: AuthPluginOptions): Promise<void> {
  // Fastify 5 forbids reference-type defaults (they would be shared by every request): null here, the actor per
  // request in the hook below. (The empty dependency list selects the overload that accepts null.)
  app.decorateRequest('actor', null, []);

  app.addHook('onRequest', async (request, reply) => {
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) {
      request.actor = ANONYMOUS;
      return;
    }
    if (token === null) {
      reply.header('www-authenticate', 'Bearer error="invalid_request"');
      throw new AppError('unauthenticated', 'The Authorization header must be "Bearer <token>"');
    }
    const actor = await authenticateToken(options.db, token);
    if (!actor) {
      reply.header('www-authenticate', 'Bearer error="invalid_token"');
      throw new AppError('unauthenticated', 'The bearer token is not valid (unknown, revoked or expired)');
    }
    request.actor = actor;
  });
}

export default fp(authPlugin, { name: 'meldingskanal-auth', fastify: '5.x' });

import type { FastifyRequest } from 'fastify';
import type { Caller } from '../services/caller.js';

/** The use-case caller of a request: its actor, how it authenticated, and its id (for audit records). */
export function callerOf(request: FastifyRequest): Caller {
  return { actor: request.actor, credential: request.authMethod, requestId: request.id };
}

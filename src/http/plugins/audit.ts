/**
 * Failed authorisation goes into the audit log from ONE place: an onError hook, which sees every error a route or
 * hook throws (authentication in onRequest, CSRF, the route-policy check, the services' own object checks) before the
 * error handler answers. No route writes denial records itself, so none can forget to.
 *
 * What is recorded: a 401 or 403 (codes whose status is one of those: unauthenticated, forbidden, csrf_failed) on a
 * PRIVILEGED route: any state-changing method, and reads whose policy needs admin rights or a channel right beyond
 * reading. Denied reads of ordinary pages and unknown URLs (404) are not: they are what every crawler does all day,
 * and a denied read of an object that exists already answers 404 exactly like one that does not.
 *
 * The record names the route pattern (`POST /api/v1/channels/:slug/announcements`), the reason, the credential kind
 * and the path parameters when they are plain identifiers (slugs, ids); never the URL, body, headers or query, where
 * addresses and tokens could be.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Db } from '../../db/prisma.js';
import { ERROR_STATUS } from '../../domain/errors.js';
import { ANONYMOUS } from '../../domain/types.js';
import { recordAudit } from '../../services/audit.js';
import type { RoutePolicy } from '../policy.js';
import { classifyError } from './errors.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Path parameters kept in a denial record: identifiers only (slug, uuid, number). */
const PLAIN_IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Longest reason kept (error messages are ours and short; this only bounds the record). */
const MAX_REASON_LENGTH = 300;

export interface AuditPluginOptions {
  db: Db;
}

/** Whether a denial on this route is worth an audit record (see the file comment). */
export function isPrivilegedRoute(method: string, policy: RoutePolicy | undefined): boolean {
  if (!SAFE_METHODS.has(method.toUpperCase())) return true;
  if (!policy) return false;
  return policy.kind === 'admin' || (policy.kind === 'channel' && policy.need !== 'read');
}

function plainParams(params: unknown): Record<string, string> | undefined {
  if (!params || typeof params !== 'object') return undefined;
  const kept = Object.entries(params as Record<string, unknown>).filter(
    (entry): entry is [string, string] => typeof entry[1] === 'string' && PLAIN_IDENTIFIER.test(entry[1]),
  );
  return kept.length > 0 ? Object.fromEntries(kept) : undefined;
}

/** How the caller tried to authenticate: a rejected bearer token leaves the actor anonymous but is worth knowing. */
function credentialOf(request: FastifyRequest): string {
  if (request.authMethod !== 'anonymous') return request.authMethod;
  return request.headers.authorization !== undefined ? 'rejected_bearer' : 'anonymous';
}

async function auditPlugin(app: FastifyInstance, options: AuditPluginOptions): Promise<void> {
  app.addHook('onError', async (request, _reply, error) => {
    const route = request.routeOptions;
    // Unmatched URLs (404 handler) have no route pattern and nothing to protect.
    if (route.url === undefined) return;
    const classified = classifyError(error);
    const status = ERROR_STATUS[classified.code];
    if (status !== 401 && status !== 403) return;
    if (!isPrivilegedRoute(request.method, route.config?.policy)) return;

    const params = plainParams(request.params);
    try {
      await recordAudit(options.db, {
        // Null when authentication itself failed (a rejected token): the caller is then nobody we know.
        actor: request.actor ?? ANONYMOUS,
        action: 'authorisation.denied',
        outcome: 'denied',
        targetType: 'route',
        targetId: `${request.method} ${route.url}`,
        requestId: request.id,
        details: {
          status,
          code: classified.code,
          reason: classified.message.slice(0, MAX_REASON_LENGTH),
          credential: credentialOf(request),
          ...(params ? { params } : {}),
        },
      });
    } catch (auditError) {
      // The client still gets its 401/403; a lost denial record is an operator's problem, so say it loudly.
      request.log.error({ err: auditError }, 'could not write the audit record of a denied request');
    }
  });
}

export default fp(auditPlugin, { name: 'meldingskanal-audit', fastify: '5.x' });

/**
 * Operational probes.
 * - `GET /healthz` — liveness: answers from memory, touches no dependency. A liveness probe that checks the
 *   database would make an orchestrator restart every API process whenever PostgreSQL blips, which fixes nothing.
 * - `GET /readyz` — readiness: PostgreSQL (`SELECT 1`) and Redis (`PING`), checked in parallel, each bounded by a
 *   short timeout so the probe never hangs; 200 when both answer, otherwise 503 naming the one that failed.
 */
// Type-only: brings @fastify/swagger's additions to route schemas (tags, summary, hide) into scope.
import type {} from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import { Type } from 'typebox';
import { TimeoutError, withTimeout } from '../../timeout.js';
import type { AppDeps } from '../app.js';
import { POLICY } from '../policy.js';
import { NO_CREDENTIALS, probeErrorResponses } from '../schemas/common.js';

/** Each dependency gets this long to answer a readiness check (probes typically time out after 1–5 s). */
export const READINESS_CHECK_TIMEOUT_MS = 1000;

export type CheckResult = 'ok' | 'timeout' | 'error';

/**
 * What the probes tell anyone who asks: up or down, and for readiness which dependency is down and whether it failed
 * or was too slow. Never why (error messages, addresses, versions go to the log only).
 */
const PROBE_DESCRIPTION =
  'For orchestrators and load balancers: no credentials, not rate-limited. A request that carries an invalid bearer ' +
  'token is still answered 401, as everywhere.';

const CheckResultSchema = Type.Union([Type.Literal('ok'), Type.Literal('timeout'), Type.Literal('error')]);
const ReadinessSchema = Type.Object(
  {
    status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
    checks: Type.Object({ postgres: CheckResultSchema, redis: CheckResultSchema }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);

/**
 * PING on the producer connection. That connection has no offline queue (request paths fail fast), so a command
 * sent while it is still connecting fails at once; a probe arriving during start-up would then report a Redis that
 * is about to answer as failed. So, when not yet ready, wait for the connection's verdict (ready or error) first;
 * the caller's timeout bounds the wait.
 */
async function pingRedis(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') {
    await new Promise<void>((resolve, reject) => {
      const onReady = () => {
        redis.off('error', onError);
        resolve();
      };
      const onError = (error: Error) => {
        redis.off('ready', onReady);
        reject(error);
      };
      redis.once('ready', onReady);
      redis.once('error', onError);
    });
  }
  await redis.ping();
}

export interface HealthPluginOptions {
  deps: Pick<AppDeps, 'db' | 'redis'>;
  /** Per-dependency timeout for /readyz; defaults to READINESS_CHECK_TIMEOUT_MS. */
  checkTimeoutMs?: number;
}

async function healthPlugin(app: FastifyInstance, options: HealthPluginOptions): Promise<void> {
  const { db, redis } = options.deps;
  const timeoutMs = options.checkTimeoutMs ?? READINESS_CHECK_TIMEOUT_MS;

  const run = async (name: 'postgres' | 'redis', check: () => Promise<unknown>): Promise<CheckResult> => {
    try {
      await withTimeout(check(), timeoutMs, name);
      return 'ok';
    } catch (error) {
      const result: CheckResult = error instanceof TimeoutError ? 'timeout' : 'error';
      // The probe's body names only the dependency and the kind of failure; the log carries the reason.
      app.log.warn({ dependency: name, result, err: error }, 'readiness check failed');
      return result;
    }
  };

  app.get(
    '/healthz',
    {
      // Probes arrive every few seconds; logging each would drown the useful lines.
      logLevel: 'warn',
      config: { policy: POLICY.operational },
      schema: {
        tags: ['operations'],
        operationId: 'checkLiveness',
        summary: 'Liveness: the process is up and serving HTTP',
        description: PROBE_DESCRIPTION,
        security: NO_CREDENTIALS,
        response: {
          200: Type.Object({ status: Type.Literal('ok') }, { additionalProperties: false, description: 'Up' }),
          ...probeErrorResponses(),
        },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      logLevel: 'warn',
      config: { policy: POLICY.operational },
      schema: {
        tags: ['operations'],
        operationId: 'checkReadiness',
        summary: 'Readiness: PostgreSQL and Redis answer',
        description: PROBE_DESCRIPTION,
        security: NO_CREDENTIALS,
        response: {
          ...probeErrorResponses(),
          200: { ...ReadinessSchema, description: 'Ready: both answered' },
          503: { ...ReadinessSchema, description: 'Not ready: the dependency named is down or slow' },
        },
      },
    },
    async (_request, reply) => {
      const [postgres, redisResult] = await Promise.all([
        run('postgres', () => db.$queryRaw`SELECT 1`),
        run('redis', () => pingRedis(redis)),
      ]);
      const ready = postgres === 'ok' && redisResult === 'ok';
      return reply
        .code(ready ? 200 : 503)
        .header('cache-control', 'no-store')
        .send({ status: ready ? 'ok' : 'unavailable', checks: { postgres, redis: redisResult } });
    },
  );
}

export default fp(healthPlugin, { name: 'meldingskanal-health', fastify: '5.x' });

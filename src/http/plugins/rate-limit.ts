/**
 * Abuse limits: request rates per client IP address and per user, counted in Redis so that every API process
 * enforces the same budget (@fastify/rate-limit with a Redis store on this plugin's own connection).
 *
 * - Per IP (RATE_LIMIT_IP_PER_MINUTE): every request, counted in an onRequest hook that runs BEFORE authentication,
 *   so a flood of bad tokens or session cookies is cut off before it costs a database lookup. The address is
 *   Fastify's `request.ip`, which honours TRUST_PROXY; IPv6 clients count per /64 (one household or host).
 * - Per user (RATE_LIMIT_USER_PER_MINUTE): requests of an authenticated actor, whatever address they come from,
 *   counted in a preValidation hook, i.e. after authentication has set `request.actor`.
 * - Per route: a route can declare its own, tighter limit the way @fastify/rate-limit documents it,
 *   `config: { rateLimit: { max, timeWindow, keyGenerator } }`; `sensitiveRouteLimit(config)` is the one for sign-in
 *   and token creation. Such a limit is counted per route, in addition to the two above.
 * - Exempt: routes whose policy is `operational` (/healthz, /readyz: an orchestrator that gets 429 from a
 *   probe restarts a healthy process) and any route that declares `config: { rateLimit: false }`.
 *
 * Counting costs no Redis round trip for a busy client far from its limit: its requests are counted in this process
 * and added to Redis every 100 ms, and a client over its limit is refused here until its window ends
 * (src/http/rate-tally.ts); near the limit, and for limits below 100, every request is counted in Redis exactly.
 *
 * Over a limit: 429 with `Retry-After` (seconds) and the usual error body, code `rate_limited`. Within limits,
 * `x-ratelimit-limit/remaining/reset` describe the tightest limit that applied.
 *
 * Redis unavailable: the limits FAIL OPEN, with one warning per outage in the log. Reading announcements matters more
 * than the limits during a Redis outage, and the API already degrades gracefully without Redis (reads work from
 * PostgreSQL). Failing closed would turn a Redis blip into a full outage. Commands fail fast (no offline queue, a
 * 500 ms command timeout: the `limiter` role of src/redis.ts), so an outage never holds requests either.
 */
import fastifyRateLimit, { normalizeIP, type RateLimitOptions } from '@fastify/rate-limit';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import type { Config } from '../../config.js';
import { AppError } from '../../domain/errors.js';
import { createRedis } from '../../redis.js';
import { withTimeout } from '../../timeout.js';
import { RateTallies } from '../rate-tally.js';

/** Every limit counts requests in fixed windows of one minute. */
export const RATE_WINDOW_MS = 60_000;

/** How long start-up waits for the limiter's Redis connection before serving anyway (failing open until it is up). */
const CONNECT_WAIT_MS = 2000;

export interface RateLimitPluginOptions {
  config: Pick<Config, 'redis' | 'rateLimit'>;
}

/** The client's address as the limits count it: IPv4 as is, IPv6 by its /64 network. */
export function clientAddressKey(request: FastifyRequest): string {
  return normalizeIP(request.ip);
}

/** A signed-in actor's user id, or the client address for anyone else. */
export function userOrClientKey(request: FastifyRequest): string {
  const actor = request.actor;
  return actor?.kind === 'user' ? `user:${actor.userId}` : `ip:${clientAddressKey(request)}`;
}

/**
 * The tighter limit of sensitive routes (sign-in start, API token creation): RATE_LIMIT_SENSITIVE_PER_MINUTE per
 * route and per user (or per IP before sign-in). Use as `config: { rateLimit: sensitiveRouteLimit(config) }`.
 */
export function sensitiveRouteLimit(config: Pick<Config, 'rateLimit'>): RateLimitOptions {
  return { max: config.rateLimit.sensitivePerMinute, timeWindow: RATE_WINDOW_MS, keyGenerator: userOrClientKey };
}

/** The error a limited request gets; the 429 status comes from the error catalogue. */
export function rateLimitedError(retryAfterSeconds: number): AppError {
  return new AppError(
    'rate_limited',
    `Too many requests; try again in ${retryAfterSeconds} second${retryAfterSeconds === 1 ? '' : 's'}`,
    { retryAfterSeconds },
  );
}

/** Logs a Redis outage once when it starts and once when it ends, not once per request. */
class OutageLog {
  private down = false;

  constructor(private readonly log: FastifyBaseLogger) {}

  failed(error: unknown): void {
    if (this.down) return;
    this.down = true;
    this.log.warn({ err: error }, 'rate limits are not enforced: Redis is unavailable (failing open)');
  }

  recovered(): void {
    if (!this.down) return;
    this.down = false;
    this.log.info('rate limits are enforced again: Redis answers');
  }
}

/**
 * One atomic step of a fixed window: count the request (or the requests counted in this process meanwhile,
 * src/http/rate-tally.ts) and start the window's expiry with the first one. Also
 * repairs a counter that somehow has no expiry (it would otherwise limit its client forever).
 */
const INCREMENT_SCRIPT = `
local current = redis.call('INCRBY', KEYS[1], tonumber(ARGV[2]))
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {current, ttl}`;

interface LimiterRedis extends Redis {
  meldingskanalRateIncrement(key: string, windowMs: number, by: number): Promise<[number, number]>;
}

type IncrementCallback = (error: Error | null, result?: { current: number; ttl: number }) => void;

/** What the rate-limit plugin passes to `child()`: the merged options of a route or a createRateLimit call. */
interface ChildOptions {
  /** Set by this plugin's own limiters (`ip`, `user`). */
  limitScope?: string;
  routeInfo?: { method?: string | string[]; url?: string };
}

/**
 * The counter store: keys are `<REDIS_PREFIX>:ratelimit:<scope>:<client key>`, where the scope names the limit
 * (`ip`, `user`, or a route such as `POST /auth/login`), so limits never share counters and several deployments
 * can share one Redis. Written here rather than taking the plugin's RedisStore, whose child stores name keys after
 * the route only (a createRateLimit limiter has none) and which reports storage errors to nobody.
 */
class RedisLimitStore {
  constructor(
    private readonly redis: LimiterRedis,
    private readonly keyBase: string,
    private readonly outage: OutageLog,
    private readonly tallies: RateTallies,
  ) {}

  incr(key: string, callback: IncrementCallback, timeWindow: number, max: number): void {
    const fullKey = this.keyBase + key;
    // A busy key far from its limit is counted here and added to Redis in batches (src/http/rate-tally.ts).
    const local = this.tallies.countLocally(fullKey, max);
    if (local) {
      callback(null, local);
      return;
    }
    const by = 1 + this.tallies.takePending(fullKey);
    this.redis.meldingskanalRateIncrement(fullKey, timeWindow, by).then(
      ([current, ttl]) => {
        this.outage.recovered();
        this.tallies.learn(fullKey, max, timeWindow, current, ttl);
        callback(null, { current, ttl });
      },
      (error: Error) => {
        this.outage.failed(error);
        callback(error);
      },
    );
  }

  child(options: ChildOptions): RedisLimitStore {
    const method = [options.routeInfo?.method ?? ''].flat().join(',');
    const scope = options.limitScope ?? `${method} ${options.routeInfo?.url ?? ''}`;
    return new RedisLimitStore(this.redis, `${this.keyBase}${scope}:`, this.outage, this.tallies);
  }
}

/** Waits until the connection is ready or has failed, bounded: start-up never hangs on Redis. */
async function connected(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  let onReady: (() => void) | undefined;
  let onError: ((error: Error) => void) | undefined;
  const verdict = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    onError = reject;
    redis.once('ready', onReady);
    redis.once('error', onError);
  });
  try {
    await withTimeout(verdict, timeoutMs, 'Redis (rate limits)');
  } finally {
    if (onReady) redis.off('ready', onReady);
    if (onError) redis.off('error', onError);
  }
}

/** One of the two global limits (per IP, per user): its own store (key scope), budget and key. */
interface GlobalLimit {
  store: RedisLimitStore;
  max: number;
  key: (request: FastifyRequest) => string;
}

/** Remaining requests of the tightest limit reported so far, per request (for the x-ratelimit-* headers). */
const reportedRemaining = new WeakMap<FastifyRequest, number>();

/**
 * Counts the request against a global limit and answers `done` (with the 429 when it is over). The store is asked
 * directly, as @fastify/rate-limit's applyRateLimit would (same keys, same arithmetic: remaining = max - current,
 * exceeded when current > max, failing open on a store error), but without its promises: a request counted in this
 * process (src/http/rate-tally.ts, the common case) is decided synchronously, where the plugin's limiter cost three
 * promises and as many microtask turns. Per-route limits still go through @fastify/rate-limit.
 */
function enforce(
  limit: GlobalLimit,
  request: FastifyRequest,
  reply: FastifyReply,
  done: (error?: Error) => void,
): void {
  let key = limit.key(request);
  // As applyRateLimit does: a route's rate-limit group shares one counter.
  const routeLimit = request.routeOptions.config?.rateLimit;
  if (typeof routeLimit === 'object' && routeLimit.groupId) key += routeLimit.groupId;
  limit.store.incr(
    key,
    (error, result) => {
      // Redis did not answer (fail open; the store logged the outage), or no window: nothing to enforce or report.
      if (error || !result || result.ttl <= 0) return done();
      const ttlInSeconds = Math.ceil(result.ttl / 1000);
      const retryAfterSeconds = Math.max(1, ttlInSeconds);
      if (result.current > limit.max) {
        reply.header('retry-after', retryAfterSeconds);
        reply.header('x-ratelimit-limit', limit.max);
        reply.header('x-ratelimit-remaining', 0);
        reply.header('x-ratelimit-reset', retryAfterSeconds);
        return done(rateLimitedError(retryAfterSeconds));
      }
      const remaining = Math.max(0, limit.max - result.current);
      const tightest = reportedRemaining.get(request);
      if (tightest === undefined || remaining < tightest) {
        reportedRemaining.set(request, remaining);
        reply.header('x-ratelimit-limit', limit.max);
        reply.header('x-ratelimit-remaining', remaining);
        reply.header('x-ratelimit-reset', ttlInSeconds);
      }
      done();
    },
    RATE_WINDOW_MS,
    limit.max,
  );
}

function isExempt(request: FastifyRequest): boolean {
  const config = request.routeOptions.config;
  return config?.rateLimit === false || config?.policy?.kind === 'operational';
}

async function rateLimitPlugin(app: FastifyInstance, options: RateLimitPluginOptions): Promise<void> {
  const { redis: redisConfig, rateLimit } = options.config;
  // Its own connection: the limiter's fail-fast, short-timeout options differ from the job producer's, and a burst
  // of limit checks never queues behind job writes.
  const redis = createRedis(redisConfig.url, 'limiter', 'rate-limit') as LimiterRedis;
  // Connection errors are reported by OutageLog when they affect a request; ioredis keeps reconnecting.
  redis.on('error', () => {});
  redis.defineCommand('meldingskanalRateIncrement', { numberOfKeys: 1, lua: INCREMENT_SCRIPT });
  const outage = new OutageLog(app.log);
  const tallies = new RateTallies(
    (key, windowMs, by) => redis.meldingskanalRateIncrement(key, windowMs, by),
    (error) => outage.failed(error),
  );
  app.addHook('onClose', async () => {
    await tallies.close();
    redis.disconnect();
  });
  await connected(redis, CONNECT_WAIT_MS).catch((error: unknown) =>
    app.log.warn({ err: error }, 'rate limits: Redis is not reachable at start-up; serving without limits until it is'),
  );

  const root = new RedisLimitStore(redis, `${redisConfig.prefix}:ratelimit:`, outage, tallies);

  await app.register(fastifyRateLimit, {
    // The two global limits are this plugin's hooks (below); the plugin's own hook serves routes that declare a
    // `config.rateLimit` of their own.
    global: false,
    max: rateLimit.ipPerMinute,
    timeWindow: RATE_WINDOW_MS,
    keyGenerator: clientAddressKey,
    // The plugin constructs its store with `new`; returning an object from a constructor hands it that object.
    store: function RootStore() {
      return root;
    } as unknown as NonNullable<RateLimitOptions['store']>,
    skipOnError: true,
    errorResponseBuilder: (_request, context) => rateLimitedError(Math.max(1, Math.ceil(context.ttl / 1000))),
  });

  // The counters' keys are `…:ratelimit:ip:<address>` and `…:ratelimit:user:<user id>` (the scopes' child stores).
  const perClient: GlobalLimit = {
    store: root.child({ limitScope: 'ip' }),
    max: rateLimit.ipPerMinute,
    key: clientAddressKey,
  };
  const perUser: GlobalLimit = {
    store: root.child({ limitScope: 'user' }),
    max: rateLimit.userPerMinute,
    key: (request) => (request.actor?.kind === 'user' ? request.actor.userId : ''),
  };

  // Registered before the auth plugin (src/http/app.ts), so this runs before any credential is looked up.
  app.addHook('onRequest', (request, reply, done) => {
    if (isExempt(request)) return done();
    enforce(perClient, request, reply, done);
  });

  // After every onRequest hook, authentication included: request.actor is known here. A callback hook, so that the
  // requests it does not concern (anonymous readers, API tokens) pay no promise for it.
  app.addHook('preValidation', (request, reply, done) => {
    if (request.actor?.kind !== 'user' || isExempt(request)) return done();
    enforce(perUser, request, reply, done);
  });
}

export default fp(rateLimitPlugin, { name: 'meldingskanal-rate-limit', fastify: '5.x' });

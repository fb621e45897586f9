/**
 * Route policies: who may call a route, declared next to its schema. Every route carries one in its `config`:
 *
 * ```ts
 * app.patch('/channels/:slug', { config: { policy: POLICY.channelManage }, schema: { … } }, handler);
 * ```
 *
 * The vocabulary (RoutePolicy):
 * - `public` — anyone, signed in or not (what they see may still depend on who they are: a list of channels).
 * - `operational` — the probes (/healthz, /readyz): no credentials, not rate-limited. (Metrics have their own port.)
 * - `signedIn` — any authenticated user (session or API token), including users outside the member organisations.
 * - `self` — the caller's own resources under /me; authenticated, and the service looks only at the caller's rows.
 * - `admin` — an administrator acting with admin rights (admin flag, and for a token the `admin` scope).
 * - `channel` with `need` — an object check on one channel: `read` (anyone; the service answers 404 for a channel
 *   the caller may not read), `publish` (authenticated, a token needs the `publish` scope), `manage` (authenticated,
 *   a token needs `publish` — owners — or `admin`). The service then applies src/domain/access.ts to the channel.
 *
 * Enforcement is in two layers, on purpose: the hook below makes the coarse decision every route of a kind shares
 * (401 without credentials, 403 without the scope or admin rights), before the request body is validated; services
 * make the object decision (this channel, this token) with src/domain/access.ts, which stays the one home of rules.
 * A coarse denial never depends on whether the object exists, so it cannot leak existence.
 *
 * Drift is prevented by the plugin's onRoute hook: a route registered without a valid policy makes the app fail to
 * start (and so every test, in CI). The policy is published in the OpenAPI document as the operation's `x-policy`,
 * where tests/http/authorisation-matrix.test.ts reads it and checks it against the behaviour of every operation.
 */
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { actsAsAdmin } from '../domain/access.js';
import { AppError } from '../domain/errors.js';
import type { TokenScope } from '../domain/types.js';

export const CHANNEL_NEEDS = ['read', 'publish', 'manage'] as const;
export type ChannelNeed = (typeof CHANNEL_NEEDS)[number];

export type RoutePolicy =
  | { readonly kind: 'public' }
  | { readonly kind: 'operational' }
  | { readonly kind: 'signedIn' }
  | { readonly kind: 'self' }
  | { readonly kind: 'admin' }
  | { readonly kind: 'channel'; readonly need: ChannelNeed };

export type PolicyKind = RoutePolicy['kind'];
const POLICY_KINDS: readonly PolicyKind[] = ['public', 'operational', 'signedIn', 'self', 'admin', 'channel'];

/** Ready-made policies, to write `config: { policy: POLICY.admin }`. */
export const POLICY = Object.freeze({
  public: Object.freeze({ kind: 'public' }),
  operational: Object.freeze({ kind: 'operational' }),
  signedIn: Object.freeze({ kind: 'signedIn' }),
  self: Object.freeze({ kind: 'self' }),
  admin: Object.freeze({ kind: 'admin' }),
  channelRead: Object.freeze({ kind: 'channel', need: 'read' }),
  channelPublish: Object.freeze({ kind: 'channel', need: 'publish' }),
  channelManage: Object.freeze({ kind: 'channel', need: 'manage' }),
} satisfies Record<string, RoutePolicy>);

declare module 'fastify' {
  interface FastifySchema {
    /** Set by the policy plugin from `config.policy`; copied into the OpenAPI operation. */
    'x-policy'?: { kind: PolicyKind; need?: ChannelNeed };
  }
  interface FastifyContextConfig {
    /** Who may call this route (src/http/policy.ts). Required at runtime: the app refuses to start without it. */
    policy?: RoutePolicy;
  }
}

/** The OpenAPI extension that carries each operation's policy. */
export const POLICY_EXTENSION = 'x-policy';

/** A short label: `admin`, `channel:manage`… (the form the OpenAPI document and the matrix test use). */
export function policyLabel(policy: RoutePolicy): string {
  return policy.kind === 'channel' ? `channel:${policy.need}` : policy.kind;
}

/** Whether a value is a well-formed policy (config comes from JavaScript too, so the type alone is no guarantee). */
export function isRoutePolicy(value: unknown): value is RoutePolicy {
  if (!value || typeof value !== 'object') return false;
  const { kind, need } = value as { kind?: unknown; need?: unknown };
  if (!POLICY_KINDS.includes(kind as PolicyKind)) return false;
  if (kind === 'channel') return CHANNEL_NEEDS.includes(need as ChannelNeed);
  return need === undefined;
}

/**
 * The coarse decision for a request: null when it may go on to the handler (whose service makes the object
 * decision), or the error to answer with. Pure, so it is tested without a server.
 */
export function coarseDenial(policy: RoutePolicy, actor: FastifyRequest['actor']): AppError | null {
  if (policy.kind === 'public' || policy.kind === 'operational') return null;
  if (policy.kind === 'channel' && policy.need === 'read') return null;
  if (actor.kind !== 'user') {
    return new AppError(
      'unauthenticated',
      'This needs a signed-in user or a bearer token (Authorization: Bearer <token>)',
    );
  }
  const needsScope = (scopes: TokenScope[], what: string) =>
    scopes.some((s) => actor.scopes.includes(s))
      ? null
      : new AppError('forbidden', `${what} needs a token with scope ${scopes.map((s) => `\`${s}\``).join(' or ')}`);
  switch (policy.kind) {
    case 'signedIn':
    case 'self':
      return null;
    case 'admin':
      return actsAsAdmin(actor) ? null : new AppError('forbidden', 'This needs an administrator (scope `admin`)');
    case 'channel':
      return policy.need === 'publish'
        ? needsScope(['publish'], 'Publishing')
        : needsScope(['publish', 'admin'], 'Managing a channel');
  }
}

/** Routes that get their policy from where they are mounted, because their plugin offers no way to pass `config`. */
export interface PrefixPolicy {
  /** A path prefix, e.g. `/api/docs`: the prefix itself and everything below it (`/api/docs/…`). */
  prefix: string;
  policy: RoutePolicy;
}

export interface PolicyPluginOptions {
  /** Third-party routes (Swagger UI and its static files) that cannot declare a policy themselves. */
  byPrefix?: readonly PrefixPolicy[];
}

/** One registered route and its policy (HEAD routes that Fastify adds for GET routes included). */
export interface RegisteredRoutePolicy {
  method: string;
  url: string;
  policy: RoutePolicy;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route of the app with its policy, in registration order (read by the authorisation tests). */
    routePolicies: readonly RegisteredRoutePolicy[];
  }
}

function underPrefix(url: string, prefix: string): boolean {
  return url === prefix || url.startsWith(`${prefix}/`);
}

export class MissingPolicyError extends Error {
  constructor(method: string, url: string, found: unknown) {
    super(
      `${method} ${url} declares no valid route policy${found === undefined ? '' : ` (got ${JSON.stringify(found)})`}:` +
        ' add `config: { policy: POLICY.… }` to the route (see src/http/policy.ts)',
    );
    this.name = 'MissingPolicyError';
  }
}

async function policyPlugin(app: FastifyInstance, options: PolicyPluginOptions): Promise<void> {
  const registered: RegisteredRoutePolicy[] = [];
  app.decorate('routePolicies', registered);

  // Runs for every route added after this plugin (register it first), including HEAD routes Fastify derives.
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    let policy: unknown = route.config?.policy;
    if (policy === undefined) {
      policy = options.byPrefix?.find((entry) => underPrefix(route.url, entry.prefix))?.policy;
      // Written into the route's own config, so the enforcement hook and the OpenAPI document see it too.
      if (policy !== undefined) route.config = { ...route.config, policy: policy as RoutePolicy };
    }
    if (!isRoutePolicy(policy)) throw new MissingPolicyError(methods.join(','), route.url, policy);
    // The document generator copies `x-` keys of a route's schema into the operation.
    route.schema = { ...route.schema, 'x-policy': { kind: policy.kind, ...policyDetails(policy) } };
    for (const method of methods) registered.push({ method, url: route.url, policy });
  });

  // preValidation, not preHandler: the body is parsed by now but not yet validated, so a caller without credentials
  // hears "401: sign in" rather than a list of problems with a body it may not send anyway.
  // (A callback hook: the check never waits, and an async hook would cost a promise per request.)
  app.addHook('preValidation', (request, _reply, done) => {
    const policy = request.routeOptions.config.policy;
    // Requests that matched no route (404 handler) have no policy, and nothing to protect.
    if (!policy) return done();
    done(coarseDenial(policy, request.actor) ?? undefined);
  });
}

function policyDetails(policy: RoutePolicy): { need?: ChannelNeed } {
  return policy.kind === 'channel' ? { need: policy.need } : {};
}

export default fp(policyPlugin, { name: 'meldingskanal-policy', fastify: '5.x' });

/**
 * A signed-in user's browsers that accept web push (PushSubscription rows): register, list, remove. The worker sends
 * to every one of them (workers/processors/push.ts).
 *
 * One row per endpoint: the endpoint names one browser profile at one push service. Registering it again (the web
 * app does so on every visit, with `pushManager.getSubscription()`) refreshes the keys and `lastSeenAt`, which keeps
 * it from expiring (PUSH_SUBSCRIPTION_MAX_AGE_DAYS). An endpoint registered by ANOTHER user moves to the caller: the
 * browser changed hands (a shared or handed-down computer, a new sign-in on the same profile), and only the person
 * now signed in there should get its notifications. Knowing an endpoint gives nothing: the message is encrypted for
 * the keys the caller sends along, which replace the old ones.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/prisma.js';
import { AppError, notFound } from '../domain/errors.js';
import type { Actor } from '../domain/types.js';
import { authProblem, canonicalKey, endpointProblem, isAllowedPushHost, p256dhProblem } from '../push/keys.js';

/** A person rarely has more browsers than this; the least recently seen ones go first beyond it. */
export const MAX_PUSH_SUBSCRIPTIONS_PER_USER = 20;
/** Stored for the person's own list ("Firefox on Linux"), not for decisions. */
export const USER_AGENT_MAX_LENGTH = 512;

export interface PushSubscriptionInput {
  endpoint: string;
  /** Milliseconds since the epoch when the push service ends the subscription, or null (the usual case). */
  expirationTime?: number | null;
  keys: { p256dh: string; auth: string };
}

export interface PushSubscriptionView {
  id: string;
  endpoint: string;
  userAgent: string | null;
  expiresAt: string | null;
  createdAt: string;
  lastSeenAt: string;
  lastSuccessAt: string | null;
}

interface PushSubscriptionRow {
  id: string;
  endpoint: string;
  userAgent: string | null;
  expiresAt: Date | null;
  createdAt: Date;
  lastSeenAt: Date;
  lastSuccessAt: Date | null;
}

function view(row: PushSubscriptionRow): PushSubscriptionView {
  return {
    id: row.id,
    endpoint: row.endpoint,
    userAgent: row.userAgent,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    lastSeenAt: row.lastSeenAt.toISOString(),
    lastSuccessAt: row.lastSuccessAt?.toISOString() ?? null,
  };
}

function requireUser(actor: Actor): string {
  if (actor.kind !== 'user') throw new AppError('unauthenticated', 'Push subscriptions belong to a user: sign in');
  return actor.userId;
}

/** Every problem of the input at once, with the field it concerns (validation_failed). */
export function validatePushSubscription(
  input: PushSubscriptionInput,
  options: { allowedHosts: readonly string[]; now: Date },
): void {
  const problems: { field: string; message: string }[] = [];
  const endpoint = endpointProblem(input.endpoint);
  if (endpoint) problems.push({ field: 'endpoint', message: endpoint });
  else if (!isAllowedPushHost(input.endpoint, options.allowedHosts)) {
    problems.push({ field: 'endpoint', message: 'endpoint is not at a push service this server sends to' });
  }
  const p256dh = p256dhProblem(input.keys.p256dh);
  if (p256dh) problems.push({ field: 'keys.p256dh', message: p256dh });
  const auth = authProblem(input.keys.auth);
  if (auth) problems.push({ field: 'keys.auth', message: auth });
  if (typeof input.expirationTime === 'number' && input.expirationTime <= options.now.getTime()) {
    problems.push({ field: 'expirationTime', message: 'expirationTime is in the past: the subscription has ended' });
  }
  if (problems.length > 0) {
    throw new AppError('validation_failed', problems.map((p) => p.message).join('; '), { problems });
  }
}

/**
 * Registers (201, `created`) or refreshes (200) the caller's browser. `created` is also true when the endpoint moved
 * here from another user: for this user it is new.
 */
export async function registerPushSubscription(
  deps: { db: Db; allowedHosts: readonly string[] },
  actor: Actor,
  input: PushSubscriptionInput,
  userAgent: string | undefined,
): Promise<{ subscription: PushSubscriptionView; created: boolean }> {
  const userId = requireUser(actor);
  const now = new Date();
  validatePushSubscription(input, { allowedHosts: deps.allowedHosts, now });
  const expiresAt = typeof input.expirationTime === 'number' ? new Date(input.expirationTime) : null;
  const agent = userAgent ? userAgent.slice(0, USER_AGENT_MAX_LENGTH) : null;

  // One statement, so two registrations of the same endpoint (two tabs) cannot both insert. `previous` reads the
  // snapshot before the upsert: whose the endpoint was.
  const [row] = await deps.db.$queryRaw<(PushSubscriptionRow & { previousUserId: string | null })[]>`
    WITH previous AS (SELECT "userId" FROM "PushSubscription" WHERE endpoint = ${input.endpoint})
    INSERT INTO "PushSubscription" (id, "userId", endpoint, p256dh, auth, "userAgent", "expiresAt", "createdAt",
                                    "lastSeenAt")
    VALUES (${randomUUID()}::uuid, ${userId}::uuid, ${input.endpoint}, ${canonicalKey(input.keys.p256dh)},
            ${canonicalKey(input.keys.auth)}, ${agent}, ${expiresAt}::timestamptz, now(), now())
    ON CONFLICT (endpoint) DO UPDATE
       SET "userId" = EXCLUDED."userId", p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth,
           "userAgent" = EXCLUDED."userAgent", "expiresAt" = EXCLUDED."expiresAt", "lastSeenAt" = now(),
           -- Moved to another person: its history of successful sends was someone else's.
           "createdAt" = CASE WHEN "PushSubscription"."userId" = EXCLUDED."userId"
                              THEN "PushSubscription"."createdAt" ELSE now() END,
           "lastSuccessAt" = CASE WHEN "PushSubscription"."userId" = EXCLUDED."userId"
                                  THEN "PushSubscription"."lastSuccessAt" END
    RETURNING id::text AS id, endpoint, "userAgent", "expiresAt", "createdAt", "lastSeenAt", "lastSuccessAt",
              (SELECT "userId"::text FROM previous) AS "previousUserId"`;

  // Beyond the cap, the browsers not seen for longest go (they are most likely gone anyway).
  await deps.db.$executeRaw`
    DELETE FROM "PushSubscription"
     WHERE id IN (SELECT id FROM "PushSubscription" WHERE "userId" = ${userId}::uuid
                   ORDER BY "lastSeenAt" DESC, "createdAt" DESC, id OFFSET ${MAX_PUSH_SUBSCRIPTIONS_PER_USER}::int)`;

  return { subscription: view(row!), created: row!.previousUserId !== userId };
}

export async function listMyPushSubscriptions(deps: { db: Db }, actor: Actor): Promise<PushSubscriptionView[]> {
  const userId = requireUser(actor);
  const rows = await deps.db.pushSubscription.findMany({
    where: { userId },
    orderBy: [{ lastSeenAt: 'desc' }, { id: 'asc' }],
  });
  return rows.map(view);
}

/** Removes one of the caller's browsers; 404 for an id that is not the caller's, exactly as for one that does not exist. */
export async function deleteMyPushSubscription(deps: { db: Db }, actor: Actor, id: string): Promise<void> {
  const userId = requireUser(actor);
  const { count } = await deps.db.pushSubscription.deleteMany({ where: { id, userId } });
  if (count === 0) throw notFound('Push subscription');
}

/**
 * A signed-in user's own subscriptions. User subscriptions are confirmed at once (the account's address is known);
 * bare e-mail subscriptions, which need a confirmation round trip, are another use case.
 */
import { findChannelBySlug } from '../db/channels.js';
import type { Db } from '../db/prisma.js';
import { isRecordNotFound, isUniqueViolation } from '../db/prisma-errors.js';
import { liftSuppression } from '../db/suppression.js';
import { canSubscribe } from '../domain/access.js';
import { AppError, notFound } from '../domain/errors.js';
import type { Actor, EmailMode, Language } from '../domain/types.js';
import { recordAudit } from './audit.js';
import { type SubscriptionView, subscriptionView } from './views.js';

export interface SubscriptionChoice {
  emailMode?: EmailMode;
  language?: Language;
  /** Web push to the user's registered browsers (POST /me/push-subscriptions). */
  push?: boolean;
}

type UserActor = Extract<Actor, { kind: 'user' }>;

function requireUser(actor: Actor): UserActor {
  if (actor.kind !== 'user')
    throw new AppError('unauthenticated', 'Subscriptions belong to a user: send a bearer token');
  return actor;
}

/** The actor's subscriptions, ordered by channel slug. Not paginated: one per channel, and channels are few. */
export async function listMySubscriptions(deps: { db: Db }, actor: Actor): Promise<SubscriptionView[]> {
  const user = requireUser(actor);
  const rows = await deps.db.subscription.findMany({
    where: { userId: user.userId },
    include: { channel: { select: { slug: true } } },
    orderBy: { channel: { slug: 'asc' } },
  });
  return rows.map((row) => subscriptionView(row, row.channel.slug));
}

/**
 * Creates the subscription, or changes the given fields of an existing one. `created` tells which, for 201 vs 200.
 * Only channels the user may read can be subscribed to; others answer like channels that do not exist.
 *
 * Subscribing to e-mail (a new subscription, or choosing an e-mail mode other than `off`) is the account owner's
 * explicit act: it lifts a suppression of the account's address (src/db/suppression.ts), with an audit record.
 */
export async function putMySubscription(
  deps: { db: Db },
  actor: Actor,
  channelSlug: string,
  choice: SubscriptionChoice,
): Promise<{ subscription: SubscriptionView; created: boolean }> {
  const result = await saveMySubscription(deps, actor, channelSlug, choice);
  const wantsEmail = result.subscription.emailMode !== 'off' && (result.created || choice.emailMode !== undefined);
  if (wantsEmail) await liftAccountSuppression(deps.db, requireUser(actor), result.subscription.channel);
  return result;
}

async function liftAccountSuppression(db: Db, user: UserActor, channelSlug: string): Promise<void> {
  const account = await db.user.findUnique({ where: { id: user.userId }, select: { email: true } });
  if (!account?.email) return;
  await db.$transaction(async (tx) => {
    if (!(await liftSuppression(tx, account.email!))) return;
    await recordAudit(tx, {
      actor: user,
      action: 'email_suppression.lift',
      outcome: 'success',
      targetType: 'user',
      targetId: user.userId,
      details: { via: 'account_subscription', channel: channelSlug },
    });
  });
}

async function saveMySubscription(
  deps: { db: Db },
  actor: Actor,
  channelSlug: string,
  choice: SubscriptionChoice,
): Promise<{ subscription: SubscriptionView; created: boolean }> {
  const user = requireUser(actor);
  const channel = await findChannelBySlug(deps.db, channelSlug, user);
  if (!channel || !canSubscribe(user, channel)) throw notFound('Channel');
  const key = { channelId_userId: { channelId: channel.id, userId: user.userId } };

  const update = async () => {
    const row = await deps.db.subscription.update({
      where: key,
      data: {
        ...(choice.emailMode ? { emailMode: choice.emailMode } : {}),
        ...(choice.language ? { language: choice.language } : {}),
        ...(choice.push !== undefined ? { push: choice.push } : {}),
      },
    });
    return { subscription: subscriptionView(row, channel.slug), created: false };
  };

  // Update first (the common case for an existing subscriber), create when there is none. A concurrent PUT may
  // create it between our two statements: the unique index catches that, and we update the row it made.
  try {
    return await update();
  } catch (error) {
    if (!isRecordNotFound(error)) throw error;
  }
  try {
    const account = await deps.db.user.findUnique({ where: { id: user.userId }, select: { language: true } });
    const row = await deps.db.subscription.create({
      data: {
        channelId: channel.id,
        userId: user.userId,
        emailMode: choice.emailMode ?? 'immediate',
        language: choice.language ?? account?.language ?? 'nb',
        push: choice.push ?? false,
        confirmedAt: new Date(),
      },
    });
    return { subscription: subscriptionView(row, channel.slug), created: true };
  } catch (error) {
    if (isUniqueViolation(error)) return update();
    throw error;
  }
}

/**
 * Removes the actor's subscription to a channel; not_found when there was none. Works even if the user can no
 * longer read the channel (leaving must always be possible), and reveals nothing: without a subscription the answer
 * is the same whether the channel exists or not.
 */
export async function deleteMySubscription(deps: { db: Db }, actor: Actor, channelSlug: string): Promise<void> {
  const user = requireUser(actor);
  const { count } = await deps.db.subscription.deleteMany({
    where: { userId: user.userId, channel: { slug: channelSlug } },
  });
  if (count === 0) throw notFound('Subscription');
}

/**
 * One-click unsubscribe from an e-mail link. The token names a subscription and is signed for its recipient
 * (src/mail/unsubscribe-token.ts); a malformed, tampered, foreign or outdated token (one signed with a key past its grace period
 * included) gets one and the same answer, so
 * the endpoint reveals nothing about which subscriptions exist. Unsubscribing sets the e-mail mode to `off` (the
 * subscription stays, with its other choices) and is idempotent.
 */
import type { Db } from '../db/prisma.js';
import { AppError } from '../domain/errors.js';
import { recipientKey } from '../domain/recipient.js';
import type { EmailMode, Language } from '../domain/types.js';
import type { VerificationKeys } from '../mail/signing-keys.js';
import { parseUnsubscribeToken, verifyUnsubscribeToken } from '../mail/unsubscribe-token.js';

export interface UnsubscribeDeps {
  db: Db;
  /** The keys that verify unsubscribe links (resolveSigningKeys: the current key, and previous ones in their grace). */
  unsubscribeKeys: VerificationKeys;
}

export interface UnsubscribeTarget {
  subscriptionId: bigint;
  channelTitle: string;
  language: Language;
  emailMode: EmailMode;
}

const invalidLink = () => new AppError('validation_failed', 'This unsubscribe link is not valid');

/** The subscription a valid token names; `validation_failed` for any token that is not valid now. Reads only. */
export async function findUnsubscribeTarget(deps: UnsubscribeDeps, token: string): Promise<UnsubscribeTarget> {
  const parsed = parseUnsubscribeToken(token);
  if (!parsed) throw invalidLink();
  const subscription = await deps.db.subscription.findUnique({
    where: { id: parsed.subscriptionId },
    select: {
      id: true,
      userId: true,
      email: true,
      emailMode: true,
      language: true,
      channel: { select: { title: true } },
    },
  });
  // A deleted subscription cannot be told apart from a forged id without its recipient: same answer for both.
  if (!subscription || !verifyUnsubscribeToken(deps.unsubscribeKeys, parsed, recipientKey(subscription))) {
    throw invalidLink();
  }
  return {
    subscriptionId: subscription.id,
    channelTitle: subscription.channel.title,
    language: subscription.language,
    emailMode: subscription.emailMode,
  };
}

/**
 * Turns e-mail off for the subscription the token names. `changed` is false when it was already off (a second click,
 * or the mail client's one-click POST followed by the person's own).
 */
export async function unsubscribeByToken(
  deps: UnsubscribeDeps,
  token: string,
): Promise<UnsubscribeTarget & { changed: boolean }> {
  const target = await findUnsubscribeTarget(deps, token);
  const { count } = await deps.db.subscription.updateMany({
    where: { id: target.subscriptionId, emailMode: { not: 'off' } },
    data: { emailMode: 'off' },
  });
  return { ...target, emailMode: 'off', changed: count > 0 };
}

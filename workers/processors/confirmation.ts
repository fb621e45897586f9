/**
 * Sends the double opt-in e-mail of one subscription without an account (src/services/email-subscriptions.ts): a
 * signed link to the page where the address's owner confirms (src/mail/confirmation-token.ts).
 *
 * Re-reads the subscription first: deleted, already confirmed, or its channel no longer public → nothing is sent.
 * The suppression list is checked just before sending: an IMPORTED address on it gets nothing (the import is not its
 * owner's act). An address entered on the channel's page by a person gets its confirmation even when suppressed:
 * that person asked for it just now, and confirming is the one way an address's owner can lift a suppression
 * (rate-limited per address by the request, and a relay that refuses again suppresses it again).
 *
 * A transient failure throws, and BullMQ retries the job with back-off (the queue's attempts). A bounce (permanent
 * 5xx reply) suppresses the address and ends the job. Safe to run twice: the Message-ID is the same for one request
 * (`<confirmation-<subscription id>-<requested at>@host>`), so a duplicate after a crash is recognisable.
 */
import type { Db } from '../../src/db/prisma.js';
import { isSuppressed } from '../../src/db/suppression.js';
import { AppError } from '../../src/domain/errors.js';
import type { Logger } from '../../src/logger.js';
import { composeConfirmationEmail } from '../../src/mail/compose.js';
import { confirmationUrl, signConfirmationToken } from '../../src/mail/confirmation-token.js';
import { describeMailError, isPermanentMailError, type Mailer } from '../../src/mail/mailer.js';
import type { ConfirmationJob } from '../../src/queue/jobs.js';
import { suppressAfterFailure } from '../../src/services/suppression.js';

export interface ConfirmationProcessorDeps {
  db: Db;
  mailer: Mailer;
  /** Signs the confirmation links (resolveUnsubscribeKey: the same key, another purpose). */
  signingKey: string | Buffer;
  publicUrl: string;
  from: string;
  logger: Logger;
}

export type ConfirmationResult =
  | { status: 'sent' }
  | { status: 'failed'; suppressed: boolean }
  | { status: 'skipped'; reason: 'subscription_removed' | 'already_confirmed' | 'no_access' | 'suppressed' };

export function parseConfirmationJob(data: unknown): { subscriptionId: bigint; requestedAt: number } {
  const job = data as Partial<ConfirmationJob> | null;
  const id = job?.subscriptionId;
  const requestedAt = job?.requestedAt;
  if (typeof id !== 'string' || !/^[1-9]\d{0,18}$/.test(id) || !Number.isSafeInteger(requestedAt)) {
    throw new AppError('validation_failed', 'A confirmation job carries a subscription id and the request time');
  }
  return { subscriptionId: BigInt(id), requestedAt: requestedAt as number };
}

export async function processConfirmation(
  data: ConfirmationJob,
  deps: ConfirmationProcessorDeps,
): Promise<ConfirmationResult> {
  const { subscriptionId, requestedAt } = parseConfirmationJob(data);
  const { db, logger } = deps;
  const row = await db.subscription.findUnique({
    where: { id: subscriptionId },
    select: {
      email: true,
      userId: true,
      confirmedAt: true,
      language: true,
      source: true,
      channel: { select: { title: true, visibility: true, organisation: { select: { name: true } } } },
    },
  });
  if (!row?.email || row.userId !== null) return { status: 'skipped', reason: 'subscription_removed' };
  if (row.confirmedAt) return { status: 'skipped', reason: 'already_confirmed' };
  if (row.channel.visibility !== 'public') return { status: 'skipped', reason: 'no_access' };
  if (await isSuppressed(db, row.email)) {
    if (row.source !== 'self') {
      logger.info({ subscriptionId: String(subscriptionId) }, 'confirmation not sent: the address is suppressed');
      return { status: 'skipped', reason: 'suppressed' };
    }
    logger.info(
      { subscriptionId: String(subscriptionId) },
      'sending a requested confirmation to a suppressed address: confirming is how its owner lifts the suppression',
    );
  }

  const token = signConfirmationToken(deps.signingKey, { subscriptionId, address: row.email });
  const message = composeConfirmationEmail({
    to: row.email,
    from: deps.from,
    organisationName: row.channel.organisation?.name ?? null,
    messageId: `<confirmation-${subscriptionId}-${requestedAt}@${new URL(deps.publicUrl).hostname}>`,
    language: row.language,
    channelTitle: row.channel.title,
    confirmUrl: confirmationUrl(deps.publicUrl, token),
    source: row.source === 'import' ? 'import' : 'self',
  });
  try {
    await deps.mailer.send(message);
  } catch (error) {
    if (!isPermanentMailError(error)) throw error;
    const suppressed = await suppressAfterFailure(db, { email: row.email, error, deliveryId: null });
    logger.warn(
      { subscriptionId: String(subscriptionId), suppressed, error: describeMailError(error) },
      'confirmation e-mail refused',
    );
    return { status: 'failed', suppressed };
  }
  return { status: 'sent' };
}

/**
 * What senders do with the suppression list (src/db/suppression.ts) when a send fails, and what administrators see
 * of it.
 */

import type { Db } from '../db/prisma.js';
import { type Suppression, suppressAddress, suppressionKey } from '../db/suppression.js';
import { actsAsAdmin } from '../domain/access.js';
import { AppError } from '../domain/errors.js';
import type { Actor } from '../domain/types.js';
import { describeMailError, isPermanentMailError } from '../mail/mailer.js';

/**
 * Whether the relay's reply refuses mail to this address for good: a permanent 5xx REPLY (isPermanentMailError with a
 * reply code). An address nodemailer or we refused before talking to the relay (no reply code) is not a bounce: it
 * fails its delivery but says nothing about the mailbox.
 */
export function isBounce(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  return typeof (error as { responseCode?: unknown }).responseCode === 'number' && isPermanentMailError(error);
}

/**
 * After a failed send: puts the address on the suppression list when the failure is a bounce. Returns whether it
 * did. Every sender calls this from its permanent-failure path.
 */
export async function suppressAfterFailure(
  db: Db,
  failure: { email: string; error: unknown; deliveryId: bigint | null },
): Promise<boolean> {
  if (!isBounce(failure.error)) return false;
  const suppression: Suppression = {
    email: failure.email,
    reason: 'bounce',
    detail: describeMailError(failure.error),
    deliveryId: failure.deliveryId,
  };
  await suppressAddress(db, suppression);
  return true;
}

export interface SuppressionView {
  email: string;
  reason: string;
  detail: string | null;
  deliveryId: string | null;
  createdAt: string;
  liftedAt: string | null;
  /** In force (not lifted). */
  active: boolean;
}

/**
 * Administrators look up one address (lower-cased): its suppression, lifted or not, or not_found. One address at a
 * time on purpose: the list is personal data, and support needs to answer "why do I get nothing?", not to browse.
 */
export async function findSuppression(db: Db, actor: Actor, email: string): Promise<SuppressionView> {
  if (!actsAsAdmin(actor)) throw new AppError('forbidden', 'This needs an administrator (scope `admin`)');
  const row = await db.emailSuppression.findUnique({ where: { email: suppressionKey(email) } });
  if (!row) throw new AppError('not_found', 'This address is not on the suppression list');
  return {
    email: row.email,
    reason: row.reason,
    detail: row.detail,
    deliveryId: row.deliveryId === null ? null : String(row.deliveryId),
    createdAt: row.createdAt.toISOString(),
    liftedAt: row.liftedAt?.toISOString() ?? null,
    active: row.liftedAt === null,
  };
}

/**
 * The suppression list: addresses no e-mail goes to, because a relay answered a send to them with a permanent
 * refusal of the recipient (5xx). EVERY sender asks `isSuppressed` (or, for a batch, `suppressedAmong`) just before
 * it hands a message to the relay — announcements, acknowledgement reminders, confirmations, webhook notices to
 * owners, and whatever is added later (digests, corrections) — and skips the address when it is listed.
 *
 * Addresses are compared lower-cased: one mailbox is one row however a subscription spells it (the table's CHECK
 * holds it to that). A row is kept after it is lifted (`liftedAt`), for the record; only the address owner's explicit
 * act lifts it: a confirmed double opt-in (src/services/email-subscriptions.ts) or a signed-in user subscribing again
 * (src/services/subscriptions.ts). A later bounce suppresses it again and clears `liftedAt`.
 */
import { Prisma } from '../generated/prisma/client.js';
import { type Db, queryRows } from './prisma.js';

type Sql = Pick<Db, '$queryRaw' | '$executeRaw'>;

/** The form addresses are stored and compared in. */
export function suppressionKey(address: string): string {
  return address.trim().toLowerCase();
}

/** Those of `addresses` that are suppressed now, in their lower-cased form. The one query of the list. */
export async function suppressedAmong(db: Sql, addresses: readonly string[]): Promise<Set<string>> {
  const keys = [...new Set(addresses.map(suppressionKey))];
  if (keys.length === 0) return new Set();
  const rows = await queryRows<{ email: string }>(
    db,
    Prisma.sql`SELECT email FROM "EmailSuppression" WHERE email = ANY(${keys}::text[]) AND "liftedAt" IS NULL`,
  );
  return new Set(rows.map((row) => row.email));
}

/** Whether mail to this address must not be sent. */
export async function isSuppressed(db: Sql, address: string): Promise<boolean> {
  return (await suppressedAmong(db, [address])).size > 0;
}

export interface Suppression {
  email: string;
  /** Why: `bounce` (a permanent reply from the relay). */
  reason: string;
  /** The relay's reply, without addresses (describeMailError). */
  detail: string | null;
  /** The ledger row whose send was refused; null for a confirmation e-mail (which has no ledger row). */
  deliveryId: bigint | null;
}

/**
 * Puts the address on the list, or back on it: a second refusal refreshes the reason and clears a lift. The first
 * suppression's time is kept (createdAt), so the record says since when the address has bounced.
 */
export async function suppressAddress(db: Sql, suppression: Suppression): Promise<void> {
  await db.$executeRaw`
    INSERT INTO "EmailSuppression" (email, reason, detail, "deliveryId")
    VALUES (${suppressionKey(suppression.email)}, ${suppression.reason}, ${suppression.detail},
            ${suppression.deliveryId}::bigint)
    ON CONFLICT (email) DO UPDATE
       SET reason = EXCLUDED.reason, detail = EXCLUDED.detail, "deliveryId" = EXCLUDED."deliveryId",
           "liftedAt" = NULL`;
}

/** Lifts the address's suppression, if it has one in force. True when this call lifted it (callers log and audit). */
export async function liftSuppression(db: Sql, address: string): Promise<boolean> {
  const lifted = await db.$executeRaw`
    UPDATE "EmailSuppression" SET "liftedAt" = now()
     WHERE email = ${suppressionKey(address)} AND "liftedAt" IS NULL`;
  return lifted > 0;
}

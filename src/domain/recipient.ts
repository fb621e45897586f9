/**
 * The stable key of a delivery's recipient: `user:<uuid>` for an account, `email:<address>` for a bare address.
 * Deliveries are unique per (announcement, recipient, medium), so a subscriber who unsubscribes and subscribes again
 * never earns a second copy. The fan-out's SQL builds the same key (workers/processors/fanout.ts); keep them equal.
 */
export type RecipientKey = `user:${string}` | `email:${string}`;

export function recipientKey(subscriber: { userId: string | null; email: string | null }): RecipientKey {
  if (subscriber.userId) return `user:${subscriber.userId}`;
  if (subscriber.email) return `email:${subscriber.email}`;
  throw new Error('A subscription has a user or an e-mail address');
}

/**
 * Signed unsubscribe tokens, one per recipient and subscription, carried in e-mail links and in List-Unsubscribe.
 *
 * Format: `<subscription id>.<base64url HMAC-SHA256>`. The MAC covers the subscription id AND the recipient key
 * (`user:<uuid>` or `email:<address>`), so a token only works for the recipient it was made for: if a subscription
 * row's recipient ever differs from the one the token names, the token is refused. The address itself is not in the
 * token (links end up in logs and proxies); the verifier reads it from the subscription. New tokens are always signed
 * with the current key (UNSUBSCRIBE_SECRET); verification also accepts the previous keys during their grace period.
 */
import { createHmac } from 'node:crypto';
import { macMatchesAny, type SigningKey, type VerificationKeys } from './signing-keys.js';

/** The subscription a token names, before its MAC is checked. */
export interface ParsedUnsubscribeToken {
  subscriptionId: bigint;
  mac: Buffer;
}

const TOKEN_PATTERN = /^([1-9]\d{0,18})\.([A-Za-z0-9_-]{43})$/;
// Domain separation: the same key may one day sign other kinds of links; a MAC of one kind must not pass as another.
const PURPOSE = 'meldingskanal/unsubscribe/v1';

function mac(key: SigningKey, subscriptionId: bigint, recipient: string): Buffer {
  return createHmac('sha256', key).update(`${PURPOSE}\n${subscriptionId}\n${recipient}`).digest();
}

/** Signs a token for this subscription and recipient key. */
export function signUnsubscribeToken(
  key: SigningKey,
  subscription: { subscriptionId: bigint; recipient: string },
): string {
  return `${subscription.subscriptionId}.${mac(key, subscription.subscriptionId, subscription.recipient).toString('base64url')}`;
}

/** Reads the subscription id out of a token without trusting it; null when the token is malformed. */
export function parseUnsubscribeToken(token: string): ParsedUnsubscribeToken | null {
  const match = TOKEN_PATTERN.exec(token);
  if (!match) return null;
  const subscriptionId = BigInt(match[1]!);
  // Larger than a PostgreSQL bigint: cannot name a row.
  if (subscriptionId > 9_223_372_036_854_775_807n) return null;
  const decoded = Buffer.from(match[2]!, 'base64url');
  // Only the canonical spelling: the last of the 43 characters carries 2 unused bits, so four spellings decode to the
  // same MAC. Accepting them all would make a "changed" token still work, which no one expects of a signature.
  if (decoded.length !== 32 || decoded.toString('base64url') !== match[2]) return null;
  return { subscriptionId, mac: decoded };
}

/**
 * True when the token's MAC matches this subscription's recipient under one of the keys valid at `now` (a ring: the
 * current key, and the previous ones during their grace period; signing-keys.ts). Constant-time comparisons.
 */
export function verifyUnsubscribeToken(
  keys: VerificationKeys,
  token: ParsedUnsubscribeToken,
  recipient: string,
  now: Date = new Date(),
): boolean {
  return macMatchesAny(keys, token.mac, (key) => mac(key, token.subscriptionId, recipient), now);
}

// The key resolution lives with the rotation (signing-keys.ts); re-exported for the callers that sign.
export { resolveUnsubscribeKey } from './signing-keys.js';

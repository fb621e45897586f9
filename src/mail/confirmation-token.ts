/**
 * Signed links that confirm a bare e-mail subscription (double opt-in).
 *
 * Format: `<subscription id>.<expiry, unix seconds>.<base64url HMAC-SHA256>`. The MAC covers the purpose, the
 * subscription id, the expiry AND the subscription's address (lower-cased), so a token works only for the address it
 * was sent to, only until it expires, and never as an unsubscribe token (or the other way round), although both are
 * signed with the same key (UNSUBSCRIBE_SECRET, resolveUnsubscribeKey): the purpose string separates them. The
 * address itself is not in the token (links end up in logs and proxies); the verifier reads it from the row.
 */
import { createHmac } from 'node:crypto';
import { macMatchesAny, type VerificationKeys } from './signing-keys.js';

/** How long a confirmation link works. */
export const CONFIRMATION_TOKEN_TTL_MS = 7 * 24 * 3600 * 1000;

const PURPOSE = 'meldingskanal/confirm-subscription/v1';
const TOKEN_PATTERN = /^([1-9]\d{0,18})\.([1-9]\d{0,11})\.([A-Za-z0-9_-]{43})$/;

export interface ParsedConfirmationToken {
  subscriptionId: bigint;
  /** Unix seconds. */
  expiresAt: number;
  mac: Buffer;
}

function mac(key: string | Buffer, subscriptionId: bigint, expiresAt: number, address: string): Buffer {
  return createHmac('sha256', key)
    .update(`${PURPOSE}\n${subscriptionId}\n${expiresAt}\n${address.trim().toLowerCase()}`)
    .digest();
}

export function signConfirmationToken(
  key: string | Buffer,
  subscription: { subscriptionId: bigint; address: string },
  now: Date = new Date(),
): string {
  const expiresAt = Math.floor((now.getTime() + CONFIRMATION_TOKEN_TTL_MS) / 1000);
  const signature = mac(key, subscription.subscriptionId, expiresAt, subscription.address).toString('base64url');
  return `${subscription.subscriptionId}.${expiresAt}.${signature}`;
}

/** Reads the subscription id and expiry out of a token without trusting them; null when it is malformed. */
export function parseConfirmationToken(token: string): ParsedConfirmationToken | null {
  const match = TOKEN_PATTERN.exec(token);
  if (!match) return null;
  const subscriptionId = BigInt(match[1]!);
  if (subscriptionId > 9_223_372_036_854_775_807n) return null;
  const decoded = Buffer.from(match[3]!, 'base64url');
  // Only the canonical spelling: the last character carries 2 unused bits, and another spelling of the same MAC is
  // not the token we issued.
  if (decoded.length !== 32 || decoded.toString('base64url') !== match[3]) return null;
  return { subscriptionId, expiresAt: Number(match[2]), mac: decoded };
}

/**
 * True when the MAC matches this subscription's address under one of the keys valid at `now` (the current key, and
 * the previous ones during their grace period: signing-keys.ts) and the token has not expired. Constant-time
 * comparisons.
 */
export function verifyConfirmationToken(
  keys: VerificationKeys,
  token: ParsedConfirmationToken,
  address: string,
  now: Date = new Date(),
): boolean {
  const valid = macMatchesAny(keys, token.mac, (key) => mac(key, token.subscriptionId, token.expiresAt, address), now);
  return valid && token.expiresAt * 1000 > now.getTime();
}

export function confirmationUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/subscriptions/confirm?token=${encodeURIComponent(token)}`;
}

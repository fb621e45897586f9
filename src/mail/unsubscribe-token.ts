/**
 * Signed unsubscribe tokens, one per recipient and subscription, carried in e-mail links and in List-Unsubscribe.
 *
 * Format: `<subscription id>.<base64url HMAC-SHA256>`. The MAC covers the subscription id AND the recipient key
 * (`user:<uuid>` or `email:<address>`), so a token only works for the recipient it was made for: if a subscription
 * row's recipient ever differs from the one the token names, the token is refused. The address itself is not in the
 * token (links end up in logs and proxies); the verifier reads it from the subscription.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config.js';

/** The subscription a token names, before its MAC is checked. */
export interface ParsedUnsubscribeToken {
  subscriptionId: bigint;
  mac: Buffer;
}

const TOKEN_PATTERN = /^([1-9]\d{0,18})\.([A-Za-z0-9_-]{43})$/;
// Domain separation: the same key may one day sign other kinds of links; a MAC of one kind must not pass as another.
const PURPOSE = 'meldingskanal/unsubscribe/v1';

function mac(key: string | Buffer, subscriptionId: bigint, recipient: string): Buffer {
  return createHmac('sha256', key).update(`${PURPOSE}\n${subscriptionId}\n${recipient}`).digest();
}

/** Signs a token for this subscription and recipient key. */
export function signUnsubscribeToken(
  key: string | Buffer,
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
  return decoded.length === 32 ? { subscriptionId, mac: decoded } : null;
}

/** True when the token's MAC matches this subscription's recipient. Constant-time comparison. */
export function verifyUnsubscribeToken(
  key: string | Buffer,
  token: ParsedUnsubscribeToken,
  recipient: string,
): boolean {
  const expected = mac(key, token.subscriptionId, recipient);
  return timingSafeEqual(expected, token.mac);
}

let processKey: Buffer | undefined;

/**
 * The key that signs unsubscribe links: UNSUBSCRIBE_SECRET, or (development only: the configuration refuses to start
 * production without it) one random key per process, made once and shared by the API and the workers of this
 * process, so links made by the workers of a ROLE=all process verify in its API. Links do not survive a restart then,
 * and a separate API process cannot verify them: the warning says so.
 */
export function resolveUnsubscribeKey(
  config: Pick<Config, 'unsubscribeSecret'>,
  logger?: { warn(message: string): void },
): string | Buffer {
  if (config.unsubscribeSecret) return config.unsubscribeSecret;
  if (!processKey) {
    processKey = randomBytes(32);
    logger?.warn(
      'UNSUBSCRIBE_SECRET is not set: unsubscribe links are signed with a random key made for this process; they stop working when it restarts and are not accepted by other processes',
    );
  }
  return processKey;
}

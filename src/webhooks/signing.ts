/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): the secret is `whsec_` + base64 of 32 random
 * bytes; a message is signed as `v1,` + base64(HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}")) where the
 * key is the base64-decoded part after `whsec_`. Receivers verify with any Standard Webhooks library.
 */
import { createHmac, randomBytes } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';
const SECRET_BYTES = 32;

export function generateWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;
}

function keyOf(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error('A webhook secret starts with whsec_');
  return Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
}

/** `v1,<base64 signature>` of one message. */
export function signWebhook(secret: string, msgId: string, timestampSeconds: number, body: string): string {
  const signature = createHmac('sha256', keyOf(secret)).update(`${msgId}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${signature}`;
}

/** The three headers of a signed message. `msgId` stays the same across retries of one delivery. */
export function webhookHeaders(
  secret: string,
  msgId: string,
  body: string,
  now: Date = new Date(),
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signWebhook(secret, msgId, timestamp, body),
  };
}

/** The stable message id of a delivery: receivers de-duplicate retries by it. */
export function deliveryMessageId(deliveryId: bigint | string): string {
  return `msg_${deliveryId}`;
}

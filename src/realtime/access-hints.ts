/**
 * "Access changed" hints: after a sign-out, a role revocation, a token revocation or a channel's visibility change,
 * the code that made the change publishes a hint on `<prefix>:access`, and every API process re-checks the affected
 * WebSockets at once instead of at its next periodic re-check (LIVE_ACCESS_RECHECK_MS).
 *
 * A hint is only a hint: it carries no rights, it names whom to re-check, and the re-check reads the truth from
 * PostgreSQL. Pub/sub is not durable, so a lost hint merely delays the change until the periodic re-check, which
 * remains the guarantee.
 */
import type { Redis } from 'ioredis';

export const accessRedisChannel = (prefix: string) => `${prefix}:access`;

/**
 * Whom to re-check: the sockets of one user, the sockets watching one channel, or (neither given) every socket.
 * Ids only: never an e-mail address, a session secret or a token.
 */
export interface AccessHint {
  userId?: string;
  channelId?: string;
}

/**
 * What services and routes are given to announce an access change: best effort, after commit (the periodic re-check
 * remains the guarantee). Bound to Redis and the key prefix in src/http/app.ts.
 */
export type AnnounceAccessChange = (hint: AccessHint) => Promise<unknown>;

/**
 * Publishes an access-changed hint to every API process. Best effort: it never throws (the change it follows has
 * already been made, and must not be reported as failed because Redis is away); returns whether Redis took it.
 *
 * Call it after the change is committed: `await announceAccessChange(deps.redis, config.redis.prefix, { userId })`.
 */
export async function announceAccessChange(redis: Redis, prefix: string, hint: AccessHint): Promise<boolean> {
  const message: AccessHint = {};
  if (hint.userId) message.userId = hint.userId;
  if (hint.channelId) message.channelId = hint.channelId;
  try {
    await redis.publish(accessRedisChannel(prefix), JSON.stringify(message));
    return true;
  } catch {
    return false;
  }
}

const ID_PATTERN = /^[A-Za-z0-9-]{1,64}$/;

/** Validates a hint received from Redis; null when it is not one (such a message is ignored). */
export function parseAccessHint(raw: string): AccessHint | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { userId, channelId } = value as Record<string, unknown>;
  const hint: AccessHint = {};
  if (userId !== undefined) {
    if (typeof userId !== 'string' || !ID_PATTERN.test(userId)) return null;
    hint.userId = userId;
  }
  if (channelId !== undefined) {
    if (typeof channelId !== 'string' || !ID_PATTERN.test(channelId)) return null;
    hint.channelId = channelId;
  }
  return hint;
}

/**
 * The keys of the signed e-mail links (unsubscribe and confirmation tokens), with rotation.
 *
 * UNSUBSCRIBE_SECRET is the one signing key: every new link is signed with it. After a rotation the keys it replaced
 * (UNSUBSCRIBE_PREVIOUS_SECRETS) still VERIFY links until UNSUBSCRIBE_PREVIOUS_SECRETS_UNTIL, because an e-mail sent
 * before the rotation sits in inboxes for weeks and its unsubscribe link must keep working; after that moment they are
 * refused like any forged token. Verification tries every key of the moment, each comparison in constant time and
 * without stopping at the first match, so the time an answer takes does not tell which key (if any) matched.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config.js';

export type SigningKey = string | Buffer;

/** The signing key and the retired keys that still verify for a while. */
export interface SigningKeyRing {
  /** Signs every new link; also verifies. */
  readonly current: SigningKey;
  /** Verify-only; accepted while the time is before `previousUntil`. */
  readonly previous: readonly SigningKey[];
  readonly previousUntil: Date | undefined;
}

/** What a verifier accepts: one key (tests, older callers) or a ring, whose keys depend on the time. */
export type VerificationKeys = SigningKey | SigningKeyRing;

function isRing(keys: VerificationKeys): keys is SigningKeyRing {
  return typeof keys === 'object' && !Buffer.isBuffer(keys);
}

/** The keys that verify at `now`, the current key first: the previous ones only before their UNTIL moment. */
export function verificationKeys(keys: VerificationKeys, now: Date = new Date()): readonly SigningKey[] {
  if (!isRing(keys)) return [keys];
  const inGrace = keys.previousUntil !== undefined && now.getTime() < keys.previousUntil.getTime();
  return inGrace ? [keys.current, ...keys.previous] : [keys.current];
}

/** The key that signs new links. */
export function signingKeyOf(keys: VerificationKeys): SigningKey {
  return isRing(keys) ? keys.current : keys;
}

/**
 * True when `given` equals the MAC `expected(key)` for one of the keys valid at `now`. Every key is tried and each
 * comparison is constant-time, whatever matched before it.
 */
export function macMatchesAny(
  keys: VerificationKeys,
  given: Buffer,
  expected: (key: SigningKey) => Buffer,
  now: Date = new Date(),
): boolean {
  let matched = false;
  for (const key of verificationKeys(keys, now)) {
    const mac = expected(key);
    const equal = mac.length === given.length && timingSafeEqual(mac, given);
    matched = equal || matched;
  }
  return matched;
}

let processKey: Buffer | undefined;

/**
 * The key that signs unsubscribe and confirmation links: UNSUBSCRIBE_SECRET, or (development only: the configuration
 * refuses to start production without it) one random key per process, made once and shared by the API and the
 * workers of this process, so links made by the workers of a ROLE=all process verify in its API. Links do not survive
 * a restart then, and a separate API process cannot verify them: the warning says so.
 */
export function resolveUnsubscribeKey(
  config: Pick<Config, 'unsubscribeSecret'>,
  logger?: { warn(message: string): void },
): SigningKey {
  if (config.unsubscribeSecret) return config.unsubscribeSecret;
  if (!processKey) {
    processKey = randomBytes(32);
    logger?.warn(
      'UNSUBSCRIBE_SECRET is not set: unsubscribe links are signed with a random key made for this process; they stop working when it restarts and are not accepted by other processes',
    );
  }
  return processKey;
}

/** The ring of this configuration: UNSUBSCRIBE_SECRET signs; UNSUBSCRIBE_PREVIOUS_SECRETS verify until their UNTIL. */
export function resolveSigningKeys(
  config: Pick<Config, 'unsubscribeSecret' | 'unsubscribePreviousSecrets' | 'unsubscribePreviousSecretsUntil'>,
  logger?: { warn(message: string): void },
  now: Date = new Date(),
): SigningKeyRing {
  const until = config.unsubscribePreviousSecretsUntil;
  if (config.unsubscribePreviousSecrets.length > 0 && until && until.getTime() <= now.getTime()) {
    logger?.warn(
      `UNSUBSCRIBE_PREVIOUS_SECRETS are past UNSUBSCRIBE_PREVIOUS_SECRETS_UNTIL (${until.toISOString()}): links signed with them are refused; remove both settings`,
    );
  }
  return {
    current: resolveUnsubscribeKey(config, logger),
    previous: config.unsubscribePreviousSecrets,
    previousUntil: until,
  };
}

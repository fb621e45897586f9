/**
 * Key rotation of the signed e-mail links (src/mail/signing-keys.ts): the keys that verify at a given time, both kinds
 * of token against a ring, and the settings that configure it.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import {
  parseConfirmationToken,
  signConfirmationToken,
  verifyConfirmationToken,
} from '../../src/mail/confirmation-token.js';
import {
  resolveSigningKeys,
  type SigningKeyRing,
  signingKeyOf,
  verificationKeys,
} from '../../src/mail/signing-keys.js';
import {
  parseUnsubscribeToken,
  signUnsubscribeToken,
  verifyUnsubscribeToken,
} from '../../src/mail/unsubscribe-token.js';

const CURRENT = 'current-key-0123456789abcdef0123456789';
const OLD = 'old-key-0123456789abcdef0123456789abcd';
const OLDER = 'older-key-0123456789abcdef0123456789ab';
const UNTIL = new Date('2027-03-01T00:00:00Z');
const ring: SigningKeyRing = { current: CURRENT, previous: [OLD, OLDER], previousUntil: UNTIL };
const before = new Date(UNTIL.getTime() - 1);
const after = new Date(UNTIL.getTime());

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
}

describe('verificationKeys', () => {
  it('gives the current key first, then the previous ones until their UNTIL moment, then the current one only', () => {
    expect(verificationKeys(ring, before)).toEqual([CURRENT, OLD, OLDER]);
    expect(verificationKeys(ring, after)).toEqual([CURRENT]);
    expect(verificationKeys({ current: CURRENT, previous: [], previousUntil: undefined }, before)).toEqual([CURRENT]);
    expect(verificationKeys(CURRENT, before)).toEqual([CURRENT]);
    expect(signingKeyOf(ring)).toBe(CURRENT);
  });

  it('comes from the configuration: UNSUBSCRIBE_SECRET signs, the previous secrets verify until UNTIL', () => {
    const config = loadConfig({
      UNSUBSCRIBE_SECRET: CURRENT,
      UNSUBSCRIBE_PREVIOUS_SECRETS: ` ${OLD} ,${OLDER}`,
      UNSUBSCRIBE_PREVIOUS_SECRETS_UNTIL: '2027-03-01T01:00:00+01:00',
    });
    const warnings: string[] = [];
    const keys = resolveSigningKeys(config, { warn: (message) => warnings.push(message) }, before);
    expect(keys).toEqual(ring);
    expect(warnings).toEqual([]);
    // Started after the grace period: the old keys are useless, and the operator is told to remove them.
    resolveSigningKeys(config, { warn: (message) => warnings.push(message) }, after);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/past UNSUBSCRIBE_PREVIOUS_SECRETS_UNTIL/);
    expect(warnings[0]).not.toContain(OLD);
  });
});

describe('unsubscribe tokens against a ring', () => {
  const subscription = { subscriptionId: 17n, recipient: 'email:ola@example.org' };

  it('accepts a token of a previous key only during the grace period, and one of the current key always', () => {
    const old = parseUnsubscribeToken(signUnsubscribeToken(OLDER, subscription))!;
    expect(verifyUnsubscribeToken(ring, old, subscription.recipient, before)).toBe(true);
    expect(verifyUnsubscribeToken(ring, old, subscription.recipient, after)).toBe(false);
    const current = parseUnsubscribeToken(signUnsubscribeToken(signingKeyOf(ring), subscription))!;
    expect(verifyUnsubscribeToken(ring, current, subscription.recipient, before)).toBe(true);
    expect(verifyUnsubscribeToken(ring, current, subscription.recipient, after)).toBe(true);
  });

  it('refuses, under every key, a token for another recipient, a tampered one and one of an unknown key', () => {
    const old = signUnsubscribeToken(OLD, subscription);
    expect(verifyUnsubscribeToken(ring, parseUnsubscribeToken(old)!, 'email:kari@example.org', before)).toBe(false);
    const lastChar = old.at(-1) === 'A' ? 'B' : 'A';
    const tampered = parseUnsubscribeToken(old.slice(0, -1) + lastChar)!;
    expect(verifyUnsubscribeToken(ring, tampered, subscription.recipient, before)).toBe(false);
    const foreign = parseUnsubscribeToken(signUnsubscribeToken('x'.repeat(40), subscription))!;
    expect(verifyUnsubscribeToken(ring, foreign, subscription.recipient, before)).toBe(false);
  });
});

describe('confirmation tokens against a ring', () => {
  const subscription = { subscriptionId: 42n, address: 'kari@example.org' };
  const signedAt = new Date(UNTIL.getTime() - 24 * 3600 * 1000);

  it('accepts a token of a previous key during the grace period (and before its own expiry) only', () => {
    const old = parseConfirmationToken(signConfirmationToken(OLD, subscription, signedAt))!;
    expect(verifyConfirmationToken(ring, old, subscription.address, before)).toBe(true);
    expect(verifyConfirmationToken(ring, old, subscription.address, after)).toBe(false);
    expect(verifyConfirmationToken(ring, old, 'ola@example.org', before)).toBe(false);
    const current = parseConfirmationToken(signConfirmationToken(CURRENT, subscription, signedAt))!;
    expect(verifyConfirmationToken(ring, current, subscription.address, after)).toBe(true);
  });

  it('never takes an unsubscribe token of a previous key for a confirmation', () => {
    const unsubscribe = signUnsubscribeToken(OLD, { subscriptionId: 42n, recipient: 'email:kari@example.org' });
    const mac = unsubscribe.split('.')[1]!;
    const forged = parseConfirmationToken(`42.${Math.floor(after.getTime() / 1000) + 3600}.${mac}`)!;
    expect(verifyConfirmationToken(ring, forged, subscription.address, before)).toBe(false);
  });
});

describe('rotation settings', () => {
  it('requires UNTIL with previous secrets, and a current secret that replaced them', () => {
    expect(problemsOf({ UNSUBSCRIBE_SECRET: CURRENT, UNSUBSCRIBE_PREVIOUS_SECRETS: OLD })).toEqual([
      expect.stringMatching(/^UNSUBSCRIBE_PREVIOUS_SECRETS_UNTIL is required when UNSUBSCRIBE_PREVIOUS_SECRETS is set/),
    ]);
    expect(
      problemsOf({ UNSUBSCRIBE_PREVIOUS_SECRETS: OLD, UNSUBSCRIBE_PREVIOUS_SECRETS_UNTIL: '2027-03-01T00:00:00Z' }),
    ).toEqual([expect.stringMatching(/^UNSUBSCRIBE_PREVIOUS_SECRETS needs UNSUBSCRIBE_SECRET/)]);
  });

  it('refuses a short previous secret without repeating it, and an UNTIL that is no date-time with a zone', () => {
    const problems = problemsOf({
      UNSUBSCRIBE_SECRET: CURRENT,
      UNSUBSCRIBE_PREVIOUS_SECRETS: `${OLD},too-short-secret`,
      UNSUBSCRIBE_PREVIOUS_SECRETS_UNTIL: '2027-03-01',
    });
    expect(problems.join('\n')).toMatch(/UNSUBSCRIBE_PREVIOUS_SECRETS must be secrets of at least 32 characters each/);
    expect(problems.join('\n')).toMatch(/UNSUBSCRIBE_PREVIOUS_SECRETS_UNTIL must be an ISO 8601 date-time/);
    expect(problems.join('\n')).not.toContain('too-short-secret');
    expect(problems.join('\n')).not.toContain(OLD);
  });

  it('has no previous keys by default', () => {
    const config = loadConfig({});
    expect(config.unsubscribePreviousSecrets).toEqual([]);
    expect(config.unsubscribePreviousSecretsUntil).toBeUndefined();
    expect(config.unsubscribeMailto).toBeUndefined();
  });

  it('takes a bare address for UNSUBSCRIBE_MAILTO and refuses anything that would break the header', () => {
    expect(loadConfig({ UNSUBSCRIBE_MAILTO: ' unsubscribe@uio.no ' }).unsubscribeMailto).toBe('unsubscribe@uio.no');
    for (const bad of ['BOTT <unsubscribe@uio.no>', 'a@b', 'un subscribe@uio.no', 'x@uio.no>', 'x@uio.no?subject=y']) {
      expect(problemsOf({ UNSUBSCRIBE_MAILTO: bad })).toEqual([
        expect.stringMatching(/^UNSUBSCRIBE_MAILTO must be a bare e-mail address/),
      ]);
    }
  });
});

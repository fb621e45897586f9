/**
 * Standard Webhooks signing (src/webhooks/signing.ts), checked against an independent implementation: the
 * `standardwebhooks` package (the scheme's reference library) and the scheme's published example.
 */
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { deliveryMessageId, generateWebhookSecret, signWebhook, webhookHeaders } from '../../src/webhooks/signing.js';

describe('generateWebhookSecret', () => {
  it('is whsec_ and the base64 of 32 random bytes, different every time', () => {
    const secrets = new Set(Array.from({ length: 50 }, () => generateWebhookSecret()));
    expect(secrets.size).toBe(50);
    for (const secret of secrets) {
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    }
  });
});

describe('signWebhook', () => {
  it('matches the example in the Standard Webhooks specification', () => {
    expect(
      signWebhook(
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        'msg_p5jXN8AQM9LWM0D4loKWxJek',
        1614265330,
        '{"test": 2432232314}',
      ),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('produces headers the reference library verifies, and that fail for another body, id, time or secret', () => {
    const secret = generateWebhookSecret();
    const body = JSON.stringify({ type: 'announcement.published', data: { title: 'Nedetid «Canvas» – æøå' } });
    const now = new Date();
    const headers = webhookHeaders(secret, 'msg_42', body, now);
    expect(headers['webhook-id']).toBe('msg_42');
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(now.getTime() / 1000)));

    const verifier = new Webhook(secret);
    expect(verifier.verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => verifier.verify(`${body} `, headers)).toThrow();
    expect(() => verifier.verify(body, { ...headers, 'webhook-id': 'msg_43' })).toThrow();
    expect(() =>
      verifier.verify(body, { ...headers, 'webhook-timestamp': String(Number(headers['webhook-timestamp']) - 1) }),
    ).toThrow();
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow();
    // And the library's own signature is ours.
    expect(verifier.sign('msg_42', new Date(Number(headers['webhook-timestamp']) * 1000), body)).toBe(
      headers['webhook-signature'],
    );
  });

  it('refuses a secret without the whsec_ prefix', () => {
    expect(() => signWebhook('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_1', 1, '{}')).toThrow(/whsec_/);
  });
});

describe('deliveryMessageId', () => {
  it('is the same for every attempt of one delivery', () => {
    expect(deliveryMessageId(123n)).toBe('msg_123');
    expect(deliveryMessageId('123')).toBe(deliveryMessageId(123n));
  });
});

/** The From of channel e-mails (senderOf) and List-Unsubscribe with a mailto: URI (bulkHeaders), pure. */
import { describe, expect, it } from 'vitest';
import { bulkHeaders, DEFAULT_SENDER_NAME, senderOf, unsubscribeMailtoUri } from '../../src/mail/compose.js';

describe('senderOf', () => {
  it("names the channel's organisation with MAIL_FROM's address", () => {
    expect(senderOf('BOTT Meldingskanal <noreply@uio.no>', 'Universitetet i Oslo')).toEqual({
      name: 'Meldingskanal – Universitetet i Oslo',
      address: 'noreply@uio.no',
    });
    expect(senderOf('"Drift, UiO" <noreply@uio.no>', 'NTNU')).toEqual({
      name: 'Meldingskanal – NTNU',
      address: 'noreply@uio.no',
    });
  });

  it("falls back to MAIL_FROM's name, then to the default name", () => {
    expect(senderOf('"Drift, UiO" <noreply@uio.no>', null)).toEqual({ name: 'Drift, UiO', address: 'noreply@uio.no' });
    expect(senderOf('noreply@uio.no', undefined)).toEqual({ name: DEFAULT_SENDER_NAME, address: 'noreply@uio.no' });
    expect(senderOf('noreply@uio.no', '  \r\n ')).toEqual({ name: DEFAULT_SENDER_NAME, address: 'noreply@uio.no' });
  });

  it('keeps line breaks out of the name and its length bounded', () => {
    const sender = senderOf('noreply@uio.no', `Evil\r\nBcc: x@example.org ${'x'.repeat(500)}`);
    expect(sender.name).not.toMatch(/[\r\n]/);
    expect(sender.name.startsWith('Meldingskanal – Evil Bcc: x@example.org')).toBe(true);
    expect(sender.name.length).toBe(120);
  });
});

describe('List-Unsubscribe', () => {
  const link = 'https://m.example.no/unsubscribe?token=17.abc';

  it('has the https URI only without a mailto address, and none without a link', () => {
    expect(bulkHeaders('nb', link)['List-Unsubscribe']).toBe(`<${link}>`);
    expect(bulkHeaders('nb', null, 'mailto:x@uio.no')['List-Unsubscribe']).toBeUndefined();
  });

  it('puts the https URI first (RFC 8058 one-click uses it) and the mailto: URI with the token after it', () => {
    const mailto = unsubscribeMailtoUri('unsubscribe@uio.no', '17.abc_-');
    expect(mailto).toBe('mailto:unsubscribe@uio.no?subject=unsubscribe%2017.abc_-');
    const headers = bulkHeaders('en', link, mailto);
    expect(headers['List-Unsubscribe']).toBe(`<${link}>, <${mailto}>`);
    expect(headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
  });
});

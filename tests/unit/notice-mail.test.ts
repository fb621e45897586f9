/**
 * The correction and retraction e-mails (src/mail/notices.ts) without a server: subjects and headings in nb/nn/en,
 * the edit note and current text in a correction, none of the withdrawn text in a retraction notice, escaping of
 * everything a person typed, no header injection through titles, List-Unsubscribe only with a subscription.
 */
import { describe, expect, it } from 'vitest';
import type { Language } from '../../src/domain/types.js';
import { composeCorrectionEmail, composeRetractionEmail } from '../../src/mail/notices.js';

const common = {
  deliveryId: 42n,
  to: 'reader@example.org',
  from: 'BOTT Meldingskanal <noreply@example.no>',
  publicUrl: 'https://meldingskanal.example.no',
  channelTitle: 'Drift',
  title: 'Vedlikehold',
  contentLanguage: 'nb' as Language,
  unsubscribeToken: '1.abc',
};

const correction = (language: Language, extra: Partial<Parameters<typeof composeCorrectionEmail>[0]> = {}) =>
  composeCorrectionEmail({
    ...common,
    language,
    note: 'Ny dato',
    summary: 'Kort fortalt',
    body: 'Nede **lørdag**.',
    url: 'https://meldingskanal.example.no/api/v1/announcements/abc',
    ...extra,
  });

describe('correction e-mail', () => {
  it.each([
    ['nb', '[Drift] Rettet: Vedlikehold', 'Utgiverens merknad: Ny dato', 'Slik lyder kunngjøringen nå:'],
    ['nn', '[Drift] Retta: Vedlikehold', 'Merknaden frå utgjevaren: Ny dato', 'Slik lyder kunngjeringa no:'],
    ['en', '[Drift] Corrected: Vedlikehold', "The publisher's note: Ny dato", 'The announcement now reads:'],
  ] as const)('in %s: subject, note, the current text and a link', (language, subject, note, nowReads) => {
    const mail = correction(language);
    expect(mail.subject).toBe(subject);
    expect(mail.text).toContain(note);
    expect(mail.text).toContain(nowReads);
    expect(mail.text).toContain('Kort fortalt');
    expect(mail.text).toContain('lørdag');
    expect(mail.text).toContain('https://meldingskanal.example.no/api/v1/announcements/abc');
    expect(mail.html).toContain(`<html lang="${language}">`);
    expect(mail.html).toContain('<strong>lørdag</strong>');
    expect(mail.messageId).toBe('<delivery-42@meldingskanal.example.no>');
    expect(mail.headers['List-Unsubscribe']).toBe('<https://meldingskanal.example.no/unsubscribe?token=1.abc>');
    expect(mail.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    // The content's own language (nb) is marked where it differs from the mail's.
    expect(mail.html.includes('<span lang="nb">Vedlikehold</span>')).toBe(language !== 'nb');
  });

  it('leaves the note out when there is none, and escapes what people typed', () => {
    const plain = correction('nb', { note: null });
    expect(plain.text).not.toContain('Utgiverens merknad');
    const hostile = correction('en', {
      title: '<script>alert(1)</script>',
      note: '<img src=x onerror=alert(1)>',
      channelTitle: 'Drift & <b>drift</b>',
    });
    expect(hostile.html).not.toContain('<script>');
    expect(hostile.html).not.toContain('<img src=x');
    expect(hostile.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(hostile.html).toContain('Drift &amp; &lt;b&gt;drift&lt;/b&gt;');
  });

  it('keeps titles with line breaks on one header line, and has no List-Unsubscribe without a subscription', () => {
    const mail = correction('nb', { title: 'Vedlikehold\r\nBcc: victim@example.org', unsubscribeToken: null });
    expect(mail.subject).toBe('[Drift] Rettet: Vedlikehold Bcc: victim@example.org');
    expect(mail.headers['List-Unsubscribe']).toBeUndefined();
    expect(() => correction('nb', { to: 'a@example.org\r\nBcc: b@example.org' })).toThrow();
  });
});

describe('retraction notice', () => {
  it.each([
    ['nb', '[Drift] Trukket tilbake: Vedlikehold', 'trukket tilbake'],
    ['nn', '[Drift] Trekt tilbake: Vedlikehold', 'trekt tilbake'],
    ['en', '[Drift] Withdrawn: Vedlikehold', 'withdrawn'],
  ] as const)('in %s: the title and an explanation, no link to the announcement', (language, subject, words) => {
    const mail = composeRetractionEmail({ ...common, language });
    expect(mail.subject).toBe(subject);
    expect(mail.text.toLowerCase()).toContain(words);
    expect(mail.text).not.toContain('/api/v1/announcements/');
    expect(mail.html).not.toContain('/api/v1/announcements/');
    expect(mail.html).toContain('<h1');
    expect(mail.headers['Auto-Submitted']).toBe('auto-generated');
  });
});

describe('sender and List-Unsubscribe of the notices', () => {
  it("name the channel's organisation as the sender and offer the mailto: unsubscribe when configured", () => {
    for (const mail of [
      correction('nb', { organisationName: 'Universitetet i Oslo', unsubscribeMailto: 'avmelding@example.no' }),
      composeRetractionEmail({
        ...common,
        language: 'nb',
        organisationName: 'Universitetet i Oslo',
        unsubscribeMailto: 'avmelding@example.no',
      }),
    ]) {
      expect(mail.from).toEqual({ name: 'Meldingskanal – Universitetet i Oslo', address: 'noreply@example.no' });
      expect(mail.headers['List-Unsubscribe']).toBe(
        '<https://meldingskanal.example.no/unsubscribe?token=1.abc>, <mailto:avmelding@example.no?subject=unsubscribe%201.abc>',
      );
    }
  });
});

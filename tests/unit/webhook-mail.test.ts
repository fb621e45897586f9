/** The owners' notice of a switched-off webhook (src/webhooks/disabled-mail.ts): languages, escaping, no secrets. */
import { describe, expect, it } from 'vitest';
import { composeWebhookDisabledMail, type WebhookDisabledMailInput } from '../../src/webhooks/disabled-mail.js';

const input: WebhookDisabledMailInput = {
  to: 'eier@uio.no',
  from: 'BOTT Meldingskanal <noreply@uio.no>',
  language: 'nb',
  channelTitle: 'BOTT <IT>\r\nBcc: victim@example.org',
  channelSlug: 'bott-it',
  webhookId: '00000000-0000-4000-8000-0000000000aa',
  webhookUrl: 'https://hooks.slack.com/services/T000/B000/SECRETTOKEN?x=1',
  description: 'Drift <script>alert(1)</script>',
  reason: 'failures',
  failures: 10,
  lastError: 'HTTP 500: <b>down</b>\r\nX-Injected: yes',
  publicUrl: 'https://meldingskanal.uio.no',
  messageId: '<webhook-disabled-1@meldingskanal.uio.no>',
};

describe('composeWebhookDisabledMail', () => {
  it('says why in the owner’s language: nb, nn, en', () => {
    expect(composeWebhookDisabledMail(input).text).toContain('slått av etter 10 mislykkede forsøk på rad');
    expect(composeWebhookDisabledMail({ ...input, language: 'nn' }).text).toContain('etter 10 mislukka forsøk på rad');
    const en = composeWebhookDisabledMail({ ...input, language: 'en', reason: 'gone' });
    expect(en.subject).toBe('[BOTT <IT> Bcc: victim@example.org] A webhook was switched off');
    expect(en.text).toContain('answered 410 Gone');
    expect(en.html).toContain('<html lang="en">');
  });

  it('keeps line breaks out of the subject and escapes everything in the HTML', () => {
    const mail = composeWebhookDisabledMail(input);
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).toContain('Drift &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(mail.html).toContain('HTTP 500: &lt;b&gt;down&lt;/b&gt; X-Injected: yes');
    expect(mail.text).toContain('Siste feil: HTTP 500: <b>down</b> X-Injected: yes');
    expect(mail.headers).toEqual({ 'Auto-Submitted': 'auto-generated' });
    expect(mail.messageId).toBe(input.messageId);
  });

  it('shows the receiver’s origin only, never the path or query that may hold its token', () => {
    const mail = composeWebhookDisabledMail(input);
    expect(mail.text).toContain('Webhook: https://hooks.slack.com — Drift');
    expect(`${mail.text}${mail.html}`).not.toContain('SECRETTOKEN');
    expect(mail.text).toContain('https://meldingskanal.uio.no/api/v1/webhooks/00000000-0000-4000-8000-0000000000aa');
  });
});

/**
 * The pre-built MIME of a batch's messages (src/mail/mime.ts through announcementEmailComposer) reads, to a mail
 * parser, as the message nodemailer builds from the same fields: same headers, same decoded text and HTML.
 */
import { type ParsedMail, simpleParser } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import { describe, expect, it } from 'vitest';
import { announcementEmailComposer } from '../../src/mail/compose.js';
import type { OutgoingMail } from '../../src/mail/mailer.js';
import { signUnsubscribeToken } from '../../src/mail/unsubscribe-token.js';

const KEY = 'k'.repeat(40);

/** What nodemailer builds from the message's fields (the SMTP mailer's path without `raw`). */
async function nodemailerBytes(mail: OutgoingMail): Promise<Buffer> {
  return new MailComposer({
    from: mail.from,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
    messageId: mail.messageId,
    headers: mail.headers,
  })
    .compile()
    .build();
}

/** What a reader sees: the headers (Date aside, which is the time of building) and the decoded parts. */
function seen(parsed: ParsedMail) {
  const headers = [...parsed.headerLines]
    .map((line) => line.line.replace(/\r\n[ \t]+/g, ' '))
    .filter((line) => !/^(date|content-type):/i.test(line))
    .sort();
  return { headers, text: parsed.text, html: parsed.html, from: parsed.from?.value, to: parsed.to };
}

describe('pre-built MIME of announcement e-mails', () => {
  const longBody = [
    '**Planlagt vedlikehold** av «lagringstjenesten» på tysdag — alle tenester vil vere nede i om lag to timar.',
    '',
    'En linje som er svært lang og som må brytes flere ganger når den kodes som quoted-printable, æøå ÆØÅ '.repeat(6),
    '',
    '.En linje som begynner med punktum',
    'Slutt med mellomrom   ',
    '[lenke](https://x.example/?a=1&b=2)',
  ].join('\n');
  const cases = [
    { organisationName: 'Universitetet i Oslo', unsubscribeMailto: 'unsubscribe@example.no' },
    { organisationName: null, unsubscribeMailto: undefined },
  ];
  for (const options of cases) {
    it(`reads as nodemailer's own message (${options.organisationName ?? 'no organisation'})`, async () => {
      const composer = announcementEmailComposer({
        from: 'BOTT Meldingskanal <noreply@example.no>',
        ...options,
        publicUrl: 'https://meldingskanal.example.no',
        language: 'nn',
        channelTitle: 'BOTT SA <&> med ein lang kanaltittel som gjer emnefeltet langt nok til å verte falda',
        announcement: { title: 'Nedetid «i dag» for alle tenester', body: longBody, importance: 'critical' },
      });
      const recipients = [
        {
          deliveryId: 1n,
          to: 'ola@example.org',
          unsubscribeToken: signUnsubscribeToken(KEY, { subscriptionId: 7n, recipient: 'email:ola@example.org' }),
        },
        {
          deliveryId: 9_123_456_789_012n,
          to: 'kari.nordmann+bott@sub.example.org',
          unsubscribeToken: signUnsubscribeToken(KEY, { subscriptionId: 9_000_000_001n, recipient: 'user:x' }),
        },
        { deliveryId: 3n, to: 'per@example.org', unsubscribeToken: null },
      ];
      for (const recipient of recipients) {
        const mail = composer(recipient);
        expect(mail.raw).toBeTypeOf('string');
        // ASCII only, lines within 998 characters and quoted-printable's 76 in the parts.
        expect(mail.raw).toMatch(/^[\x20-\x7e\r\n]*$/);
        const [head, ...body] = mail.raw!.split('\r\n\r\n');
        expect(head).toBeDefined();
        for (const line of body.join('\r\n\r\n').split('\r\n')) expect(line.length).toBeLessThanOrEqual(76);
        const ours = seen(await simpleParser(mail.raw!));
        const theirs = seen(await simpleParser(await nodemailerBytes(mail)));
        expect(ours).toEqual(theirs);
        expect(ours.text).toBe(mail.text);
        if (recipient.unsubscribeToken) {
          expect(ours.text).toContain(recipient.unsubscribeToken);
          expect(ours.headers).toContain(`List-Unsubscribe: ${mail.headers['List-Unsubscribe']}`);
        } else {
          expect(ours.headers.some((line) => line.startsWith('List-Unsubscribe'))).toBe(false);
        }
        expect(ours.headers).toContain(`Message-ID: ${mail.messageId}`);
      }
    });
  }

  it('leaves an address that needs encoding to nodemailer', () => {
    const composer = announcementEmailComposer({
      from: 'BOTT Meldingskanal <noreply@example.no>',
      publicUrl: 'https://meldingskanal.example.no',
      language: 'nb',
      channelTitle: 'BOTT SA',
      announcement: { title: 'Nedetid', body: 'Tekst', importance: 'info' },
    });
    const mail = composer({ deliveryId: 1n, to: 'åse@eksempel.no', unsubscribeToken: '7.abc' });
    expect(mail.raw).toBeUndefined();
    expect(mail.to).toBe('åse@eksempel.no');
  });
});

/** Composing the announcement e-mail, signing unsubscribe tokens and classifying SMTP errors: pure functions. */
import { describe, expect, it } from 'vitest';
import {
  announcementEmailComposer,
  announcementSubject,
  composeAnnouncementEmail,
  deliveryMessageId,
  headerSafe,
  InvalidAddressError,
} from '../../src/mail/compose.js';
import { describeMailError, isPermanentMailError } from '../../src/mail/mailer.js';
import { escapeHtml } from '../../src/mail/templates.js';
import {
  parseUnsubscribeToken,
  resolveUnsubscribeKey,
  signUnsubscribeToken,
  verifyUnsubscribeToken,
} from '../../src/mail/unsubscribe-token.js';
import { loadWebAssets } from '../../src/web/assets.js';
import { renderEmailLinkPage } from '../../src/web/pages/email-link.js';
import { retryDelayMs } from '../../workers/processors/email.js';
import { findExecutableHtml } from '../helpers/html-safety.js';

const KEY = 'k'.repeat(40);

function compose(overrides: Partial<Parameters<typeof composeAnnouncementEmail>[0]> = {}) {
  return composeAnnouncementEmail({
    deliveryId: 42n,
    to: 'ola@example.org',
    from: 'BOTT Meldingskanal <noreply@example.no>',
    publicUrl: 'https://meldingskanal.example.no',
    language: 'nb',
    channelTitle: 'BOTT SA',
    announcement: { title: 'Nedetid', body: 'Linje en\nlinje to\n\nAvsnitt to', importance: 'info' },
    unsubscribeToken: '7.abc',
    ...overrides,
  });
}

describe('announcementEmailComposer', () => {
  const shared = {
    from: 'BOTT Meldingskanal <noreply@example.no>',
    organisationName: 'Universitetet i Oslo',
    publicUrl: 'https://meldingskanal.example.no',
    language: 'nn' as const,
    channelTitle: 'BOTT SA <&>',
    announcement: {
      title: 'Nedetid «i dag»',
      body: '**Linje** en\n\n[lenkje](https://x.example/?a=1&b=2)',
      importance: 'critical' as const,
    },
    unsubscribeMailto: 'unsubscribe@example.no',
  };

  it('gives every recipient the message composeAnnouncementEmail gives them', () => {
    const composer = announcementEmailComposer(shared);
    const key = KEY;
    const recipients = [
      {
        deliveryId: 1n,
        to: 'ola@example.org',
        unsubscribeToken: signUnsubscribeToken(key, { subscriptionId: 7n, recipient: 'email:ola@example.org' }),
      },
      {
        deliveryId: 123456789n,
        to: ' kari@example.org ',
        unsubscribeToken: signUnsubscribeToken(key, { subscriptionId: 9_000_000_001n, recipient: 'user:x' }),
      },
      // An incident's follow-up to a former subscriber: no unsubscribe link at all.
      { deliveryId: 3n, to: 'per@example.org', unsubscribeToken: null },
      // Not a token signUnsubscribeToken makes: composed the long way, still the same.
      { deliveryId: 4n, to: 'liv@example.org', unsubscribeToken: 'a b&c' },
    ];
    for (const recipient of recipients) {
      // The pre-built MIME (raw) is checked in tests/unit/mail-mime.test.ts.
      const { raw: _raw, ...mail } = composer(recipient);
      expect(mail).toEqual(composeAnnouncementEmail({ ...shared, ...recipient }));
      if (recipient.unsubscribeToken?.includes('.')) expect(mail.text).toContain(recipient.unsubscribeToken);
    }
  });

  it('refuses a recipient address that could inject headers', () => {
    const composer = announcementEmailComposer(shared);
    expect(() =>
      composer({ deliveryId: 1n, to: 'a@example.org\r\nBcc: x@example.org', unsubscribeToken: '7.abc' }),
    ).toThrow(InvalidAddressError);
  });
});

describe('composeAnnouncementEmail', () => {
  it('builds subject, Message-ID and the one-click unsubscribe headers', () => {
    const mail = compose();
    expect(mail.subject).toBe('[BOTT SA] Nedetid');
    expect(mail.messageId).toBe('<delivery-42@meldingskanal.example.no>');
    expect(mail.headers['List-Unsubscribe']).toBe('<https://meldingskanal.example.no/unsubscribe?token=7.abc>');
    expect(mail.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    expect(mail.headers['Auto-Submitted']).toBe('auto-generated');
  });

  it('prefixes important and critical titles in the subscription language', () => {
    expect(announcementSubject('nb', 'Kanal', { title: 'T', importance: 'critical' })).toBe('[Kanal] Kritisk: T');
    expect(announcementSubject('en', 'Kanal', { title: 'T', importance: 'important' })).toBe('[Kanal] Important: T');
    expect(announcementSubject('nn', 'Kanal', { title: 'T', importance: 'info' })).toBe('[Kanal] T');
  });

  it('keeps CR/LF out of every header value', () => {
    const mail = compose({
      channelTitle: 'Kanal\r\nX-Evil: 1',
      announcement: { title: 'Hei\r\nBcc: victim@example.org\n\rX-Injected: yes', body: 'b', importance: 'info' },
    });
    expect(mail.subject).toBe('[Kanal X-Evil: 1] Hei Bcc: victim@example.org X-Injected: yes');
    for (const value of [mail.subject, mail.messageId, ...Object.values(mail.headers)])
      expect(value).not.toMatch(/[\r\n]/);
    expect(headerSafe('a\u2028b\u0000c\td')).toBe('a b c d');
  });

  it('refuses a recipient address that could inject headers', () => {
    expect(() => compose({ to: 'ola@example.org\r\nBcc: x@example.org' })).toThrow(InvalidAddressError);
    expect(isPermanentMailError(new InvalidAddressError())).toBe(true);
  });

  it('escapes user text in the HTML part and renders paragraphs and line breaks', () => {
    const mail = compose({
      announcement: { title: '<script>alert(1)</script>', body: 'a <b>&\nb\n\n"c"', importance: 'important' },
    });
    expect(mail.html).toContain('<html lang="nb">');
    expect(mail.html).toContain('<h1');
    expect(mail.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(mail.html).not.toContain('<script>');
    // The body is Markdown now: raw HTML is stripped, a line break stays one, & is escaped.
    expect(mail.html).toContain('<p>a &amp;<br />\nb</p>\n<p>"c"</p>');
    expect(mail.html).not.toMatch(/<img/i);
    expect(mail.text).toContain('VIKTIG: <script>alert(1)</script>');
    expect(mail.text).toContain('https://meldingskanal.example.no/unsubscribe?token=7.abc');
  });

  it('renders a Markdown body as HTML in the HTML part and as plain text in the text part; scripts do not survive', () => {
    const body = [
      '# Planlagt nedetid',
      '',
      'Lønn er **nede** fredag. Se [driftsmeldinger](https://www.uio.no/drift) eller www.uib.no.',
      '',
      '| System | Fra | Til |',
      '|:--|:-:|--:|',
      '| Lønn | 08:00 | 12:00 |',
      '',
      '- punkt <script>alert(1)</script>',
      '',
      '<img src=x onerror=alert(1)> [klikk](javascript:alert(1)) <a href="javascript:alert(2)">lenke</a>',
    ].join('\n');
    const mail = compose({ announcement: { title: 'Nedetid', body, importance: 'info' } });

    const bodyHtml = /<div class="announcement-body">\n([\s\S]*?)<\/div>/.exec(mail.html)?.[1];
    expect(bodyHtml).toBeDefined();
    expect(bodyHtml).toContain('<h2>Planlagt nedetid</h2>');
    expect(bodyHtml).toContain('<strong>nede</strong>');
    expect(bodyHtml).toContain(
      '<a href="https://www.uio.no/drift" rel="noopener noreferrer nofollow ugc">driftsmeldinger</a>',
    );
    expect(bodyHtml).toContain('<a href="https://www.uib.no" rel="noopener noreferrer nofollow ugc">www.uib.no</a>');
    expect(bodyHtml).toContain('<th align="center">Fra</th>');
    expect(bodyHtml).toContain('<li>punkt </li>');
    expect(findExecutableHtml(bodyHtml!)).toEqual([]);
    expect(mail.html).not.toMatch(/<script|onerror|alert\(2\)|href="javascript/i);
    // The title stays the page's only h1.
    expect(mail.html.match(/<h1/g)).toHaveLength(1);

    expect(mail.text).toContain('Planlagt nedetid\n----------------');
    expect(mail.text).toContain(
      'Lønn er nede fredag. Se driftsmeldinger (https://www.uio.no/drift) eller https://www.uib.no.',
    );
    expect(mail.text).toContain('System |  Fra  |   Til\n------ | ----- | -----\nLønn   | 08:00 | 12:00');
    expect(mail.text).toContain('- punkt');
    expect(mail.text).not.toMatch(/<script|<img|<a |<strong|alert\(2\)/i);
  });

  it('writes the footer in the subscription language', () => {
    expect(compose({ language: 'nn' }).text).toContain('Meld deg av e-post frå denne kanalen');
    expect(compose({ language: 'en' }).html).toContain('<html lang="en">');
    expect(compose({ language: 'en' }).text).toContain('Unsubscribe from e-mails from this channel');
  });

  it('derives the Message-ID host from PUBLIC_URL without its port', () => {
    expect(deliveryMessageId('9', 'http://localhost:3000')).toBe('<delivery-9@localhost>');
  });
});

describe('templates', () => {
  it('escapes the five HTML specials', () => {
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });

  it('renders the unsubscribe page with a POST form and no action that could lose the token', () => {
    const web = {
      assets: loadWebAssets(),
      site: { publicUrl: 'https://m.example.no', signInAvailable: true, mailCatcherUrl: undefined },
    };
    const state = { kind: 'confirm', language: 'nn', channelTitle: '<Kanal>' } as const;
    const html = renderEmailLinkPage(web, 'unsubscribe', state, '/unsubscribe?token=t');
    expect(html).toMatch(/<html lang="nn"/);
    expect(html).toContain('<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"/>');
    expect(html).toContain('«&lt;Kanal>»');
    // Nothing that would carry the address (its token) elsewhere: no language form, no sign-in link.
    expect(html).not.toContain('returnTo');
    expect(html).not.toContain('/auth/login');
  });
});

describe('unsubscribe tokens', () => {
  const subscription = { subscriptionId: 17n, recipient: 'email:ola@example.org' };

  it('verifies a token for its own recipient', () => {
    const token = signUnsubscribeToken(KEY, subscription);
    const parsed = parseUnsubscribeToken(token);
    expect(parsed?.subscriptionId).toBe(17n);
    expect(verifyUnsubscribeToken(KEY, parsed!, subscription.recipient)).toBe(true);
  });

  it('refuses another recipient, another key, another subscription and tampering', () => {
    const token = signUnsubscribeToken(KEY, subscription);
    const parsed = parseUnsubscribeToken(token)!;
    expect(verifyUnsubscribeToken(KEY, parsed, 'email:kari@example.org')).toBe(false);
    expect(verifyUnsubscribeToken('x'.repeat(40), parsed, subscription.recipient)).toBe(false);
    const otherSubscription = parseUnsubscribeToken(token.replace(/^17\./, '18.'))!;
    expect(verifyUnsubscribeToken(KEY, otherSubscription, subscription.recipient)).toBe(false);
    const lastChar = token.at(-1) === 'A' ? 'B' : 'A';
    const tampered = parseUnsubscribeToken(token.slice(0, -1) + lastChar);
    expect(tampered && verifyUnsubscribeToken(KEY, tampered, subscription.recipient)).toBe(false);
  });

  it('rejects malformed tokens before any lookup', () => {
    for (const bad of [
      '',
      '17',
      '17.',
      'abc.def',
      `0.${'A'.repeat(43)}`,
      `17.${'A'.repeat(42)}`,
      `${'9'.repeat(20)}.${'A'.repeat(43)}`,
    ]) {
      expect(parseUnsubscribeToken(bad)).toBeNull();
    }
  });

  it('uses the configured secret, else one random key per process', () => {
    expect(resolveUnsubscribeKey({ unsubscribeSecret: KEY })).toBe(KEY);
    const warnings: string[] = [];
    const logger = { warn: (message: string) => warnings.push(message) };
    const first = resolveUnsubscribeKey({ unsubscribeSecret: undefined }, logger);
    const second = resolveUnsubscribeKey({ unsubscribeSecret: undefined }, logger);
    expect(first).toBe(second);
    expect(Buffer.isBuffer(first) && first.length).toBe(32);
    expect(warnings.length).toBeLessThanOrEqual(1);
  });
});

describe('isPermanentMailError', () => {
  it('treats 5xx and unusable addresses as permanent, everything else as transient', () => {
    expect(isPermanentMailError({ code: 'EENVELOPE', responseCode: 550 })).toBe(true);
    expect(isPermanentMailError({ code: 'EMESSAGE', responseCode: 554 })).toBe(true);
    expect(isPermanentMailError({ code: 'EENVELOPE' })).toBe(true);
    expect(isPermanentMailError({ code: 'EENVELOPE', responseCode: 450 })).toBe(false);
    expect(isPermanentMailError({ code: 'EPROTOCOL', responseCode: 503 })).toBe(false);
    expect(isPermanentMailError({ code: 'ECONNECTION' })).toBe(false);
    expect(isPermanentMailError({ code: 'ETIMEDOUT' })).toBe(false);
    expect(isPermanentMailError(new Error('boom'))).toBe(false);
    expect(isPermanentMailError(undefined)).toBe(false);
  });

  it('describes errors without the addresses relays echo', () => {
    const error = Object.assign(new Error('Recipient <ola@example.org> rejected'), {
      code: 'EENVELOPE',
      responseCode: 550,
    });
    expect(describeMailError(error)).toBe('EENVELOPE 550 Recipient <<address>> rejected');
  });
});

describe('retryDelayMs', () => {
  it('doubles per attempt between half and all of the step, capped at an hour', () => {
    expect(retryDelayMs(1, () => 0)).toBe(30_000);
    expect(retryDelayMs(1, () => 1)).toBe(60_000);
    expect(retryDelayMs(3, () => 1)).toBe(240_000);
    expect(retryDelayMs(20, () => 1)).toBe(3_600_000);
  });
});

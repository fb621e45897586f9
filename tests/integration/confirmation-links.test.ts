/**
 * Confirmation links and e-mails without I/O: the signed token (purpose, address, expiry, tampering), the e-mail's
 * parts and headers in each language, and that a channel title can neither run script in the HTML nor add a header.
 */
import { parse } from 'parse5';
import { describe, expect, it } from 'vitest';
import type { Language } from '../../src/domain/types.js';
import { composeConfirmationEmail } from '../../src/mail/compose.js';
import {
  CONFIRMATION_TOKEN_TTL_MS,
  confirmationUrl,
  parseConfirmationToken,
  signConfirmationToken,
  verifyConfirmationToken,
} from '../../src/mail/confirmation-token.js';
import { parseUnsubscribeToken, signUnsubscribeToken } from '../../src/mail/unsubscribe-token.js';
import { importEntriesFromText } from '../../src/services/email-subscriptions.js';
import { loadWebAssets } from '../../src/web/assets.js';
import { renderEmailLinkPage } from '../../src/web/pages/email-link.js';
import { loadXssVectors } from '../helpers/xss-corpus.js';

const KEY = 'confirmation-test-key-0123456789abcdef';

/** The elements and attributes of a whole document as a browser parses it (parse5: the WHATWG algorithm). */
function markupOf(html: string): { elements: Set<string>; attributes: Set<string> } {
  const elements = new Set<string>();
  const attributes = new Set<string>();
  // biome-ignore lint/suspicious/noExplicitAny: parse5's tree walked generically
  const visit = (node: any) => {
    if (node.tagName) {
      elements.add(node.tagName);
      for (const attribute of node.attrs ?? []) attributes.add(attribute.name);
    }
    for (const child of node.childNodes ?? []) visit(child);
    if (node.content) visit(node.content);
  };
  visit(parse(html));
  return { elements, attributes };
}

/** What our templates produce; a channel title must not add anything. */
const OUR_ELEMENTS = new Set(['html', 'head', 'body', 'meta', 'title', 'style', 'div', 'h1', 'p', 'a', 'hr', 'main']);
const OUR_ATTRIBUTES = new Set(['lang', 'charset', 'name', 'content', 'role', 'aria-label', 'style', 'href']);
/** The confirmation page (the web app's frame) for a channel title; a title must not add to what a plain one has. */
const LINK_WEB = {
  assets: loadWebAssets(),
  site: { publicUrl: 'https://m.example.no', signInAvailable: true, mailCatcherUrl: undefined },
};
const confirmationPage = (channelTitle: string) =>
  renderEmailLinkPage(
    LINK_WEB,
    'confirm',
    { kind: 'confirm', language: 'en', channelTitle },
    '/subscriptions/confirm?token=42.1.abc',
  );
const PLAIN_PAGE = markupOf(confirmationPage('Drift'));

describe('confirmation tokens', () => {
  const now = new Date('2026-11-26T12:00:00Z');
  const token = signConfirmationToken(KEY, { subscriptionId: 42n, address: 'Kari@Example.org' }, now);

  it('verify for the address they were made for (any case), until they expire', () => {
    const parsed = parseConfirmationToken(token)!;
    expect(parsed.subscriptionId).toBe(42n);
    expect(parsed.expiresAt * 1000).toBe(now.getTime() + CONFIRMATION_TOKEN_TTL_MS);
    expect(verifyConfirmationToken(KEY, parsed, 'kari@example.org', now)).toBe(true);
    expect(verifyConfirmationToken(KEY, parsed, 'ola@example.org', now)).toBe(false);
    expect(verifyConfirmationToken('another-key-0123456789abcdef0123', parsed, 'kari@example.org', now)).toBe(false);
    const justBefore = new Date(now.getTime() + CONFIRMATION_TOKEN_TTL_MS - 1000);
    const after = new Date(now.getTime() + CONFIRMATION_TOKEN_TTL_MS);
    expect(verifyConfirmationToken(KEY, parsed, 'kari@example.org', justBefore)).toBe(true);
    expect(verifyConfirmationToken(KEY, parsed, 'kari@example.org', after)).toBe(false);
  });

  it('are not unsubscribe tokens, nor the reverse, though one key signs both', () => {
    const unsubscribe = signUnsubscribeToken(KEY, { subscriptionId: 42n, recipient: 'email:kari@example.org' });
    expect(parseConfirmationToken(unsubscribe)).toBeNull();
    expect(parseUnsubscribeToken(token)).toBeNull();
    // Even with the unsubscribe MAC placed in a confirmation token's shape.
    const [, expiry] = token.split('.');
    const forged = parseConfirmationToken(`42.${expiry}.${unsubscribe.split('.')[1]}`)!;
    expect(verifyConfirmationToken(KEY, forged, 'kari@example.org', now)).toBe(false);
  });

  it('refuse malformed input', () => {
    for (const bad of ['', '42', '42.1.abc', `0.1.${'A'.repeat(43)}`, `99999999999999999999.1.${'A'.repeat(43)}`]) {
      expect(parseConfirmationToken(bad), bad).toBeNull();
    }
    expect(confirmationUrl('https://m.example.no', token)).toBe(
      `https://m.example.no/subscriptions/confirm?token=${encodeURIComponent(token)}`,
    );
  });
});

describe('composeConfirmationEmail', () => {
  const base = {
    to: 'kari@example.org',
    from: 'Meldingskanal <noreply@example.no>',
    messageId: '<confirmation-42-1@m.example.no>',
    confirmUrl: 'https://m.example.no/subscriptions/confirm?token=42.1.abc&x=<y>',
    source: 'self' as const,
  };

  it.each([
    ['nb', 'Bekreft abonnementet på «Drift»', 'Bekreft abonnementet'],
    ['nn', 'Stadfest abonnementet på «Drift»', 'Stadfest abonnementet'],
    ['en', 'Confirm your subscription to “Drift”', 'Confirm the subscription'],
  ] as [Language, string, string][])(
    'writes %s: subject, accessible HTML and text with the link',
    (language, subject, action) => {
      const mail = composeConfirmationEmail({ ...base, language, channelTitle: 'Drift' });
      expect(mail.subject).toBe(subject);
      expect(mail.html).toContain(`<html lang="${language}">`);
      expect(mail.html).toMatch(/<h1[^>]*>/);
      expect(mail.html).toContain('href="https://m.example.no/subscriptions/confirm?token=42.1.abc&amp;x=&lt;y&gt;"');
      expect(mail.html).toContain(action);
      expect(mail.text).toContain(`${action}: ${base.confirmUrl}`);
      expect(mail.headers).toMatchObject({ 'Auto-Submitted': 'auto-generated', 'Content-Language': language });
      expect(mail.headers).not.toHaveProperty('List-Unsubscribe');
      expect(mail.messageId).toBe(base.messageId);
    },
  );

  it('says the channel added an imported address', () => {
    const mail = composeConfirmationEmail({ ...base, source: 'import', language: 'nb', channelTitle: 'Drift' });
    expect(mail.text).toContain('Kanalen «Drift» i Meldingskanal har lagt til denne adressen');
    expect(mail.text).not.toContain('forhåpentligvis du');
  });

  it('keeps channel titles inert: no script in the HTML, no header from CR/LF', () => {
    for (const vector of loadXssVectors().slice(0, 200)) {
      const mail = composeConfirmationEmail({ ...base, language: 'en', channelTitle: vector });
      const mailMarkup = markupOf(mail.html);
      expect(
        [...mailMarkup.elements].filter((e) => !OUR_ELEMENTS.has(e)),
        vector,
      ).toEqual([]);
      expect(
        [...mailMarkup.attributes].filter((a) => !OUR_ATTRIBUTES.has(a)),
        vector,
      ).toEqual([]);
      expect(mail.subject).not.toMatch(/[\r\n]/);
      const page = markupOf(confirmationPage(vector));
      expect(
        [...page.elements].filter((e) => !PLAIN_PAGE.elements.has(e)),
        vector,
      ).toEqual([]);
      expect(
        [...page.attributes].filter((a) => !PLAIN_PAGE.attributes.has(a)),
        vector,
      ).toEqual([]);
    }
    const injected = composeConfirmationEmail({ ...base, language: 'nb', channelTitle: 'Drift\r\nBcc: x@example.org' });
    expect(injected.subject).toBe('Bekreft abonnementet på «Drift Bcc: x@example.org»');
  });
});

describe('importEntriesFromText', () => {
  it('reads one address per line, the first CSV field, skipping a header and blank lines, keeping line numbers', () => {
    expect(
      importEntriesFromText('\uFEFFE-post;Navn\r\n"kari@example.org";Kari\r\n\r\nola@example.org,Ola\rper@x.no\n'),
    ).toEqual([
      { line: 2, value: 'kari@example.org' },
      { line: 4, value: 'ola@example.org' },
      { line: 5, value: 'per@x.no' },
    ]);
    // A first line that is an address is no header.
    expect(importEntriesFromText('email@example.org\n')).toEqual([{ line: 1, value: 'email@example.org' }]);
  });
});

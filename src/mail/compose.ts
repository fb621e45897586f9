/**
 * Builds the announcement e-mail for one delivery: subject, text and HTML parts, and the headers that make it a
 * well-behaved bulk message (RFC 8058 one-click unsubscribe, Auto-Submitted) and recognisable when re-sent
 * (Message-ID derived from the delivery id). Pure: no I/O.
 */
import type { Importance, Language } from '../domain/types.js';
import type { OutgoingMail } from './mailer.js';
import { importanceLabel, renderAnnouncementHtml, renderAnnouncementText } from './templates.js';

export interface AnnouncementEmailInput {
  deliveryId: bigint | string;
  /** The recipient's address. */
  to: string;
  /** MAIL_FROM. */
  from: string;
  /** PUBLIC_URL without a trailing slash. */
  publicUrl: string;
  language: Language;
  channelTitle: string;
  announcement: { title: string; body: string; importance: Importance };
  /** Signed for this subscription and recipient (unsubscribe-token.ts). */
  unsubscribeToken: string;
}

/** An address that cannot be used at all. Carries nodemailer's code for it, so it classifies as permanent. */
export class InvalidAddressError extends Error {
  readonly code = 'EENVELOPE';
  constructor() {
    super('The recipient address is not usable');
    this.name = 'InvalidAddressError';
  }
}

/**
 * Makes text safe for a header value: control characters (CR and LF above all, which would start a new header)
 * and Unicode line separators become spaces; runs of whitespace collapse.
 */
export function headerSafe(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  return text.replace(/[\u0000-\u001f\u007f\u0085\u2028\u2029\s]+/g, ' ').trim();
}

/** `<delivery-<id>@<host of PUBLIC_URL>>`: a resend after a crash carries the same Message-ID as the first send. */
export function deliveryMessageId(deliveryId: bigint | string, publicUrl: string): string {
  return `<delivery-${deliveryId}@${new URL(publicUrl).hostname}>`;
}

export function unsubscribeUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/unsubscribe?token=${encodeURIComponent(token)}`;
}

/** `[<channel>] <title>`, with the importance word before the title for important and critical announcements. */
export function announcementSubject(
  language: Language,
  channelTitle: string,
  announcement: { title: string; importance: Importance },
): string {
  const label = importanceLabel(language, announcement.importance);
  const title = headerSafe(announcement.title);
  return `[${headerSafe(channelTitle)}] ${label ? `${label}: ${title}` : title}`;
}

export function composeAnnouncementEmail(input: AnnouncementEmailInput): OutgoingMail {
  const to = input.to.trim();
  // The address comes from our database, but a CR/LF in it would still be a header injection: refuse it outright.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  if (!to || /[\s\u0000-\u001f\u007f]/.test(to) || !to.includes('@')) throw new InvalidAddressError();

  const subject = announcementSubject(input.language, input.channelTitle, input.announcement);
  const link = unsubscribeUrl(input.publicUrl, input.unsubscribeToken);
  const content = {
    language: input.language,
    channelTitle: input.channelTitle,
    title: input.announcement.title,
    body: input.announcement.body,
    importance: input.announcement.importance,
    unsubscribeUrl: link,
  };
  return {
    from: input.from,
    to,
    subject,
    text: renderAnnouncementText(content),
    html: renderAnnouncementHtml(content, subject),
    messageId: deliveryMessageId(input.deliveryId, input.publicUrl),
    headers: {
      'List-Unsubscribe': `<${link}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      // RFC 3834: machine-sent; well-behaved auto-responders stay quiet. The Microsoft header does the same for
      // Exchange, which the member universities run.
      'Auto-Submitted': 'auto-generated',
      'X-Auto-Response-Suppress': 'All',
      'Content-Language': input.language,
    },
  };
}

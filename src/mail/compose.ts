/**
 * Builds the e-mails of one delivery — an announcement, or a reminder to acknowledge one — : subject, text and HTML
 * parts, and the headers that make it a well-behaved bulk message (RFC 8058 one-click unsubscribe, Auto-Submitted)
 * and recognisable when re-sent (Message-ID derived from the delivery id, so unique per ledger row). Pure: no I/O.
 */

import { randomBytes } from 'node:crypto';
import addressparser from 'nodemailer/lib/addressparser';
import type { Importance, Language } from '../domain/types.js';
import type { AnnouncementView } from '../services/views.js';
import type { MailAddress, OutgoingMail } from './mailer.js';
import { mimeTemplate } from './mime.js';
import {
  displayTitle,
  type EmailAnnouncement,
  importanceLabel,
  renderAckReminderHtml,
  renderAckReminderText,
  renderAnnouncementHtml,
  renderAnnouncementText,
  renderConfirmationHtml,
  renderConfirmationText,
  STRINGS,
} from './templates.js';

export interface AnnouncementEmailInput {
  deliveryId: bigint | string;
  /** The recipient's address. */
  to: string;
  /** MAIL_FROM. */
  from: string;
  /** The channel's organisation (Organisation.name), which names the sender; null: MAIL_FROM's own name. */
  organisationName?: string | null | undefined;
  /** PUBLIC_URL without a trailing slash. */
  publicUrl: string;
  language: Language;
  channelTitle: string;
  announcement: EmailAnnouncement;
  /**
   * Signed for this subscription and recipient (unsubscribe-token.ts); null when the recipient has no subscription
   * (an incident's follow-up to a former subscriber, a reminder to one): no List-Unsubscribe then.
   */
  unsubscribeToken: string | null;
  /** UNSUBSCRIBE_MAILTO: a mailto: URI in List-Unsubscribe after the https one. */
  unsubscribeMailto?: string | null | undefined;
}

/** What an announcement e-mail shows of an announcement view (announcementView in the reader's language). */
export function emailAnnouncementOf(view: AnnouncementView): EmailAnnouncement {
  return {
    title: view.title,
    body: view.body,
    importance: view.importance,
    summary: view.summary,
    contentLanguage: view.language,
    type: view.type,
    affectedSystem: view.affectedSystem,
    startsAt: view.startsAt ? new Date(view.startsAt) : null,
    endsAt: view.endsAt ? new Date(view.endsAt) : null,
    calendarUrl: view.calendarUrl,
    resolvesIncident: view.resolves !== null,
    attachments: view.attachments.map((file) => ({ filename: file.filename, size: file.size, url: file.url })),
    url: view.url,
  };
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

/**
 * `mailto:<address>?subject=unsubscribe%20<token>` for List-Unsubscribe (RFC 2369). The token is the one of the https
 * link, so whoever processes that mailbox can act on it (POST /unsubscribe?token=…); the service reads no mail.
 */
export function unsubscribeMailtoUri(address: string, token: string): string {
  return `mailto:${address}?subject=${encodeURIComponent(`unsubscribe ${token}`)}`;
}

/** The name used when MAIL_FROM has none and the channel has no organisation. */
export const DEFAULT_SENDER_NAME = 'BOTT Meldingskanal';
const SENDER_NAME_MAX = 120;

/**
 * The From of every e-mail about a channel: MAIL_FROM's address, with the channel's organisation as the name
 * (`Meldingskanal – Universitetet i Oslo`), else MAIL_FROM's own name, else `BOTT Meldingskanal`. An address object,
 * not a string: nodemailer quotes and encodes the name, so quotes, commas, angle brackets or non-ASCII in an
 * organisation's name stay inside it, and headerSafe takes out line breaks.
 */
export function senderOf(mailFrom: string, organisationName?: string | null): MailAddress {
  const [parsed] = addressparser(mailFrom, { flatten: true });
  const address = parsed?.address || mailFrom.trim();
  const organisation = organisationName ? headerSafe(organisationName) : '';
  const name = organisation ? `Meldingskanal – ${organisation}` : headerSafe(parsed?.name ?? '') || DEFAULT_SENDER_NAME;
  return { name: name.slice(0, SENDER_NAME_MAX), address };
}

/**
 * `[<channel>] <title>`, with the importance word before the title for important and critical announcements, and
 * `Løst:`/`Løyst:`/`Resolved:` before the title of an incident's follow-up.
 */
export function announcementSubject(
  language: Language,
  channelTitle: string,
  announcement: { title: string; importance: Importance; resolvesIncident?: boolean },
): string {
  const label = importanceLabel(language, announcement.importance);
  const title = headerSafe(displayTitle(language, announcement));
  return `[${headerSafe(channelTitle)}] ${label ? `${label}: ${title}` : title}`;
}

/** The recipient address, trimmed; throws InvalidAddressError for one that could add a header or is no address. */
export function checkedAddress(address: string): string {
  const to = address.trim();
  // The address comes from our database, but a CR/LF in it would still be a header injection: refuse it outright.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  if (!to || /[\s\u0000-\u001f\u007f]/.test(to) || !to.includes('@')) throw new InvalidAddressError();
  return to;
}

/**
 * The headers every bulk message of ours carries (List-Unsubscribe only when there is a subscription to leave). The
 * https URI comes first: RFC 8058 one-click uses it; a mailto: URI (unsubscribeMailtoUri) may follow.
 */
export function bulkHeaders(
  language: Language,
  unsubscribeLink: string | null,
  unsubscribeMailto: string | null = null,
): Record<string, string> {
  const uris = unsubscribeLink ? [unsubscribeLink, ...(unsubscribeMailto ? [unsubscribeMailto] : [])] : [];
  return {
    ...(unsubscribeLink
      ? {
          'List-Unsubscribe': uris.map((uri) => `<${uri}>`).join(', '),
          'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
        }
      : {}),
    // RFC 3834: machine-sent; well-behaved auto-responders stay quiet. The Microsoft header does the same for
    // Exchange, which the member universities run.
    'Auto-Submitted': 'auto-generated',
    'X-Auto-Response-Suppress': 'All',
    'Content-Language': language,
  };
}

export function composeAnnouncementEmail(input: AnnouncementEmailInput): OutgoingMail {
  const to = checkedAddress(input.to);
  const subject = announcementSubject(input.language, input.channelTitle, input.announcement);
  const link = input.unsubscribeToken === null ? null : unsubscribeUrl(input.publicUrl, input.unsubscribeToken);
  const content = {
    language: input.language,
    channelTitle: input.channelTitle,
    announcement: input.announcement,
    unsubscribeUrl: link,
  };
  return {
    from: senderOf(input.from, input.organisationName),
    to,
    subject,
    text: renderAnnouncementText(content),
    html: renderAnnouncementHtml(content, subject),
    messageId: deliveryMessageId(input.deliveryId, input.publicUrl),
    headers: bulkHeaders(input.language, link, mailtoOf(input)),
  };
}

/** What composeAnnouncementEmail needs that differs from one recipient of a batch to the next. */
export type AnnouncementEmailRecipient = Pick<AnnouncementEmailInput, 'deliveryId' | 'to' | 'unsubscribeToken'>;

/** Characters that encodeURIComponent and escapeHtml leave as they are (unsubscribe tokens use only these). */
const LINK_SAFE = /^[A-Za-z0-9._-]+$/;

/**
 * composeAnnouncementEmail for the many recipients of one announcement in one language: the subject, sender, text and
 * HTML are rendered once, with a placeholder token where a recipient's unsubscribe token goes, and each message is
 * the rendered parts joined with that recipient's token. Rendering per recipient cost ~65 µs of a worker's ~1 ms per
 * message (bench/email-fanout.ts profile) for output that differs only in the token. The placeholder is random per
 * composer and made of link-safe characters, as tokens are, so the templates pass both through unchanged; a token
 * that is not link-safe (never made by signUnsubscribeToken) is composed the long way. The result equals
 * composeAnnouncementEmail's (tests/unit/mail-compose.test.ts).
 */
export function announcementEmailComposer(
  shared: Omit<AnnouncementEmailInput, keyof AnnouncementEmailRecipient>,
): (recipient: AnnouncementEmailRecipient) => OutgoingMail {
  const placeholder = `0.${randomBytes(33).toString('base64url')}`;
  const withLink = composeAnnouncementEmail({ ...shared, deliveryId: '0', to: 'x@x', unsubscribeToken: placeholder });
  const withoutLink = composeAnnouncementEmail({ ...shared, deliveryId: '0', to: 'x@x', unsubscribeToken: null });
  const split = (value: string) => value.split(placeholder);
  const text = split(withLink.text);
  const html = split(withLink.html);
  const headers = Object.entries(withLink.headers).map(([name, value]) => [name, split(value)] as const);
  const host = new URL(shared.publicUrl).hostname;
  // The MIME bytes too (src/mail/mime.ts): the headers that carry the token are the recipient's, the rest shared.
  const mimeWithLink = mimeTemplate({
    from: withLink.from,
    subject: withLink.subject,
    headers: Object.fromEntries(
      headers.filter(([, parts]) => parts.length === 1).map(([name, [value]]) => [name, value!]),
    ),
    text,
    html,
  });
  const ownHeaders = headers.filter(([, parts]) => parts.length > 1);
  const mimeWithoutLink = mimeTemplate({
    from: withoutLink.from,
    subject: withoutLink.subject,
    headers: withoutLink.headers,
    text: [withoutLink.text],
    html: [withoutLink.html],
  });
  return (recipient) => {
    const token = recipient.unsubscribeToken;
    const messageId = `<delivery-${recipient.deliveryId}@${host}>`;
    const to = checkedAddress(recipient.to);
    if (token === null) {
      const raw = mimeWithoutLink.build({ to, messageId, headers: {}, slot: '' });
      return { ...withoutLink, to, messageId, headers: { ...withoutLink.headers }, raw };
    }
    if (!LINK_SAFE.test(token)) return composeAnnouncementEmail({ ...shared, ...recipient });
    const own = Object.fromEntries(ownHeaders.map(([name, parts]) => [name, parts.join(token)]));
    const raw = mimeWithLink.build({ to, messageId, headers: own, slot: token });
    // text and html are joined only when read: the SMTP mailer sends `raw` and never reads them.
    return {
      from: withLink.from,
      to,
      subject: withLink.subject,
      get text() {
        return text.join(token);
      },
      get html() {
        return html.join(token);
      },
      messageId,
      headers: Object.fromEntries(headers.map(([name, parts]) => [name, parts.length === 1 ? parts[0]! : own[name]!])),
      raw,
    };
  };
}

export interface AckReminderEmailInput {
  deliveryId: bigint | string;
  to: string;
  from: string;
  publicUrl: string;
  /** The labels' language (the subscription's, or the account's). */
  language: Language;
  channelTitle: string;
  /** Title and its language, in the version chosen for the reader. */
  title: string;
  contentLanguage: Language;
  deadline: Date | null;
  /** The announcement's URL. */
  url: string;
  unsubscribeToken: string | null;
  unsubscribeMailto?: string | null | undefined;
  /** As in AnnouncementEmailInput. */
  organisationName?: string | null | undefined;
}

/** The mailto: List-Unsubscribe URI when UNSUBSCRIBE_MAILTO is set and the recipient has a subscription to leave. */
export function mailtoOf(input: { unsubscribeToken: string | null; unsubscribeMailto?: string | null | undefined }) {
  return input.unsubscribeToken && input.unsubscribeMailto
    ? unsubscribeMailtoUri(input.unsubscribeMailto, input.unsubscribeToken)
    : null;
}

/** `[<channel>] Påminnelse: bekreft at du har lest «<title>»`. */
export function ackReminderSubject(language: Language, channelTitle: string, title: string): string {
  return `[${headerSafe(channelTitle)}] ${headerSafe(STRINGS[language].reminder.subject(title))}`;
}

export function composeAckReminderEmail(input: AckReminderEmailInput): OutgoingMail {
  const to = checkedAddress(input.to);
  const subject = ackReminderSubject(input.language, input.channelTitle, input.title);
  const link = input.unsubscribeToken === null ? null : unsubscribeUrl(input.publicUrl, input.unsubscribeToken);
  const content = {
    language: input.language,
    channelTitle: input.channelTitle,
    title: input.title,
    contentLanguage: input.contentLanguage,
    deadline: input.deadline,
    url: input.url,
    unsubscribeUrl: link,
  };
  return {
    from: senderOf(input.from, input.organisationName),
    to,
    subject,
    text: renderAckReminderText(content),
    html: renderAckReminderHtml(content, subject),
    messageId: deliveryMessageId(input.deliveryId, input.publicUrl),
    headers: bulkHeaders(input.language, link, mailtoOf(input)),
  };
}

export interface ConfirmationEmailInput {
  to: string;
  from: string;
  /** As in AnnouncementEmailInput. */
  organisationName?: string | null | undefined;
  /** `<confirmation-<subscription id>-<n>@<host>>`: one per send, the same if a job runs twice. */
  messageId: string;
  language: Language;
  channelTitle: string;
  /** The signed link (confirmation-token.ts confirmationUrl). */
  confirmUrl: string;
  source: 'self' | 'import';
}

/**
 * The double opt-in e-mail. No List-Unsubscribe: there is nothing to leave yet (ignoring the mail is enough, and says
 * so); Auto-Submitted as for every machine-sent mail.
 */
export function composeConfirmationEmail(input: ConfirmationEmailInput): OutgoingMail {
  const to = checkedAddress(input.to);
  const subject = headerSafe(STRINGS[input.language].confirmation.subject(input.channelTitle));
  const content = {
    language: input.language,
    channelTitle: input.channelTitle,
    confirmUrl: input.confirmUrl,
    source: input.source,
  };
  return {
    from: senderOf(input.from, input.organisationName),
    to,
    subject,
    text: renderConfirmationText(content),
    html: renderConfirmationHtml(content, subject),
    messageId: input.messageId,
    headers: bulkHeaders(input.language, null),
  };
}

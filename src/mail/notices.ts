/**
 * The two notices about an announcement someone already received by e-mail, in bokmål, nynorsk and English:
 *
 * - the **correction** (a material edit, DeliveryKind `correction`): `Rettet:` / `Retta:` / `Corrected:` and the
 *   title, the publisher's note on the edit when there is one, the announcement as it reads NOW (summary and body in
 *   the version pickVersion chose), and a link to it;
 * - the **retraction** (DeliveryKind `retraction`): `Trukket tilbake:` / `Trekt tilbake:` / `Withdrawn:` and the
 *   title, and a short explanation — deliberately NOT the withdrawn text (it was withdrawn; repeating it would spread
 *   it again) and no link (the announcement is gone).
 *
 * Same look, headers and rules as the other e-mails (templates.ts, compose.ts): plain text and accessible HTML, user
 * text escaped, nothing typed by a person can add a header, Message-ID from the delivery id, List-Unsubscribe when
 * the recipient has a subscription. Pure: no I/O.
 */
import { renderMarkdown, renderPlainText } from '../content/markdown.js';
import type { Language } from '../domain/types.js';
import {
  bulkHeaders,
  checkedAddress,
  deliveryMessageId,
  headerSafe,
  mailtoOf,
  senderOf,
  unsubscribeUrl,
} from './compose.js';
import type { OutgoingMail } from './mailer.js';
import { escapeHtml, link, MUTED, mailDocument, STRINGS } from './templates.js';

interface NoticeStrings {
  correction: {
    /** Before the title in the subject and the heading. */
    prefix: string;
    intro: (channel: string) => string;
    note: string;
    nowReads: string;
    why: string;
  };
  retraction: {
    prefix: string;
    explanation: (channel: string) => string;
    disregard: string;
    why: string;
  };
}

const quote = {
  nb: (s: string) => `«${s}»`,
  nn: (s: string) => `«${s}»`,
  en: (s: string) => `“${s}”`,
};

export const NOTICE_STRINGS: Record<Language, NoticeStrings> = {
  nb: {
    correction: {
      prefix: 'Rettet',
      intro: (c) => `Utgiveren har gjort en vesentlig endring i en kunngjøring du har fått fra ${quote.nb(c)}.`,
      note: 'Utgiverens merknad',
      nowReads: 'Slik lyder kunngjøringen nå:',
      why: 'Du får denne e-posten fordi du fikk den opprinnelige kunngjøringen på e-post.',
    },
    retraction: {
      prefix: 'Trukket tilbake',
      explanation: (c) =>
        `Utgiveren har trukket tilbake en kunngjøring du har fått fra ${quote.nb(c)}. Den er fjernet fra Meldingskanal.`,
      disregard: 'Se bort fra den opprinnelige e-posten: innholdet gjelder ikke lenger.',
      why: 'Du får denne e-posten fordi du fikk den opprinnelige kunngjøringen på e-post.',
    },
  },
  nn: {
    correction: {
      prefix: 'Retta',
      intro: (c) => `Utgjevaren har gjort ei vesentleg endring i ei kunngjering du har fått frå ${quote.nn(c)}.`,
      note: 'Merknaden frå utgjevaren',
      nowReads: 'Slik lyder kunngjeringa no:',
      why: 'Du får denne e-posten fordi du fekk den opphavlege kunngjeringa på e-post.',
    },
    retraction: {
      prefix: 'Trekt tilbake',
      explanation: (c) =>
        `Utgjevaren har trekt tilbake ei kunngjering du har fått frå ${quote.nn(c)}. Ho er fjerna frå Meldingskanal.`,
      disregard: 'Sjå bort frå den opphavlege e-posten: innhaldet gjeld ikkje lenger.',
      why: 'Du får denne e-posten fordi du fekk den opphavlege kunngjeringa på e-post.',
    },
  },
  en: {
    correction: {
      prefix: 'Corrected',
      intro: (c) => `The publisher has made a material change to an announcement you received from ${quote.en(c)}.`,
      note: "The publisher's note",
      nowReads: 'The announcement now reads:',
      why: 'You receive this e-mail because you received the original announcement by e-mail.',
    },
    retraction: {
      prefix: 'Withdrawn',
      explanation: (c) =>
        `The publisher has withdrawn an announcement you received from ${quote.en(c)}. It has been removed from Meldingskanal.`,
      disregard: 'Please disregard the original e-mail: its content no longer applies.',
      why: 'You receive this e-mail because you received the original announcement by e-mail.',
    },
  },
};

interface NoticeCommon {
  deliveryId: bigint | string;
  to: string;
  /** MAIL_FROM. */
  from: string;
  /** The channel's organisation, which names the sender (senderOf); null: MAIL_FROM's own name. */
  organisationName?: string | null | undefined;
  /** UNSUBSCRIBE_MAILTO: a mailto: URI next to the https one in List-Unsubscribe. */
  unsubscribeMailto?: string | null | undefined;
  /** PUBLIC_URL without a trailing slash. */
  publicUrl: string;
  /** The labels' language (the subscription's, or the account's). */
  language: Language;
  channelTitle: string;
  /** The title in the version chosen for the reader, and that version's language. */
  title: string;
  contentLanguage: Language;
  /** Null when the recipient has no subscription any more: no List-Unsubscribe then. */
  unsubscribeToken: string | null;
}

export interface CorrectionEmailInput extends NoticeCommon {
  /** The publisher's note on the material edit (AnnouncementRevision.note), plain text. */
  note: string | null;
  summary: string | null;
  /** Markdown: the current body. */
  body: string;
  /** The announcement's URL. */
  url: string;
}

export type RetractionEmailInput = NoticeCommon;

/** `[<channel>] Rettet: <title>` / `[<channel>] Trukket tilbake: <title>`. */
export function noticeSubject(
  kind: 'correction' | 'retraction',
  language: Language,
  channelTitle: string,
  title: string,
): string {
  return `[${headerSafe(channelTitle)}] ${NOTICE_STRINGS[language][kind].prefix}: ${headerSafe(title)}`;
}

function footerText(language: Language, why: string, unsubscribe: string | null): string[] {
  const t = STRINGS[language];
  return ['-- ', why, ...(unsubscribe ? [`${t.unsubscribeLink}: ${unsubscribe}`] : []), t.automatic, ''];
}

function footerHtml(language: Language, why: string, unsubscribe: string | null): string {
  const t = STRINGS[language];
  return `<p style="margin:0 0 8px;${MUTED}">${escapeHtml(why)}</p>
${unsubscribe ? `<p style="margin:0 0 8px;font-size:14px">${link(unsubscribe, t.unsubscribeLink)}</p>\n` : ''}<p style="margin:0;${MUTED}">${escapeHtml(t.automatic)}</p>
`;
}

function heading(language: Language, prefix: string, title: string, contentLanguage: Language): string {
  const lang = contentLanguage === language ? '' : ` lang="${contentLanguage}"`;
  return `<h1 style="margin:0 0 16px;font-size:24px;line-height:1.25;color:#1a1a1a">${escapeHtml(prefix)}: <span${lang}>${escapeHtml(title)}</span></h1>`;
}

export function renderCorrectionText(input: CorrectionEmailInput, unsubscribe: string | null): string {
  const t = STRINGS[input.language];
  const c = NOTICE_STRINGS[input.language].correction;
  const title = `${c.prefix}: ${input.title}`;
  const lines = [t.announcementIn(input.channelTitle), '', title, '='.repeat(Math.min(72, title.length)), ''];
  lines.push(c.intro(input.channelTitle), '');
  if (input.note) lines.push(`${c.note}: ${input.note}`, '');
  lines.push(c.nowReads, '');
  if (input.summary) lines.push(input.summary, '');
  lines.push(renderPlainText(input.body), '', `${t.readOnline}: ${input.url}`, '');
  lines.push(...footerText(input.language, c.why, unsubscribe));
  return lines.join('\n');
}

export function renderCorrectionHtml(input: CorrectionEmailInput, subject: string, unsubscribe: string | null): string {
  const t = STRINGS[input.language];
  const c = NOTICE_STRINGS[input.language].correction;
  const lang = input.contentLanguage === input.language ? '' : ` lang="${input.contentLanguage}"`;
  const note = input.note
    ? `<p style="margin:0 0 16px;padding:8px 12px;background:#f4f4f4;border-left:4px solid #0b4f9c"><strong>${escapeHtml(c.note)}:</strong> <span${lang}>${escapeHtml(input.note)}</span></p>\n`
    : '';
  const summary = input.summary
    ? `<p style="margin:0 0 16px;font-size:18px"${lang}>${escapeHtml(input.summary)}</p>\n`
    : '';
  const inner = `<p style="margin:0 0 8px;${MUTED}">${escapeHtml(t.announcementIn(input.channelTitle))}</p>
${heading(input.language, c.prefix, input.title, input.contentLanguage)}
<p style="margin:0 0 16px">${escapeHtml(c.intro(input.channelTitle))}</p>
${note}<h2 style="margin:24px 0 8px;font-size:18px">${escapeHtml(c.nowReads)}</h2>
${summary}<div class="announcement-body"${lang}>
${renderMarkdown(input.body, { images: 'link' })}</div>
<p style="margin:16px 0 0">${link(input.url, t.readOnline)}</p>
`;
  return mailDocument(input.language, subject, inner, footerHtml(input.language, c.why, unsubscribe));
}

export function renderRetractionText(input: RetractionEmailInput, unsubscribe: string | null): string {
  const t = STRINGS[input.language];
  const r = NOTICE_STRINGS[input.language].retraction;
  const title = `${r.prefix}: ${input.title}`;
  return [
    t.announcementIn(input.channelTitle),
    '',
    title,
    '='.repeat(Math.min(72, title.length)),
    '',
    r.explanation(input.channelTitle),
    r.disregard,
    '',
    ...footerText(input.language, r.why, unsubscribe),
  ].join('\n');
}

export function renderRetractionHtml(input: RetractionEmailInput, subject: string, unsubscribe: string | null): string {
  const t = STRINGS[input.language];
  const r = NOTICE_STRINGS[input.language].retraction;
  const inner = `<p style="margin:0 0 8px;${MUTED}">${escapeHtml(t.announcementIn(input.channelTitle))}</p>
${heading(input.language, r.prefix, input.title, input.contentLanguage)}
<p style="margin:0 0 8px">${escapeHtml(r.explanation(input.channelTitle))}</p>
<p style="margin:0 0 16px"><strong>${escapeHtml(r.disregard)}</strong></p>
`;
  return mailDocument(input.language, subject, inner, footerHtml(input.language, r.why, unsubscribe));
}

export function composeCorrectionEmail(input: CorrectionEmailInput): OutgoingMail {
  const to = checkedAddress(input.to);
  const subject = noticeSubject('correction', input.language, input.channelTitle, input.title);
  const unsubscribe = input.unsubscribeToken === null ? null : unsubscribeUrl(input.publicUrl, input.unsubscribeToken);
  return {
    from: senderOf(input.from, input.organisationName),
    to,
    subject,
    text: renderCorrectionText(input, unsubscribe),
    html: renderCorrectionHtml(input, subject, unsubscribe),
    messageId: deliveryMessageId(input.deliveryId, input.publicUrl),
    headers: bulkHeaders(input.language, unsubscribe, mailtoOf(input)),
  };
}

export function composeRetractionEmail(input: RetractionEmailInput): OutgoingMail {
  const to = checkedAddress(input.to);
  const subject = noticeSubject('retraction', input.language, input.channelTitle, input.title);
  const unsubscribe = input.unsubscribeToken === null ? null : unsubscribeUrl(input.publicUrl, input.unsubscribeToken);
  return {
    from: senderOf(input.from, input.organisationName),
    to,
    subject,
    text: renderRetractionText(input, unsubscribe),
    html: renderRetractionHtml(input, subject, unsubscribe),
    messageId: deliveryMessageId(input.deliveryId, input.publicUrl),
    headers: bulkHeaders(input.language, unsubscribe, mailtoOf(input)),
  };
}

/**
 * The digest e-mail: what is new in a subscriber's daily or weekly digest channels, in ONE message (Digest row, see
 * workers/processors/digest.ts). Pure: no I/O.
 *
 * Structure (accessible: real headings, `lang` on the document and on text in another language): h1 the digest and
 * its period, one h2 per channel, one h3 per announcement with its importance word, its summary (or a short
 * plain-text excerpt of its body) and a link to read it. Under each channel, a link that turns e-mail from that
 * channel off (the same signed link as in an announcement e-mail).
 *
 * List-Unsubscribe (RFC 8058 one-click) names ONE subscription, and a digest can span channels. A digest of one
 * channel carries the header for that subscription. A digest of several carries none: a one-click that silently
 * unsubscribed from only the first channel would mislead the person, and one that unsubscribed from all of them
 * needs a token for several subscriptions, which the unsubscribe endpoint does not take (yet). The body's
 * per-channel links are always there.
 */
import { renderPlainText } from '../content/markdown.js';
import type { Importance, Language } from '../domain/types.js';
import { headerSafe, InvalidAddressError, unsubscribeUrl } from './compose.js';
import type { OutgoingMail } from './mailer.js';
import {
  escapeHtml,
  formatOsloTime,
  IMPORTANCE_COLOURS,
  importanceLabel,
  link,
  MUTED,
  mailDocument,
  STRINGS,
} from './templates.js';

export type DigestMailMode = 'daily' | 'weekly';

interface DigestStrings {
  subject: (count: number) => string;
  heading: Record<DigestMailMode, string>;
  period: (from: string, to: string) => string;
  readMore: string;
  why: Record<DigestMailMode, string>;
  unsubscribeChannel: (channel: string) => string;
}

const quote = {
  nb: (s: string) => `«${s}»`,
  nn: (s: string) => `«${s}»`,
  en: (s: string) => `“${s}”`,
};

export const DIGEST_STRINGS: Record<Language, DigestStrings> = {
  nb: {
    subject: (n) => `Sammendrag fra Meldingskanal: ${n} ${n === 1 ? 'ny melding' : 'nye meldinger'}`,
    heading: { daily: 'Dagens sammendrag', weekly: 'Ukens sammendrag' },
    period: (from, to) => `Nytt fra ${from} til ${to} (norsk tid).`,
    readMore: 'Les hele meldingen',
    why: {
      daily:
        'Du får dette sammendraget fordi du har valgt daglig sammendrag på e-post for disse kanalene i Meldingskanal.',
      weekly:
        'Du får dette sammendraget fordi du har valgt ukentlig sammendrag på e-post for disse kanalene i Meldingskanal.',
    },
    unsubscribeChannel: (c) => `Meld deg av e-post fra ${quote.nb(c)}`,
  },
  nn: {
    subject: (n) => `Samandrag frå Meldingskanal: ${n} ${n === 1 ? 'ny melding' : 'nye meldingar'}`,
    heading: { daily: 'Dagens samandrag', weekly: 'Samandrag for veka' },
    period: (from, to) => `Nytt frå ${from} til ${to} (norsk tid).`,
    readMore: 'Les heile meldinga',
    why: {
      daily:
        'Du får dette samandraget fordi du har valt dagleg samandrag på e-post for desse kanalane i Meldingskanal.',
      weekly:
        'Du får dette samandraget fordi du har valt vekentleg samandrag på e-post for desse kanalane i Meldingskanal.',
    },
    unsubscribeChannel: (c) => `Meld deg av e-post frå ${quote.nn(c)}`,
  },
  en: {
    subject: (n) => `Digest from Meldingskanal: ${n} new ${n === 1 ? 'announcement' : 'announcements'}`,
    heading: { daily: 'Your daily digest', weekly: 'Your weekly digest' },
    period: (from, to) => `New from ${from} to ${to} (Norwegian time).`,
    readMore: 'Read the whole announcement',
    why: {
      daily: 'You receive this digest because you chose a daily e-mail digest for these channels on Meldingskanal.',
      weekly: 'You receive this digest because you chose a weekly e-mail digest for these channels on Meldingskanal.',
    },
    unsubscribeChannel: (c) => `Unsubscribe from e-mails from ${quote.en(c)}`,
  },
};

export interface DigestItem {
  title: string;
  /** The summary, or a plain-text excerpt of the body (digestExcerpt). */
  excerpt: string;
  importance: Importance;
  /** The language of title and excerpt (pickVersion may have fallen back). */
  contentLanguage: Language;
  url: string;
}

export interface DigestChannelSection {
  channelTitle: string;
  items: DigestItem[];
  /** Signed for this recipient's subscription to the channel (unsubscribe-token.ts). */
  unsubscribeToken: string;
}

export interface DigestEmailInput {
  digestId: bigint | string;
  to: string;
  from: string;
  /** PUBLIC_URL without a trailing slash. */
  publicUrl: string;
  language: Language;
  mode: DigestMailMode;
  periodStart: Date;
  periodEnd: Date;
  /** In the order they are shown; each with at least one item. */
  sections: DigestChannelSection[];
}

/** `<digest-<id>@<host of PUBLIC_URL>>`: a resend of the same digest (after a crash) carries the same Message-ID. */
export function digestMessageId(digestId: bigint | string, publicUrl: string): string {
  return `<digest-${digestId}@${new URL(publicUrl).hostname}>`;
}

export function digestSubject(language: Language, count: number): string {
  return headerSafe(DIGEST_STRINGS[language].subject(count));
}

const EXCERPT_LENGTH = 200;

/** The summary when there is one, else the body's plain text cut at a word near EXCERPT_LENGTH characters. */
export function digestExcerpt(summary: string | null, body: string): string {
  if (summary?.trim()) return summary.trim();
  const text = renderPlainText(body).replace(/\s+/g, ' ').trim();
  if (text.length <= EXCERPT_LENGTH) return text;
  const cut = text.slice(0, EXCERPT_LENGTH);
  const space = cut.lastIndexOf(' ');
  return `${(space > EXCERPT_LENGTH / 2 ? cut.slice(0, space) : cut).replace(/[\s.,;:!?–-]+$/, '')}…`;
}

function checkedAddress(address: string): string {
  const to = address.trim();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  if (!to || /[\s\u0000-\u001f\u007f]/.test(to) || !to.includes('@')) throw new InvalidAddressError();
  return to;
}

function periodLine(input: DigestEmailInput): string {
  const t = DIGEST_STRINGS[input.language];
  return t.period(formatOsloTime(input.language, input.periodStart), formatOsloTime(input.language, input.periodEnd));
}

export function renderDigestText(input: DigestEmailInput): string {
  const t = DIGEST_STRINGS[input.language];
  const heading = t.heading[input.mode];
  const lines = [heading, '='.repeat(heading.length), '', periodLine(input), ''];
  for (const section of input.sections) {
    lines.push(section.channelTitle, '-'.repeat(Math.min(72, Math.max(3, section.channelTitle.length))), '');
    for (const item of section.items) {
      const label = importanceLabel(input.language, item.importance);
      lines.push(label ? `${label.toUpperCase()}: ${item.title}` : item.title);
      if (item.excerpt) lines.push(item.excerpt);
      lines.push(`${t.readMore}: ${item.url}`, '');
    }
    lines.push(
      `${t.unsubscribeChannel(section.channelTitle)}: ${unsubscribeUrl(input.publicUrl, section.unsubscribeToken)}`,
    );
    lines.push('');
  }
  lines.push('-- ', t.why[input.mode], STRINGS[input.language].automatic, '');
  return lines.join('\n');
}

export function renderDigestHtml(input: DigestEmailInput, subject: string): string {
  const t = DIGEST_STRINGS[input.language];
  const sections = input.sections
    .map((section) => {
      const items = section.items
        .map((item) => {
          const lang = item.contentLanguage === input.language ? '' : ` lang="${item.contentLanguage}"`;
          const label = importanceLabel(input.language, item.importance);
          const badge =
            label && item.importance !== 'info'
              ? `<strong style="display:inline-block;padding:0 6px;margin-right:6px;border-radius:3px;font-size:14px;background:${IMPORTANCE_COLOURS[item.importance].background};color:${IMPORTANCE_COLOURS[item.importance].text}">${escapeHtml(label)}</strong>`
              : '';
          const excerpt = item.excerpt ? `<p style="margin:0 0 8px"${lang}>${escapeHtml(item.excerpt)}</p>\n` : '';
          return `<h3 style="margin:16px 0 4px;font-size:17px;line-height:1.3">${badge}<span${lang}>${escapeHtml(item.title)}</span></h3>
${excerpt}<p style="margin:0 0 16px">${link(item.url, t.readMore)}</p>
`;
        })
        .join('');
      return `<h2 style="margin:32px 0 8px;font-size:20px;line-height:1.3;border-bottom:1px solid #d0d0d0">${escapeHtml(section.channelTitle)}</h2>
${items}<p style="margin:0 0 8px;font-size:14px">${link(unsubscribeUrl(input.publicUrl, section.unsubscribeToken), t.unsubscribeChannel(section.channelTitle))}</p>
`;
    })
    .join('');
  const inner = `<h1 style="margin:0 0 8px;font-size:24px;line-height:1.25;color:#1a1a1a">${escapeHtml(t.heading[input.mode])}</h1>
<p style="margin:0 0 16px;${MUTED}">${escapeHtml(periodLine(input))}</p>
${sections}`;
  const footer = `<p style="margin:0 0 8px;${MUTED}">${escapeHtml(t.why[input.mode])}</p>
<p style="margin:0;${MUTED}">${escapeHtml(STRINGS[input.language].automatic)}</p>
`;
  return mailDocument(input.language, subject, inner, footer);
}

export function composeDigestEmail(input: DigestEmailInput): OutgoingMail {
  const to = checkedAddress(input.to);
  const count = input.sections.reduce((sum, section) => sum + section.items.length, 0);
  const subject = digestSubject(input.language, count);
  // One channel: its one-click unsubscribe. Several: none (see the top of this file).
  const only = input.sections.length === 1 ? input.sections[0]! : null;
  const listUnsubscribe = only ? unsubscribeUrl(input.publicUrl, only.unsubscribeToken) : null;
  return {
    from: input.from,
    to,
    subject,
    text: renderDigestText(input),
    html: renderDigestHtml(input, subject),
    messageId: digestMessageId(input.digestId, input.publicUrl),
    headers: {
      ...(listUnsubscribe
        ? { 'List-Unsubscribe': `<${listUnsubscribe}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' }
        : {}),
      'Auto-Submitted': 'auto-generated',
      'X-Auto-Response-Suppress': 'All',
      'Content-Language': input.language,
    },
  };
}

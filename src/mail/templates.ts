/**
 * Words and markup of the announcement e-mail and of the unsubscribe pages, in Norwegian bokmål, nynorsk and English.
 *
 * Titles and channel titles are plain text and are HTML-escaped where they enter markup. The body is Markdown: the
 * HTML part carries src/content's sanitised rendering (the same HTML as on the web pages), the text part its
 * plain-text rendering. The markup is deliberately plain: one column, a real heading, system fonts, dark text on white
 * (contrast far above WCAG AA), a `lang` attribute, no images of our own and no tracking of any kind.
 */
import { escapeHtml, renderMarkdown, renderPlainText } from '../content/markdown.js';
import type { Importance, Language } from '../domain/types.js';

export { escapeHtml };

interface Strings {
  importance: Record<Exclude<Importance, 'info'>, string>;
  announcementIn: (channel: string) => string;
  whyYouGetThis: (channel: string) => string;
  unsubscribeLink: string;
  automatic: string;
  unsubscribePage: {
    title: string;
    question: (channel: string) => string;
    explanation: string;
    button: string;
    doneTitle: string;
    done: (channel: string) => string;
    invalidTitle: string;
    invalid: string;
  };
}

const quote = {
  nb: (s: string) => `«${s}»`,
  nn: (s: string) => `«${s}»`,
  en: (s: string) => `“${s}”`,
};

export const STRINGS: Record<Language, Strings> = {
  nb: {
    importance: { important: 'Viktig', critical: 'Kritisk' },
    announcementIn: (c) => `Kunngjøring i ${c}`,
    whyYouGetThis: (c) => `Du får denne e-posten fordi du abonnerer på ${quote.nb(c)} i Meldingskanal.`,
    unsubscribeLink: 'Meld deg av e-post fra denne kanalen',
    automatic: 'Sendt automatisk. Svar på denne e-posten blir ikke lest.',
    unsubscribePage: {
      title: 'Meld av e-post',
      question: (c) => `Vil du slutte å få e-post fra ${quote.nb(c)}?`,
      explanation: 'Du kan melde deg på igjen når som helst i Meldingskanal.',
      button: 'Meld meg av',
      doneTitle: 'Du er meldt av',
      done: (c) => `Du får ikke lenger e-post fra ${quote.nb(c)}.`,
      invalidTitle: 'Lenken virker ikke',
      invalid: 'Lenken er ugyldig eller ikke lenger i bruk. Du kan endre abonnementene dine i Meldingskanal.',
    },
  },
  nn: {
    importance: { important: 'Viktig', critical: 'Kritisk' },
    announcementIn: (c) => `Kunngjering i ${c}`,
    whyYouGetThis: (c) => `Du får denne e-posten fordi du abonnerer på ${quote.nn(c)} i Meldingskanal.`,
    unsubscribeLink: 'Meld deg av e-post frå denne kanalen',
    automatic: 'Sendt automatisk. Svar på denne e-posten blir ikkje lesne.',
    unsubscribePage: {
      title: 'Meld av e-post',
      question: (c) => `Vil du slutte å få e-post frå ${quote.nn(c)}?`,
      explanation: 'Du kan melde deg på att når som helst i Meldingskanal.',
      button: 'Meld meg av',
      doneTitle: 'Du er meld av',
      done: (c) => `Du får ikkje lenger e-post frå ${quote.nn(c)}.`,
      invalidTitle: 'Lenkja verkar ikkje',
      invalid: 'Lenkja er ugyldig eller ikkje lenger i bruk. Du kan endre abonnementa dine i Meldingskanal.',
    },
  },
  en: {
    importance: { important: 'Important', critical: 'Critical' },
    announcementIn: (c) => `Announcement in ${c}`,
    whyYouGetThis: (c) => `You receive this e-mail because you subscribe to ${quote.en(c)} on Meldingskanal.`,
    unsubscribeLink: 'Unsubscribe from e-mails from this channel',
    automatic: 'Sent automatically. Replies to this e-mail are not read.',
    unsubscribePage: {
      title: 'Unsubscribe from e-mail',
      question: (c) => `Do you want to stop receiving e-mails from ${quote.en(c)}?`,
      explanation: 'You can subscribe again at any time on Meldingskanal.',
      button: 'Unsubscribe',
      doneTitle: 'You are unsubscribed',
      done: (c) => `You will no longer receive e-mails from ${quote.en(c)}.`,
      invalidTitle: 'This link does not work',
      invalid: 'The link is invalid or no longer in use. You can change your subscriptions on Meldingskanal.',
    },
  },
};

export interface AnnouncementEmailContent {
  language: Language;
  channelTitle: string;
  title: string;
  body: string;
  importance: Importance;
  unsubscribeUrl: string;
}

/** The importance word shown before the title, or undefined for ordinary announcements. */
export function importanceLabel(language: Language, importance: Importance): string | undefined {
  return importance === 'info' ? undefined : STRINGS[language].importance[importance];
}

export function renderAnnouncementText(content: AnnouncementEmailContent): string {
  const t = STRINGS[content.language];
  const label = importanceLabel(content.language, content.importance);
  return [
    t.announcementIn(content.channelTitle),
    '',
    label ? `${label.toUpperCase()}: ${content.title}` : content.title,
    '='.repeat(Math.min(72, Math.max(3, content.title.length + (label ? label.length + 2 : 0)))),
    '',
    renderPlainText(content.body),
    '',
    '-- ',
    t.whyYouGetThis(content.channelTitle),
    `${t.unsubscribeLink}: ${content.unsubscribeUrl}`,
    t.automatic,
    '',
  ].join('\n');
}

const IMPORTANCE_COLOURS: Record<Exclude<Importance, 'info'>, { background: string; text: string }> = {
  // White on these backgrounds: 7.1:1 and 8.6:1.
  important: { background: '#8a4b00', text: '#ffffff' },
  critical: { background: '#a1111b', text: '#ffffff' },
};

/**
 * Styles for the rendered body, which carries no style attributes (the sanitiser removes them). A head style sheet is
 * honoured by the major mail clients (Outlook, Gmail, Apple Mail); where one ignores it, the body is
 * still readable. No `text-align` on cells: that would override the table's own `align`.
 */
const ANNOUNCEMENT_BODY_CSS = [
  '.announcement-body p,.announcement-body ul,.announcement-body ol,.announcement-body pre,.announcement-body table,.announcement-body blockquote{margin:0 0 16px}',
  '.announcement-body h2{margin:24px 0 8px;font-size:20px;line-height:1.3}',
  '.announcement-body h3,.announcement-body h4,.announcement-body h5,.announcement-body h6{margin:20px 0 8px;font-size:17px;line-height:1.3}',
  '.announcement-body a{color:#0b4f9c;text-decoration:underline}',
  '.announcement-body code{font-family:Consolas,Menlo,monospace;font-size:14px}',
  '.announcement-body pre{padding:8px 12px;background:#f4f4f4;white-space:pre-wrap}',
  '.announcement-body blockquote{padding:0 0 0 12px;border-left:3px solid #d0d0d0;color:#4a4a4a}',
  '.announcement-body table{border-collapse:collapse}',
  '.announcement-body th,.announcement-body td{padding:4px 8px;border:1px solid #d0d0d0}',
  '.announcement-body img{max-width:100%;height:auto}',
].join('\n');

export function renderAnnouncementHtml(content: AnnouncementEmailContent, subject: string): string {
  const t = STRINGS[content.language];
  const label = importanceLabel(content.language, content.importance);
  const badge =
    label && content.importance !== 'info'
      ? `<p style="margin:0 0 8px"><strong style="display:inline-block;padding:2px 8px;border-radius:3px;background:${IMPORTANCE_COLOURS[content.importance].background};color:${IMPORTANCE_COLOURS[content.importance].text}">${escapeHtml(label)}</strong></p>\n`
      : '';
  return `<!doctype html>
<html lang="${content.language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>${escapeHtml(subject)}</title>
<style>${ANNOUNCEMENT_BODY_CSS}</style>
</head>
<body style="margin:0;padding:0;background:#ffffff;color:#1a1a1a;font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5">
<div role="article" aria-label="${escapeHtml(subject)}" style="max-width:640px;margin:0 auto;padding:24px 16px">
<p style="margin:0 0 8px;color:#4a4a4a;font-size:14px">${escapeHtml(t.announcementIn(content.channelTitle))}</p>
${badge}<h1 style="margin:0 0 16px;font-size:24px;line-height:1.25;color:#1a1a1a">${escapeHtml(content.title)}</h1>
<div class="announcement-body">
${renderMarkdown(content.body, { images: 'link' })}</div>
<hr style="border:0;border-top:1px solid #d0d0d0;margin:32px 0 16px">
<p style="margin:0 0 8px;color:#4a4a4a;font-size:14px">${escapeHtml(t.whyYouGetThis(content.channelTitle))}</p>
<p style="margin:0 0 8px;font-size:14px"><a href="${escapeHtml(content.unsubscribeUrl)}" style="color:#0b4f9c;text-decoration:underline">${escapeHtml(t.unsubscribeLink)}</a></p>
<p style="margin:0;color:#4a4a4a;font-size:14px">${escapeHtml(t.automatic)}</p>
</div>
</body>
</html>
`;
}

export type UnsubscribePage =
  | { kind: 'confirm'; language: Language; channelTitle: string }
  | { kind: 'done'; language: Language; channelTitle: string }
  | { kind: 'invalid'; language: Language };

/**
 * The small pages behind the unsubscribe link. `confirm` has a button that POSTs back to the same address (a GET never
 * changes anything: mail scanners follow links); the form has no action attribute, so it posts to the page's own URL,
 * token included.
 */
export function renderUnsubscribePage(page: UnsubscribePage): string {
  const t = STRINGS[page.language].unsubscribePage;
  let heading: string;
  let content: string;
  switch (page.kind) {
    case 'confirm':
      heading = t.title;
      content = `<p>${escapeHtml(t.question(page.channelTitle))}</p>
<form method="post">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">${escapeHtml(t.button)}</button>
</form>
<p>${escapeHtml(t.explanation)}</p>`;
      break;
    case 'done':
      heading = t.doneTitle;
      content = `<p role="status">${escapeHtml(t.done(page.channelTitle))}</p>
<p>${escapeHtml(t.explanation)}</p>`;
      break;
    case 'invalid':
      heading = t.invalidTitle;
      content = `<p>${escapeHtml(t.invalid)}</p>`;
      break;
  }
  return `<!doctype html>
<html lang="${page.language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(heading)} – Meldingskanal</title>
<style>
body{margin:0;background:#fff;color:#1a1a1a;font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:1.0625rem;line-height:1.5}
main{max-width:36rem;margin:0 auto;padding:3rem 1rem}
h1{font-size:1.75rem;line-height:1.25;margin:0 0 1rem}
button{font:inherit;font-weight:600;padding:.625rem 1.25rem;border:2px solid #0b4f9c;border-radius:4px;background:#0b4f9c;color:#fff;cursor:pointer}
button:hover{background:#083a73}
button:focus-visible{outline:3px solid #1a1a1a;outline-offset:2px}
</style>
</head>
<body>
<main>
<h1>${escapeHtml(heading)}</h1>
${content}
</main>
</body>
</html>
`;
}

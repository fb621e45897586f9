/**
 * Words and markup of the announcement e-mail and of the unsubscribe pages, in Norwegian bokmål, nynorsk and English.
 *
 * Everything a person typed (titles, bodies, channel titles) is plain text here and is HTML-escaped where it enters
 * markup. The markup is deliberately plain: one column, a real heading, system fonts, dark text on white (contrast
 * far above WCAG AA), a `lang` attribute, no images and no tracking of any kind.
 */
import type { Importance, Language } from '../domain/types.js';

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

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** Line breaks as `\n` only. */
function normaliseNewlines(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

/**
 * Plain text as HTML paragraphs: a blank line separates paragraphs, a single line break stays a line break.
 * (Markdown rendering comes later; until then the text is shown as typed, escaped.)
 */
export function textToHtmlParagraphs(text: string): string {
  return normaliseNewlines(text)
    .split(/\n[ \t]*\n+/)
    .map((paragraph) => paragraph.trim())
    .filter((paragraph) => paragraph.length > 0)
    .map((paragraph) => `<p style="margin:0 0 16px">${paragraph.split('\n').map(escapeHtml).join('<br>\n')}</p>`)
    .join('\n');
}

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
    normaliseNewlines(content.body).trim(),
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
</head>
<body style="margin:0;padding:0;background:#ffffff;color:#1a1a1a;font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5">
<div role="article" aria-label="${escapeHtml(subject)}" style="max-width:640px;margin:0 auto;padding:24px 16px">
<p style="margin:0 0 8px;color:#4a4a4a;font-size:14px">${escapeHtml(t.announcementIn(content.channelTitle))}</p>
${badge}<h1 style="margin:0 0 16px;font-size:24px;line-height:1.25;color:#1a1a1a">${escapeHtml(content.title)}</h1>
${textToHtmlParagraphs(content.body)}
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

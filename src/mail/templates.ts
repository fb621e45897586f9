/**
 * Words and markup of the announcement e-mail, the acknowledgement reminder and the confirmation of a subscription
 * without an account, in Norwegian bokmål, nynorsk and English. (The pages behind e-mail links are the web app's:
 * src/web/pages/email-link.tsx, words in src/web/i18n/messages/email-links.ts.)
 *
 * An announcement e-mail carries, in this order: the channel, the importance badge, the title (marked resolved on an
 * incident's follow-up), the summary, what kind of notice it is (a maintenance window with its affected system, its
 * times in Europe/Oslo time and a link to its .ics file; an incident; a release), the body, the attachments as links
 * with their file names and sizes (never as attached files: the server checks who may download them), a link to the
 * announcement, and the footer. The labels are in the subscription's language; title, summary and body are the
 * language version pickVersion chose (src/domain/announcement.ts), marked with its own `lang` where it differs.
 *
 * Titles, summaries and channel titles are plain text and are HTML-escaped where they enter markup. The body is Markdown: the
 * HTML part carries src/content's sanitised rendering (the same HTML as on the web pages), the text part its
 * plain-text rendering. The markup is deliberately plain: one column, a real heading, system fonts, dark text on white
 * (contrast far above WCAG AA), a `lang` attribute, no images of our own and no tracking of any kind.
 */
import { escapeHtml, renderMarkdown, renderPlainText } from '../content/markdown.js';
import type { AnnouncementType } from '../domain/announcement.js';
import type { Importance, Language } from '../domain/types.js';

export { escapeHtml };

interface Strings {
  importance: Record<Exclude<Importance, 'info'>, string>;
  /** Before the title of an incident's "resolved" follow-up. */
  resolved: string;
  type: Record<Exclude<AnnouncementType, 'general'>, string>;
  affectedSystem: string;
  window: string;
  /** After a time: the zone the times are given in. */
  osloTime: string;
  addToCalendar: string;
  attachments: string;
  readOnline: string;
  reminder: {
    subject: (title: string) => string;
    heading: string;
    intro: (channel: string) => string;
    deadline: (when: string) => string;
    noDeadline: string;
    action: string;
    why: string;
  };
  announcementIn: (channel: string) => string;
  whyYouGetThis: (channel: string) => string;
  unsubscribeLink: string;
  automatic: string;
  /** The double opt-in e-mail of a subscription without an account (src/services/email-subscriptions.ts). */
  confirmation: {
    subject: (channel: string) => string;
    heading: string;
    /** The address was entered on the channel's page (by its owner, we hope). */
    intro: (channel: string) => string;
    /** The channel imported the address: says who (the channel), never which person. */
    introImported: (channel: string) => string;
    action: string;
    expiry: string;
    ignore: string;
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
    resolved: 'Løst',
    type: { maintenance: 'Planlagt vedlikehold', incident: 'Driftsforstyrrelse', release: 'Ny versjon' },
    affectedSystem: 'Gjelder',
    window: 'Tidsrom',
    osloTime: 'norsk tid',
    addToCalendar: 'Legg til i kalenderen (.ics)',
    attachments: 'Vedlegg',
    readOnline: 'Les kunngjøringen i Meldingskanal',
    reminder: {
      subject: (t) => `Påminnelse: bekreft at du har lest ${quote.nb(t)}`,
      heading: 'Påminnelse: bekreft at du har lest',
      intro: (c) => `Du er bedt om å bekrefte at du har lest denne kunngjøringen i ${quote.nb(c)}.`,
      deadline: (w) => `Fristen er ${w}.`,
      noDeadline: 'Bekreft så snart du kan.',
      action: 'Åpne kunngjøringen og trykk «Jeg har lest dette»',
      why: 'Du får denne påminnelsen fordi du fikk kunngjøringen og ikke har bekreftet at du har lest den ennå.',
    },
    announcementIn: (c) => `Kunngjøring i ${c}`,
    whyYouGetThis: (c) => `Du får denne e-posten fordi du abonnerer på ${quote.nb(c)} i Meldingskanal.`,
    unsubscribeLink: 'Meld deg av e-post fra denne kanalen',
    automatic: 'Sendt automatisk. Svar på denne e-posten blir ikke lest.',
    confirmation: {
      subject: (c) => `Bekreft abonnementet på ${quote.nb(c)}`,
      heading: 'Bekreft abonnementet ditt',
      intro: (c) =>
        `Noen, forhåpentligvis du, ba om å få kunngjøringer fra ${quote.nb(c)} i Meldingskanal på e-post til denne adressen.`,
      introImported: (c) =>
        `Kanalen ${quote.nb(c)} i Meldingskanal har lagt til denne adressen blant mottakerne sine. Du får ingen kunngjøringer før du har bekreftet at du vil ha dem.`,
      action: 'Bekreft abonnementet',
      expiry: 'Lenken virker i 7 dager.',
      ignore: 'Vil du ikke ha e-post fra kanalen, kan du se bort fra denne e-posten. Da får du ingen kunngjøringer.',
    },
  },
  nn: {
    importance: { important: 'Viktig', critical: 'Kritisk' },
    resolved: 'Løyst',
    type: { maintenance: 'Planlagt vedlikehald', incident: 'Driftsforstyrring', release: 'Ny versjon' },
    affectedSystem: 'Gjeld',
    window: 'Tidsrom',
    osloTime: 'norsk tid',
    addToCalendar: 'Legg til i kalenderen (.ics)',
    attachments: 'Vedlegg',
    readOnline: 'Les kunngjeringa i Meldingskanal',
    reminder: {
      subject: (t) => `Påminning: stadfest at du har lese ${quote.nn(t)}`,
      heading: 'Påminning: stadfest at du har lese',
      intro: (c) => `Du er beden om å stadfeste at du har lese denne kunngjeringa i ${quote.nn(c)}.`,
      deadline: (w) => `Fristen er ${w}.`,
      noDeadline: 'Stadfest så snart du kan.',
      action: 'Opne kunngjeringa og trykk «Eg har lese dette»',
      why: 'Du får denne påminninga fordi du fekk kunngjeringa og ikkje har stadfest at du har lese ho enno.',
    },
    announcementIn: (c) => `Kunngjering i ${c}`,
    whyYouGetThis: (c) => `Du får denne e-posten fordi du abonnerer på ${quote.nn(c)} i Meldingskanal.`,
    unsubscribeLink: 'Meld deg av e-post frå denne kanalen',
    automatic: 'Sendt automatisk. Svar på denne e-posten blir ikkje lesne.',
    confirmation: {
      subject: (c) => `Stadfest abonnementet på ${quote.nn(c)}`,
      heading: 'Stadfest abonnementet ditt',
      intro: (c) =>
        `Nokon, forhåpentleg du, bad om å få kunngjeringar frå ${quote.nn(c)} i Meldingskanal på e-post til denne adressa.`,
      introImported: (c) =>
        `Kanalen ${quote.nn(c)} i Meldingskanal har lagt til denne adressa blant mottakarane sine. Du får ingen kunngjeringar før du har stadfest at du vil ha dei.`,
      action: 'Stadfest abonnementet',
      expiry: 'Lenkja verkar i 7 dagar.',
      ignore: 'Vil du ikkje ha e-post frå kanalen, kan du sjå bort frå denne e-posten. Då får du ingen kunngjeringar.',
    },
  },
  en: {
    importance: { important: 'Important', critical: 'Critical' },
    resolved: 'Resolved',
    type: { maintenance: 'Planned maintenance', incident: 'Incident', release: 'Release' },
    affectedSystem: 'Affects',
    window: 'When',
    osloTime: 'Norwegian time',
    addToCalendar: 'Add to calendar (.ics)',
    attachments: 'Attachments',
    readOnline: 'Read the announcement on Meldingskanal',
    reminder: {
      subject: (t) => `Reminder: please confirm you have read ${quote.en(t)}`,
      heading: 'Reminder: please confirm you have read',
      intro: (c) => `You are asked to confirm that you have read this announcement in ${quote.en(c)}.`,
      deadline: (w) => `The deadline is ${w}.`,
      noDeadline: 'Please confirm as soon as you can.',
      action: 'Open the announcement and press “I have read this”',
      why: 'You receive this reminder because you were sent the announcement and have not confirmed reading it yet.',
    },
    announcementIn: (c) => `Announcement in ${c}`,
    whyYouGetThis: (c) => `You receive this e-mail because you subscribe to ${quote.en(c)} on Meldingskanal.`,
    unsubscribeLink: 'Unsubscribe from e-mails from this channel',
    automatic: 'Sent automatically. Replies to this e-mail are not read.',
    confirmation: {
      subject: (c) => `Confirm your subscription to ${quote.en(c)}`,
      heading: 'Confirm your subscription',
      intro: (c) =>
        `Someone, hopefully you, asked for announcements from ${quote.en(c)} on Meldingskanal to be e-mailed to this address.`,
      introImported: (c) =>
        `The channel ${quote.en(c)} on Meldingskanal has added this address to its recipients. You will receive no announcements until you confirm that you want them.`,
      action: 'Confirm the subscription',
      expiry: 'The link works for 7 days.',
      ignore:
        'If you do not want e-mail from this channel, ignore this message: you will then receive no announcements.',
    },
  },
};

/** One attachment, offered as a link (the download checks who may read it; an attached file could not). */
export interface EmailAttachmentLink {
  filename: string;
  /** Bytes. */
  size: number;
  url: string;
}

/** What an announcement e-mail shows of the announcement, in the version chosen for the reader. */
export interface EmailAnnouncement {
  title: string;
  /** Markdown. */
  body: string;
  importance: Importance;
  /** Plain text, shown above the body. */
  summary?: string | null;
  /** The language of title, summary and body (pickVersion may have fallen back); defaults to the mail's language. */
  contentLanguage?: Language;
  type?: AnnouncementType;
  affectedSystem?: string | null;
  startsAt?: Date | null;
  endsAt?: Date | null;
  /** A maintenance window's .ics. */
  calendarUrl?: string | null;
  /** An incident's "resolved" follow-up: the subject and heading say so. */
  resolvesIncident?: boolean;
  attachments?: readonly EmailAttachmentLink[];
  /** Where to read it. */
  url?: string | null;
}

export interface AnnouncementEmailContent {
  language: Language;
  channelTitle: string;
  announcement: EmailAnnouncement;
  /** Absent when the recipient has no subscription to leave (an incident's follow-up to a former subscriber). */
  unsubscribeUrl: string | null;
}

/** The importance word shown before the title, or undefined for ordinary announcements. */
export function importanceLabel(language: Language, importance: Importance): string | undefined {
  return importance === 'info' ? undefined : STRINGS[language].importance[importance];
}

/** The title as headings and subjects show it: `Løst: <title>` on an incident's follow-up. */
export function displayTitle(language: Language, announcement: Pick<EmailAnnouncement, 'title' | 'resolvesIncident'>) {
  return announcement.resolvesIncident ? `${STRINGS[language].resolved}: ${announcement.title}` : announcement.title;
}

const LOCALES: Record<Language, string> = { nb: 'nb-NO', nn: 'nn-NO', en: 'en-GB' };
/** Every time in an e-mail is Norwegian time, whatever the server's zone: the readers are at Norwegian institutions. */
export const MAIL_TIME_ZONE = 'Europe/Oslo';

/** `torsdag 3. desember 2026 kl. 12:00` (nb), `Thursday, 3 December 2026 at 12:00` (en), in Europe/Oslo. */
export function formatOsloTime(language: Language, instant: Date): string {
  return new Intl.DateTimeFormat(LOCALES[language], {
    timeZone: MAIL_TIME_ZONE,
    dateStyle: 'full',
    timeStyle: 'short',
  }).format(instant);
}

function osloDay(instant: Date): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: MAIL_TIME_ZONE, dateStyle: 'short' }).format(instant);
}

/** A window in Europe/Oslo time; within one day the end is just its time (`… kl. 18:00–20:00`). */
export function formatOsloWindow(language: Language, startsAt: Date | null, endsAt: Date | null): string | undefined {
  if (!startsAt) return undefined;
  const start = formatOsloTime(language, startsAt);
  if (!endsAt) return start;
  if (osloDay(startsAt) === osloDay(endsAt)) {
    const endTime = new Intl.DateTimeFormat(LOCALES[language], { timeZone: MAIL_TIME_ZONE, timeStyle: 'short' });
    return `${start}–${endTime.format(endsAt)}`;
  }
  return `${start} – ${formatOsloTime(language, endsAt)}`;
}

/** `1,2 MB` (nb, nn) or `1.2 MB` (en): decimal units, as file managers show them. */
export function formatSize(language: Language, bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const number = new Intl.NumberFormat(LOCALES[language], { maximumFractionDigits: unit === 0 ? 0 : 1 }).format(value);
  return `${number} ${units[unit]}`;
}

/** The lines that say what kind of notice it is: type, affected system, window; none for a general announcement. */
function typeFacts(language: Language, announcement: EmailAnnouncement): { label: string; value: string }[] {
  const t = STRINGS[language];
  const facts: { label: string; value: string }[] = [];
  const type = announcement.type ?? 'general';
  if (type !== 'general') facts.push({ label: t.type[type], value: '' });
  if (announcement.affectedSystem) facts.push({ label: t.affectedSystem, value: announcement.affectedSystem });
  const window = formatOsloWindow(language, announcement.startsAt ?? null, announcement.endsAt ?? null);
  if (window) facts.push({ label: t.window, value: `${window} (${t.osloTime})` });
  return facts;
}

export function renderAnnouncementText(content: AnnouncementEmailContent): string {
  const t = STRINGS[content.language];
  const a = content.announcement;
  const label = importanceLabel(content.language, a.importance);
  const title = displayTitle(content.language, a);
  const heading = label ? `${label.toUpperCase()}: ${title}` : title;
  const lines = [
    t.announcementIn(content.channelTitle),
    '',
    heading,
    '='.repeat(Math.min(72, Math.max(3, heading.length))),
    '',
  ];
  if (a.summary) lines.push(a.summary, '');
  const facts = typeFacts(content.language, a);
  if (facts.length > 0) {
    for (const fact of facts) lines.push(fact.value ? `${fact.label}: ${fact.value}` : fact.label);
    if (a.calendarUrl) lines.push(`${t.addToCalendar}: ${a.calendarUrl}`);
    lines.push('');
  }
  lines.push(renderPlainText(a.body), '');
  if (a.attachments && a.attachments.length > 0) {
    lines.push(`${t.attachments}:`);
    for (const file of a.attachments) {
      lines.push(`- ${file.filename} (${formatSize(content.language, file.size)}): ${file.url}`);
    }
    lines.push('');
  }
  if (a.url) lines.push(`${t.readOnline}: ${a.url}`, '');
  lines.push('-- ', t.whyYouGetThis(content.channelTitle));
  if (content.unsubscribeUrl) lines.push(`${t.unsubscribeLink}: ${content.unsubscribeUrl}`);
  lines.push(t.automatic, '');
  return lines.join('\n');
}

export const IMPORTANCE_COLOURS: Record<Exclude<Importance, 'info'>, { background: string; text: string }> = {
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

const LINK_STYLE = 'color:#0b4f9c;text-decoration:underline';
export const MUTED = 'color:#4a4a4a;font-size:14px';

export function link(url: string, text: string): string {
  return `<a href="${escapeHtml(url)}" style="${LINK_STYLE}">${escapeHtml(text)}</a>`;
}

/**
 * The page around a message: one column, a real heading, the footer. `inner` is trusted markup. Exported for the
 * digest (src/mail/digest.ts), which has the same look.
 */
export function mailDocument(language: Language, subject: string, inner: string, footer: string): string {
  return `<!doctype html>
<html lang="${language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>${escapeHtml(subject)}</title>
<style>${ANNOUNCEMENT_BODY_CSS}</style>
</head>
<body style="margin:0;padding:0;background:#ffffff;color:#1a1a1a;font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5">
<div role="article" aria-label="${escapeHtml(subject)}" style="max-width:640px;margin:0 auto;padding:24px 16px">
${inner}<hr style="border:0;border-top:1px solid #d0d0d0;margin:32px 0 16px">
${footer}</div>
</body>
</html>
`;
}

export function renderAnnouncementHtml(content: AnnouncementEmailContent, subject: string): string {
  const t = STRINGS[content.language];
  const a = content.announcement;
  const label = importanceLabel(content.language, a.importance);
  const badge =
    label && a.importance !== 'info'
      ? `<p style="margin:0 0 8px"><strong style="display:inline-block;padding:2px 8px;border-radius:3px;background:${IMPORTANCE_COLOURS[a.importance].background};color:${IMPORTANCE_COLOURS[a.importance].text}">${escapeHtml(label)}</strong></p>\n`
      : '';
  // Title, summary and body are the version pickVersion chose; say so where it is not the mail's language.
  const contentLanguage = a.contentLanguage ?? content.language;
  const lang = contentLanguage === content.language ? '' : ` lang="${contentLanguage}"`;
  const resolved = a.resolvesIncident ? `<span lang="${content.language}">${escapeHtml(t.resolved)}:</span> ` : '';
  const summary = a.summary
    ? `<p style="margin:0 0 16px;font-size:18px;color:#1a1a1a"${lang}>${escapeHtml(a.summary)}</p>\n`
    : '';
  const facts = typeFacts(content.language, a);
  const factsHtml =
    facts.length === 0
      ? ''
      : `<ul style="margin:0 0 16px;padding:12px 16px;list-style:none;background:#f4f4f4;border-left:4px solid #0b4f9c">
${facts
  .map((f) =>
    f.value
      ? `<li><strong>${escapeHtml(f.label)}:</strong> ${escapeHtml(f.value)}</li>`
      : `<li><strong>${escapeHtml(f.label)}</strong></li>`,
  )
  .join('\n')}${a.calendarUrl ? `\n<li>${link(a.calendarUrl, t.addToCalendar)}</li>` : ''}
</ul>
`;
  const attachments =
    a.attachments && a.attachments.length > 0
      ? `<h2 style="margin:24px 0 8px;font-size:18px">${escapeHtml(t.attachments)}</h2>
<ul style="margin:0 0 16px">
${a.attachments
  .map(
    (file) =>
      `<li>${link(file.url, file.filename)} <span style="${MUTED}">(${escapeHtml(formatSize(content.language, file.size))})</span></li>`,
  )
  .join('\n')}
</ul>
`
      : '';
  const readOnline = a.url ? `<p style="margin:16px 0 0">${link(a.url, t.readOnline)}</p>\n` : '';
  const inner = `<p style="margin:0 0 8px;${MUTED}">${escapeHtml(t.announcementIn(content.channelTitle))}</p>
${badge}<h1 style="margin:0 0 16px;font-size:24px;line-height:1.25;color:#1a1a1a">${resolved}<span${lang}>${escapeHtml(a.title)}</span></h1>
${summary}${factsHtml}<div class="announcement-body"${lang}>
${renderMarkdown(a.body, { images: 'link' })}</div>
${attachments}${readOnline}`;
  const footer = `<p style="margin:0 0 8px;${MUTED}">${escapeHtml(t.whyYouGetThis(content.channelTitle))}</p>
${content.unsubscribeUrl ? `<p style="margin:0 0 8px;font-size:14px">${link(content.unsubscribeUrl, t.unsubscribeLink)}</p>\n` : ''}<p style="margin:0;${MUTED}">${escapeHtml(t.automatic)}</p>
`;
  return mailDocument(content.language, subject, inner, footer);
}

export interface AckReminderContent {
  language: Language;
  channelTitle: string;
  /** The title in the version chosen for the reader, and that version's language. */
  title: string;
  contentLanguage: Language;
  deadline: Date | null;
  /** The announcement, where the reader presses "I have read this" (a POST from the page, never this link). */
  url: string;
  unsubscribeUrl: string | null;
}

export function renderAckReminderText(content: AckReminderContent): string {
  const t = STRINGS[content.language];
  const r = t.reminder;
  return [
    t.announcementIn(content.channelTitle),
    '',
    r.heading,
    '='.repeat(Math.min(72, r.heading.length)),
    '',
    content.title,
    '',
    r.intro(content.channelTitle),
    content.deadline
      ? r.deadline(`${formatOsloTime(content.language, content.deadline)} (${t.osloTime})`)
      : r.noDeadline,
    '',
    `${r.action}: ${content.url}`,
    '',
    '-- ',
    r.why,
    ...(content.unsubscribeUrl ? [`${t.unsubscribeLink}: ${content.unsubscribeUrl}`] : []),
    t.automatic,
    '',
  ].join('\n');
}

export function renderAckReminderHtml(content: AckReminderContent, subject: string): string {
  const t = STRINGS[content.language];
  const r = t.reminder;
  const lang = content.contentLanguage === content.language ? '' : ` lang="${content.contentLanguage}"`;
  const deadline = content.deadline
    ? r.deadline(`${formatOsloTime(content.language, content.deadline)} (${t.osloTime})`)
    : r.noDeadline;
  const inner = `<p style="margin:0 0 8px;${MUTED}">${escapeHtml(t.announcementIn(content.channelTitle))}</p>
<h1 style="margin:0 0 16px;font-size:24px;line-height:1.25;color:#1a1a1a">${escapeHtml(r.heading)}</h1>
<p style="margin:0 0 16px;font-size:18px"><strong${lang}>${escapeHtml(content.title)}</strong></p>
<p style="margin:0 0 8px">${escapeHtml(r.intro(content.channelTitle))}</p>
<p style="margin:0 0 16px"><strong>${escapeHtml(deadline)}</strong></p>
<p style="margin:0 0 16px">${link(content.url, r.action)}</p>
`;
  const footer = `<p style="margin:0 0 8px;${MUTED}">${escapeHtml(r.why)}</p>
${content.unsubscribeUrl ? `<p style="margin:0 0 8px;font-size:14px">${link(content.unsubscribeUrl, t.unsubscribeLink)}</p>\n` : ''}<p style="margin:0;${MUTED}">${escapeHtml(t.automatic)}</p>
`;
  return mailDocument(content.language, subject, inner, footer);
}

export interface ConfirmationEmailContent {
  language: Language;
  channelTitle: string;
  /** The signed link to the confirmation page. */
  confirmUrl: string;
  /** `import`: the channel added the address; `self`: it was entered on the channel's page. */
  source: 'self' | 'import';
}

export function renderConfirmationText(content: ConfirmationEmailContent): string {
  const t = STRINGS[content.language];
  const c = t.confirmation;
  return [
    c.heading,
    '='.repeat(c.heading.length),
    '',
    content.source === 'import' ? c.introImported(content.channelTitle) : c.intro(content.channelTitle),
    '',
    `${c.action}: ${content.confirmUrl}`,
    c.expiry,
    '',
    '-- ',
    c.ignore,
    t.automatic,
    '',
  ].join('\n');
}

export function renderConfirmationHtml(content: ConfirmationEmailContent, subject: string): string {
  const t = STRINGS[content.language];
  const c = t.confirmation;
  const intro = content.source === 'import' ? c.introImported(content.channelTitle) : c.intro(content.channelTitle);
  const inner = `<h1 style="margin:0 0 16px;font-size:24px;line-height:1.25;color:#1a1a1a">${escapeHtml(c.heading)}</h1>
<p style="margin:0 0 16px">${escapeHtml(intro)}</p>
<p style="margin:0 0 8px;font-size:18px">${link(content.confirmUrl, c.action)}</p>
<p style="margin:0 0 16px;${MUTED}">${escapeHtml(c.expiry)}</p>
`;
  const footer = `<p style="margin:0 0 8px;${MUTED}">${escapeHtml(c.ignore)}</p>
<p style="margin:0;${MUTED}">${escapeHtml(t.automatic)}</p>
`;
  return mailDocument(content.language, subject, inner, footer);
}

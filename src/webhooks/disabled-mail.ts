/**
 * The e-mail a channel's owners get when one of its webhooks is switched off (too many consecutive failures, or the
 * receiver answered 410 Gone). Short, in the owner's language (nb, nn or en), sent through the ordinary mailer.
 * Everything a person typed or a server answered is escaped in the HTML part and stripped of line breaks where it
 * goes into a header.
 */
import { escapeHtml } from '../content/markdown.js';
import type { Language } from '../domain/types.js';
import type { OutgoingMail } from '../mail/mailer.js';

export interface WebhookDisabledMailInput {
  to: string;
  from: string;
  language: Language;
  channelTitle: string;
  channelSlug: string;
  webhookId: string;
  /** Shown without path or query: those may carry a receiver's token. */
  webhookUrl: string;
  description: string;
  reason: 'failures' | 'gone';
  failures: number;
  lastError: string | null;
  publicUrl: string;
  /** Unique per notice, e.g. `<webhook-disabled-<id>-<time>@host>`. */
  messageId: string;
}

const STRINGS: Record<
  Language,
  {
    subject: (channel: string) => string;
    failures: (n: number) => string;
    gone: string;
    lastError: string;
    howTo: string;
    webhook: string;
  }
> = {
  nb: {
    subject: (channel) => `[${channel}] En webhook er slått av`,
    failures: (n) => `Webhooken er slått av etter ${n} mislykkede forsøk på rad.`,
    gone: 'Webhooken er slått av fordi mottakeren svarte 410 Gone (adressen finnes ikke lenger).',
    lastError: 'Siste feil',
    howTo: 'Når mottakeren virker igjen, kan en eier av kanalen slå webhooken på igjen (PATCH med enabled: true).',
    webhook: 'Webhook',
  },
  nn: {
    subject: (channel) => `[${channel}] Ein webhook er slått av`,
    failures: (n) => `Webhooken er slått av etter ${n} mislukka forsøk på rad.`,
    gone: 'Webhooken er slått av fordi mottakaren svarte 410 Gone (adressa finst ikkje lenger).',
    lastError: 'Siste feil',
    howTo: 'Når mottakaren verkar igjen, kan ein eigar av kanalen slå webhooken på igjen (PATCH med enabled: true).',
    webhook: 'Webhook',
  },
  en: {
    subject: (channel) => `[${channel}] A webhook was switched off`,
    failures: (n) => `The webhook was switched off after ${n} failed attempts in a row.`,
    gone: 'The webhook was switched off because the receiver answered 410 Gone (the address no longer exists).',
    lastError: 'Last error',
    howTo:
      'Once the receiver works again, an owner of the channel can switch the webhook back on (PATCH with enabled: true).',
    webhook: 'Webhook',
  },
};

/** Scheme, host and port only. */
export function webhookOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point.
const oneLine = (text: string) => text.replace(/[\r\n\t]+/g, ' ').replace(/[\u0000-\u001f\u007f]/g, '');

export function composeWebhookDisabledMail(input: WebhookDisabledMailInput): OutgoingMail {
  const s = STRINGS[input.language];
  const what = input.reason === 'gone' ? s.gone : s.failures(input.failures);
  const apiUrl = `${input.publicUrl}/api/v1/webhooks/${input.webhookId}`;
  const target = `${webhookOrigin(input.webhookUrl)}${input.description ? ` — ${oneLine(input.description)}` : ''}`;
  const error = input.lastError ? oneLine(input.lastError).slice(0, 500) : null;
  const text = [
    what,
    '',
    `${s.webhook}: ${target}`,
    ...(error ? [`${s.lastError}: ${error}`] : []),
    '',
    s.howTo,
    apiUrl,
  ].join('\n');
  const html = `<!doctype html>
<html lang="${input.language}"><head><meta charset="utf-8"><title>${escapeHtml(s.subject(input.channelTitle))}</title></head>
<body>
<p>${escapeHtml(what)}</p>
<p><strong>${escapeHtml(s.webhook)}:</strong> ${escapeHtml(target)}</p>
${error ? `<p><strong>${escapeHtml(s.lastError)}:</strong> ${escapeHtml(error)}</p>\n` : ''}<p>${escapeHtml(s.howTo)}<br><a href="${escapeHtml(apiUrl)}">${escapeHtml(apiUrl)}</a></p>
</body></html>`;
  return {
    from: input.from,
    to: input.to,
    subject: oneLine(s.subject(oneLine(input.channelTitle))),
    text,
    html,
    messageId: input.messageId,
    headers: { 'Auto-Submitted': 'auto-generated' },
  };
}

/**
 * The bodies webhooks send, per format. Pure builders: an event in, the JSON text out.
 *
 * - `standard`: a Standard Webhooks event, `{ type, timestamp, data }`; for `announcement.published` `data` is the
 *   same view REST readers get (src/services/views.ts), in the announcement's original language; for
 *   `announcement.updated` that view as it now reads plus `revisionNote`; for `announcement.retracted` only what
 *   identifies it (id, channel, title, when), never the withdrawn text. The shapes are in the OpenAPI document's
 *   `webhooks` section (src/http/schemas/webhook-events.ts).
 * - `slack`: a Slack incoming-webhook message, `{ text, blocks }` (header, section, context, button). Text Slack
 *   reads as mrkdwn has `&`, `<` and `>` escaped, so a title cannot make a mention (`<!channel>`) or a disguised link.
 * - `teams`: a Microsoft Teams message whose attachment is an Adaptive Card (1.4): TextBlocks and an Action.OpenUrl.
 *
 * Labels are in the announcement's language (nb, nn or en): a webhook has no language of its own, and its readers
 * read the announcement in that language anyway. Title and text are the publisher's, as written. A correction's title
 * starts with "Rettet:" / "Retta:" / "Corrected:", a retraction's with "Trukket tilbake:" / "Trekt tilbake:" /
 * "Withdrawn:" (the words of the e-mail notices and push, src/mail/notices.ts), and a retraction has no button.
 */
import { renderPlainText } from '../content/markdown.js';
import type { Importance, Language } from '../domain/types.js';
import { NOTICE_STRINGS } from '../mail/notices.js';
import type { AnnouncementView } from '../services/views.js';

export const WEBHOOK_FORMATS = ['standard', 'slack', 'teams'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** What identifies a withdrawn announcement: no summary, body or attachments (they no longer apply). */
export interface RetractedAnnouncement {
  id: string;
  channel: string;
  /** The language of `title`: the original's. */
  language: Language;
  title: string;
  retractedAt: string;
}

export type WebhookEvent =
  | { type: 'announcement.published'; timestamp: Date; channelTitle: string; announcement: AnnouncementView }
  | {
      type: 'announcement.updated';
      timestamp: Date;
      channelTitle: string;
      /** As it reads now (its `revision` may be later than the material one, after minor edits since). */
      announcement: AnnouncementView;
      /** The publisher's note on the material revision this event announces; null when they wrote none. */
      revisionNote: string | null;
    }
  | { type: 'announcement.retracted'; timestamp: Date; channelTitle: string; announcement: RetractedAnnouncement }
  | {
      type: 'webhook.test';
      timestamp: Date;
      channelTitle: string;
      channelSlug: string;
      webhookId: string;
      /** Where the channel is, for the test message's button. */
      channelUrl: string;
      language: Language;
    };

const LABELS: Record<
  Language,
  {
    importance: Record<Exclude<Importance, 'info'>, string>;
    open: string;
    published: string;
    testTitle: string;
    testText: (channel: string) => string;
    openChannel: string;
    edited: string;
    withdrawnText: string;
    withdrawnAt: string;
  }
> = {
  nb: {
    importance: { important: 'Viktig', critical: 'Kritisk' },
    open: 'Les meldingen',
    published: 'Publisert',
    testTitle: 'Testmelding fra Meldingskanal',
    testText: (channel) => `Webhooken for kanalen «${channel}» virker.`,
    openChannel: 'Åpne kanalen',
    edited: 'Endret',
    withdrawnText: 'Utgiveren har trukket tilbake denne kunngjøringen. Innholdet gjelder ikke lenger.',
    withdrawnAt: 'Trukket tilbake',
  },
  nn: {
    importance: { important: 'Viktig', critical: 'Kritisk' },
    open: 'Les meldinga',
    published: 'Publisert',
    testTitle: 'Testmelding frå Meldingskanal',
    testText: (channel) => `Webhooken for kanalen «${channel}» verkar.`,
    openChannel: 'Opna kanalen',
    edited: 'Endra',
    withdrawnText: 'Utgjevaren har trekt tilbake denne kunngjeringa. Innhaldet gjeld ikkje lenger.',
    withdrawnAt: 'Trekt tilbake',
  },
  en: {
    importance: { important: 'Important', critical: 'Critical' },
    open: 'Read the announcement',
    published: 'Published',
    testTitle: 'Test message from Meldingskanal',
    testText: (channel) => `The webhook of the channel “${channel}” works.`,
    openChannel: 'Open the channel',
    edited: 'Edited',
    withdrawnText: 'The publisher has withdrawn this announcement. Its content no longer applies.',
    withdrawnAt: 'Withdrawn',
  },
};

/** Slack's limits: header text 150 characters, section text 3,000. */
const SLACK_HEADER_MAX = 150;
const TEXT_MAX = 2900;
/** A revision note is short (the API takes 500 characters); its label comes on top. */
const NOTE_MAX = 600;

/** Slack mrkdwn control characters (https://api.slack.com/reference/surfaces/formatting#escaping). */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}

/** What the message says: the summary when the publisher wrote one, else the body as plain text. */
export function announcementText(view: AnnouncementView): string {
  return truncate(view.summary ?? renderPlainText(view.body), TEXT_MAX);
}

interface MessageParts {
  title: string;
  text: string;
  /** A correction's note from the publisher, with its label. */
  note?: string;
  /** Channel, importance, time: one line of context. */
  context: string[];
  /** None on a retraction: there is nothing left to open. */
  button?: { label: string; url: string };
}

function partsOf(event: WebhookEvent): MessageParts {
  if (event.type === 'announcement.retracted') {
    const withdrawn = event.announcement;
    const labels = LABELS[withdrawn.language];
    return {
      title: `${NOTICE_STRINGS[withdrawn.language].retraction.prefix}: ${withdrawn.title}`,
      text: labels.withdrawnText,
      context: [event.channelTitle, `${labels.withdrawnAt} ${withdrawn.retractedAt}`],
    };
  }
  if (event.type === 'webhook.test') {
    const labels = LABELS[event.language];
    return {
      title: labels.testTitle,
      text: labels.testText(event.channelTitle),
      context: [event.channelTitle, event.timestamp.toISOString()],
      button: { label: labels.openChannel, url: event.channelUrl },
    };
  }
  const view = event.announcement;
  const labels = LABELS[view.language];
  const importance = view.importance === 'info' ? [] : [labels.importance[view.importance]];
  const corrected = event.type === 'announcement.updated';
  const notices = NOTICE_STRINGS[view.language];
  return {
    title: corrected ? `${notices.correction.prefix}: ${view.title}` : view.title,
    text: announcementText(view),
    ...(corrected && event.revisionNote
      ? { note: truncate(`${notices.correction.note}: ${event.revisionNote}`, NOTE_MAX) }
      : {}),
    context: [
      event.channelTitle,
      ...importance,
      ...(view.publishedAt ? [`${labels.published} ${view.publishedAt}`] : []),
      ...(corrected && view.editedAt ? [`${labels.edited} ${view.editedAt}`] : []),
    ],
    button: { label: labels.open, url: view.url },
  };
}

function standardData(event: WebhookEvent): Record<string, unknown> | AnnouncementView | RetractedAnnouncement {
  switch (event.type) {
    case 'webhook.test':
      return { webhookId: event.webhookId, channel: event.channelSlug, channelTitle: event.channelTitle };
    case 'announcement.updated':
      return { ...event.announcement, revisionNote: event.revisionNote };
    case 'announcement.published':
    case 'announcement.retracted':
      return event.announcement;
  }
}

export function standardBody(event: WebhookEvent): Record<string, unknown> {
  return { type: event.type, timestamp: event.timestamp.toISOString(), data: standardData(event) };
}

export function slackBody(event: WebhookEvent): Record<string, unknown> {
  const parts = partsOf(event);
  return {
    // The notification and fallback text (also mrkdwn).
    text: escapeSlack(`${parts.title}\n${parts.text}`),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: truncate(parts.title, SLACK_HEADER_MAX), emoji: false } },
      ...(parts.note ? [{ type: 'section', text: { type: 'plain_text', text: parts.note, emoji: false } }] : []),
      { type: 'section', text: { type: 'mrkdwn', text: escapeSlack(parts.text) || ' ' } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: escapeSlack(parts.context.join(' · ')) }] },
      ...(parts.button
        ? [
            {
              type: 'actions',
              elements: [
                {
                  type: 'button',
                  text: { type: 'plain_text', text: truncate(parts.button.label, 75) },
                  url: parts.button.url,
                },
              ],
            },
          ]
        : []),
    ],
  };
}

export function teamsBody(event: WebhookEvent): Record<string, unknown> {
  const parts = partsOf(event);
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [
            { type: 'TextBlock', text: parts.context.join(' · '), isSubtle: true, size: 'Small', wrap: true },
            { type: 'TextBlock', text: parts.title, size: 'Large', weight: 'Bolder', wrap: true },
            ...(parts.note ? [{ type: 'TextBlock', text: parts.note, isSubtle: true, wrap: true }] : []),
            { type: 'TextBlock', text: parts.text, wrap: true },
          ],
          actions: parts.button ? [{ type: 'Action.OpenUrl', title: parts.button.label, url: parts.button.url }] : [],
        },
      },
    ],
  };
}

/** The JSON body of `event` in `format`. */
export function webhookBody(format: WebhookFormat, event: WebhookEvent): string {
  const body = format === 'slack' ? slackBody(event) : format === 'teams' ? teamsBody(event) : standardBody(event);
  return JSON.stringify(body);
}

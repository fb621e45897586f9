/**
 * The bodies webhooks send, per format. Pure builders: an event in, the JSON text out.
 *
 * - `standard`: a Standard Webhooks event, `{ type, timestamp, data }`; for an announcement `data` is the same view
 *   REST readers get (src/services/views.ts), in the announcement's original language.
 * - `slack`: a Slack incoming-webhook message, `{ text, blocks }` (header, section, context, button). Text Slack
 *   reads as mrkdwn has `&`, `<` and `>` escaped, so a title cannot make a mention (`<!channel>`) or a disguised link.
 * - `teams`: a Microsoft Teams message whose attachment is an Adaptive Card (1.4): TextBlocks and an Action.OpenUrl.
 *
 * Labels are in the announcement's language (nb, nn or en); title and text are the publisher's, as written.
 */
import { renderPlainText } from '../content/markdown.js';
import type { Importance, Language } from '../domain/types.js';
import type { AnnouncementView } from '../services/views.js';

export const WEBHOOK_FORMATS = ['standard', 'slack', 'teams'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

export type WebhookEvent =
  | { type: 'announcement.published'; timestamp: Date; channelTitle: string; announcement: AnnouncementView }
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
  }
> = {
  nb: {
    importance: { important: 'Viktig', critical: 'Kritisk' },
    open: 'Les meldingen',
    published: 'Publisert',
    testTitle: 'Testmelding fra Meldingskanal',
    testText: (channel) => `Webhooken for kanalen «${channel}» virker.`,
    openChannel: 'Åpne kanalen',
  },
  nn: {
    importance: { important: 'Viktig', critical: 'Kritisk' },
    open: 'Les meldinga',
    published: 'Publisert',
    testTitle: 'Testmelding frå Meldingskanal',
    testText: (channel) => `Webhooken for kanalen «${channel}» verkar.`,
    openChannel: 'Opna kanalen',
  },
  en: {
    importance: { important: 'Important', critical: 'Critical' },
    open: 'Read the announcement',
    published: 'Published',
    testTitle: 'Test message from Meldingskanal',
    testText: (channel) => `The webhook of the channel “${channel}” works.`,
    openChannel: 'Open the channel',
  },
};

/** Slack's limits: header text 150 characters, section text 3,000. */
const SLACK_HEADER_MAX = 150;
const TEXT_MAX = 2900;

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
  /** Channel, importance, time: one line of context. */
  context: string[];
  button: { label: string; url: string };
}

function partsOf(event: WebhookEvent): MessageParts {
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
  return {
    title: view.title,
    text: announcementText(view),
    context: [
      event.channelTitle,
      ...importance,
      ...(view.publishedAt ? [`${labels.published} ${view.publishedAt}`] : []),
    ],
    button: { label: labels.open, url: view.url },
  };
}

export function standardBody(event: WebhookEvent): Record<string, unknown> {
  const data =
    event.type === 'webhook.test'
      ? { webhookId: event.webhookId, channel: event.channelSlug, channelTitle: event.channelTitle }
      : event.announcement;
  return { type: event.type, timestamp: event.timestamp.toISOString(), data };
}

export function slackBody(event: WebhookEvent): Record<string, unknown> {
  const parts = partsOf(event);
  return {
    // The notification and fallback text (also mrkdwn).
    text: escapeSlack(`${parts.title}\n${parts.text}`),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: truncate(parts.title, SLACK_HEADER_MAX), emoji: false } },
      { type: 'section', text: { type: 'mrkdwn', text: escapeSlack(parts.text) || ' ' } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: escapeSlack(parts.context.join(' · ')) }] },
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
            { type: 'TextBlock', text: parts.text, wrap: true },
          ],
          actions: [{ type: 'Action.OpenUrl', title: parts.button.label, url: parts.button.url }],
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

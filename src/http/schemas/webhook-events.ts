/**
 * What webhooks receive, for the OpenAPI 3.1 document's `webhooks` section: the Standard Webhooks bodies of the three
 * event types (src/webhooks/formats.ts builds them; src/webhooks/events.ts says who gets which), their signature
 * headers, and what the receiver's answer means (workers/processors/webhook.ts). Slack and Teams webhooks get the
 * same events as those services' own message formats, described in words.
 */
import { Type } from 'typebox';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../../webhooks/events.js';
import { Announcement, LanguageSchema } from './announcements.js';
import { DateTime, NO_CREDENTIALS, Slug, Uuid } from './common.js';

const envelope = (type: WebhookEventType, data: ReturnType<typeof Type.Object>, title: string) =>
  Type.Object(
    {
      type: Type.Literal(type),
      timestamp: Type.String({ format: 'date-time', description: 'When this message was made (each attempt anew)' }),
      data,
    },
    { additionalProperties: false, title },
  );

export const AnnouncementPublishedEvent = envelope(
  'announcement.published',
  Announcement,
  'AnnouncementPublishedEvent',
);

export const AnnouncementUpdatedEvent = envelope(
  'announcement.updated',
  Type.Object(
    {
      ...Announcement.properties,
      revisionNote: Type.Union([Type.String(), Type.Null()], {
        description: "The publisher's note on what changed in this material revision; null when they wrote none",
      }),
    },
    {
      additionalProperties: false,
      description:
        'The announcement as it reads now (its `revision` can be later than the material one, after minor edits)',
    },
  ),
  'AnnouncementUpdatedEvent',
);

export const AnnouncementRetractedEvent = envelope(
  'announcement.retracted',
  Type.Object(
    {
      id: Uuid,
      channel: Slug,
      language: LanguageSchema('The language of title: the original'),
      title: Type.String({ description: 'Plain text, never HTML' }),
      retractedAt: DateTime,
    },
    {
      additionalProperties: false,
      description: 'What identifies the withdrawn announcement; never its text, which no longer applies',
    },
  ),
  'AnnouncementRetractedEvent',
);

export const WEBHOOK_EVENT_SCHEMAS = {
  'announcement.published': AnnouncementPublishedEvent,
  'announcement.updated': AnnouncementUpdatedEvent,
  'announcement.retracted': AnnouncementRetractedEvent,
} as const satisfies Record<WebhookEventType, unknown>;

const SUMMARIES: Record<WebhookEventType, { id: string; summary: string; when: string }> = {
  'announcement.published': {
    id: 'onAnnouncementPublished',
    summary: 'An announcement was published',
    when: 'An announcement for everyone was published in the channel (webhooks existing at publication).',
  },
  'announcement.updated': {
    id: 'onAnnouncementUpdated',
    summary: 'An announcement was corrected (a material edit)',
    when:
      'A publisher made a material edit. Sent to the webhooks that were sent the publication (or, not taking ' +
      'publications, would have been); Slack and Teams show the title as "Rettet:" / "Retta:" / "Corrected:" ' +
      "(the announcement's language) with the publisher's note.",
  },
  'announcement.retracted': {
    id: 'onAnnouncementRetracted',
    summary: 'An announcement was withdrawn',
    when:
      'A publisher retracted an announcement. Sent to the webhooks that were sent it (or, not taking publications, ' +
      'would have been); Slack and Teams show "Trukket tilbake:" / "Trekt tilbake:" / "Withdrawn:" and the title, ' +
      'without the text or a link.',
  },
};

const HEADERS = [
  {
    name: 'webhook-id',
    description: 'msg_<delivery id>: the same on every retry of one delivery, to drop duplicates by',
    example: 'msg_1234',
  },
  {
    name: 'webhook-timestamp',
    description: 'Unix seconds when signed; reject old ones (replays)',
    example: '1767225600',
  },
  {
    name: 'webhook-signature',
    description:
      'v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}"> with the webhook secret (whsec_…), per ' +
      'Standard Webhooks: verify with any Standard Webhooks library',
    example: 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
  },
];

/** The `webhooks` section: one POST per event type, as the receiver sees it. */
export function webhookEventDocs() {
  return Object.fromEntries(
    WEBHOOK_EVENT_TYPES.map((type) => {
      const { id, summary, when } = SUMMARIES[type];
      return [
        type,
        {
          post: {
            tags: ['webhooks'],
            operationId: id,
            summary,
            description:
              `${when} The body below is the \`standard\` format; a \`slack\` webhook gets a Slack incoming-webhook ` +
              'message (`text`, `blocks`) and a `teams` webhook a message with an Adaptive Card, both with the same ' +
              'headers. A webhook receives the event types in its `events`.',
            // The receiver authenticates the sender by the signature, not by credentials of ours.
            security: NO_CREDENTIALS,
            parameters: HEADERS.map(({ name, description, example }) => ({
              in: 'header',
              name,
              required: true,
              description,
              schema: { type: 'string', examples: [example] },
            })),
            requestBody: {
              required: true,
              content: { 'application/json': { schema: WEBHOOK_EVENT_SCHEMAS[type] } },
            },
            responses: {
              '2XX': { description: 'Received: the delivery is done' },
              '410': { description: 'Gone for good: the webhook is switched off and its owners told by e-mail' },
              default: {
                description:
                  'Anything else (redirects are not followed; no answer within WEBHOOK_TIMEOUT_MS): retried with ' +
                  'back-off up to WEBHOOK_MAX_ATTEMPTS; WEBHOOK_MAX_FAILURES failures in a row switch the webhook off',
              },
            },
          },
        },
      ];
    }),
  );
}

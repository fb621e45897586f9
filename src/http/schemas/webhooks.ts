/** Schemas of webhook management (src/services/webhooks.ts). */
import { Type } from 'typebox';
import { WEBHOOK_EVENT_TYPES } from '../../webhooks/events.js';
import { WEBHOOK_FORMATS } from '../../webhooks/formats.js';
import { DateTime, Text, Uuid } from './common.js';

const Format = Type.Enum([...WEBHOOK_FORMATS], {
  description:
    'standard: JSON signed per Standard Webhooks; slack: a Slack incoming-webhook message; teams: a Microsoft Teams message with an Adaptive Card',
});

const Url = Text.identifier({
  minLength: 1,
  maxLength: 2048,
  description:
    'http:// or https://, without user name or password. Its host must resolve to public addresses only (or be allowed by WEBHOOK_ALLOWED_HOSTS); redirects are not followed.',
  examples: ['https://hooks.slack.com/services/T000/B000/XXXX'],
});

const Description = Text.line({ maxLength: 500, description: 'For the owners: what or where this webhook is' });

const EVENTS_DESCRIPTION =
  'The event types it receives (see the webhooks section): announcement.published, announcement.updated (material ' +
  'edits, with the revision note), announcement.retracted. At least one; to receive nothing, switch it off.';

const eventsOf = (description: string) =>
  Type.Array(Type.Enum([...WEBHOOK_EVENT_TYPES]), {
    minItems: 1,
    maxItems: WEBHOOK_EVENT_TYPES.length,
    uniqueItems: true,
    description,
    examples: [['announcement.published', 'announcement.retracted']],
  });

const Events = eventsOf(EVENTS_DESCRIPTION);

const webhookProperties = {
  id: Uuid,
  channel: Type.String({ description: "The channel's slug" }),
  url: Type.String(),
  format: Format,
  description: Type.String(),
  events: Events,
  enabled: Type.Boolean({ description: 'False after it was switched off (by an owner, or after failures)' }),
  consecutiveFailures: Type.Integer({ minimum: 0, description: 'Failed calls since the last success' }),
  disabledAt: Type.Union([DateTime, Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  lastSuccessAt: Type.Union([DateTime, Type.Null()]),
  createdAt: DateTime,
  updatedAt: DateTime,
};

export const Webhook = Type.Object(webhookProperties, {
  additionalProperties: false,
  title: 'Webhook',
  description: "A channel's webhook (without its secret)",
});

export const WebhookWithSecret = Type.Object(
  {
    ...webhookProperties,
    secret: Type.String({
      pattern: '^whsec_',
      description:
        'The signing secret (Standard Webhooks): shown only now; store it with the receiver to verify webhook-signature',
    }),
  },
  { additionalProperties: false, title: 'WebhookWithSecret', description: 'A webhook with its signing secret' },
);

export const WebhookList = Type.Object(
  { items: Type.Array(Webhook) },
  { additionalProperties: false, description: "The channel's webhooks, oldest first" },
);

export const WebhookParams = Type.Object({ id: Uuid }, { additionalProperties: false });

export const CreateWebhookBody = Type.Object(
  {
    url: Url,
    format: Type.Optional(Format),
    description: Type.Optional(Description),
    events: Type.Optional(eventsOf(`${EVENTS_DESCRIPTION} Default: all three.`)),
  },
  { additionalProperties: false },
);

export const UpdateWebhookBody = Type.Object(
  {
    url: Type.Optional(Url),
    format: Type.Optional(Format),
    description: Type.Optional(Description),
    events: Type.Optional(Events),
    enabled: Type.Optional(
      Type.Boolean({ description: 'Switching a webhook on again resets its count of consecutive failures' }),
    ),
  },
  { additionalProperties: false, minProperties: 1, description: 'The fields to change (at least one)' },
);

export const WebhookTestResult = Type.Object(
  {
    ok: Type.Boolean({ description: 'The receiver answered 2xx' }),
    status: Type.Union([Type.Integer(), Type.Null()], { description: 'Its HTTP status; null when none came' }),
    latencyMs: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
    error: Type.Union([Type.String(), Type.Null()], { description: 'What went wrong, when not ok' }),
  },
  { additionalProperties: false, title: 'WebhookTestResult' },
);

import { Type } from 'typebox';
import { EMAIL_MODES, LANGUAGES } from '../../domain/types.js';
import { DateTime, Slug } from './common.js';

const EmailMode = Type.Enum([...EMAIL_MODES], { description: 'When e-mail is sent; off keeps the subscription quiet' });
const Language = Type.Enum([...LANGUAGES], { description: 'Language of e-mails' });

export const Subscription = Type.Object(
  {
    channel: Slug,
    emailMode: EmailMode,
    language: Language,
    push: Type.Boolean({ description: "Web push to the caller's registered browsers" }),
    createdAt: DateTime,
    updatedAt: DateTime,
  },
  { additionalProperties: false, title: 'Subscription', description: "The caller's subscription to one channel" },
);

export const SubscriptionList = Type.Object(
  { items: Type.Array(Subscription) },
  { additionalProperties: false, description: "The caller's subscriptions, by channel slug" },
);

export const PutSubscriptionBody = Type.Object(
  {
    emailMode: Type.Optional(EmailMode),
    language: Type.Optional(Language),
    push: Type.Optional(
      Type.Boolean({
        description: 'Web push on or off (default off); register a browser with POST /me/push-subscriptions',
      }),
    ),
  },
  { additionalProperties: false },
);

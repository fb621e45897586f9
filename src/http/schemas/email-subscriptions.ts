import { Type } from 'typebox';
import { EMAIL_MODES, LANGUAGES } from '../../domain/types.js';
import { MAX_IMPORT_ADDRESSES } from '../../services/email-subscriptions.js';
import { DateTime, Text } from './common.js';

const Language = Type.Enum([...LANGUAGES], { description: 'Language of the e-mails (and of the confirmation)' });
const EmailMode = Type.Enum(
  EMAIL_MODES.filter((mode) => mode !== 'off'),
  { description: 'When e-mail is sent (default immediate)' },
);
// Longer than any usable address (254) on purpose: the service says why an address cannot be used.
const Address = Text.email({ maxLength: 1000, description: 'An e-mail address (at most 254 characters)' });

export const EmailSubscriptionBody = Type.Object(
  {
    email: Address,
    language: Type.Optional(Language),
    emailMode: Type.Optional(EmailMode),
  },
  { additionalProperties: false },
);

export const EmailSubscriptionAccepted = Type.Object(
  { message: Type.String() },
  {
    additionalProperties: false,
    description:
      'Always this same answer, whether the address is new, waiting for confirmation, already subscribed or ' +
      'suppressed: it never reveals which',
  },
);

export const ImportJsonBody = Type.Object(
  {
    addresses: Type.Array(Address, { maxItems: MAX_IMPORT_ADDRESSES }),
    language: Type.Optional(Language),
    emailMode: Type.Optional(EmailMode),
  },
  { additionalProperties: false },
);

export const ImportText = Text.multiline({
  description:
    'One address per line; of CSV lines the first field; a header line (`email`) and blank lines are skipped',
});

export const ImportQuery = Type.Object(
  {
    language: Type.Optional(Language),
    emailMode: Type.Optional(EmailMode),
  },
  { additionalProperties: false, description: 'For text bodies; a JSON body says the same in its own fields' },
);

export const ImportResult = Type.Object(
  {
    imported: Type.Integer({ description: 'New subscriptions, each sent a confirmation e-mail' }),
    alreadySubscribed: Type.Integer({ description: 'Addresses that had a subscription (left as they were)' }),
    invalid: Type.Array(
      Type.Object(
        {
          line: Type.Integer({ description: '1-based: the position in `addresses`, or the line of a text body' }),
          reason: Type.Enum(['empty', 'too_long', 'control_characters', 'syntax', 'duplicate']),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, description: 'What the import did' },
);

export const SuppressionQuery = Type.Object(
  { email: Text.identifier({ minLength: 1, maxLength: 320 }) },
  { additionalProperties: false },
);

export const Suppression = Type.Object(
  {
    email: Type.String(),
    reason: Type.String({ description: '`bounce`: a permanent 5xx reply from the relay' }),
    detail: Type.Union([Type.String(), Type.Null()], { description: "The relay's reply" }),
    deliveryId: Type.Union([Type.String(), Type.Null()], { description: 'The delivery that bounced, if any' }),
    createdAt: DateTime,
    liftedAt: Type.Union([DateTime, Type.Null()]),
    active: Type.Boolean({ description: 'In force: no e-mail goes to the address' }),
  },
  { additionalProperties: false, title: 'EmailSuppression' },
);

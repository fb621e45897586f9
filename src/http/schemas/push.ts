import { Type } from 'typebox';
import { ENDPOINT_MAX_LENGTH } from '../../push/keys.js';
import { DateTime, MAX_DATE_MILLISECONDS, Text, Uuid } from './common.js';

export const PushPublicKey = Type.Object(
  {
    publicKey: Type.String({
      description:
        "The VAPID public key (base64url): pass it as `applicationServerKey` to the browser's pushManager.subscribe()",
    }),
  },
  { additionalProperties: false, title: 'PushPublicKey' },
);

/** What `PushSubscription.toJSON()` gives in the browser, sent as it is. */
export const RegisterPushSubscriptionBody = Type.Object(
  {
    endpoint: Text.identifier({
      minLength: 1,
      maxLength: ENDPOINT_MAX_LENGTH,
      description: 'The push service URL of this browser (https, at one of the push services the server accepts)',
    }),
    expirationTime: Type.Optional(
      // At most the end of the year 9999: 1e308 became an invalid Date, and 1405261343055774 (the year 46500) a time
      // the database driver refused, both 500s (found by the contract fuzzer, tests/fuzz).
      Type.Union([Type.Integer({ minimum: 0, maximum: MAX_DATE_MILLISECONDS }), Type.Null()], {
        description: 'When the push service ends the subscription (milliseconds since the epoch), or null',
      }),
    ),
    keys: Type.Object(
      {
        p256dh: Text.identifier({
          minLength: 1,
          maxLength: 200,
          description: "The browser's P-256 public key: base64url of a 65-byte uncompressed point",
        }),
        auth: Text.identifier({
          minLength: 1,
          maxLength: 100,
          description: 'The authentication secret: base64url of 16 bytes',
        }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const PushSubscription = Type.Object(
  {
    id: Uuid,
    endpoint: Type.String(),
    userAgent: Type.Union([Type.String(), Type.Null()], { description: 'The browser that registered it' }),
    expiresAt: Type.Union([DateTime, Type.Null()]),
    createdAt: DateTime,
    lastSeenAt: Type.String({ format: 'date-time', description: 'Last registered or refreshed by the browser' }),
    lastSuccessAt: Type.Union([DateTime, Type.Null()], { description: 'Last message the push service accepted' }),
  },
  { additionalProperties: false, title: 'PushSubscription', description: "One of the caller's browsers" },
);

export const PushSubscriptionList = Type.Object(
  { items: Type.Array(PushSubscription) },
  { additionalProperties: false, description: "The caller's browsers, most recently seen first" },
);

export const PushSubscriptionParams = Type.Object({ id: Uuid }, { additionalProperties: false });

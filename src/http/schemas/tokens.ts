/** Schemas of API tokens. The secret appears in the creation response only. */
import { Type } from 'typebox';
import { TOKEN_SCOPES } from '../../domain/types.js';
import { DEFAULT_TOKEN_LIFETIME_DAYS, MAX_TOKEN_LIFETIME_DAYS } from '../../services/api-tokens.js';
import { DateTime, Text, Uuid } from './common.js';

const Scope = Type.Enum([...TOKEN_SCOPES], {
  description: 'read: read channels; publish: publish and manage own channels; admin: administration',
});

const tokenFields = {
  id: Uuid,
  name: Type.String(),
  prefix: Type.String({ description: 'The start of the secret, to recognise the token by' }),
  scopes: Type.Array(Scope),
  createdAt: DateTime,
  lastUsedAt: Type.Union([DateTime, Type.Null()], { description: 'Last use (to the minute); null if never used' }),
  expiresAt: Type.Union([DateTime, Type.Null()]),
};

export const ApiToken = Type.Object(tokenFields, {
  additionalProperties: false,
  title: 'ApiToken',
  description: 'An API token (without its secret)',
});

export const ApiTokenList = Type.Object(
  { items: Type.Array(ApiToken) },
  { additionalProperties: false, description: 'Your tokens that are not revoked, oldest first' },
);

export const CreatedApiToken = Type.Object(
  {
    ...tokenFields,
    token: Type.String({
      description: 'The secret (`mkt_…`), sent as `Authorization: Bearer <token>`. Shown only now: store it',
    }),
  },
  { additionalProperties: false, title: 'CreatedApiToken', description: 'Created; the secret is shown once' },
);

export const CreateApiTokenBody = Type.Object(
  {
    name: Text.title({ minLength: 1, maxLength: 100, description: 'What the token is for' }),
    scopes: Type.Optional(
      Type.Array(Scope, {
        minItems: 1,
        uniqueItems: true,
        description: 'Default: your scopes except `admin`. Never more than you hold',
      }),
    ),
    expiresInDays: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_TOKEN_LIFETIME_DAYS,
        default: DEFAULT_TOKEN_LIFETIME_DAYS,
        description: `Lifetime in days (1–${MAX_TOKEN_LIFETIME_DAYS})`,
      }),
    ),
  },
  { additionalProperties: false },
);

export const TokenParams = Type.Object({ id: Uuid }, { additionalProperties: false });

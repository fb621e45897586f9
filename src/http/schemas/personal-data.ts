import { Type } from 'typebox';
import { ERASE_CONFIRMATION } from '../../services/personal-data.js';
import { AuditRecord } from './audit.js';
import { DateTime, Slug, Uuid } from './common.js';

const NullableDateTime = Type.Union([DateTime, Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);

/** The personal-data export. Every field is declared, so nothing undeclared (a hash, a session id) can slip out. */
export const PersonalDataExport = Type.Object(
  {
    exportedAt: DateTime,
    profile: Type.Object(
      {
        id: Uuid,
        displayName: Type.String(),
        email: NullableString,
        principalName: NullableString,
        oidcIssuer: NullableString,
        oidcSubject: NullableString,
        language: Type.String(),
        isAdmin: Type.Boolean(),
        createdAt: DateTime,
        updatedAt: DateTime,
        lastLoginAt: NullableDateTime,
      },
      { additionalProperties: false },
    ),
    organisation: Type.Union([
      Type.Object({ code: Type.String(), name: Type.String(), realm: Type.String() }, { additionalProperties: false }),
      Type.Null(),
    ]),
    subscriptions: Type.Array(
      Type.Object(
        {
          channel: Slug,
          emailMode: Type.String(),
          language: Type.String(),
          confirmedAt: NullableDateTime,
          push: Type.Boolean(),
          createdAt: DateTime,
          updatedAt: DateTime,
        },
        { additionalProperties: false },
      ),
    ),
    pushSubscriptions: Type.Array(
      Type.Object(
        {
          id: Uuid,
          endpoint: Type.String(),
          userAgent: NullableString,
          expiresAt: NullableDateTime,
          createdAt: DateTime,
          lastSeenAt: DateTime,
          lastSuccessAt: NullableDateTime,
        },
        { additionalProperties: false, description: 'Browsers registered for web push (without their keys)' },
      ),
    ),
    channelRoles: Type.Array(
      Type.Object({ channel: Slug, role: Type.String(), createdAt: DateTime }, { additionalProperties: false }),
    ),
    apiTokens: Type.Array(
      Type.Object(
        {
          id: Uuid,
          name: Type.String(),
          prefix: Type.String({ description: 'The public start of the token, as listings show it' }),
          scopes: Type.Array(Type.String()),
          createdAt: DateTime,
          lastUsedAt: NullableDateTime,
          expiresAt: NullableDateTime,
          revokedAt: NullableDateTime,
        },
        { additionalProperties: false, description: 'Metadata only: the secret is never stored' },
      ),
    ),
    sessions: Type.Array(
      Type.Object(
        { createdAt: DateTime, lastSeenAt: DateTime, expiresAt: DateTime },
        { additionalProperties: false, description: 'Sign-in sessions, by their times only' },
      ),
    ),
    announcements: Type.Array(
      Type.Object(
        { id: Uuid, channel: Slug, title: Type.String(), status: Type.String(), publishedAt: NullableDateTime },
        { additionalProperties: false, description: 'Announcements you wrote' },
      ),
    ),
    deliveries: Type.Array(
      Type.Object(
        {
          announcementId: Uuid,
          medium: Type.String(),
          kind: Type.String({ description: 'announcement, ack_reminder, correction or retraction' }),
          status: Type.String(),
          createdAt: DateTime,
          sentAt: NullableDateTime,
        },
        { additionalProperties: false, description: 'Announcements sent to you' },
      ),
    ),
    digests: Type.Array(
      Type.Object(
        {
          mode: Type.String(),
          periodStart: DateTime,
          periodEnd: DateTime,
          announcementIds: Type.Array(Uuid),
          status: Type.String(),
          sentAt: NullableDateTime,
        },
        { additionalProperties: false, description: 'Digest e-mails made for you' },
      ),
    ),
    reads: Type.Array(
      Type.Object(
        { announcementId: Uuid, readAt: DateTime },
        { additionalProperties: false, description: 'Announcements you marked read' },
      ),
    ),
    ratings: Type.Array(
      Type.Object(
        {
          announcementId: Uuid,
          stars: Type.Integer({ minimum: 1, maximum: 5 }),
          createdAt: DateTime,
          updatedAt: DateTime,
        },
        { additionalProperties: false, description: 'Your ratings of announcements' },
      ),
    ),
    acknowledgements: Type.Array(
      Type.Object(
        {
          announcementId: Uuid,
          acknowledgedAt: DateTime,
          organisation: NullableString,
        },
        {
          additionalProperties: false,
          description: 'Announcements you confirmed reading, with the code of your organisation at the time',
        },
      ),
    ),
    auditRecords: Type.Array(
      Type.Object(
        {
          id: AuditRecord.properties.id,
          at: DateTime,
          action: Type.String(),
          actorKind: Type.String(),
          actorUserId: Type.Union([Uuid, Type.Null()]),
          targetType: NullableString,
          targetId: NullableString,
          outcome: Type.String(),
          requestId: NullableString,
          details: Type.Unknown(),
        },
        { additionalProperties: false, description: 'Audit records of your actions and of actions on your account' },
      ),
    ),
  },
  { additionalProperties: false, title: 'PersonalDataExport', description: 'Everything the service holds about you' },
);

export const EraseAccountBody = Type.Object(
  {
    confirm: Type.Literal(ERASE_CONFIRMATION, {
      description: `Must be "${ERASE_CONFIRMATION}": erasing an account cannot be undone`,
    }),
  },
  { additionalProperties: false },
);

export const ErasureSummary = Type.Object(
  {
    erased: Type.Literal(true),
    removed: Type.Object(
      {
        subscriptions: Type.Integer(),
        pushSubscriptions: Type.Integer({ description: 'Browsers registered for web push' }),
        apiTokens: Type.Integer(),
        sessions: Type.Integer(),
        channelRoles: Type.Integer(),
        reads: Type.Integer({ description: 'Announcements marked read' }),
        ratings: Type.Integer({ description: 'Ratings given' }),
        acknowledgements: Type.Integer({ description: 'Acknowledgements ("I have read this") given' }),
      },
      { additionalProperties: false },
    ),
    announcementsKept: Type.Integer({
      description: 'Announcements you wrote, kept with their author shown as a former user',
    }),
  },
  { additionalProperties: false, title: 'ErasureSummary' },
);

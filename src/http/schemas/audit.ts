import { Type } from 'typebox';
import { AUDIT_ACTIONS, AUDIT_OUTCOMES } from '../../domain/audit.js';
import { MAX_AUDIT_PAGE_SIZE } from '../../services/audit.js';
import { DateTime, Page, PageCursor, Text, Uuid } from './common.js';

export const DEFAULT_AUDIT_PAGE_SIZE = 50;

export const AuditRecord = Type.Object(
  {
    id: Type.String({ pattern: '^[0-9]+$', description: 'Increasing; a decimal string (64-bit)' }),
    at: DateTime,
    actorKind: Type.Enum(['anonymous', 'user', 'system']),
    actorUserId: Type.Union([Uuid, Type.Null()]),
    action: Type.String({ description: `One of: ${AUDIT_ACTIONS.join(', ')}` }),
    targetType: Type.Union([Type.String(), Type.Null()]),
    targetId: Type.Union([Type.String(), Type.Null()]),
    outcome: Type.Enum([...AUDIT_OUTCOMES]),
    requestId: Type.Union([Type.String(), Type.Null()]),
    details: Type.Unknown({ description: 'Depends on the action; never e-mail addresses, tokens or session ids' }),
  },
  { additionalProperties: false, title: 'AuditRecord', description: 'One record of the append-only audit log' },
);

export const AuditPage = Page(AuditRecord, 'Audit records, newest first');

export const AuditQuery = Type.Object(
  {
    action: Type.Optional(Type.Enum([...AUDIT_ACTIONS])),
    actorUserId: Type.Optional(Uuid),
    targetType: Type.Optional(Text.identifier({ minLength: 1, maxLength: 64 })),
    targetId: Type.Optional(Text.identifier({ minLength: 1, maxLength: 200 })),
    outcome: Type.Optional(Type.Enum([...AUDIT_OUTCOMES])),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Records at or after this time' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Records before this time' })),
    limit: Type.Integer({
      minimum: 1,
      maximum: MAX_AUDIT_PAGE_SIZE,
      default: DEFAULT_AUDIT_PAGE_SIZE,
      description: `Records per page (1–${MAX_AUDIT_PAGE_SIZE})`,
    }),
    cursor: Type.Optional(PageCursor),
  },
  { additionalProperties: false },
);

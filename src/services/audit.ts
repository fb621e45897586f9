/**
 * Writing the audit log. Records are append-only (a database trigger refuses UPDATE, DELETE and TRUNCATE). Never put
 * e-mail addresses, tokens or session ids in `details`.
 */
import type { Db } from '../db/prisma.js';
import type { AuditAction, AuditOutcome } from '../domain/audit.js';
import type { Actor } from '../domain/types.js';

export interface AuditEntry {
  actor: Actor | 'system';
  action: AuditAction;
  outcome: AuditOutcome;
  targetType?: string;
  targetId?: string;
  requestId?: string;
  details?: Record<string, unknown>;
}

type AuditWriter = Pick<Db, 'auditLog'>;

/** Writes one record. Pass a transaction client to make the record part of the change it describes. */
export async function recordAudit(db: AuditWriter, entry: AuditEntry): Promise<void> {
  const actor = entry.actor;
  await db.auditLog.create({
    data: {
      actorKind: actor === 'system' ? 'system' : actor.kind,
      actorUserId: actor !== 'system' && actor.kind === 'user' ? actor.userId : null,
      action: entry.action,
      outcome: entry.outcome,
      targetType: entry.targetType ?? null,
      targetId: entry.targetId ?? null,
      requestId: entry.requestId ?? null,
      details: entry.details ? (entry.details as object) : undefined,
    },
  });
}

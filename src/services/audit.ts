/**
 * The audit log: writing records (recordAudit) and reading them (listAuditLog, administrators). Records are
 * append-only (a database trigger refuses UPDATE, DELETE and TRUNCATE). Never put e-mail addresses, tokens or session
 * ids in `details`.
 */
import type { AuditRow } from '../db/announcement-writes.js';
import type { Db } from '../db/prisma.js';
import { canReadAuditLog } from '../domain/access.js';
import type { AuditAction, AuditOutcome, AuditTargetType } from '../domain/audit.js';
import { decodeAuditCursor, encodeAuditCursor } from '../domain/cursor.js';
import { AppError } from '../domain/errors.js';
import type { Actor } from '../domain/types.js';
import type { Prisma } from '../generated/prisma/client.js';

export interface AuditEntry {
  actor: Actor | 'system';
  action: AuditAction;
  outcome: AuditOutcome;
  targetType?: AuditTargetType;
  targetId?: string;
  requestId?: string;
  details?: Record<string, unknown>;
}

type AuditWriter = Pick<Db, 'auditLog'>;

/** Writes one record. Pass a transaction client to make the record part of the change it describes. */
export async function recordAudit(db: AuditWriter, entry: AuditEntry): Promise<void> {
  const { details, ...row } = auditRow(entry);
  await db.auditLog.create({ data: { ...row, details: details ?? undefined } });
}

/**
 * The AuditLog row of an entry, for a writer that puts it into a statement of its own (publishing writes it together
 * with the announcement: src/db/announcement-writes.ts).
 */
export function auditRow(entry: AuditEntry): AuditRow {
  const actor = entry.actor;
  return {
    actorKind: actor === 'system' ? 'system' : actor.kind,
    actorUserId: actor !== 'system' && actor.kind === 'user' ? actor.userId : null,
    action: entry.action,
    outcome: entry.outcome,
    targetType: entry.targetType ?? null,
    targetId: entry.targetId ?? null,
    requestId: entry.requestId ?? null,
    details: entry.details ? (entry.details as Prisma.InputJsonObject) : null,
  };
}

/** The most records one page of the audit log holds. */
export const MAX_AUDIT_PAGE_SIZE = 200;

export interface AuditQuery {
  action?: AuditAction;
  actorUserId?: string;
  targetType?: string;
  targetId?: string;
  outcome?: AuditOutcome;
  /** Records at or after this time. */
  from?: Date;
  /** Records before this time. */
  to?: Date;
  limit: number;
  cursor?: string;
}

/** One audit record as the admin API shows it (bigint id as a decimal string). */
export interface AuditRecordView {
  id: string;
  at: string;
  actorKind: 'anonymous' | 'user' | 'system';
  actorUserId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: AuditOutcome;
  requestId: string | null;
  details: unknown;
}

export function auditRecordView(row: {
  id: bigint;
  at: Date;
  actorKind: string;
  actorUserId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: string;
  requestId: string | null;
  details: unknown;
}): AuditRecordView {
  return {
    id: row.id.toString(),
    at: row.at.toISOString(),
    // Written only by recordAudit, from these same unions.
    actorKind: row.actorKind as AuditRecordView['actorKind'],
    actorUserId: row.actorUserId,
    action: row.action,
    targetType: row.targetType,
    targetId: row.targetId,
    outcome: row.outcome as AuditOutcome,
    requestId: row.requestId,
    details: row.details ?? null,
  };
}

/**
 * The audit log for administrators: filtered, newest first (time, then id), one keyset page at a time. Every filter
 * narrows; `from` is inclusive and `to` exclusive, so consecutive windows never share a record.
 */
export async function listAuditLog(
  deps: { db: Db },
  actor: Actor,
  query: AuditQuery,
): Promise<{ items: AuditRecordView[]; nextCursor: string | null }> {
  if (actor.kind !== 'user') throw new AppError('unauthenticated', 'The audit log needs a signed-in administrator');
  if (!canReadAuditLog(actor)) throw new AppError('forbidden', 'The audit log is for administrators (scope `admin`)');
  if (query.limit < 1 || query.limit > MAX_AUDIT_PAGE_SIZE) {
    throw new AppError('validation_failed', `limit must be between 1 and ${MAX_AUDIT_PAGE_SIZE}`, { field: 'limit' });
  }
  if (query.from && query.to && query.from.getTime() >= query.to.getTime()) {
    throw new AppError('validation_failed', '`from` must be earlier than `to`', { field: 'from' });
  }
  const after = query.cursor === undefined ? undefined : decodeAuditCursor(query.cursor);

  const at: { gte?: Date; lt?: Date; lte?: Date } = {};
  if (query.from) at.gte = query.from;
  if (query.to) at.lt = query.to;
  const rows = await deps.db.auditLog.findMany({
    where: {
      ...(query.action ? { action: query.action } : {}),
      ...(query.actorUserId ? { actorUserId: query.actorUserId } : {}),
      ...(query.targetType ? { targetType: query.targetType } : {}),
      ...(query.targetId ? { targetId: query.targetId } : {}),
      ...(query.outcome ? { outcome: query.outcome } : {}),
      AND: [
        { at },
        // Past the cursor: `at <= cursor.at` bounds the index range (so a deep page costs what the first does); the
        // OR then skips what the previous page already showed at that same instant.
        ...(after
          ? [{ at: { lte: after.at } }, { OR: [{ at: { lt: after.at } }, { at: after.at, id: { lt: after.id } }] }]
          : []),
      ],
    },
    orderBy: [{ at: 'desc' }, { id: 'desc' }],
    take: query.limit + 1,
  });
  const items = rows.slice(0, query.limit);
  const last = items.at(-1);
  return {
    items: items.map(auditRecordView),
    nextCursor: rows.length > query.limit && last ? encodeAuditCursor({ at: last.at, id: last.id }) : null,
  };
}

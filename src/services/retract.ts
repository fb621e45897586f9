/**
 * Retraction: a publisher of the channel (or an administrator) withdraws a published announcement. The status change
 * (`retracted`, with `retractedAt`), its outbox event `announcement.retracted` and the audit record are written in
 * ONE transaction, as publishing does (src/services/publish.ts): the outbox relay then tells live clients and adds a
 * `retraction` job, which e-mails a short notice (the title, never the withdrawn text) to those who were SENT the
 * announcement by e-mail (workers/processors/notices.ts). Lists, feeds and search show published announcements only,
 * so the announcement disappears from them; Atom keeps a tombstone dated `retractedAt`.
 *
 * The publisher may say why (`reason`); the audit record keeps it.
 *
 * Idempotent: retracting a retracted announcement answers as the first time and writes nothing. The status change is
 * a conditional update (`WHERE status = 'published'`), so of two concurrent retractions exactly one writes the event.
 */
import { loadAnnouncementRecord } from '../db/announcement-records.js';
import type { Db } from '../db/prisma.js';
import { AppError } from '../domain/errors.js';
import type { Actor, Language } from '../domain/types.js';
import { loadAnnouncementToManage } from './announcement-access.js';
import { recordAudit } from './audit.js';
import { OUTBOX_NOTIFY_CHANNEL, type OutboxPayload } from './publish.js';
import { type AnnouncementView, announcementView } from './views.js';

export const ANNOUNCEMENT_RETRACTED = 'announcement.retracted';

/**
 * Retracts one announcement; answers with it as it now is (status `retracted`).
 * @throws AppError not_found when it does not exist or the actor may not read its channel; forbidden when the actor
 *   may read but not publish there; conflict for a draft (never published, so nothing to retract).
 */
export async function retractAnnouncement(
  deps: { db: Db; publicUrl: string },
  actor: Actor,
  announcementId: string,
  /** The request to quote in the audit record. */
  requestId?: string,
  options: {
    language?: Language | null;
    /** Why, in the publisher's words: kept in the audit record (the notice to readers carries the title only). */
    reason?: string;
  } = {},
): Promise<AnnouncementView> {
  const language = options.language ?? null;
  const reason = options.reason?.trim() || null;
  const row = await loadAnnouncementToManage(deps.db, actor, announcementId, 'retract');
  const view = (record: typeof row) => announcementView(record, { publicUrl: deps.publicUrl, language });
  if (row.status === 'draft' || row.status === 'scheduled') {
    throw new AppError('conflict', 'It was never published, so it cannot be retracted');
  }
  if (row.status === 'retracted') return view(row);

  await deps.db.$transaction(async (tx) => {
    const { count } = await tx.announcement.updateMany({
      where: { id: row.id, status: 'published' },
      data: { status: 'retracted', retractedAt: new Date() },
    });
    // Another request retracted it first and wrote the event: nothing more to write.
    if (count === 0) return;
    const payload: OutboxPayload = { announcementId: row.id };
    await tx.outboxEvent.create({
      data: { type: ANNOUNCEMENT_RETRACTED, channelId: row.channelId, aggregateId: row.id, payload: { ...payload } },
    });
    await recordAudit(tx, {
      actor,
      action: 'announcement.retract',
      outcome: 'success',
      targetType: 'announcement',
      targetId: row.id,
      ...(requestId ? { requestId } : {}),
      details: { channel: row.channelSlug, ...(reason ? { reason } : {}) },
    });
    await tx.$executeRaw`SELECT pg_notify(${OUTBOX_NOTIFY_CHANNEL}, '')`;
  });
  const now = await loadAnnouncementRecord(deps.db, row.id);
  return view(now ?? row);
}

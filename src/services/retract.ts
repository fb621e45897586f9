/**
 * Retraction: a publisher of the channel (or an administrator) withdraws a published announcement. The status change
 * (`retracted`, with `retractedAt`), its outbox event `announcement.retracted` and the audit record are written in
 * ONE transaction, as publishing does (src/services/publish.ts): the outbox relay then tells live clients, and never
 * e-mails anybody (a correction is a new announcement). Lists, feeds and search show published announcements only,
 * so the announcement disappears from them; Atom keeps a tombstone dated `retractedAt`.
 *
 * Idempotent: retracting a retracted announcement answers as the first time and writes nothing. The status change is
 * a conditional update (`WHERE status = 'published'`), so of two concurrent retractions exactly one writes the event.
 */
import { announcementAccessInclude } from '../db/channels.js';
import type { Db } from '../db/prisma.js';
import { canPublish, canReadChannel } from '../domain/access.js';
import { AppError, notFound } from '../domain/errors.js';
import type { Actor, ChannelRoleKind } from '../domain/types.js';
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
): Promise<AnnouncementView> {
  const load = () => loadAnnouncementToManage(deps.db, actor, announcementId, 'retract');
  const row = await load();
  if (row.status === 'draft') throw new AppError('conflict', 'A draft was never published, so it cannot be retracted');
  if (row.status === 'retracted') return announcementView(row, row.channel.slug, deps.publicUrl);

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
      details: { channel: row.channel.slug },
    });
    await tx.$executeRaw`SELECT pg_notify(${OUTBOX_NOTIFY_CHANNEL}, '')`;
  });
  const now = await load();
  return announcementView(now, now.channel.slug, deps.publicUrl);
}

/**
 * One announcement with its channel and author, for a publisher of its channel (or an admin) to change.
 * @throws AppError not_found when it does not exist or the actor may not read its channel (identical answers);
 *   forbidden when the actor may read but not publish there.
 */
export async function loadAnnouncementToManage(db: Db, actor: Actor, announcementId: string, verb: string) {
  const row = await db.announcement.findUnique({
    where: { id: announcementId },
    include: announcementAccessInclude(actor),
  });
  if (!row) throw notFound('Announcement');
  const roles = (row.channel as { roles?: { role: ChannelRoleKind }[] }).roles ?? [];
  const facts = { visibility: row.channel.visibility, role: roles[0]?.role ?? null };
  // A channel the actor may not read answers exactly like an announcement that does not exist.
  if (!canReadChannel(actor, facts)) throw notFound('Announcement');
  if (!canPublish(actor, facts)) throw new AppError('forbidden', `You may not ${verb} announcements in this channel`);
  return row;
}

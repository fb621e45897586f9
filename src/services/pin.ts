/**
 * Pinning: a publisher of the channel (or an administrator) keeps an announcement on top of the channel's listing,
 * until a given time or until unpinned. Pinned means `pinnedAt` is set and `pinnedUntil` is null or later than now,
 * so an expired pin needs no job to end it.
 *
 * A channel holds at most {@link MAX_PINNED_PER_CHANNEL} pinned announcements: the listing's first page carries all
 * of them on top of its `limit` items (src/services/announcements.ts), so the number must stay small.
 */

import { loadAnnouncementRecord } from '../db/announcement-records.js';
import type { Db } from '../db/prisma.js';
import { AppError } from '../domain/errors.js';
import type { Actor, Language } from '../domain/types.js';
import { Prisma } from '../generated/prisma/client.js';
import { loadAnnouncementToManage } from './announcement-access.js';
import { recordAudit } from './audit.js';
import { type AnnouncementView, announcementView } from './views.js';

export const MAX_PINNED_PER_CHANNEL = 10;

/** SQL: the announcement (alias `a`) is pinned at `now`. */
export function pinnedAtSql(now: Date): Prisma.Sql {
  return Prisma.sql`(a."pinnedAt" IS NOT NULL AND (a."pinnedUntil" IS NULL OR a."pinnedUntil" > ${now}::timestamptz))`;
}

function isPinned(row: { pinnedAt: Date | null; pinnedUntil: Date | null }, now: Date): boolean {
  return row.pinnedAt !== null && (row.pinnedUntil === null || row.pinnedUntil > now);
}

/**
 * Pins a published announcement (again: a new `until` replaces the old one).
 * @throws AppError validation_failed for an `until` not in the future; conflict for an announcement that is not
 *   published, or when the channel already has {@link MAX_PINNED_PER_CHANNEL} pinned others.
 */
export async function pinAnnouncement(
  deps: { db: Db; publicUrl: string },
  actor: Actor,
  announcementId: string,
  input: { until?: string | null },
  requestId?: string,
  language: Language | null = null,
): Promise<AnnouncementView> {
  const row = await loadAnnouncementToManage(deps.db, actor, announcementId, 'pin');
  const now = new Date();
  const until = input.until == null ? null : new Date(input.until);
  if (until !== null && (Number.isNaN(until.getTime()) || until <= now)) {
    throw new AppError('validation_failed', 'until must be a time in the future', { field: 'until' });
  }
  if (row.status !== 'published') throw new AppError('conflict', 'Only a published announcement can be pinned');

  await deps.db.$transaction(async (tx) => {
    // Serialises pins in one channel, so two concurrent pins cannot both pass the limit.
    await tx.$executeRaw`SELECT 1 FROM "Channel" WHERE id = ${row.channelId}::uuid FOR UPDATE`;
    const counted = await tx.$queryRaw<{ others: number }[]>`
      SELECT count(*)::int AS others FROM "Announcement" a
       WHERE a."channelId" = ${row.channelId}::uuid AND a.id <> ${row.id}::uuid AND a.status = 'published'
         AND ${pinnedAtSql(now)}`;
    if ((counted[0]?.others ?? 0) >= MAX_PINNED_PER_CHANNEL) {
      throw new AppError('conflict', `A channel can have at most ${MAX_PINNED_PER_CHANNEL} pinned announcements`);
    }
    await tx.announcement.update({
      where: { id: row.id },
      // Re-pinning keeps its place among the pinned: pinnedAt stays when it is pinned already.
      data: { pinnedAt: isPinned(row, now) ? row.pinnedAt : now, pinnedUntil: until },
    });
    await recordAudit(tx, {
      actor,
      action: 'announcement.pin',
      outcome: 'success',
      targetType: 'announcement',
      targetId: row.id,
      ...(requestId ? { requestId } : {}),
      details: { channel: row.channelSlug, until: until?.toISOString() ?? null },
    });
  });
  const pinned = (await loadAnnouncementRecord(deps.db, row.id)) ?? row;
  return { ...announcementView(pinned, { publicUrl: deps.publicUrl, language }), pinned: true };
}

/** Unpins; unpinning an announcement that is not pinned changes nothing and answers the same. */
export async function unpinAnnouncement(
  deps: { db: Db; publicUrl: string },
  actor: Actor,
  announcementId: string,
  requestId?: string,
  language: Language | null = null,
): Promise<AnnouncementView> {
  const row = await loadAnnouncementToManage(deps.db, actor, announcementId, 'unpin');
  const view = (record: typeof row) => ({
    ...announcementView(record, { publicUrl: deps.publicUrl, language }),
    pinned: false,
  });
  if (row.pinnedAt === null) return view(row);
  await deps.db.$transaction(async (tx) => {
    await tx.announcement.update({ where: { id: row.id }, data: { pinnedAt: null, pinnedUntil: null } });
    await recordAudit(tx, {
      actor,
      action: 'announcement.unpin',
      outcome: 'success',
      targetType: 'announcement',
      targetId: row.id,
      ...(requestId ? { requestId } : {}),
      details: { channel: row.channelSlug },
    });
  });
  return view((await loadAnnouncementRecord(deps.db, row.id)) ?? row);
}

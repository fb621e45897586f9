/**
 * Loading one announcement for someone to read or to manage, with the access rules applied (src/domain/access.ts,
 * src/domain/announcement.ts). Whatever the actor may not see answers exactly like an id that does not exist.
 */
import { type AnnouncementRecord, loadAnnouncementRecord } from '../db/announcement-records.js';
import type { Db } from '../db/prisma.js';
import { type ChannelFacts, canPublish, canReadChannel } from '../domain/access.js';
import { canSeeAnnouncement } from '../domain/announcement.js';
import { AppError, notFound } from '../domain/errors.js';
import type { Actor, ChannelRoleKind } from '../domain/types.js';

type DbOrTx = Pick<Db, '$queryRaw' | 'channelRole'>;

/** The access facts of the record's channel for this actor. */
export async function channelFactsFor(db: DbOrTx, actor: Actor, record: AnnouncementRecord): Promise<ChannelFacts> {
  let role: ChannelRoleKind | null = null;
  if (actor.kind === 'user') {
    const found = await db.channelRole.findUnique({
      where: { channelId_userId: { channelId: record.channelId, userId: actor.userId } },
      select: { role: true },
    });
    role = found?.role ?? null;
  }
  return { visibility: record.channelVisibility, role };
}

/**
 * An announcement the actor may read (canSeeAnnouncement: published and in its audience, or any unretracted state
 * for the channel's editors).
 * @throws AppError not_found otherwise.
 */
export async function loadAnnouncementToRead(
  db: DbOrTx,
  actor: Actor,
  announcementId: string,
): Promise<{ record: AnnouncementRecord; channel: ChannelFacts }> {
  const record = await loadAnnouncementRecord(db, announcementId);
  if (!record) throw notFound('Announcement');
  const channel = await channelFactsFor(db, actor, record);
  if (!canSeeAnnouncement(actor, channel, record)) throw notFound('Announcement');
  return { record, channel };
}

/**
 * One announcement for a publisher of its channel (or an admin) to change.
 * @throws AppError not_found when it does not exist or the actor may not read its channel (identical answers);
 *   forbidden when the actor may read but not publish there.
 */
export async function loadAnnouncementToManage(
  db: DbOrTx,
  actor: Actor,
  announcementId: string,
  verb: string,
): Promise<AnnouncementRecord> {
  const record = await loadAnnouncementRecord(db, announcementId);
  if (!record) throw notFound('Announcement');
  const facts = await channelFactsFor(db, actor, record);
  // A channel the actor may not read answers exactly like an announcement that does not exist.
  if (!canReadChannel(actor, facts)) throw notFound('Announcement');
  if (!canPublish(actor, facts)) throw new AppError('forbidden', `You may not ${verb} announcements in this channel`);
  return record;
}

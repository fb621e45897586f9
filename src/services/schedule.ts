/**
 * Drafts and scheduled publishing.
 *
 * A draft is seen by the channel's editors only and tells nobody anything. Publishing it (POST
 * /announcements/{id}/publish) either publishes it now — the same `announcement.published` outbox event, audit record
 * and pg_notify as a direct publication (src/services/publish.ts) — or schedules it: status `scheduled` with
 * `publishAt`, and, in the same transaction, an `announcement.scheduled` outbox event. The relay turns that event into
 * a BullMQ delayed job (workers/outbox-relay.ts) that calls {@link publishScheduledAnnouncement} at publishAt.
 *
 * PostgreSQL is the ledger, Redis only the timer: publication is ONE conditional update
 * (`status = 'scheduled' AND "publishAt" <= now()`), so a job that fires twice, a job for an old publishAt, or a job
 * for an announcement taken back to draft finds nothing to do; and the sweeper (workers/processors/sweep.ts)
 * publishes every scheduled announcement whose time passed more than a few seconds ago, so a restart or a Redis that
 * lost its data delays a publication by at most one sweep interval, and never loses it.
 */

import { loadAnnouncementRecord } from '../db/announcement-records.js';
import { findChannelBySlug } from '../db/channels.js';
import type { Db } from '../db/prisma.js';
import { canPublish, canReadChannel } from '../domain/access.js';
import { validateAnnouncementShape } from '../domain/announcement.js';
import { decodeAnnouncementCursor, encodeAnnouncementCursor } from '../domain/cursor.js';
import { AppError, notFound } from '../domain/errors.js';
import type { Actor, Language } from '../domain/types.js';
import { loadAnnouncementToManage } from './announcement-access.js';
import { recordAudit } from './audit.js';
import type { Page, PageRequest } from './channels.js';
import { notifyOutbox, parseInstant, writePublishedEvent, writeScheduledEvent } from './publish.js';
import { type AnnouncementView, announcementView, announcementViewsOf } from './views.js';

type Deps = { db: Db; publicUrl: string };

/**
 * A channel's drafts and scheduled announcements, most recently created first (createdAt desc, id desc), one keyset
 * page at a time. For its editors with the right to publish: owners, publishers and administrators (a token needs
 * the `publish` scope).
 * @throws AppError not_found when the channel does not exist or the actor may not read it; forbidden otherwise.
 */
export async function listDrafts(
  deps: Deps,
  actor: Actor,
  channelSlug: string,
  page: PageRequest,
  language: Language | null = null,
): Promise<Page<AnnouncementView>> {
  // The feed's cursor shape (time, id) fits this order too; here the time is createdAt, which never changes.
  const after = page.cursor === undefined ? undefined : decodeAnnouncementCursor(page.cursor);
  const channel = await findChannelBySlug(deps.db, channelSlug, actor);
  if (!channel || !canReadChannel(actor, channel)) throw notFound('Channel');
  if (!canPublish(actor, channel)) throw new AppError('forbidden', "You may not see this channel's drafts");
  const rows = await deps.db.announcement.findMany({
    where: {
      channelId: channel.id,
      status: { in: ['draft', 'scheduled'] },
      ...(after
        ? {
            OR: [{ createdAt: { lt: after.publishedAt } }, { createdAt: after.publishedAt, id: { lt: after.id } }],
          }
        : {}),
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: page.limit + 1,
    select: { id: true, createdAt: true },
  });
  const items = rows.slice(0, page.limit);
  const last = items.at(-1);
  return {
    items: await announcementViewsOf(
      deps.db,
      items.map((row) => row.id),
      { publicUrl: deps.publicUrl, language },
    ),
    nextCursor:
      rows.length > page.limit && last ? encodeAnnouncementCursor({ publishedAt: last.createdAt, id: last.id }) : null,
  };
}

/**
 * Publishes a draft now, or schedules it (`publishAt` in the future); publishes a scheduled one now, or re-schedules
 * it. Anything else (published, retracted) answers 409.
 */
export async function publishExisting(
  deps: Deps,
  actor: Actor,
  announcementId: string,
  input: { publishAt?: string },
  requestId?: string,
): Promise<AnnouncementView> {
  const record = await loadAnnouncementToManage(deps.db, actor, announcementId, 'publish');
  if (record.status !== 'draft' && record.status !== 'scheduled') {
    throw new AppError('conflict', `It is ${record.status}; only a draft or a scheduled announcement can be published`);
  }
  const now = new Date();
  const publishAt = parseInstant(input.publishAt, 'publishAt');
  if (publishAt && publishAt.getTime() <= now.getTime()) {
    throw new AppError('validation_failed', 'publishAt must be in the future', { field: 'publishAt' });
  }
  // The content was checked when it was written; what depends on the publication time is checked again now (an
  // expiry that has passed meanwhile, say).
  validateAnnouncementShape(
    {
      type: record.type,
      affectedSystem: record.affectedSystem,
      startsAt: record.startsAt,
      endsAt: record.endsAt,
      resolvesId: record.resolvesId,
      expiresAt: record.expiresAt,
      publishAt,
      ackRequired: record.ackRequired,
      ackDeadline: record.ackDeadline,
      languages: record.versions.map((version) => version.language),
    },
    now,
  );

  await deps.db.$transaction(async (tx) => {
    if (record.resolvesId !== null) {
      // The incident may have been retracted since this follow-up was drafted: a "resolved" notice about a withdrawn
      // incident would go to everyone who got the incident. Locked, so a retraction cannot slip in before commit.
      const [incident] = await tx.$queryRaw<{ status: string }[]>`
        SELECT status::text AS status FROM "Announcement" WHERE id = ${record.resolvesId}::uuid FOR UPDATE`;
      if (incident?.status !== 'published') {
        throw new AppError('conflict', 'The incident this follow-up resolves is no longer published');
      }
    }
    // Conditional on the state we decided on, so of two concurrent requests one wins and the other answers 409.
    const { count } = await tx.announcement.updateMany({
      where: { id: record.id, status: record.status, revision: record.revision },
      data: publishAt ? { status: 'scheduled', publishAt } : { status: 'published', publishedAt: now, publishAt: null },
    });
    if (count === 0) throw new AppError('conflict', 'The announcement changed meanwhile; load it and try again');
    if (publishAt) await writeScheduledEvent(tx, record.id, record.channelId, publishAt);
    else await writePublishedEvent(tx, record.id, record.channelId);
    await recordAudit(tx, {
      actor,
      action: publishAt ? 'announcement.schedule' : 'announcement.publish',
      outcome: 'success',
      targetType: 'announcement',
      targetId: record.id,
      ...(requestId ? { requestId } : {}),
      details: {
        channel: record.channelSlug,
        importance: record.importance,
        from: record.status,
        ...(publishAt ? { publishAt: publishAt.toISOString() } : {}),
      },
    });
    await notifyOutbox(tx);
  });
  return viewOf(deps, record.id);
}

/**
 * Takes a scheduled announcement back to draft. Its delayed job stays in Redis and, when it fires, finds nothing
 * scheduled to publish.
 */
export async function unscheduleAnnouncement(
  deps: Deps,
  actor: Actor,
  announcementId: string,
  requestId?: string,
): Promise<AnnouncementView> {
  const record = await loadAnnouncementToManage(deps.db, actor, announcementId, 'unschedule');
  if (record.status !== 'scheduled') {
    throw new AppError('conflict', `It is ${record.status}; only a scheduled announcement can be unscheduled`);
  }
  await deps.db.$transaction(async (tx) => {
    const { count } = await tx.announcement.updateMany({
      where: { id: record.id, status: 'scheduled' },
      data: { status: 'draft', publishAt: null },
    });
    if (count === 0) throw new AppError('conflict', 'It was published or changed meanwhile; load it and try again');
    await recordAudit(tx, {
      actor,
      action: 'announcement.unschedule',
      outcome: 'success',
      targetType: 'announcement',
      targetId: record.id,
      ...(requestId ? { requestId } : {}),
      details: { channel: record.channelSlug, publishAt: record.publishAt?.toISOString() ?? null },
    });
  });
  return viewOf(deps, record.id);
}

/** What happened to a scheduled announcement whose timer fired. */
export type ScheduledOutcome =
  /** Published now, with its outbox event. */
  | { outcome: 'published' }
  /** Still scheduled, for a time PostgreSQL's clock has not reached yet. */
  | { outcome: 'not_due'; publishAt: Date }
  /** Published already, taken back to draft, retracted or deleted: nothing to do. */
  | { outcome: 'nothing_to_do' };

/**
 * Publishes a scheduled announcement whose time has come: in ONE transaction, the conditional status change (by
 * PostgreSQL's clock), the `announcement.published` outbox event, the audit record (actor: system) and pg_notify —
 * so the relay fans it out and shows it live exactly as if it had been published by hand. Safe to call any number of
 * times, from any number of processes.
 */
export async function publishScheduledAnnouncement(db: Db, announcementId: string): Promise<ScheduledOutcome> {
  return db.$transaction(async (tx) => {
    const published = await tx.$queryRaw<{ channelId: string; importance: string }[]>`
      UPDATE "Announcement"
         SET status = 'published', "publishedAt" = now(), "updatedAt" = now()
       WHERE id = ${announcementId}::uuid AND status = 'scheduled' AND "publishAt" <= now()
      RETURNING "channelId", importance::text AS importance`;
    const row = published[0];
    if (!row) {
      const current = await tx.announcement.findUnique({
        where: { id: announcementId },
        select: { status: true, publishAt: true },
      });
      if (current?.status === 'scheduled' && current.publishAt) {
        return { outcome: 'not_due', publishAt: current.publishAt };
      }
      return { outcome: 'nothing_to_do' };
    }
    await writePublishedEvent(tx, announcementId, row.channelId);
    await recordAudit(tx, {
      actor: 'system',
      action: 'announcement.publish',
      outcome: 'success',
      targetType: 'announcement',
      targetId: announcementId,
      details: { scheduled: true, importance: row.importance },
    });
    await notifyOutbox(tx);
    return { outcome: 'published' };
  });
}

/**
 * The sweeper's fallback: publishes every scheduled announcement whose publishAt is more than `graceMs` in the past
 * (its timer should have fired by then; the grace keeps the sweeper from racing every on-time job). Returns how many
 * it published, in rounds of `batchSize` until none is left. Each is its own transaction.
 */
export async function publishOverdueScheduled(db: Db, graceMs: number, batchSize = 500): Promise<number> {
  let published = 0;
  for (;;) {
    const due = await db.$queryRaw<{ id: string }[]>`
      SELECT id::text AS id FROM "Announcement"
       WHERE status = 'scheduled' AND "publishAt" < now() - make_interval(secs => ${graceMs / 1000}::float8)
       ORDER BY "publishAt", id
       LIMIT ${batchSize}::int`;
    for (const { id } of due) {
      const result = await publishScheduledAnnouncement(db, id);
      if (result.outcome === 'published') published += 1;
    }
    // Each round publishes (or sees published by someone else) every row it found, so the next finds new ones only.
    if (due.length < batchSize) return published;
  }
}

async function viewOf(deps: Deps, id: string): Promise<AnnouncementView> {
  const record = await loadAnnouncementRecord(deps.db, id);
  if (!record) throw notFound('Announcement');
  return announcementView(record, { publicUrl: deps.publicUrl, language: null });
}

/**
 * Publishing: the announcement and its outbox event are written in ONE transaction, so an announcement is never
 * published without its event and an event never exists for a rolled-back announcement. Nothing is sent to Redis
 * here: the outbox relay (workers/outbox-relay.ts) does that after commit, at least once. `pg_notify` wakes the
 * relay at commit time, so the usual latency is milliseconds, not the relay's poll interval. The audit record of the
 * publication is written in the same transaction.
 */
import { loadAnnouncementRecord } from '../db/announcement-records.js';
import { findChannelBySlug } from '../db/channels.js';
import type { Db } from '../db/prisma.js';
import { canPublish, canReadChannel } from '../domain/access.js';
import { AppError, notFound } from '../domain/errors.js';
import type { Actor, Importance } from '../domain/types.js';
import type { Prisma } from '../generated/prisma/client.js';
import { recordAudit } from './audit.js';
import { type AnnouncementView, announcementView } from './views.js';

export const OUTBOX_NOTIFY_CHANNEL = 'meldingskanal_outbox';
export const ANNOUNCEMENT_PUBLISHED = 'announcement.published';

export interface PublishInput {
  title: string;
  body: string;
  importance?: Importance;
}

export interface OutboxPayload {
  announcementId: string;
}

export async function publishAnnouncement(
  deps: { db: Db; publicUrl: string },
  actor: Actor,
  channelSlug: string,
  input: PublishInput,
  /** The request to quote in the audit record. */
  requestId?: string,
  /**
   * Runs inside the publishing transaction, after the announcement and its event are written: what it writes commits
   * or rolls back with them, and what it throws rolls them back (src/services/idempotency.ts stores its key here).
   */
  alsoInTransaction?: (tx: Prisma.TransactionClient, published: AnnouncementView) => Promise<void>,
): Promise<AnnouncementView> {
  const title = input.title.trim();
  const body = input.body.trim();
  if (!title) throw new AppError('validation_failed', 'title must not be blank', { field: 'title' });
  if (!body) throw new AppError('validation_failed', 'body must not be blank', { field: 'body' });

  const channel = await findChannelBySlug(deps.db, channelSlug, actor);
  // A channel the actor may not read answers exactly like one that does not exist.
  if (!channel || !canReadChannel(actor, channel)) throw notFound('Channel');
  if (!canPublish(actor, channel)) throw new AppError('forbidden', 'You may not publish in this channel');

  return deps.db.$transaction(async (tx) => {
    const created = await tx.announcement.create({
      data: {
        channelId: channel.id,
        authorId: actor.kind === 'user' ? actor.userId : null,
        title,
        body,
        importance: input.importance ?? 'info',
        status: 'published',
        publishedAt: new Date(),
      },
      include: { author: { select: { displayName: true } } },
    });
    const payload: OutboxPayload = { announcementId: created.id };
    await tx.outboxEvent.create({
      data: { type: ANNOUNCEMENT_PUBLISHED, channelId: channel.id, aggregateId: created.id, payload: { ...payload } },
    });
    // In the same transaction: the record exists exactly when the announcement does.
    await recordAudit(tx, {
      actor,
      action: 'announcement.publish',
      outcome: 'success',
      targetType: 'announcement',
      targetId: created.id,
      ...(requestId ? { requestId } : {}),
      details: { channel: channel.slug, importance: created.importance },
    });
    const record = await loadAnnouncementRecord(tx, created.id);
    if (!record) throw new Error('The announcement just written is not readable in its own transaction');
    const view = announcementView(record, { publicUrl: deps.publicUrl, language: null });
    if (alsoInTransaction) await alsoInTransaction(tx, view);
    // $executeRaw, not $queryRaw: pg_notify returns void, a column type Prisma cannot deserialise.
    await tx.$executeRaw`SELECT pg_notify(${OUTBOX_NOTIFY_CHANNEL}, '')`;
    return view;
  });
}

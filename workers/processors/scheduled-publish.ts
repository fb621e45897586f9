/**
 * The timer of a scheduled announcement went off (a delayed job the outbox relay added for an
 * `announcement.scheduled` event): publish it if it is still scheduled and due, by PostgreSQL's clock, in one
 * transaction with its `announcement.published` outbox event (src/services/schedule.ts publishScheduledAnnouncement).
 *
 * A job for an announcement that is already published, was taken back to draft, retracted, deleted or re-scheduled
 * to a later time does nothing: the re-scheduling added its own job. Only a job that fired a moment before
 * PostgreSQL's clock reached publishAt (clocks of Redis, the worker and the database differ a little) is retried,
 * with the queue's back-off; the sweeper publishes anything later still.
 */
import type { Db } from '../../src/db/prisma.js';
import type { Logger } from '../../src/logger.js';
import type { ScheduledPublishJob } from '../../src/queue/jobs.js';
import { publishScheduledAnnouncement, type ScheduledOutcome } from '../../src/services/schedule.js';

export interface ScheduledPublishDeps {
  db: Db;
  logger: Logger;
}

/** A timer that fired at most this long before publishAt is early (clock skew), not stale. */
export const EARLY_FIRE_TOLERANCE_MS = 60_000;

export class ScheduledTooEarlyError extends Error {
  constructor(
    readonly announcementId: string,
    readonly publishAt: Date,
  ) {
    super(`Scheduled announcement ${announcementId} is not due until ${publishAt.toISOString()}`);
    this.name = 'ScheduledTooEarlyError';
  }
}

export async function processScheduledPublish(
  data: ScheduledPublishJob,
  deps: ScheduledPublishDeps,
  now: () => number = Date.now,
): Promise<ScheduledOutcome['outcome']> {
  const result = await publishScheduledAnnouncement(deps.db, data.announcementId);
  if (result.outcome === 'published') {
    deps.logger.info({ announcementId: data.announcementId }, 'scheduled announcement published');
  }
  if (result.outcome === 'not_due' && result.publishAt.getTime() - now() <= EARLY_FIRE_TOLERANCE_MS) {
    // Retried by BullMQ with back-off; a later publishAt (re-scheduled) has its own job and is left to it.
    throw new ScheduledTooEarlyError(data.announcementId, result.publishAt);
  }
  return result.outcome;
}

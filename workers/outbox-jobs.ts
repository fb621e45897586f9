/**
 * Which job on the fan-out queue an outbox event needs, and marking the event processed when that job is done. The
 * relay adds these jobs; the sweeper adds them again for events relayed long ago and never processed (their job was
 * lost with Redis data), so PostgreSQL — not Redis — remembers that a publication still has to be fanned out.
 *
 * - `announcement.published` → `fanout` (workers/processors/fanout.ts)
 * - `announcement.updated` with `material: true` → `correction` for that revision (workers/processors/notices.ts)
 * - `announcement.retracted` → `retraction` (workers/processors/notices.ts)
 * - anything else (a scheduled publication's timer, a minor edit) needs none: the relay marks it processed at once.
 */
import type { Db } from '../src/db/prisma.js';
import { type FanoutJob, jobId } from '../src/queue/jobs.js';
import { ANNOUNCEMENT_UPDATED } from '../src/realtime/protocol.js';
import { ANNOUNCEMENT_PUBLISHED } from '../src/services/publish.js';
import { ANNOUNCEMENT_RETRACTED } from '../src/services/retract.js';

export interface OutboxEventLike {
  type: string;
  aggregateId: string;
  payload: unknown;
}

export interface FanoutQueueJob {
  name: 'fanout' | 'correction' | 'retraction';
  data: FanoutJob;
  /** The job id the relay uses; a re-add by the sweeper appends its own suffix (see withSweepSuffix). */
  jobId: string;
}

/** The fan-out-queue job this event needs, or null when it needs none. */
export function fanoutQueueJobFor(event: OutboxEventLike): FanoutQueueJob | null {
  const announcementId = event.aggregateId;
  if (event.type === ANNOUNCEMENT_PUBLISHED) {
    return { name: 'fanout', data: { announcementId }, jobId: jobId.fanout(announcementId) };
  }
  if (event.type === ANNOUNCEMENT_RETRACTED) {
    return { name: 'retraction', data: { announcementId }, jobId: jobId.retraction(announcementId) };
  }
  if (event.type === ANNOUNCEMENT_UPDATED) {
    const payload = event.payload as { material?: unknown; revision?: unknown } | null;
    const revision = payload?.revision;
    if (payload?.material !== true || typeof revision !== 'number') return null;
    return {
      name: 'correction',
      data: { announcementId, revision },
      jobId: jobId.correction(announcementId, revision),
    };
  }
  return null;
}

/**
 * A sweeper's re-add needs another id: BullMQ ignores an add under the id of a job it still keeps (completed or
 * failed), and that may be the very job whose work was lost.
 */
export function withSweepSuffix(job: FanoutQueueJob, sweptAtMs: number): FanoutQueueJob {
  return { ...job, jobId: `${job.jobId}-s${sweptAtMs}` };
}

/**
 * Marks the events a finished fan-out-queue job handled: the publication of `announcementId`, its retraction, or the
 * material edit to `revision`. Called when the processor is done (or found nothing to do: a later state of the
 * announcement made the job moot), never before.
 */
export async function markOutboxProcessed(
  db: Pick<Db, '$executeRaw'>,
  job: { name: FanoutQueueJob['name']; announcementId: string; revision?: number },
): Promise<void> {
  const type =
    job.name === 'fanout'
      ? ANNOUNCEMENT_PUBLISHED
      : job.name === 'retraction'
        ? ANNOUNCEMENT_RETRACTED
        : ANNOUNCEMENT_UPDATED;
  const revision = job.name === 'correction' ? String(job.revision) : null;
  await db.$executeRaw`
    UPDATE "OutboxEvent" SET "processedAt" = now()
     WHERE "aggregateId" = ${job.announcementId}::uuid AND type = ${type} AND "processedAt" IS NULL
       AND (${revision}::text IS NULL OR payload->>'revision' = ${revision}::text)`;
}

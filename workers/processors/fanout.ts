/**
 * Fans one published announcement out to its channel's subscribers: one Delivery row per recipient and medium, then
 * e-mail jobs carrying only delivery ids.
 *
 * Pages through the subscriptions by id (keyset; OFFSET gets slower with depth), bounded by the subscriptions that
 * existed when the announcement was published, so a retry computes the same audience. Each page is ONE statement:
 * select the page, insert its deliveries (ON CONFLICT DO NOTHING against the ledger's unique key) and return the ids
 * that are due — the new ones plus any still-pending ones a previous run created. Jobs for a page are enqueued before
 * the next page is read, so e-mail workers start at once.
 *
 * Safe to run twice: a re-run inserts nothing new and re-enqueues still-pending deliveries; duplicate jobs are
 * harmless because sends are claimed (workers/processors/email.ts).
 */
import type { Queue } from 'bullmq';
import type { Db } from '../../src/db/prisma.js';
import { AppError } from '../../src/domain/errors.js';
import type { Logger } from '../../src/logger.js';
import { chunk, type EmailJob, type FanoutJob, jobId } from '../../src/queue/jobs.js';

export interface FanoutProcessorDeps {
  db: Db;
  emailQueue: Pick<Queue<EmailJob>, 'addBulk'>;
  /** FANOUT_PAGE_SIZE: subscriptions per page. */
  pageSize: number;
  /** EMAIL_BATCH_SIZE: delivery ids per e-mail job. */
  emailBatchSize: number;
  logger: Logger;
}

export interface FanoutResult {
  status: 'done' | 'not_published';
  subscriptionsRead: number;
  deliveriesCreated: number;
  /** Delivery ids put into e-mail jobs (new and still-pending ones). */
  deliveriesEnqueued: number;
  jobs: number;
}

/** BullMQ's addBulk holds workers back while it runs; keep each call small. */
const MAX_JOBS_PER_ADD = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseFanoutJob(data: unknown): string {
  const id = (data as Partial<FanoutJob> | null)?.announcementId;
  if (typeof id !== 'string' || !UUID.test(id)) {
    throw new AppError('validation_failed', 'A fan-out job carries the announcement id (a UUID)');
  }
  return id.toLowerCase();
}

interface PageResult {
  lastSubscriptionId: string | null;
  pageRows: number;
  inserted: number;
  dueIds: string[];
}

export async function processFanout(data: FanoutJob, deps: FanoutProcessorDeps): Promise<FanoutResult> {
  const announcementId = parseFanoutJob(data);
  const result: FanoutResult = {
    status: 'done',
    subscriptionsRead: 0,
    deliveriesCreated: 0,
    deliveriesEnqueued: 0,
    jobs: 0,
  };

  const announcement = await deps.db.announcement.findUnique({
    where: { id: announcementId },
    select: { channelId: true, status: true, publishedAt: true, importance: true },
  });
  // Deleted, retracted or still a draft: nothing to deliver.
  if (announcement?.status !== 'published' || !announcement.publishedAt) {
    return { ...result, status: 'not_published' };
  }
  // Critical announcements are never held back for a digest: daily and weekly subscribers get them at once too.
  const critical = announcement.importance === 'critical';

  let cursor = '0';
  for (;;) {
    // The recipient key mirrors src/domain/recipient.ts. User subscriptions need the account's address (checked
    // again just before sending); unconfirmed bare addresses get nothing.
    const [page] = await deps.db.$queryRaw<PageResult[]>`
      WITH page AS (
        SELECT s.id, s."userId", s.email, s."emailMode", s."confirmedAt"
          FROM "Subscription" s
         WHERE s."channelId" = ${announcement.channelId}::uuid
           AND s.id > ${cursor}::bigint
           AND s."createdAt" <= ${announcement.publishedAt}::timestamptz
         ORDER BY s.id
         LIMIT ${deps.pageSize}::int
      ), audience AS (
        SELECT p.id AS "subscriptionId",
               CASE WHEN p."userId" IS NOT NULL THEN 'user:' || p."userId"::text ELSE 'email:' || p.email END AS recipient
          FROM page p
          LEFT JOIN "User" u ON u.id = p."userId"
         WHERE p."confirmedAt" IS NOT NULL
           AND (p."emailMode" = 'immediate' OR (${critical}::boolean AND p."emailMode" IN ('daily', 'weekly')))
           AND (p."userId" IS NULL OR u.email IS NOT NULL)
      ), inserted AS (
        INSERT INTO "Delivery" ("announcementId", "subscriptionId", recipient, medium, status, "nextAttemptAt", "updatedAt")
        SELECT ${announcementId}::uuid, a."subscriptionId", a.recipient, 'email', 'pending', now(), now()
          FROM audience a
         ORDER BY a."subscriptionId"
        ON CONFLICT ("announcementId", recipient, medium) DO NOTHING
        RETURNING id
      )
      SELECT (SELECT max(id) FROM page)::text AS "lastSubscriptionId",
             (SELECT count(*) FROM page)::int AS "pageRows",
             (SELECT count(*) FROM inserted)::int AS inserted,
             -- All parts of one statement see the same snapshot: the second half finds only rows an earlier run made.
             ARRAY(
               SELECT id FROM inserted
               UNION
               SELECT d.id
                 FROM "Delivery" d
                 JOIN audience a ON a.recipient = d.recipient
                WHERE d."announcementId" = ${announcementId}::uuid AND d.medium = 'email'
                  AND d.status = 'pending' AND d."nextAttemptAt" <= now()
               ORDER BY 1
             )::text[] AS "dueIds"`;
    if (!page || page.pageRows === 0 || page.lastSubscriptionId === null) break;

    result.subscriptionsRead += page.pageRows;
    result.deliveriesCreated += page.inserted;
    result.deliveriesEnqueued += page.dueIds.length;
    result.jobs += await enqueueEmailJobs(deps, page.dueIds);

    if (page.pageRows < deps.pageSize) break;
    cursor = page.lastSubscriptionId;
  }

  deps.logger.info({ announcementId, ...result }, 'fan-out done');
  return result;
}

/**
 * Puts delivery ids into e-mail jobs of EMAIL_BATCH_SIZE ids, named by their first id, added in chunks of at most
 * 1,000 jobs. Returns the number of jobs.
 */
export async function enqueueEmailJobs(
  deps: Pick<FanoutProcessorDeps, 'emailQueue' | 'emailBatchSize'>,
  deliveryIds: string[],
  name: (firstId: string) => string = (firstId) => jobId.email(firstId),
): Promise<number> {
  const jobs = chunk(deliveryIds, deps.emailBatchSize).map((ids) => ({
    name: 'email',
    data: { deliveryIds: ids },
    opts: { jobId: name(ids[0]!) },
  }));
  for (const part of chunk(jobs, MAX_JOBS_PER_ADD)) await deps.emailQueue.addBulk(part);
  return jobs.length;
}

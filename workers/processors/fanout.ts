/**
 * Fans one published announcement out to its recipients: one Delivery row (kind `announcement`, revision 0) per
 * recipient and medium, then e-mail jobs carrying only delivery ids.
 *
 * Recipients are the channel's subscribers who are in the announcement's audience (src/db/recipient-scope-sql.ts: a
 * user subscriber must be able to read the channel and belong to an organisation of a limited audience, unless they
 * edit the channel; a bare address has no organisation and only gets announcements for everyone). An incident's
 * "resolved" follow-up (resolvesId) ALSO goes to everyone who was sent the incident by e-mail, subscribed or not any
 * more — they got the incident, so they must learn it is resolved — still only within the follow-up's audience.
 *
 * Pages through the subscriptions by id (keyset; OFFSET gets slower with depth), bounded by the subscriptions that
 * existed when the announcement was published, so a retry computes the same audience; a follow-up then pages through
 * the incident's sent deliveries the same way. Each page is ONE statement: select the page, insert its deliveries
 * (ON CONFLICT DO NOTHING against the ledger's unique key) and return the ids that are due — the new ones plus any
 * still-pending ones a previous run created. Jobs for a page are enqueued before the next page is read, so e-mail
 * workers start at once.
 *
 * Safe to run twice: a re-run inserts nothing new and re-enqueues still-pending deliveries; duplicate jobs are
 * harmless because sends are claimed (workers/processors/email.ts).
 */
import type { Queue } from 'bullmq';
import type { Db } from '../../src/db/prisma.js';
import {
  bareAddressInAudienceSql,
  bareAddressReadsChannelSql,
  recipientAddressSql,
  recipientUserIdSql,
  userInAudienceSql,
  userReadsChannelSql,
} from '../../src/db/recipient-scope-sql.js';
import { AppError } from '../../src/domain/errors.js';
import { Prisma } from '../../src/generated/prisma/client.js';
import type { Logger } from '../../src/logger.js';
import { chunk, type EmailJob, type FanoutJob, jobId, type PushJob, type WebhookJob } from '../../src/queue/jobs.js';
import { enqueueWebhookDeliveries, insertWebhookDeliveries } from '../../src/webhooks/deliveries.js';
import { markOutboxProcessed } from '../outbox-jobs.js';
import { fanOutPush, type PushFanoutResult } from './push.js';

export interface FanoutProcessorDeps {
  db: Db;
  emailQueue: Pick<Queue<EmailJob>, 'addBulk'>;
  /** Web push deliveries (workers/processors/push.ts); absent: no push fan-out (tests of the e-mail part). */
  pushQueue?: Pick<Queue<PushJob>, 'addBulk'>;
  /** Webhook deliveries (src/webhooks/deliveries.ts); absent: no webhook fan-out. */
  webhookQueue?: Pick<Queue<WebhookJob>, 'addBulk'>;
  /** FANOUT_PAGE_SIZE: subscriptions per page. */
  pageSize: number;
  /** EMAIL_BATCH_SIZE: delivery ids per e-mail job. */
  emailBatchSize: number;
  logger: Logger;
}

export interface FanoutResult {
  status: 'done' | 'not_published';
  subscriptionsRead: number;
  /** On an incident's follow-up: the incident's sent e-mail deliveries read (their recipients must learn of it). */
  originalDeliveriesRead: number;
  deliveriesCreated: number;
  /** Delivery ids put into e-mail jobs (new and still-pending ones). */
  deliveriesEnqueued: number;
  jobs: number;
  /** The web push part (fanOutPush), when a push queue is wired. */
  push?: PushFanoutResult;
  /** Webhook deliveries due now (new and still pending), when a webhook queue is wired. */
  webhookDeliveriesEnqueued?: number;
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
    originalDeliveriesRead: 0,
    deliveriesCreated: 0,
    deliveriesEnqueued: 0,
    jobs: 0,
  };

  const announcement = await deps.db.announcement.findUnique({
    where: { id: announcementId },
    select: { channelId: true, status: true, publishedAt: true, importance: true, resolvesId: true },
  });
  // Deleted, retracted or still a draft: nothing to deliver, now or later.
  if (announcement?.status !== 'published' || !announcement.publishedAt) {
    await markOutboxProcessed(deps.db, { name: 'fanout', announcementId });
    return { ...result, status: 'not_published' };
  }
  // Critical announcements are never held back for a digest: daily and weekly subscribers get them at once too.
  const critical = announcement.importance === 'critical';

  // Who may receive it, for the recipient in scope as `u` (its account, NULL for a bare address) in a statement that
  // has the announcement as `a` and its channel as `c`.
  const eligible = Prisma.sql`(CASE WHEN u.id IS NULL THEN ${bareAddressReadsChannelSql('c')} AND ${bareAddressInAudienceSql('a')}
      ELSE u.email IS NOT NULL AND ${userReadsChannelSql('u', 'c')} AND ${userInAudienceSql('u', 'a', 'c')} END)`;

  let cursor = '0';
  // The first page is one e-mail job's worth and each next one twice the last, up to FANOUT_PAGE_SIZE: the first
  // e-mails go out after a small insert instead of a full page's, and later pages are full-sized (bench/email-fanout.ts:
  // first e-mail at 100,000 subscribers). Each page is still one statement, so a retry sees the same pages' rows.
  let limit = Math.min(deps.pageSize, deps.emailBatchSize);
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
         LIMIT ${limit}::int
      ), audience AS (
        SELECT p.id AS "subscriptionId",
               CASE WHEN p."userId" IS NOT NULL THEN 'user:' || p."userId"::text ELSE 'email:' || p.email END AS recipient
          FROM page p
          JOIN "Announcement" a ON a.id = ${announcementId}::uuid
          JOIN "Channel" c ON c.id = a."channelId"
          LEFT JOIN "User" u ON u.id = p."userId"
         WHERE p."confirmedAt" IS NOT NULL
           AND (p."emailMode" = 'immediate' OR (${critical}::boolean AND p."emailMode" IN ('daily', 'weekly')))
           AND (p."userId" IS NULL OR u.id IS NOT NULL)
           AND ${eligible}
      ), ${insertAndCollect(announcementId)}
      SELECT (SELECT max(id) FROM page)::text AS "lastSubscriptionId",
             (SELECT count(*) FROM page)::int AS "pageRows",
             ${pageTotals(announcementId)}`;
    if (!page || page.pageRows === 0 || page.lastSubscriptionId === null) break;

    result.subscriptionsRead += page.pageRows;
    result.deliveriesCreated += page.inserted;
    result.deliveriesEnqueued += page.dueIds.length;
    result.jobs += await enqueueEmailJobs(deps, page.dueIds);

    if (page.pageRows < limit) break;
    cursor = page.lastSubscriptionId;
    limit = Math.min(deps.pageSize, limit * 2);
  }

  if (announcement.resolvesId)
    await fanOutToOriginalRecipients(announcementId, announcement.resolvesId, eligible, deps, result);

  // The other media, after e-mail. Each part is idempotent on its own (the ledger's unique key), so a retry of this
  // job after a failure in one of them repeats nothing that was already done.
  if (deps.pushQueue) {
    result.push = await fanOutPush({ db: deps.db, pushQueue: deps.pushQueue, pageSize: deps.pageSize }, announcementId);
  }
  if (deps.webhookQueue) {
    const dueIds = await insertWebhookDeliveries(deps.db, announcementId, announcement.channelId);
    await enqueueWebhookDeliveries(deps.webhookQueue, dueIds);
    result.webhookDeliveriesEnqueued = dueIds.length;
  }

  // Only now: a fan-out that died part-way leaves its event unprocessed, and the sweeper re-adds the job.
  await markOutboxProcessed(deps.db, { name: 'fanout', announcementId });
  deps.logger.info({ announcementId, ...result }, 'fan-out done');
  return result;
}

/**
 * The INSERT of an `audience` CTE (subscriptionId, recipient) into the ledger, as CTE `inserted`. The conflict target
 * is the ledger's unique key: announcement × recipient × medium × kind × revision.
 */
function insertAndCollect(announcementId: string): Prisma.Sql {
  return Prisma.sql`inserted AS (
        INSERT INTO "Delivery" ("announcementId", "subscriptionId", recipient, medium, kind, revision, status,
                                "nextAttemptAt", "updatedAt")
        SELECT ${announcementId}::uuid, au."subscriptionId", au.recipient, 'email', 'announcement', 0, 'pending', now(), now()
          FROM audience au
         ORDER BY au."subscriptionId", au.recipient
        ON CONFLICT ("announcementId", recipient, medium, kind, revision) DO NOTHING
        RETURNING id
      )`;
}

/** The counts and due ids of a page, after `insertAndCollect`. */
function pageTotals(announcementId: string): Prisma.Sql {
  return Prisma.sql`(SELECT count(*) FROM inserted)::int AS inserted,
             -- All parts of one statement see the same snapshot: the second half finds only rows an earlier run made.
             ARRAY(
               SELECT id FROM inserted
               UNION
               SELECT d.id
                 FROM "Delivery" d
                 JOIN audience au ON au.recipient = d.recipient
                WHERE d."announcementId" = ${announcementId}::uuid AND d.medium = 'email'
                  AND d.kind = 'announcement' AND d.revision = 0
                  AND d.status = 'pending' AND d."nextAttemptAt" <= now()
               ORDER BY 1
             )::text[] AS "dueIds"`;
}

interface OriginalPageResult {
  lastDeliveryId: string | null;
  pageRows: number;
  inserted: number;
  dueIds: string[];
}

/**
 * An incident's follow-up reaches everyone the incident was SENT to by e-mail, whatever their subscription says now
 * (the e-mail processor does not apply subscription modes to them either). The delivery is linked to the recipient's
 * current subscription of the channel when there is one (for its language and unsubscribe link).
 */
async function fanOutToOriginalRecipients(
  announcementId: string,
  incidentId: string,
  eligible: Prisma.Sql,
  deps: FanoutProcessorDeps,
  result: FanoutResult,
): Promise<void> {
  let cursor = '0';
  for (;;) {
    const [page] = await deps.db.$queryRaw<OriginalPageResult[]>`
      WITH page AS (
        SELECT o.id, o.recipient
          FROM "Delivery" o
         WHERE o."announcementId" = ${incidentId}::uuid AND o.medium = 'email' AND o.kind = 'announcement'
           AND o.status = 'sent' AND o.id > ${cursor}::bigint
         ORDER BY o.id
         LIMIT ${deps.pageSize}::int
      ), audience AS (
        SELECT DISTINCT ON (p.recipient) s.id AS "subscriptionId", p.recipient
          FROM page p
          JOIN "Announcement" a ON a.id = ${announcementId}::uuid
          JOIN "Channel" c ON c.id = a."channelId"
          LEFT JOIN "User" u ON u.id = ${recipientUserIdSql(Prisma.sql`p.recipient`)}
          LEFT JOIN "Subscription" s ON s."channelId" = c.id
               AND (s."userId" = u.id OR (s."userId" IS NULL AND s.email = ${recipientAddressSql(Prisma.sql`p.recipient`)}))
         WHERE (p.recipient NOT LIKE 'user:%' OR u.id IS NOT NULL)
           AND ${eligible}
         ORDER BY p.recipient, s.id
      ), ${insertAndCollect(announcementId)}
      SELECT (SELECT max(id) FROM page)::text AS "lastDeliveryId",
             (SELECT count(*) FROM page)::int AS "pageRows",
             ${pageTotals(announcementId)}`;
    if (!page || page.pageRows === 0 || page.lastDeliveryId === null) break;

    result.originalDeliveriesRead += page.pageRows;
    result.deliveriesCreated += page.inserted;
    result.deliveriesEnqueued += page.dueIds.length;
    result.jobs += await enqueueEmailJobs(deps, page.dueIds);

    if (page.pageRows < deps.pageSize) break;
    cursor = page.lastDeliveryId;
  }
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

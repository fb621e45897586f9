/**
 * Corrections and retraction notices: the ledger rows that tell those who RECEIVED an announcement by e-mail that it
 * changed materially or was withdrawn. Jobs on the fan-out queue, added by the outbox relay:
 *
 * - `announcement.updated` with `material: true` → job `correction` {announcementId, revision}, id
 *   `correction-<id>-r<revision>`: one Delivery of kind `correction` with that revision per recipient;
 * - `announcement.retracted` → job `retraction` {announcementId}, id `retraction-<id>`: one Delivery of kind
 *   `retraction` (revision 0) per recipient.
 *
 * The recipients are exactly those with a `sent` e-mail delivery of kind `announcement` for it (the fan-out's rows;
 * an incident follow-up's recipients included) or a `sent` digest that carried it. Someone whose announcement mail is still pending gets no correction:
 * the announcement mail is composed when it is sent, so it already reads as corrected (and after a retraction it is
 * skipped, `announcement_not_published`). The delivery is linked to the recipient's CURRENT subscription of the channel
 * (for List-Unsubscribe and the language); whether it is still wanted is decided at send time by the e-mail processor
 * (workers/processors/email.ts: still subscribed, not `off`, may still see it, not suppressed, and for a correction
 * still published, not expired and not superseded by a later material revision).
 *
 * One INSERT … SELECT … ON CONFLICT DO NOTHING against the ledger's unique key (announcement × recipient × medium ×
 * kind × revision), so a job that runs twice, or two workers, make each row once; the rows still pending are then
 * put on the e-mail queue (a re-run re-enqueues them; sends are claims, duplicates of a job cost nothing). If the
 * enqueue fails the rows are ordinary pending rows that the sweeper re-queues.
 *
 * Corrections also go by **web push** to those with a `sent` push delivery of the announcement (kind `correction`,
 * medium `push`; workers/processors/push.ts shows the title with `Rettet:` / `Retta:` / `Corrected:` and re-checks as
 * for the announcement, plus `superseded`). Retraction notices do not go by push: a push notification cannot take
 * the original back, and live clients get the `announcement.retracted` frame.
 *
 * Both go by **webhook** as the events `announcement.updated` and `announcement.retracted` (kinds `correction` and
 * `retraction`, medium `webhook`), to the webhooks that take them and were sent the announcement (or, not taking
 * publications, would have been: src/webhooks/deliveries.ts insertWebhookNotices), so a Slack or Teams channel shows
 * the correction or the withdrawal of what it showed. workers/processors/webhook.ts sends them, re-checking as for
 * announcements.
 */
import type { Queue } from 'bullmq';
import type { Db } from '../../src/db/prisma.js';
import { recipientAddressSql, recipientUserIdSql } from '../../src/db/recipient-scope-sql.js';
import { AppError } from '../../src/domain/errors.js';
import { Prisma } from '../../src/generated/prisma/client.js';
import type { Logger } from '../../src/logger.js';
import type { EmailJob, FanoutJob, PushJob, WebhookJob } from '../../src/queue/jobs.js';
import { enqueueWebhookDeliveries, insertWebhookNotices } from '../../src/webhooks/deliveries.js';
import { markOutboxProcessed } from '../outbox-jobs.js';
import { enqueueEmailJobs } from './fanout.js';
import { enqueuePushJobs } from './push.js';

/** Job names on the fan-out queue (the ordinary fan-out is `fanout`). */
export const NOTICE_JOB = { correction: 'correction', retraction: 'retraction' } as const;
export type NoticeKind = keyof typeof NOTICE_JOB;

export interface NoticeProcessorDeps {
  db: Db;
  emailQueue: Pick<Queue<EmailJob>, 'addBulk'>;
  pushQueue: Pick<Queue<PushJob>, 'addBulk'>;
  webhookQueue: Pick<Queue<WebhookJob>, 'addBulk'>;
  /** EMAIL_BATCH_SIZE. */
  emailBatchSize: number;
  logger: Logger;
}

export interface NoticeResult {
  /** `not_due`: a correction of a revision that is not material (or does not exist), an announcement no longer
   * published (correction) or not retracted (retraction): nothing made. */
  status: 'done' | 'not_due';
  deliveriesCreated: number;
  deliveriesEnqueued: number;
  jobs: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseNoticeJob(kind: NoticeKind, data: unknown): { announcementId: string; revision: number } {
  const job = data as Partial<FanoutJob> | null;
  if (typeof job?.announcementId !== 'string' || !UUID.test(job.announcementId)) {
    throw new AppError('validation_failed', 'A notice job carries the announcement id (a UUID)');
  }
  if (kind === 'retraction') return { announcementId: job.announcementId.toLowerCase(), revision: 0 };
  const revision = job.revision;
  if (typeof revision !== 'number' || !Number.isInteger(revision) || revision < 2) {
    throw new AppError('validation_failed', 'A correction job carries the revision it announces (2 or more)');
  }
  return { announcementId: job.announcementId.toLowerCase(), revision };
}

export async function processNotice(
  kind: NoticeKind,
  data: FanoutJob,
  deps: NoticeProcessorDeps,
): Promise<NoticeResult> {
  const { announcementId, revision } = parseNoticeJob(kind, data);
  const result: NoticeResult = { status: 'done', deliveriesCreated: 0, deliveriesEnqueued: 0, jobs: 0 };
  const { db } = deps;

  const [due] = await db.$queryRaw<{ due: boolean }[]>`
    SELECT CASE WHEN ${kind} = 'retraction' THEN a.status = 'retracted'
                ELSE a.status = 'published' AND EXISTS (
                       SELECT 1 FROM "AnnouncementRevision" r
                        WHERE r."announcementId" = a.id AND r.revision = ${revision}::int AND r.material) END AS due
      FROM "Announcement" a WHERE a.id = ${announcementId}::uuid`;
  if (!due?.due) {
    // Moot (edited again and retracted, say): nothing to send, now or later.
    await markOutboxProcessed(db, { name: kind, announcementId, revision });
    return { ...result, status: 'not_due' };
  }

  // Corrections by e-mail, push and webhook; retraction notices by e-mail and webhook.
  const media = kind === 'correction' ? (['email', 'push', 'webhook'] as const) : (['email', 'webhook'] as const);
  for (const medium of media) {
    const made =
      medium === 'webhook'
        ? await insertWebhookNotices(db, { announcementId, kind, revision })
        : await makeNotices(db, { announcementId, kind, revision, medium });
    result.deliveriesCreated += made.created;
    result.deliveriesEnqueued += made.pendingIds.length;
    if (made.pendingIds.length === 0) continue;
    result.jobs +=
      medium === 'email'
        ? await enqueueEmailJobs(deps, made.pendingIds)
        : medium === 'push'
          ? await enqueuePushJobs(deps.pushQueue, made.pendingIds)
          : await enqueueWebhookDeliveries(deps.webhookQueue, made.pendingIds);
  }
  await markOutboxProcessed(db, { name: kind, announcementId, revision });
  deps.logger.info({ announcementId, kind, revision, ...result }, 'notices made');
  return result;
}

/**
 * Inserts the notices of one medium for everyone SENT the announcement by that medium, and returns how many were made
 * and the ids of that kind, revision and medium still pending (new ones and those of an earlier run).
 */
async function makeNotices(
  db: Db,
  notice: { announcementId: string; kind: NoticeKind; revision: number; medium: 'email' | 'push' },
): Promise<{ created: number; pendingIds: string[] }> {
  const { announcementId, kind, revision, medium } = notice;
  const userId = recipientUserIdSql(Prisma.sql`o.recipient`);
  const address = recipientAddressSql(Prisma.sql`o.recipient`);
  // Received: a `sent` delivery of the announcement itself by this medium, or — for e-mail — a `sent` digest that
  // carried it (a digest subscriber got it too, in the digest).
  const inserted = await db.$queryRaw<{ id: string }[]>`
    WITH received AS (
      SELECT d.recipient FROM "Delivery" d
       WHERE d."announcementId" = ${announcementId}::uuid AND d.medium = ${medium}::"DeliveryMedium"
         AND d.kind = 'announcement' AND d.status = 'sent'
      UNION
      SELECT g.recipient FROM "Digest" g
       WHERE ${medium} = 'email' AND g.status = 'sent' AND ${announcementId}::uuid = ANY(g."announcementIds")
    )
    INSERT INTO "Delivery" ("announcementId", "subscriptionId", recipient, medium, kind, revision, status,
                            "nextAttemptAt", "updatedAt")
    SELECT DISTINCT ON (o.recipient) a.id, s.id, o.recipient, ${medium}::"DeliveryMedium", ${kind}::"DeliveryKind",
           ${revision}::int, 'pending', now(), now()
      FROM received o
      JOIN "Announcement" a ON a.id = ${announcementId}::uuid
      LEFT JOIN "Subscription" s ON s."channelId" = a."channelId"
            AND (CASE WHEN o.recipient LIKE 'user:%' THEN s."userId" = ${userId}
                      ELSE s."userId" IS NULL AND s.email = ${address} END)
     ORDER BY o.recipient, s.id
    ON CONFLICT ("announcementId", recipient, medium, kind, revision) DO NOTHING
    RETURNING id::text AS id`;
  const pending = await db.$queryRaw<{ id: string }[]>`
    SELECT id::text AS id FROM "Delivery"
     WHERE "announcementId" = ${announcementId}::uuid AND medium = ${medium}::"DeliveryMedium"
       AND kind = ${kind}::"DeliveryKind" AND revision = ${revision}::int AND status = 'pending'
     ORDER BY id`;
  return { created: inserted.length, pendingIds: pending.map((row) => row.id) };
}

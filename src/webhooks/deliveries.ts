/**
 * Webhook deliveries in the ledger: one Delivery row per announcement × webhook (medium `webhook`, recipient
 * `webhook:<webhook id>`, no subscription) and event: kind `announcement` (revision 0) made by the fan-out for the
 * webhooks that take `announcement.published`; kind `correction` (the material revision) and `retraction` (revision 0)
 * made by workers/processors/notices.ts (src/webhooks/events.ts says who gets those). And the jobs that carry their
 * ids to workers/processors/webhook.ts.
 *
 * Webhooks get only announcements for everyone (an empty audience). A webhook's receiver is a system (a chat room, a
 * dashboard), not a person in an organisation, so nothing tells whether what arrives there stays within a limited
 * audience; an announcement meant for one organisation therefore never goes out by webhook. The processor checks this
 * again before sending, since an edit can narrow the audience after the fan-out.
 *
 * Like the e-mail fan-out, the set is bounded by what existed at publication (webhooks created before publishedAt),
 * so a re-run computes the same set; ON CONFLICT on the ledger's unique key makes it idempotent, and the due ids
 * returned include still-pending rows of an earlier run so they are re-enqueued.
 */
import type { Queue } from 'bullmq';
import type { Db } from '../db/prisma.js';
import { chunk, jobId, type WebhookJob } from '../queue/jobs.js';
import { EVENT_OF_KIND } from './events.js';

const PUBLISHED_EVENT = EVENT_OF_KIND.announcement;

export const WEBHOOK_RECIPIENT_PREFIX = 'webhook:';

export function webhookRecipient(webhookId: string): string {
  return `${WEBHOOK_RECIPIENT_PREFIX}${webhookId}`;
}

/** Deliveries per webhook job (a channel has few webhooks; one job usually holds all of an announcement's). */
export const WEBHOOK_BATCH_SIZE = 20;

/**
 * Inserts the webhook deliveries of a published announcement of `channelId` and returns the ids that are due now (new
 * and still-pending ones), as decimal strings in id order. Pass a transaction client to make it part of a larger
 * change. Nothing for an announcement that is not published, or whose audience is limited.
 */
export async function insertWebhookDeliveries(
  tx: Pick<Db, '$queryRaw'>,
  announcementId: string,
  channelId: string,
): Promise<string[]> {
  const [row] = await tx.$queryRaw<{ dueIds: string[] }[]>`
    WITH hooks AS (
      SELECT w.id
        FROM "Webhook" w
        JOIN "Announcement" a ON a.id = ${announcementId}::uuid
       WHERE w."channelId" = ${channelId}::uuid AND a."channelId" = w."channelId"
         AND w.enabled AND ${PUBLISHED_EVENT} = ANY(w.events)
         AND a.status = 'published' AND a."publishedAt" IS NOT NULL
         AND w."createdAt" <= a."publishedAt"
         AND cardinality(a."audienceOrganisationIds") = 0
    ), inserted AS (
      INSERT INTO "Delivery" ("announcementId", "subscriptionId", recipient, medium, kind, revision, status,
                              "nextAttemptAt", "updatedAt")
      SELECT ${announcementId}::uuid, NULL, ${WEBHOOK_RECIPIENT_PREFIX} || h.id::text, 'webhook', 'announcement', 0,
             'pending', now(), now()
        FROM hooks h
       ORDER BY h.id
      ON CONFLICT ("announcementId", recipient, medium, kind, revision) DO NOTHING
      RETURNING id
    )
    SELECT ARRAY(
             SELECT id FROM inserted
             UNION
             SELECT d.id
               FROM "Delivery" d
               JOIN hooks h ON d.recipient = ${WEBHOOK_RECIPIENT_PREFIX} || h.id::text
              WHERE d."announcementId" = ${announcementId}::uuid AND d.medium = 'webhook'
                AND d.kind = 'announcement' AND d.revision = 0
                AND d.status = 'pending' AND d."nextAttemptAt" <= now()
             ORDER BY 1
           )::text[] AS "dueIds"`;
  return row?.dueIds ?? [];
}

/**
 * Inserts the webhook notices of an edit (kind `correction`, the material `revision`) or a retraction (`retraction`,
 * revision 0) of `announcementId`, and returns how many were made and the ids of that kind and revision still pending
 * (new ones and those of an earlier run, for a re-run to re-enqueue). Idempotent on the ledger's key.
 *
 * For every enabled webhook of the channel that existed at publication and takes the event: if it also takes
 * publications, only when its publication was `sent` (what was never shown needs no correction; a pending one is
 * composed at send time and already reads as corrected); if it does not, only for an announcement for everyone.
 */
export async function insertWebhookNotices(
  tx: Pick<Db, '$queryRaw'>,
  notice: { announcementId: string; kind: 'correction' | 'retraction'; revision: number },
): Promise<{ created: number; pendingIds: string[] }> {
  const { announcementId, kind, revision } = notice;
  const event = EVENT_OF_KIND[kind];
  const [row] = await tx.$queryRaw<{ created: number; pendingIds: string[] }[]>`
    WITH hooks AS (
      SELECT w.id
        FROM "Webhook" w
        JOIN "Announcement" a ON a.id = ${announcementId}::uuid AND a."channelId" = w."channelId"
       WHERE w.enabled AND ${event} = ANY(w.events)
         AND a."publishedAt" IS NOT NULL AND w."createdAt" <= a."publishedAt"
         AND CASE WHEN ${PUBLISHED_EVENT} = ANY(w.events)
                  THEN EXISTS (SELECT 1 FROM "Delivery" d
                                WHERE d."announcementId" = a.id AND d.recipient = ${WEBHOOK_RECIPIENT_PREFIX} || w.id::text
                                  AND d.medium = 'webhook' AND d.kind = 'announcement' AND d.status = 'sent')
                  ELSE cardinality(a."audienceOrganisationIds") = 0 END
    ), inserted AS (
      INSERT INTO "Delivery" ("announcementId", "subscriptionId", recipient, medium, kind, revision, status,
                              "nextAttemptAt", "updatedAt")
      SELECT ${announcementId}::uuid, NULL, ${WEBHOOK_RECIPIENT_PREFIX} || h.id::text, 'webhook', ${kind}::"DeliveryKind",
             ${revision}::int, 'pending', now(), now()
        FROM hooks h
       ORDER BY h.id
      ON CONFLICT ("announcementId", recipient, medium, kind, revision) DO NOTHING
      RETURNING id
    )
    SELECT (SELECT count(*) FROM inserted)::int AS created,
           ARRAY(
             SELECT id FROM inserted
             UNION
             SELECT d.id FROM "Delivery" d
              WHERE d."announcementId" = ${announcementId}::uuid AND d.medium = 'webhook'
                AND d.kind = ${kind}::"DeliveryKind" AND d.revision = ${revision}::int AND d.status = 'pending'
             ORDER BY 1
           )::text[] AS "pendingIds"`;
  return { created: row?.created ?? 0, pendingIds: row?.pendingIds ?? [] };
}

/** Puts delivery ids into webhook jobs named by their first id (`name` overrides, e.g. for a sweeper's re-queue). */
export async function enqueueWebhookDeliveries(
  queue: Pick<Queue<WebhookJob>, 'addBulk'>,
  deliveryIds: readonly string[],
  name: (firstId: string) => string = (firstId) => jobId.webhook(firstId),
): Promise<number> {
  const jobs = chunk([...deliveryIds], WEBHOOK_BATCH_SIZE).map((ids) => ({
    name: 'webhook',
    data: { deliveryIds: ids },
    opts: { jobId: name(ids[0]!) },
  }));
  for (const part of chunk(jobs, 1000)) await queue.addBulk(part);
  return jobs.length;
}

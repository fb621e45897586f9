/**
 * Reminders to acknowledge, near the deadline. Run by its own BullMQ job scheduler on the maintenance queue (every
 * SWEEP_INTERVAL_MS, one run per cluster per interval; workers/main.ts).
 *
 * An announcement is due when it is published, asks for acknowledgement, its deadline lies within the next
 * ACK_REMINDER_BEFORE_HOURS (and not in the past: a reminder after the deadline helps nobody) and it has had no
 * reminders yet (`ackRemindersAt` is null). For each due announcement ONE transaction marks it reminded and inserts
 * one Delivery of kind `ack_reminder` (revision 0) for every person it was SENT to by e-mail (kind `announcement`,
 * status `sent`: they know of it; someone whose mail is still pending gets the announcement itself soon enough) who has
 * not acknowledged it and may still see it (src/db/recipient-scope-sql.ts). The rows are then put on the e-mail queue;
 * should that fail (Redis down, a crash), they are pending rows like any other and the sweeper re-queues them. The
 * e-mail processor checks again at send time that the person has not acknowledged meanwhile.
 *
 * The claim is the row lock: `FOR UPDATE SKIP LOCKED` plus `ackRemindersAt IS NULL`, so two runs never remind twice,
 * and the ledger's unique key (ON CONFLICT DO NOTHING) would stop a second copy anyway.
 */
import type { Queue } from 'bullmq';
import type { Db } from '../../src/db/prisma.js';
import { recipientUserIdSql, userInAudienceSql, userReadsChannelSql } from '../../src/db/recipient-scope-sql.js';
import { Prisma } from '../../src/generated/prisma/client.js';
import type { Logger } from '../../src/logger.js';
import type { EmailJob } from '../../src/queue/jobs.js';
import { enqueueEmailJobs } from './fanout.js';

export interface AckReminderProcessorDeps {
  db: Db;
  emailQueue: Pick<Queue<EmailJob>, 'addBulk'>;
  /** EMAIL_BATCH_SIZE. */
  emailBatchSize: number;
  /** ACK_REMINDER_BEFORE_HOURS. */
  beforeHours: number;
  logger: Logger;
}

export interface AckReminderResult {
  /** Announcements whose reminders were made in this run. */
  announcements: number;
  /** Reminder deliveries created. */
  reminders: number;
  jobs: number;
}

/** Announcements per run; more wait for the next run (they are at most SWEEP_INTERVAL_MS late). */
const MAX_ANNOUNCEMENTS_PER_RUN = 100;

export async function processAckReminders(deps: AckReminderProcessorDeps): Promise<AckReminderResult> {
  const result: AckReminderResult = { announcements: 0, reminders: 0, jobs: 0 };
  for (let i = 0; i < MAX_ANNOUNCEMENTS_PER_RUN; i++) {
    const made = await remindOne(deps);
    if (made === null) break;
    result.announcements += 1;
    result.reminders += made.deliveryIds.length;
    if (made.deliveryIds.length > 0) result.jobs += await enqueueEmailJobs(deps, made.deliveryIds);
    deps.logger.info(
      { announcementId: made.announcementId, reminders: made.deliveryIds.length },
      'acknowledgement reminders made',
    );
  }
  return result;
}

/** Claims one due announcement and makes its reminders, in one transaction. Null when none is due. */
async function remindOne(
  deps: AckReminderProcessorDeps,
): Promise<{ announcementId: string; deliveryIds: string[] } | null> {
  return deps.db.$transaction(async (tx) => {
    const [due] = await tx.$queryRaw<{ id: string }[]>`
      SELECT id::text AS id FROM "Announcement"
       WHERE status = 'published' AND "ackRequired" AND "ackRemindersAt" IS NULL
         AND "ackDeadline" > now()
         AND "ackDeadline" <= now() + make_interval(hours => ${deps.beforeHours}::int)
       ORDER BY "ackDeadline", id
       LIMIT 1
         FOR UPDATE SKIP LOCKED`;
    if (!due) return null;
    await tx.$executeRaw`UPDATE "Announcement" SET "ackRemindersAt" = now() WHERE id = ${due.id}::uuid`;
    const inserted = await tx.$queryRaw<{ id: string }[]>`
      INSERT INTO "Delivery" ("announcementId", "subscriptionId", recipient, medium, kind, revision, status,
                              "nextAttemptAt", "updatedAt")
      SELECT DISTINCT ON (o.recipient) a.id, s.id, o.recipient, 'email', 'ack_reminder', 0, 'pending', now(), now()
        FROM "Delivery" o
        JOIN "Announcement" a ON a.id = o."announcementId"
        JOIN "Channel" c ON c.id = a."channelId"
        JOIN "User" u ON u.id = ${recipientUserIdSql(Prisma.sql`o.recipient`)}
        LEFT JOIN "Subscription" s ON s."channelId" = c.id AND s."userId" = u.id
       WHERE o."announcementId" = ${due.id}::uuid AND o.kind = 'announcement' AND o.medium = 'email'
         AND o.status = 'sent' AND o.recipient LIKE 'user:%'
         AND u.email IS NOT NULL
         AND ${userReadsChannelSql('u', 'c')} AND ${userInAudienceSql('u', 'a', 'c')}
         AND NOT EXISTS (SELECT 1 FROM "AnnouncementAcknowledgement" ack
                          WHERE ack."announcementId" = a.id AND ack."userId" = u.id)
       ORDER BY o.recipient
      ON CONFLICT ("announcementId", recipient, medium, kind, revision) DO NOTHING
      RETURNING id::text AS id`;
    const deliveryIds = inserted
      .map((row) => row.id)
      .sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : BigInt(x) > BigInt(y) ? 1 : 0));
    return { announcementId: due.id, deliveryIds };
  });
}

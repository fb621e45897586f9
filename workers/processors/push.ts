/**
 * Web push deliveries: the fan-out's part for push (one Delivery per subscriber who turned push on for the channel,
 * medium `push`, recipient `user:<id>`), the sender (per delivery: claim → re-check → send to each of the person's
 * browsers → settle), and the sweeper's part (lost push deliveries, stale browser subscriptions).
 *
 * Same ledger rules as e-mail (workers/README.md): a delivery is sent only by the worker whose claim (pending →
 * sending) succeeded; just before sending everything that could have changed is read again; each delivery is settled
 * on its own. One delivery covers all of a person's browsers:
 * - accepted by at least one browser's push service → `sent` (the person has been told);
 * - 404/410 from a push service → that browser's PushSubscription is deleted (the browser unsubscribed or the
 *   subscription expired; RFC 8030 §7.3); if no browser is left → `skipped` `no_push_subscription`;
 * - 429, 5xx or a network failure and nobody accepted → back to `pending` with back-off and jitter (and at least the
 *   push service's Retry-After), `failed` after PUSH_MAX_ATTEMPTS;
 * - any other answer (400, 403 — wrong VAPID key —, 413) and nobody accepted → `failed` at once.
 * A retry goes to every browser again, but only when none had accepted it, so nobody gets it twice that way.
 *
 * A browser's endpoint is sent to only while its host is one of PUSH_SERVICE_HOSTS: the registration checked it, but
 * the setting may have been narrowed since (a push service dropped, an address found to be internal). The others are
 * left out, and kept (the setting may be widened again; the sweeper ages them out); with none left the delivery is
 * `skipped` `push_host_not_allowed`.
 */
import type { Queue } from 'bullmq';
import { type AnnouncementRecord, loadAnnouncementRecords } from '../../src/db/announcement-records.js';
import type { Db } from '../../src/db/prisma.js';
import { recipientUserIdSql, userInAudienceSql, userReadsChannelSql } from '../../src/db/recipient-scope-sql.js';
import type { Importance, Language } from '../../src/domain/types.js';
import { Prisma } from '../../src/generated/prisma/client.js';
import type { Logger } from '../../src/logger.js';
import { NOTICE_STRINGS } from '../../src/mail/notices.js';
import { isAllowedPushHost } from '../../src/push/keys.js';
import { pushPayloadOf } from '../../src/push/payload.js';
import { type PushSender, type PushSendOutcome, topicOf, ttlOf, urgencyOf } from '../../src/push/sender.js';
import { chunk, jobId, type PushJob } from '../../src/queue/jobs.js';
import { retryDelayMs } from './email.js';
import { addRetryJobs, claimDeliveries, parseDeliveryIds, sweepLedger } from './ledger.js';

/** Deliveries per push job (each may go to several browsers). */
export const PUSH_BATCH_SIZE = 50;
const MAX_JOBS_PER_ADD = 1000;
/** A push service asking us to wait longer than this is treated as down for the normal back-off instead. */
const MAX_RETRY_AFTER_MS = 3_600_000;

export const PUSH_SKIP_REASON = {
  unsupportedKind: 'unsupported_kind',
  announcementNotPublished: 'announcement_not_published',
  announcementExpired: 'announcement_expired',
  subscriptionRemoved: 'subscription_removed',
  /** The subscriber turned web push off for the channel. */
  pushOff: 'push_off',
  noAccess: 'no_access',
  audience: 'audience',
  /** This server has no VAPID keys (any more): nothing can be sent. */
  pushDisabled: 'push_disabled',
  /** The person has no browser registered (or every one was gone at its push service). */
  noPushSubscription: 'no_push_subscription',
  /** A correction when one of a later material revision exists for the person (it shows the same, newer text). */
  superseded: 'superseded',
  /** Every browser of the person is at a push service no longer in PUSH_SERVICE_HOSTS. */
  pushHostNotAllowed: 'push_host_not_allowed',
} as const;

export interface PushProcessorDeps {
  db: Db;
  /** Null when web push is off (no VAPID keys): deliveries are skipped `push_disabled`. */
  sender: PushSender | null;
  pushQueue: Pick<Queue<PushJob>, 'add'>;
  publicUrl: string;
  /** PUSH_SERVICE_HOSTS, as configured now: endpoints elsewhere are not sent to. */
  serviceHosts: readonly string[];
  /** PUSH_MAX_ATTEMPTS. */
  maxAttempts: number;
  logger: Logger;
}

export interface PushJobResult {
  sent: number;
  skipped: number;
  failed: number;
  retrying: number;
  notClaimed: number;
  /** Browser subscriptions deleted because their push service answered 404 or 410. */
  subscriptionsRemoved: number;
}

interface ClaimedPush {
  id: bigint;
  attempts: number;
  kind: string;
  announcementId: string;
  /** A correction (workers/processors/notices.ts): one of a later material revision exists for the same person. */
  superseded?: boolean;
  userId: string | null;
  subscriptionId: bigint | null;
  subscriptionPush: boolean | null;
  subscriptionLanguage: Language | null;
  userLanguage: Language | null;
  importance: Importance;
  announcementStatus: string;
  expiresAt: Date | null;
  expired: boolean;
  readsChannel: boolean;
  inAudience: boolean;
}

interface Device {
  id: string;
  userId: string;
  endpoint: string;
  p256dh: string;
  auth: string;
}

type Outcome =
  | { kind: 'sent'; removed: number }
  | { kind: 'skipped'; removed: number }
  | { kind: 'failed'; removed: number }
  | { kind: 'retrying'; removed: number; attempt: number; id: bigint };

export function parsePushJob(data: unknown): bigint[] {
  return parseDeliveryIds(data, 'A push job');
}

/** Why this delivery must not be sent now, or undefined when it may be (browsers are looked at afterwards). */
export function pushSkipReason(row: ClaimedPush, pushEnabled: boolean): string | undefined {
  // Corrections of a material edit go to those who were sent the announcement by push (workers/processors/notices.ts).
  if (row.kind !== 'announcement' && row.kind !== 'correction') return PUSH_SKIP_REASON.unsupportedKind;
  if (row.announcementStatus !== 'published') return PUSH_SKIP_REASON.announcementNotPublished;
  if (row.expired) return PUSH_SKIP_REASON.announcementExpired;
  if (row.kind === 'correction' && row.superseded) return PUSH_SKIP_REASON.superseded;
  if (row.userId === null || row.subscriptionId === null || row.subscriptionPush === null) {
    return PUSH_SKIP_REASON.subscriptionRemoved;
  }
  // Critical announcements go to every push subscriber too; push off means off (it is a choice per channel, and
  // e-mail still carries critical announcements whatever its mode).
  if (!row.subscriptionPush) return PUSH_SKIP_REASON.pushOff;
  if (!row.readsChannel) return PUSH_SKIP_REASON.noAccess;
  if (!row.inAudience) return PUSH_SKIP_REASON.audience;
  if (!pushEnabled) return PUSH_SKIP_REASON.pushDisabled;
  return undefined;
}

export async function processPushJob(data: PushJob, deps: PushProcessorDeps): Promise<PushJobResult> {
  const ids = parsePushJob(data);
  const { db } = deps;
  const claimed = await claimDeliveries(db, ids, 'push');
  const result: PushJobResult = {
    sent: 0,
    skipped: 0,
    failed: 0,
    retrying: 0,
    notClaimed: ids.length - claimed.length,
    subscriptionsRemoved: 0,
  };
  if (claimed.length === 0) return result;

  // The re-check, read now. The person is found by the recipient key; the subscription may be gone.
  const rows = await db.$queryRaw<ClaimedPush[]>`
    SELECT d.id, d.attempts, d.kind::text AS kind, d."announcementId"::text AS "announcementId",
           (d.kind = 'correction' AND EXISTS (
              SELECT 1 FROM "Delivery" later
               WHERE later."announcementId" = d."announcementId" AND later.recipient = d.recipient
                 AND later.medium = d.medium AND later.kind = 'correction' AND later.revision > d.revision))
             AS superseded,
           u.id::text AS "userId", s.id AS "subscriptionId", s.push AS "subscriptionPush",
           s.language AS "subscriptionLanguage", u.language AS "userLanguage",
           a.importance, a.status::text AS "announcementStatus", a."expiresAt",
           (a."expiresAt" IS NOT NULL AND a."expiresAt" <= now()) AS expired,
           (u.id IS NOT NULL AND ${userReadsChannelSql('u', 'c')}) AS "readsChannel",
           (u.id IS NOT NULL AND ${userInAudienceSql('u', 'a', 'c')}) AS "inAudience"
      FROM "Delivery" d
      JOIN "Announcement" a ON a.id = d."announcementId"
      JOIN "Channel" c ON c.id = a."channelId"
      LEFT JOIN "User" u ON u.id = ${recipientUserIdSql(Prisma.sql`d.recipient`)}
      LEFT JOIN "Subscription" s ON s.id = d."subscriptionId" AND s."userId" = u.id
     WHERE d.id = ANY(${claimed.map((row) => String(row.id))}::bigint[])
     ORDER BY d.id`;
  const records = new Map(
    (await loadAnnouncementRecords(db, [...new Set(rows.map((row) => row.announcementId))])).map((r) => [r.id, r]),
  );
  const userIds = [...new Set(rows.map((row) => row.userId).filter((id): id is string => id !== null))];
  // Browsers whose push service set an expiry that has passed are not sent to (the sweeper deletes them).
  const devices =
    userIds.length === 0
      ? []
      : await db.$queryRaw<Device[]>`
          SELECT id::text AS id, "userId"::text AS "userId", endpoint, p256dh, auth
            FROM "PushSubscription"
           WHERE "userId" = ANY(${userIds}::uuid[]) AND ("expiresAt" IS NULL OR "expiresAt" > now())
           ORDER BY "lastSeenAt" DESC, id`;
  const devicesByUser = new Map<string, Device[]>();
  for (const device of devices) devicesByUser.set(device.userId, [...(devicesByUser.get(device.userId) ?? []), device]);

  const settled = await Promise.allSettled(
    rows.map((row) =>
      deliverOne(row, records.get(row.announcementId), row.userId ? (devicesByUser.get(row.userId) ?? []) : [], deps),
    ),
  );

  const retries = new Map<number, bigint[]>();
  let infrastructureError: unknown;
  for (const outcome of settled) {
    if (outcome.status === 'rejected') {
      infrastructureError ??= outcome.reason;
      continue;
    }
    const value = outcome.value;
    result[value.kind] += 1;
    result.subscriptionsRemoved += value.removed;
    if (value.kind === 'retrying') retries.set(value.attempt, [...(retries.get(value.attempt) ?? []), value.id]);
  }

  await addRetryJobs(db, retries, (deliveryIds, attempt, delay) =>
    deps.pushQueue.add('push', { deliveryIds }, { jobId: jobId.push(deliveryIds[0]!, attempt), delay }),
  );

  if (infrastructureError) throw infrastructureError;
  deps.logger.debug({ ...result, batch: ids.length }, 'push batch done');
  return result;
}

async function skip(db: Db, id: bigint, reason: string, lastError: string | null = null): Promise<void> {
  await db.$executeRaw`
    UPDATE "Delivery" SET status = 'skipped', "skipReason" = ${reason}, "lastError" = ${lastError}, "updatedAt" = now()
     WHERE id = ${id} AND status = 'sending'`;
}

/** Claim is held: re-check, send to each browser, settle. Rejects only when the ledger cannot be written. */
async function deliverOne(
  row: ClaimedPush,
  record: AnnouncementRecord | undefined,
  devices: Device[],
  deps: PushProcessorDeps,
): Promise<Outcome> {
  const { db, logger } = deps;
  const reason = record ? pushSkipReason(row, deps.sender !== null) : PUSH_SKIP_REASON.announcementNotPublished;
  if (reason) {
    await skip(db, row.id, reason);
    return { kind: 'skipped', removed: 0 };
  }
  if (devices.length === 0) {
    await skip(db, row.id, PUSH_SKIP_REASON.noPushSubscription);
    return { kind: 'skipped', removed: 0 };
  }
  const allowed = devices.filter((device) => isAllowedPushHost(device.endpoint, deps.serviceHosts));
  if (allowed.length < devices.length) {
    logger.warn(
      { deliveryId: String(row.id), refused: devices.length - allowed.length },
      'push endpoints at hosts no longer in PUSH_SERVICE_HOSTS left out',
    );
  }
  if (allowed.length === 0) {
    const hostOf = (endpoint: string) => (URL.canParse(endpoint) ? new URL(endpoint).host : 'not a URL');
    const hosts = [...new Set(devices.map((device) => hostOf(device.endpoint)))].join(', ');
    await skip(db, row.id, PUSH_SKIP_REASON.pushHostNotAllowed, `not in PUSH_SERVICE_HOSTS: ${hosts}`.slice(0, 1000));
    return { kind: 'skipped', removed: 0 };
  }

  const language = row.subscriptionLanguage ?? row.userLanguage;
  const content = pushPayloadOf(record!, { publicUrl: deps.publicUrl, language });
  // A correction is the same notification with `Rettet:` / `Retta:` / `Corrected:` before the title; it carries the
  // announcement's id as its tag, so it replaces the original notification where that is still shown.
  if (row.kind === 'correction') {
    content.title = `${NOTICE_STRINGS[language ?? content.language].correction.prefix}: ${content.title}`;
  }
  const payload = JSON.stringify(content);
  const message = {
    ttlSeconds: ttlOf(row.importance, row.expiresAt, new Date()),
    urgency: urgencyOf(row.importance),
    topic: topicOf(row.announcementId),
  };
  const outcomes = await Promise.all(
    allowed.map(async (device) => ({ device, outcome: await deps.sender!.send(device, payload, message) })),
  );

  let removed = 0;
  for (const { device, outcome } of outcomes) {
    if (outcome.kind === 'delivered') {
      await db.$executeRaw`UPDATE "PushSubscription" SET "lastSuccessAt" = now() WHERE id = ${device.id}::uuid`;
    } else if (outcome.kind === 'gone') {
      // Only this endpoint's row as it was: if the browser re-registered meanwhile, its keys changed, not its fate.
      removed += await db.$executeRaw`
        DELETE FROM "PushSubscription" WHERE id = ${device.id}::uuid AND endpoint = ${device.endpoint}`;
    }
  }

  const delivered = outcomes.filter((o) => o.outcome.kind === 'delivered').length;
  const retryable = outcomes
    .map((o) => o.outcome)
    .filter((o): o is Extract<PushSendOutcome, { kind: 'retry' }> => o.kind === 'retry');
  const rejected = outcomes
    .map((o) => o.outcome)
    .filter((o): o is Extract<PushSendOutcome, { kind: 'rejected' }> => o.kind === 'rejected');
  const problems = [...retryable, ...rejected].map((o) => o.error);
  const description = problems.length > 0 ? problems.join('; ').slice(0, 1000) : null;

  if (delivered > 0) {
    // Settled whatever the status is now (see email.ts): a slow send the sweeper took back must not go out again.
    // Problems with the person's other browsers are kept in lastError for the publisher's statistics.
    await db.$executeRaw`
      UPDATE "Delivery" SET status = 'sent', "sentAt" = now(), "lastError" = ${description}, "updatedAt" = now()
       WHERE id = ${row.id} AND status IN ('sending', 'pending')`;
    return { kind: 'sent', removed };
  }
  if (retryable.length > 0 && row.attempts < deps.maxAttempts) {
    logger.info({ deliveryId: String(row.id), attempts: row.attempts, error: description }, 'push delivery will retry');
    const retryAfter = Math.max(0, ...retryable.map((o) => Math.min(o.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS)));
    const delaySeconds = Math.max(retryDelayMs(row.attempts), retryAfter) / 1000;
    await db.$executeRaw`
      UPDATE "Delivery"
         SET status = 'pending', "lastError" = ${description},
             "nextAttemptAt" = now() + make_interval(secs => ${delaySeconds}::float8), "updatedAt" = now()
       WHERE id = ${row.id} AND status = 'sending'`;
    return { kind: 'retrying', removed, attempt: row.attempts, id: row.id };
  }
  if (retryable.length > 0 || rejected.length > 0) {
    logger.warn({ deliveryId: String(row.id), attempts: row.attempts, error: description }, 'push delivery failed');
    await db.$executeRaw`
      UPDATE "Delivery" SET status = 'failed', "lastError" = ${description}, "updatedAt" = now()
       WHERE id = ${row.id} AND status = 'sending'`;
    return { kind: 'failed', removed };
  }
  // Every browser was gone at its push service.
  await skip(db, row.id, PUSH_SKIP_REASON.noPushSubscription, 'every browser subscription was gone (404/410)');
  return { kind: 'skipped', removed };
}

// --- fan-out ---------------------------------------------------------------------------------------------------

export interface PushFanoutDeps {
  db: Db;
  pushQueue: Pick<Queue<PushJob>, 'addBulk'>;
  /** FANOUT_PAGE_SIZE. */
  pageSize: number;
}

export interface PushFanoutResult {
  subscriptionsRead: number;
  deliveriesCreated: number;
  deliveriesEnqueued: number;
  jobs: number;
}

/**
 * Inserts the push deliveries of an announcement for these subscriptions (ids of the announcement's channel): those
 * with push on, of a person who may read the channel and is in the announcement's audience. Idempotent (ON CONFLICT
 * on the ledger's key). Returns the number inserted and the ids due now — the new ones and any still-pending ones of
 * an earlier run — for enqueuePushJobs. Works in a transaction too.
 */
export async function insertPushDeliveries(
  db: Pick<Db, '$queryRaw'>,
  announcementId: string,
  subscriptionIds: readonly (bigint | string)[],
): Promise<{ inserted: number; dueIds: string[] }> {
  if (subscriptionIds.length === 0) return { inserted: 0, dueIds: [] };
  const [row] = await db.$queryRaw<{ inserted: number; dueIds: string[] }[]>`
    WITH audience AS (
      SELECT s.id AS "subscriptionId", 'user:' || s."userId"::text AS recipient
        FROM "Subscription" s
        JOIN "Announcement" a ON a.id = ${announcementId}::uuid AND a."channelId" = s."channelId"
        JOIN "Channel" c ON c.id = a."channelId"
        JOIN "User" u ON u.id = s."userId"
       WHERE s.id = ANY(${subscriptionIds.map(String)}::bigint[])
         AND s.push AND s."confirmedAt" IS NOT NULL AND a.status = 'published'
         AND ${userReadsChannelSql('u', 'c')} AND ${userInAudienceSql('u', 'a', 'c')}
    ), inserted AS (
      INSERT INTO "Delivery" ("announcementId", "subscriptionId", recipient, medium, kind, revision, status,
                              "nextAttemptAt", "updatedAt")
      SELECT ${announcementId}::uuid, au."subscriptionId", au.recipient, 'push', 'announcement', 0, 'pending', now(), now()
        FROM audience au
       ORDER BY au."subscriptionId"
      ON CONFLICT ("announcementId", recipient, medium, kind, revision) DO NOTHING
      RETURNING id
    )
    SELECT (SELECT count(*) FROM inserted)::int AS inserted,
           ARRAY(
             SELECT id FROM inserted
             UNION
             SELECT d.id FROM "Delivery" d JOIN audience au ON au.recipient = d.recipient
              WHERE d."announcementId" = ${announcementId}::uuid AND d.medium = 'push' AND d.kind = 'announcement'
                AND d.revision = 0 AND d.status = 'pending' AND d."nextAttemptAt" <= now()
             ORDER BY 1
           )::text[] AS "dueIds"`;
  return { inserted: row?.inserted ?? 0, dueIds: row?.dueIds ?? [] };
}

/** Puts push delivery ids into jobs of PUSH_BATCH_SIZE, named by their first id. Returns the number of jobs. */
export async function enqueuePushJobs(
  queue: Pick<Queue<PushJob>, 'addBulk'>,
  deliveryIds: readonly string[],
  name: (firstId: string) => string = (firstId) => jobId.push(firstId),
): Promise<number> {
  const jobs = chunk(deliveryIds, PUSH_BATCH_SIZE).map((ids) => ({
    name: 'push',
    data: { deliveryIds: ids },
    opts: { jobId: name(ids[0]!) },
  }));
  for (const part of chunk(jobs, MAX_JOBS_PER_ADD)) await queue.addBulk(part);
  return jobs.length;
}

/**
 * The push part of an announcement's fan-out: pages through the channel's subscriptions with push on that existed
 * when it was published (the same bound as e-mail, so a re-run computes the same audience), inserting deliveries and
 * enqueueing each page's due ones. Critical or not, every push subscriber gets it (push has no digest mode).
 * Safe to run twice.
 */
export async function fanOutPush(deps: PushFanoutDeps, announcementId: string): Promise<PushFanoutResult> {
  const result: PushFanoutResult = { subscriptionsRead: 0, deliveriesCreated: 0, deliveriesEnqueued: 0, jobs: 0 };
  const announcement = await deps.db.announcement.findUnique({
    where: { id: announcementId },
    select: { channelId: true, status: true, publishedAt: true },
  });
  if (announcement?.status !== 'published' || !announcement.publishedAt) return result;

  let cursor = 0n;
  for (;;) {
    const page = await deps.db.subscription.findMany({
      where: {
        channelId: announcement.channelId,
        push: true,
        userId: { not: null },
        createdAt: { lte: announcement.publishedAt },
        id: { gt: cursor },
      },
      select: { id: true },
      orderBy: { id: 'asc' },
      take: deps.pageSize,
    });
    if (page.length === 0) break;
    const { inserted, dueIds } = await insertPushDeliveries(
      deps.db,
      announcementId,
      page.map((s) => s.id),
    );
    result.subscriptionsRead += page.length;
    result.deliveriesCreated += inserted;
    result.deliveriesEnqueued += dueIds.length;
    result.jobs += await enqueuePushJobs(deps.pushQueue, dueIds);
    if (page.length < deps.pageSize) break;
    cursor = page.at(-1)!.id;
  }
  return result;
}

// --- sweeper ---------------------------------------------------------------------------------------------------

export interface PushSweepDeps {
  db: Db;
  pushQueue: Pick<Queue<PushJob>, 'addBulk'>;
  staleDeliveryMs: number;
  /** PUSH_MAX_ATTEMPTS. */
  maxAttempts: number;
  /** PUSH_SUBSCRIPTION_MAX_AGE_DAYS. */
  subscriptionMaxAgeDays: number;
  logger: Logger;
}

export interface PushSweepResult {
  resetSending: number;
  failedSending: number;
  requeuedPending: number;
  /** Browser subscriptions not seen for PUSH_SUBSCRIPTION_MAX_AGE_DAYS, or past their push service's expiry. */
  deletedStaleSubscriptions: number;
}

export const PUSH_WORKER_LOST_ERROR = 'worker lost while sending';

/**
 * The sweeper's work for push (workers/processors/sweep.ts calls it): the same two re-queues as for e-mail — stale
 * `sending` rows (their worker died) and long-due `pending` rows (their job was lost) — into the push queue, and the
 * expiry of browser subscriptions nobody has refreshed.
 */
export async function sweepPush(deps: PushSweepDeps): Promise<PushSweepResult> {
  const { db } = deps;
  const result: PushSweepResult = {
    resetSending: 0,
    failedSending: 0,
    requeuedPending: 0,
    deletedStaleSubscriptions: 0,
  };
  const sweptAt = Date.now();
  const requeue = (ids: string[]) => enqueuePushJobs(deps.pushQueue, ids, (first) => jobId.pushRequeue(first, sweptAt));

  Object.assign(
    result,
    await sweepLedger(
      db,
      {
        ledger: { table: 'Delivery', medium: 'push' },
        staleDeliveryMs: deps.staleDeliveryMs,
        maxAttempts: deps.maxAttempts,
        lostError: PUSH_WORKER_LOST_ERROR,
      },
      requeue,
    ),
  );

  result.deletedStaleSubscriptions = await deleteStalePushSubscriptions(db, deps.subscriptionMaxAgeDays);
  if (result.resetSending + result.failedSending + result.requeuedPending > 0) {
    deps.logger.warn(result, 'sweeper re-queued lost push deliveries');
  }
  return result;
}

/** Deletes browser subscriptions not registered again for `maxAgeDays`, or past the push service's expiry. */
export async function deleteStalePushSubscriptions(db: Pick<Db, '$executeRaw'>, maxAgeDays: number): Promise<number> {
  return db.$executeRaw`
    DELETE FROM "PushSubscription"
     WHERE "lastSeenAt" < now() - make_interval(days => ${maxAgeDays}::int)
        OR ("expiresAt" IS NOT NULL AND "expiresAt" <= now())`;
}

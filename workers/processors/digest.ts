/**
 * E-mail digests: one e-mail per subscriber with what is new in their daily (or weekly) digest channels.
 *
 * **The run** (`processDigestRun`, from the `digest-daily` / `digest-weekly` job schedulers) is named by the time its
 * scheduler fired for, never by the clock when it runs: its period ends at that time truncated to the latest cut
 * (src/digest/period.ts), so a late, retried or doubled run covers the same period. It pages through the recipients
 * (keyset on the recipient key) who have at least one confirmed subscription in the mode and, per page, in ONE
 * statement decides each recipient's period and content and inserts their Digest row:
 *
 * - periodStart: the end of the recipient's latest digest in this mode (so nothing falls between two digests, and a
 *   run that did not happen is caught up by the next), at most MAX_CATCH_UP_PERIODS back; without one, one period
 *   (local day or week) before the end. A recipient whose latest digest already reaches this period's end is done.
 * - content: announcements published in [periodStart, periodEnd) in the channels of those subscriptions, published
 *   (not retracted) and not expired, that the recipient may see (the fan-out's audience rules,
 *   src/db/recipient-scope-sql.ts: user recipients by read rights and audience, bare addresses only announcements for
 *   everyone in public channels), EXCEPT critical ones (the fan-out sends those at once to every mode) and any that
 *   were already e-mailed to the recipient (a subscription that was `immediate` until recently).
 * - nothing new: NO row. The next digest then starts where the last one ended, which is right: nothing was missed.
 * - `INSERT … ON CONFLICT (recipient, mode, periodStart) DO NOTHING`: two runs of the same period (a scheduler firing
 *   twice, two workers, a retry after a crash) compute the same periodStart and make one row. The row fixes the
 *   content (`announcementIds`), so a resend is the same digest.
 *
 * A run that died part-way is resumable: recipients whose row was made are left alone (their latest digest reaches
 * the period's end), the rest get theirs; and at its end a run re-queues every still-pending row of its period, so
 * rows whose send jobs were lost with the crash go out without waiting for the sweeper (which re-queues them anyway:
 * `sweepDigests`).
 *
 * **The send** (`processDigestSend`) is the e-mail processor's: claim (pending → sending, conditional), re-check (a
 * batch in a few statements), send, settle. Re-checked just before sending: still subscribed in the digest's mode
 * (items of channels no longer in that mode are dropped), an address (the account's, found by the recipient key), not
 * suppressed, and each announcement still published, not expired, visible to the recipient and not e-mailed to them
 * meanwhile; none left → `skipped`. 4xx and timeouts retry with back-off (the e-mail processor's schedule,
 * EMAIL_MAX_ATTEMPTS); 5xx → `failed` and the address is suppressed. Message-ID `<digest-<id>@host>`: a resend after
 * a crash is recognisable.
 */
import type { Job, Queue } from 'bullmq';
import { type AnnouncementRecord, loadAnnouncementRecords } from '../../src/db/announcement-records.js';
import type { Db } from '../../src/db/prisma.js';
import {
  bareAddressInAudienceSql,
  bareAddressReadsChannelSql,
  recipientUserIdSql,
  userInAudienceSql,
  userReadsChannelSql,
} from '../../src/db/recipient-scope-sql.js';
import { suppressedAmong, suppressionKey } from '../../src/db/suppression.js';
import {
  cutsBefore,
  type DigestMode,
  type DigestSchedule,
  defaultPeriodStart,
  MAX_CATCH_UP_PERIODS,
  periodEndFor,
} from '../../src/digest/period.js';
import { pickVersion } from '../../src/domain/announcement.js';
import { AppError } from '../../src/domain/errors.js';
import type { Language } from '../../src/domain/types.js';
import { Prisma } from '../../src/generated/prisma/client.js';
import type { Logger } from '../../src/logger.js';
import { composeDigestEmail, type DigestChannelSection, digestExcerpt } from '../../src/mail/digest.js';
import { describeMailError, isPermanentMailError, type Mailer } from '../../src/mail/mailer.js';
import { signUnsubscribeToken } from '../../src/mail/unsubscribe-token.js';
import { chunk, type DigestJob, jobId } from '../../src/queue/jobs.js';
import { suppressAfterFailure } from '../../src/services/suppression.js';
import { announcementUrl } from '../../src/services/views.js';
import { retryDelayMs } from './email.js';
import { RETRY_JOB_SLACK_MS, sweepLedger } from './ledger.js';

/** Recipients per page of a run (one INSERT each). */
export const DIGEST_PAGE_SIZE = 500;
/** Digest ids per send job. Each digest is its own message; a job is a unit of enqueueing only. */
export const DIGEST_SEND_BATCH = 25;
const MAX_IDS_PER_JOB = 1000;

export const DIGEST_SKIP_REASON = {
  /** No confirmed subscription in the digest's mode any more. */
  unsubscribed: 'unsubscribed',
  noAddress: 'no_address',
  suppressed: 'suppressed',
  /** Every announcement of the digest was retracted, expired, or is no longer visible to the recipient. */
  nothingLeft: 'nothing_left',
} as const;

export interface DigestRunDeps {
  db: Db;
  digestQueue: Pick<Queue<DigestJob>, 'addBulk'>;
  schedule: DigestSchedule;
  logger: Logger;
  pageSize?: number;
}

export interface DigestRunResult {
  mode: DigestMode;
  periodEnd: string;
  /** Recipients looked at (with a confirmed subscription in the mode). */
  recipients: number;
  /** Digest rows this run made (others may have been made by an earlier or concurrent run of the same period). */
  created: number;
  /** Digest ids handed to the send queue. */
  enqueued: number;
}

/**
 * The scheduled time of a job from a job scheduler: BullMQ 6 keeps it as `opts.prevMillis` (the `<millis>` in the
 * job id `repeat:<scheduler id>:<millis>`). A job added by hand may carry `scheduledAt` (ms) in its data; otherwise
 * its creation time. All of them are truncated to the cut, so any time between two cuts names the same period.
 */
export function scheduledTimeOf(job: Pick<Job, 'opts' | 'timestamp' | 'id'>, data?: { scheduledAt?: unknown }): Date {
  if (typeof data?.scheduledAt === 'number' && Number.isFinite(data.scheduledAt)) return new Date(data.scheduledAt);
  const prevMillis = (job.opts as { prevMillis?: unknown } | undefined)?.prevMillis;
  if (typeof prevMillis === 'number' && prevMillis > 0) return new Date(prevMillis);
  const fromId = /^repeat:[^:]+:(\d+)$/.exec(job.id ?? '');
  if (fromId) return new Date(Number(fromId[1]));
  return new Date(job.timestamp);
}

/** The recipient key of subscription `s` (src/domain/recipient.ts; the fan-out builds the same). */
const recipientOfSubscription = Prisma.sql`(CASE WHEN s."userId" IS NOT NULL THEN 'user:' || s."userId"::text
                                                 ELSE 'email:' || s.email END)`;

export async function processDigestRun(
  mode: DigestMode,
  scheduledAt: Date,
  deps: DigestRunDeps,
): Promise<DigestRunResult> {
  const { db, schedule } = deps;
  const pageSize = deps.pageSize ?? DIGEST_PAGE_SIZE;
  const periodEnd = periodEndFor(mode, scheduledAt, schedule);
  const defaultStart = defaultPeriodStart(mode, periodEnd, schedule);
  const earliest = cutsBefore(mode, periodEnd, MAX_CATCH_UP_PERIODS[mode], schedule);
  const result: DigestRunResult = { mode, periodEnd: periodEnd.toISOString(), recipients: 0, created: 0, enqueued: 0 };
  const enqueued = new Set<string>();

  let after = '';
  for (;;) {
    const page = await db.$queryRaw<{ recipient: string }[]>`
      SELECT DISTINCT ${recipientOfSubscription} AS recipient
        FROM "Subscription" s
       WHERE s."emailMode" = ${mode}::"EmailMode" AND s."confirmedAt" IS NOT NULL
         AND ${recipientOfSubscription} > ${after}
       ORDER BY recipient
       LIMIT ${pageSize}::int`;
    if (page.length === 0) break;
    result.recipients += page.length;
    after = page[page.length - 1]!.recipient;

    const created = await createDigests(db, {
      mode,
      recipients: page.map((row) => row.recipient),
      periodEnd,
      defaultStart,
      earliest,
    });
    result.created += created.length;
    await enqueueDigests(deps.digestQueue, created, (first) => jobId.digestSend(first));
    for (const id of created) enqueued.add(id);
    if (page.length < pageSize) break;
  }

  // Rows of this period still pending that this run did not make: an earlier run of the period died between making
  // them and queueing them (or Redis lost the jobs). Queue them now; claims make a duplicate job harmless.
  const leftover = await db.$queryRaw<{ id: string }[]>`
    SELECT id::text AS id FROM "Digest"
     WHERE mode = ${mode}::"EmailMode" AND "periodEnd" = ${periodEnd}::timestamptz AND status = 'pending'
     ORDER BY id`;
  const requeue = leftover.map((row) => row.id).filter((id) => !enqueued.has(id));
  const runAt = Date.now();
  await enqueueDigests(deps.digestQueue, requeue, (first) => jobId.digestRequeue(first, runAt));
  result.enqueued = enqueued.size + requeue.length;

  deps.logger.info(result, 'digest run done');
  return result;
}

/** One page of recipients: period, content and row per recipient, in one statement. Returns the new rows' ids. */
async function createDigests(
  db: Db,
  page: { mode: DigestMode; recipients: string[]; periodEnd: Date; defaultStart: Date; earliest: Date },
): Promise<string[]> {
  const { mode, periodEnd } = page;
  const rows = await db.$queryRaw<{ id: string }[]>`
    WITH page AS (
      SELECT unnest(${page.recipients}::text[]) AS recipient
    ), periods AS (
      SELECT p.recipient,
             (CASE WHEN last."periodEnd" IS NULL THEN ${page.defaultStart}::timestamptz
                   ELSE greatest(last."periodEnd", ${page.earliest}::timestamptz) END) AS "periodStart"
        FROM page p
        LEFT JOIN LATERAL (
          SELECT max(d."periodEnd") AS "periodEnd" FROM "Digest" d
           WHERE d.recipient = p.recipient AND d.mode = ${mode}::"EmailMode") last ON true
       WHERE last."periodEnd" IS NULL OR last."periodEnd" < ${periodEnd}::timestamptz
    ), items AS (
      SELECT pr.recipient, pr."periodStart", a.id AS "announcementId", a."publishedAt",
             s.language::text AS "subscriptionLanguage", u.language::text AS "userLanguage"
        FROM periods pr
        JOIN "Subscription" s
          ON ${recipientOfSubscription} = pr.recipient
         AND s."emailMode" = ${mode}::"EmailMode" AND s."confirmedAt" IS NOT NULL
        JOIN "Channel" c ON c.id = s."channelId"
        JOIN "Announcement" a
          ON a."channelId" = c.id AND a.status = 'published' AND a.importance <> 'critical'
         AND a."publishedAt" >= pr."periodStart" AND a."publishedAt" < ${periodEnd}::timestamptz
         AND (a."expiresAt" IS NULL OR a."expiresAt" > now())
        LEFT JOIN "User" u ON u.id = ${recipientUserIdSql(Prisma.sql`pr.recipient`)}
       WHERE (CASE WHEN u.id IS NULL
                   THEN pr.recipient LIKE 'email:%' AND ${bareAddressReadsChannelSql('c')} AND ${bareAddressInAudienceSql('a')}
                   ELSE ${userReadsChannelSql('u', 'c')} AND ${userInAudienceSql('u', 'a', 'c')} END)
         AND NOT EXISTS (
             SELECT 1 FROM "Delivery" x
              WHERE x."announcementId" = a.id AND x.recipient = pr.recipient AND x.medium = 'email'
                AND x.kind = 'announcement' AND x.status = 'sent')
    ), grouped AS (
      SELECT recipient, "periodStart",
             array_agg("announcementId" ORDER BY "publishedAt", "announcementId") AS ids,
             (CASE WHEN count(DISTINCT "subscriptionLanguage") = 1 THEN min("subscriptionLanguage")
                   ELSE coalesce(min("userLanguage"), 'nb') END) AS language
        FROM items
       GROUP BY recipient, "periodStart"
    )
    INSERT INTO "Digest" (recipient, mode, language, "periodStart", "periodEnd", "announcementIds", "updatedAt")
    SELECT recipient, ${mode}::"EmailMode", language::"Language", "periodStart", ${periodEnd}::timestamptz, ids, now()
      FROM grouped
     ORDER BY recipient
    ON CONFLICT (recipient, mode, "periodStart") DO NOTHING
    RETURNING id::text AS id`;
  return rows.map((row) => row.id).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
}

/** Send jobs of DIGEST_SEND_BATCH ids, named by their first id. */
export async function enqueueDigests(
  queue: Pick<Queue<DigestJob>, 'addBulk'>,
  ids: readonly string[],
  name: (firstId: string) => string,
): Promise<void> {
  if (ids.length === 0) return;
  const jobs = chunk([...ids], DIGEST_SEND_BATCH).map((digestIds) => ({
    name: 'send',
    data: { task: 'send' as const, digestIds },
    opts: { jobId: name(digestIds[0]!) },
  }));
  for (const part of chunk(jobs, 500)) await queue.addBulk(part);
}

export interface DigestSendDeps {
  db: Db;
  mailer: Mailer;
  digestQueue: Pick<Queue<DigestJob>, 'add'>;
  unsubscribeKey: string | Buffer;
  publicUrl: string;
  from: string;
  /** EMAIL_MAX_ATTEMPTS. */
  maxAttempts: number;
  logger: Logger;
}

export interface DigestSendResult {
  sent: number;
  skipped: number;
  failed: number;
  retrying: number;
  notClaimed: number;
}

interface ClaimedDigest {
  id: bigint;
  recipient: string;
  mode: DigestMode;
  language: Language;
  periodStart: Date;
  periodEnd: Date;
  announcementIds: string[];
  attempts: number;
}

export function parseDigestIds(data: unknown): bigint[] {
  const ids = (data as { digestIds?: unknown } | null)?.digestIds;
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_IDS_PER_JOB) {
    throw new AppError('validation_failed', `A digest send job carries 1–${MAX_IDS_PER_JOB} digest ids`);
  }
  return ids.map((id) => {
    if (typeof id !== 'string' || !/^[1-9]\d{0,18}$/.test(id)) {
      throw new AppError('validation_failed', 'Digest ids are positive decimal strings', { id });
    }
    return BigInt(id);
  });
}

export async function processDigestSend(data: unknown, deps: DigestSendDeps): Promise<DigestSendResult> {
  const ids = parseDigestIds(data);
  const claimed = await deps.db.$queryRaw<ClaimedDigest[]>`
    UPDATE "Digest"
       SET status = 'sending', "claimedAt" = now(), attempts = attempts + 1, "updatedAt" = now()
     WHERE id = ANY(${ids.map(String)}::bigint[]) AND status = 'pending' AND "nextAttemptAt" <= now()
    RETURNING id, recipient, mode::text AS mode, language::text AS language, "periodStart", "periodEnd",
              "announcementIds"::text[] AS "announcementIds", attempts`;
  const result: DigestSendResult = {
    sent: 0,
    skipped: 0,
    failed: 0,
    retrying: 0,
    notClaimed: ids.length - claimed.length,
  };
  claimed.sort((a, b) => (a.id < b.id ? -1 : 1));
  if (claimed.length === 0) return result;

  // The re-check, for the whole batch in a few statements (the digests of a run share their announcements).
  const checks = await recheck(deps.db, claimed);
  const records = new Map(
    (await loadAnnouncementRecords(deps.db, [...new Set(claimed.flatMap((d) => d.announcementIds))])).map((r) => [
      r.id,
      r,
    ]),
  );

  // Each digest on its own (one bad address never fails its neighbours), all of the batch at once: the SMTP pool and
  // the database pool bound the parallelism.
  const settled = await Promise.allSettled(
    claimed.map((digest) => sendOne(digest, checks.get(String(digest.id))!, records, deps)),
  );
  let infrastructureError: unknown;
  for (const outcome of settled) {
    // Rejected: the ledger could not be written (database gone); the row stays `sending` and the sweeper takes it.
    if (outcome.status === 'rejected') infrastructureError ??= outcome.reason;
    else result[outcome.value] += 1;
  }
  if (infrastructureError) throw infrastructureError;
  deps.logger.debug({ ...result, batch: ids.length }, 'digest batch done');
  return result;
}

/** What the re-check found for one claimed digest. */
interface DigestCheck {
  /** A confirmed subscription in the digest's mode still exists (to any channel). */
  subscribed: boolean;
  address: string | null;
  suppressed: boolean;
  /** The items that may still go out, in the digest's order, with the subscription of their channel. */
  items: { announcementId: string; subscriptionId: bigint; channelId: string; channelTitle: string }[];
}

async function recheck(db: Db, claimed: ClaimedDigest[]): Promise<Map<string, DigestCheck>> {
  const ids = claimed.map((d) => String(d.id));
  const recipients = [...new Set(claimed.map((d) => d.recipient))];
  const subscribed = await db.$queryRaw<{ recipient: string; mode: string }[]>`
    SELECT DISTINCT ${recipientOfSubscription} AS recipient, s."emailMode"::text AS mode
      FROM "Subscription" s
     WHERE ${recipientOfSubscription} = ANY(${recipients}::text[])
       AND s."emailMode" IN ('daily', 'weekly') AND s."confirmedAt" IS NOT NULL`;
  const subscribedKeys = new Set(subscribed.map((row) => `${row.recipient} ${row.mode}`));
  const userIds = recipients.filter((r) => r.startsWith('user:')).map((r) => r.slice(5));
  const users = userIds.length
    ? await db.user.findMany({ where: { id: { in: userIds } }, select: { id: true, email: true } })
    : [];
  const userEmail = new Map(users.map((u) => [`user:${u.id}`, u.email]));
  const addressOf = (recipient: string) =>
    recipient.startsWith('email:') ? recipient.slice(6) : (userEmail.get(recipient) ?? null);
  const suppressed = await suppressedAmong(
    db,
    recipients.flatMap((r) => addressOf(r) ?? []),
  );

  // Each announcement again: still published and not expired, in a channel the recipient still gets in this mode,
  // visible to the recipient now (the run's rules), and not e-mailed to them meanwhile.
  const items = await db.$queryRaw<
    { digestId: string; announcementId: string; subscriptionId: bigint; channelId: string; channelTitle: string }[]
  >`
    SELECT d.id::text AS "digestId", a.id::text AS "announcementId", s.id AS "subscriptionId",
           c.id::text AS "channelId", c.title AS "channelTitle"
      FROM "Digest" d
     CROSS JOIN LATERAL unnest(d."announcementIds") WITH ORDINALITY AS item(id, position)
      JOIN "Announcement" a ON a.id = item.id
      JOIN "Channel" c ON c.id = a."channelId"
      JOIN "Subscription" s
        ON s."channelId" = a."channelId" AND ${recipientOfSubscription} = d.recipient
       AND s."emailMode" = d.mode AND s."confirmedAt" IS NOT NULL
      LEFT JOIN "User" u ON u.id = ${recipientUserIdSql(Prisma.sql`d.recipient`)}
     WHERE d.id = ANY(${ids}::bigint[])
       AND a.status = 'published' AND (a."expiresAt" IS NULL OR a."expiresAt" > now())
       AND (CASE WHEN u.id IS NULL
                 THEN d.recipient LIKE 'email:%' AND ${bareAddressReadsChannelSql('c')} AND ${bareAddressInAudienceSql('a')}
                 ELSE ${userReadsChannelSql('u', 'c')} AND ${userInAudienceSql('u', 'a', 'c')} END)
       AND NOT EXISTS (
           SELECT 1 FROM "Delivery" x
            WHERE x."announcementId" = a.id AND x.recipient = d.recipient AND x.medium = 'email'
              AND x.kind = 'announcement' AND x.status = 'sent')
     ORDER BY d.id, item.position`;

  const checks = new Map<string, DigestCheck>();
  for (const digest of claimed) {
    const address = addressOf(digest.recipient);
    checks.set(String(digest.id), {
      subscribed: subscribedKeys.has(`${digest.recipient} ${digest.mode}`),
      address,
      suppressed: address !== null && suppressed.has(suppressionKey(address)),
      items: [],
    });
  }
  for (const item of items) checks.get(item.digestId)?.items.push(item);
  return checks;
}

async function settleSkipped(db: Db, id: bigint, reason: string): Promise<'skipped'> {
  await db.$executeRaw`
    UPDATE "Digest" SET status = 'skipped', "skipReason" = ${reason}, "updatedAt" = now()
     WHERE id = ${id} AND status = 'sending'`;
  return 'skipped';
}

async function sendOne(
  digest: ClaimedDigest,
  check: DigestCheck,
  records: ReadonlyMap<string, AnnouncementRecord>,
  deps: DigestSendDeps,
): Promise<keyof DigestSendResult> {
  const { db, logger } = deps;
  if (!check.subscribed) return settleSkipped(db, digest.id, DIGEST_SKIP_REASON.unsubscribed);
  const address = check.address;
  if (!address) return settleSkipped(db, digest.id, DIGEST_SKIP_REASON.noAddress);
  if (check.suppressed) return settleSkipped(db, digest.id, DIGEST_SKIP_REASON.suppressed);
  const items = check.items.filter((item) => records.has(item.announcementId));
  if (items.length === 0) return settleSkipped(db, digest.id, DIGEST_SKIP_REASON.nothingLeft);

  try {
    await deps.mailer.send(
      composeDigestEmail({
        digestId: digest.id,
        to: address,
        from: deps.from,
        publicUrl: deps.publicUrl,
        language: digest.language,
        mode: digest.mode,
        periodStart: digest.periodStart,
        periodEnd: digest.periodEnd,
        sections: sectionsOf(items, records, digest, deps),
      }),
    );
  } catch (error) {
    const description = describeMailError(error);
    const permanent = isPermanentMailError(error);
    if (permanent || digest.attempts >= deps.maxAttempts) {
      const suppressedNow = permanent && (await suppressAfterFailure(db, { email: address, error, deliveryId: null }));
      logger.warn(
        { digestId: String(digest.id), attempts: digest.attempts, error: description, suppressed: suppressedNow },
        'digest failed',
      );
      await db.$executeRaw`
        UPDATE "Digest" SET status = 'failed', "lastError" = ${description}, "updatedAt" = now()
         WHERE id = ${digest.id} AND status = 'sending'`;
      return 'failed';
    }
    const delayMs = retryDelayMs(digest.attempts);
    logger.info({ digestId: String(digest.id), attempts: digest.attempts, error: description }, 'digest will retry');
    await db.$executeRaw`
      UPDATE "Digest"
         SET status = 'pending', "lastError" = ${description},
             "nextAttemptAt" = now() + make_interval(secs => ${delayMs / 1000}::float8), "updatedAt" = now()
       WHERE id = ${digest.id} AND status = 'sending'`;
    await deps.digestQueue.add(
      'send',
      { task: 'send', digestIds: [String(digest.id)] },
      { jobId: jobId.digestSend(digest.id, digest.attempts), delay: delayMs + RETRY_JOB_SLACK_MS },
    );
    return 'retrying';
  }

  // Whatever the status is now: if the sweeper took the row back meanwhile, recording the send stops a second one.
  await db.$executeRaw`
    UPDATE "Digest" SET status = 'sent', "sentAt" = now(), "lastError" = NULL, "updatedAt" = now()
     WHERE id = ${digest.id} AND status IN ('sending', 'pending')`;
  return 'sent';
}

/** Items grouped by channel (channels by title, items in the digest's order: by publication). */
function sectionsOf(
  items: DigestCheck['items'],
  records: ReadonlyMap<string, AnnouncementRecord>,
  digest: ClaimedDigest,
  deps: DigestSendDeps,
): DigestChannelSection[] {
  const sections = new Map<string, DigestChannelSection>();
  for (const item of items) {
    const record = records.get(item.announcementId)!;
    let section = sections.get(item.channelId);
    if (!section) {
      section = {
        channelTitle: item.channelTitle,
        items: [],
        unsubscribeToken: signUnsubscribeToken(deps.unsubscribeKey, {
          subscriptionId: item.subscriptionId,
          recipient: digest.recipient,
        }),
      };
      sections.set(item.channelId, section);
    }
    const version = pickVersion(record.versions, digest.language);
    section.items.push({
      title: version.title,
      excerpt: digestExcerpt(version.summary, version.body),
      importance: record.importance,
      contentLanguage: version.language,
      url: announcementUrl(deps.publicUrl, record.id),
    });
  }
  return [...sections.values()].sort((a, b) => a.channelTitle.localeCompare(b.channelTitle, 'nb'));
}

export interface DigestSweepDeps {
  db: Db;
  digestQueue: Pick<Queue<DigestJob>, 'addBulk'>;
  staleDeliveryMs: number;
  /** EMAIL_MAX_ATTEMPTS. */
  maxAttempts: number;
  logger: Logger;
}

export interface DigestSweepResult {
  resetSending: number;
  failedSending: number;
  requeuedPending: number;
}

export const DIGEST_WORKER_LOST_ERROR = 'worker lost while sending';

/**
 * The sweeper's part for digests (called from workers/processors/sweep.ts), as for deliveries: `sending` rows
 * claimed longer than STALE_DELIVERY_MS ago go back to `pending` (or `failed` without attempts left) and are
 * re-queued; `pending` rows due longer than that ago (their job was lost) are re-queued. Both picks are claims over
 * SKIP LOCKED rows, so two sweepers never re-queue the same row.
 */
export async function sweepDigests(deps: DigestSweepDeps): Promise<DigestSweepResult> {
  const { db } = deps;
  const result: DigestSweepResult = { resetSending: 0, failedSending: 0, requeuedPending: 0 };
  const sweptAt = Date.now();
  const requeue = (ids: string[]) =>
    enqueueDigests(deps.digestQueue, ids, (first) => jobId.digestRequeue(first, sweptAt));

  Object.assign(
    result,
    await sweepLedger(
      db,
      {
        ledger: { table: 'Digest' },
        staleDeliveryMs: deps.staleDeliveryMs,
        maxAttempts: deps.maxAttempts,
        lostError: DIGEST_WORKER_LOST_ERROR,
      },
      requeue,
    ),
  );

  if (result.resetSending + result.failedSending + result.requeuedPending > 0) {
    deps.logger.warn(result, 'sweeper re-queued lost digests');
  }
  return result;
}

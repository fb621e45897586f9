/**
 * Sends a batch of e-mail deliveries. Each delivery in the job is handled on its own: claimed, re-checked, sent and
 * settled in the ledger, so one bad address never fails its neighbours. A delivery is of a kind: `announcement` (the
 * announcement itself, in the subscription's language with pickVersion's fallback) or `ack_reminder` (a reminder to
 * acknowledge it, see workers/processors/ack-reminders.ts), `correction` or `retraction` (notices to those who
 * received it, see workers/processors/notices.ts and src/mail/notices.ts). An address on the suppression list (src/db/suppression.ts) is skipped (`suppressed`), and
 * a permanent 5xx reply puts the address on it. Safe to run twice and to run concurrently
 * with itself: a delivery is only sent by the worker whose claim (pending → sending) succeeded.
 *
 * Only infrastructure failures (PostgreSQL or Redis unreachable) make the whole job throw; BullMQ then retries it,
 * and deliveries already settled are not sent again because their claims fail.
 */
import type { Queue } from 'bullmq';
import { type AnnouncementRecord, loadAnnouncementRecords } from '../../src/db/announcement-records.js';
import { type Db, queryRows } from '../../src/db/prisma.js';
import {
  bareAddressInAudienceSql,
  bareAddressReadsChannelSql,
  recipientAddressSql,
  recipientUserIdSql,
  userInAudienceSql,
  userReadsChannelSql,
} from '../../src/db/recipient-scope-sql.js';
import { suppressedAmong, suppressionKey } from '../../src/db/suppression.js';
import { pickVersion } from '../../src/domain/announcement.js';
import type { EmailMode, Importance, Language } from '../../src/domain/types.js';
import { Prisma } from '../../src/generated/prisma/client.js';
import type { Logger } from '../../src/logger.js';
import { announcementEmailComposer, composeAckReminderEmail, emailAnnouncementOf } from '../../src/mail/compose.js';
import { describeMailError, isPermanentMailError, type Mailer } from '../../src/mail/mailer.js';
import { composeCorrectionEmail, composeRetractionEmail } from '../../src/mail/notices.js';
import { signUnsubscribeToken } from '../../src/mail/unsubscribe-token.js';
import { type EmailJob, jobId } from '../../src/queue/jobs.js';
import { suppressAfterFailure } from '../../src/services/suppression.js';
import { announcementView } from '../../src/services/views.js';
import {
  addRetryJobs,
  backoffWithJitterMs,
  claimDeliveries,
  parseDeliveryIds,
  type SentGroups,
  type SentSettler,
  sentSettler,
} from './ledger.js';

export interface EmailProcessorDeps {
  db: Db;
  mailer: Mailer;
  emailQueue: Pick<Queue<EmailJob>, 'add'>;
  /** Signs the List-Unsubscribe links (resolveUnsubscribeKey). */
  unsubscribeKey: string | Buffer;
  publicUrl: string;
  from: string;
  /** UNSUBSCRIBE_MAILTO: adds a mailto: URI to List-Unsubscribe. */
  unsubscribeMailto?: string | undefined;
  /** EMAIL_MAX_ATTEMPTS: after this many transient failures a delivery is marked failed. */
  maxAttempts: number;
  logger: Logger;
  /** The process's grouping of sent rows (sentGroups), shared by the jobs in flight; absent: one per job. */
  sentGroups?: SentGroups | undefined;
}

export interface EmailJobResult {
  sent: number;
  skipped: number;
  failed: number;
  /** Transient failures put back to pending, with a delayed retry job. */
  retrying: number;
  /** Not claimable: already handled, being handled elsewhere, or not due yet. */
  notClaimed: number;
}

/** Why a claimed delivery was not sent (Delivery.skipReason). */
export const SKIP_REASON = {
  subscriptionRemoved: 'subscription_removed',
  unsubscribed: 'unsubscribed',
  digestMode: 'digest_mode',
  announcementNotPublished: 'announcement_not_published',
  noAddress: 'no_address',
  /** The recipient is no longer in the announcement's audience (moved organisation, audience narrowed). */
  audience: 'audience',
  /** The recipient may no longer read the channel (left every member organisation, lost a role). */
  noAccess: 'no_access',
  /** A reminder to someone who acknowledged meanwhile. */
  acknowledged: 'acknowledged',
  /** A reminder for an announcement that no longer asks for acknowledgement. */
  ackNotRequired: 'ack_not_required',
  /** A reminder is for a person with an account; a bare address cannot acknowledge. */
  notAUser: 'not_a_user',
  /** A delivery kind this processor does not send. */
  unsupportedKind: 'unsupported_kind',
  /**
   * The announcement expired meanwhile (gone from the feeds and listings): its e-mail, reminder or correction would
   * bring back what the publisher took down.
   */
  announcementExpired: 'announcement_expired',
  /**
   * A correction of revision N when corrections of a later material revision exist for the same recipient: the
   * later one says the same (every correction shows the announcement as it reads now), one mail is enough.
   */
  superseded: 'superseded',
  /** A retraction notice for an announcement that is not retracted. */
  notRetracted: 'not_retracted',
  /** The address is on the suppression list (src/db/suppression.ts): a relay refused it for good. */
  suppressed: 'suppressed',
} as const;

/**
 * Back-off between attempts: 1 min, 2 min, 4 min … capped at 1 h (the default 8 attempts span about 3 h, enough to
 * ride out a relay's maintenance window). "Equal jitter" — half fixed, half random — spreads the retries of a batch
 * that failed together so they do not hit the relay again in one burst.
 */
export const RETRY_BASE_MS = 60_000;
export const RETRY_MAX_MS = 3_600_000;
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  return backoffWithJitterMs(attempt, RETRY_BASE_MS, RETRY_MAX_MS, random);
}

interface ClaimedDelivery {
  id: bigint;
  attempts: number;
  recipient: string;
  kind: string;
  announcementId: string;
  /** A correction's revision (0 for the other kinds). Optional: only the notices read it. */
  revision?: number;
  /** A correction: the publisher's note on that revision. */
  revisionNote?: string | null;
  /** A correction: a later material revision's correction exists for this recipient. */
  superseded?: boolean;
  /** The announcement's expiresAt has passed. */
  expired?: boolean;
  subscriptionId: bigint | null;
  emailMode: EmailMode | null;
  subscriptionLanguage: Language | null;
  /** The recipient's account (by its recipient key), null for a bare address or an erased account. */
  isUserRecipient: boolean;
  userEmail: string | null;
  userLanguage: Language | null;
  bareAddress: string | null;
  importance: Importance;
  announcementStatus: string;
  ackRequired: boolean;
  channelTitle: string;
  /** The channel's organisation, the sender's name (senderOf in src/mail/compose.ts); null when it has none. */
  organisationName?: string | null;
  readsChannel: boolean;
  inAudience: boolean;
  /** An incident's follow-up to someone the incident was sent to: subscription modes do not hold it back. */
  gotIncident: boolean;
  acknowledged: boolean;
}

type Outcome =
  | { kind: 'sent' }
  | { kind: 'skipped' }
  | { kind: 'failed' }
  | { kind: 'retrying'; attempt: number; id: bigint };

export function parseEmailJob(data: unknown): bigint[] {
  return parseDeliveryIds(data, 'An e-mail job');
}

/** Why this delivery must not be sent now, or undefined when it may be. Same audience rule as the fan-out. */
export function skipReason(row: ClaimedDelivery): string | undefined {
  if (!SENT_KINDS.has(row.kind)) return SKIP_REASON.unsupportedKind;
  if (row.kind === 'retraction') {
    if (row.announcementStatus !== 'retracted') return SKIP_REASON.notRetracted;
  } else if (row.announcementStatus !== 'published') return SKIP_REASON.announcementNotPublished;
  // Everything but a retraction notice (which tells of a withdrawal) is about a current announcement.
  if (row.kind !== 'retraction' && row.expired) return SKIP_REASON.announcementExpired;
  // A notice names the announcement: it goes only to whom may still see it (as for the announcement itself).
  if (!row.readsChannel) return SKIP_REASON.noAccess;
  if (!row.inAudience) return SKIP_REASON.audience;
  if (row.kind === 'correction' || row.kind === 'retraction') {
    if (row.kind === 'correction' && row.superseded) return SKIP_REASON.superseded;
    // They received the original, and keep receiving its notices while they subscribe to the channel in any e-mail
    // mode (a digest subscriber who got a critical announcement gets its correction); leaving the channel or turning
    // its e-mail off stops them.
    if (row.subscriptionId === null || row.emailMode === null) return SKIP_REASON.subscriptionRemoved;
    if (row.emailMode === 'off') return SKIP_REASON.unsubscribed;
  } else if (row.kind === 'ack_reminder') {
    // Reminders go to whoever was sent the announcement and has not acknowledged, subscribed or not any more: the
    // publisher asked for their acknowledgement.
    if (!row.isUserRecipient) return SKIP_REASON.notAUser;
    if (!row.ackRequired) return SKIP_REASON.ackNotRequired;
    if (row.acknowledged) return SKIP_REASON.acknowledged;
  } else if (!row.gotIncident) {
    if (row.subscriptionId === null || row.emailMode === null) return SKIP_REASON.subscriptionRemoved;
    if (row.emailMode === 'off') return SKIP_REASON.unsubscribed;
    // Critical announcements go out whatever the mode; others only to immediate subscribers (digests carry the rest).
    if (row.importance !== 'critical' && row.emailMode !== 'immediate') return SKIP_REASON.digestMode;
  }
  if (!addressOf(row)) return SKIP_REASON.noAddress;
  return undefined;
}

/** The kinds this processor sends; others are skipped `unsupported_kind`, never a crash. */
const SENT_KINDS: ReadonlySet<string> = new Set(['announcement', 'ack_reminder', 'correction', 'retraction']);

function addressOf(row: ClaimedDelivery): string | null {
  return row.isUserRecipient ? row.userEmail : row.bareAddress;
}

/** The labels' language: the subscription's, else the account's; for a bare address without one, the original's. */
function languageOf(row: ClaimedDelivery): Language | null {
  return row.subscriptionLanguage ?? row.userLanguage;
}

export async function processEmailJob(data: EmailJob, deps: EmailProcessorDeps): Promise<EmailJobResult> {
  const ids = parseEmailJob(data);
  const { db } = deps;

  // Claim every due delivery of the batch in one statement. Each row is still claimed on its own: the row lock and
  // the status condition mean exactly one worker gets each, whatever the batches look like.
  const claimed = await claimDeliveries(db, ids, 'email');
  const result: EmailJobResult = {
    sent: 0,
    skipped: 0,
    failed: 0,
    retrying: 0,
    notClaimed: ids.length - claimed.length,
  };
  if (claimed.length === 0) return result;

  // Re-check just before sending: everything that could have changed since the fan-out is read now. The recipient
  // is found by its key (src/domain/recipient.ts), not through the subscription, which may be gone.
  const recipientUser = recipientUserIdSql(Prisma.sql`d.recipient`);
  // On the driver (src/db/prisma.ts queryRows), where int8 columns arrive as text: the ids are made bigints below.
  const fetched = await queryRows<ClaimedDelivery & { id: string; subscriptionId: string | null }>(
    db,
    Prisma.sql`
    SELECT d.id::text AS id, d.attempts, d.recipient, d.kind::text AS kind, d."announcementId"::text AS "announcementId",
           d.revision,
           (SELECT r.note FROM "AnnouncementRevision" r
             WHERE d.kind = 'correction' AND r."announcementId" = d."announcementId" AND r.revision = d.revision)
             AS "revisionNote",
           (d.kind = 'correction' AND EXISTS (
              SELECT 1 FROM "Delivery" later
               WHERE later."announcementId" = d."announcementId" AND later.recipient = d.recipient
                 AND later.medium = d.medium AND later.kind = 'correction' AND later.revision > d.revision))
             AS superseded,
           (a."expiresAt" IS NOT NULL AND a."expiresAt" <= now()) AS expired,
           d."subscriptionId"::text AS "subscriptionId", s."emailMode", s.language AS "subscriptionLanguage",
           (d.recipient LIKE 'user:%') AS "isUserRecipient", u.email AS "userEmail", u.language AS "userLanguage",
           ${recipientAddressSql(Prisma.sql`d.recipient`)} AS "bareAddress",
           a.importance, a.status::text AS "announcementStatus", a."ackRequired",
           c.title AS "channelTitle", org.name AS "organisationName",
           (CASE WHEN u.id IS NULL THEN ${bareAddressReadsChannelSql('c')} OR d.recipient LIKE 'user:%'
                 ELSE ${userReadsChannelSql('u', 'c')} END) AS "readsChannel",
           (CASE WHEN u.id IS NULL THEN ${bareAddressInAudienceSql('a')}
                 ELSE ${userInAudienceSql('u', 'a', 'c')} END) AS "inAudience",
           (a."resolvesId" IS NOT NULL AND EXISTS (
              SELECT 1 FROM "Delivery" o
               WHERE o."announcementId" = a."resolvesId" AND o.recipient = d.recipient AND o.medium = 'email'
                 AND o.kind = 'announcement' AND o.status = 'sent')) AS "gotIncident",
           EXISTS (SELECT 1 FROM "AnnouncementAcknowledgement" ack
                    WHERE ack."announcementId" = a.id AND ack."userId" = u.id) AS acknowledged
      FROM "Delivery" d
      JOIN "Announcement" a ON a.id = d."announcementId"
      JOIN "Channel" c ON c.id = a."channelId"
      LEFT JOIN "Organisation" org ON org.id = c."organisationId"
      LEFT JOIN "Subscription" s ON s.id = d."subscriptionId"
      LEFT JOIN "User" u ON u.id = ${recipientUser}
     WHERE d.id = ANY(${claimed.map((row) => String(row.id))}::bigint[])
     ORDER BY d.id`,
  );
  const rows: ClaimedDelivery[] = fetched.map((row) => ({
    ...row,
    id: BigInt(row.id),
    subscriptionId: row.subscriptionId === null ? null : BigInt(row.subscriptionId),
  }));
  // One load of the batch's announcements (usually one), with their language versions and attachments.
  const records = new Map(
    (await loadAnnouncementRecords(db, [...new Set(rows.map((row) => row.announcementId))])).map((r) => [r.id, r]),
  );

  // The suppression list, read once for the batch just before its sends (a bounce of one row suppresses only later
  // sends, not a neighbour already under way).
  const suppressed = await suppressedAmong(
    db,
    rows.flatMap((row) => addressOf(row) ?? []),
  );
  // Sent rows are settled in groups as their sends complete (one UPDATE for all that completed while the previous one
  // ran), not one statement per message; each row still gets its own outcome.
  const sent = sentSettler(db, deps.sentGroups);
  const composers: Composers = new Map();
  const settled = await Promise.allSettled(
    rows.map((row) => deliverOne(row, records.get(row.announcementId), suppressed, sent, deps, composers)),
  );
  const settleError = await sent.done().then(
    () => undefined,
    (error: unknown) => error,
  );

  const retries = new Map<number, bigint[]>();
  let infrastructureError: unknown = settleError;
  for (const outcome of settled) {
    if (outcome.status === 'rejected') {
      infrastructureError ??= outcome.reason;
      continue;
    }
    const value = outcome.value;
    result[value.kind] += 1;
    if (value.kind === 'retrying') retries.set(value.attempt, [...(retries.get(value.attempt) ?? []), value.id]);
  }

  await addRetryJobs(db, retries, (deliveryIds, attempt, delay) =>
    deps.emailQueue.add('email', { deliveryIds }, { jobId: jobId.email(deliveryIds[0]!, attempt), delay }),
  );

  if (infrastructureError) throw infrastructureError;
  deps.logger.debug({ ...result, batch: ids.length }, 'e-mail batch done');
  return result;
}

/**
 * Claim is held: re-check, send, settle (a sent row through `sent`, which writes it with its group). Rejects only
 * when the ledger cannot be written.
 */
async function deliverOne(
  row: ClaimedDelivery,
  record: AnnouncementRecord | undefined,
  suppressed: ReadonlySet<string>,
  sent: SentSettler,
  deps: EmailProcessorDeps,
  composers: Composers,
): Promise<Outcome> {
  const { db, logger } = deps;
  // No record: the announcement was deleted after the claim (the row is about to go with it, by cascade).
  let reason = record ? skipReason(row) : SKIP_REASON.announcementNotPublished;
  if (!reason && suppressed.has(suppressionKey(addressOf(row)!))) reason = SKIP_REASON.suppressed;
  if (reason) {
    await db.$executeRaw`
      UPDATE "Delivery" SET status = 'skipped', "skipReason" = ${reason}, "updatedAt" = now()
       WHERE id = ${row.id} AND status = 'sending'`;
    return { kind: 'skipped' };
  }

  try {
    const message = composeMessage(row, record!, deps, composers);
    await deps.mailer.send(message);
  } catch (error) {
    const description = describeMailError(error);
    const permanent = isPermanentMailError(error);
    const exhausted = row.attempts >= deps.maxAttempts;
    if (permanent || exhausted) {
      // A permanent refusal of the address puts it on the suppression list: no later mail goes there.
      const suppressedNow =
        permanent && (await suppressAfterFailure(db, { email: addressOf(row)!, error, deliveryId: row.id }));
      logger.warn(
        { deliveryId: String(row.id), attempts: row.attempts, error: description, suppressed: suppressedNow },
        'e-mail delivery failed',
      );
      await db.$executeRaw`
        UPDATE "Delivery" SET status = 'failed', "lastError" = ${description}, "updatedAt" = now()
         WHERE id = ${row.id} AND status = 'sending'`;
      return { kind: 'failed' };
    }
    logger.info(
      { deliveryId: String(row.id), attempts: row.attempts, error: description },
      'e-mail delivery will retry',
    );
    await retryLater(row, description, deps);
    return { kind: 'retrying', attempt: row.attempts, id: row.id };
  }

  sent.add(row.id);
  return { kind: 'sent' };
}

/** Back to pending, due after the back-off for this attempt (computed by PostgreSQL's clock, which claims compare with). */
async function retryLater(row: ClaimedDelivery, description: string, deps: EmailProcessorDeps): Promise<void> {
  const delaySeconds = retryDelayMs(row.attempts) / 1000;
  await deps.db.$executeRaw`
    UPDATE "Delivery"
       SET status = 'pending', "lastError" = ${description}, "nextAttemptAt" = now() + make_interval(secs => ${delaySeconds}::float8),
           "updatedAt" = now()
     WHERE id = ${row.id} AND status = 'sending'`;
}

/** The message of one delivery, by its kind, in the recipient's language (pickVersion's fallback for the content). */
function composeMessage(
  row: ClaimedDelivery,
  record: AnnouncementRecord,
  deps: EmailProcessorDeps,
  composers: Composers,
) {
  const requested = languageOf(row);
  const language = requested ?? record.versions[0]!.language;
  const unsubscribeToken =
    row.subscriptionId === null
      ? null
      : signUnsubscribeToken(deps.unsubscribeKey, { subscriptionId: row.subscriptionId, recipient: row.recipient });
  const common = {
    deliveryId: row.id,
    to: addressOf(row)!,
    from: deps.from,
    organisationName: row.organisationName,
    publicUrl: deps.publicUrl,
    language,
    channelTitle: row.channelTitle,
    unsubscribeToken,
    unsubscribeMailto: deps.unsubscribeMailto,
  };
  if (row.kind === 'correction' || row.kind === 'retraction') {
    const version = pickVersion(record.versions, requested);
    const notice = { ...common, title: version.title, contentLanguage: version.language };
    if (row.kind === 'retraction') return composeRetractionEmail(notice);
    const view = announcementView(record, { publicUrl: deps.publicUrl, language: requested });
    return composeCorrectionEmail({
      ...notice,
      note: row.revisionNote ?? null,
      summary: view.summary,
      body: view.body,
      url: view.url,
    });
  }
  if (row.kind === 'ack_reminder') {
    const version = pickVersion(record.versions, requested);
    return composeAckReminderEmail({
      ...common,
      title: version.title,
      contentLanguage: version.language,
      deadline: record.ackDeadline,
      url: announcementView(record, { publicUrl: deps.publicUrl, language: requested }).url,
    });
  }
  // Every input but the recipient's own is the same for a batch's rows of one announcement, language and
  // sender: rendered once per batch (announcementEmailComposer), not once per recipient.
  const key = `${record.id}\n${requested ?? ''}\n${language}\n${row.organisationName ?? ''}\n${row.channelTitle}`;
  let compose = composers.get(key);
  if (!compose) {
    const view = announcementView(record, { publicUrl: deps.publicUrl, language: requested });
    const { deliveryId: _id, to: _to, unsubscribeToken: _token, ...shared } = common;
    compose = announcementEmailComposer({ ...shared, announcement: emailAnnouncementOf(view) });
    composers.set(key, compose);
  }
  return compose({ deliveryId: row.id, to: common.to, unsubscribeToken });
}

/** The announcement composers of one batch, by announcement, language and sender (see composeMessage). */
type Composers = Map<string, ReturnType<typeof announcementEmailComposer>>;

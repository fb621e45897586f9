/**
 * Sends a batch of webhook deliveries, the e-mail processor's way (workers/processors/email.ts): each delivery is
 * claimed (pending → sending, medium `webhook`), re-checked, sent and settled on its own. A delivery's kind says its
 * event (src/webhooks/events.ts): `announcement` → `announcement.published`, `correction` → `announcement.updated`
 * (the announcement as it reads now, with the material revision's note), `retraction` → `announcement.retracted`.
 *
 * Re-checked just before sending: the webhook still exists, is enabled and still takes this event type; for a
 * publication or a correction, the announcement is still published, not expired, and for everyone (webhooks never get
 * announcements with a limited audience: see src/webhooks/deliveries.ts), and a correction is not superseded by a
 * later material revision's (which shows the same, newer text); for a retraction, the announcement is retracted, and
 * a webhook that was never sent it hears of it only if it was for everyone.
 *
 * Settling, per answer:
 * - 2xx: the delivery is `sent`; the webhook's consecutiveFailures goes back to 0 and lastSuccessAt is set.
 * - 410 Gone: the delivery `failed`, and the webhook is switched off at once (the receiver said it is gone for good).
 * - anything else (other statuses, 3xx — redirects are never followed —, timeouts, refused addresses, network errors):
 *   consecutiveFailures + 1; the delivery goes back to `pending` with exponential back-off and jitter, until
 *   WEBHOOK_MAX_ATTEMPTS, then `failed`. At WEBHOOK_MAX_FAILURES consecutive failures the webhook is switched off.
 *
 * Switching off is one transaction: enabled = false and disabledAt (only if it was enabled, so exactly one worker does
 * it), its pending deliveries `skipped`, and an audit record; then the channel's owners are told by e-mail. That
 * e-mail is best effort: a worker that dies between the commit and the send leaves the owners untold, and the audit
 * record and the webhook's disabledAt/lastError still say what happened.
 *
 * Every retry of a delivery carries the same `webhook-id` (msg_<delivery id>), so receivers can de-duplicate.
 */
import type { Queue } from 'bullmq';
import { type AnnouncementRecord, loadAnnouncementRecords } from '../../src/db/announcement-records.js';
import type { Db } from '../../src/db/prisma.js';
import { isSuppressed } from '../../src/db/suppression.js';
import { pickVersion } from '../../src/domain/announcement.js';
import type { Language } from '../../src/domain/types.js';
import type { Logger } from '../../src/logger.js';
import type { Mailer } from '../../src/mail/mailer.js';
import { jobId, type WebhookJob } from '../../src/queue/jobs.js';
import { recordAudit } from '../../src/services/audit.js';
import { announcementView } from '../../src/services/views.js';
import { enqueueWebhookDeliveries, webhookRecipient } from '../../src/webhooks/deliveries.js';
import { composeWebhookDisabledMail } from '../../src/webhooks/disabled-mail.js';
import { EVENT_OF_KIND, isWebhookDeliveryKind } from '../../src/webhooks/events.js';
import type { WebhookEvent, WebhookFormat } from '../../src/webhooks/formats.js';
import type { WebhookHttpClient } from '../../src/webhooks/http-client.js';
import { sendWebhookEvent } from '../../src/webhooks/send.js';
import { deliveryMessageId } from '../../src/webhooks/signing.js';
import { addRetryJobs, backoffWithJitterMs, claimDeliveries, parseDeliveryIds, sweepLedger } from './ledger.js';

export interface WebhookProcessorDeps {
  db: Db;
  client: WebhookHttpClient;
  webhookQueue: Pick<Queue<WebhookJob>, 'add'>;
  /** Tells the owners of a channel when one of its webhooks is switched off. */
  mailer: Mailer;
  mailFrom: string;
  publicUrl: string;
  /** WEBHOOK_MAX_ATTEMPTS: attempts per delivery. */
  maxAttempts: number;
  /** WEBHOOK_MAX_FAILURES: consecutive failures (across deliveries) that switch a webhook off. */
  maxFailures: number;
  logger: Logger;
  random?: () => number;
}

export interface WebhookJobResult {
  sent: number;
  skipped: number;
  failed: number;
  retrying: number;
  notClaimed: number;
  /** Webhooks this batch switched off. */
  disabled: number;
}

export const WEBHOOK_SKIP_REASON = {
  webhookRemoved: 'webhook_removed',
  webhookDisabled: 'webhook_disabled',
  announcementNotPublished: 'announcement_not_published',
  /** A retraction notice of an announcement that is not (or no longer) retracted. */
  announcementNotRetracted: 'announcement_not_retracted',
  expired: 'expired',
  /** The webhook no longer takes this event type (its owners changed `events` since the delivery was made). */
  eventNotWanted: 'event_not_wanted',
  /** A correction when one of a later material revision exists for the same webhook. */
  superseded: 'superseded',
  /** The announcement's audience is limited to some organisations: never sent by webhook. */
  audience: 'audience',
  unsupportedKind: 'unsupported_kind',
} as const;

/** Back-off: 30 s doubling to 1 h, "equal jitter" (half fixed, half random) so a batch does not retry in one burst. */
export const WEBHOOK_RETRY_BASE_MS = 30_000;
export const WEBHOOK_RETRY_MAX_MS = 3_600_000;
export function webhookRetryDelayMs(attempt: number, random: () => number = Math.random): number {
  return backoffWithJitterMs(attempt, WEBHOOK_RETRY_BASE_MS, WEBHOOK_RETRY_MAX_MS, random);
}

export function parseWebhookJob(data: unknown): bigint[] {
  return parseDeliveryIds(data, 'A webhook job');
}

interface ClaimedWebhookDelivery {
  id: bigint;
  attempts: number;
  kind: string;
  /** A correction's material revision; 0 otherwise. */
  revision: number;
  /** That revision's note, for a correction. */
  revisionNote: string | null;
  /** A correction: one of a later material revision exists for the same webhook. */
  superseded: boolean;
  /** The webhook was sent the publication (a `sent` delivery of kind `announcement`). */
  received: boolean;
  announcementId: string;
  announcementChannelId: string;
  announcementStatus: string;
  expired: boolean;
  audienceSize: number;
  channelTitle: string;
  webhookId: string | null;
  webhookChannelId: string | null;
  url: string | null;
  format: WebhookFormat | null;
  secret: string | null;
  enabled: boolean | null;
  events: string[] | null;
}

type Outcome =
  | { kind: 'sent' }
  | { kind: 'skipped' }
  | { kind: 'failed'; disabled: boolean }
  | { kind: 'retrying'; attempt: number; id: bigint };

export function webhookSkipReason(row: ClaimedWebhookDelivery): string | undefined {
  if (!isWebhookDeliveryKind(row.kind)) return WEBHOOK_SKIP_REASON.unsupportedKind;
  if (row.webhookId === null || row.webhookChannelId !== row.announcementChannelId) {
    return WEBHOOK_SKIP_REASON.webhookRemoved;
  }
  if (!row.enabled) return WEBHOOK_SKIP_REASON.webhookDisabled;
  if (!row.events?.includes(EVENT_OF_KIND[row.kind])) return WEBHOOK_SKIP_REASON.eventNotWanted;
  if (row.kind === 'retraction') {
    if (row.announcementStatus !== 'retracted') return WEBHOOK_SKIP_REASON.announcementNotRetracted;
    // Telling a receiver that never had it what was withdrawn would tell it the title of an announcement it was not
    // meant to see.
    if (row.audienceSize > 0 && !row.received) return WEBHOOK_SKIP_REASON.audience;
    return undefined;
  }
  if (row.announcementStatus !== 'published') return WEBHOOK_SKIP_REASON.announcementNotPublished;
  if (row.expired) return WEBHOOK_SKIP_REASON.expired;
  if (row.audienceSize > 0) return WEBHOOK_SKIP_REASON.audience;
  if (row.kind === 'correction' && row.superseded) return WEBHOOK_SKIP_REASON.superseded;
  return undefined;
}

/** The event a delivery carries, built from the announcement as it is now. */
export function webhookEventOf(
  row: Pick<ClaimedWebhookDelivery, 'kind' | 'channelTitle' | 'revisionNote'>,
  record: AnnouncementRecord,
  publicUrl: string,
  now: Date,
): WebhookEvent {
  const common = { timestamp: now, channelTitle: row.channelTitle };
  if (row.kind === 'retraction') {
    const original = pickVersion(record.versions, null);
    return {
      ...common,
      type: 'announcement.retracted',
      announcement: {
        id: record.id,
        channel: record.channelSlug,
        language: original.language,
        title: original.title,
        retractedAt: (record.retractedAt ?? now).toISOString(),
      },
    };
  }
  // The original language: a webhook has no reader whose language could be chosen.
  const announcement = announcementView(record, { publicUrl, language: null, now });
  return row.kind === 'correction'
    ? { ...common, type: 'announcement.updated', announcement, revisionNote: row.revisionNote }
    : { ...common, type: 'announcement.published', announcement };
}

export async function processWebhookJob(data: WebhookJob, deps: WebhookProcessorDeps): Promise<WebhookJobResult> {
  const ids = parseWebhookJob(data);
  const { db } = deps;

  const claimed = await claimDeliveries(db, ids, 'webhook');
  const result: WebhookJobResult = {
    sent: 0,
    skipped: 0,
    failed: 0,
    retrying: 0,
    notClaimed: ids.length - claimed.length,
    disabled: 0,
  };
  if (claimed.length === 0) return result;

  const rows = await db.$queryRaw<ClaimedWebhookDelivery[]>`
    SELECT d.id, d.attempts, d.kind::text AS kind, d.revision, r.note AS "revisionNote",
           (d.kind = 'correction' AND EXISTS (
              SELECT 1 FROM "Delivery" later
               WHERE later."announcementId" = d."announcementId" AND later.recipient = d.recipient
                 AND later.medium = d.medium AND later.kind = 'correction' AND later.revision > d.revision))
             AS superseded,
           EXISTS (
             SELECT 1 FROM "Delivery" shown
              WHERE shown."announcementId" = d."announcementId" AND shown.recipient = d.recipient
                AND shown.medium = d.medium AND shown.kind = 'announcement' AND shown.status = 'sent') AS received,
           d."announcementId"::text AS "announcementId",
           a."channelId"::text AS "announcementChannelId", a.status::text AS "announcementStatus",
           (a."expiresAt" IS NOT NULL AND a."expiresAt" <= now()) AS expired,
           cardinality(a."audienceOrganisationIds")::int AS "audienceSize",
           c.title AS "channelTitle",
           w.id::text AS "webhookId", w."channelId"::text AS "webhookChannelId", w.url, w.format::text AS format,
           w.secret, w.enabled, w.events
      FROM "Delivery" d
      JOIN "Announcement" a ON a.id = d."announcementId"
      JOIN "Channel" c ON c.id = a."channelId"
      LEFT JOIN "Webhook" w ON d.recipient = 'webhook:' || w.id::text
      LEFT JOIN "AnnouncementRevision" r
             ON d.kind = 'correction' AND r."announcementId" = d."announcementId" AND r.revision = d.revision
     WHERE d.id = ANY(${claimed.map((row) => String(row.id))}::bigint[])
     ORDER BY d.id`;
  const records = new Map(
    (await loadAnnouncementRecords(db, [...new Set(rows.map((row) => row.announcementId))])).map((r) => [r.id, r]),
  );

  const settled = await Promise.allSettled(
    rows.map(async (row): Promise<Outcome> => {
      const record = records.get(row.announcementId);
      const reason = record ? webhookSkipReason(row) : WEBHOOK_SKIP_REASON.announcementNotPublished;
      if (reason) {
        await db.$executeRaw`
          UPDATE "Delivery" SET status = 'skipped', "skipReason" = ${reason}, "updatedAt" = now()
           WHERE id = ${row.id} AND status = 'sending'`;
        return { kind: 'skipped' };
      }
      const now = new Date();
      const outcome = await sendWebhookEvent(
        deps.client,
        { url: row.url!, format: row.format!, secret: row.secret! },
        webhookEventOf(row, record!, deps.publicUrl, now),
        deliveryMessageId(row.id),
        now,
      );
      if (outcome.ok) return settleSent(row, deps);
      return settleFailure(row, outcome.error, outcome.gone, deps);
    }),
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
    if (value.kind === 'failed' && value.disabled) result.disabled += 1;
    if (value.kind === 'retrying') retries.set(value.attempt, [...(retries.get(value.attempt) ?? []), value.id]);
  }

  await addRetryJobs(db, retries, (deliveryIds, attempt, delay) =>
    deps.webhookQueue.add('webhook', { deliveryIds }, { jobId: jobId.webhook(deliveryIds[0]!, attempt), delay }),
  );

  if (infrastructureError) throw infrastructureError;
  deps.logger.debug({ ...result, batch: ids.length }, 'webhook batch done');
  return result;
}

async function settleSent(row: ClaimedWebhookDelivery, deps: WebhookProcessorDeps): Promise<Outcome> {
  await deps.db.$transaction([
    deps.db.$executeRaw`
      UPDATE "Delivery" SET status = 'sent', "sentAt" = now(), "lastError" = NULL, "updatedAt" = now()
       WHERE id = ${row.id} AND status IN ('sending', 'pending')`,
    deps.db.$executeRaw`
      UPDATE "Webhook" SET "consecutiveFailures" = 0, "lastSuccessAt" = now(), "lastError" = NULL, "updatedAt" = now()
       WHERE id = ${row.webhookId}::uuid`,
  ]);
  return { kind: 'sent' };
}

async function settleFailure(
  row: ClaimedWebhookDelivery,
  error: string,
  gone: boolean,
  deps: WebhookProcessorDeps,
): Promise<Outcome> {
  const { db, logger } = deps;
  const webhookId = row.webhookId!;
  const [counted] = await db.$queryRaw<{ consecutiveFailures: number; enabled: boolean }[]>`
    UPDATE "Webhook"
       SET "consecutiveFailures" = "consecutiveFailures" + 1, "lastError" = ${error}, "updatedAt" = now()
     WHERE id = ${webhookId}::uuid
    RETURNING "consecutiveFailures", enabled`;

  let disabledNow = false;
  if (counted?.enabled && (gone || counted.consecutiveFailures >= deps.maxFailures)) {
    disabledNow = await disableWebhook(webhookId, gone ? 'gone' : 'failures', deps);
  }
  const webhookOff = disabledNow || counted === undefined || !counted.enabled;

  if (webhookOff || row.attempts >= deps.maxAttempts) {
    logger.warn({ deliveryId: String(row.id), webhookId, attempts: row.attempts, error }, 'webhook delivery failed');
    await db.$executeRaw`
      UPDATE "Delivery" SET status = 'failed', "lastError" = ${error}, "updatedAt" = now()
       WHERE id = ${row.id} AND status = 'sending'`;
    return { kind: 'failed', disabled: disabledNow };
  }
  logger.info({ deliveryId: String(row.id), webhookId, attempts: row.attempts, error }, 'webhook delivery will retry');
  const delaySeconds = webhookRetryDelayMs(row.attempts, deps.random) / 1000;
  await db.$executeRaw`
    UPDATE "Delivery"
       SET status = 'pending', "lastError" = ${error},
           "nextAttemptAt" = now() + make_interval(secs => ${delaySeconds}::float8), "updatedAt" = now()
     WHERE id = ${row.id} AND status = 'sending'`;
  return { kind: 'retrying', attempt: row.attempts, id: row.id };
}

interface DisabledWebhook {
  id: string;
  channelId: string;
  url: string;
  description: string;
  consecutiveFailures: number;
  lastError: string | null;
  disabledAt: Date;
}

/**
 * Switches the webhook off if it is on. Returns whether this call did it (and so told the owners). Exported for the
 * API's use-case tests; the processor is its only caller in production.
 */
export async function disableWebhook(
  webhookId: string,
  reason: 'failures' | 'gone',
  deps: Pick<WebhookProcessorDeps, 'db' | 'mailer' | 'mailFrom' | 'publicUrl' | 'logger'>,
): Promise<boolean> {
  const disabled = await deps.db.$transaction(async (tx) => {
    const [row] = await tx.$queryRaw<DisabledWebhook[]>`
      UPDATE "Webhook" SET enabled = false, "disabledAt" = now(), "updatedAt" = now()
       WHERE id = ${webhookId}::uuid AND enabled
      RETURNING id::text, "channelId"::text AS "channelId", url, description, "consecutiveFailures", "lastError",
                "disabledAt"`;
    if (!row) return null;
    const skipped = await tx.$executeRaw`
      UPDATE "Delivery" SET status = 'skipped', "skipReason" = 'webhook_disabled', "updatedAt" = now()
       WHERE medium = 'webhook' AND recipient = ${webhookRecipient(webhookId)} AND status = 'pending'`;
    await recordAudit(tx, {
      actor: 'system',
      action: 'webhook.disable',
      outcome: 'success',
      targetType: 'webhook',
      targetId: webhookId,
      details: { channelId: row.channelId, reason, consecutiveFailures: row.consecutiveFailures, skipped },
    });
    return row;
  });
  if (!disabled) return false;
  deps.logger.warn(
    { webhookId, reason, consecutiveFailures: disabled.consecutiveFailures },
    'webhook switched off; telling the channel owners',
  );
  await tellOwners(disabled, reason, deps);
  return true;
}

async function tellOwners(
  webhook: DisabledWebhook,
  reason: 'failures' | 'gone',
  deps: Pick<WebhookProcessorDeps, 'db' | 'mailer' | 'mailFrom' | 'publicUrl' | 'logger'>,
): Promise<void> {
  const channel = await deps.db.channel.findUnique({
    where: { id: webhook.channelId },
    select: {
      slug: true,
      title: true,
      roles: { where: { role: 'owner' }, select: { user: { select: { email: true, language: true } } } },
    },
  });
  if (!channel) return;
  const host = new URL(deps.publicUrl).hostname;
  const owners = channel.roles.flatMap((role) => (role.user.email ? [role.user] : []));
  if (owners.length === 0) deps.logger.warn({ webhookId: webhook.id }, 'switched-off webhook has no owner to tell');
  for (const [index, owner] of owners.entries()) {
    const message = composeWebhookDisabledMail({
      to: owner.email!,
      from: deps.mailFrom,
      language: owner.language as Language,
      channelTitle: channel.title,
      channelSlug: channel.slug,
      webhookId: webhook.id,
      webhookUrl: webhook.url,
      description: webhook.description,
      reason,
      failures: webhook.consecutiveFailures,
      lastError: webhook.lastError,
      publicUrl: deps.publicUrl,
      messageId: `<webhook-disabled-${webhook.id}-${webhook.disabledAt.getTime()}-${index}@${host}>`,
    });
    // The suppression list holds for every mail we send (src/db/suppression.ts).
    if (await isSuppressed(deps.db, owner.email!)) {
      deps.logger.warn(
        { webhookId: webhook.id },
        'an owner was not told of a switched-off webhook: address suppressed',
      );
      continue;
    }
    try {
      await deps.mailer.send(message);
    } catch (error) {
      deps.logger.error(
        { err: error, webhookId: webhook.id },
        'could not tell an owner that a webhook was switched off',
      );
    }
  }
}

// --- sweeper ---------------------------------------------------------------------------------------------------

export interface WebhookSweepDeps {
  db: Db;
  webhookQueue: Pick<Queue<WebhookJob>, 'addBulk'>;
  /** STALE_DELIVERY_MS: kept well above WEBHOOK_TIMEOUT_MS, so a slow call is never taken for a lost one. */
  staleDeliveryMs: number;
  /** WEBHOOK_MAX_ATTEMPTS. */
  maxAttempts: number;
  logger: Logger;
}

export interface WebhookSweepResult {
  resetSending: number;
  failedSending: number;
  requeuedPending: number;
}

export const WEBHOOK_WORKER_LOST_ERROR = 'worker lost while sending';

/**
 * The sweeper's work for webhooks (workers/processors/sweep.ts calls it), as for e-mail: `sending` rows whose worker
 * died go back to `pending` (or `failed` when out of attempts) and are re-queued — a resend carries the same
 * webhook-id, so receivers can drop the duplicate —, and `pending` rows long past due (their job was lost) are
 * re-queued. Both picks are claims over SKIP LOCKED rows, so two sweepers never take the same row.
 */
export async function sweepWebhooks(deps: WebhookSweepDeps): Promise<WebhookSweepResult> {
  const { db } = deps;
  const result: WebhookSweepResult = { resetSending: 0, failedSending: 0, requeuedPending: 0 };
  const sweptAt = Date.now();
  const requeue = (ids: string[]) =>
    enqueueWebhookDeliveries(deps.webhookQueue, ids, (first) => jobId.webhookRequeue(first, sweptAt));

  Object.assign(
    result,
    await sweepLedger(
      db,
      {
        ledger: { table: 'Delivery', medium: 'webhook' },
        staleDeliveryMs: deps.staleDeliveryMs,
        maxAttempts: deps.maxAttempts,
        lostError: WEBHOOK_WORKER_LOST_ERROR,
      },
      requeue,
    ),
  );

  if (result.resetSending + result.failedSending + result.requeuedPending > 0) {
    deps.logger.warn(result, 'sweeper re-queued lost webhook deliveries');
  }
  return result;
}

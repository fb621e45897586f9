/**
 * Queue names, job payloads and job-id builders: the contract between producers (outbox relay, sweeper, API) and
 * the worker bindings. Payloads carry ids only; processors re-read everything from PostgreSQL. Job ids are
 * deterministic so that adding the same work twice is a no-op while the first job exists (BullMQ ids must not
 * contain ':').
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

export const QUEUE = {
  fanout: 'fanout',
  email: 'email',
  push: 'push',
  webhook: 'webhook',
  maintenance: 'maintenance',
  scheduled: 'scheduled',
  confirmation: 'confirmation',
  digest: 'digest',
} as const;
export type QueueName = (typeof QUEUE)[keyof typeof QUEUE];

/**
 * Fan one published announcement out to its channel's subscribers (job name `fanout`), or make the notices to those
 * who received it (workers/processors/notices.ts): job name `correction` with the material `revision`, or
 * `retraction`.
 */
export interface FanoutJob {
  announcementId: string;
  /** A correction's revision. */
  revision?: number;
}

/** Send these e-mail deliveries (ledger ids as decimal strings; bigint does not survive JSON). */
export interface EmailJob {
  deliveryIds: string[];
}

/**
 * Publish one scheduled announcement when its time has come: a DELAYED job added by the outbox relay for an
 * `announcement.scheduled` event. Redis is only the timer; the sweeper publishes what a lost job would have.
 */
export interface ScheduledPublishJob {
  announcementId: string;
}

/** Send these web push deliveries (ledger ids as decimal strings), each to every browser of its recipient. */
export interface PushJob {
  deliveryIds: string[];
}

/** Send these webhook deliveries (ledger ids as decimal strings), see workers/processors/webhook.ts. */
export interface WebhookJob {
  deliveryIds: string[];
}

/**
 * Send the double opt-in e-mail of a bare e-mail subscription (workers/processors/confirmation.ts). `requestedAt` is
 * the subscription's confirmationSentAt (ms) set by the request that asked for it, so each send has its own job id.
 */
export interface ConfirmationJob {
  subscriptionId: string;
  requestedAt: number;
}

/**
 * E-mail digests (workers/processors/digest.ts): `run` makes the Digest rows of one period (from the daily or weekly
 * job scheduler; the period comes from the job's scheduled time), `send` sends Digest rows (ids as decimal strings).
 */
export type DigestJob =
  /** `scheduledAt` (ms) names the period of a run added by hand; scheduler jobs carry it as their prevMillis. */
  { task: 'run'; mode: 'daily' | 'weekly'; scheduledAt?: number } | { task: 'send'; digestIds: string[] };

/** Periodic housekeeping, scheduled once per cluster by a BullMQ job scheduler. */
export interface MaintenanceJob {
  /** `sweep`: workers/processors/sweep.ts; `ack-reminders`: workers/processors/ack-reminders.ts. */
  task: 'sweep' | 'ack-reminders';
}

export const jobId = {
  fanout: (announcementId: string) => `fanout-${announcementId}`,
  /** The corrections of one material revision (fan-out queue); a later revision is another job. */
  correction: (announcementId: string, revision: number) => `correction-${announcementId}-r${revision}`,
  /** The retraction notices of one announcement (fan-out queue). */
  retraction: (announcementId: string) => `retraction-${announcementId}`,
  /** A batch is named by its first delivery id; a retry of the same batch gets the attempt number appended. */
  email: (firstDeliveryId: string | bigint, attempt?: number) =>
    attempt ? `email-${firstDeliveryId}-r${attempt}` : `email-${firstDeliveryId}`,
  /**
   * The sweeper's re-queue of lost deliveries. It needs its own name: the job that lost them may still be kept as
   * completed under `email-<first id>`, and BullMQ ignores an add under a kept job's id.
   */
  emailRequeue: (firstDeliveryId: string | bigint, sweptAtMs: number) => `email-${firstDeliveryId}-s${sweptAtMs}`,
  /** Web push batches, named like e-mail batches (a retry appends the attempt, the sweeper's re-queue its time). */
  push: (firstDeliveryId: string | bigint, attempt?: number) =>
    attempt ? `push-${firstDeliveryId}-r${attempt}` : `push-${firstDeliveryId}`,
  pushRequeue: (firstDeliveryId: string | bigint, sweptAtMs: number) => `push-${firstDeliveryId}-s${sweptAtMs}`,
  /** Webhook batches, named like e-mail batches (a retry appends the attempt, the sweeper's re-queue its time). */
  webhook: (firstDeliveryId: string | bigint, attempt?: number) =>
    attempt ? `webhook-${firstDeliveryId}-r${attempt}` : `webhook-${firstDeliveryId}`,
  webhookRequeue: (firstDeliveryId: string | bigint, sweptAtMs: number) => `webhook-${firstDeliveryId}-s${sweptAtMs}`,
  /**
   * The timer of a scheduled publication. The time is part of the id, so re-scheduling (a new publishAt) adds a new
   * job instead of being ignored as a duplicate of the old one, which then finds nothing due and does nothing.
   */
  scheduledPublish: (announcementId: string, publishAtMs: number) => `scheduled-${announcementId}-${publishAtMs}`,
  /** One confirmation e-mail: the subscription and when it was asked for (a repeated add of the same send is ignored). */
  confirmation: (subscriptionId: string | bigint, requestedAtMs: number) =>
    `confirmation-${subscriptionId}-${requestedAtMs}`,
  /** Digest sends, named like e-mail batches (a retry appends the attempt, the sweeper's re-queue its time). */
  digestSend: (firstDigestId: string | bigint, attempt?: number) =>
    attempt ? `digest-${firstDigestId}-r${attempt}` : `digest-${firstDigestId}`,
  digestRequeue: (firstDigestId: string | bigint, sweptAtMs: number) => `digest-${firstDigestId}-s${sweptAtMs}`,
};

export const SWEEP_SCHEDULER_ID = 'sweep';
/** The job scheduler of acknowledgement reminders (on the maintenance queue, like the sweeper). */
export const ACK_REMINDER_SCHEDULER_ID = 'ack-reminders';
/** The job schedulers of e-mail digests (on the digest queue): cron at DIGEST_TIME in DIGEST_TIME_ZONE. */
export const DIGEST_SCHEDULER_ID = { daily: 'digest-daily', weekly: 'digest-weekly' } as const;

export interface Queues {
  fanout: Queue<FanoutJob>;
  email: Queue<EmailJob>;
  push: Queue<PushJob>;
  webhook: Queue<WebhookJob>;
  maintenance: Queue<MaintenanceJob>;
  scheduled: Queue<ScheduledPublishJob>;
  confirmation: Queue<ConfirmationJob>;
  digest: Queue<DigestJob>;
  close(): Promise<void>;
}

/**
 * Completed jobs are kept a while so a re-add with the same id is ignored (dedup window); failed ones longer, for
 * inspection. The ledger in PostgreSQL, not Redis, is the record of what was delivered.
 */
export const DEFAULT_JOB_OPTIONS = {
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
} as const;

/**
 * The key prefix of every BullMQ queue (the queues here and the workers' bindings must agree): `<REDIS_PREFIX>:bull`.
 * On a Redis Cluster the prefix is a hash tag, `{<REDIS_PREFIX>}:bull`, as BullMQ requires: its Lua scripts touch
 * several keys of a queue at once, which must live in one slot. So all queue keys live on one master; pub/sub and the
 * other keys (rate limits, tickets) spread over the cluster.
 */
export function bullPrefix(prefix: string, connection: Pick<Redis, 'isCluster'>): string {
  return connection.isCluster ? `{${prefix}}:bull` : `${prefix}:bull`;
}

export function createQueues(connection: Redis, prefix: string): Queues {
  const opts = { connection, prefix: bullPrefix(prefix, connection), defaultJobOptions: DEFAULT_JOB_OPTIONS };
  const fanout = new Queue<FanoutJob>(QUEUE.fanout, {
    ...opts,
    defaultJobOptions: {
      ...DEFAULT_JOB_OPTIONS,
      attempts: 10,
      backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
    },
  });
  const email = new Queue<EmailJob>(QUEUE.email, {
    ...opts,
    defaultJobOptions: {
      ...DEFAULT_JOB_OPTIONS,
      attempts: 10,
      backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
    },
  });
  const push = new Queue<PushJob>(QUEUE.push, {
    ...opts,
    defaultJobOptions: {
      ...DEFAULT_JOB_OPTIONS,
      attempts: 10,
      backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
    },
  });
  const webhook = new Queue<WebhookJob>(QUEUE.webhook, {
    ...opts,
    defaultJobOptions: {
      ...DEFAULT_JOB_OPTIONS,
      attempts: 10,
      backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
    },
  });
  const maintenance = new Queue<MaintenanceJob>(QUEUE.maintenance, opts);
  const scheduled = new Queue<ScheduledPublishJob>(QUEUE.scheduled, {
    ...opts,
    defaultJobOptions: {
      ...DEFAULT_JOB_OPTIONS,
      // A job that fires a moment before PostgreSQL's clock reaches publishAt retries shortly (see
      // workers/processors/scheduled-publish.ts); the sweeper covers everything beyond.
      attempts: 8,
      backoff: { type: 'exponential', delay: 500, jitter: 0.5 },
    },
  });
  const confirmation = new Queue<ConfirmationJob>(QUEUE.confirmation, {
    ...opts,
    defaultJobOptions: {
      ...DEFAULT_JOB_OPTIONS,
      // Transient SMTP failures are retried by BullMQ (the processor throws them); permanent ones end the job.
      attempts: 8,
      backoff: { type: 'exponential', delay: 30_000, jitter: 0.5 },
    },
  });
  const digest = new Queue<DigestJob>(QUEUE.digest, {
    ...opts,
    defaultJobOptions: {
      ...DEFAULT_JOB_OPTIONS,
      // A run that failed (database down) or whose worker died is run again: runs are idempotent and resumable.
      // Transient SMTP failures of a send are retried through the ledger (nextAttemptAt), not by BullMQ.
      attempts: 10,
      backoff: { type: 'exponential', delay: 5000, jitter: 0.5 },
    },
  });
  return {
    fanout,
    email,
    push,
    webhook,
    maintenance,
    scheduled,
    confirmation,
    digest,
    async close() {
      await Promise.all([
        fanout.close(),
        email.close(),
        push.close(),
        webhook.close(),
        maintenance.close(),
        scheduled.close(),
        confirmation.close(),
        digest.close(),
      ]);
    },
  };
}

/** Splits ids into chunks for enqueueing (addBulk of thousands holds workers back; keep chunks ≤ 1,000). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

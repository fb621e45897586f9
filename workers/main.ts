/**
 * Starts the delivery pipeline in this process: the fan-out, e-mail, maintenance and scheduled-publishing workers,
 * the outbox relay, and the job schedulers (workers/schedulers.ts). The process entry point (src/main.ts) owns
 * signals, the deadline and the mail catcher; it calls `startWorkers` and, on shutdown, `close()`.
 */
import type { Agent } from 'node:https';
import type { Deps } from '../src/deps.js';
import type { Logger } from '../src/logger.js';
import type { Mailer } from '../src/mail/mailer.js';
import { resolveUnsubscribeKey } from '../src/mail/unsubscribe-token.js';
import type { BoundWorker } from './binding.js';
import { createConfirmationWorker } from './confirmation.worker.js';
import { createDigestWorker } from './digest.worker.js';
import { createEmailWorker } from './email.worker.js';
import { createFanoutWorker } from './fanout.worker.js';
import { createMaintenanceWorker } from './maintenance.worker.js';
import { createOutboxRelay } from './outbox-relay.js';
import { createPushWorker } from './push.worker.js';
import { createScheduledWorker } from './scheduled.worker.js';
import { keepSchedulers, upsertSchedulers } from './schedulers.js';
import { createWebhookWorker } from './webhook.worker.js';

export interface StartWorkersOptions {
  /** Where e-mail goes (createSmtpMailer). The caller closes it after `close()`. */
  mailer: Mailer;
  logger: Logger;
  /** HTTPS agent for requests to push services; production leaves it out (tests trust their local push service). */
  pushAgent?: Agent;
}

export interface RunningWorkers {
  /**
   * Drains gracefully: the relay stops, the workers stop taking jobs and wait for the active ones (sends in flight
   * finish and are settled in the ledger). Memoised. Does not close `deps` or the mailer, which the caller owns.
   */
  close(): Promise<void>;
}

export async function startWorkers(deps: Deps, options: StartWorkersOptions): Promise<RunningWorkers> {
  const { config } = deps;
  const logger = options.logger;
  const unsubscribeKey = resolveUnsubscribeKey(config, logger);

  const workers: BoundWorker[] = [];
  const relay = createOutboxRelay({
    db: deps.db,
    fanoutQueue: deps.queues.fanout,
    scheduledQueue: deps.queues.scheduled,
    publisher: deps.redis,
    redisPrefix: config.redis.prefix,
    // LISTEN holds a session: through a transaction pooler it would hear nothing (DATABASE_DIRECT_URL).
    databaseUrl: config.database.directUrl,
    publicUrl: config.http.publicUrl,
    pollMs: config.delivery.outboxPollMs,
    logger: logger.child({ component: 'outbox-relay' }),
  });

  let stopKeepingSchedulers: (() => void) | undefined;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      stopKeepingSchedulers?.();
      await relay.close();
      await Promise.all(workers.map((w) => w.close()));
      logger.info('workers stopped');
    })();
    return closing;
  };

  try {
    workers.push(
      createFanoutWorker(deps, logger.child({ component: 'fanout' })),
      createEmailWorker(deps, { mailer: options.mailer, unsubscribeKey, logger: logger.child({ component: 'email' }) }),
      createPushWorker(deps, {
        logger: logger.child({ component: 'push' }),
        ...(options.pushAgent ? { agent: options.pushAgent } : {}),
      }),
      createMaintenanceWorker(deps, logger.child({ component: 'maintenance' })),
      createScheduledWorker(deps, logger.child({ component: 'scheduled' })),
      createConfirmationWorker(deps, {
        mailer: options.mailer,
        signingKey: unsubscribeKey,
        logger: logger.child({ component: 'confirmation' }),
      }),
      createWebhookWorker(deps, { mailer: options.mailer, logger: logger.child({ component: 'webhook' }) }),
      createDigestWorker(deps, {
        mailer: options.mailer,
        unsubscribeKey,
        logger: logger.child({ component: 'digest' }),
      }),
    );
    await Promise.all(workers.map((w) => w.worker.waitUntilReady()));

    // Upserted at every start and checked every sweep interval (workers/schedulers.ts): the schedule lives in Redis,
    // and a Redis that lost its data gets it back without a restart. One schedule per cluster, however many workers.
    await upsertSchedulers(deps);
    stopKeepingSchedulers = keepSchedulers(
      deps,
      logger.child({ component: 'schedulers' }),
      config.delivery.sweepIntervalMs,
    );

    // Prisma loads its query compiler (WebAssembly, ~0.5 s of CPU) at a client's first query: here, before the relay
    // starts, not on the first announcement's way to its recipients (bench/email-fanout.ts, first e-mail).
    await deps.db.$queryRaw`SELECT 1`;
    await relay.start();
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }

  logger.info(
    {
      emailConcurrency: config.delivery.emailConcurrency,
      emailBatchSize: config.delivery.emailBatchSize,
      sweepIntervalMs: config.delivery.sweepIntervalMs,
    },
    'workers started',
  );
  return { close };
}

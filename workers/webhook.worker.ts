/** BullMQ binding of the webhook processor (workers/processors/webhook.ts). */
import type { Deps } from '../src/deps.js';
import type { Logger } from '../src/logger.js';
import type { Mailer } from '../src/mail/mailer.js';
import { QUEUE, type WebhookJob } from '../src/queue/jobs.js';
import { parseAllowlist } from '../src/webhooks/addresses.js';
import { createWebhookHttpClient } from '../src/webhooks/http-client.js';
import { type BoundWorker, bindWorker } from './binding.js';
import { processWebhookJob, type WebhookJobResult } from './processors/webhook.js';

/** Webhook jobs in flight per worker process: each waits on remote servers (up to WEBHOOK_TIMEOUT_MS per call). */
const WEBHOOK_CONCURRENCY = 8;

export function createWebhookWorker(
  deps: Pick<Deps, 'config' | 'db' | 'queues'>,
  options: { mailer: Mailer; logger: Logger },
): BoundWorker {
  const { config } = deps;
  const processorDeps = {
    db: deps.db,
    client: createWebhookHttpClient({
      allowlist: parseAllowlist(config.webhooks.allowedHosts),
      timeoutMs: config.webhooks.timeoutMs,
    }),
    webhookQueue: deps.queues.webhook,
    mailer: options.mailer,
    mailFrom: config.mail.from,
    publicUrl: config.http.publicUrl,
    maxAttempts: config.webhooks.maxAttempts,
    maxFailures: config.webhooks.maxFailures,
    logger: options.logger,
  };
  return bindWorker<WebhookJob, WebhookJobResult>(QUEUE.webhook, (data) => processWebhookJob(data, processorDeps), {
    config,
    logger: options.logger,
    concurrency: WEBHOOK_CONCURRENCY,
  });
}

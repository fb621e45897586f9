/** BullMQ binding of the e-mail processor (workers/processors/email.ts). */
import type { Deps } from '../src/deps.js';
import type { Logger } from '../src/logger.js';
import type { Mailer } from '../src/mail/mailer.js';
import { type EmailJob, QUEUE } from '../src/queue/jobs.js';
import { type BoundWorker, bindWorker } from './binding.js';
import { type EmailJobResult, processEmailJob } from './processors/email.js';
import { sentGroups } from './processors/ledger.js';

export function createEmailWorker(
  deps: Pick<Deps, 'config' | 'db' | 'queues'>,
  options: { mailer: Mailer; unsubscribeKey: string | Buffer; logger: Logger },
): BoundWorker {
  const { config } = deps;
  const processorDeps = {
    db: deps.db,
    mailer: options.mailer,
    emailQueue: deps.queues.email,
    unsubscribeKey: options.unsubscribeKey,
    publicUrl: config.http.publicUrl,
    from: config.mail.from,
    unsubscribeMailto: config.unsubscribeMailto,
    maxAttempts: config.delivery.emailMaxAttempts,
    logger: options.logger,
    // One for the process: the jobs in flight write their sent rows in shared statements.
    sentGroups: sentGroups(deps.db),
  };
  return bindWorker<EmailJob, EmailJobResult>(QUEUE.email, (data) => processEmailJob(data, processorDeps), {
    config,
    logger: options.logger,
    concurrency: config.delivery.emailConcurrency,
  });
}

/** BullMQ binding of the confirmation e-mails of subscriptions without an account (processors/confirmation.ts). */
import type { Deps } from '../src/deps.js';
import type { Logger } from '../src/logger.js';
import type { Mailer } from '../src/mail/mailer.js';
import { type ConfirmationJob, QUEUE } from '../src/queue/jobs.js';
import { type BoundWorker, bindWorker } from './binding.js';
import { type ConfirmationResult, processConfirmation } from './processors/confirmation.js';

export function createConfirmationWorker(
  deps: Pick<Deps, 'config' | 'db'>,
  options: { mailer: Mailer; signingKey: string | Buffer; logger: Logger },
): BoundWorker {
  const { config } = deps;
  const processorDeps = {
    db: deps.db,
    mailer: options.mailer,
    signingKey: options.signingKey,
    publicUrl: config.http.publicUrl,
    from: config.mail.from,
    logger: options.logger,
  };
  return bindWorker<ConfirmationJob, ConfirmationResult>(
    QUEUE.confirmation,
    (data) => processConfirmation(data, processorDeps),
    // Few and small: a handful at a time leaves the pool to the announcement e-mails.
    { config, logger: options.logger, concurrency: 4 },
  );
}

/**
 * Queue health for administrators (src/services/admin-queues.ts): each BullMQ queue's job counts and whether it is
 * paused, the delivery ledger by status (per medium, and digests) with how long the oldest due pending row has
 * waited (/admin/queues); and one queue's most recently failed jobs, without their data (/admin/queues/{name}).
 */
import type { FailedJob, LedgerCounts, QueueOverview } from '../../../services/admin-queues.js';
import type { PageContext } from '../../context.js';
import type { MessageKey } from '../../i18n/catalogue.js';
import { WEB_PATHS } from '../../paths.js';
import { AdminFrame } from './shared.js';

const JOB_STATES = [
  ['waiting', 'admin.queues.state.waiting'],
  ['active', 'admin.queues.state.active'],
  ['delayed', 'admin.queues.state.delayed'],
  ['prioritized', 'admin.queues.state.prioritized'],
  ['waiting-children', 'admin.queues.state.waitingChildren'],
  ['completed', 'admin.queues.state.completed'],
  ['failed', 'admin.queues.state.failed'],
] as const satisfies readonly (readonly [keyof QueueOverview['queues'][number]['counts'], MessageKey])[];

const LEDGER_STATES = [
  ['pending', 'publisher.col.pending'],
  ['sending', 'admin.queues.ledger.sending'],
  ['sent', 'publisher.col.sent'],
  ['failed', 'publisher.col.failed'],
  ['skipped', 'publisher.col.skipped'],
] as const satisfies readonly (readonly [keyof LedgerCounts, MessageKey])[];

const MEDIUM_LABELS: Record<string, MessageKey> = {
  email: 'publisher.medium.email',
  push: 'publisher.medium.push',
  webhook: 'publisher.medium.webhook',
};

/** A wait as a person reads it: seconds, minutes, hours or days. */
export function waitLabel(ctx: PageContext, seconds: number | null): string {
  if (seconds === null) return '–';
  if (seconds < 60) return ctx.t('admin.queues.wait.seconds', { count: Math.max(0, Math.round(seconds)) });
  if (seconds < 3600) return ctx.t('admin.queues.wait.minutes', { count: Math.round(seconds / 60) });
  if (seconds < 86_400) return ctx.t('admin.queues.wait.hours', { count: Math.round(seconds / 3600) });
  return ctx.t('admin.queues.wait.days', { count: Math.round(seconds / 86_400) });
}

function LedgerRow({ ctx, label, counts }: { ctx: PageContext; label: string; counts: LedgerCounts }) {
  return (
    <tr>
      <th scope="row">{label}</th>
      {LEDGER_STATES.map(([state]) => (
        <td key={state} data-status={state}>
          {counts[state]}
        </td>
      ))}
      <td>{waitLabel(ctx, counts.oldestDuePendingSeconds)}</td>
    </tr>
  );
}

export function AdminQueuesPage({ ctx, overview }: { ctx: PageContext; overview: QueueOverview }) {
  const t = ctx.t;
  const { deliveries, digests } = overview.ledger;
  return (
    <AdminFrame ctx={ctx} title={t('admin.queues.title')} section="queues" lead={t('admin.queues.lead')}>
      <section aria-labelledby="queues-heading" class="mk-stack">
        <h2 class="ds-heading" data-size="sm" id="queues-heading">
          {t('admin.queues.queuesHeading')}
        </h2>
        <div class="mk-figures">
          <table class="ds-table" data-border>
            <caption>{t('admin.queues.queuesCaption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('admin.queues.queue')}</th>
                <th scope="col">{t('admin.queues.status')}</th>
                {JOB_STATES.map(([state, label]) => (
                  <th key={state} scope="col">
                    {t(label)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {overview.queues.map((queue) => (
                <tr key={queue.name} data-queue={queue.name}>
                  <th scope="row">
                    <a class="ds-link" href={WEB_PATHS.adminQueue(queue.name)}>
                      {queue.name}
                    </a>
                  </th>
                  <td>
                    {queue.paused ? (
                      <span class="ds-tag" data-color="warning">
                        {t('admin.queues.paused')}
                      </span>
                    ) : (
                      t('admin.queues.running')
                    )}
                  </td>
                  {JOB_STATES.map(([state]) => (
                    <td key={state} data-state={state}>
                      {queue.counts[state]}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <p class="ds-paragraph" data-size="sm">
          {t('admin.queues.queuesHelp')}
        </p>
      </section>

      <section aria-labelledby="ledger-heading" class="mk-stack">
        <h2 class="ds-heading" data-size="sm" id="ledger-heading">
          {t('admin.queues.ledgerHeading')}
        </h2>
        <div class="mk-figures">
          <table class="ds-table" data-border>
            <caption>{t('admin.queues.ledgerCaption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('admin.queues.kind')}</th>
                {LEDGER_STATES.map(([state, label]) => (
                  <th key={state} scope="col">
                    {t(label)}
                  </th>
                ))}
                <th scope="col">{t('admin.queues.oldestDue')}</th>
              </tr>
            </thead>
            <tbody>
              {deliveries.byMedium.map((row) => (
                <LedgerRow
                  key={row.medium}
                  ctx={ctx}
                  label={MEDIUM_LABELS[row.medium] ? t(MEDIUM_LABELS[row.medium]!) : row.medium}
                  counts={row}
                />
              ))}
              <LedgerRow ctx={ctx} label={t('admin.queues.allDeliveries')} counts={deliveries} />
              <LedgerRow ctx={ctx} label={t('admin.queues.digests')} counts={digests} />
            </tbody>
          </table>
        </div>
        <p class="ds-paragraph" data-size="sm">
          {t('admin.queues.ledgerHelp')}
        </p>
      </section>
    </AdminFrame>
  );
}

export function AdminQueuePage({ ctx, queue, jobs }: { ctx: PageContext; queue: string; jobs: readonly FailedJob[] }) {
  const t = ctx.t;
  return (
    <AdminFrame ctx={ctx} title={t('admin.queue.title', { queue })} section="queues" lead={t('admin.queue.lead')}>
      <p class="ds-paragraph">
        <a class="ds-link" href={WEB_PATHS.adminQueues}>
          {t('admin.queue.back')}
        </a>
      </p>
      {jobs.length === 0 ? (
        <p class="ds-paragraph">{t('admin.queue.none')}</p>
      ) : (
        <div class="mk-figures">
          <table class="ds-table" data-border>
            <caption>{t('admin.queue.caption', { queue })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('admin.queue.job')}</th>
                <th scope="col">{t('admin.col.name')}</th>
                <th scope="col">{t('admin.queue.reason')}</th>
                <th scope="col">{t('admin.queue.attempts')}</th>
                <th scope="col">{t('admin.queue.added')}</th>
                <th scope="col">{t('admin.queue.failedAt')}</th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((job) => (
                <tr key={job.id}>
                  <th scope="row">
                    <code class="mk-admin-code">{job.id}</code>
                  </th>
                  <td>{job.name}</td>
                  <td class="mk-admin-wrap">{job.failedReason ?? '–'}</td>
                  <td>{job.attemptsMade}</td>
                  <td>
                    <time dateTime={job.timestamp}>{ctx.dateTime(new Date(job.timestamp))}</time>
                  </td>
                  <td>
                    {job.finishedOn ? (
                      <time dateTime={job.finishedOn}>{ctx.dateTime(new Date(job.finishedOn))}</time>
                    ) : (
                      '–'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </AdminFrame>
  );
}

/** Schemas of the administrators' queue view (src/http/routes/admin-queues.ts). */
import { Type } from 'typebox';
import { QUEUE_STATES } from '../../metrics.js';
import { MAX_FAILED_JOBS } from '../../services/admin-queues.js';
import { DateTime, Text } from './common.js';

const Count = Type.Integer({ minimum: 0 });

const LedgerCounts = {
  pending: Count,
  sending: Count,
  sent: Count,
  failed: Count,
  skipped: Count,
  oldestDuePendingSeconds: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], {
    description:
      'Seconds since the longest-waiting due pending row became due; null when none is due. Growing past ' +
      'STALE_DELIVERY_MS means nothing is taking the work',
  }),
};

export const QueueOverview = Type.Object(
  {
    queues: Type.Array(
      Type.Object(
        {
          name: Type.String(),
          paused: Type.Boolean(),
          counts: Type.Object(Object.fromEntries(QUEUE_STATES.map((state) => [state, Count])), {
            additionalProperties: false,
            description: 'Jobs per BullMQ state (completed and failed jobs are kept a while, then removed)',
          }),
        },
        { additionalProperties: false },
      ),
    ),
    ledger: Type.Object(
      {
        deliveries: Type.Object(
          {
            ...LedgerCounts,
            byMedium: Type.Array(
              Type.Object({ medium: Type.String(), ...LedgerCounts }, { additionalProperties: false }),
            ),
          },
          { additionalProperties: false, description: 'The Delivery ledger (PostgreSQL, the record)' },
        ),
        digests: Type.Object(LedgerCounts, { additionalProperties: false, description: 'The Digest ledger' }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false, title: 'QueueOverview' },
);

export const QueueParams = Type.Object(
  { name: Text.identifier({ pattern: '^[a-z][a-z-]{0,39}$', description: 'A queue name from GET /admin/queues' }) },
  { additionalProperties: false },
);

export const FailedJobsQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_FAILED_JOBS, default: 20 })) },
  { additionalProperties: false },
);

export const FailedJobs = Type.Object(
  {
    queue: Type.String(),
    jobs: Type.Array(
      Type.Object(
        {
          id: Type.String(),
          name: Type.String(),
          failedReason: Type.Union([Type.String(), Type.Null()]),
          attemptsMade: Count,
          timestamp: DateTime,
          finishedOn: Type.Union([DateTime, Type.Null()]),
        },
        { additionalProperties: false },
      ),
      { description: 'Most recently failed first; never the job data' },
    ),
  },
  { additionalProperties: false, title: 'FailedJobs' },
);

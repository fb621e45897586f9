/** Schemas of an announcement's delivery figures and of the retry of its failed deliveries (src/http/routes/deliveries.ts). */
import { Type } from 'typebox';
import { Uuid } from './common.js';

const Count = Type.Integer({ minimum: 0 });

const StatusCounts = {
  pending: Count,
  sending: Type.Integer({ minimum: 0, description: 'Claimed by a sender right now' }),
  sent: Type.Integer({ minimum: 0, description: 'Accepted by the mail relay, push service or webhook receiver' }),
  failed: Type.Integer({ minimum: 0, description: 'Given up (a permanent refusal, or every attempt used): retryable' }),
  skipped: Type.Integer({ minimum: 0, description: 'Not sent on purpose, see skipReasons' }),
  total: Count,
};

export const DeliveryStats = Type.Object(
  {
    announcement: Uuid,
    totals: Type.Object(StatusCounts, { additionalProperties: false }),
    groups: Type.Array(
      Type.Object(
        {
          medium: Type.String({ description: '`email`, `push` or `webhook`' }),
          kind: Type.String({
            description:
              '`announcement`, `ack_reminder`, `correction` (per material revision) or `retraction` (the withdrawal notice)',
          }),
          revision: Type.Integer({ minimum: 0, description: "A correction's revision; 0 for the other kinds" }),
          ...StatusCounts,
          skipReasons: Type.Array(
            Type.Object({ reason: Type.String(), count: Count }, { additionalProperties: false }),
            {
              description:
                'Why the skipped ones were not sent (e.g. `unsubscribed`, `suppressed`, `audience`, `no_access`, ' +
                '`digest_mode`, `superseded`), most frequent first',
            },
          ),
        },
        { additionalProperties: false },
      ),
      { description: 'One entry per medium, kind and revision that has deliveries' },
    ),
  },
  { additionalProperties: false, title: 'DeliveryStats' },
);

export const RetryDeliveriesQuery = Type.Object(
  {
    medium: Type.Optional(
      Type.Union([Type.Literal('email'), Type.Literal('push'), Type.Literal('webhook')], {
        description: 'Only this medium; all media when absent',
      }),
    ),
  },
  { additionalProperties: false },
);

export const RetryDeliveriesResult = Type.Object(
  {
    announcement: Uuid,
    retried: Type.Integer({ minimum: 0, description: 'Failed deliveries put back to pending' }),
    byMedium: Type.Object({ email: Count, push: Count, webhook: Count }, { additionalProperties: false }),
    queued: Type.Boolean({
      description: 'False when the queue did not take them now: they are pending and the sweeper queues them later',
    }),
  },
  { additionalProperties: false, title: 'RetryDeliveriesResult' },
);

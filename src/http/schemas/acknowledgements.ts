/** Schemas of acknowledgements: POST /announcements/{id}/acknowledgement and GET /announcements/{id}/acknowledgements. */
import { Type } from 'typebox';
import { DateTime, Uuid } from './common.js';

export const Acknowledgement = Type.Object(
  {
    announcement: Uuid,
    acknowledged: Type.Literal(true),
    acknowledgedAt: Type.String({
      format: 'date-time',
      description: 'When the caller first acknowledged; acknowledging again answers with this same time',
    }),
  },
  { additionalProperties: false, title: 'Acknowledgement' },
);

export const AcknowledgementStats = Type.Object(
  {
    announcement: Uuid,
    required: Type.Boolean({ description: 'Whether readers are asked to acknowledge it' }),
    deadline: Type.Union([DateTime, Type.Null()], { description: 'By when; reminders go out before it' }),
    total: Type.Integer({ minimum: 0, description: 'Acknowledgements so far' }),
    expected: Type.Integer({
      minimum: 0,
      description:
        'People expected to acknowledge: the people with an account it was sent to (or is being sent to) by ' +
        'e-mail, the people who subscribe to the channel now and may see it, and everyone who acknowledged. Bare ' +
        'e-mail subscribers cannot acknowledge and are not counted',
    }),
    byOrganisation: Type.Array(
      Type.Object(
        {
          organisation: Type.Union([Type.String(), Type.Null()], {
            description: "Code of the reader's organisation when they acknowledged; null: none",
          }),
          acknowledged: Type.Integer({ minimum: 0 }),
        },
        { additionalProperties: false },
      ),
      { description: 'Ordered by code, null last' },
    ),
    overTime: Type.Array(
      Type.Object(
        {
          date: Type.String({ format: 'date', description: 'A day in Europe/Oslo time' }),
          acknowledged: Type.Integer({ minimum: 0, description: 'Acknowledgements that day' }),
          cumulative: Type.Integer({ minimum: 0, description: 'Acknowledgements up to and including that day' }),
        },
        { additionalProperties: false },
      ),
      { description: 'Oldest day first; days without acknowledgements are left out' },
    ),
  },
  { additionalProperties: false, title: 'AcknowledgementStats' },
);

import { Type } from 'typebox';
import { IMPORTANCES } from '../../domain/types.js';
import { IDEMPOTENCY_KEY_MAX_LENGTH, IDEMPOTENCY_KEY_PATTERN } from '../../services/idempotency.js';
import { DateTime, Page, Slug, Uuid } from './common.js';

const Importance = Type.Enum([...IMPORTANCES], { description: 'critical is never held back by digests' });

/** Readers' votes on an announcement (PUT /announcements/{id}/rating). */
export const Rating = Type.Object(
  {
    average: Type.Union([Type.Number({ minimum: 1, maximum: 5 }), Type.Null()], {
      description: 'Mean of the votes (1–5); null when nobody has voted',
    }),
    votes: Type.Integer({ minimum: 0, description: 'Number of readers who voted (one vote each)' }),
  },
  {
    additionalProperties: false,
    description:
      "Readers' 1–5 rating. Present on announcements read over REST (lists and single); absent in the publish " +
      'response and live frames, where it would be stale at once',
  },
);

export const Announcement = Type.Object(
  {
    id: Uuid,
    channel: Slug,
    title: Type.String(),
    body: Type.String({ description: 'Markdown' }),
    bodyHtml: Type.String({
      description: 'The body rendered to HTML and sanitised on the server; show this, never your own rendering of body',
    }),
    importance: Importance,
    status: Type.Enum(['draft', 'published', 'retracted']),
    publishedAt: Type.Union([DateTime, Type.Null()]),
    url: Type.String({ format: 'uri' }),
    author: Type.Union(
      [
        Type.Object(
          { name: Type.String({ description: "The author's display name" }) },
          { additionalProperties: false },
        ),
        Type.Null(),
      ],
      {
        description:
          'Who wrote it. null: written by a former user (the account was deleted) or by no person (demo content); ' +
          'show it as "former user"',
      },
    ),
    rating: Type.Optional(Rating),
    views: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'How many distinct signed-in readers have opened it (never who). Present as for rating',
      }),
    ),
    pinned: Type.Optional(
      Type.Boolean({
        description:
          "Pinned now. true on the pinned announcements at the top of a channel listing's first page; also in the " +
          'pin and unpin responses',
      }),
    ),
  },
  { additionalProperties: false, title: 'Announcement', description: 'An announcement' },
);

export const AnnouncementPage = Page(Announcement, 'Published announcements, newest first');

export const PublishBody = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
    body: Type.String({ minLength: 1, maxLength: 20_000, pattern: '\\S', description: 'Markdown' }),
    importance: Type.Optional(Importance),
  },
  { additionalProperties: false },
);

/** Headers of a publish request. Other headers pass: this object only describes the ones the route reads. */
export const PublishHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: IDEMPOTENCY_KEY_MAX_LENGTH,
      pattern: IDEMPOTENCY_KEY_PATTERN,
      description:
        'Makes a retry safe: a client-chosen key (e.g. a UUID), 1–200 printable ASCII characters, unique per ' +
        'announcement. Remembered for 24 hours per user.',
    }),
  ),
});

/** PUT /announcements/{id}/pin. */
export const PinBody = Type.Object(
  {
    until: Type.Optional(
      Type.Union([DateTime, Type.Null()], {
        description: 'Unpins by itself at this time; omit or null: until unpinned',
      }),
    ),
  },
  { additionalProperties: false },
);

export const AnnouncementParams = Type.Object({ id: Uuid }, { additionalProperties: false });

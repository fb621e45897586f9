import { Type } from 'typebox';
import { ANNOUNCEMENT_STATUSES, ANNOUNCEMENT_TYPES } from '../../domain/announcement.js';
import { IMPORTANCES, LANGUAGES } from '../../domain/types.js';
import { IDEMPOTENCY_KEY_MAX_LENGTH, IDEMPOTENCY_KEY_PATTERN } from '../../services/idempotency.js';
import { DateTime, Page, PageCursor, PageLimit, Slug, Text, Uuid } from './common.js';

const Importance = Type.Enum([...IMPORTANCES], { description: 'critical is never held back by digests' });
export const AnnouncementTypeSchema = Type.Enum([...ANNOUNCEMENT_TYPES], {
  description: 'maintenance: planned downtime (affectedSystem, startsAt, endsAt); incident: resolved by a follow-up',
});
export const LanguageSchema = (description?: string) => Type.Enum([...LANGUAGES], description ? { description } : {});

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

const NullableDateTime = (description: string) => Type.Union([DateTime, Type.Null()], { description });

export const Attachment = Type.Object(
  {
    id: Uuid,
    filename: Type.String(),
    contentType: Type.String({ description: 'The checked media type it is served with' }),
    size: Type.Integer({ minimum: 0, description: 'Bytes' }),
    url: Type.String({ format: 'uri', description: 'Download (Content-Disposition names the file)' }),
  },
  { additionalProperties: false, title: 'Attachment' },
);

export const Announcement = Type.Object(
  {
    id: Uuid,
    channel: Slug,
    language: LanguageSchema('The language of title, summary and body in this response'),
    languages: Type.Array(LanguageSchema(), {
      description:
        'Every language it can be read in, its original first. Ask with `?lang=` or Accept-Language; fallback: ' +
        'the language asked for, then (for nb or nn) the other Norwegian written form, then the original',
    }),
    title: Type.String({ description: 'Plain text, never HTML' }),
    summary: Type.Union([Type.String(), Type.Null()], { description: 'Plain text, never HTML' }),
    body: Type.String({ description: 'Markdown' }),
    bodyHtml: Type.String({
      description: 'The body rendered to HTML and sanitised on the server; show this, never your own rendering of body',
    }),
    importance: Importance,
    type: AnnouncementTypeSchema,
    affectedSystem: Type.Union([Type.String(), Type.Null()], { description: 'What a maintenance or incident affects' }),
    startsAt: NullableDateTime('Start of a maintenance window (or an incident)'),
    endsAt: NullableDateTime('End of a maintenance window (or expected end of an incident)'),
    calendarUrl: Type.Union([Type.String({ format: 'uri' }), Type.Null()], {
      description: 'iCalendar (.ics) of a maintenance window; null for other types',
    }),
    resolves: Type.Union([Uuid, Type.Null()], { description: "On an incident's resolved follow-up: the incident" }),
    resolvedBy: Type.Union([Uuid, Type.Null()], { description: 'On an incident: its published resolved follow-up' }),
    audience: Type.Array(Type.String(), {
      description: 'Codes of the organisations it is for; empty: every organisation',
    }),
    status: Type.Enum([...ANNOUNCEMENT_STATUSES]),
    publishedAt: Type.Union([DateTime, Type.Null()]),
    publishAt: NullableDateTime('When a scheduled announcement will be published'),
    expiresAt: NullableDateTime('From then on it is gone from feeds and default listings, kept in the archive'),
    expired: Type.Boolean(),
    revision: Type.Integer({ minimum: 1, description: 'See GET /announcements/{id}/revisions' }),
    editedAt: NullableDateTime('Last edit'),
    acknowledgement: Type.Object(
      {
        required: Type.Boolean({ description: 'Readers are asked to confirm "I have read this"' }),
        deadline: NullableDateTime('By when'),
      },
      { additionalProperties: false },
    ),
    attachments: Type.Array(Attachment),
    url: Type.String({
      format: 'uri',
      description:
        "The announcement's page for people (`/announcements/{id}` on this site), where e-mails, feeds and push " +
        'messages link to; programs read it here, at `/api/v1/announcements/{id}`',
    }),
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
    acknowledged: Type.Optional(
      Type.Boolean({
        description:
          'Whether the caller has acknowledged it (POST /announcements/{id}/acknowledgement). Present when it asks ' +
          'for acknowledgement and the caller is signed in, in GET /announcements/{id}',
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

const Title = Text.title({ minLength: 1, maxLength: 200, description: 'Plain text' });
const MarkdownBody = Text.multiline({ minLength: 1, maxLength: 20_000, description: 'Markdown' });
const Summary = Text.line({ maxLength: 500, description: 'Plain text, at most 500 characters' });
const AffectedSystem = Text.title({ minLength: 1, maxLength: 200 });

/** One more language version of an announcement. */
export const TranslationInput = Type.Object(
  {
    language: LanguageSchema(),
    title: Title,
    summary: Type.Optional(Type.Union([Summary, Type.Null()])),
    body: MarkdownBody,
  },
  { additionalProperties: false },
);

const Translations = Type.Array(TranslationInput, {
  maxItems: LANGUAGES.length - 1,
  description:
    'Versions in the other languages (each language once, not the original language). On an edit, the list ' +
    'replaces the translations; omit it to keep them',
});

const AudienceInput = Type.Array(Text.identifier({ minLength: 1, maxLength: 32 }), {
  maxItems: 100,
  description:
    'Codes of the organisations it is for (e.g. ["UiO", "NTNU"], any case); empty or absent: every organisation. ' +
    'Readers outside the audience neither see nor receive it',
});

const AcknowledgementInput = Type.Object(
  {
    required: Type.Boolean({ description: 'Ask readers to confirm "I have read this"' }),
    deadline: Type.Optional(Type.Union([DateTime, Type.Null()], { description: 'By when (needs required: true)' })),
  },
  { additionalProperties: false },
);

export const PublishBody = Type.Object(
  {
    title: Title,
    body: MarkdownBody,
    importance: Type.Optional(Importance),
    language: Type.Optional(LanguageSchema('The language of title, summary and body (the original); default nb')),
    summary: Type.Optional(Summary),
    translations: Type.Optional(Translations),
    type: Type.Optional(AnnouncementTypeSchema),
    affectedSystem: Type.Optional(AffectedSystem),
    startsAt: Type.Optional(DateTime),
    endsAt: Type.Optional(DateTime),
    resolves: Type.Optional(
      Type.String({
        format: 'uuid',
        maxLength: 36,
        description:
          'Makes this the "resolved" follow-up of a published incident of the same channel (type becomes incident). ' +
          '409 when the incident already has a follow-up',
      }),
    ),
    audience: Type.Optional(AudienceInput),
    expiresAt: Type.Optional(DateTime),
    acknowledgement: Type.Optional(AcknowledgementInput),
    draft: Type.Optional(
      Type.Boolean({ description: 'Store as a draft: nobody but the channel editors sees it, nobody is notified' }),
    ),
    publishAt: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'A future time: the announcement is scheduled (status `scheduled`) and published then',
      }),
    ),
  },
  { additionalProperties: false },
);

/** PATCH /announcements/{id}: the fields to change; absent fields keep their value, null clears an optional one. */
export const EditBody = Type.Object(
  {
    title: Type.Optional(Title),
    body: Type.Optional(MarkdownBody),
    importance: Type.Optional(Importance),
    language: Type.Optional(LanguageSchema('The language of title, summary and body (the original)')),
    summary: Type.Optional(Type.Union([Summary, Type.Null()])),
    translations: Type.Optional(Translations),
    type: Type.Optional(AnnouncementTypeSchema),
    affectedSystem: Type.Optional(Type.Union([AffectedSystem, Type.Null()])),
    startsAt: Type.Optional(Type.Union([DateTime, Type.Null()])),
    endsAt: Type.Optional(Type.Union([DateTime, Type.Null()])),
    audience: Type.Optional(AudienceInput),
    expiresAt: Type.Optional(Type.Union([DateTime, Type.Null()])),
    acknowledgement: Type.Optional(AcknowledgementInput),
    material: Type.Optional(
      Type.Boolean({
        description:
          'Required when the announcement is published: true for a change readers must know about (it reaches ' +
          'everyone who received the original), false for a minor fix. Ignored for drafts and scheduled ones',
      }),
    ),
    note: Type.Optional(Text.multiline({ maxLength: 500, description: 'What changed and why, shown in the history' })),
    revision: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'The revision this edit is based on (or send If-Match: "<revision>"); 409 when it is stale',
      }),
    ),
  },
  { additionalProperties: false },
);

export const EditHeaders = Type.Object({
  'if-match': Type.Optional(
    Text.identifier({
      maxLength: 32,
      description: 'The revision the edit is based on, as an entity tag: "3". 409 `conflict` when it is stale',
    }),
  ),
});

/** POST /announcements/{id}/publish. */
export const PublishNowBody = Type.Object(
  {
    publishAt: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'A future time: schedule (or re-schedule) it for then; absent: publish now',
      }),
    ),
  },
  { additionalProperties: false },
);

export const DraftPage = Page(
  Announcement,
  "The channel's drafts and scheduled announcements, most recently created first",
);

export const Revision = Type.Object(
  {
    revision: Type.Integer({ minimum: 1 }),
    createdAt: DateTime,
    editor: Type.Union([Type.Object({ name: Type.String() }, { additionalProperties: false }), Type.Null()], {
      description: 'Who wrote this revision; null for a former user or the system',
    }),
    material: Type.Boolean({ description: 'A change readers were told about (the first revision counts as one)' }),
    note: Type.Union([Type.String(), Type.Null()]),
    content: Type.Object(
      {
        language: LanguageSchema('The language of this content'),
        languages: Type.Array(LanguageSchema(), { description: 'The languages this revision had, original first' }),
        title: Type.String({ description: 'Plain text' }),
        summary: Type.Union([Type.String(), Type.Null()], { description: 'Plain text' }),
        body: Type.String({ description: 'Markdown' }),
        bodyHtml: Type.String({ description: 'The body rendered and sanitised' }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false, title: 'AnnouncementRevision' },
);

export const RevisionList = Type.Object(
  { items: Type.Array(Revision, { description: 'Newest revision first' }) },
  { additionalProperties: false },
);

/** Headers of a publish request. Other headers pass: this object only describes the ones the route reads. */
export const PublishHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Text.identifier({
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

/** `?lang=`: the language the reader wants (src/http/reader-language.ts); anything but nb, nn, en is a 400. */
export const LangQueryParam = Type.Optional(
  LanguageSchema(
    'Return title, summary and body in this language (else Accept-Language, else the original); fallback: the ' +
      'other Norwegian written form for nb/nn, then the original',
  ),
);

/** GET /announcements/{id} (and its calendar.ics). */
export const AnnouncementQuery = Type.Object({ lang: LangQueryParam }, { additionalProperties: false });

/** Filters shared by a channel's listing and the personal feed (src/services/announcements.ts: resolveListingFilter). */
export const ListingFilterProperties = {
  lang: LangQueryParam,
  language: Type.Optional(LanguageSchema('Only announcements that have a version in this language')),
  importance: Type.Optional(Type.Enum([...IMPORTANCES], { description: 'Only announcements of this importance' })),
  type: Type.Optional(Type.Enum([...ANNOUNCEMENT_TYPES], { description: 'Only announcements of this type' })),
  organisation: Type.Optional(
    Text.identifier({
      minLength: 1,
      maxLength: 32,
      description:
        'Organisation code: only announcements for every organisation or whose audience includes it; an unknown ' +
        'code answers 400',
      examples: ['UiB'],
    }),
  ),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'Published at or after this time' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'Published before this time (after `from`)' })),
};

/** GET /channels/{slug}/announcements. */
export const ChannelAnnouncementsQuery = Type.Object(
  {
    limit: PageLimit,
    cursor: Type.Optional(PageCursor),
    archive: Type.Boolean({
      default: false,
      description: 'Include expired announcements (marked `expired: true`): the channel archive',
    }),
    ...ListingFilterProperties,
  },
  { additionalProperties: false },
);

/** GET /announcements/{id}/revisions: each revision's content in this language (with the fallback) or its original. */
export const RevisionsQuery = Type.Object({ lang: LangQueryParam }, { additionalProperties: false });

/** GET /channels/{slug}/drafts. */
export const DraftsQuery = Type.Object(
  { limit: PageLimit, cursor: Type.Optional(PageCursor), lang: LangQueryParam },
  { additionalProperties: false },
);

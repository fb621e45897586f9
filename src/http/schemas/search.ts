/** Schemas of GET /api/v1/search and GET /api/v1/directory. */
import { Type } from 'typebox';
import { ANNOUNCEMENT_TYPES } from '../../domain/announcement.js';
import { CHANNEL_VISIBILITIES, IMPORTANCES } from '../../domain/types.js';
import { MAX_DIRECTORY_QUERY_LENGTH } from '../../services/directory.js';
import { MAX_SEARCH_QUERY_LENGTH, SEARCH_RESULT_CAP } from '../../services/search.js';
import { AnnouncementTypeSchema, LangQueryParam, LanguageSchema } from './announcements.js';
import { DateTime, Page, PageCursor, PageLimit, Slug, Text, Uuid } from './common.js';

export const SearchQuery = Type.Object(
  {
    q: Text.line({
      minLength: 1,
      maxLength: MAX_SEARCH_QUERY_LENGTH,
      description:
        'What to look for, as in a web search engine: words (all must occur), "a phrase", `or`, and -excluded words. ' +
        'Matched in Norwegian and English, ignoring case, inflection and accents (ø, æ, å may be typed as o, ae, a).',
      examples: ['vedlikehold "felles lønn"'],
    }),
    type: Type.Optional(Type.Enum([...ANNOUNCEMENT_TYPES], { description: 'Only announcements of this type' })),
    lang: LangQueryParam,
    limit: PageLimit,
    cursor: Type.Optional(PageCursor),
  },
  { additionalProperties: false },
);

const SnippetSegment = Type.Object(
  {
    text: Type.String({ description: 'Plain text: insert it as text, never as HTML' }),
    match: Type.Boolean({ description: 'Whether this piece matched the query (show it highlighted)' }),
  },
  { additionalProperties: false },
);

export const SearchHit = Type.Object(
  {
    id: Uuid,
    channel: Type.Object({ slug: Slug, title: Type.String() }, { additionalProperties: false }),
    language: LanguageSchema('The language of title and summary (the reader’s, after the fallback)'),
    title: Type.String({ description: 'Plain text' }),
    summary: Type.Union([Type.String(), Type.Null()], { description: 'Plain text' }),
    importance: Type.Enum([...IMPORTANCES]),
    type: AnnouncementTypeSchema,
    publishedAt: DateTime,
    expired: Type.Boolean({ description: 'Past its expiry: search covers the archive' }),
    url: Type.String({
      format: 'uri',
      description: "The announcement's page for people; read it in the API at `/api/v1/announcements/{id}`",
    }),
    snippet: Type.Array(SnippetSegment, {
      description: 'An extract of the body around the matches, in segments; empty when only the title matched',
    }),
    snippetLanguage: LanguageSchema(
      'The version the snippet is from: `language` when that version matched, else a version that did',
    ),
    rank: Type.Number({ description: 'Relevance, higher is better; comparable only within one search' }),
  },
  { additionalProperties: false, title: 'SearchHit' },
);

export const SearchPage = Page(
  SearchHit,
  `Published announcements the caller may see (expired ones too), best match first; at most ${SEARCH_RESULT_CAP} ` +
    'over all pages',
);

export const DirectoryQuery = Type.Object(
  {
    q: Type.Optional(
      Text.line({
        minLength: 1,
        maxLength: MAX_DIRECTORY_QUERY_LENGTH,
        description: 'Only channels whose title or description contains this (ignoring case and accents)',
      }),
    ),
    lang: LangQueryParam,
    limit: PageLimit,
    cursor: Type.Optional(PageCursor),
  },
  { additionalProperties: false },
);

export const DirectoryEntry = Type.Object(
  {
    slug: Slug,
    title: Type.String(),
    description: Type.String(),
    visibility: Type.Enum([...CHANNEL_VISIBILITIES]),
    roles: Type.Object(
      {
        owners: Type.Integer({ minimum: 0, description: 'How many people own the channel' }),
        publishers: Type.Integer({ minimum: 0, description: 'How many people publish in it' }),
      },
      { additionalProperties: false, description: 'Role titles with the number of holders; never names' },
    ),
    subscriberCount: Type.Integer({ minimum: 0 }),
    latestAnnouncement: Type.Union(
      [
        Type.Object(
          {
            id: Uuid,
            language: LanguageSchema('The language of the title'),
            title: Type.String({ description: 'Plain text, in the reader’s language after the fallback' }),
            publishedAt: DateTime,
          },
          { additionalProperties: false },
        ),
        Type.Null(),
      ],
      { description: 'The newest announcement the caller may see (for them, not expired); null when there is none' },
    ),
  },
  { additionalProperties: false, title: 'DirectoryEntry' },
);

export const DirectoryPage = Page(DirectoryEntry, 'Channels the caller may read, by title');

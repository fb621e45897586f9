/** Schemas of personal feed URLs (feed tokens). The secret appears in the creation response only. */
import { Type } from 'typebox';
import { DateTime, Uuid } from './common.js';

const feedTokenFields = {
  id: Uuid,
  prefix: Type.String({ description: 'The start of the secret (`mkf_…`), to recognise the URL by' }),
  createdAt: DateTime,
  lastUsedAt: Type.Union([DateTime, Type.Null()], {
    description: 'Last fetch of the feed (to the minute); null if never fetched',
  }),
};

export const FeedToken = Type.Object(feedTokenFields, {
  additionalProperties: false,
  title: 'FeedToken',
  description: 'A personal feed URL (without its secret)',
});

export const FeedTokenList = Type.Object(
  { items: Type.Array(FeedToken) },
  { additionalProperties: false, description: 'Your feed URLs that are not revoked, oldest first' },
);

const FeedUrl = Type.String({ format: 'uri' });

export const CreatedFeedToken = Type.Object(
  {
    ...feedTokenFields,
    token: Type.String({ description: 'The secret (`mkf_…`). Shown only now; it is part of the URLs below' }),
    urls: Type.Object(
      { atom: FeedUrl, rss: FeedUrl, json: FeedUrl },
      {
        additionalProperties: false,
        description:
          'Your personal feed (Atom, RSS 2.0, JSON Feed 1.1): the channels you subscribe to and may read when the ' +
          'feed is fetched. Anyone with the URL can read it: keep it private, revoke it if it leaks',
      },
    ),
  },
  { additionalProperties: false, title: 'CreatedFeedToken', description: 'Created; the secret is shown once' },
);

export const FeedTokenParams = Type.Object({ id: Uuid }, { additionalProperties: false });

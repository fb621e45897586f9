/** Schemas of the reading endpoints: the personal feed, read state, unread counts and ratings. */
import { Type } from 'typebox';
import { Announcement, ListingFilterProperties, Rating } from './announcements.js';
import { Page, PageQuery, Slug } from './common.js';

export const FeedItem = Type.Object(
  {
    ...Announcement.properties,
    read: Type.Boolean({ description: 'Whether the caller has marked it read (on any device)' }),
  },
  { additionalProperties: false, title: 'FeedItem', description: 'An announcement in the personal feed' },
);

export const FeedPage = Page(FeedItem, 'Published announcements of my subscribed channels, newest first');

export const FeedQuery = Type.Object(
  {
    ...PageQuery.properties,
    ...ListingFilterProperties,
    channel: Type.Optional(Slug),
  },
  { additionalProperties: false },
);

export const UnreadCounts = Type.Object(
  {
    total: Type.Integer({ minimum: 0 }),
    byChannel: Type.Array(
      Type.Object({ channel: Slug, unread: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
      { description: 'Subscribed channels with unread announcements, by slug; channels with none are left out' },
    ),
  },
  { additionalProperties: false, title: 'UnreadCounts', description: 'Unread announcements in my feed' },
);

export const MarkAllReadBody = Type.Object(
  {
    // Slug's own description is kept; what omitting it means is in the operation's description.
    channel: Type.Optional(Slug),
  },
  { additionalProperties: false },
);

export const MarkAllReadResult = Type.Object(
  { marked: Type.Integer({ minimum: 0, description: 'Announcements newly marked read' }) },
  { additionalProperties: false },
);

export const RatingBody = Type.Object(
  { stars: Type.Integer({ minimum: 1, maximum: 5, description: '1 (poor) to 5 (excellent)' }) },
  { additionalProperties: false },
);

export const MyRating = Type.Object(
  { stars: Type.Integer({ minimum: 1, maximum: 5, description: 'My vote' }), rating: Rating },
  { additionalProperties: false, title: 'MyRating' },
);

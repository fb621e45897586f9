/**
 * Reading: /api/v1/me/feed, /api/v1/me/unread, /api/v1/me/reads (read state kept on the server),
 * /api/v1/announcements/{id}/rating and a maintenance window's /api/v1/announcements/{id}/calendar.ics. Rules and
 * queries live in src/services/reading.ts and src/services/announcements.ts.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Db } from '../../db/prisma.js';
import { FEED_CONTENT_TYPES } from '../../feeds/model.js';
import type { AnnounceReaderChange } from '../../realtime/reader-changes.js';
import { announcementCalendar } from '../../services/announcements.js';
import {
  getUnreadCounts,
  listPersonalFeed,
  markAllAsRead,
  markRead,
  markUnread,
  rateAnnouncement,
  withdrawRating,
} from '../../services/reading.js';
import { POLICY } from '../policy.js';
import { READER_LANGUAGE_DESCRIPTION, readerLanguage, sendsLanguage, variesByLanguage } from '../reader-language.js';
import { AnnouncementParams, AnnouncementQuery } from '../schemas/announcements.js';
import { BEARER_OPTIONAL, BEARER_REQUIRED, BODY_ERRORS, errorResponses } from '../schemas/common.js';
import {
  FeedPage,
  FeedQuery,
  MarkAllReadBody,
  MarkAllReadResult,
  MyRating,
  RatingBody,
  UnreadCounts,
} from '../schemas/reading.js';

export interface ReadingRoutesOptions {
  db: Db;
  /** Tells the reader's other live connections of read-state changes (src/realtime/reader-changes.ts). */
  announceReaderChange?: AnnounceReaderChange;
  publicUrl: string;
  /** MAIL_FROM: the organiser of calendar events. */
  mailFrom: string;
}

const NO_CONTENT = Type.Null({ description: 'Done (also when it already was so)' });

export const readingRoutes: FastifyPluginAsyncTypebox<ReadingRoutesOptions> = async (app, options) => {
  const deps = { db: options.db, publicUrl: options.publicUrl, announceReaderChange: options.announceReaderChange };
  const calendarDeps = { ...deps, mailFrom: options.mailFrom };

  app.get(
    '/announcements/:id/calendar.ics',
    {
      config: { policy: POLICY.channelRead },
      schema: {
        tags: ['announcements'],
        operationId: 'getAnnouncementCalendar',
        summary: 'Maintenance window as iCalendar',
        description:
          'The planned-downtime window of a maintenance announcement as an iCalendar (RFC 5545) file, for whoever ' +
          'may read the announcement; 404 for other types, and as GET /announcements/{id} does. Re-importing it ' +
          `after an edit updates the event (same UID, higher SEQUENCE). ${READER_LANGUAGE_DESCRIPTION}`,
        security: BEARER_OPTIONAL,
        params: AnnouncementParams,
        querystring: AnnouncementQuery,
        response: {
          200: {
            description: 'The event (RFC 5545), sent as an attachment',
            content: { 'text/calendar': { schema: Type.String() } },
          },
          ...errorResponses(400, 404),
        },
      },
    },
    async (request, reply) => {
      const calendar = await announcementCalendar(
        calendarDeps,
        request.actor,
        request.params.id,
        readerLanguage(request),
      );
      sendsLanguage(reply, calendar.language);
      return reply
        .type(FEED_CONTENT_TYPES.ics)
        .header('content-disposition', `attachment; filename="${calendar.filename}"`)
        .header('cache-control', 'private, no-cache')
        .send(calendar.body);
    },
  );

  app.get(
    '/me/feed',
    {
      config: { policy: POLICY.self },
      schema: {
        tags: ['reading'],
        operationId: 'listMyFeed',
        summary: 'My feed',
        description:
          'Published announcements of the channels I subscribe to and may still read that are for me (for every ' +
          'organisation or mine; any audience in channels where I publish) and not expired, newest first, each ' +
          'with whether I have read it. Filters: language (has a version in it), importance, type, organisation ' +
          '(code; unknown answers 400), channel (slug), from (inclusive) and to (exclusive; after from). ' +
          READER_LANGUAGE_DESCRIPTION,
        security: BEARER_REQUIRED,
        querystring: FeedQuery,
        response: { 200: FeedPage, ...errorResponses(400) },
      },
    },
    async (request, reply) => {
      variesByLanguage(reply);
      return listPersonalFeed(deps, request.actor, { ...request.query, readerLanguage: readerLanguage(request) });
    },
  );

  app.get(
    '/me/unread',
    {
      config: { policy: POLICY.self },
      schema: {
        tags: ['reading'],
        operationId: 'getMyUnreadCounts',
        summary: 'My unread counts',
        description: 'Unread announcements of my feed (for me and not expired), in total and per channel.',
        security: BEARER_REQUIRED,
        response: { 200: UnreadCounts, ...errorResponses() },
      },
    },
    async (request) => getUnreadCounts(deps, request.actor),
  );

  app.put(
    '/me/reads/:id',
    {
      config: { policy: POLICY.self },
      schema: {
        tags: ['reading'],
        operationId: 'markAnnouncementRead',
        summary: 'Mark an announcement read',
        description: 'Idempotent. 404 for an announcement I may not read. A token needs scope `read`.',
        security: BEARER_REQUIRED,
        params: AnnouncementParams,
        response: { 204: NO_CONTENT, ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      await markRead(deps, request.actor, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/me/reads/:id',
    {
      config: { policy: POLICY.self },
      schema: {
        tags: ['reading'],
        operationId: 'markAnnouncementUnread',
        summary: 'Mark an announcement unread',
        description: 'Idempotent. 404 for an announcement I may not read. A token needs scope `read`.',
        security: BEARER_REQUIRED,
        params: AnnouncementParams,
        response: { 204: NO_CONTENT, ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      await markUnread(deps, request.actor, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/me/reads',
    {
      config: { policy: POLICY.self },
      schema: {
        tags: ['reading'],
        operationId: 'markAllRead',
        summary: 'Mark all read',
        description:
          'Marks every announcement of my feed read (expired ones in the archive too); with `channel`, every ' +
          'announcement for me in that channel (any channel I may read; 404 otherwise). Idempotent. A token needs ' +
          'scope `read` for a channel.',
        security: BEARER_REQUIRED,
        body: MarkAllReadBody,
        response: { 200: MarkAllReadResult, ...errorResponses(...BODY_ERRORS, 404) },
      },
    },
    async (request) => markAllAsRead(deps, request.actor, request.body),
  );

  app.put(
    '/announcements/:id/rating',
    {
      config: { policy: POLICY.signedIn },
      schema: {
        tags: ['reading'],
        operationId: 'rateAnnouncement',
        summary: 'Rate an announcement',
        description:
          'One vote (1–5) per reader; sending again changes it. 404 for an announcement I may not read. A token ' +
          'needs scope `read`.',
        security: BEARER_REQUIRED,
        params: AnnouncementParams,
        body: RatingBody,
        response: { 200: MyRating, ...errorResponses(...BODY_ERRORS, 404) },
      },
    },
    async (request) => rateAnnouncement(deps, request.actor, request.params.id, request.body.stars),
  );

  app.delete(
    '/announcements/:id/rating',
    {
      config: { policy: POLICY.signedIn },
      schema: {
        tags: ['reading'],
        operationId: 'withdrawMyRating',
        summary: 'Withdraw my rating',
        description: '404 when I had not rated it, or may not read it.',
        security: BEARER_REQUIRED,
        params: AnnouncementParams,
        response: { 204: Type.Null({ description: 'Withdrawn' }), ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      await withdrawRating(deps, request.actor, request.params.id);
      return reply.code(204).send(null);
    },
  );
};

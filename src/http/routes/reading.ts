/**
 * Reading: /api/v1/me/feed, /api/v1/me/unread, /api/v1/me/reads (read state kept on the server) and
 * /api/v1/announcements/{id}/rating. Rules and queries live in src/services/reading.ts.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Db } from '../../db/prisma.js';
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
import { AnnouncementParams } from '../schemas/announcements.js';
import { BEARER_REQUIRED, BODY_ERRORS, errorResponses } from '../schemas/common.js';
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
  publicUrl: string;
}

const NO_CONTENT = Type.Null({ description: 'Done (also when it already was so)' });

export const readingRoutes: FastifyPluginAsyncTypebox<ReadingRoutesOptions> = async (app, options) => {
  const deps = { db: options.db, publicUrl: options.publicUrl };

  app.get(
    '/me/feed',
    {
      config: { policy: POLICY.self },
      schema: {
        tags: ['reading'],
        summary: 'My feed',
        description:
          'Published announcements of the channels I subscribe to and may still read, newest first, each with ' +
          'whether I have read it. Filters: importance, channel (slug), from (inclusive) and to (exclusive).',
        security: BEARER_REQUIRED,
        querystring: FeedQuery,
        response: { 200: FeedPage, ...errorResponses(400) },
      },
    },
    async (request) => listPersonalFeed(deps, request.actor, request.query),
  );

  app.get(
    '/me/unread',
    {
      config: { policy: POLICY.self },
      schema: {
        tags: ['reading'],
        summary: 'My unread counts',
        description: 'Unread announcements of my feed, in total and per channel.',
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
        summary: 'Mark all read',
        description:
          'Marks every announcement of my feed read; with `channel`, every announcement of that channel (any ' +
          'channel I may read; 404 otherwise). Idempotent. A token needs scope `read` for a channel.',
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

/** /api/v1/search (announcements) and /api/v1/directory (channels): finding things among what the caller may read. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Db } from '../../db/prisma.js';
import { listDirectory } from '../../services/directory.js';
import { searchAnnouncements } from '../../services/search.js';
import { POLICY } from '../policy.js';
import { READER_LANGUAGE_DESCRIPTION, readerLanguage, variesByLanguage } from '../reader-language.js';
import { BEARER_OPTIONAL, errorResponses } from '../schemas/common.js';
import { DirectoryPage, DirectoryQuery, SearchPage, SearchQuery } from '../schemas/search.js';

export interface SearchRoutesOptions {
  db: Db;
  publicUrl: string;
}

export const searchRoutes: FastifyPluginAsyncTypebox<SearchRoutesOptions> = async (app, { db, publicUrl }) => {
  app.get(
    '/search',
    {
      config: { policy: POLICY.public },
      schema: {
        tags: ['announcements'],
        operationId: 'searchAnnouncements',
        summary: 'Search announcements',
        description:
          'Full-text search over the published announcements the caller may see (in the channels GET /channels ' +
          'lists, and for every organisation or the caller’s; expired ones too: search is the archive), in every ' +
          'language version, best match first; a title match ranks above a body match. `type` narrows to one type. ' +
          'Snippets are plain-text segments. A search answers at most 200 hits over all its pages. A blank or ' +
          `overlong \`q\` answers 400. ${READER_LANGUAGE_DESCRIPTION}`,
        security: BEARER_OPTIONAL,
        querystring: SearchQuery,
        response: { 200: SearchPage, ...errorResponses(400) },
      },
    },
    async (request, reply) => {
      variesByLanguage(reply);
      return searchAnnouncements({ db, publicUrl }, request.actor, {
        ...request.query,
        readerLanguage: readerLanguage(request),
      });
    },
  );

  app.get(
    '/directory',
    {
      config: { policy: POLICY.public },
      schema: {
        tags: ['channels'],
        operationId: 'getChannelDirectory',
        summary: 'Channel directory',
        description:
          'The channels the caller may read, by title, with their description, how many owners and publishers ' +
          'they have, subscriber count and latest announcement the caller may see (for them, not expired; its ' +
          'title in the reader’s language as for announcements); `q` filters by title or description.',
        security: BEARER_OPTIONAL,
        querystring: DirectoryQuery,
        response: { 200: DirectoryPage, ...errorResponses(400) },
      },
    },
    async (request, reply) => {
      variesByLanguage(reply);
      return listDirectory({ db }, request.actor, { ...request.query, readerLanguage: readerLanguage(request) });
    },
  );
};

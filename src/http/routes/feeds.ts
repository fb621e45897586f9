/**
 * Feed documents (issue 4), outside /api/v1 because feed readers fetch plain URLs without credentials:
 *
 * - `GET /feeds/channels/:slug.(rss|atom|json)` — one public channel; internal and restricted channels answer 404
 *   exactly like a channel that does not exist.
 * - `GET /feeds/public.(rss|atom|json)` — every public channel.
 * - `GET /feeds/me/:secret.(rss|atom|json)` — a personal feed (src/services/feed-tokens.ts); 404 for an unknown or
 *   revoked secret.
 *
 * `?lang=nb|nn|en` chooses the feed's language (a bad value answers 400); see src/services/feeds.ts for the fallback.
 * Every response carries ETag and Last-Modified computed from the model, so a conditional GET is answered 304 before
 * anything is rendered. Credentials sent with a request are ignored: a feed is the same for everyone who has its URL.
 * Left out of the OpenAPI document (they are not JSON API operations); tests/http/authorisation-matrix.test.ts lists
 * them in HIDDEN_ROUTES with their policy.
 */
// Type-only: brings @fastify/swagger's additions to route schemas (hide) into scope.
import type {} from '@fastify/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Db } from '../../db/prisma.js';
import { MAX_CURSOR_LENGTH } from '../../domain/cursor.js';
import { notFound } from '../../domain/errors.js';
import { LANGUAGES, type Language } from '../../domain/types.js';
import {
  FEED_CONTENT_TYPES,
  type FeedModel,
  feedEtag,
  isNotModified,
  lastModified,
  renderAtom,
  renderJsonFeed,
  renderRss,
} from '../../feeds/index.js';
import {
  FEED_FORMATS,
  type FeedDocument,
  type FeedFormat,
  isFeedFormat,
  personalFeed,
  publicFeedDocument,
} from '../../services/feeds.js';
import type { ReadCache } from '../../services/read-cache.js';
import { POLICY } from '../policy.js';
import { Text } from '../schemas/common.js';

export interface FeedRoutesOptions {
  db: Db;
  publicUrl: string;
  /** The first pages of the public feeds are kept here (src/services/read-cache.ts). */
  readCache?: ReadCache;
}

/** Shared caches may keep a public feed for a minute: readers poll, and an announcement may wait that long. */
const PUBLIC_CACHE_CONTROL = 'public, max-age=60';
/** A personal feed is one person's: never in a shared cache. */
const PERSONAL_CACHE_CONTROL = 'private, max-age=60';

const FeedQuery = Type.Object({
  cursor: Type.Optional(
    Text.identifier({
      minLength: 1,
      maxLength: MAX_CURSOR_LENGTH,
      description: 'The `next` link of the previous page',
    }),
  ),
  lang: Type.Optional(
    Type.Enum([...LANGUAGES], {
      description: "The feed's language (else the personal feed owner's, else nb); entries fall back as the API does",
    }),
  ),
});

type FeedQueryString = { cursor?: string; lang?: Language };

const FileParams = Type.Object({ file: Text.identifier({ minLength: 1, maxLength: 200 }) });

/** Splits `name.ext` into its name and feed format; anything else is a URL that does not exist. */
function parseFile(file: string, what: string): { name: string; format: FeedFormat } {
  const dot = file.lastIndexOf('.');
  const format = file.slice(dot + 1);
  if (dot <= 0 || !isFeedFormat(format)) throw notFound(what);
  return { name: file.slice(0, dot), format };
}

function render(model: FeedModel, format: FeedFormat): { type: string; body: string } {
  switch (format) {
    case 'rss':
      return { type: FEED_CONTENT_TYPES.rss, body: renderRss(model) };
    case 'atom':
      return { type: FEED_CONTENT_TYPES.atom, body: renderAtom(model) };
    case 'json':
      return { type: FEED_CONTENT_TYPES.jsonFeed, body: renderJsonFeed(model) };
  }
}

function sendFeed(
  request: FastifyRequest,
  reply: FastifyReply,
  model: FeedModel,
  format: FeedFormat,
  cacheControl: string,
): FastifyReply {
  // Validators from the model, not the bytes: a 304 costs a query and a hash, no rendering.
  const etag = feedEtag(model);
  const modified = lastModified(model);
  reply
    .header('etag', etag)
    .header('last-modified', modified)
    .header('cache-control', cacheControl)
    .header('content-language', model.language);
  if (isNotModified(request.headers, etag, modified)) return reply.code(304).send();
  const { type, body } = render(model, format);
  return reply.type(type).send(body);
}

/** A public feed's first page, rendered once and kept in the read cache (publicFeedDocument), or a later page. */
function sendDocument(request: FastifyRequest, reply: FastifyReply, document: FeedDocument): FastifyReply {
  reply
    .header('etag', document.etag)
    .header('last-modified', document.lastModified)
    .header('cache-control', PUBLIC_CACHE_CONTROL)
    .header('content-language', document.language);
  if (isNotModified(request.headers, document.etag, document.lastModified)) return reply.code(304).send();
  return reply.type(document.type).send(document.body);
}

export async function feedRoutes(app: FastifyInstance, options: FeedRoutesOptions): Promise<void> {
  const deps = { db: options.db, publicUrl: options.publicUrl, readCache: options.readCache };
  const routeSchema = { hide: true, querystring: FeedQuery } as const;

  app.get<{ Params: { file: string }; Querystring: FeedQueryString }>(
    '/feeds/channels/:file',
    { config: { policy: POLICY.public }, schema: { ...routeSchema, params: FileParams } },
    async (request, reply) => {
      const { name, format } = parseFile(request.params.file, 'Channel');
      const feedRequest = { format, cursor: request.query.cursor, language: request.query.lang };
      const document = await publicFeedDocument(deps, { slug: name }, feedRequest, (model) => render(model, format));
      return sendDocument(request, reply, document);
    },
  );

  for (const format of FEED_FORMATS) {
    app.get<{ Querystring: FeedQueryString }>(
      `/feeds/public.${format}`,
      { config: { policy: POLICY.public }, schema: routeSchema },
      async (request, reply) => {
        const feedRequest = { format, cursor: request.query.cursor, language: request.query.lang };
        const document = await publicFeedDocument(deps, 'combined', feedRequest, (model) => render(model, format));
        return sendDocument(request, reply, document);
      },
    );
  }

  app.get<{ Params: { file: string }; Querystring: FeedQueryString }>(
    '/feeds/me/:file',
    { config: { policy: POLICY.public }, schema: { ...routeSchema, params: FileParams } },
    async (request, reply) => {
      const { name, format } = parseFile(request.params.file, 'Feed');
      const model = await personalFeed(deps, name, {
        format,
        cursor: request.query.cursor,
        language: request.query.lang,
      });
      // The URL is the credential: keep it out of other sites' Referer headers and out of search engines.
      reply.header('referrer-policy', 'no-referrer').header('x-robots-tag', 'noindex');
      return sendFeed(request, reply, model, format, PERSONAL_CACHE_CONTROL);
    },
  );
}

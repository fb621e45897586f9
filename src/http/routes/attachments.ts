/**
 * Attachments of announcements (src/services/attachments.ts):
 *
 * - `POST /announcements/:id/attachments?filename=…` — the file's bytes as the body, its media type as Content-Type
 *   (no multipart: one request, one file, and no form parser to trust). Editors of the channel.
 * - `GET /announcements/:id/attachments` — the list, for whoever may read the announcement.
 * - `GET /attachments/:id/:filename` — the download (and HEAD, which Fastify derives). The name in the address is for
 *   people and browsers; the id finds the file.
 * - `DELETE /attachments/:id` — editors of the channel.
 */
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  ATTACHMENT_MEDIA_TYPE_LIST,
  contentDisposition,
  isAttachmentMediaType,
  mediaTypeOf,
} from '../../content/file-types.js';
import type { Db } from '../../db/prisma.js';
import { isNotModified } from '../../feeds/conditional.js';
import {
  type AttachmentSettings,
  addAttachment,
  findAttachmentToRead,
  listAttachments,
  MAX_ATTACHMENTS_PER_ANNOUNCEMENT,
  prepareAttachmentStorage,
  removeAttachment,
  removeOrphanedFiles,
  tooLarge,
  unsupportedType,
} from '../../services/attachments.js';
import { coarseDenial, POLICY } from '../policy.js';
import { AnnouncementParams } from '../schemas/announcements.js';
import {
  Attachment,
  AttachmentDownloadResponse,
  AttachmentFileParams,
  AttachmentList,
  AttachmentParams,
  UPLOAD_MEDIA_TYPES,
  UploadBody,
  UploadQuery,
} from '../schemas/attachments.js';
import { BEARER_OPTIONAL, BEARER_REQUIRED, BODY_ERRORS, errorResponses } from '../schemas/common.js';

export interface AttachmentRoutesOptions {
  db: Db;
  publicUrl: string;
  attachments: AttachmentSettings;
}

/** Anyone may read it: shared caches may keep it a while (a retraction reaches them within this time). */
const PUBLIC_CACHE_CONTROL = 'public, max-age=300';
/** Someone's: a browser keeps it but asks again each time (a 304 when unchanged), so lost access applies at once. */
const PRIVATE_CACHE_CONTROL = 'private, no-cache';
/** A download is never a page: no scripts, no plugins, no same-origin powers, even if a browser were to render it. */
const DOWNLOAD_CSP = "default-src 'none'; sandbox";

export const attachmentRoutes: FastifyPluginAsyncTypebox<AttachmentRoutesOptions> = async (app, options) => {
  await prepareAttachmentStorage(options.attachments);
  const deps = { db: options.db, publicUrl: options.publicUrl, attachments: options.attachments };
  const dir = options.attachments.dir;
  if (dir) {
    // Files of attachments whose rows went with a deleted channel: cleared once per start, in the background (a large
    // directory must not delay serving), and awaited on close so it never outlives the database connection.
    let sweep: Promise<void> = Promise.resolve();
    app.addHook('onReady', async () => {
      sweep = removeOrphanedFiles(options.db, dir).then(
        (removed) => {
          if (removed.length > 0) app.log.info({ removed: removed.length }, 'removed orphaned attachment files');
        },
        (error: unknown) => app.log.warn({ err: error }, 'could not clear orphaned attachment files'),
      );
    });
    app.addHook('onClose', async () => {
      await sweep;
    });
  }
  const maxBytes = options.attachments.maxBytes;

  // Upload bodies are the files themselves, buffered whole (they are checked and hashed before anything is stored) up
  // to the upload route's bodyLimit. Only in this plugin: API v1 elsewhere still takes JSON only.
  app.addContentTypeParser(ATTACHMENT_MEDIA_TYPE_LIST, { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, body),
  );

  app.post(
    '/announcements/:id/attachments',
    {
      config: { policy: POLICY.channelPublish },
      bodyLimit: maxBytes,
      // Before the body is read: a caller without credentials, a type that is never accepted or a declared length
      // over the limit is refused without receiving megabytes first.
      preParsing: async (request) => {
        const denial = coarseDenial(POLICY.channelPublish, request.actor);
        if (denial) throw denial;
        const declared = mediaTypeOf(request.headers['content-type']);
        if (declared === undefined || !isAttachmentMediaType(declared)) throw unsupportedType(declared);
        if (Number(request.headers['content-length']) > maxBytes) throw tooLarge(maxBytes);
      },
      schema: {
        tags: ['announcements'],
        operationId: 'uploadAttachment',
        summary: 'Attach a file to an announcement',
        description:
          'The body is the file itself (not multipart), with its media type as Content-Type and its name as ' +
          '`?filename=`. Accepted: PDF, PNG, JPEG, GIF, WebP, Word/Excel/PowerPoint (OOXML and the older binary ' +
          'formats), OpenDocument text/spreadsheet/presentation, UTF-8 text and CSV — and only when the bytes are ' +
          'what the type says (checked by their signature; macro-enabled documents are refused): 415 otherwise, ' +
          `also for SVG and HTML. At most ${maxBytes} bytes (ATTACHMENT_MAX_BYTES; 413 above it) and ` +
          `${MAX_ATTACHMENTS_PER_ANNOUNCEMENT} ` +
          'per announcement (409). Publishers and owners of the channel, or an admin (token scope `publish`); not ' +
          'on a retracted announcement (409). Audited as `announcement.attach`.',
        security: BEARER_REQUIRED,
        params: AnnouncementParams,
        querystring: UploadQuery,
        consumes: [...UPLOAD_MEDIA_TYPES],
        body: UploadBody,
        response: { 201: Attachment, ...errorResponses(...BODY_ERRORS, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const body: unknown = request.body;
      const attachment = await addAttachment(
        deps,
        request.actor,
        request.params.id,
        {
          filename: request.query.filename,
          contentType: request.headers['content-type'],
          bytes: Buffer.isBuffer(body) ? body : Buffer.alloc(0),
        },
        request.id,
      );
      return reply.code(201).header('location', attachment.url).send(attachment);
    },
  );

  app.get(
    '/announcements/:id/attachments',
    {
      config: { policy: POLICY.channelRead },
      schema: {
        tags: ['announcements'],
        operationId: 'listAttachments',
        summary: "List an announcement's attachments",
        description: 'The same list the announcement carries in `attachments`. 404 for whoever may not read it.',
        security: BEARER_OPTIONAL,
        params: AnnouncementParams,
        response: { 200: AttachmentList, ...errorResponses(400, 404) },
      },
    },
    async (request) => listAttachments(deps, request.actor, request.params.id),
  );

  app.get(
    '/attachments/:id/:filename',
    {
      config: { policy: POLICY.channelRead },
      schema: {
        tags: ['announcements'],
        operationId: 'downloadAttachment',
        summary: 'Download an attachment',
        description:
          "Whoever may read the attachment's announcement; 404 for anyone else, exactly as for an id that does not " +
          'exist. The last path segment is the file name for browsers and may be anything. Answers 304 to ' +
          '`If-None-Match` with the ETag. HEAD gives the headers alone.',
        security: BEARER_OPTIONAL,
        params: AttachmentFileParams,
        response: {
          200: AttachmentDownloadResponse,
          304: Type.Null({ description: 'Not modified: the ETag matched' }),
          ...errorResponses(400, 404),
        },
      },
    },
    async (request, reply) => {
      const file = await findAttachmentToRead(deps, request.actor, request.params.id);
      // The bytes never change under an id, so their hash is a strong validator.
      const etag = `"${file.sha256}"`;
      reply
        .header('etag', etag)
        .header('last-modified', file.createdAt.toUTCString())
        .header('cache-control', file.public ? PUBLIC_CACHE_CONTROL : PRIVATE_CACHE_CONTROL)
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', DOWNLOAD_CSP)
        .header('content-disposition', contentDisposition(file.filename, file.disposition));
      if (isNotModified(request.headers, etag, file.createdAt)) return reply.code(304).send(null);
      reply.type(file.contentType).header('content-length', file.size);
      // HEAD: Fastify's HEAD route drains a stream body and keeps our Content-Length (an empty body would set it to
      // 0), so the bytes are not even read.
      if (request.method === 'HEAD') return reply.send(Readable.from([]));
      return reply.send(await file.open());
    },
  );

  app.delete(
    '/attachments/:id',
    {
      config: { policy: POLICY.channelPublish },
      schema: {
        tags: ['announcements'],
        operationId: 'deleteAttachment',
        summary: 'Remove an attachment',
        description:
          'Publishers and owners of the channel, or an admin (token scope `publish`); also from a retracted ' +
          'announcement. Removes the stored file too. Audited as `announcement.detach`.',
        security: BEARER_REQUIRED,
        params: AttachmentParams,
        response: { 204: Type.Null({ description: 'Removed' }), ...errorResponses(400, 403, 404) },
      },
    },
    async (request, reply) => {
      const { fileLeftBehind } = await removeAttachment(deps, request.actor, request.params.id, request.id);
      if (fileLeftBehind) request.log.warn({ path: fileLeftBehind }, 'attachment removed, but its file could not be');
      return reply.code(204).send(null);
    },
  );
};

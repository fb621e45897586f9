/** Publishing and reading announcements: /api/v1/channels/:slug/announcements and /api/v1/announcements/:id. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import type { Db } from '../../db/prisma.js';
import { isNotModified } from '../../feeds/conditional.js';
import { editAnnouncement, listRevisions } from '../../services/edit.js';
import { publishAnnouncementIdempotently } from '../../services/idempotency.js';
import { newestChannelPage } from '../../services/newest-page.js';
import { pinAnnouncement, unpinAnnouncement } from '../../services/pin.js';
import { publishAnnouncement } from '../../services/publish.js';
import type { ReadCache } from '../../services/read-cache.js';
import { listChannelAnnouncementsWithStats, readAnnouncement } from '../../services/reading.js';
import { retractAnnouncement } from '../../services/retract.js';
import { listDrafts, publishExisting, unscheduleAnnouncement } from '../../services/schedule.js';
import { POLICY } from '../policy.js';
import { READER_LANGUAGE_DESCRIPTION, readerLanguage, sendsLanguage, variesByLanguage } from '../reader-language.js';
import {
  Announcement,
  AnnouncementPage,
  AnnouncementParams,
  AnnouncementQuery,
  ChannelAnnouncementsQuery,
  DraftPage,
  DraftsQuery,
  EditBody,
  EditHeaders,
  PinBody,
  PublishBody,
  PublishHeaders,
  PublishNowBody,
  RevisionList,
  RevisionsQuery,
} from '../schemas/announcements.js';
import { ChannelParams } from '../schemas/channels.js';
import { BEARER_OPTIONAL, BEARER_REQUIRED, BODY_ERRORS, errorResponses } from '../schemas/common.js';
import { utf8Bytes } from '../utf8-bytes.js';

export interface AnnouncementRoutesOptions {
  db: Db;
  publicUrl: string;
  /** Keys the view counts (src/services/reading.ts: viewerKeyFor). */
  viewerSecret: string | Buffer;
  /** Newest pages and anonymous channel look-ups are kept here (src/services/read-cache.ts). */
  readCache?: ReadCache;
}

export const announcementRoutes: FastifyPluginAsyncTypebox<AnnouncementRoutesOptions> = async (app, options) => {
  const deps = {
    db: options.db,
    publicUrl: options.publicUrl,
    viewerSecret: options.viewerSecret,
    readCache: options.readCache,
  };

  app.post(
    '/channels/:slug/announcements',
    {
      config: { policy: POLICY.channelPublish },
      schema: {
        tags: ['announcements'],
        operationId: 'publishAnnouncement',
        summary: 'Publish an announcement',
        description:
          'Needs a token with scope `publish` and the owner or publisher role in the channel (or an admin). ' +
          'Subscribers are notified after the announcement is stored. Send an `Idempotency-Key` to make retries ' +
          'safe: the same key with the same request answers with the first response again (header ' +
          '`Idempotent-Replayed: true`) and publishes nothing; the same key with another request answers 422 ' +
          '`idempotency_key_reused`. Keys are per user and remembered for 24 hours; refused requests are not ' +
          'remembered. Beyond title and body: `language` of the original (default nb) and `translations` in the ' +
          'other languages; `type` (a maintenance notice needs affectedSystem, startsAt and endsAt); `resolves` ' +
          'makes it the follow-up of a published incident in this channel (404 when there is none the caller may ' +
          'see, 409 when it already has one); `audience` by organisation code (an unknown code answers 400 naming ' +
          'it); `expiresAt`; `acknowledgement`. `draft: true` stores a draft that only the channel editors see and ' +
          'nobody is told about; a future `publishAt` schedules it (status `scheduled`), published by the workers ' +
          'at that time. Every announcement starts at revision 1.',
        security: BEARER_REQUIRED,
        params: ChannelParams,
        headers: PublishHeaders,
        body: PublishBody,
        response: { 201: Announcement, ...errorResponses(...BODY_ERRORS, 403, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      if (key !== undefined && request.actor.kind === 'user') {
        const outcome = await publishAnnouncementIdempotently(
          deps,
          request.actor,
          request.params.slug,
          request.body,
          key,
          request.id,
        );
        if (outcome.replayed) reply.header('idempotent-replayed', 'true');
        // Only successful publications are stored, so a replayed status is the 201 the schema declares.
        return reply
          .code(outcome.status as 201)
          .header('location', `/api/v1/announcements/${outcome.body.id}`)
          .send(outcome.body);
      }
      const announcement = await publishAnnouncement(
        deps,
        request.actor,
        request.params.slug,
        request.body,
        request.id,
      );
      return reply.code(201).header('location', `/api/v1/announcements/${announcement.id}`).send(announcement);
    },
  );

  app.get(
    '/channels/:slug/announcements',
    {
      config: { policy: POLICY.channelRead },
      schema: {
        tags: ['announcements'],
        operationId: 'listChannelFeed',
        summary: "List a channel's announcements",
        description:
          'Published announcements the caller may see (those for every organisation or for the caller’s; the ' +
          'channel’s publishers and admins see every audience), newest first, pinned ones on top of the first ' +
          'page. Expired ones are left out unless `archive=true` (then `expired: true`). Filters: language (has a ' +
          'version in it), importance, type, organisation (code; unknown answers 400), from (inclusive) and to ' +
          `(exclusive; after from). ${READER_LANGUAGE_DESCRIPTION}`,
        security: BEARER_OPTIONAL,
        params: ChannelParams,
        querystring: ChannelAnnouncementsQuery,
        response: { 200: AnnouncementPage, ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      variesByLanguage(reply);
      const { query } = request;
      const newest =
        query.cursor === undefined &&
        !query.archive &&
        [query.language, query.importance, query.type, query.organisation, query.from, query.to].every(
          (filter) => filter === undefined,
        );
      if (newest) {
        // The page everyone polls: finished bytes from the read cache, with a strong ETag (src/services/newest-page.ts).
        const page = await newestChannelPage(
          deps,
          request.actor,
          request.params.slug,
          { limit: query.limit, readerLanguage: readerLanguage(request) },
          (payload) => String(reply.serialize(payload)),
        );
        // Already serialised by the 200 schema above; the typed reply knows only that schema's payload.
        const raw = reply as unknown as FastifyReply;
        raw
          .header('etag', page.etag)
          .header('cache-control', request.actor.kind === 'user' ? 'private, no-cache' : 'no-cache');
        if (isNotModified(request.headers, page.etag, null)) return raw.code(304).send();
        return raw.type('application/json; charset=utf-8').send(page.body);
      }
      const page = await listChannelAnnouncementsWithStats(deps, request.actor, request.params.slug, {
        ...query,
        readerLanguage: readerLanguage(request),
      });
      // The 200 schema's serialiser's bytes, encoded once (utf8Bytes).
      const raw = reply as unknown as FastifyReply;
      return raw.type('application/json; charset=utf-8').send(utf8Bytes(String(reply.serialize(page))));
    },
  );

  app.get(
    '/announcements/:id',
    {
      config: { policy: POLICY.channelRead },
      schema: {
        tags: ['announcements'],
        operationId: 'getAnnouncement',
        summary: 'Get an announcement',
        description:
          'Answers 404 when the caller may not read its channel or is outside its audience (exactly as for an id ' +
          'that does not exist); an expired one is still answered (the archive). A signed-in reader (session or ' +
          'token) opening it counts once towards `views`; anonymous reads are not counted. ' +
          `${READER_LANGUAGE_DESCRIPTION} Content-Language names the language returned.`,
        security: BEARER_OPTIONAL,
        params: AnnouncementParams,
        querystring: AnnouncementQuery,
        response: { 200: Announcement, ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const view = await readAnnouncement(deps, request.actor, request.params.id, readerLanguage(request));
      sendsLanguage(reply, view.language);
      return view;
    },
  );

  app.post(
    '/announcements/:id/retract',
    {
      config: { policy: POLICY.channelPublish },
      schema: {
        tags: ['announcements'],
        operationId: 'retractAnnouncement',
        summary: 'Retract an announcement',
        description:
          'Withdraws a published announcement: publishers and owners of its channel, or an admin (token scope ' +
          '`publish`). It disappears from lists, feeds and search; Atom feeds keep a tombstone dated at the ' +
          'retraction; live clients get an `announcement.retracted` frame. Those who were sent it by e-mail get a ' +
          'short notice that it was withdrawn (title only, never the withdrawn text). Retracting it ' +
          'again answers the same and changes nothing. Answers 409 for a draft.',
        security: BEARER_REQUIRED,
        params: AnnouncementParams,
        response: { 200: Announcement, ...errorResponses(400, 403, 404, 409) },
      },
    },
    async (request) => retractAnnouncement(deps, request.actor, request.params.id, request.id),
  );

  app.put(
    '/announcements/:id/pin',
    {
      config: { policy: POLICY.channelPublish },
      schema: {
        tags: ['announcements'],
        operationId: 'pinAnnouncement',
        summary: 'Pin an announcement',
        description:
          "Keeps a published announcement on top of its channel listing's first page (marked `pinned: true`) until " +
          '`until`, or until unpinned. Publishers and owners of its channel, or an admin (token scope `publish`). ' +
          'Pinning again replaces `until`. 409 when it is not published or the channel already has 10 pinned.',
        security: BEARER_REQUIRED,
        params: AnnouncementParams,
        body: PinBody,
        response: { 200: Announcement, ...errorResponses(...BODY_ERRORS, 403, 404, 409) },
      },
    },
    async (request) => pinAnnouncement(deps, request.actor, request.params.id, request.body, request.id),
  );

  app.delete(
    '/announcements/:id/pin',
    {
      config: { policy: POLICY.channelPublish },
      schema: {
        tags: ['announcements'],
        operationId: 'unpinAnnouncement',
        summary: 'Unpin an announcement',
        description: 'Who may pin may unpin. Unpinning one that is not pinned answers the same and changes nothing.',
        security: BEARER_REQUIRED,
        params: AnnouncementParams,
        response: { 200: Announcement, ...errorResponses(400, 403, 404) },
      },
    },
    async (request) => unpinAnnouncement(deps, request.actor, request.params.id, request.id),
  );

  app.get(
    '/channels/:slug/drafts',
    {
      config: { policy: POLICY.channelPublish },
      schema: {
        tags: ['announcements'],
        operationId: 'listChannelDrafts',
        summary: "List a channel's drafts and scheduled announcements",
        description:
          'For the channel editors who may publish there: owners and publishers of the channel, or an admin ' +
          '(token scope `publish`). Most recently created first, in pages. Publish one with POST ' +
          `/announcements/{id}/publish. ${READER_LANGUAGE_DESCRIPTION}`,
        security: BEARER_REQUIRED,
        params: ChannelParams,
        querystring: DraftsQuery,
        response: { 200: DraftPage, ...errorResponses(400, 403, 404) },
      },
    },
    async (request) =>
      listDrafts(
        deps,
        request.actor,
        request.params.slug,
        { limit: request.query.limit, ...(request.query.cursor ? { cursor: request.query.cursor } : {}) },
        readerLanguage(request),
      ),
  );

  app.post(
    '/announcements/:id/publish',
    {
      config: { policy: POLICY.channelPublish },
      // "Publish now" needs no body; an absent one is the empty object the schema describes.
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        tags: ['announcements'],
        operationId: 'publishDraft',
        summary: 'Publish or schedule a draft',
        description:
          'A draft is published now (subscribers are notified as for a new announcement), or scheduled for a ' +
          'future `publishAt` (status `scheduled`). A scheduled announcement is published now, or re-scheduled to ' +
          'the new `publishAt`. Answers 409 for an announcement that is published or retracted. Publishers and ' +
          'owners of its channel, or an admin (token scope `publish`). The body may be left out (publish now).',
        security: BEARER_REQUIRED,
        params: AnnouncementParams,
        body: PublishNowBody,
        response: { 200: Announcement, ...errorResponses(...BODY_ERRORS, 403, 404, 409) },
      },
    },
    async (request) => publishExisting(deps, request.actor, request.params.id, request.body, request.id),
  );

  app.post(
    '/announcements/:id/unschedule',
    {
      config: { policy: POLICY.channelPublish },
      schema: {
        tags: ['announcements'],
        operationId: 'unscheduleAnnouncement',
        summary: 'Take a scheduled announcement back to draft',
        description:
          'It will not be published at its `publishAt`. 409 unless it is scheduled. Publishers and owners of its ' +
          'channel, or an admin (token scope `publish`).',
        security: BEARER_REQUIRED,
        params: AnnouncementParams,
        response: { 200: Announcement, ...errorResponses(400, 403, 404, 409) },
      },
    },
    async (request) => unscheduleAnnouncement(deps, request.actor, request.params.id, request.id),
  );

  app.patch(
    '/announcements/:id',
    {
      config: { policy: POLICY.channelPublish },
      schema: {
        tags: ['announcements'],
        operationId: 'editAnnouncement',
        summary: 'Edit an announcement',
        description:
          'Changes the fields sent (null clears an optional one; `translations` replaces all translations) and ' +
          'records a new revision (see GET /announcements/{id}/revisions). For a published announcement ' +
          '`material` is required: true when readers must be told (everyone who received it is: those sent it by ' +
          'e-mail get a short correction e-mail with the `note` and the new text), false for a minor ' +
          'fix (no e-mail); live clients get an `announcement.updated` frame either way. Send the revision you edited as ' +
          '`If-Match: "<revision>"` (or `revision`) to be told with 409 `conflict` when someone else edited it ' +
          'first. 409 for a retracted announcement. Publishers and owners of its channel, or an admin (token ' +
          'scope `publish`).',
        security: BEARER_REQUIRED,
        params: AnnouncementParams,
        headers: EditHeaders,
        body: EditBody,
        response: { 200: Announcement, ...errorResponses(...BODY_ERRORS, 403, 404, 409) },
      },
    },
    async (request) => {
      const ifMatch = request.headers['if-match'];
      return editAnnouncement(deps, request.actor, request.params.id, request.body, {
        ...(ifMatch !== undefined ? { ifMatch } : {}),
        requestId: request.id,
      });
    },
  );

  app.get(
    '/announcements/:id/revisions',
    {
      config: { policy: POLICY.channelRead },
      schema: {
        tags: ['announcements'],
        operationId: 'listAnnouncementRevisions',
        summary: "An announcement's revision history",
        description:
          'Every revision, newest first: when, by whom, whether it was material, the note, and the content in the ' +
          'language asked for with `?lang=` (with the usual fallback) or else the original. Whoever may read the ' +
          'announcement may read its history; others get 404.',
        security: BEARER_OPTIONAL,
        params: AnnouncementParams,
        querystring: RevisionsQuery,
        response: { 200: RevisionList, ...errorResponses(400, 404) },
      },
    },
    async (request) => listRevisions(deps, request.actor, request.params.id, request.query.lang ?? null),
  );
};

/**
 * The editor's pages (src/web/pages/publisher/editor.tsx) — thin over the publishing services:
 *
 * - `GET|POST /channels/:slug/announcements/new` — a new announcement: publish now, schedule, save as draft;
 * - `GET|POST /announcements/:id/edit` — an existing one: save (a material or minor edit of a published one, with
 *   the revision the form was made from: a stale one answers 409 with the form kept), publish, schedule, take back
 *   to draft; its pin and its attachments;
 * - `POST /publish/preview` — a body rendered by the one renderer (src/content/markdown.ts) for the live preview.
 *
 * The forms are multipart (files ride along); the "Preview" button renders the same form again with each version's
 * body as readers will see it. Services decide everything; their refusals become errors on the form's fields.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ATTACHMENT_MEDIA_TYPE_LIST, checkAttachmentType, sanitiseFilename } from '../../../../content/file-types.js';
import { renderMarkdown } from '../../../../content/markdown.js';
import type { AnnouncementRecord } from '../../../../db/announcement-records.js';
import { AppError, isAppError } from '../../../../domain/errors.js';
import type { Language } from '../../../../domain/types.js';
import { loadAnnouncementToManage } from '../../../../services/announcement-access.js';
import { addAttachment, MAX_ATTACHMENTS_PER_ANNOUNCEMENT, removeAttachment } from '../../../../services/attachments.js';
import { editAnnouncement } from '../../../../services/edit.js';
import { publishAnnouncementIdempotently } from '../../../../services/idempotency.js';
import { listOrganisations } from '../../../../services/organisations.js';
import { pinAnnouncement, unpinAnnouncement } from '../../../../services/pin.js';
import { publishAnnouncement } from '../../../../services/publish.js';
import { channelToPublishIn, listOpenIncidents } from '../../../../services/publishing.js';
import { publishExisting, unscheduleAnnouncement } from '../../../../services/schedule.js';
import type { PageContext } from '../../../../web/context.js';
import type { MessageKey } from '../../../../web/i18n/catalogue.js';
import { type EditorAnnouncement, EditorPage, type EditorPageProps } from '../../../../web/pages/publisher/editor.js';
import type { EditorValues } from '../../../../web/pages/publisher/editor-values.js';
import { formatBytes } from '../../../../web/pages/publisher/shared.js';
import { WEB_PATHS } from '../../../../web/paths.js';
import { sendPage } from '../../../../web/render.js';
import { formString } from '../../../form-body.js';
import { acceptMultipartForms, readMultipartForm, type UploadedFile } from '../../../multipart-form.js';
import { POLICY } from '../../../policy.js';
import type { WebRouteOptions } from '../index.js';
import {
  addServiceError,
  checkWithSchema,
  EditBody,
  editChangesContent,
  editInputOf,
  editorAction,
  editorValuesFromForm,
  editorValuesFromRecord,
  emptyEditorValues,
  FormProblems,
  formInstants,
  PublishBody,
  publishInputOf,
} from './editor-form.js';
import { idParam, requireViewer, savedNotice, slugOf } from './page-helpers.js';

/** The form's idempotency key, as the page makes it (anything else: the form publishes without one). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The longest body the preview renders: the API's limit for a body. */
const MAX_PREVIEW_LENGTH = 20_000;

export async function editorPages(app: FastifyInstance, options: WebRouteOptions): Promise<void> {
  const { db, config } = options;
  const publicUrl = config.http.publicUrl;
  const deps = { db, publicUrl };
  const attachmentDeps = { db, publicUrl, attachments: config.attachments };
  const allowedOrigins = new Set(config.allowedOrigins);
  const limits = { maxFileBytes: config.attachments.maxBytes, maxFiles: MAX_ATTACHMENTS_PER_ANNOUNCEMENT };
  await acceptMultipartForms(app, limits);
  const pageConfig = { policy: POLICY.signedIn, page: true } as const;
  const formConfig = { ...pageConfig, csrf: 'multipart' } as const;

  async function renderEditor(
    reply: FastifyReply,
    ctx: PageContext,
    props: Omit<EditorPageProps, 'ctx' | 'organisations' | 'incidents' | 'maxAttachmentBytes' | 'acceptedFileTypes'>,
    status = 200,
  ) {
    const organisations = await listOrganisations({ db });
    const incidents = props.announcement ? [] : await listOpenIncidents(db, props.channel.slug);
    return sendPage(
      reply,
      ctx,
      <EditorPage
        ctx={ctx}
        {...props}
        organisations={organisations}
        incidents={incidents}
        maxAttachmentBytes={config.attachments.maxBytes}
        acceptedFileTypes={ATTACHMENT_MEDIA_TYPE_LIST.join(',')}
      />,
      { status },
    );
  }

  /** The announcement as the edit form shows it (its channel's title, the incident it resolves). */
  async function editorAnnouncement(record: AnnouncementRecord) {
    const channel = await db.channel.findUniqueOrThrow({ where: { id: record.channelId }, select: { title: true } });
    const resolves = record.resolvesId
      ? await db.announcement.findUnique({ where: { id: record.resolvesId }, select: { title: true } })
      : null;
    const announcement: EditorAnnouncement = {
      id: record.id,
      status: record.status,
      title: record.versions[0]?.title ?? '',
      publishedAt: record.publishedAt,
      publishAt: record.publishAt,
      attachments: record.attachments.map((a) => ({
        id: a.id,
        filename: a.filename,
        contentType: a.contentType,
        size: a.size,
        url: '',
      })),
      resolvesTitle: resolves?.title ?? null,
    };
    return { announcement, channel: { slug: record.channelSlug, title: channel.title } };
  }

  async function recordToEdit(ctx: PageContext, id: string): Promise<AnnouncementRecord> {
    const record = await loadAnnouncementToManage(db, ctx.actor, id, 'edit');
    if (record.status === 'retracted') throw new AppError('conflict', ctx.t('publisher.error.retracted'));
    return record;
  }

  /** Each version's body rendered, for the "Preview" button. */
  function previewsOf(values: EditorValues): EditorPageProps['previews'] {
    const previews: NonNullable<EditorPageProps['previews']> = {};
    for (const [language, version] of Object.entries(values.versions) as [Language, EditorValues['versions']['nb']][]) {
      if (version.body.trim()) previews[language] = { sanitisedHtml: renderMarkdown(version.body) };
    }
    return previews;
  }

  /** The checks addAttachment makes, made before anything is stored: a refused file stores nothing. */
  function checkFiles(ctx: PageContext, files: readonly UploadedFile[], existing: number, problems: FormProblems) {
    if (existing + files.length > MAX_ATTACHMENTS_PER_ANNOUNCEMENT) {
      problems.add('files', 'publisher.error.tooManyFiles', { max: MAX_ATTACHMENTS_PER_ANNOUNCEMENT });
    }
    for (const file of files) {
      const name = file.filename || '?';
      if (file.tooLarge) {
        problems.add('files', 'publisher.error.fileTooLarge', {
          name,
          max: formatBytes(ctx, config.attachments.maxBytes),
        });
      } else if (file.bytes.length === 0) {
        problems.add('files', 'publisher.error.fileEmpty', { name });
      } else if (sanitiseFilename(file.filename) === null) {
        problems.add('files', 'publisher.error.fileName', { name });
      } else if (!checkAttachmentType(file.contentType, file.bytes).ok) {
        problems.add('files', 'publisher.error.fileType', { name });
      }
    }
  }

  async function attachFiles(ctx: PageContext, request: FastifyRequest, id: string, files: readonly UploadedFile[]) {
    for (const file of files) {
      await addAttachment(
        attachmentDeps,
        ctx.actor,
        id,
        { filename: file.filename, contentType: file.contentType, bytes: file.bytes },
        request.id,
      );
    }
  }

  /** A step of a submission whose refusal belongs on one part of the form. */
  async function step<T>(
    run: () => Promise<T>,
    values: EditorValues,
    problems: FormProblems,
    fallback: { field: string; key: MessageKey; params?: Record<string, string | number> },
  ): Promise<T | undefined> {
    try {
      return await run();
    } catch (error) {
      addServiceError(error, values, problems, fallback);
      return undefined;
    }
  }

  // ---- new announcement ----

  app.get(
    '/channels/:slug/announcements/new',
    { config: pageConfig, schema: { hide: true } },
    async (request, reply) => {
      const ctx = await app.pageContext(request);
      requireViewer(ctx);
      const channel = await channelToPublishIn(db, ctx.actor, slugOf(request));
      return renderEditor(reply, ctx, {
        channel: { slug: channel.slug, title: channel.title },
        values: emptyEditorValues(ctx.language, randomUUID()),
      });
    },
  );

  app.post(
    '/channels/:slug/announcements/new',
    { config: formConfig, schema: { hide: true } },
    async (request, reply) => {
      const ctx = await app.pageContext(request);
      requireViewer(ctx);
      // Before the body is read: a person who may not publish here sends no files to this server.
      const channelRecord = await channelToPublishIn(db, ctx.actor, slugOf(request));
      const channel = { slug: channelRecord.slug, title: channelRecord.title };
      const form = await readMultipartForm(request, allowedOrigins, limits);
      const values = editorValuesFromForm(form.fields);
      const action = editorAction(form.fields) ?? 'preview';
      if (action === 'preview') {
        return renderEditor(reply, ctx, {
          channel,
          values,
          previews: previewsOf(values),
          ...(form.files.length > 0
            ? { notice: { color: 'warning', text: ctx.t('publisher.editor.filesNotKept') } }
            : {}),
        });
      }
      const problems = new FormProblems(ctx.t);
      const instants = formInstants(values, problems);
      checkFiles(ctx, form.files, 0, problems);
      const publishAt = action === 'schedule' ? instants.publishAt : undefined;
      if (action === 'schedule' && !problems.errors.publishAt) {
        if (!publishAt) problems.add('publishAt', 'publisher.error.publishAtRequired');
        else if (Date.parse(publishAt) <= Date.now()) problems.add('publishAt', 'publisher.error.publishAtPast');
      }
      if (values.pinned && action !== 'publish') problems.add('pinned', 'publisher.error.pinUnpublished');
      const input = publishInputOf(values, instants, { draft: action === 'draft', publishAt });
      checkWithSchema(request, PublishBody, input, values, problems);
      if (!problems.empty) return renderEditor(reply, ctx, { channel, values, errors: problems.fieldErrors }, 400);

      const actor = ctx.actor;
      if (form.files.length === 0) {
        const key = values.idempotencyKey;
        const published = await step(
          async () =>
            actor.kind === 'user' && UUID.test(key)
              ? (await publishAnnouncementIdempotently(deps, actor, channel.slug, input, key, request.id)).body
              : publishAnnouncement(deps, actor, channel.slug, input, request.id),
          values,
          problems,
          { field: '', key: 'publisher.error.notSaved' },
        );
        if (!published) return renderEditor(reply, ctx, { channel, values, errors: problems.fieldErrors }, 400);
        if (values.pinned && published.status === 'published') {
          await step(
            () => pinAnnouncement(deps, actor, published.id, { until: instants.pinUntil ?? null }, request.id),
            values,
            problems,
            { field: 'pinned', key: 'publisher.error.pinLimit' },
          );
        }
        return redirectAfterSave(
          reply,
          published.id,
          published.status,
          problems.empty ? (published.status as SavedNotice) : 'pinFailed',
        );
      }

      // With files: a draft first, its attachments, then publication — so nobody is told about it before its files
      // are there. Whatever is refused after the draft exists is shown on the draft's own edit form.
      const draft = await step(
        () =>
          publishAnnouncement(deps, actor, channel.slug, { ...input, draft: true, publishAt: undefined }, request.id),
        values,
        problems,
        { field: '', key: 'publisher.error.notSaved' },
      );
      if (!draft) return renderEditor(reply, ctx, { channel, values, errors: problems.fieldErrors }, 400);
      const attached = await step(
        async () => {
          await attachFiles(ctx, request, draft.id, form.files);
          return true;
        },
        values,
        problems,
        {
          field: 'files',
          key: 'publisher.error.fileRefused',
        },
      );
      let status: string = draft.status;
      if (attached !== undefined && action !== 'draft') {
        const done = await step(
          () => publishExisting(deps, actor, draft.id, publishAt ? { publishAt } : {}, request.id),
          values,
          problems,
          {
            field: publishAt ? 'publishAt' : '',
            key: 'publisher.error.notPublished',
          },
        );
        if (done) status = done.status;
        if (done && values.pinned && done.status === 'published') {
          await step(
            () => pinAnnouncement(deps, actor, draft.id, { until: instants.pinUntil ?? null }, request.id),
            values,
            problems,
            { field: 'pinned', key: 'publisher.error.pinLimit' },
          );
        }
      }
      if (problems.empty) return redirectAfterSave(reply, draft.id, status, status as SavedNotice);
      const record = await recordToEdit(ctx, draft.id);
      const shown = await editorAnnouncement(record);
      return renderEditor(
        reply,
        ctx,
        {
          ...shown,
          values: { ...values, revision: String(record.revision), idempotencyKey: '' },
          errors: problems.fieldErrors,
          notice: { color: 'warning', text: ctx.t('publisher.editor.savedAsDraft') },
        },
        400,
      );
    },
  );

  // ---- existing announcement ----

  app.get('/announcements/:id/edit', { config: pageConfig, schema: { hide: true } }, async (request, reply) => {
    const ctx = await app.pageContext(request);
    requireViewer(ctx);
    const record = await recordToEdit(ctx, idParam(request));
    const shown = await editorAnnouncement(record);
    const notice = savedNotice(ctx, request);
    return renderEditor(reply, ctx, {
      ...shown,
      values: editorValuesFromRecord(record, ctx.now),
      ...(notice ? { notice } : {}),
    });
  });

  app.post('/announcements/:id/edit', { config: formConfig, schema: { hide: true } }, async (request, reply) => {
    const ctx = await app.pageContext(request);
    requireViewer(ctx);
    const id = idParam(request);
    const record = await recordToEdit(ctx, id);
    const shown = await editorAnnouncement(record);
    const form = await readMultipartForm(request, allowedOrigins, limits);
    const values = editorValuesFromForm(form.fields);
    const action = editorAction(form.fields) ?? 'preview';
    const render = (extra: Partial<EditorPageProps>, status: number) =>
      renderEditor(reply, ctx, { ...shown, values, ...extra }, status);
    if (action === 'preview') {
      return render(
        {
          previews: previewsOf(values),
          ...(form.files.length > 0
            ? { notice: { color: 'warning', text: ctx.t('publisher.editor.filesNotKept') } }
            : {}),
        },
        200,
      );
    }
    const status = record.status;
    const published = status === 'published';
    const allowed: Record<string, readonly string[]> = {
      draft: ['draft', 'save', 'publish', 'schedule'],
      scheduled: ['save', 'publish', 'unschedule'],
      published: ['save'],
    };
    if (!allowed[status]?.includes(action)) {
      return render({ errors: { '': ctx.t('publisher.error.action') } }, 400);
    }
    const problems = new FormProblems(ctx.t);
    const instants = formInstants(values, problems);
    checkFiles(ctx, form.files, record.attachments.length - values.removeAttachments.length, problems);
    // The time a scheduled announcement is (re)scheduled for: the Schedule button, or a changed time when saving one.
    const currentPublishAt = record.publishAt?.toISOString();
    const reschedule =
      action === 'schedule' || (status === 'scheduled' && action === 'save' && instants.publishAt !== currentPublishAt);
    if (reschedule && !problems.errors.publishAt) {
      if (!instants.publishAt) problems.add('publishAt', 'publisher.error.publishAtRequired');
      else if (Date.parse(instants.publishAt) <= Date.now()) problems.add('publishAt', 'publisher.error.publishAtPast');
    }
    const endsPublished = published || action === 'publish';
    if (values.pinned && !endsPublished) problems.add('pinned', 'publisher.error.pinUnpublished');
    const input = editInputOf(values, instants, published);
    checkWithSchema(request, EditBody, input, values, problems);
    const changes = problems.empty && editChangesContent(record, input);
    if (published && changes && !values.change) problems.add('change', 'publisher.error.change');
    if (!problems.empty) return render({ errors: problems.fieldErrors }, 400);

    const actor = ctx.actor;
    if (changes) {
      try {
        await editAnnouncement(deps, actor, id, input, { requestId: request.id });
      } catch (error) {
        if (isAppError(error) && error.code === 'conflict' && /revision|meanwhile/.test(error.message)) {
          // Someone saved in between. The form keeps this person's text; saving again (now from the current
          // revision) replaces the other edit, which the message says and the link lets them read first.
          const current = await loadAnnouncementToManage(db, actor, id, 'edit');
          return render(
            {
              values: { ...values, revision: String(current.revision) },
              errors: { '': ctx.t('publisher.error.conflict', { revision: current.revision }) },
            },
            409,
          );
        }
        addServiceError(error, values, problems, { field: '', key: 'publisher.error.notSaved' });
        return render({ errors: problems.fieldErrors }, isAppError(error) && error.code === 'conflict' ? 409 : 400);
      }
    }
    if (form.files.length > 0) {
      await step(() => attachFiles(ctx, request, id, form.files), values, problems, {
        field: 'files',
        key: 'publisher.error.fileRefused',
      });
    }
    for (const attachmentId of values.removeAttachments) {
      if (!record.attachments.some((attachment) => attachment.id === attachmentId)) continue;
      await step(() => removeAttachment(attachmentDeps, actor, attachmentId, request.id), values, problems, {
        field: 'files',
        key: 'publisher.error.notSaved',
      });
    }
    let finalStatus: string = status;
    if (problems.empty) {
      const outcome = await step(
        async () => {
          if (action === 'publish') return publishExisting(deps, actor, id, {}, request.id);
          if (action === 'unschedule') return unscheduleAnnouncement(deps, actor, id, request.id);
          if (reschedule && instants.publishAt) {
            return publishExisting(deps, actor, id, { publishAt: instants.publishAt }, request.id);
          }
          return undefined;
        },
        values,
        problems,
        { field: reschedule ? 'publishAt' : '', key: 'publisher.error.notPublished' },
      );
      if (outcome) finalStatus = outcome.status;
    }
    if (problems.empty && finalStatus === 'published') {
      const pinnedNow = record.pinnedAt !== null && (record.pinnedUntil === null || record.pinnedUntil > new Date());
      const until = instants.pinUntil ?? null;
      const untilChanged = (record.pinnedUntil?.toISOString() ?? null) !== until;
      if (values.pinned && (!pinnedNow || untilChanged)) {
        await step(() => pinAnnouncement(deps, actor, id, { until }, request.id), values, problems, {
          field: 'pinned',
          key: 'publisher.error.pinLimit',
        });
      } else if (!values.pinned && pinnedNow) {
        await step(() => unpinAnnouncement(deps, actor, id, request.id), values, problems, {
          field: 'pinned',
          key: 'publisher.error.notSaved',
        });
      }
    }
    if (!problems.empty) {
      const now = await recordToEdit(ctx, id);
      const again = await editorAnnouncement(now);
      return renderEditor(
        reply,
        ctx,
        { ...again, values: { ...values, revision: String(now.revision) }, errors: problems.fieldErrors },
        400,
      );
    }
    const notice: SavedNotice =
      action === 'publish' || action === 'schedule' || action === 'unschedule' || finalStatus === 'draft'
        ? (finalStatus as SavedNotice)
        : changes
          ? 'updated'
          : 'saved';
    return redirectAfterSave(reply, id, finalStatus, notice);
  });

  // ---- live preview ----

  app.post(
    WEB_PATHS.markdownPreview,
    { config: { policy: POLICY.signedIn }, schema: { hide: true } },
    async (request) => {
      const ctx = await app.pageContext(request);
      if (!ctx.viewer?.canPublish) throw new AppError('forbidden', 'The preview is for publishers');
      const body = formString(request.body, 'body') ?? '';
      if (body.length > MAX_PREVIEW_LENGTH) {
        throw new AppError('validation_failed', `body must be at most ${MAX_PREVIEW_LENGTH} characters`, {
          field: 'body',
        });
      }
      return { html: renderMarkdown(body) };
    },
  );
}

/** The notices a page shows after a successful submission (`?saved=`), by what happened. */
export type SavedNotice = 'draft' | 'scheduled' | 'published' | 'updated' | 'saved' | 'pinFailed';

/**
 * Where a successful submission goes: a draft back to its editor; anything else to its publishers' page, which shows
 * its state and figures.
 */
function redirectAfterSave(reply: FastifyReply, id: string, status: string, notice: SavedNotice) {
  const target = status === 'draft' ? WEB_PATHS.editAnnouncement(id) : WEB_PATHS.announcementDeliveries(id);
  return reply.header('cache-control', 'no-store').redirect(`${target}?saved=${notice}`, 303);
}

/**
 * Edits with a revision history. Every edit of an announcement that is not retracted bumps `revision`, sets
 * `editedAt`, and stores the full content as it now is (every language version) in an AnnouncementRevision, with the
 * editor, whether it was material and a note — all in one transaction with its audit record. An edit of a PUBLISHED
 * announcement also writes an `announcement.updated` outbox event (payload {announcementId, revision, material}),
 * which the relay sends live and, when material, turns into a correction to those who were e-mailed it; the publisher
 * must say whether it is material (a change readers must be told about) or minor. Drafts and scheduled announcements reached nobody yet, so their edits are never material.
 *
 * Optimistic concurrency: the client may name the revision it edited (`If-Match: "3"` or `revision: 3`); a stale one
 * answers 409 `conflict` with the current revision. Without it, the edit still never overwrites a concurrent one
 * blindly: the update is conditional on the revision that was read, and a lost race answers 409 too.
 */
import { renderMarkdown } from '../content/markdown.js';
import { loadAnnouncementRecord } from '../db/announcement-records.js';
import type { Db } from '../db/prisma.js';
import {
  type AnnouncementType,
  type LanguageVersion,
  pickVersion,
  validateAnnouncementShape,
} from '../domain/announcement.js';
import { AppError, notFound } from '../domain/errors.js';
import type { Actor, Importance, Language } from '../domain/types.js';
import { ANNOUNCEMENT_UPDATED } from '../realtime/protocol.js';
import { loadAnnouncementToManage, loadAnnouncementToRead } from './announcement-access.js';
import { recordAudit } from './audit.js';
import {
  normaliseVersions,
  notifyOutbox,
  parseInstant,
  type RevisionContent,
  resolveAudience,
  revisionContentJson,
  type TranslationInput,
} from './publish.js';
import { type AnnouncementView, announcementView } from './views.js';

export { ANNOUNCEMENT_UPDATED };

/** Payload of an `announcement.updated` outbox event. */
export interface UpdatedPayload {
  announcementId: string;
  revision: number;
  material: boolean;
}

/** PATCH /announcements/{id}: absent fields keep their value; null clears an optional one. */
export interface EditInput {
  title?: string;
  body?: string;
  importance?: Importance;
  language?: Language;
  summary?: string | null;
  /** Replaces the translations when given. */
  translations?: TranslationInput[];
  type?: AnnouncementType;
  affectedSystem?: string | null;
  startsAt?: string | null;
  endsAt?: string | null;
  audience?: string[];
  expiresAt?: string | null;
  acknowledgement?: { required: boolean; deadline?: string | null };
  /** Required for a published announcement. */
  material?: boolean;
  note?: string;
  /** The revision the edit is based on. */
  revision?: number;
}

export interface EditOptions {
  /** The If-Match header as sent. */
  ifMatch?: string;
  requestId?: string;
  language?: Language | null;
}

/** `"3"`, `W/"3"` or `3` → 3. */
export function revisionFromIfMatch(value: string): number {
  const match = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(value);
  if (!match?.[1] || Number(match[1]) < 1) {
    throw new AppError('validation_failed', 'If-Match must name a revision, like "3"', { field: 'If-Match' });
  }
  return Number(match[1]);
}

/** How often an edit without a named revision is re-applied after losing a race. */
const EDIT_ATTEMPTS = 3;

/** The conditional update found another revision (or state) than the one read. */
class LostRace extends Error {}

/**
 * Applies an edit. With a named revision (If-Match or `revision`) a stale one answers 409. Without one the client
 * accepts whatever is current: the edit is applied to the latest revision (its absent fields keeping their current
 * values), re-read and re-applied if a concurrent edit committed in between — never written over it blindly.
 */
export async function editAnnouncement(
  deps: { db: Db; publicUrl: string },
  actor: Actor,
  announcementId: string,
  input: EditInput,
  options: EditOptions = {},
): Promise<AnnouncementView> {
  const named = options.ifMatch !== undefined || input.revision !== undefined;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await editOnce(deps, actor, announcementId, input, options);
    } catch (error) {
      if (!(error instanceof LostRace)) throw error;
      if (named || attempt >= EDIT_ATTEMPTS) {
        throw new AppError('conflict', 'The announcement changed meanwhile; load it and edit the current revision');
      }
    }
  }
}

async function editOnce(
  deps: { db: Db; publicUrl: string },
  actor: Actor,
  announcementId: string,
  input: EditInput,
  options: EditOptions,
): Promise<AnnouncementView> {
  const record = await loadAnnouncementToManage(deps.db, actor, announcementId, 'edit');
  if (record.status === 'retracted') throw new AppError('conflict', 'A retracted announcement cannot be edited');

  const fromHeader = options.ifMatch === undefined ? undefined : revisionFromIfMatch(options.ifMatch);
  if (fromHeader !== undefined && input.revision !== undefined && fromHeader !== input.revision) {
    throw new AppError('validation_failed', 'If-Match and revision name different revisions', { field: 'revision' });
  }
  const expected = fromHeader ?? input.revision;
  if (expected !== undefined && expected !== record.revision) {
    throw new AppError('conflict', `The announcement is at revision ${record.revision}; load it and edit that`, {
      revision: record.revision,
    });
  }
  const published = record.status === 'published';
  if (published && input.material === undefined) {
    throw new AppError('validation_failed', 'Say whether the edit of a published announcement is material', {
      field: 'material',
    });
  }
  const material = published && input.material === true;

  const now = new Date();
  const current = record.versions[0];
  if (!current) throw new Error('An announcement has at least its original version');
  const versions = normaliseVersions(
    input.language ?? current.language,
    {
      title: input.title ?? current.title,
      summary: input.summary === undefined ? current.summary : input.summary,
      body: input.body ?? current.body,
    },
    input.translations ?? record.versions.slice(1),
  );
  const [original] = versions;
  if (!original) throw new Error('normaliseVersions returns the original first');

  const pick = <T>(value: T | undefined, existing: T): T => (value === undefined ? existing : value);
  const startsAt = input.startsAt === undefined ? record.startsAt : parseInstant(input.startsAt, 'startsAt');
  const endsAt = input.endsAt === undefined ? record.endsAt : parseInstant(input.endsAt, 'endsAt');
  const expiresAt = input.expiresAt === undefined ? record.expiresAt : parseInstant(input.expiresAt, 'expiresAt');
  const ackRequired = input.acknowledgement ? input.acknowledgement.required : record.ackRequired;
  const ackDeadline = input.acknowledgement
    ? parseInstant(input.acknowledgement.deadline, 'acknowledgement.deadline')
    : record.ackDeadline;
  const type = pick(input.type, record.type);
  const affectedSystem =
    input.affectedSystem === undefined ? record.affectedSystem : input.affectedSystem?.trim() || null;
  validateAnnouncementShape(
    {
      type,
      affectedSystem,
      startsAt,
      endsAt,
      resolvesId: record.resolvesId,
      // Times already stored may lie in the past by now (an expired announcement can still get a typo fixed); only
      // a time this edit sets is held to "after publication".
      expiresAt: input.expiresAt === undefined ? null : expiresAt,
      publishAt: record.status === 'scheduled' ? record.publishAt : null,
      ackRequired,
      ackDeadline,
      languages: versions.map((version) => version.language),
    },
    now,
  );
  if (input.acknowledgement?.deadline && ackDeadline && ackDeadline.getTime() <= now.getTime()) {
    throw new AppError('validation_failed', 'acknowledgement.deadline must be in the future', {
      field: 'acknowledgement.deadline',
    });
  }
  const audience =
    input.audience === undefined ? record.audienceOrganisationIds : await resolveAudience(deps.db, input.audience);
  const revision = record.revision + 1;

  await deps.db.$transaction(async (tx) => {
    // Conditional on what was read: after a concurrent edit (or the scheduler publishing it) this writes nothing and
    // editAnnouncement either answers 409 or re-applies the edit to what is there now.
    const { count } = await tx.announcement.updateMany({
      where: { id: record.id, revision: record.revision, status: record.status },
      data: {
        language: original.language,
        title: original.title,
        summary: original.summary,
        body: original.body,
        importance: pick(input.importance, record.importance),
        type,
        affectedSystem,
        startsAt,
        endsAt,
        expiresAt,
        audienceOrganisationIds: audience,
        ackRequired,
        ackDeadline,
        // A moved deadline deserves its own reminder: the one sent for the old deadline no longer says the truth.
        ...((ackDeadline?.getTime() ?? null) !== (record.ackDeadline?.getTime() ?? null)
          ? { ackRemindersAt: null }
          : {}),
        revision,
        editedAt: now,
      },
    });
    if (count === 0) throw new LostRace();
    if (input.translations !== undefined || input.language !== undefined) {
      await tx.announcementTranslation.deleteMany({ where: { announcementId: record.id } });
      if (versions.length > 1) {
        await tx.announcementTranslation.createMany({
          data: versions.slice(1).map((version) => ({ announcementId: record.id, ...version })),
        });
      }
    }
    const note = input.note?.trim() || null;
    await tx.announcementRevision.create({
      data: {
        announcementId: record.id,
        revision,
        editorId: actor.kind === 'user' ? actor.userId : null,
        material,
        note,
        content: revisionContentJson(versions),
      },
    });
    await recordAudit(tx, {
      actor,
      action: 'announcement.edit',
      outcome: 'success',
      targetType: 'announcement',
      targetId: record.id,
      ...(options.requestId ? { requestId: options.requestId } : {}),
      details: { channel: record.channelSlug, revision, material, status: record.status },
    });
    if (published) {
      const payload: UpdatedPayload = { announcementId: record.id, revision, material };
      await tx.outboxEvent.create({
        data: {
          type: ANNOUNCEMENT_UPDATED,
          channelId: record.channelId,
          aggregateId: record.id,
          payload: { ...payload },
        },
      });
      await notifyOutbox(tx);
    }
  });
  const edited = await loadAnnouncementRecord(deps.db, record.id);
  if (!edited) throw notFound('Announcement');
  return announcementView(edited, { publicUrl: deps.publicUrl, language: options.language ?? null });
}

export interface RevisionView {
  revision: number;
  createdAt: string;
  editor: { name: string } | null;
  material: boolean;
  note: string | null;
  content: {
    language: Language;
    languages: Language[];
    title: string;
    summary: string | null;
    body: string;
    bodyHtml: string;
  };
}

/**
 * The revision history of an announcement the actor may read (loadAnnouncementToRead: the same rule as reading it),
 * newest first, each revision's content in the requested language (pickVersion's fallback) or its original.
 */
export async function listRevisions(
  deps: { db: Db },
  actor: Actor,
  announcementId: string,
  language: Language | null = null,
): Promise<{ items: RevisionView[] }> {
  const { record } = await loadAnnouncementToRead(deps.db, actor, announcementId);
  const rows = await deps.db.announcementRevision.findMany({
    where: { announcementId: record.id },
    orderBy: { revision: 'desc' },
    include: { editor: { select: { displayName: true } } },
  });
  return {
    items: rows.map((row) => {
      const versions = versionsOf(row.content as unknown as RevisionContent);
      const version = pickVersion(versions, language);
      return {
        revision: row.revision,
        createdAt: row.createdAt.toISOString(),
        editor: row.editor ? { name: row.editor.displayName } : null,
        material: row.material,
        note: row.note,
        content: {
          language: version.language,
          languages: versions.map((v) => v.language),
          title: version.title,
          summary: version.summary,
          body: version.body,
          bodyHtml: renderMarkdown(version.body),
        },
      };
    }),
  };
}

/** The stored content (written by revisionContentJson, or by the migration for older announcements) as versions. */
function versionsOf(content: RevisionContent): LanguageVersion[] {
  const original: LanguageVersion = {
    language: content.language,
    title: content.title,
    summary: content.summary ?? null,
    body: content.body,
  };
  const translations = (content.translations ?? []).map((t) => ({
    language: t.language,
    title: t.title,
    summary: t.summary ?? null,
    body: t.body,
  }));
  return [original, ...translations];
}

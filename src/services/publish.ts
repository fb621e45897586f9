/**
 * Publishing: the announcement and its outbox event are written in ONE transaction, so an announcement is never
 * published without its event and an event never exists for a rolled-back announcement. Nothing is sent to Redis
 * here: the outbox relay (workers/outbox-relay.ts) does that after commit, at least once. `pg_notify` wakes the
 * relay at commit time, so the usual latency is milliseconds, not the relay's poll interval. The audit record of the
 * publication and the announcement's first revision (AnnouncementRevision 1) are written in the same transaction —
 * all of it ONE statement (src/db/announcement-writes.ts), and the response is built from what was written rather
 * than read back: a publication costs three round trips (token, channel, the write) instead of twelve.
 *
 * The same request can also store a draft (no event: nobody is told) or schedule the announcement for later (an
 * `announcement.scheduled` event, which the relay turns into a delayed job; see src/services/schedule.ts).
 */
import { randomUUID } from 'node:crypto';
import type { AnnouncementRecord } from '../db/announcement-records.js';
import { insertAnnouncement, type NewAnnouncementWrite } from '../db/announcement-writes.js';
import { findChannelAndActorName } from '../db/channels.js';
import type { Db } from '../db/prisma.js';
import { canPublish, canReadChannel } from '../domain/access.js';
import {
  type AnnouncementStatus,
  type AnnouncementType,
  canSeeAnnouncement,
  type LanguageVersion,
  validateAnnouncementShape,
} from '../domain/announcement.js';
import { AppError, notFound } from '../domain/errors.js';
import { type Actor, type Importance, LANGUAGES, type Language } from '../domain/types.js';
import type { Prisma } from '../generated/prisma/client.js';
import { auditRow } from './audit.js';
import { type AnnouncementView, announcementView } from './views.js';

export const OUTBOX_NOTIFY_CHANNEL = 'meldingskanal_outbox';
export const ANNOUNCEMENT_PUBLISHED = 'announcement.published';
/** A scheduled announcement's timer: payload {@link ScheduledPayload}; the relay adds a delayed job for it. */
export const ANNOUNCEMENT_SCHEDULED = 'announcement.scheduled';

export interface TranslationInput {
  language: Language;
  title: string;
  summary?: string | null;
  /** Markdown. */
  body: string;
}

/** What a publisher sends (POST /channels/{slug}/announcements); dates are ISO 8601 strings. */
export interface PublishInput {
  title: string;
  body: string;
  importance?: Importance;
  /** The language of title, summary and body; default nb. */
  language?: Language;
  summary?: string | null;
  translations?: TranslationInput[];
  type?: AnnouncementType;
  affectedSystem?: string | null;
  startsAt?: string | null;
  endsAt?: string | null;
  /** The published incident of the same channel this follow-up resolves. */
  resolves?: string;
  /** Organisation codes; empty or absent: everyone. */
  audience?: string[];
  expiresAt?: string | null;
  acknowledgement?: { required: boolean; deadline?: string | null };
  draft?: boolean;
  /** A future time: scheduled. */
  publishAt?: string;
}

export interface OutboxPayload {
  announcementId: string;
}

export interface ScheduledPayload {
  announcementId: string;
  /** ISO 8601. */
  publishAt: string;
}

/** The content a revision keeps (AnnouncementRevision.content). */
export interface RevisionContent {
  language: Language;
  title: string;
  summary: string | null;
  body: string;
  translations: { language: Language; title: string; summary: string | null; body: string }[];
}

type Tx = Prisma.TransactionClient;

export async function publishAnnouncement(
  deps: { db: Db; publicUrl: string },
  actor: Actor,
  channelSlug: string,
  input: PublishInput,
  /** The request to quote in the audit record. */
  requestId?: string,
  options: {
    /**
     * The publisher's Idempotency-Key, stored with the response in the same statement as the announcement: both are
     * written or neither; a concurrent request that stored the same key first makes this one fail with a unique
     * violation and write nothing (src/services/idempotency.ts).
     */
    idempotency?: { key: string; fingerprint: string };
  } = {},
): Promise<AnnouncementView> {
  const now = new Date();
  const versions = normaliseVersions(input.language ?? 'nb', input, input.translations ?? []);
  const [original] = versions;
  if (!original) throw new Error('normaliseVersions returns the original first');
  const publishAt = parseInstant(input.publishAt, 'publishAt');
  if (input.draft && publishAt) {
    throw new AppError(
      'validation_failed',
      'A draft has no publication time; schedule it later with POST /announcements/{id}/publish',
      { field: 'publishAt' },
    );
  }
  if (publishAt && publishAt.getTime() <= now.getTime()) {
    throw new AppError('validation_failed', 'publishAt must be in the future', { field: 'publishAt' });
  }
  const resolvesId = input.resolves ?? null;
  const shape = {
    // A follow-up is an incident, also when the publisher did not say so.
    type: input.type ?? (resolvesId ? 'incident' : 'general'),
    affectedSystem: input.affectedSystem?.trim() || null,
    startsAt: parseInstant(input.startsAt, 'startsAt'),
    endsAt: parseInstant(input.endsAt, 'endsAt'),
    resolvesId,
    expiresAt: parseInstant(input.expiresAt, 'expiresAt'),
    publishAt,
    ackRequired: input.acknowledgement?.required ?? false,
    ackDeadline: parseInstant(input.acknowledgement?.deadline, 'acknowledgement.deadline'),
    languages: versions.map((version) => version.language),
  } satisfies Parameters<typeof validateAnnouncementShape>[0];
  validateAnnouncementShape(shape, now);
  if (shape.ackDeadline && shape.ackDeadline.getTime() <= now.getTime()) {
    throw new AppError('validation_failed', 'acknowledgement.deadline must be in the future', {
      field: 'acknowledgement.deadline',
    });
  }

  const found = await findChannelAndActorName(deps.db, channelSlug, actor);
  // A channel the actor may not read answers exactly like one that does not exist.
  if (!found || !canReadChannel(actor, found.channel)) throw notFound('Channel');
  const { channel } = found;
  if (!canPublish(actor, channel)) throw new AppError('forbidden', 'You may not publish in this channel');
  const audience = await resolveAudienceOrganisations(deps.db, input.audience ?? []);

  const status: AnnouncementStatus = input.draft ? 'draft' : publishAt ? 'scheduled' : 'published';
  const authorId = actor.kind === 'user' ? actor.userId : null;
  const id = randomUUID();
  const importance = input.importance ?? 'info';
  // Everything the new announcement's record holds is known here: it is built, not read back (a round trip, and
  // Prisma's row decoding, for what this function has just written).
  const record: AnnouncementRecord = {
    id,
    channelId: channel.id,
    channelSlug: channel.slug,
    channelVisibility: channel.visibility,
    authorName: authorId === null ? null : found.actorName,
    status,
    importance,
    type: shape.type,
    // In the order the loader gives them (src/db/announcement-records.ts: recordOf): the original, then LANGUAGES.
    versions: [
      original,
      ...versions.slice(1).sort((a, b) => LANGUAGES.indexOf(a.language) - LANGUAGES.indexOf(b.language)),
    ],
    affectedSystem: shape.affectedSystem,
    startsAt: shape.startsAt,
    endsAt: shape.endsAt,
    resolvesId,
    resolvedById: null,
    audienceOrganisationIds: audience.map((organisation) => organisation.id),
    audience: [...audience].sort((a, b) => a.code.localeCompare(b.code)),
    publishedAt: status === 'published' ? now : null,
    publishAt,
    expiresAt: shape.expiresAt,
    retractedAt: null,
    pinnedAt: null,
    pinnedUntil: null,
    revision: 1,
    editedAt: null,
    ackRequired: shape.ackRequired,
    ackDeadline: shape.ackDeadline,
    createdAt: now,
    updatedAt: now,
    attachments: [],
  };
  const view = announcementView(record, { publicUrl: deps.publicUrl, language: null, now });
  const write: NewAnnouncementWrite = {
    announcement: {
      id,
      channelId: channel.id,
      authorId,
      versions,
      importance,
      type: shape.type,
      affectedSystem: shape.affectedSystem,
      startsAt: shape.startsAt,
      endsAt: shape.endsAt,
      resolvesId,
      audienceOrganisationIds: record.audienceOrganisationIds,
      expiresAt: shape.expiresAt,
      ackRequired: shape.ackRequired,
      ackDeadline: shape.ackDeadline,
      status,
      publishedAt: record.publishedAt,
      publishAt,
      now,
    },
    revision: { editorId: authorId, content: revisionContentJson(versions) },
    outboxEvent:
      status === 'published'
        ? { type: ANNOUNCEMENT_PUBLISHED, payload: publishedPayload(id) }
        : status === 'scheduled' && publishAt
          ? { type: ANNOUNCEMENT_SCHEDULED, payload: scheduledPayload(id, publishAt) }
          : null,
    // The record exists exactly when the announcement does.
    audit: auditRow({
      actor,
      action:
        status === 'published'
          ? 'announcement.publish'
          : status === 'scheduled'
            ? 'announcement.schedule'
            : 'announcement.draft',
      outcome: 'success',
      targetType: 'announcement',
      targetId: id,
      ...(requestId ? { requestId } : {}),
      details: {
        channel: channel.slug,
        importance,
        ...(publishAt ? { publishAt: publishAt.toISOString() } : {}),
      },
    }),
    idempotencyKey:
      options.idempotency && authorId !== null
        ? {
            userId: authorId,
            key: options.idempotency.key,
            fingerprint: options.idempotency.fingerprint,
            responseStatus: 201,
            responseBody: viewAsJson(view),
          }
        : null,
    notify: status === 'draft' ? null : OUTBOX_NOTIFY_CHANNEL,
  };
  if (resolvesId) {
    // The incident's row lock and the checks must hold until the follow-up is written: a transaction around both.
    await deps.db.$transaction(async (tx) => {
      await assertResolvable(tx, actor, channel, resolvesId);
      await insertAnnouncement(tx, write);
    });
  } else {
    await insertAnnouncement(deps.db, write);
  }
  return view;
}

/** The body exactly as it goes over the wire (dates as strings, no undefined members). */
export function viewAsJson(view: AnnouncementView): Prisma.InputJsonObject {
  return JSON.parse(JSON.stringify(view)) as Prisma.InputJsonObject;
}

/** Wakes the outbox relay when the transaction commits (and not before, nor if it rolls back). */
export async function notifyOutbox(tx: Tx): Promise<void> {
  // $executeRaw, not $queryRaw: pg_notify returns void, a column type Prisma cannot deserialise.
  await tx.$executeRaw`SELECT pg_notify(${OUTBOX_NOTIFY_CHANNEL}, '')`;
}

/** The event that fans a published announcement out and shows it live. Call in the transaction that publishes. */
export async function writePublishedEvent(tx: Tx, announcementId: string, channelId: string): Promise<void> {
  await tx.outboxEvent.create({
    data: {
      type: ANNOUNCEMENT_PUBLISHED,
      channelId,
      aggregateId: announcementId,
      payload: publishedPayload(announcementId),
    },
  });
}

function publishedPayload(announcementId: string): Prisma.InputJsonObject {
  const payload: OutboxPayload = { announcementId };
  return { ...payload };
}

function scheduledPayload(announcementId: string, publishAt: Date): Prisma.InputJsonObject {
  const payload: ScheduledPayload = { announcementId, publishAt: publishAt.toISOString() };
  return { ...payload };
}

/** The timer of a scheduled publication. Call in the transaction that sets status `scheduled`. */
export async function writeScheduledEvent(
  tx: Tx,
  announcementId: string,
  channelId: string,
  publishAt: Date,
): Promise<void> {
  await tx.outboxEvent.create({
    data: {
      type: ANNOUNCEMENT_SCHEDULED,
      channelId,
      aggregateId: announcementId,
      payload: scheduledPayload(announcementId, publishAt),
    },
  });
}

/**
 * The original version (from the top-level fields) followed by the translations, trimmed; blank text refused with
 * the field named. An empty summary is no summary.
 */
export function normaliseVersions(
  language: Language,
  original: { title: string; summary?: string | null; body: string },
  translations: readonly TranslationInput[],
): LanguageVersion[] {
  const version = (value: TranslationInput, prefix: string): LanguageVersion => {
    const title = value.title.trim();
    const body = value.body.trim();
    if (!title) throw new AppError('validation_failed', 'title must not be blank', { field: `${prefix}title` });
    if (!body) throw new AppError('validation_failed', 'body must not be blank', { field: `${prefix}body` });
    return { language: value.language, title, summary: value.summary?.trim() || null, body };
  };
  return [
    version({ language, ...original }, ''),
    ...translations.map((translation, index) => version(translation, `translations[${index}].`)),
  ];
}

/** AnnouncementRevision.content of these versions (the original first). */
export function revisionContentJson(versions: readonly LanguageVersion[]): Prisma.InputJsonObject {
  const [original, ...translations] = versions;
  if (!original) throw new Error('A revision has at least its original version');
  const content: RevisionContent = {
    language: original.language,
    title: original.title,
    summary: original.summary,
    body: original.body,
    translations: translations.map((t) => ({
      language: t.language,
      title: t.title,
      summary: t.summary,
      body: t.body,
    })),
  };
  return { ...content };
}

/**
 * Organisation ids for audience codes (matched case-insensitively, as organisation codes are unique that way).
 * @throws AppError validation_failed naming the codes that match no organisation.
 */
export async function resolveAudience(db: Pick<Db, 'organisation'>, codes: readonly string[]): Promise<string[]> {
  return (await resolveAudienceOrganisations(db, codes)).map((organisation) => organisation.id);
}

/** resolveAudience's organisations with their codes as stored, ordered by id. */
export async function resolveAudienceOrganisations(
  db: Pick<Db, 'organisation'>,
  codes: readonly string[],
): Promise<{ id: string; code: string }[]> {
  const wanted = [...new Set(codes.map((code) => code.trim()))];
  if (wanted.length === 0) return [];
  const rows = await db.organisation.findMany({
    where: { OR: wanted.map((code) => ({ code: { equals: code, mode: 'insensitive' as const } })) },
    select: { id: true, code: true },
  });
  const byCode = new Map(rows.map((row) => [row.code.toLowerCase(), row.id]));
  const unknown = wanted.filter((code) => !byCode.has(code.toLowerCase()));
  if (unknown.length > 0) {
    throw new AppError('validation_failed', `Unknown organisation code: ${unknown.join(', ')}`, {
      field: 'audience',
      unknown,
    });
  }
  const codeOf = new Map(rows.map((row) => [row.id, row.code]));
  return [...new Set(wanted.map((code) => byCode.get(code.toLowerCase()) as string))]
    .sort()
    .map((id) => ({ id, code: codeOf.get(id) as string }));
}

/** An ISO 8601 instant, or null when absent. @throws AppError validation_failed naming the field. */
export function parseInstant(value: string | null | undefined, field: string): Date | null {
  if (value === undefined || value === null) return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new AppError('validation_failed', `${field} must be an ISO 8601 date-time`, { field });
  }
  return date;
}

/**
 * The incident a follow-up resolves: in the same channel, visible to the actor, published, an incident, and not
 * resolved yet. Locks its row, so two follow-ups written at once cannot both pass (the unique index on resolvesId
 * would refuse the second anyway, with a less helpful error).
 */
async function assertResolvable(
  tx: Tx,
  actor: Actor,
  channel: { id: string; visibility: 'public' | 'internal' | 'restricted'; role: 'owner' | 'publisher' | null },
  incidentId: string,
): Promise<void> {
  const [incident] = await tx.$queryRaw<
    { channelId: string; status: AnnouncementStatus; type: AnnouncementType; audienceOrganisationIds: string[] }[]
  >`
    SELECT "channelId", status::text AS status, type::text AS type, "audienceOrganisationIds"
      FROM "Announcement" WHERE id = ${incidentId}::uuid FOR UPDATE`;
  if (!incident || incident.channelId !== channel.id || !canSeeAnnouncement(actor, channel, incident)) {
    throw notFound('Incident');
  }
  if (incident.type !== 'incident') {
    throw new AppError('validation_failed', 'resolves names an announcement that is not an incident', {
      field: 'resolves',
    });
  }
  if (incident.status !== 'published') {
    throw new AppError('conflict', 'Only a published incident can be resolved');
  }
  const followUp = await tx.announcement.findUnique({ where: { resolvesId: incidentId }, select: { id: true } });
  if (followUp) {
    throw new AppError('conflict', 'This incident already has a follow-up', { followUp: followUp.id });
  }
}

/**
 * The one loader of announcements for display: every list and single read selects ids (with whatever filter, order
 * and keyset it needs) and then loads the records here, so each reader — REST, live frames, feeds, e-mails, search —
 * sees the same fields, language versions, audience and attachments. A page costs one query, whatever its size.
 * Prisma types stop here.
 */
import type { AnnouncementStatus, AnnouncementType, LanguageVersion } from '../domain/announcement.js';
import type { ChannelVisibility, Importance, Language } from '../domain/types.js';
import { LANGUAGES } from '../domain/types.js';
import { Prisma } from '../generated/prisma/client.js';
import { type Db, queryRows } from './prisma.js';

export interface AttachmentRecord {
  id: string;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
  createdAt: Date;
}

export interface AnnouncementRecord {
  id: string;
  channelId: string;
  channelSlug: string;
  channelVisibility: ChannelVisibility;
  /** The author's display name; null for a former user or demo content. */
  authorName: string | null;
  status: AnnouncementStatus;
  importance: Importance;
  type: AnnouncementType;
  /** The original first, then the translations in LANGUAGES order. */
  versions: LanguageVersion[];
  affectedSystem: string | null;
  startsAt: Date | null;
  endsAt: Date | null;
  /** On an incident's follow-up: the incident it resolves. */
  resolvesId: string | null;
  /** On an incident: its published "resolved" follow-up, if any. */
  resolvedById: string | null;
  /** Empty: every organisation. */
  audienceOrganisationIds: string[];
  /** The same organisations with their codes, ordered by code. */
  audience: { id: string; code: string }[];
  publishedAt: Date | null;
  publishAt: Date | null;
  expiresAt: Date | null;
  retractedAt: Date | null;
  pinnedAt: Date | null;
  pinnedUntil: Date | null;
  revision: number;
  editedAt: Date | null;
  ackRequired: boolean;
  ackDeadline: Date | null;
  createdAt: Date;
  updatedAt: Date;
  attachments: AttachmentRecord[];
}

type DbOrTx = Pick<Db, '$queryRaw'>;

/** A row of RECORDS_SQL: the announcement's columns, its channel's and author's, and its parts as JSON. */
export interface RecordRow {
  id: string;
  channelId: string;
  channelSlug: string;
  channelVisibility: ChannelVisibility;
  authorName: string | null;
  status: AnnouncementStatus;
  importance: Importance;
  type: AnnouncementType;
  language: Language;
  title: string;
  summary: string | null;
  body: string;
  affectedSystem: string | null;
  startsAt: Date | null;
  endsAt: Date | null;
  resolvesId: string | null;
  resolvedById: string | null;
  audienceOrganisationIds: string[];
  /** JSON: [{ id, code }] of the audience's organisations that exist. */
  organisations: { id: string; code: string }[];
  /** JSON: [{ language, title, summary, body }]. */
  translations: { language: Language; title: string; summary: string | null; body: string }[];
  /** JSON: attachments in upload order, createdAt as an ISO string. */
  attachments: (Omit<AttachmentRecord, 'createdAt'> & { createdAt: string })[];
  publishedAt: Date | null;
  publishAt: Date | null;
  expiresAt: Date | null;
  retractedAt: Date | null;
  pinnedAt: Date | null;
  pinnedUntil: Date | null;
  revision: number;
  editedAt: Date | null;
  ackRequired: boolean;
  ackDeadline: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * The columns of a RecordRow for announcement `a`, with RECORD_JOINS (its channel `c`, its author `author`): the one
 * definition of what a record holds, for loadAnnouncementRecords and for listings that select and load a page in one
 * statement (src/db/reading.ts).
 */
export const RECORD_COLUMNS = Prisma.sql`a.id, a."channelId", c.slug AS "channelSlug", c.visibility::text AS "channelVisibility",
  author."displayName" AS "authorName", a.status::text AS status, a.importance::text AS importance,
  a.type::text AS type, a.language::text AS language, a.title, a.summary, a.body, a."affectedSystem",
  a."startsAt", a."endsAt", a."resolvesId",
  (SELECT r.id FROM "Announcement" r WHERE r."resolvesId" = a.id AND r.status = 'published') AS "resolvedById",
  a."audienceOrganisationIds"::text[] AS "audienceOrganisationIds",
  (SELECT coalesce(json_agg(json_build_object('id', o.id, 'code', o.code)), '[]'::json)
     FROM "Organisation" o WHERE o.id = ANY(a."audienceOrganisationIds")) AS organisations,
  (SELECT coalesce(json_agg(json_build_object('language', t.language, 'title', t.title, 'summary', t.summary,
                                              'body', t.body)), '[]'::json)
     FROM "AnnouncementTranslation" t WHERE t."announcementId" = a.id) AS translations,
  (SELECT coalesce(json_agg(json_build_object('id', f.id, 'filename', f.filename, 'contentType', f."contentType",
                                              'size', f.size, 'sha256', f.sha256, 'createdAt', f."createdAt")
                            ORDER BY f."createdAt", f.id), '[]'::json)
     FROM "Attachment" f WHERE f."announcementId" = a.id) AS attachments,
  a."publishedAt", a."publishAt", a."expiresAt", a."retractedAt", a."pinnedAt", a."pinnedUntil", a.revision,
  a."editedAt", a."ackRequired", a."ackDeadline", a."createdAt", a."updatedAt"`;

export const RECORD_JOINS = Prisma.sql`JOIN "Channel" c ON c.id = a."channelId" LEFT JOIN "User" author ON author.id = a."authorId"`;

/**
 * Records of `ids`, in the order of `ids`; ids that do not exist are left out. ONE statement, whatever the number of
 * ids: the language versions, attachments, audience codes, author and channel come along as JSON sub-selects (a
 * listing page was seven round trips through Prisma's relation loading, and most of the page's CPU time).
 */
export async function loadAnnouncementRecords(db: DbOrTx, ids: readonly string[]): Promise<AnnouncementRecord[]> {
  if (ids.length === 0) return [];
  const rows = await queryRows<RecordRow>(
    db,
    Prisma.sql`SELECT ${RECORD_COLUMNS} FROM "Announcement" a ${RECORD_JOINS}
                WHERE a.id = ANY(${[...new Set(ids)]}::uuid[])`,
  );

  const byId = new Map<string, AnnouncementRecord>();
  for (const row of rows) byId.set(row.id, recordOf(row));
  return ids.flatMap((id) => {
    const record = byId.get(id);
    return record ? [record] : [];
  });
}

/**
 * What announcementView (src/services/views.ts) reads of a record: all a listing page loads (src/db/reading.ts
 * channelListingPage), where the full record's other columns would be read, sent and parsed for nothing.
 */
export type AnnouncementViewRecord = Pick<
  AnnouncementRecord,
  | 'id'
  | 'channelSlug'
  | 'authorName'
  | 'status'
  | 'importance'
  | 'type'
  | 'versions'
  | 'affectedSystem'
  | 'startsAt'
  | 'endsAt'
  | 'resolvesId'
  | 'resolvedById'
  | 'audience'
  | 'publishedAt'
  | 'publishAt'
  | 'expiresAt'
  | 'revision'
  | 'editedAt'
  | 'ackRequired'
  | 'ackDeadline'
> & { attachments: Pick<AttachmentRecord, 'id' | 'filename' | 'contentType' | 'size'>[] };

/** The language versions of a row: the original first, then its translations in LANGUAGES order. */
export function versionsOf(
  row: Pick<RecordRow, 'language' | 'title' | 'summary' | 'body'>,
  translations: RecordRow['translations'],
): LanguageVersion[] {
  const original: LanguageVersion = { language: row.language, title: row.title, summary: row.summary, body: row.body };
  return [
    original,
    ...translations
      .filter((t) => t.language !== row.language)
      .sort((a, b) => LANGUAGES.indexOf(a.language) - LANGUAGES.indexOf(b.language))
      .map((t) => ({ language: t.language, title: t.title, summary: t.summary, body: t.body })),
  ];
}

/** The audience with codes, ordered by code; an id whose organisation is gone shows as itself. */
export function audienceOf(
  audienceOrganisationIds: readonly string[],
  organisations: RecordRow['organisations'],
): AnnouncementRecord['audience'] {
  if (audienceOrganisationIds.length === 0) return [];
  const codeOf = new Map(organisations.map((o) => [o.id, o.code]));
  return audienceOrganisationIds
    .map((id) => ({ id, code: codeOf.get(id) ?? id }))
    .sort((a, b) => a.code.localeCompare(b.code));
}

/** The record of a RECORD_COLUMNS row. */
export function recordOf(row: RecordRow): AnnouncementRecord {
  return {
    id: row.id,
    channelId: row.channelId,
    channelSlug: row.channelSlug,
    channelVisibility: row.channelVisibility,
    authorName: row.authorName,
    status: row.status,
    importance: row.importance,
    type: row.type,
    versions: versionsOf(row, row.translations),
    affectedSystem: row.affectedSystem,
    startsAt: row.startsAt,
    endsAt: row.endsAt,
    resolvesId: row.resolvesId,
    resolvedById: row.resolvedById,
    audienceOrganisationIds: row.audienceOrganisationIds,
    audience: audienceOf(row.audienceOrganisationIds, row.organisations),
    publishedAt: row.publishedAt,
    publishAt: row.publishAt,
    expiresAt: row.expiresAt,
    retractedAt: row.retractedAt,
    pinnedAt: row.pinnedAt,
    pinnedUntil: row.pinnedUntil,
    revision: row.revision,
    editedAt: row.editedAt,
    ackRequired: row.ackRequired,
    ackDeadline: row.ackDeadline,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    attachments: row.attachments.map((f) => ({ ...f, createdAt: new Date(f.createdAt) })),
  };
}

/** One record, or null. */
export async function loadAnnouncementRecord(db: DbOrTx, id: string): Promise<AnnouncementRecord | null> {
  const [record] = await loadAnnouncementRecords(db, [id]);
  return record ?? null;
}

/** The languages an announcement can be read in: its original first. */
export function languagesOf(record: Pick<AnnouncementRecord, 'versions'>): Language[] {
  return record.versions.map((version) => version.language);
}

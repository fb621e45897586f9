/**
 * The one loader of announcements for display: every list and single read selects ids (with whatever filter, order
 * and keyset it needs) and then loads the records here, so each reader — REST, live frames, feeds, e-mails, search —
 * sees the same fields, language versions, audience and attachments. A page costs three queries, whatever its size.
 * Prisma types stop here.
 */
import type { AnnouncementStatus, AnnouncementType, LanguageVersion } from '../domain/announcement.js';
import type { ChannelVisibility, Importance, Language } from '../domain/types.js';
import { LANGUAGES } from '../domain/types.js';
import type { Db } from './prisma.js';

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

type DbOrTx = Pick<Db, 'announcement' | 'organisation'>;

/** Records of `ids`, in the order of `ids`; ids that do not exist are left out. */
export async function loadAnnouncementRecords(db: DbOrTx, ids: readonly string[]): Promise<AnnouncementRecord[]> {
  if (ids.length === 0) return [];
  const rows = await db.announcement.findMany({
    where: { id: { in: [...new Set(ids)] } },
    include: {
      author: { select: { displayName: true } },
      channel: { select: { slug: true, visibility: true } },
      translations: true,
      attachments: {
        select: { id: true, filename: true, contentType: true, size: true, sha256: true, createdAt: true },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      },
      resolvedBy: { select: { id: true, status: true } },
    },
  });
  const organisationIds = [...new Set(rows.flatMap((row) => row.audienceOrganisationIds))];
  const organisations =
    organisationIds.length === 0
      ? []
      : await db.organisation.findMany({ where: { id: { in: organisationIds } }, select: { id: true, code: true } });
  const codeOf = new Map(organisations.map((o) => [o.id, o.code]));

  const byId = new Map<string, AnnouncementRecord>();
  for (const row of rows) {
    const original: LanguageVersion = {
      language: row.language,
      title: row.title,
      summary: row.summary,
      body: row.body,
    };
    const translations = row.translations
      .filter((t) => t.language !== row.language)
      .sort((a, b) => LANGUAGES.indexOf(a.language) - LANGUAGES.indexOf(b.language))
      .map((t) => ({ language: t.language, title: t.title, summary: t.summary, body: t.body }));
    byId.set(row.id, {
      id: row.id,
      channelId: row.channelId,
      channelSlug: row.channel.slug,
      channelVisibility: row.channel.visibility,
      authorName: row.author?.displayName ?? null,
      status: row.status,
      importance: row.importance,
      type: row.type,
      versions: [original, ...translations],
      affectedSystem: row.affectedSystem,
      startsAt: row.startsAt,
      endsAt: row.endsAt,
      resolvesId: row.resolvesId,
      resolvedById: row.resolvedBy?.status === 'published' ? row.resolvedBy.id : null,
      audienceOrganisationIds: row.audienceOrganisationIds,
      audience: row.audienceOrganisationIds
        .map((id) => ({ id, code: codeOf.get(id) ?? id }))
        .sort((a, b) => a.code.localeCompare(b.code)),
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
      attachments: row.attachments,
    });
  }
  return ids.flatMap((id) => {
    const record = byId.get(id);
    return record ? [record] : [];
  });
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

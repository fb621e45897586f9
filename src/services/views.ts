/**
 * Public shapes of domain objects, shared by REST responses, live events and e-mails, so that every reader sees
 * the same fields. Mappers emit only these declared fields.
 */
import { renderMarkdown } from '../content/markdown.js';
import { type AnnouncementViewRecord, languagesOf, loadAnnouncementRecords } from '../db/announcement-records.js';
import { type AnnouncementStatus, type AnnouncementType, isExpired, pickVersion } from '../domain/announcement.js';
import type { Language } from '../domain/types.js';
import { absoluteUrl, WEB_PATHS } from '../web/paths.js';

export interface ChannelView {
  id: string;
  slug: string;
  title: string;
  description: string;
  visibility: 'public' | 'internal' | 'restricted';
  createdAt: string;
}

/**
 * Who wrote an announcement, as readers see it: the author's display name only (never an address or an id). An
 * announcement whose author deleted their account has `author: null`, shown as "former user"; so has one no person
 * wrote (demo content).
 */
export interface AnnouncementAuthor {
  name: string;
}

export interface AttachmentView {
  id: string;
  filename: string;
  contentType: string;
  /** Bytes. */
  size: number;
  /** Where to download it (Content-Disposition names the file). */
  url: string;
}

export interface AnnouncementView {
  id: string;
  channel: string;
  /** The language of title, summary and body below (see languagePreference in src/domain/announcement.ts). */
  language: Language;
  /** Every language it can be read in, its original first. */
  languages: Language[];
  /** Plain text, never HTML. */
  title: string;
  /** Plain text, never HTML; null when the publisher wrote none. */
  summary: string | null;
  /** Markdown, as the publisher wrote it. */
  body: string;
  /**
   * The body rendered and sanitised (src/content/markdown.ts): the one HTML every reader gets — REST, live frames,
   * feeds — so no client renders Markdown itself, differently or unsafely.
   */
  bodyHtml: string;
  importance: 'info' | 'important' | 'critical';
  type: AnnouncementType;
  /** A maintenance window's (or incident's) system and times; null when not given. */
  affectedSystem: string | null;
  startsAt: string | null;
  endsAt: string | null;
  /** The .ics of a maintenance window; null for other types. */
  calendarUrl: string | null;
  /** On an incident's "resolved" follow-up: the incident's id. */
  resolves: string | null;
  /** On an incident: its published "resolved" follow-up's id, once there is one. */
  resolvedBy: string | null;
  /** Codes of the organisations it is for; empty: every organisation. */
  audience: string[];
  status: AnnouncementStatus;
  publishedAt: string | null;
  /** When a scheduled announcement will be published. */
  publishAt: string | null;
  expiresAt: string | null;
  /** Past expiresAt: kept in the archive, gone from feeds and default listings. */
  expired: boolean;
  /** 1 until the first edit; see GET /announcements/{id}/revisions. */
  revision: number;
  editedAt: string | null;
  acknowledgement: { required: boolean; deadline: string | null };
  attachments: AttachmentView[];
  /** The announcement's page for people (announcementUrl); programs read it at /api/v1/announcements/{id}. */
  url: string;
  author: AnnouncementAuthor | null;
  /**
   * Readers' 1–5 rating and distinct readers (src/services/reading.ts). Present in REST reads of announcements;
   * left out of live frames and the publish response, where they would be stale the moment they were sent.
   */
  rating?: AnnouncementReadingStats['rating'];
  views?: number;
  /**
   * Whether it is pinned now (src/services/pin.ts): `true` on the pinned ones on top of a channel listing's first page
   * (absent on the others), and in the pin and unpin responses; left out elsewhere.
   */
  pinned?: boolean;
}

/** What readers made of an announcement: the average of their 1–5 votes (null without votes), and views. */
export interface AnnouncementReadingStats {
  rating: { average: number | null; votes: number };
  /** How many distinct signed-in readers opened it (never who). */
  views: number;
}

export function channelView(row: {
  id: string;
  slug: string;
  title: string;
  description: string;
  visibility: ChannelView['visibility'];
  createdAt: Date;
}): ChannelView {
  return {
    id: row.id,
    slug: row.slug,
    title: row.title,
    description: row.description,
    visibility: row.visibility,
    createdAt: row.createdAt.toISOString(),
  };
}

export interface AnnouncementViewOptions {
  publicUrl: string;
  /** The reader's language (null: the original); the version follows pickVersion's fallback. */
  language: Language | null;
  /** For `expired`; defaults to the current time. */
  now?: Date;
  /** Rating and views, where the caller loaded them (aggregated per page, see withReadingStats). */
  stats?: AnnouncementReadingStats;
}

export function attachmentUrl(publicUrl: string, attachment: { id: string; filename: string }): string {
  return `${publicUrl}/api/v1/attachments/${attachment.id}/${encodeURIComponent(attachment.filename)}`;
}

/**
 * The announcement's page for people (src/web: /announcements/{id}): where e-mails, digests, notices, feeds, push
 * messages, webhooks, calendar events and the API's own `url` field send a reader. Programs read the announcement at
 * /api/v1/announcements/{id}, by its id.
 */
export function announcementUrl(publicUrl: string, id: string): string {
  return absoluteUrl(publicUrl, WEB_PATHS.announcement(id));
}

/** A maintenance window's iCalendar file (the API's download, GET /api/v1/announcements/{id}/calendar.ics). */
export function announcementCalendarUrl(publicUrl: string, id: string): string {
  return absoluteUrl(publicUrl, WEB_PATHS.announcementCalendar(id));
}

/**
 * The REST/live/feed shape of a loaded record (src/db/announcement-records.ts; a full one or a listing's) in the
 * reader's language.
 */
export function announcementView(record: AnnouncementViewRecord, options: AnnouncementViewOptions): AnnouncementView {
  const version = pickVersion(record.versions, options.language);
  const url = announcementUrl(options.publicUrl, record.id);
  return {
    id: record.id,
    channel: record.channelSlug,
    language: version.language,
    languages: languagesOf(record),
    title: version.title,
    summary: version.summary,
    body: version.body,
    bodyHtml: renderMarkdown(version.body),
    importance: record.importance,
    type: record.type,
    affectedSystem: record.affectedSystem,
    startsAt: record.startsAt?.toISOString() ?? null,
    endsAt: record.endsAt?.toISOString() ?? null,
    calendarUrl: record.type === 'maintenance' ? announcementCalendarUrl(options.publicUrl, record.id) : null,
    resolves: record.resolvesId,
    resolvedBy: record.resolvedById,
    audience: record.audience.map((organisation) => organisation.code),
    status: record.status,
    publishedAt: record.publishedAt?.toISOString() ?? null,
    publishAt: record.publishAt?.toISOString() ?? null,
    expiresAt: record.expiresAt?.toISOString() ?? null,
    expired: isExpired(record, options.now ?? new Date()),
    revision: record.revision,
    editedAt: record.editedAt?.toISOString() ?? null,
    acknowledgement: { required: record.ackRequired, deadline: record.ackDeadline?.toISOString() ?? null },
    attachments: record.attachments.map((attachment) => ({
      id: attachment.id,
      filename: attachment.filename,
      contentType: attachment.contentType,
      size: attachment.size,
      url: attachmentUrl(options.publicUrl, attachment),
    })),
    url,
    author: record.authorName === null ? null : { name: record.authorName },
    ...(options.stats ? { rating: options.stats.rating, views: options.stats.views } : {}),
  };
}

export interface SubscriptionView {
  channel: string;
  emailMode: 'immediate' | 'daily' | 'weekly' | 'off';
  language: 'nb' | 'nn' | 'en';
  /** Web push to the subscriber's browsers. */
  push: boolean;
  createdAt: string;
  updatedAt: string;
}

export function subscriptionView(
  row: {
    emailMode: SubscriptionView['emailMode'];
    language: SubscriptionView['language'];
    push: boolean;
    createdAt: Date;
    updatedAt: Date;
  },
  channelSlug: string,
): SubscriptionView {
  return {
    channel: channelSlug,
    emailMode: row.emailMode,
    language: row.language,
    push: row.push,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/**
 * Views of `ids` in that order (ids that vanished meanwhile are left out), loaded with the one loader
 * (src/db/announcement-records.ts).
 */
export async function announcementViewsOf(
  db: Parameters<typeof loadAnnouncementRecords>[0],
  ids: readonly string[],
  options: Omit<AnnouncementViewOptions, 'stats'>,
): Promise<AnnouncementView[]> {
  const records = await loadAnnouncementRecords(db, ids);
  return records.map((record) => announcementView(record, options));
}

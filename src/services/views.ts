/**
 * Public shapes of domain objects, shared by REST responses, live events and e-mails, so that every reader sees
 * the same fields. Mappers emit only these declared fields.
 */
import { renderMarkdown } from '../content/markdown.js';

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

export interface AnnouncementView {
  id: string;
  channel: string;
  title: string;
  /** Markdown, as the publisher wrote it. */
  body: string;
  /**
   * The body rendered and sanitised (src/content/markdown.ts): the one HTML every reader gets — REST, live frames,
   * feeds — so no client renders Markdown itself, differently or unsafely.
   */
  bodyHtml: string;
  importance: 'info' | 'important' | 'critical';
  status: 'draft' | 'published' | 'retracted';
  publishedAt: string | null;
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

export function announcementView(
  row: {
    id: string;
    title: string;
    body: string;
    importance: AnnouncementView['importance'];
    status: AnnouncementView['status'];
    publishedAt: Date | null;
    /** The author's account (load it with the row), or null when there is none any more. */
    author: { displayName: string } | null;
  },
  channelSlug: string,
  publicUrl: string,
  /** Rating and views, where the caller loaded them (aggregated per page, see withReadingStats). */
  stats?: AnnouncementReadingStats,
): AnnouncementView {
  return {
    id: row.id,
    channel: channelSlug,
    title: row.title,
    body: row.body,
    bodyHtml: renderMarkdown(row.body),
    importance: row.importance,
    status: row.status,
    publishedAt: row.publishedAt?.toISOString() ?? null,
    url: `${publicUrl}/api/v1/announcements/${row.id}`,
    author: row.author ? { name: row.author.displayName } : null,
    ...(stats ? { rating: stats.rating, views: stats.views } : {}),
  };
}

export interface SubscriptionView {
  channel: string;
  emailMode: 'immediate' | 'daily' | 'weekly' | 'off';
  language: 'nb' | 'nn' | 'en';
  createdAt: string;
  updatedAt: string;
}

export function subscriptionView(
  row: {
    emailMode: SubscriptionView['emailMode'];
    language: SubscriptionView['language'];
    createdAt: Date;
    updatedAt: Date;
  },
  channelSlug: string,
): SubscriptionView {
  return {
    channel: channelSlug,
    emailMode: row.emailMode,
    language: row.language,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

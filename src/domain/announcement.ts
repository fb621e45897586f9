/**
 * What an announcement is and who may see it: language versions and their fallback, audience by organisation, the
 * lifecycle states, and the rules of its content. Pure: services load the facts, these functions decide. The SQL
 * translations of the visibility rule live in src/db/announcement-scope-sql.ts and must agree with
 * `canSeeAnnouncement` (tests/unit/announcement-domain.test.ts and the HTTP tests check both).
 */
import { type ChannelFacts, canReadChannel } from './access.js';
import { AppError } from './errors.js';
import type { Actor, Language } from './types.js';

export const ANNOUNCEMENT_TYPES = ['general', 'maintenance', 'release', 'incident'] as const;
export type AnnouncementType = (typeof ANNOUNCEMENT_TYPES)[number];

export const ANNOUNCEMENT_STATUSES = ['draft', 'scheduled', 'published', 'retracted'] as const;
export type AnnouncementStatus = (typeof ANNOUNCEMENT_STATUSES)[number];

/** One language version: the announcement's own (its `language`) or a translation. Title and summary are plain text. */
export interface LanguageVersion {
  language: Language;
  title: string;
  summary: string | null;
  /** Markdown. */
  body: string;
}

/**
 * The documented language fallback: the requested language; for a Norwegian request, then the other Norwegian
 * written form (bokmål and nynorsk readers read each other's); then the announcement's original language. English
 * readers go straight from English to the original.
 */
export function languagePreference(requested: Language): Language[] {
  if (requested === 'nb') return ['nb', 'nn'];
  if (requested === 'nn') return ['nn', 'nb'];
  return ['en'];
}

/**
 * The version a reader asking for `requested` gets. `versions[0]` is the original; with no request (null) the
 * original is returned.
 */
export function pickVersion(versions: readonly LanguageVersion[], requested: Language | null): LanguageVersion {
  const original = versions[0];
  if (!original) throw new Error('An announcement has at least its original version');
  if (requested === null) return original;
  for (const language of languagePreference(requested)) {
    const found = versions.find((version) => version.language === language);
    if (found) return found;
  }
  return original;
}

/**
 * Whether a member of `organisationId` (null: no member organisation, or anonymous) is in an audience of organisation
 * ids. An empty audience is everyone, anonymous readers of public channels included.
 */
export function isInAudience(audience: readonly string[], organisationId: string | null): boolean {
  if (audience.length === 0) return true;
  return organisationId !== null && audience.includes(organisationId);
}

/**
 * The channel's editors: its owners and publishers, and administrators. They see every announcement of the channel
 * whatever its audience, and its drafts and scheduled ones (they wrote them or may publish them). Scopes are not
 * considered here: what a token may DO is decided by canPublish; what an editor may SEE follows canReadChannel.
 */
export function isChannelEditor(actor: Actor, channel: ChannelFacts): boolean {
  return actor.kind === 'user' && (actor.isAdmin || channel.role !== null);
}

export interface AnnouncementFacts {
  status: AnnouncementStatus;
  audienceOrganisationIds: readonly string[];
}

/**
 * Whether the actor may read this announcement's content: it reads the channel, and either it is an editor there
 * (every state but retracted), or the announcement is published and the actor is in its audience. Readers outside the
 * audience get exactly what they get for an id that does not exist. Expiry does not hide an announcement (the channel
 * archive keeps it); listings leave expired ones out by choice (see isExpired).
 */
export function canSeeAnnouncement(actor: Actor, channel: ChannelFacts, announcement: AnnouncementFacts): boolean {
  if (!canReadChannel(actor, channel)) return false;
  if (announcement.status === 'retracted') return false;
  if (isChannelEditor(actor, channel)) return true;
  if (announcement.status !== 'published') return false;
  return isInAudience(announcement.audienceOrganisationIds, actor.kind === 'user' ? actor.organisationId : null);
}

/** Expired at `now`: left out of feeds, widgets and default listings, kept in the archive. */
export function isExpired(announcement: { expiresAt: Date | null }, now: Date): boolean {
  return announcement.expiresAt !== null && announcement.expiresAt.getTime() <= now.getTime();
}

/** The facts of a maintenance window or incident that content validation checks. */
export interface AnnouncementShape {
  type: AnnouncementType;
  affectedSystem: string | null;
  startsAt: Date | null;
  endsAt: Date | null;
  resolvesId: string | null;
  expiresAt: Date | null;
  publishAt: Date | null;
  ackRequired: boolean;
  ackDeadline: Date | null;
  /** The original language and its translations; languages must be distinct. */
  languages: readonly Language[];
}

/**
 * Rules of a well-formed announcement, beyond single-field shapes (those are the HTTP schema's): a maintenance notice
 * names the system and its window; a window ends after it starts; only incidents resolve incidents; a deadline needs
 * an acknowledgement; expiry comes after publication. Throws validation_failed naming the field.
 */
export function validateAnnouncementShape(shape: AnnouncementShape, now: Date): void {
  const fail = (field: string, message: string): never => {
    throw new AppError('validation_failed', message, { field });
  };
  if (shape.type === 'maintenance') {
    if (!shape.affectedSystem?.trim()) fail('affectedSystem', 'A maintenance notice names the affected system');
    if (!shape.startsAt) fail('startsAt', 'A maintenance notice has a start time');
    if (!shape.endsAt) fail('endsAt', 'A maintenance notice has an end time');
  }
  if (shape.startsAt && shape.endsAt && shape.endsAt.getTime() <= shape.startsAt.getTime()) {
    fail('endsAt', 'endsAt must be after startsAt');
  }
  if (shape.resolvesId !== null && shape.type !== 'incident') {
    fail('resolves', 'Only an incident follow-up resolves an incident');
  }
  if (shape.ackDeadline !== null && !shape.ackRequired) {
    fail('acknowledgement.deadline', 'A deadline needs acknowledgement.required');
  }
  const publishedBy = shape.publishAt ?? now;
  if (shape.expiresAt !== null && shape.expiresAt.getTime() <= publishedBy.getTime()) {
    fail('expiresAt', 'expiresAt must be after the announcement is published');
  }
  if (new Set(shape.languages).size !== shape.languages.length) {
    fail('translations', 'Each language appears once (the original language included)');
  }
}

/** Lifecycle moves a publisher may make, by current state. Retracted is final; published never goes back to draft. */
export function canEditContent(status: AnnouncementStatus): boolean {
  return status !== 'retracted';
}

/**
 * The audience half of canSeeAnnouncement in a form a query can filter on (search and the personal feed span many
 * channels): everything (administrators), or the announcements for everyone, for `organisationId`, or in channels
 * where `memberUserId` holds a role. `isInAudienceScope(audienceScope(a), x, role)` equals the audience part of
 * canSeeAnnouncement for every actor (tests/unit/announcement-domain.test.ts).
 */
export type AudienceScope = { all: true } | { all: false; organisationId: string | null; memberUserId: string | null };

export function audienceScope(actor: Actor): AudienceScope {
  if (actor.kind !== 'user') return { all: false, organisationId: null, memberUserId: null };
  if (actor.isAdmin) return { all: true };
  return { all: false, organisationId: actor.organisationId, memberUserId: actor.userId };
}

export function isInAudienceScope(
  scope: AudienceScope,
  audience: readonly string[],
  roleInChannel: ChannelFacts['role'],
): boolean {
  if (scope.all) return true;
  if (scope.memberUserId !== null && roleInChannel !== null) return true;
  return isInAudience(audience, scope.organisationId);
}

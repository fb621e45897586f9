/**
 * The newest page of a channel's listing (`GET /channels/{slug}/announcements` without cursor, filters or archive):
 * what feed readers, widgets and the channel page poll. It is served from the read cache (src/services/read-cache.ts)
 * as finished bytes with a strong ETag, one entry per channel × audience scope × language × limit — the only things
 * the page depends on besides the channel's own data:
 *
 * - **Audience scope**: who may see which announcements of this channel (canSeeAnnouncement). Administrators and the
 *   channel's editors see every audience (`all`); everyone else sees those for everybody plus those for their
 *   organisation (`org:<id>`), or for everybody only (`org:-`: anonymous readers, people outside the member
 *   organisations). The channel being readable at all is checked before, for the actor itself.
 * - **Language**: the reader's (or none: each announcement's original).
 *
 * Nothing else of the actor enters the page (read state and acknowledgements are not part of a listing), so readers
 * with the same scope and language share the bytes.
 */
import { createHash } from 'node:crypto';
import type { Db } from '../db/prisma.js';
import { nextTimedChange } from '../db/reading.js';
import { audienceScope } from '../domain/announcement.js';
import type { Actor, ChannelRoleKind, Language } from '../domain/types.js';
import { listAnnouncementsIn, readableChannel } from './announcements.js';
import type { Page } from './channels.js';
import type { ReadCache } from './read-cache.js';
import type { AnnouncementView } from './views.js';

export interface SerialisedPage {
  /** The response body, UTF-8. */
  body: Buffer;
  /** A strong validator of the body (quoted). */
  etag: string;
}

/** The audience scope key of the file comment. */
export function audienceScopeKey(actor: Actor, roleInChannel: ChannelRoleKind | null): string {
  const scope = audienceScope(actor);
  if (scope.all || (scope.memberUserId !== null && roleInChannel !== null)) return 'all';
  return `org:${scope.organisationId ?? '-'}`;
}

/** A strong ETag of some bytes. */
export function strongEtag(body: Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
}

/**
 * The newest page as bytes: from the cache, or listed (listChannelAnnouncements' rules, with reading stats),
 * serialised by `serialise` (the route's response serialiser, so the bytes are what the route would send) and kept.
 * @throws AppError not_found as listChannelAnnouncements does.
 */
export async function newestChannelPage(
  deps: { db: Db; publicUrl: string; readCache?: ReadCache | undefined },
  actor: Actor,
  slug: string,
  request: { limit: number; readerLanguage: Language | null },
  serialise: (page: Page<AnnouncementView>) => string,
): Promise<SerialisedPage> {
  const channel = await readableChannel(deps, actor, slug);
  const key = `newest:${channel.id}:${audienceScopeKey(actor, channel.role)}:${request.readerLanguage ?? ''}:${request.limit}`;
  const cached = deps.readCache?.get<SerialisedPage>(key);
  if (cached) return cached;

  const token = deps.readCache?.begin();
  const now = new Date();
  const [page, changesAt] = await Promise.all([
    listAnnouncementsIn(deps, actor, channel, { limit: request.limit, readerLanguage: request.readerLanguage }),
    deps.readCache?.enabled ? nextTimedChange(deps.db, [channel.id], now) : null,
  ]);
  // The listing carries each announcement's rating and views (loaded with the page).
  const body = Buffer.from(serialise(page));
  const serialised = { body, etag: strongEtag(body) };
  if (token) {
    deps.readCache!.store(token, key, serialised, {
      bytes: body.length + 200,
      dependencies: [channel.id],
      validUntil: changesAt?.getTime() ?? null,
    });
  }
  return serialised;
}

/**
 * canSeeAnnouncement (src/domain/announcement.ts) for published announcements, as SQL conditions for hand-written
 * queries that list many (channel feeds, the personal feed, search, feeds, unread counts). The rules stay in the
 * domain; this only translates their answers. Aliases are fixed identifiers from our own code, never input.
 */

import { channelReadScope } from '../domain/access.js';
import { type AudienceScope, audienceScope } from '../domain/announcement.js';
import type { Actor } from '../domain/types.js';
import { Prisma } from '../generated/prisma/client.js';
import { channelReadScopeSql } from './read-scope-sql.js';

function alias(name: string): Prisma.Sql {
  if (!/^[a-z_]+$/.test(name)) throw new Error(`Not a plain SQL alias: ${name}`);
  return Prisma.raw(name);
}

/** True when announcement `a` (in channel `c`) is for the scope's reader: isInAudienceScope in SQL. */
export function audienceScopeSql(scope: AudienceScope, announcementAlias: string, channelAlias: string): Prisma.Sql {
  if (scope.all) return Prisma.sql`TRUE`;
  const a = alias(announcementAlias);
  const c = alias(channelAlias);
  // Equality with the empty array, not `cardinality(…) = 0`: the same rows (an empty array is always '{}'), but
  // PostgreSQL estimates a column comparison from the column's statistics, where for a function of it it assumes
  // 0.5 % of rows match. With that guess a channel's listing (where most announcements are for everyone) looked like
  // a few rows, and the planner read the whole channel and sorted it instead of taking the page off the
  // (channelId, publishedAt, id) index and stopping after it (bench/README.md, "Older keyset page").
  const everyone = Prisma.sql`${a}."audienceOrganisationIds" = '{}'::uuid[]`;
  const organisation =
    scope.organisationId === null
      ? Prisma.sql`FALSE`
      : Prisma.sql`${scope.organisationId}::uuid = ANY(${a}."audienceOrganisationIds")`;
  const editor =
    scope.memberUserId === null
      ? Prisma.sql`FALSE`
      : Prisma.sql`EXISTS (SELECT 1 FROM "ChannelRole" editor
                    WHERE editor."channelId" = ${c}.id AND editor."userId" = ${scope.memberUserId}::uuid)`;
  return Prisma.sql`(${everyone} OR ${organisation} OR ${editor})`;
}

/** Not expired at `now` (expired ones stay in the archive, see isExpired). */
export function notExpiredSql(announcementAlias: string, now: Date): Prisma.Sql {
  const a = alias(announcementAlias);
  return Prisma.sql`(${a}."expiresAt" IS NULL OR ${a}."expiresAt" > ${now}::timestamptz)`;
}

/**
 * Published announcements `actor` may see, in channels it may read: channel read scope, status, audience, and
 * (unless `includeExpired`) not expired at `now`.
 */
export function visibleAnnouncementSql(
  actor: Actor,
  announcementAlias: string,
  channelAlias: string,
  options: { now: Date; includeExpired: boolean },
): Prisma.Sql {
  const a = alias(announcementAlias);
  const conditions = [
    channelReadScopeSql(channelReadScope(actor), channelAlias),
    Prisma.sql`${a}.status = 'published' AND ${a}."publishedAt" IS NOT NULL`,
    audienceScopeSql(audienceScope(actor), announcementAlias, channelAlias),
  ];
  if (!options.includeExpired) conditions.push(notExpiredSql(announcementAlias, options.now));
  return Prisma.join(conditions, ' AND ');
}

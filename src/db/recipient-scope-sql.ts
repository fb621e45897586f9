/**
 * canSeeAnnouncement (src/domain/announcement.ts) for the RECIPIENTS of a published announcement, as SQL the delivery
 * workers filter with: the fan-out (who gets a delivery row), the e-mail processor (re-checked just before sending)
 * and the acknowledgement reminders. A recipient is a person with an account (every scope: mail goes to the person,
 * not to a token) or a bare e-mail address (no organisation, no role: the anonymous reader of a public channel).
 *
 * The rules stay in the domain; this only translates their answers (tests/integration/fanout-audience.test.ts checks
 * the two agree for each kind of recipient). Aliases are fixed identifiers from our own code, never input.
 */
import { Prisma } from '../generated/prisma/client.js';

function alias(name: string): Prisma.Sql {
  if (!/^[a-z_]+$/.test(name)) throw new Error(`Not a plain SQL alias: ${name}`);
  return Prisma.raw(name);
}

/** The user `u` holds a role (owner or publisher) in channel `c`: an editor there. */
function editorSql(u: Prisma.Sql, c: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`EXISTS (SELECT 1 FROM "ChannelRole" recipient_role
                     WHERE recipient_role."channelId" = ${c}.id AND recipient_role."userId" = ${u}.id)`;
}

/**
 * User `u` may read channel `c` (canReadChannel for a signed-in person): public; or an administrator or editor; or
 * internal and `u` belongs to a member organisation.
 */
export function userReadsChannelSql(userAlias: string, channelAlias: string): Prisma.Sql {
  const u = alias(userAlias);
  const c = alias(channelAlias);
  return Prisma.sql`(${c}.visibility = 'public' OR ${u}."isAdmin" OR ${editorSql(u, c)}
          OR (${c}.visibility = 'internal' AND ${u}."organisationId" IS NOT NULL))`;
}

/**
 * User `u` is in the audience of announcement `a` of channel `c` (isInAudience, with editors and administrators
 * seeing everything of their channel): the audience is everyone, or holds `u`'s organisation, or `u` edits `c`.
 */
export function userInAudienceSql(userAlias: string, announcementAlias: string, channelAlias: string): Prisma.Sql {
  const u = alias(userAlias);
  const a = alias(announcementAlias);
  const c = alias(channelAlias);
  return Prisma.sql`(cardinality(${a}."audienceOrganisationIds") = 0 OR ${u}."isAdmin" OR ${editorSql(u, c)}
          OR ${u}."organisationId" = ANY(${a}."audienceOrganisationIds"))`;
}

/**
 * A bare e-mail address is in the audience only of announcements for everyone: it belongs to no organisation, so an
 * audience-limited announcement never reaches it.
 */
export function bareAddressInAudienceSql(announcementAlias: string): Prisma.Sql {
  const a = alias(announcementAlias);
  return Prisma.sql`(cardinality(${a}."audienceOrganisationIds") = 0)`;
}

/** A bare address reads public channels only (it is the anonymous reader). */
export function bareAddressReadsChannelSql(channelAlias: string): Prisma.Sql {
  const c = alias(channelAlias);
  return Prisma.sql`(${c}.visibility = 'public')`;
}

/** The user id of a `user:<uuid>` recipient key (src/domain/recipient.ts), or NULL for a bare address. */
export function recipientUserIdSql(recipientExpression: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`(CASE WHEN ${recipientExpression} LIKE 'user:%' THEN substr(${recipientExpression}, 6)::uuid END)`;
}

/** The address of an `email:<address>` recipient key, or NULL for an account. */
export function recipientAddressSql(recipientExpression: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`(CASE WHEN ${recipientExpression} LIKE 'email:%' THEN substr(${recipientExpression}, 7) END)`;
}

/** Channel look-ups with the asking actor's role, the facts access rules need. Prisma types stop here. */
import type { ChannelFacts } from '../domain/access.js';
import type { Actor, ChannelRoleKind, ChannelVisibility } from '../domain/types.js';
import { Prisma } from '../generated/prisma/client.js';
import { type Db, queryRows } from './prisma.js';

export interface ChannelRecord extends ChannelFacts {
  id: string;
  slug: string;
  title: string;
  description: string;
  visibility: ChannelVisibility;
  createdAt: Date;
  updatedAt: Date;
  role: ChannelRoleKind | null;
}

type DbOrTx = Pick<Db, 'channel'>;

export async function findChannelBySlug(db: DbOrTx, slug: string, actor: Actor): Promise<ChannelRecord | null> {
  const row = await db.channel.findUnique({
    where: { slug },
    include: actor.kind === 'user' ? { roles: { where: { userId: actor.userId }, select: { role: true } } } : undefined,
  });
  if (!row) return null;
  const roles = (row as { roles?: { role: ChannelRoleKind }[] }).roles ?? [];
  return {
    id: row.id,
    slug: row.slug,
    title: row.title,
    description: row.description,
    visibility: row.visibility,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    role: roles[0]?.role ?? null,
  };
}

/**
 * findChannelBySlug for several slugs at once, in ONE statement on the driver: what a live subscription reads (its
 * channels with the actor's role), once per subscribe frame instead of one Prisma query (two round trips with the
 * role) per slug. Slugs without a channel are absent from the map.
 */
export async function findChannelsBySlugs(
  db: Pick<Db, '$queryRaw'>,
  slugs: readonly string[],
  actor: Actor,
): Promise<Map<string, ChannelRecord>> {
  const found = new Map<string, ChannelRecord>();
  if (slugs.length === 0) return found;
  const userId = actor.kind === 'user' ? actor.userId : null;
  const rows = await queryRows<ChannelRecord>(
    db,
    Prisma.sql`SELECT c.id::text AS id, c.slug, c.title, c.description, c.visibility::text AS visibility,
                      c."createdAt", c."updatedAt", r.role::text AS role
                 FROM "Channel" c
                 LEFT JOIN "ChannelRole" r ON r."channelId" = c.id AND r."userId" = ${userId}::uuid
                WHERE c.slug = ANY(${[...slugs]}::text[])`,
  );
  for (const row of rows) found.set(row.slug, row);
  return found;
}

/**
 * What reading or managing one announcement needs besides its own row: its author's name, and its channel's slug,
 * visibility and the actor's role there (the facts src/domain/access.ts decides on).
 */
export function announcementAccessInclude(actor: Actor) {
  return {
    author: { select: { displayName: true } },
    channel: {
      select: {
        slug: true,
        visibility: true,
        roles: actor.kind === 'user' ? { where: { userId: actor.userId }, select: { role: true } } : (false as const),
      },
    },
  };
}

/**
 * findChannelBySlug's record and the actor's display name, in ONE statement: what publishing needs before it writes
 * (the name is the new announcement's author as readers see it, so the response is built without reading the
 * announcement back). Through Prisma the channel and its role were two round trips. Null when there is no such
 * channel; `actorName` is null for an anonymous actor.
 */
export async function findChannelAndActorName(
  db: Pick<Db, '$queryRaw'>,
  slug: string,
  actor: Actor,
): Promise<{ channel: ChannelRecord; actorName: string | null } | null> {
  const userId = actor.kind === 'user' ? actor.userId : null;
  const [row] = await queryRows<
    Omit<ChannelRecord, 'role'> & { role: ChannelRoleKind | null; actorName: string | null }
  >(
    db,
    Prisma.sql`SELECT c.id::text AS id, c.slug, c.title, c.description, c.visibility::text AS visibility,
                      c."createdAt", c."updatedAt", r.role::text AS role,
                      (SELECT u."displayName" FROM "User" u WHERE u.id = ${userId}::uuid) AS "actorName"
                 FROM "Channel" c
                 LEFT JOIN "ChannelRole" r ON r."channelId" = c.id AND r."userId" = ${userId}::uuid
                WHERE c.slug = ${slug}`,
  );
  if (!row) return null;
  const { actorName, ...channel } = row;
  return { channel, actorName };
}

/** Channel look-ups with the asking actor's role, the facts access rules need. Prisma types stop here. */
import type { ChannelFacts } from '../domain/access.js';
import type { Actor, ChannelRoleKind, ChannelVisibility } from '../domain/types.js';
import type { Db } from './prisma.js';

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

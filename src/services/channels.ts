/** Channel use cases: create (admins), list what the actor may read, get one, and the administrators' overview. */
import { findChannelBySlug } from '../db/channels.js';
import type { Db } from '../db/prisma.js';
import { isUniqueViolation } from '../db/prisma-errors.js';
import { canManageChannels, canReadChannel, channelReadScope } from '../domain/access.js';
import { decodeChannelCursor, encodeChannelCursor } from '../domain/cursor.js';
import { AppError, notFound } from '../domain/errors.js';
import type { Actor, ChannelRoleKind, ChannelVisibility } from '../domain/types.js';
import { recordAudit } from './audit.js';
import { type ChannelView, channelView } from './views.js';

export interface CreateChannelInput {
  slug: string;
  title: string;
  description?: string;
  visibility?: ChannelVisibility;
}

export interface PageRequest {
  limit: number;
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export async function createChannel(
  deps: { db: Db },
  actor: Actor,
  input: CreateChannelInput,
  /** The request to quote in the audit record. */
  requestId?: string,
): Promise<ChannelView> {
  if (actor.kind !== 'user') throw new AppError('unauthenticated', 'Creating a channel needs a bearer token');
  if (!canManageChannels(actor)) throw new AppError('forbidden', 'Creating channels needs an admin token');
  const title = input.title.trim();
  if (!title) throw new AppError('validation_failed', 'title must not be blank', { field: 'title' });
  try {
    // The channel and its audit record commit together.
    const row = await deps.db.$transaction(async (tx) => {
      const created = await tx.channel.create({
        data: {
          slug: input.slug,
          title,
          description: input.description?.trim() ?? '',
          visibility: input.visibility ?? 'public',
        },
      });
      await recordAudit(tx, {
        actor,
        action: 'channel.create',
        outcome: 'success',
        targetType: 'channel',
        targetId: created.id,
        ...(requestId ? { requestId } : {}),
        details: { slug: created.slug, visibility: created.visibility },
      });
      return created;
    });
    return channelView(row);
  } catch (error) {
    // The unique index decides, not a look-up first: two concurrent creates cannot both succeed.
    if (isUniqueViolation(error)) throw new AppError('conflict', `A channel with slug "${input.slug}" already exists`);
    throw error;
  }
}

/** Channels the actor may read, by slug, one keyset page at a time. */
export async function listChannels(deps: { db: Db }, actor: Actor, page: PageRequest): Promise<Page<ChannelView>> {
  const after = page.cursor === undefined ? undefined : decodeChannelCursor(page.cursor);
  const scope = channelReadScope(actor);
  const readable = scope.all
    ? {}
    : {
        OR: [
          { visibility: { in: scope.visibilities } },
          ...(scope.memberUserId ? [{ roles: { some: { userId: scope.memberUserId } } }] : []),
        ],
      };
  // One row more than asked tells whether another page exists, without a count.
  const rows = await deps.db.channel.findMany({
    where: { ...readable, ...(after ? { slug: { gt: after.slug } } : {}) },
    orderBy: { slug: 'asc' },
    take: page.limit + 1,
  });
  const items = rows.slice(0, page.limit);
  const last = items.at(-1);
  return {
    items: items.map(channelView),
    nextCursor: rows.length > page.limit && last ? encodeChannelCursor({ slug: last.slug }) : null,
  };
}

export async function getChannel(deps: { db: Db }, actor: Actor, slug: string): Promise<ChannelView> {
  const channel = await findChannelBySlug(deps.db, slug, actor);
  // A channel the actor may not read answers exactly like one that does not exist.
  if (!channel || !canReadChannel(actor, channel)) throw notFound('Channel');
  return channelView(channel);
}

/** A channel in the administrators' overview: its settings, its owners, and how many publish and subscribe. */
export interface ChannelOverviewItem extends ChannelView {
  owners: { userId: string; displayName: string }[];
  publisherCount: number;
  subscriberCount: number;
}

/** Every channel, by slug, with its owners and counts, one keyset page at a time. Administrators only. */
export async function listChannelOverview(
  deps: { db: Db },
  actor: Actor,
  page: PageRequest,
): Promise<Page<ChannelOverviewItem>> {
  if (!canManageChannels(actor)) throw new AppError('forbidden', 'This needs an administrator (scope `admin`)');
  const after = page.cursor === undefined ? undefined : decodeChannelCursor(page.cursor);
  const rows = await deps.db.channel.findMany({
    where: after ? { slug: { gt: after.slug } } : {},
    orderBy: { slug: 'asc' },
    take: page.limit + 1,
    include: {
      roles: { select: { role: true, userId: true, user: { select: { displayName: true } } } },
      // Bare e-mail subscriptions count once confirmed (double opt-in); until then nothing is sent to them.
      _count: {
        select: { subscriptions: { where: { OR: [{ userId: { not: null } }, { confirmedAt: { not: null } }] } } },
      },
    },
  });
  const items = rows.slice(0, page.limit);
  const last = items.at(-1);
  const byRole = (roles: (typeof rows)[number]['roles'], role: ChannelRoleKind) => roles.filter((r) => r.role === role);
  return {
    items: items.map((row) => ({
      ...channelView(row),
      owners: byRole(row.roles, 'owner')
        .map((r) => ({ userId: r.userId, displayName: r.user.displayName }))
        .sort((a, b) => a.displayName.localeCompare(b.displayName, 'nb')),
      publisherCount: byRole(row.roles, 'publisher').length,
      subscriberCount: row._count.subscriptions,
    })),
    nextCursor: rows.length > page.limit && last ? encodeChannelCursor({ slug: last.slug }) : null,
  };
}

/**
 * Managing one channel: its settings (owners and admins), deleting it (admins), and its roles — owners manage
 * publishers, only admins manage owners. Each change writes its audit record in the same transaction, so a change is
 * never stored without its record (nor a record without the change).
 *
 * Existence is never leaked: a channel the actor may not see (canSeeChannel) answers exactly like one that does not
 * exist (404); a visible channel the actor may not change answers 403.
 */
import { type ChannelRecord, findChannelBySlug } from '../db/channels.js';
import type { Db } from '../db/prisma.js';
import { canManageChannel, canManageChannels, canManageRoles, canSeeChannel } from '../domain/access.js';
import { AppError, notFound } from '../domain/errors.js';
import type { Actor, ChannelRoleKind, ChannelVisibility } from '../domain/types.js';
import type { AnnounceAccessChange } from '../realtime/access-hints.js';
import { recordAudit } from './audit.js';
import type { Caller } from './caller.js';
import { type ChannelView, channelView } from './views.js';

export interface ChannelAdminDeps {
  db: Db;
  announceAccessChange?: AnnounceAccessChange;
}

export interface ChannelChanges {
  title?: string;
  description?: string;
  visibility?: ChannelVisibility;
}

export interface ChannelRoleView {
  userId: string;
  displayName: string;
  role: ChannelRoleKind;
  grantedAt: string;
}

/** The channel, when the actor may see it; otherwise not_found, whether or not it exists. */
async function visibleChannel(db: Db, actor: Actor, slug: string): Promise<ChannelRecord> {
  const channel = await findChannelBySlug(db, slug, actor);
  if (!channel || !canSeeChannel(actor, channel)) throw notFound('Channel');
  return channel;
}

async function managedChannel(db: Db, actor: Actor, slug: string): Promise<ChannelRecord> {
  const channel = await visibleChannel(db, actor, slug);
  if (!canManageChannel(actor, channel)) {
    throw new AppError('forbidden', "Only the channel's owners and administrators may manage it");
  }
  return channel;
}

/** Changes the given settings. Returns the channel as it now is. */
export async function updateChannel(
  deps: ChannelAdminDeps,
  caller: Caller,
  slug: string,
  changes: ChannelChanges,
): Promise<ChannelView> {
  const channel = await managedChannel(deps.db, caller.actor, slug);
  const data: ChannelChanges = {};
  if (changes.title !== undefined) {
    data.title = changes.title.trim();
    if (!data.title) throw new AppError('validation_failed', 'title must not be blank', { field: 'title' });
  }
  if (changes.description !== undefined) data.description = changes.description.trim();
  if (changes.visibility !== undefined) data.visibility = changes.visibility;
  if (Object.keys(data).length === 0) {
    throw new AppError('validation_failed', 'Send at least one of title, description, visibility');
  }

  const row = await deps.db.$transaction(async (tx) => {
    const updated = await tx.channel.update({ where: { id: channel.id }, data });
    await recordAudit(tx, {
      actor: caller.actor,
      action: 'channel.update',
      outcome: 'success',
      targetType: 'channel',
      targetId: channel.id,
      requestId: caller.requestId,
      details: {
        slug: channel.slug,
        changed: Object.keys(data),
        ...(data.visibility && data.visibility !== channel.visibility
          ? { visibility: { from: channel.visibility, to: data.visibility } }
          : {}),
      },
    });
    return updated;
  });
  // Only a narrower visibility can take reading away, but the re-check is cheap and decides that itself.
  if (data.visibility && data.visibility !== channel.visibility) {
    await deps.announceAccessChange?.({ channelId: channel.id });
  }
  return channelView(row);
}

/**
 * Deletes a channel with its announcements, roles and subscriptions (the schema cascades). Administrators only: the
 * route's `admin` policy already refused everyone else before the channel was looked up.
 */
export async function deleteChannel(deps: ChannelAdminDeps, caller: Caller, slug: string): Promise<void> {
  if (!canManageChannels(caller.actor)) throw new AppError('forbidden', 'Only administrators may delete channels');
  const channelId = await deps.db.$transaction(async (tx) => {
    const channel = await tx.channel.findUnique({ where: { slug }, select: { id: true } });
    if (!channel) throw notFound('Channel');
    await tx.channel.delete({ where: { id: channel.id } });
    await recordAudit(tx, {
      actor: caller.actor,
      action: 'channel.delete',
      outcome: 'success',
      targetType: 'channel',
      targetId: channel.id,
      requestId: caller.requestId,
      details: { slug },
    });
    return channel.id;
  });
  await deps.announceAccessChange?.({ channelId });
}

function roleView(row: {
  userId: string;
  role: ChannelRoleKind;
  createdAt: Date;
  user: { displayName: string };
}): ChannelRoleView {
  return {
    userId: row.userId,
    displayName: row.user.displayName,
    role: row.role,
    grantedAt: row.createdAt.toISOString(),
  };
}

/** The channel's owners and publishers, owners first, then by name. */
export async function listChannelRoles(
  deps: ChannelAdminDeps,
  caller: Caller,
  slug: string,
): Promise<ChannelRoleView[]> {
  const channel = await managedChannel(deps.db, caller.actor, slug);
  const rows = await deps.db.channelRole.findMany({
    where: { channelId: channel.id },
    include: { user: { select: { displayName: true } } },
  });
  return rows
    .map(roleView)
    .sort((a, b) =>
      a.role === b.role ? a.displayName.localeCompare(b.displayName, 'nb') : a.role === 'owner' ? -1 : 1,
    );
}

type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];

/**
 * Serialises role changes of one channel (row lock on the channel until commit). The rule depends on the role a
 * person holds now (demoting an owner needs an admin), so check and write must not interleave with another change:
 * an owner's "make X publisher" must not overwrite an admin's concurrent "make X owner".
 */
async function lockChannelRoles(tx: Tx, channelId: string): Promise<void> {
  await tx.$queryRaw`SELECT 1 FROM "Channel" WHERE id = ${channelId}::uuid FOR UPDATE`;
}

function refuseRole(role: ChannelRoleKind, verb: 'grant' | 'revoke'): AppError {
  return new AppError(
    'forbidden',
    role === 'owner'
      ? `Only administrators may ${verb} the owner role`
      : `Only the channel's owners and administrators may ${verb} roles`,
  );
}

/**
 * Gives a user `role` in the channel, replacing the role they had there. Changing an owner into a publisher revokes
 * `owner`, so it needs the right to manage owners too. `created` tells 201 from 200.
 */
export async function setChannelRole(
  deps: ChannelAdminDeps,
  caller: Caller,
  input: { slug: string; userId: string; role: ChannelRoleKind },
): Promise<{ role: ChannelRoleView; created: boolean }> {
  const channel = await managedChannel(deps.db, caller.actor, input.slug);
  if (!canManageRoles(caller.actor, channel, input.role)) throw refuseRole(input.role, 'grant');

  return deps.db.$transaction(async (tx) => {
    await lockChannelRoles(tx, channel.id);
    const user = await tx.user.findUnique({ where: { id: input.userId }, select: { id: true } });
    if (!user) throw notFound('User');
    const key = { channelId_userId: { channelId: channel.id, userId: input.userId } };
    const previous = await tx.channelRole.findUnique({ where: key, select: { role: true } });
    if (previous && !canManageRoles(caller.actor, channel, previous.role)) throw refuseRole(previous.role, 'revoke');
    const row = await tx.channelRole.upsert({
      where: key,
      create: { channelId: channel.id, userId: input.userId, role: input.role },
      update: { role: input.role },
      include: { user: { select: { displayName: true } } },
    });
    if (previous?.role !== input.role) {
      await recordAudit(tx, {
        actor: caller.actor,
        action: 'channel.role.grant',
        outcome: 'success',
        targetType: 'channel',
        targetId: channel.id,
        requestId: caller.requestId,
        details: { slug: channel.slug, userId: input.userId, role: input.role, previousRole: previous?.role ?? null },
      });
    }
    return { role: roleView(row), created: previous === null };
  });
}

/** Removes the user's role in the channel; not_found when they had none. */
export async function revokeChannelRole(
  deps: ChannelAdminDeps,
  caller: Caller,
  input: { slug: string; userId: string },
): Promise<void> {
  const channel = await managedChannel(deps.db, caller.actor, input.slug);
  await deps.db.$transaction(async (tx) => {
    await lockChannelRoles(tx, channel.id);
    const key = { channelId_userId: { channelId: channel.id, userId: input.userId } };
    const existing = await tx.channelRole.findUnique({ where: key, select: { role: true } });
    if (!existing) throw notFound('Role');
    if (!canManageRoles(caller.actor, channel, existing.role)) throw refuseRole(existing.role, 'revoke');
    await tx.channelRole.delete({ where: key });
    await recordAudit(tx, {
      actor: caller.actor,
      action: 'channel.role.revoke',
      outcome: 'success',
      targetType: 'channel',
      targetId: channel.id,
      requestId: caller.requestId,
      details: { slug: channel.slug, userId: input.userId, role: existing.role },
    });
  });
  await deps.announceAccessChange?.({ userId: input.userId });
}

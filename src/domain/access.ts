/**
 * Who may read and publish what. Pure functions over facts the caller loads, so the same rules serve REST, WebSocket
 * subscriptions and (later) feeds: what a client receives live is never more than what REST lets it read.
 */
import type { Actor, ChannelRoleKind, ChannelVisibility, TokenScope } from './types.js';

export interface ChannelFacts {
  visibility: ChannelVisibility;
  /** The actor's role in this channel, if any. */
  role: ChannelRoleKind | null;
}

export function canReadChannel(actor: Actor, channel: ChannelFacts): boolean {
  if (channel.visibility === 'public') return true;
  if (actor.kind !== 'user' || !actor.scopes.includes('read')) return false;
  if (actor.isAdmin || channel.role !== null) return true;
  // internal: signed-in members of member organisations.
  return channel.visibility === 'internal' && actor.organisationId !== null;
}

export function canPublish(actor: Actor, channel: ChannelFacts): boolean {
  if (actor.kind !== 'user' || !actor.scopes.includes('publish')) return false;
  return actor.isAdmin || channel.role === 'owner' || channel.role === 'publisher';
}

/** An administrator acting with admin rights: the admin flag, and the `admin` scope (a session holds every scope). */
export function actsAsAdmin(actor: Actor): boolean {
  return actor.kind === 'user' && actor.isAdmin && actor.scopes.includes('admin');
}

/** Creating and deleting channels (any channel): administrators only. */
export function canManageChannels(actor: Actor): boolean {
  return actsAsAdmin(actor);
}

/**
 * Changing one channel's settings (title, description, visibility) and seeing its roles: its owners (a token needs
 * the `publish` scope, the scope of work inside one's channels) and administrators.
 */
export function canManageChannel(actor: Actor, channel: ChannelFacts): boolean {
  if (actor.kind !== 'user') return false;
  if (actsAsAdmin(actor)) return true;
  return channel.role === 'owner' && actor.scopes.includes('publish');
}

/**
 * Granting or revoking `role` in a channel. Owners manage the channel's publishers; only administrators make or
 * unmake owners (so an owner cannot take a channel from its other owners, nor hand it on, alone). Changing a
 * person's role from one kind to another is revoking one and granting the other: check both.
 */
export function canManageRoles(actor: Actor, channel: ChannelFacts, role: ChannelRoleKind): boolean {
  if (!canManageChannel(actor, channel)) return false;
  return role === 'publisher' || actsAsAdmin(actor);
}

/** Adding and changing organisations (the realm table sign-in maps users with): administrators only. */
export function canManageOrganisations(actor: Actor): boolean {
  return actsAsAdmin(actor);
}

/**
 * Whether a channel may be named to the actor when it acts on it (publish, manage): readable, or the actor acts as
 * an administrator (an admin token without `read` still administers). Anything else answers exactly like a channel
 * that does not exist — also to a member whose token lacks `read`, as publishing already does.
 */
export function canSeeChannel(actor: Actor, channel: ChannelFacts): boolean {
  return canReadChannel(actor, channel) || actsAsAdmin(actor);
}

/**
 * Creating API tokens: in a signed-in session, or with a token that has the `admin` scope. An ordinary token may not
 * mint tokens, so a leaked one cannot be used to make fresh credentials that outlive its revocation. Either way the
 * new token's scopes must lie within the actor's own (see tokenScopesAllowed).
 */
export function canCreateTokens(actor: Actor, credential: 'session' | 'token'): boolean {
  if (actor.kind !== 'user') return false;
  return credential === 'session' || actor.scopes.includes('admin');
}

/** A token never carries more than the actor creating it holds (a session holds all of the user's own rights). */
export function tokenScopesAllowed(actor: Actor, requested: readonly TokenScope[]): boolean {
  return actor.kind === 'user' && requested.every((scope) => actor.scopes.includes(scope));
}

/**
 * Keeping read state and rating an announcement: a person reading (a token needs the `read` scope, also in public
 * channels: a publish-only token is automation, not a reader) in a channel they may read.
 */
export function canKeepReadingState(actor: Actor, channel: ChannelFacts): boolean {
  return actor.kind === 'user' && actor.scopes.includes('read') && canReadChannel(actor, channel);
}

/** Subscribing is reading plus an account to hang the subscription on. */
export function canSubscribe(actor: Actor, channel: ChannelFacts): boolean {
  return actor.kind === 'user' && canReadChannel(actor, channel);
}

/**
 * The set of channels an actor may read, in a form a query can filter on (listing channels must not load every
 * channel and test each): either every channel, or those with one of `visibilities` plus those where
 * `memberUserId` holds a role. `isInReadScope(channelReadScope(a), c)` equals `canReadChannel(a, c)` for every
 * actor and channel (tests/unit/access.test.ts checks each combination).
 */
export type ChannelReadScope =
  | { all: true }
  | { all: false; visibilities: ChannelVisibility[]; memberUserId: string | null };

export function channelReadScope(actor: Actor): ChannelReadScope {
  if (actor.kind !== 'user' || !actor.scopes.includes('read')) {
    return { all: false, visibilities: ['public'], memberUserId: null };
  }
  if (actor.isAdmin) return { all: true };
  return {
    all: false,
    visibilities: actor.organisationId !== null ? ['public', 'internal'] : ['public'],
    memberUserId: actor.userId,
  };
}

export function isInReadScope(scope: ChannelReadScope, channel: ChannelFacts): boolean {
  if (scope.all) return true;
  return scope.visibilities.includes(channel.visibility) || (scope.memberUserId !== null && channel.role !== null);
}

/** Reading the audit log: administrators acting with admin rights. */
export function canReadAuditLog(actor: Actor): boolean {
  return actsAsAdmin(actor);
}

/**
 * Downloading one's own personal data: a signed-in session, or a token with the `read` scope (a token narrowed to
 * publishing, as automation holds, has no business reading the account's profile and history).
 */
export function canExportOwnData(actor: Actor, credential: 'anonymous' | 'session' | 'token'): boolean {
  if (actor.kind !== 'user') return false;
  return credential === 'session' || actor.scopes.includes('read');
}

/**
 * Deleting one's own account: only the person, in a signed-in session. Never an API token: tokens live in scripts
 * and CI settings, and a leaked one must not be able to end an account irreversibly.
 */
export function canEraseOwnAccount(actor: Actor, credential: 'anonymous' | 'session' | 'token'): boolean {
  return actor.kind === 'user' && credential === 'session';
}

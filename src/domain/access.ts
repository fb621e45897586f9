/**
 * Who may read and publish what. Pure functions over facts the caller loads, so the same rules serve REST, WebSocket
 * subscriptions and (later) feeds: what a client receives live is never more than what REST lets it read.
 */
import type { Actor, ChannelRoleKind, ChannelVisibility } from './types.js';

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

export function canManageChannels(actor: Actor): boolean {
  return actor.kind === 'user' && actor.isAdmin && actor.scopes.includes('admin');
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

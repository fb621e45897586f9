/**
 * The access rules over the full grid: every kind of actor (anonymous; users by admin flag, organisation and token
 * scopes) × every channel visibility × every role the actor may hold there. Expectations are written from the
 * issue's rules, independently of the implementation, so a change of rule shows up here.
 */
import { describe, expect, it } from 'vitest';
import {
  actsAsAdmin,
  type ChannelFacts,
  canCreateTokens,
  canKeepReadingState,
  canManageChannel,
  canManageChannels,
  canManageOrganisations,
  canManageRoles,
  canPublish,
  canReadChannel,
  canSeeChannel,
  canSubscribe,
  tokenScopesAllowed,
} from '../../src/domain/access.js';
import {
  type Actor,
  ANONYMOUS,
  CHANNEL_ROLES,
  CHANNEL_VISIBILITIES,
  type ChannelRoleKind,
  TOKEN_SCOPES,
  type TokenScope,
} from '../../src/domain/types.js';

type User = Extract<Actor, { kind: 'user' }>;

const SCOPE_SETS: TokenScope[][] = [
  [],
  ['read'],
  ['publish'],
  ['admin'],
  ['read', 'publish'],
  ['read', 'admin'],
  ['publish', 'admin'],
  [...TOKEN_SCOPES],
];

function users(): User[] {
  const list: User[] = [];
  for (const isAdmin of [false, true]) {
    for (const organisationId of [null, 'org-uib']) {
      for (const scopes of SCOPE_SETS) list.push({ kind: 'user', userId: 'u-1', isAdmin, organisationId, scopes });
    }
  }
  return list;
}

const ROLES: (ChannelRoleKind | null)[] = [null, ...CHANNEL_ROLES];

/** Every (actor, channel) pair of the grid; anonymous actors hold no roles. */
function grid(): { actor: Actor; channel: ChannelFacts; where: string }[] {
  const cells: { actor: Actor; channel: ChannelFacts; where: string }[] = [];
  for (const actor of [ANONYMOUS, ...users()]) {
    for (const visibility of CHANNEL_VISIBILITIES) {
      for (const role of ROLES) {
        if (actor.kind === 'anonymous' && role !== null) continue;
        const channel = { visibility, role };
        cells.push({ actor, channel, where: JSON.stringify({ actor, channel }) });
      }
    }
  }
  return cells;
}

const has = (actor: Actor, scope: TokenScope) => actor.kind === 'user' && actor.scopes.includes(scope);

/** The rules, spelled out case by case. */
function expectedRead(actor: Actor, channel: ChannelFacts): boolean {
  if (channel.visibility === 'public') return true;
  if (actor.kind === 'anonymous' || !has(actor, 'read')) return false;
  if (actor.isAdmin || channel.role !== null) return true;
  return channel.visibility === 'internal' && actor.organisationId !== null;
}

function expectedAdmin(actor: Actor): boolean {
  return actor.kind === 'user' && actor.isAdmin && has(actor, 'admin');
}

function expectedPublish(actor: Actor, channel: ChannelFacts): boolean {
  return actor.kind === 'user' && has(actor, 'publish') && (actor.isAdmin || channel.role !== null);
}

function expectedManage(actor: Actor, channel: ChannelFacts): boolean {
  return expectedAdmin(actor) || (channel.role === 'owner' && has(actor, 'publish'));
}

describe('the access grid', () => {
  const cells = grid();

  it('covers every actor kind, visibility and role', () => {
    // 1 anonymous × 3 visibilities + 32 users × 3 visibilities × 3 roles
    expect(cells).toHaveLength(3 + 32 * 9);
  });

  it('canReadChannel: public to anyone; internal to members of member organisations; restricted to members', () => {
    for (const { actor, channel, where } of cells)
      expect(canReadChannel(actor, channel), where).toBe(expectedRead(actor, channel));
  });

  it('canSubscribe: reading, with an account', () => {
    for (const { actor, channel, where } of cells) {
      expect(canSubscribe(actor, channel), where).toBe(actor.kind === 'user' && expectedRead(actor, channel));
    }
  });

  it('canKeepReadingState: a reader with an account and the read scope, in a channel they may read', () => {
    for (const { actor, channel, where } of cells) {
      const expected = actor.kind === 'user' && has(actor, 'read') && expectedRead(actor, channel);
      expect(canKeepReadingState(actor, channel), where).toBe(expected);
    }
    // Even in a public channel, which any token may read: a publish-only token is automation, not a reader.
    const automation: User = { kind: 'user', userId: 'u-1', isAdmin: false, organisationId: null, scopes: ['publish'] };
    expect(canReadChannel(automation, { visibility: 'public', role: null })).toBe(true);
    expect(canKeepReadingState(automation, { visibility: 'public', role: null })).toBe(false);
  });

  it('canPublish: owners, publishers and admins, with the publish scope', () => {
    for (const { actor, channel, where } of cells) {
      expect(canPublish(actor, channel), where).toBe(expectedPublish(actor, channel));
    }
  });

  it('canManageChannel: owners (publish scope) and admins (admin scope), never publishers or mere readers', () => {
    for (const { actor, channel, where } of cells) {
      expect(canManageChannel(actor, channel), where).toBe(expectedManage(actor, channel));
    }
  });

  it('canManageRoles: owners manage publishers; only admins manage owners', () => {
    for (const { actor, channel, where } of cells) {
      expect(canManageRoles(actor, channel, 'publisher'), `publisher ${where}`).toBe(expectedManage(actor, channel));
      expect(canManageRoles(actor, channel, 'owner'), `owner ${where}`).toBe(expectedAdmin(actor));
    }
  });

  it('canSeeChannel: what may be named to the actor is what it may read, or anything for an acting admin', () => {
    for (const { actor, channel, where } of cells) {
      expect(canSeeChannel(actor, channel), where).toBe(expectedRead(actor, channel) || expectedAdmin(actor));
    }
  });

  it('a member whose token lacks `read` is shown a hidden channel as absent, though its role would allow more', () => {
    const ownerWithoutRead: Actor = {
      kind: 'user',
      userId: 'u',
      isAdmin: false,
      organisationId: 'o',
      scopes: ['publish'],
    };
    const restricted = { visibility: 'restricted', role: 'owner' } as const;
    expect(canManageChannel(ownerWithoutRead, restricted)).toBe(true);
    expect(canSeeChannel(ownerWithoutRead, restricted)).toBe(false);
    expect(canSeeChannel(ownerWithoutRead, { visibility: 'public', role: 'owner' })).toBe(true);
  });
});

describe('administration', () => {
  it('channels and organisations are managed by admins acting with the admin scope only', () => {
    for (const actor of [ANONYMOUS, ...users()]) {
      const where = JSON.stringify(actor);
      expect(actsAsAdmin(actor), where).toBe(expectedAdmin(actor));
      expect(canManageChannels(actor), where).toBe(expectedAdmin(actor));
      expect(canManageOrganisations(actor), where).toBe(expectedAdmin(actor));
    }
  });
});

describe('tokens', () => {
  it('are created in a session, or with an admin-scoped token; never anonymously', () => {
    expect(canCreateTokens(ANONYMOUS, 'session')).toBe(false);
    expect(canCreateTokens(ANONYMOUS, 'token')).toBe(false);
    for (const actor of users()) {
      const where = JSON.stringify(actor);
      expect(canCreateTokens(actor, 'session'), where).toBe(true);
      expect(canCreateTokens(actor, 'token'), where).toBe(actor.scopes.includes('admin'));
    }
  });

  it('never carry a scope the creator does not hold', () => {
    for (const actor of users()) {
      for (const requested of SCOPE_SETS) {
        const where = JSON.stringify({ actor, requested });
        expect(tokenScopesAllowed(actor, requested), where).toBe(requested.every((s) => actor.scopes.includes(s)));
      }
    }
    expect(tokenScopesAllowed(ANONYMOUS, [])).toBe(false);
  });
});

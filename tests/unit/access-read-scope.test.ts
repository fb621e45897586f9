import { describe, expect, it } from 'vitest';
import { canReadChannel, channelReadScope, isInReadScope } from '../../src/domain/access.js';
import {
  type Actor,
  ANONYMOUS,
  CHANNEL_ROLES,
  CHANNEL_VISIBILITIES,
  type ChannelRoleKind,
  TOKEN_SCOPES,
  type TokenScope,
} from '../../src/domain/types.js';

/** Every kind of actor the rules distinguish: anonymous, and users by admin flag, organisation and token scopes. */
function actors(): Actor[] {
  const scopeSets: TokenScope[][] = [[], ...TOKEN_SCOPES.map((s) => [s]), [...TOKEN_SCOPES]];
  const list: Actor[] = [ANONYMOUS];
  for (const isAdmin of [false, true]) {
    for (const organisationId of [null, 'org-1']) {
      for (const scopes of scopeSets) list.push({ kind: 'user', userId: 'u-1', isAdmin, organisationId, scopes });
    }
  }
  return list;
}

describe('channelReadScope', () => {
  it('admits exactly the channels canReadChannel admits, for every actor, visibility and role', () => {
    const roles: (ChannelRoleKind | null)[] = [null, ...CHANNEL_ROLES];
    let checked = 0;
    for (const actor of actors()) {
      const scope = channelReadScope(actor);
      for (const visibility of CHANNEL_VISIBILITIES) {
        for (const role of roles) {
          // Anonymous actors hold no roles.
          if (actor.kind === 'anonymous' && role !== null) continue;
          const channel = { visibility, role };
          expect(isInReadScope(scope, channel), JSON.stringify({ actor, channel })).toBe(
            canReadChannel(actor, channel),
          );
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('gives anonymous callers public channels only', () => {
    expect(channelReadScope(ANONYMOUS)).toEqual({ all: false, visibilities: ['public'], memberUserId: null });
  });

  it('gives admins with the read scope everything', () => {
    const admin: Actor = { kind: 'user', userId: 'a', isAdmin: true, organisationId: null, scopes: ['read'] };
    expect(channelReadScope(admin)).toEqual({ all: true });
  });
});

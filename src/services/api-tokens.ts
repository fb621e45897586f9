/**
 * API tokens as people manage them over HTTP: list, create and revoke one's own; administrators revoke anyone's.
 * The primitives (format, hashing, authentication) are in tokens.ts.
 *
 * Rules (src/domain/access.ts): a token is created in a signed-in session, or with a token that has the `admin`
 * scope — an ordinary token cannot mint fresh credentials that would outlive its own revocation. A new token's scopes
 * lie within the creator's (a session holds all of the user's rights; a token only its own scopes), and never exceed
 * what the user may hold (tokens.ts `allowedScopes`). The secret is returned once, at creation; lists never carry it.
 */
import type { Db } from '../db/prisma.js';
import { actsAsAdmin, canCreateTokens, tokenScopesAllowed } from '../domain/access.js';
import { decodeTokenCursor, encodeTokenCursor } from '../domain/cursor.js';
import { AppError, notFound } from '../domain/errors.js';
import type { Actor, TokenScope } from '../domain/types.js';
import { recordAudit } from './audit.js';
import type { Caller } from './caller.js';
import type { ChannelAdminDeps } from './channel-settings.js';
import { createApiToken } from './tokens.js';

/** Lifetime of a token whose creator names none: automation should rotate its credentials. */
export const DEFAULT_TOKEN_LIFETIME_DAYS = 90;
export const MAX_TOKEN_LIFETIME_DAYS = 365;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface TokenView {
  id: string;
  name: string;
  /** The first characters of the secret (`mkt_…`), to recognise a token; not enough to use it. */
  prefix: string;
  scopes: TokenScope[];
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
}

export interface NewTokenView extends TokenView {
  /** The secret. Returned once, here; only its hash is stored. */
  token: string;
}

export interface NewTokenInput {
  name: string;
  scopes?: TokenScope[];
  expiresInDays?: number;
}

type UserActor = Extract<Actor, { kind: 'user' }>;

function requireUser(actor: Actor): UserActor {
  if (actor.kind !== 'user') throw new AppError('unauthenticated', 'Tokens belong to a signed-in user');
  return actor;
}

function view(row: {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
}): TokenView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes as TokenScope[],
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    expiresAt: row.expiresAt?.toISOString() ?? null,
  };
}

/** The caller's tokens that are not revoked (expired ones included, so their owner sees why they stopped), oldest first. */
export async function listMyTokens(deps: { db: Db }, caller: Caller): Promise<TokenView[]> {
  const user = requireUser(caller.actor);
  const rows = await deps.db.apiToken.findMany({
    where: { userId: user.userId, revokedAt: null },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
  });
  return rows.map(view);
}

export async function createMyToken(
  deps: { db: Db },
  caller: Caller,
  input: NewTokenInput,
  now = new Date(),
): Promise<NewTokenView> {
  const user = requireUser(caller.actor);
  if (!canCreateTokens(user, caller.credential === 'session' ? 'session' : 'token')) {
    throw new AppError(
      'forbidden',
      'Tokens are created in a signed-in session (or with a token that has scope `admin`)',
    );
  }
  const name = input.name.trim();
  if (!name || /[\r\n]/.test(name)) {
    throw new AppError('validation_failed', 'name must be one line, not blank', { field: 'name' });
  }
  // Least privilege by default: the caller's scopes, except `admin`, which must be asked for by name.
  const scopes = [...new Set(input.scopes ?? user.scopes.filter((scope) => scope !== 'admin'))];
  if (scopes.length === 0) {
    throw new AppError('validation_failed', 'A token needs at least one scope', { field: 'scopes' });
  }
  if (!tokenScopesAllowed(user, scopes)) {
    const excess = scopes.filter((scope) => !user.scopes.includes(scope));
    throw new AppError('forbidden', `You may not give a token scope(s) you do not hold: ${excess.join(', ')}`);
  }
  const days = input.expiresInDays ?? DEFAULT_TOKEN_LIFETIME_DAYS;
  if (!Number.isInteger(days) || days < 1 || days > MAX_TOKEN_LIFETIME_DAYS) {
    throw new AppError(
      'validation_failed',
      `expiresInDays must be a whole number from 1 to ${MAX_TOKEN_LIFETIME_DAYS}`,
      {
        field: 'expiresInDays',
      },
    );
  }

  return deps.db.$transaction(async (tx) => {
    const created = await createApiToken(tx, {
      userId: user.userId,
      name,
      scopes,
      expiresAt: new Date(now.getTime() + days * DAY_MS),
    });
    await recordAudit(tx, {
      actor: user,
      action: 'token.create',
      outcome: 'success',
      targetType: 'token',
      targetId: created.id,
      requestId: caller.requestId,
      details: { scopes, expiresAt: created.expiresAt?.toISOString() ?? null, via: caller.credential },
    });
    return {
      ...view({ ...created, lastUsedAt: null }),
      token: created.token,
    };
  });
}

/** Revoking ends the token's live connections too: announced, so they are re-checked at once. */
type RevokeDeps = ChannelAdminDeps;

async function revoke(deps: RevokeDeps, caller: Caller, where: { id: string; userId?: string }): Promise<void> {
  const ownerUserId = await deps.db.$transaction(async (tx) => {
    const token = await tx.apiToken.findFirst({
      where: { ...where, revokedAt: null },
      select: { id: true, userId: true },
    });
    if (!token) throw notFound('Token');
    // Conditional, so two concurrent revocations record one revocation, not two.
    const { count } = await tx.apiToken.updateMany({
      where: { id: token.id, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    if (count === 0) throw notFound('Token');
    await recordAudit(tx, {
      actor: caller.actor,
      action: 'token.revoke',
      outcome: 'success',
      targetType: 'token',
      targetId: token.id,
      requestId: caller.requestId,
      details: { ownerUserId: token.userId },
    });
    return token.userId;
  });
  await deps.announceAccessChange?.({ userId: ownerUserId });
}

/**
 * Revokes one of the caller's own tokens (any credential may: revoking only takes power away). Someone else's token
 * answers like one that does not exist.
 */
export async function revokeMyToken(deps: RevokeDeps, caller: Caller, id: string): Promise<void> {
  const user = requireUser(caller.actor);
  await revoke(deps, caller, { id, userId: user.userId });
}

/** Revokes anyone's token: administrators (a leaked token, a person who left). */
export async function revokeAnyToken(deps: RevokeDeps, caller: Caller, id: string): Promise<void> {
  if (!actsAsAdmin(caller.actor)) throw new AppError('forbidden', "Only administrators may revoke others' tokens");
  await revoke(deps, caller, { id });
}

/** A token in the administrators' list: its metadata and whose it is (never its secret or hash). */
export interface AdminTokenView extends TokenView {
  owner: { userId: string; displayName: string; email: string | null };
}

export const MAX_TOKEN_PAGE_SIZE = 100;

function requireAdmin(actor: Actor): void {
  if (!actsAsAdmin(actor)) throw new AppError('forbidden', 'This needs an administrator (scope `admin`)');
}

const ADMIN_TOKEN_SELECT = {
  id: true,
  name: true,
  prefix: true,
  scopes: true,
  createdAt: true,
  lastUsedAt: true,
  expiresAt: true,
  user: { select: { id: true, displayName: true, email: true } },
} as const;

function adminTokenView(
  row: Parameters<typeof view>[0] & {
    user: { id: string; displayName: string; email: string | null };
  },
): AdminTokenView {
  return {
    ...view(row),
    owner: { userId: row.user.id, displayName: row.user.displayName, email: row.user.email },
  };
}

/**
 * Everyone's tokens that are not revoked (expired ones included), newest first, one keyset page at a time; `userId`
 * narrows to one person's. Administrators only: a leaked token or a person who left is found here and revoked.
 */
export async function listAllTokens(
  deps: { db: Db },
  caller: Caller,
  query: { userId?: string; limit: number; cursor?: string },
): Promise<{ items: AdminTokenView[]; nextCursor: string | null }> {
  requireAdmin(caller.actor);
  if (query.limit < 1 || query.limit > MAX_TOKEN_PAGE_SIZE) {
    throw new AppError('validation_failed', `limit must be between 1 and ${MAX_TOKEN_PAGE_SIZE}`, { field: 'limit' });
  }
  const after = query.cursor === undefined ? undefined : decodeTokenCursor(query.cursor);
  const rows = await deps.db.apiToken.findMany({
    where: {
      revokedAt: null,
      ...(query.userId ? { userId: query.userId } : {}),
      ...(after
        ? { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] }
        : {}),
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: query.limit + 1,
    select: ADMIN_TOKEN_SELECT,
  });
  const items = rows.slice(0, query.limit);
  const last = items.at(-1);
  return {
    items: items.map(adminTokenView),
    nextCursor:
      rows.length > query.limit && last ? encodeTokenCursor({ createdAt: last.createdAt, id: last.id }) : null,
  };
}

/** One token that is not revoked, for an administrator (the revocation's confirmation step), or not_found. */
export async function getAnyToken(deps: { db: Db }, caller: Caller, id: string): Promise<AdminTokenView> {
  requireAdmin(caller.actor);
  const row = await deps.db.apiToken.findFirst({ where: { id, revokedAt: null }, select: ADMIN_TOKEN_SELECT });
  if (!row) throw notFound('Token');
  return adminTokenView(row);
}

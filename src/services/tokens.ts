/**
 * API tokens: `mkt_` + 40 random base64url characters. The recognisable prefix lets secret scanners find leaked
 * tokens; only the SHA-256 hash is stored, so the secret is shown once, at creation.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type Db, queryRows } from '../db/prisma.js';
import { AppError } from '../domain/errors.js';
import { type Actor, TOKEN_SCOPES, type TokenScope } from '../domain/types.js';
import { Prisma } from '../generated/prisma/client.js';

export const TOKEN_PREFIX = 'mkt_';
const TOKEN_PATTERN = /^mkt_[A-Za-z0-9_-]{40}$/;
/** lastUsedAt is refreshed at most this often, so authenticated reads do not each cost a write. */
const LAST_USED_RESOLUTION_MS = 60_000;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export interface CreatedToken {
  /** The secret. Shown once; never stored. */
  token: string;
  id: string;
  name: string;
  prefix: string;
  createdAt: Date;
  scopes: TokenScope[];
  expiresAt: Date | null;
}

/** Scopes a user may hold: never more than their own rights. */
export function allowedScopes(user: { isAdmin: boolean }): TokenScope[] {
  return user.isAdmin ? [...TOKEN_SCOPES] : ['read', 'publish'];
}

export async function createApiToken(
  // The two tables it touches, so a transaction client works too (the caller's audit record joins the transaction).
  db: Pick<Db, 'user' | 'apiToken'>,
  input: { userId: string; name: string; scopes?: TokenScope[]; expiresAt?: Date | null },
): Promise<CreatedToken> {
  const user = await db.user.findUnique({ where: { id: input.userId } });
  if (!user) throw new AppError('not_found', 'User was not found');
  const allowed = allowedScopes(user);
  const scopes = input.scopes ?? allowed;
  const excess = scopes.filter((s) => !allowed.includes(s));
  if (excess.length > 0) throw new AppError('forbidden', `The user may not hold scope(s): ${excess.join(', ')}`);
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
    throw new AppError('validation_failed', 'expiresAt must be in the future');
  }
  const token = `${TOKEN_PREFIX}${randomBytes(30).toString('base64url')}`;
  const record = await db.apiToken.create({
    data: {
      userId: user.id,
      name: input.name,
      prefix: token.slice(0, 12),
      tokenHash: hashToken(token),
      scopes,
      expiresAt: input.expiresAt ?? null,
    },
  });
  return {
    token,
    id: record.id,
    name: record.name,
    prefix: record.prefix,
    createdAt: record.createdAt,
    scopes,
    expiresAt: record.expiresAt,
  };
}

/** Resolves a presented token to an actor, or null when it is malformed, unknown, revoked or expired. */
export async function authenticateToken(db: Db, presented: string): Promise<Actor | null> {
  if (!TOKEN_PATTERN.test(presented)) return null;
  // Every request with a token (and every live connection opened with one) passes here: one statement on the driver.
  const [record] = await queryRows<{
    id: string;
    scopes: string[];
    revokedAt: Date | null;
    expiresAt: Date | null;
    lastUsedAt: Date | null;
    userId: string;
    isAdmin: boolean;
    organisationId: string | null;
  }>(
    db,
    Prisma.sql`SELECT t.id, t.scopes, t."revokedAt", t."expiresAt", t."lastUsedAt",
                      u.id AS "userId", u."isAdmin", u."organisationId"
                 FROM "ApiToken" t JOIN "User" u ON u.id = t."userId"
                WHERE t."tokenHash" = ${hashToken(presented)}`,
  );
  if (!record || record.revokedAt) return null;
  const now = Date.now();
  if (record.expiresAt && record.expiresAt.getTime() <= now) return null;
  if (!record.lastUsedAt || now - record.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await db.apiToken.update({ where: { id: record.id }, data: { lastUsedAt: new Date(now) } });
  }
  const allowed = allowedScopes(record);
  return {
    kind: 'user',
    userId: record.userId,
    isAdmin: record.isAdmin,
    organisationId: record.organisationId,
    scopes: (record.scopes as TokenScope[]).filter((s) => allowed.includes(s)),
  };
}

/** What may be shown about a token: everything but its hash, which never leaves the database. */
export const API_TOKEN_METADATA = {
  id: true,
  name: true,
  prefix: true,
  scopes: true,
  createdAt: true,
  lastUsedAt: true,
  expiresAt: true,
  revokedAt: true,
} as const;

export async function listApiTokens(db: Db, userId?: string) {
  return db.apiToken.findMany({
    where: userId ? { userId } : {},
    orderBy: { createdAt: 'asc' },
    select: { ...API_TOKEN_METADATA, user: { select: { email: true } } },
  });
}

export async function revokeApiToken(db: Db, id: string): Promise<boolean> {
  const { count } = await db.apiToken.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } });
  return count === 1;
}

/**
 * Personal feed URLs: `PUBLIC_URL/feeds/me/<secret>.atom` (and .rss, .json) for people who read internal and
 * restricted channels in a feed reader, which cannot sign in. The secret is `mkf_` + 40 base64url characters — a
 * prefix of its own, so log scrubbing and secret scanners recognise it, and so it can never be mistaken for an API
 * token (`mkt_`): it grants nothing but reading this one feed. Only its SHA-256 hash is stored; the secret is shown
 * once. The feed is computed from the owner's rights at every request (src/services/feeds.ts), so revoking the token,
 * or the owner losing a role, takes effect at the next fetch.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/prisma.js';
import { canCreateTokens } from '../domain/access.js';
import { AppError, notFound } from '../domain/errors.js';
import type { Actor } from '../domain/types.js';
import { recordAudit } from './audit.js';
import type { Caller } from './caller.js';

export const FEED_TOKEN_PREFIX = 'mkf_';
const FEED_TOKEN_PATTERN = /^mkf_[A-Za-z0-9_-]{40}$/;
/** lastUsedAt is refreshed at most this often: feed readers poll, and each poll need not cost a write. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** The formats a personal feed is offered in, with their file extensions. */
export const FEED_EXTENSIONS = ['atom', 'rss', 'json'] as const;
export type FeedExtension = (typeof FEED_EXTENSIONS)[number];

export interface FeedTokenView {
  id: string;
  /** The first characters of the secret (`mkf_…`), to recognise a URL; not enough to use it. */
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface NewFeedTokenView extends FeedTokenView {
  /** The secret. Returned once, here; only its hash is stored. */
  token: string;
  /** The personal feed in each format: secret URLs, to paste into a feed reader. */
  urls: Record<FeedExtension, string>;
}

function hashFeedToken(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** The personal feed URL of a secret in one format. */
export function personalFeedUrl(publicUrl: string, secret: string, extension: FeedExtension): string {
  return `${publicUrl}/feeds/me/${secret}.${extension}`;
}

function view(row: { id: string; prefix: string; createdAt: Date; lastUsedAt: Date | null }): FeedTokenView {
  return {
    id: row.id,
    prefix: row.prefix,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  };
}

type UserActor = Extract<Actor, { kind: 'user' }>;

function requireUser(actor: Actor): UserActor {
  if (actor.kind !== 'user') throw new AppError('unauthenticated', 'Feed URLs belong to a signed-in user');
  return actor;
}

/** The caller's feed tokens that are not revoked, oldest first. */
export async function listMyFeedTokens(deps: { db: Db }, caller: Caller): Promise<FeedTokenView[]> {
  const user = requireUser(caller.actor);
  const rows = await deps.db.feedToken.findMany({
    where: { userId: user.userId, revokedAt: null },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
  });
  return rows.map(view);
}

/**
 * Creates a personal feed URL. The same rule as API tokens (canCreateTokens): in a signed-in session, or with a token
 * that has the `admin` scope, so a leaked ordinary token cannot mint a credential that outlives its revocation.
 */
export async function createMyFeedToken(
  deps: { db: Db; publicUrl: string },
  caller: Caller,
): Promise<NewFeedTokenView> {
  const user = requireUser(caller.actor);
  if (!canCreateTokens(user, caller.credential === 'session' ? 'session' : 'token')) {
    throw new AppError(
      'forbidden',
      'Feed URLs are created in a signed-in session (or with a token that has scope `admin`)',
    );
  }
  const secret = `${FEED_TOKEN_PREFIX}${randomBytes(30).toString('base64url')}`;
  return deps.db.$transaction(async (tx) => {
    const row = await tx.feedToken.create({
      data: { userId: user.userId, tokenHash: hashFeedToken(secret), prefix: secret.slice(0, 12) },
    });
    await recordAudit(tx, {
      actor: user,
      action: 'feed_token.create',
      outcome: 'success',
      targetType: 'feed_token',
      targetId: row.id,
      requestId: caller.requestId,
      details: { via: caller.credential },
    });
    const urls = Object.fromEntries(
      FEED_EXTENSIONS.map((extension) => [extension, personalFeedUrl(deps.publicUrl, secret, extension)]),
    ) as Record<FeedExtension, string>;
    return { ...view(row), token: secret, urls };
  });
}

/** Revokes one of the caller's feed tokens; someone else's answers like one that does not exist. */
export async function revokeMyFeedToken(deps: { db: Db }, caller: Caller, id: string): Promise<void> {
  const user = requireUser(caller.actor);
  await deps.db.$transaction(async (tx) => {
    // Conditional, so two concurrent revocations record one revocation, not two.
    const { count } = await tx.feedToken.updateMany({
      where: { id, userId: user.userId, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    if (count === 0) throw notFound('Feed token');
    await recordAudit(tx, {
      actor: user,
      action: 'feed_token.revoke',
      outcome: 'success',
      targetType: 'feed_token',
      targetId: id,
      requestId: caller.requestId,
    });
  });
}

/**
 * The owner of a presented feed secret, as the reading actor of their personal feed, or null when the secret is
 * malformed, unknown or revoked. The actor holds only the `read` scope: the URL lets a reader read, nothing more.
 * Role and organisation are the owner's current ones, loaded now.
 */
export async function feedTokenOwner(db: Db, secret: string, now = new Date()): Promise<UserActorWithToken | null> {
  if (!FEED_TOKEN_PATTERN.test(secret)) return null;
  const row = await db.feedToken.findUnique({
    where: { tokenHash: hashFeedToken(secret) },
    include: { user: { select: { id: true, isAdmin: true, organisationId: true } } },
  });
  if (!row || row.revokedAt) return null;
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await db.feedToken.update({ where: { id: row.id }, data: { lastUsedAt: now } });
  }
  return {
    tokenId: row.id,
    actor: {
      kind: 'user',
      userId: row.user.id,
      isAdmin: row.user.isAdmin,
      organisationId: row.user.organisationId,
      scopes: ['read'],
    },
  };
}

export interface UserActorWithToken {
  /** The feed token's id: the personal feed's permanent identity. */
  tokenId: string;
  actor: UserActor;
}

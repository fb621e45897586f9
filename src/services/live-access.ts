/**
 * Access of open WebSockets, checked again while they stay open. A socket was authorised when it was opened and when
 * it subscribed; a live connection can outlast both (sign-out, a revoked token, a lost role, a channel made
 * internal), so the live plugin re-checks every socket every LIVE_ACCESS_RECHECK_MS with these functions.
 *
 * Batched: one tick costs a fixed number of queries whatever the number of sockets — one for the sessions, one for
 * the tokens, one for the channels with the roles of every user concerned — never one per socket or per channel.
 * The rules are the REST rules: a session is alive as resolveSession decides (absolute and idle limits), a token as
 * authenticateToken decides (not revoked, not expired), and a channel readable as canReadChannel decides.
 */
import { type Db, queryRows } from '../db/prisma.js';
import { type ChannelFacts, canReadChannel } from '../domain/access.js';
import type { Actor, ChannelRoleKind, ChannelVisibility, TokenScope } from '../domain/types.js';
import { Prisma } from '../generated/prisma/client.js';
import type { SessionTimeouts } from './sessions.js';
import { allowedScopes } from './tokens.js';

/** The user behind a credential, as the credential queries select it. */
interface CredentialUser {
  userId: string;
  isAdmin: boolean;
  organisationId: string | null;
}

const USER_COLUMNS = Prisma.sql`u.id::text AS "userId", u."isAdmin", u."organisationId"::text AS "organisationId"`;

/**
 * What a live connection was authenticated with: a sign-in session (by its id, the hash of the cookie secret), an API
 * token (by its hash) or nothing. Secrets themselves are never kept.
 */
export type LiveCredential =
  | { kind: 'anonymous' }
  | { kind: 'session'; sessionId: string }
  | { kind: 'token'; tokenHash: string };

/** A stable key for a credential (maps, logs never see it: it is a hash already). */
export function credentialKey(credential: LiveCredential): string {
  switch (credential.kind) {
    case 'anonymous':
      return 'anonymous';
    case 'session':
      return `session:${credential.sessionId}`;
    case 'token':
      return `token:${credential.tokenHash}`;
  }
}

/**
 * The current actor behind each credential, or null for those that ended (session signed out, expired or idle; token
 * revoked, expired or deleted; user deleted). Anonymous stays anonymous. Two queries at most.
 */
export async function resolveLiveCredentials(
  db: Db,
  credentials: readonly LiveCredential[],
  timeouts: SessionTimeouts,
  now = new Date(),
): Promise<Map<string, Actor | null>> {
  const result = new Map<string, Actor | null>();
  const sessionIds = new Set<string>();
  const tokenHashes = new Set<string>();
  for (const credential of credentials) {
    if (credential.kind === 'anonymous') result.set('anonymous', { kind: 'anonymous' });
    else if (credential.kind === 'session') sessionIds.add(credential.sessionId);
    else tokenHashes.add(credential.tokenHash);
  }
  // On the driver (one statement each; every live connection's subscribe passes here, and Prisma's query engine cost
  // several times the CPU of the statement itself).
  const [sessions, tokens] = await Promise.all([
    sessionIds.size === 0
      ? []
      : queryRows<{ id: string; lastSeenAt: Date; expiresAt: Date } & CredentialUser>(
          db,
          Prisma.sql`SELECT s.id, s."lastSeenAt", s."expiresAt", ${USER_COLUMNS}
                       FROM "Session" s JOIN "User" u ON u.id = s."userId"
                      WHERE s.id = ANY(${[...sessionIds]}::text[])`,
        ),
    tokenHashes.size === 0
      ? []
      : queryRows<
          { tokenHash: string; scopes: string[]; revokedAt: Date | null; expiresAt: Date | null } & CredentialUser
        >(
          db,
          Prisma.sql`SELECT t."tokenHash", t.scopes, t."revokedAt", t."expiresAt", ${USER_COLUMNS}
                       FROM "ApiToken" t JOIN "User" u ON u.id = t."userId"
                      WHERE t."tokenHash" = ANY(${[...tokenHashes]}::text[])`,
        ),
  ]);
  const nowMs = now.getTime();
  for (const id of sessionIds) result.set(`session:${id}`, null);
  for (const session of sessions) {
    // resolveSession's rule, without its side effects: a socket is not a request, so it neither refreshes
    // lastSeenAt (an open tab is not activity) nor deletes the row (the next request does).
    const alive = session.expiresAt.getTime() > nowMs && nowMs - session.lastSeenAt.getTime() < timeouts.idleTimeoutMs;
    if (!alive) continue;
    result.set(`session:${session.id}`, {
      kind: 'user',
      userId: session.userId,
      isAdmin: session.isAdmin,
      organisationId: session.organisationId,
      scopes: allowedScopes(session),
    });
  }
  for (const hash of tokenHashes) result.set(`token:${hash}`, null);
  for (const token of tokens) {
    if (token.revokedAt || (token.expiresAt && token.expiresAt.getTime() <= nowMs)) continue;
    const allowed = allowedScopes(token);
    result.set(`token:${token.tokenHash}`, {
      kind: 'user',
      userId: token.userId,
      isAdmin: token.isAdmin,
      organisationId: token.organisationId,
      scopes: (token.scopes as TokenScope[]).filter((s) => allowed.includes(s)),
    });
  }
  return result;
}

/** One watcher to check: who it is now, and the channels (by id) it watches. */
export interface WatcherToCheck {
  actor: Actor;
  channelIds: readonly string[];
}

/** What a re-check found for one watcher. */
export interface WatcherAccess {
  /** Channel ids it may no longer read (deleted, visibility changed, role lost). */
  unreadable: Set<string>;
  /**
   * The facts of the channels it may still read — visibility and its role now — with which the socket decides who
   * sees an organisation-limited announcement (canSeeAnnouncement: a channel's editors see them all).
   */
  facts: Map<string, ChannelFacts>;
}

/**
 * For each watcher, the channels it may no longer read and its facts in the others. One query: the channels with the
 * roles of exactly the users concerned.
 */
export async function checkWatchedChannels(db: Db, watchers: readonly WatcherToCheck[]): Promise<WatcherAccess[]> {
  const channelIds = new Set<string>();
  const userIds = new Set<string>();
  for (const watcher of watchers) {
    for (const id of watcher.channelIds) channelIds.add(id);
    if (watcher.actor.kind === 'user') userIds.add(watcher.actor.userId);
  }
  if (channelIds.size === 0) return watchers.map(() => ({ unreadable: new Set(), facts: new Map() }));
  const channels = await db.channel.findMany({
    where: { id: { in: [...channelIds] } },
    select: {
      id: true,
      visibility: true,
      roles: { where: { userId: { in: [...userIds] } }, select: { userId: true, role: true } },
    },
  });
  const byId = new Map<string, { visibility: ChannelVisibility; roles: Map<string, ChannelRoleKind> }>();
  for (const channel of channels) {
    byId.set(channel.id, {
      visibility: channel.visibility,
      roles: new Map(channel.roles.map((r) => [r.userId, r.role])),
    });
  }
  return watchers.map(({ actor, channelIds: watched }) => {
    const unreadable = new Set<string>();
    const facts = new Map<string, ChannelFacts>();
    for (const id of watched) {
      const channel = byId.get(id);
      const role = channel && actor.kind === 'user' ? (channel.roles.get(actor.userId) ?? null) : null;
      if (!channel || !canReadChannel(actor, { visibility: channel.visibility, role })) unreadable.add(id);
      else facts.set(id, { visibility: channel.visibility, role });
    }
    return { unreadable, facts };
  });
}

/**
 * For each watcher, the channel ids it may no longer read: channels that were deleted, whose visibility changed, or
 * whose role the user lost. One query (checkWatchedChannels).
 */
export async function findUnreadableChannels(db: Db, watchers: readonly WatcherToCheck[]): Promise<Set<string>[]> {
  return (await checkWatchedChannels(db, watchers)).map((access) => access.unreadable);
}

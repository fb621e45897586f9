/**
 * User and channel-role administration: the use cases behind the command-line tool and the administrators' pages
 * (finding people, the admin flag). E-mail addresses are stored trimmed and lower-cased, and looked up
 * case-insensitively, so "Ada@UiB.no" and "ada@uib.no" are one person.
 */
import type { Db } from '../db/prisma.js';
import { isUniqueViolation } from '../db/prisma-errors.js';
import { actsAsAdmin } from '../domain/access.js';
import { decodeUserCursor, encodeUserCursor } from '../domain/cursor.js';
import { AppError, notFound } from '../domain/errors.js';
import { type Actor, CHANNEL_ROLES, type ChannelRoleKind } from '../domain/types.js';
import type { AnnounceAccessChange } from '../realtime/access-hints.js';
import { recordAudit } from './audit.js';
import type { Caller } from './caller.js';

export interface UserSummary {
  id: string;
  email: string;
  displayName: string;
  isAdmin: boolean;
  organisationCode: string | null;
}

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MAX_EMAIL_LENGTH = 254;
const MAX_NAME_LENGTH = 200;

/** Trims and lower-cases an address; throws validation_failed when it does not look like one. */
export function normaliseEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  if (email.length > MAX_EMAIL_LENGTH || !EMAIL_PATTERN.test(email)) {
    throw new AppError('validation_failed', `"${raw}" is not an e-mail address`, { field: 'email' });
  }
  return email;
}

function normaliseName(raw: string): string {
  const name = raw.trim();
  if (!name) throw new AppError('validation_failed', 'The name must not be blank', { field: 'name' });
  if (name.length > MAX_NAME_LENGTH || /[\r\n]/.test(name)) {
    throw new AppError('validation_failed', `The name must be one line of at most ${MAX_NAME_LENGTH} characters`, {
      field: 'name',
    });
  }
  return name;
}

/** Resolves an organisation code (UiB, uio, NTNU…, case-insensitive) to its id; the error lists the known codes. */
export async function organisationIdByCode(db: Db, code: string): Promise<string> {
  const organisation = await db.organisation.findFirst({
    where: { code: { equals: code.trim(), mode: 'insensitive' } },
    select: { id: true },
  });
  if (organisation) return organisation.id;
  const known = await db.organisation.findMany({ select: { code: true }, orderBy: { code: 'asc' } });
  throw new AppError(
    'not_found',
    known.length > 0
      ? `No organisation with code "${code}" (known: ${known.map((o) => o.code).join(', ')})`
      : `No organisation with code "${code}": there are none yet (npm run seed loads UiB, UiO, UiT and NTNU)`,
  );
}

const SUMMARY_SELECT = {
  id: true,
  email: true,
  displayName: true,
  isAdmin: true,
  organisation: { select: { code: true } },
} as const;

function summary(row: {
  id: string;
  email: string | null;
  displayName: string;
  isAdmin: boolean;
  organisation: { code: string } | null;
}): UserSummary {
  return {
    id: row.id,
    email: row.email ?? '',
    displayName: row.displayName,
    isAdmin: row.isAdmin,
    organisationCode: row.organisation?.code ?? null,
  };
}

/** The user with this e-mail address, or a not_found error naming it. */
export async function findUserByEmail(db: Db, rawEmail: string): Promise<UserSummary> {
  const email = normaliseEmail(rawEmail);
  const row = await db.user.findFirst({
    where: { email: { equals: email, mode: 'insensitive' } },
    select: SUMMARY_SELECT,
  });
  if (!row) throw new AppError('not_found', `No user with e-mail ${email}`);
  return summary(row);
}

export interface NewUser {
  email: string;
  displayName: string;
  organisationCode?: string;
  isAdmin?: boolean;
}

/** Creates a user; a conflict error when the address is taken. */
export async function createUser(db: Db, input: NewUser): Promise<UserSummary> {
  const email = normaliseEmail(input.email);
  const displayName = normaliseName(input.displayName);
  const organisationId = input.organisationCode ? await organisationIdByCode(db, input.organisationCode) : null;
  const existing = await db.user.findFirst({ where: { email: { equals: email, mode: 'insensitive' } } });
  if (existing) throw new AppError('conflict', `A user with e-mail ${email} already exists`);
  try {
    const row = await db.user.create({
      data: { email, displayName, organisationId, isAdmin: input.isAdmin ?? false },
      select: SUMMARY_SELECT,
    });
    return summary(row);
  } catch (error) {
    // Created by someone else between our check and our insert.
    if (isUniqueViolation(error)) throw new AppError('conflict', `A user with e-mail ${email} already exists`);
    throw error;
  }
}

/**
 * Makes sure an administrator with this address exists: creates one, or promotes the existing user (their name is
 * kept; their organisation changes only when one is given).
 */
export async function ensureAdmin(
  db: Db,
  input: Omit<NewUser, 'isAdmin'>,
): Promise<{ user: UserSummary; outcome: 'created' | 'promoted' | 'already-admin' }> {
  const email = normaliseEmail(input.email);
  normaliseName(input.displayName);
  const organisationId = input.organisationCode ? await organisationIdByCode(db, input.organisationCode) : undefined;
  const existing = await db.user.findFirst({ where: { email: { equals: email, mode: 'insensitive' } } });
  if (!existing) {
    return { user: await createUser(db, { ...input, isAdmin: true }), outcome: 'created' };
  }
  const row = await db.user.update({
    where: { id: existing.id },
    data: { isAdmin: true, ...(organisationId !== undefined ? { organisationId } : {}) },
    select: SUMMARY_SELECT,
  });
  return { user: summary(row), outcome: existing.isAdmin ? 'already-admin' : 'promoted' };
}

/** Gives a user a role in a channel (replacing the role they had there). Returns the previous role, if any. */
export async function grantChannelRole(
  db: Db,
  input: { email: string; channelSlug: string; role: ChannelRoleKind },
): Promise<{ user: UserSummary; channelSlug: string; previousRole: ChannelRoleKind | null }> {
  if (!(CHANNEL_ROLES as readonly string[]).includes(input.role)) {
    throw new AppError('validation_failed', `The role must be one of ${CHANNEL_ROLES.join(', ')}`, { field: 'role' });
  }
  const user = await findUserByEmail(db, input.email);
  const channel = await db.channel.findUnique({ where: { slug: input.channelSlug }, select: { id: true, slug: true } });
  if (!channel) throw new AppError('not_found', `No channel with slug "${input.channelSlug}"`);
  return db.$transaction(async (tx) => {
    const key = { channelId_userId: { channelId: channel.id, userId: user.id } };
    const previous = await tx.channelRole.findUnique({ where: key, select: { role: true } });
    await tx.channelRole.upsert({
      where: key,
      create: { channelId: channel.id, userId: user.id, role: input.role },
      update: { role: input.role },
    });
    return { user, channelSlug: channel.slug, previousRole: previous?.role ?? null };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The administrators' view of people (the /admin/users pages).

/** One person as administrators see them: who, where from, and what they may do. */
export interface UserAdminView {
  id: string;
  displayName: string;
  email: string | null;
  /** Feide user id (eduPersonPrincipalName), when they signed in through Feide. */
  principalName: string | null;
  organisation: { code: string; name: string } | null;
  isAdmin: boolean;
  lastLoginAt: string | null;
  createdAt: string;
  /** Their roles in channels, by channel title. */
  roles: { slug: string; title: string; role: ChannelRoleKind }[];
}

export const MAX_USER_PAGE_SIZE = 100;
/** The longest search text: more than any name or address. */
export const MAX_USER_QUERY_LENGTH = 254;

function requireAdmin(actor: Actor): void {
  if (!actsAsAdmin(actor)) throw new AppError('forbidden', 'This needs an administrator (scope `admin`)');
}

const ADMIN_VIEW_SELECT = {
  id: true,
  displayName: true,
  email: true,
  principalName: true,
  isAdmin: true,
  lastLoginAt: true,
  createdAt: true,
  organisation: { select: { code: true, name: true } },
  channelRoles: { select: { role: true, channel: { select: { slug: true, title: true } } } },
} as const;

function adminView(row: {
  id: string;
  displayName: string;
  email: string | null;
  principalName: string | null;
  isAdmin: boolean;
  lastLoginAt: Date | null;
  createdAt: Date;
  organisation: { code: string; name: string } | null;
  channelRoles: { role: ChannelRoleKind; channel: { slug: string; title: string } }[];
}): UserAdminView {
  return {
    id: row.id,
    displayName: row.displayName,
    email: row.email,
    principalName: row.principalName,
    organisation: row.organisation,
    isAdmin: row.isAdmin,
    lastLoginAt: row.lastLoginAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    roles: row.channelRoles
      .map((r) => ({ slug: r.channel.slug, title: r.channel.title, role: r.role }))
      .sort((a, b) => a.title.localeCompare(b.title, 'nb')),
  };
}

/**
 * People whose name, e-mail address or Feide id contains `q` (any case; everyone without it), optionally only the
 * administrators, by name, one keyset page at a time. Administrators only.
 */
export async function searchUsers(
  deps: { db: Db },
  actor: Actor,
  query: { q?: string; adminsOnly?: boolean; limit: number; cursor?: string },
): Promise<{ items: UserAdminView[]; nextCursor: string | null }> {
  requireAdmin(actor);
  if (query.limit < 1 || query.limit > MAX_USER_PAGE_SIZE) {
    throw new AppError('validation_failed', `limit must be between 1 and ${MAX_USER_PAGE_SIZE}`, { field: 'limit' });
  }
  const q = query.q?.trim() ?? '';
  if (q.length > MAX_USER_QUERY_LENGTH) {
    throw new AppError('validation_failed', `q must be at most ${MAX_USER_QUERY_LENGTH} characters`, { field: 'q' });
  }
  const after = query.cursor === undefined ? undefined : decodeUserCursor(query.cursor);
  const contains = { contains: q, mode: 'insensitive' as const };
  const rows = await deps.db.user.findMany({
    where: {
      ...(query.adminsOnly ? { isAdmin: true } : {}),
      AND: [
        q ? { OR: [{ displayName: contains }, { email: contains }, { principalName: contains }] } : {},
        after ? { OR: [{ displayName: { gt: after.name } }, { displayName: after.name, id: { gt: after.id } }] } : {},
      ],
    },
    orderBy: [{ displayName: 'asc' }, { id: 'asc' }],
    take: query.limit + 1,
    select: ADMIN_VIEW_SELECT,
  });
  const items = rows.slice(0, query.limit);
  const last = items.at(-1);
  return {
    items: items.map(adminView),
    nextCursor: rows.length > query.limit && last ? encodeUserCursor({ name: last.displayName, id: last.id }) : null,
  };
}

/** One person for administrators, or not_found. */
export async function getUserForAdmin(deps: { db: Db }, actor: Actor, userId: string): Promise<UserAdminView> {
  requireAdmin(actor);
  const row = await deps.db.user.findUnique({ where: { id: userId }, select: ADMIN_VIEW_SELECT });
  if (!row) throw notFound('User');
  return adminView(row);
}

/** Display names of these users (those that still exist), for lists that name people by id (the audit log). */
export async function displayNamesOf(db: Db, userIds: readonly string[]): Promise<Map<string, string>> {
  const ids = [...new Set(userIds)];
  if (ids.length === 0) return new Map();
  const rows = await db.user.findMany({ where: { id: { in: ids } }, select: { id: true, displayName: true } });
  return new Map(rows.map((row) => [row.id, row.displayName]));
}

/**
 * Makes a user an administrator, or takes that away, with its audit record in the same transaction (the command
 * line's `create-admin` is the way to the first one). Setting what is already so changes nothing and records
 * nothing. Administrators cannot take their own rights away: another administrator must, so there is always one
 * left who can undo a mistake. Taking the flag away re-checks the person's live connections (they may lose channels
 * they read as an administrator).
 */
export async function setAdministrator(
  deps: { db: Db; announceAccessChange?: AnnounceAccessChange },
  caller: Caller,
  input: { userId: string; isAdmin: boolean },
): Promise<{ changed: boolean }> {
  requireAdmin(caller.actor);
  if (!input.isAdmin && caller.actor.kind === 'user' && caller.actor.userId === input.userId) {
    throw new AppError('conflict', 'You cannot take away your own administrator rights; ask another administrator');
  }
  const changed = await deps.db.$transaction(async (tx) => {
    const user = await tx.user.findUnique({ where: { id: input.userId }, select: { id: true } });
    if (!user) throw notFound('User');
    // Conditional, so two concurrent changes record one change, not two.
    const { count } = await tx.user.updateMany({
      where: { id: input.userId, isAdmin: !input.isAdmin },
      data: { isAdmin: input.isAdmin },
    });
    if (count === 0) return false;
    await recordAudit(tx, {
      actor: caller.actor,
      action: input.isAdmin ? 'user.admin.grant' : 'user.admin.revoke',
      outcome: 'success',
      targetType: 'user',
      targetId: input.userId,
      requestId: caller.requestId,
    });
    return true;
  });
  if (changed && !input.isAdmin) await deps.announceAccessChange?.({ userId: input.userId });
  return { changed };
}

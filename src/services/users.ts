/**
 * User and channel-role administration: the use cases behind the command-line tool (and, later, admin endpoints).
 * E-mail addresses are stored trimmed and lower-cased, and looked up case-insensitively, so "Ada@UiB.no" and
 * "ada@uib.no" are one person.
 */
import type { Db } from '../db/prisma.js';
import { isUniqueViolation } from '../db/prisma-errors.js';
import { AppError } from '../domain/errors.js';
import { CHANNEL_ROLES, type ChannelRoleKind } from '../domain/types.js';

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

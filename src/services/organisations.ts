/**
 * Member organisations: the table sign-in maps a user's realm (the part after @ in a Feide user id) to. Anyone may
 * list it; administrators add and change entries. Codes are compared case-insensitively ("UiB" and "uib" are one
 * organisation, as the command-line tool already treats them); realms are stored lower-case.
 */
import type { Db } from '../db/prisma.js';
import { isUniqueViolation } from '../db/prisma-errors.js';
import { canManageOrganisations } from '../domain/access.js';
import { AppError, notFound } from '../domain/errors.js';
import { recordAudit } from './audit.js';
import type { Caller } from './caller.js';

export interface OrganisationView {
  code: string;
  name: string;
  realm: string;
}

const CODE_PATTERN = /^[A-Za-z][A-Za-z0-9-]{0,31}$/;
/** A DNS name of at least two labels, lower-case: uib.no, student.uio.no. */
const REALM_PATTERN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
const MAX_NAME_LENGTH = 200;

export function normaliseOrganisationCode(raw: string): string {
  const code = raw.trim();
  if (!CODE_PATTERN.test(code)) {
    throw new AppError(
      'validation_failed',
      'code must be 1–32 letters, digits or hyphens, starting with a letter (for example UiB)',
      { field: 'code' },
    );
  }
  return code;
}

export function normaliseRealm(raw: string): string {
  const realm = raw.trim().toLowerCase();
  if (!REALM_PATTERN.test(realm)) {
    throw new AppError('validation_failed', 'realm must be a domain name such as uib.no', { field: 'realm' });
  }
  return realm;
}

function normaliseName(raw: string): string {
  const name = raw.trim();
  if (!name || name.length > MAX_NAME_LENGTH || /[\r\n]/.test(name)) {
    throw new AppError('validation_failed', `name must be one line of 1–${MAX_NAME_LENGTH} characters`, {
      field: 'name',
    });
  }
  return name;
}

function view(row: { code: string; name: string; realm: string }): OrganisationView {
  return { code: row.code, name: row.name, realm: row.realm };
}

function refuse(): AppError {
  return new AppError('forbidden', 'Only administrators may manage organisations');
}

/** A unique violation names the column that clashed; say which, so the admin knows what to change. */
function conflictFor(error: unknown, code: string, realm: string | undefined): AppError | null {
  if (!isUniqueViolation(error)) return null;
  const target = JSON.stringify((error as { meta?: unknown }).meta ?? '');
  return new AppError(
    'conflict',
    realm !== undefined && target.includes('realm')
      ? `Another organisation already has realm ${realm}`
      : `An organisation with code ${code} already exists`,
  );
}

/** Every organisation, by code. Not paginated: there are a handful. */
export async function listOrganisations(deps: { db: Db }): Promise<OrganisationView[]> {
  const rows = await deps.db.organisation.findMany({ orderBy: { code: 'asc' } });
  return rows.map(view);
}

export async function createOrganisation(
  deps: { db: Db },
  caller: Caller,
  input: { code: string; name: string; realm: string },
): Promise<OrganisationView> {
  if (!canManageOrganisations(caller.actor)) throw refuse();
  const code = normaliseOrganisationCode(input.code);
  const name = normaliseName(input.name);
  const realm = normaliseRealm(input.realm);
  // The unique index on code is case-sensitive; "uib" next to "UiB" would make look-ups by code ambiguous.
  // (A concurrent create of the other spelling could slip past this check: admins only, and rare.)
  const sameCode = await deps.db.organisation.findFirst({
    where: { code: { equals: code, mode: 'insensitive' } },
    select: { code: true },
  });
  if (sameCode) throw new AppError('conflict', `An organisation with code ${sameCode.code} already exists`);
  try {
    return await deps.db.$transaction(async (tx) => {
      const row = await tx.organisation.create({ data: { code, name, realm } });
      await recordAudit(tx, {
        actor: caller.actor,
        action: 'organisation.create',
        outcome: 'success',
        targetType: 'organisation',
        targetId: row.id,
        requestId: caller.requestId,
        details: { code, name, realm },
      });
      return view(row);
    });
  } catch (error) {
    throw conflictFor(error, code, realm) ?? error;
  }
}

/** Changes name and/or realm. The code is the organisation's permanent key (it appears in URLs). */
export async function updateOrganisation(
  deps: { db: Db },
  caller: Caller,
  code: string,
  changes: { name?: string; realm?: string },
): Promise<OrganisationView> {
  if (!canManageOrganisations(caller.actor)) throw refuse();
  const data: { name?: string; realm?: string } = {};
  if (changes.name !== undefined) data.name = normaliseName(changes.name);
  if (changes.realm !== undefined) data.realm = normaliseRealm(changes.realm);
  if (Object.keys(data).length === 0) throw new AppError('validation_failed', 'Send at least one of name, realm');
  try {
    return await deps.db.$transaction(async (tx) => {
      const existing = await tx.organisation.findFirst({
        where: { code: { equals: code.trim(), mode: 'insensitive' } },
      });
      if (!existing) throw notFound('Organisation');
      const row = await tx.organisation.update({ where: { id: existing.id }, data });
      await recordAudit(tx, {
        actor: caller.actor,
        action: 'organisation.update',
        outcome: 'success',
        targetType: 'organisation',
        targetId: row.id,
        requestId: caller.requestId,
        details: {
          code: row.code,
          ...(data.name !== undefined ? { name: { from: existing.name, to: row.name } } : {}),
          ...(data.realm !== undefined ? { realm: { from: existing.realm, to: row.realm } } : {}),
        },
      });
      return view(row);
    });
  } catch (error) {
    throw conflictFor(error, code, data.realm) ?? error;
  }
}

/**
 * Test data made directly in the database (no API round trips), for any test file. Every factory takes the Prisma
 * client first (ctx.deps.db) and makes unique values, so tests in one file never collide.
 */
import { randomBytes } from 'node:crypto';
import type { Db } from '../../src/db/prisma.js';
import type { ChannelRoleKind, ChannelVisibility, TokenScope } from '../../src/domain/types.js';
import { createApiToken } from '../../src/services/tokens.js';

function unique(): string {
  return randomBytes(4).toString('hex');
}

export interface TestUser {
  id: string;
  email: string;
  isAdmin: boolean;
  organisationId: string | null;
}

/** A user, optionally an admin and/or a member of an organisation (created on first use, by code, e.g. 'UiB'). */
export async function createUser(
  db: Db,
  options: { isAdmin?: boolean; organisationCode?: string; email?: string } = {},
): Promise<TestUser> {
  let organisationId: string | null = null;
  if (options.organisationCode) {
    const code = options.organisationCode;
    const organisation = await db.organisation.upsert({
      where: { code },
      update: {},
      create: { code, name: `Organisation ${code}`, realm: `${code.toLowerCase()}.no` },
    });
    organisationId = organisation.id;
  }
  const id = unique();
  const user = await db.user.create({
    data: {
      email: options.email ?? `user-${id}@example.org`,
      displayName: `Test user ${id}`,
      isAdmin: options.isAdmin ?? false,
      organisationId,
    },
  });
  return { id: user.id, email: user.email!, isAdmin: user.isAdmin, organisationId: user.organisationId };
}

export interface TestChannel {
  id: string;
  slug: string;
  visibility: ChannelVisibility;
}

export async function createChannel(
  db: Db,
  options: { slug?: string; visibility?: ChannelVisibility; title?: string } = {},
): Promise<TestChannel> {
  const slug = options.slug ?? `channel-${unique()}`;
  const channel = await db.channel.create({
    data: { slug, title: options.title ?? `Channel ${slug}`, visibility: options.visibility ?? 'public' },
  });
  return { id: channel.id, slug: channel.slug, visibility: channel.visibility };
}

export async function grantRole(db: Db, channelId: string, userId: string, role: ChannelRoleKind): Promise<void> {
  await db.channelRole.upsert({
    where: { channelId_userId: { channelId, userId } },
    update: { role },
    create: { channelId, userId, role },
  });
}

/** A fresh API token for the user (every scope the user may hold, unless narrowed). Returns the secret. */
export async function tokenFor(
  db: Db,
  userId: string,
  options: { scopes?: TokenScope[]; expiresAt?: Date } = {},
): Promise<string> {
  const created = await createApiToken(db, {
    userId,
    name: `test token ${unique()}`,
    ...(options.scopes ? { scopes: options.scopes } : {}),
    ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}),
  });
  return created.token;
}

/**
 * Test data for the delivery pipeline: subscriptions and announcements made directly in the database, a silent
 * logger, and a way to read a file's deliveries. Builds on tests/helpers/factories.ts.
 */
import { randomBytes } from 'node:crypto';
import type { Db } from '../../src/db/prisma.js';
import type { EmailMode, Importance, Language } from '../../src/domain/types.js';
import { createLogger, type Logger } from '../../src/logger.js';

export const silentLogger: Logger = createLogger('silent', 'test');

export function uniqueAddress(label = 'subscriber'): string {
  return `${label}-${randomBytes(4).toString('hex')}@example.org`;
}

export async function createSubscription(
  db: Db,
  options: {
    channelId: string;
    userId?: string;
    email?: string;
    emailMode?: EmailMode;
    language?: Language;
    confirmed?: boolean;
    createdAt?: Date;
  },
): Promise<{ id: bigint; email: string | null; userId: string | null }> {
  const row = await db.subscription.create({
    data: {
      channelId: options.channelId,
      userId: options.userId ?? null,
      email: options.userId ? null : (options.email ?? uniqueAddress()),
      emailMode: options.emailMode ?? 'immediate',
      language: options.language ?? 'nb',
      confirmedAt: options.confirmed === false ? null : new Date(Date.now() - 60_000),
      createdAt: options.createdAt ?? new Date(Date.now() - 60_000),
    },
  });
  return { id: row.id, email: row.email, userId: row.userId };
}

export async function createAnnouncement(
  db: Db,
  options: {
    channelId: string;
    title?: string;
    body?: string;
    importance?: Importance;
    status?: 'draft' | 'published' | 'retracted';
    publishedAt?: Date;
  },
): Promise<{ id: string }> {
  const status = options.status ?? 'published';
  const row = await db.announcement.create({
    data: {
      channelId: options.channelId,
      title: options.title ?? 'Planlagt vedlikehold',
      body: options.body ?? 'Tjenesten er utilgjengelig i kveld.\n\nVi beklager ulempen.',
      importance: options.importance ?? 'info',
      status,
      publishedAt: status === 'published' ? (options.publishedAt ?? new Date()) : null,
    },
  });
  return { id: row.id };
}

export async function deliveriesOf(db: Db, announcementId: string) {
  return db.delivery.findMany({ where: { announcementId }, orderBy: { id: 'asc' } });
}

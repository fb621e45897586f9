/** User look-ups on the driver, for hot paths (Prisma types stop here). */
import type { Language } from '../domain/types.js';
import { Prisma } from '../generated/prisma/client.js';
import { type Db, queryRows } from './prisma.js';

/**
 * A user's language setting (null: no such user), what a live connection of theirs is sent announcements in. On the
 * driver, once per connection opened: through Prisma's query engine it cost several times the CPU.
 */
export async function findUserLanguage(db: Pick<Db, '$queryRaw'>, userId: string): Promise<Language | null> {
  const [user] = await queryRows<{ language: Language }>(
    db,
    Prisma.sql`SELECT language::text AS language FROM "User" WHERE id = ${userId}::uuid`,
  );
  return user?.language ?? null;
}

/**
 * channelReadScope (src/domain/access.ts) as an SQL condition, for hand-written queries that must show exactly the
 * channels GET /channels lists. The rule stays in access.ts; this only translates its answer.
 */
import type { ChannelReadScope } from '../domain/access.js';
import { Prisma } from '../generated/prisma/client.js';

/**
 * A boolean SQL expression over the channel row named `channelAlias` (a fixed identifier from our own code, never
 * input) that is true exactly when `isInReadScope(scope, channel)` is.
 */
export function channelReadScopeSql(scope: ChannelReadScope, channelAlias: string): Prisma.Sql {
  if (!/^[a-z_]+$/.test(channelAlias)) throw new Error(`Not a plain SQL alias: ${channelAlias}`);
  if (scope.all) return Prisma.sql`TRUE`;
  const alias = Prisma.raw(channelAlias);
  const byVisibility = Prisma.sql`${alias}.visibility::text = ANY(${scope.visibilities}::text[])`;
  if (scope.memberUserId === null) return Prisma.sql`(${byVisibility})`;
  return Prisma.sql`(${byVisibility} OR EXISTS (
    SELECT 1 FROM "ChannelRole" role WHERE role."channelId" = ${alias}.id AND role."userId" = ${scope.memberUserId}::uuid
  ))`;
}

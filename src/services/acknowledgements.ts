/**
 * Acknowledgements: a publisher may ask readers to confirm "I have read this", optionally by a deadline. A reader
 * confirms with one POST (never a GET: mail scanners and link previews follow links); the channel's editors see how
 * many have, per organisation and per day; the delivery workers remind those who have not, near the deadline
 * (workers/processors/ack-reminders.ts).
 *
 * "Expected" — who the publisher can count on to acknowledge — is the union of:
 * 1. every person with an account who was sent the announcement, or is about to be (a `user:` recipient of a delivery
 *    of kind `announcement` that is pending, sending or sent; skipped and failed ones never reached anyone);
 * 2. every person with an account who subscribes to the channel now (confirmed, e-mail mode whatever it is: the
 *    personal feed shows it too) and may see it (reads the channel, in its audience);
 * 3. everyone who has acknowledged (someone who found it in the channel without subscribing counts once they have).
 * Bare e-mail addresses cannot acknowledge (no account) and are not expected.
 */
import type { Db } from '../db/prisma.js';
import { userInAudienceSql, userReadsChannelSql } from '../db/recipient-scope-sql.js';
import { AppError } from '../domain/errors.js';
import type { Actor } from '../domain/types.js';
import type { AnnounceReaderChange } from '../realtime/reader-changes.js';
import { loadAnnouncementToManage, loadAnnouncementToRead } from './announcement-access.js';

export interface AcknowledgementView {
  announcement: string;
  acknowledged: true;
  /** When the caller first acknowledged; a repeated POST answers with the same time. */
  acknowledgedAt: string;
}

export interface AcknowledgementStatsView {
  announcement: string;
  required: boolean;
  deadline: string | null;
  /** Acknowledgements so far. */
  total: number;
  /** People expected to acknowledge (see the module comment). */
  expected: number;
  /** By the organisation the reader belonged to when acknowledging; null: none. Ordered by code, null last. */
  byOrganisation: { organisation: string | null; acknowledged: number }[];
  /** By day in Europe/Oslo, oldest first, days without acknowledgements left out; `cumulative` is the running total. */
  overTime: { date: string; acknowledged: number; cumulative: number }[];
}

/**
 * Acknowledges an announcement for the signed-in caller. Idempotent: the first acknowledgement is kept (its time and
 * the organisation the caller belonged to then), and `created` says whether this call made it.
 * @throws AppError unauthenticated without a user; forbidden for a token without scope `read`; not_found for an
 *   announcement the caller may not read (as for one that does not exist); conflict when it is not published or does
 *   not ask for acknowledgement.
 */
export async function acknowledgeAnnouncement(
  deps: { db: Db; announceReaderChange?: AnnounceReaderChange },
  actor: Actor,
  announcementId: string,
): Promise<{ view: AcknowledgementView; created: boolean }> {
  if (actor.kind !== 'user') throw new AppError('unauthenticated', 'Acknowledging needs a signed-in user');
  // A token without `read` is automation, not a reader confirming they have read something.
  if (!actor.scopes.includes('read')) throw new AppError('forbidden', 'Acknowledging needs a token with scope `read`');
  const { record } = await loadAnnouncementToRead(deps.db, actor, announcementId);
  if (record.status !== 'published') {
    throw new AppError('conflict', 'Only a published announcement can be acknowledged', { reason: 'not_published' });
  }
  if (!record.ackRequired) {
    throw new AppError('conflict', 'This announcement does not ask for acknowledgement', {
      reason: 'acknowledgement_not_required',
    });
  }
  const rows = await deps.db.$queryRaw<{ acknowledgedAt: Date; created: boolean }[]>`
    WITH inserted AS (
      INSERT INTO "AnnouncementAcknowledgement" ("announcementId", "userId", "organisationId")
      VALUES (${record.id}::uuid, ${actor.userId}::uuid, ${actor.organisationId}::uuid)
      ON CONFLICT ("announcementId", "userId") DO NOTHING
      RETURNING "acknowledgedAt"
    )
    SELECT "acknowledgedAt", true AS created FROM inserted
    UNION ALL
    SELECT "acknowledgedAt", false AS created FROM "AnnouncementAcknowledgement"
     WHERE "announcementId" = ${record.id}::uuid AND "userId" = ${actor.userId}::uuid`;
  // The INSERT's row is invisible to the second SELECT (same snapshot), so at most one row answers. None: a
  // concurrent request of the same reader inserted it after this statement's snapshot was taken (the INSERT waited
  // for it and did nothing) — a new statement sees it.
  let row: { acknowledgedAt: Date; created: boolean } | undefined = rows[0];
  if (!row) {
    const found = await deps.db.announcementAcknowledgement.findUniqueOrThrow({
      where: { announcementId_userId: { announcementId: record.id, userId: actor.userId } },
      select: { acknowledgedAt: true },
    });
    row = { acknowledgedAt: found.acknowledgedAt, created: false };
  }
  const acknowledgedAt = row.acknowledgedAt.toISOString();
  // The reader's other tabs and devices stop asking for it (best effort, after the insert is committed).
  if (row.created) {
    await deps.announceReaderChange?.({
      userId: actor.userId,
      frame: { type: 'acknowledged', announcementId: record.id, channel: record.channelSlug, acknowledgedAt },
    });
  }
  return {
    view: { announcement: record.id, acknowledged: true, acknowledgedAt },
    created: row.created,
  };
}

/**
 * When `userId` acknowledged each of `ids` (absent: not acknowledged). For the `acknowledged` flag of announcement
 * reads; one query for a whole page.
 */
export async function acknowledgementStateFor(
  db: Pick<Db, 'announcementAcknowledgement'>,
  userId: string,
  ids: readonly string[],
): Promise<Map<string, Date>> {
  if (ids.length === 0) return new Map();
  const rows = await db.announcementAcknowledgement.findMany({
    where: { userId, announcementId: { in: [...new Set(ids)] } },
    select: { announcementId: true, acknowledgedAt: true },
  });
  return new Map(rows.map((row) => [row.announcementId, row.acknowledgedAt]));
}

/**
 * Adds `acknowledged` for the caller to announcement views that ask for acknowledgement, when the caller is signed
 * in; leaves the others unchanged.
 */
export async function withAcknowledgementState<T extends { id: string; acknowledgement: { required: boolean } }>(
  db: Pick<Db, 'announcementAcknowledgement'>,
  actor: Actor,
  views: T[],
): Promise<(T & { acknowledged?: boolean })[]> {
  if (actor.kind !== 'user') return views;
  const asking = views.filter((view) => view.acknowledgement.required).map((view) => view.id);
  const state = await acknowledgementStateFor(db, actor.userId, asking);
  return views.map((view) => (view.acknowledgement.required ? { ...view, acknowledged: state.has(view.id) } : view));
}

/**
 * The acknowledgement figures of an announcement, for its channel's editors (owners, publishers, administrators).
 * Computed in SQL: counts, never names.
 * @throws AppError not_found for an announcement the caller may not read; forbidden when the caller may read but not
 *   publish in its channel.
 */
export async function acknowledgementStats(
  deps: { db: Db },
  actor: Actor,
  announcementId: string,
): Promise<AcknowledgementStatsView> {
  const record = await loadAnnouncementToManage(deps.db, actor, announcementId, 'see the acknowledgements of');
  const id = record.id;
  const [counts] = await deps.db.$queryRaw<{ total: number; expected: number }[]>`
    WITH expected AS (
      SELECT substr(d.recipient, 6)::uuid AS "userId"
        FROM "Delivery" d
       WHERE d."announcementId" = ${id}::uuid AND d.kind = 'announcement' AND d.recipient LIKE 'user:%'
         AND d.status IN ('pending', 'sending', 'sent')
      UNION
      SELECT u.id
        FROM "Announcement" a
        JOIN "Channel" c ON c.id = a."channelId"
        JOIN "Subscription" s ON s."channelId" = c.id AND s."confirmedAt" IS NOT NULL
        JOIN "User" u ON u.id = s."userId"
       WHERE a.id = ${id}::uuid AND ${userReadsChannelSql('u', 'c')} AND ${userInAudienceSql('u', 'a', 'c')}
      UNION
      SELECT ack."userId" FROM "AnnouncementAcknowledgement" ack WHERE ack."announcementId" = ${id}::uuid
    )
    SELECT (SELECT count(*) FROM "AnnouncementAcknowledgement" WHERE "announcementId" = ${id}::uuid)::int AS total,
           -- A recipient key can name an account erased since: count only people who exist.
           (SELECT count(*) FROM expected e JOIN "User" u ON u.id = e."userId")::int AS expected`;
  const byOrganisation = await deps.db.$queryRaw<{ organisation: string | null; acknowledged: number }[]>`
    SELECT o.code AS organisation, count(*)::int AS acknowledged
      FROM "AnnouncementAcknowledgement" ack
      LEFT JOIN "Organisation" o ON o.id = ack."organisationId"
     WHERE ack."announcementId" = ${id}::uuid
     GROUP BY o.code
     ORDER BY o.code NULLS LAST`;
  const overTime = await deps.db.$queryRaw<{ date: string; acknowledged: number; cumulative: number }[]>`
    SELECT to_char(day, 'YYYY-MM-DD') AS date, acknowledged,
           (sum(acknowledged) OVER (ORDER BY day))::int AS cumulative
      FROM (SELECT (ack."acknowledgedAt" AT TIME ZONE 'Europe/Oslo')::date AS day, count(*)::int AS acknowledged
              FROM "AnnouncementAcknowledgement" ack
             WHERE ack."announcementId" = ${id}::uuid
             GROUP BY 1) per_day
     ORDER BY day`;
  return {
    announcement: id,
    required: record.ackRequired,
    deadline: record.ackDeadline?.toISOString() ?? null,
    total: counts?.total ?? 0,
    expected: counts?.expected ?? 0,
    byOrganisation,
    overTime,
  };
}

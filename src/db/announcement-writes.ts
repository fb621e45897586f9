/**
 * Writing a new announcement and everything that must exist exactly when it does — its translations, its first
 * revision, its outbox event, its audit record, optionally the publisher's idempotency key, and the NOTIFY that wakes
 * the outbox relay — in ONE statement. A single statement is a transaction of its own in PostgreSQL (data-modifying
 * CTEs all run or none does, and the foreign keys are checked at its end), so the at-least-once outbox holds as it did
 * with an interactive transaction: nothing is published without its event. The interactive transaction was nine
 * round trips through Prisma (BEGIN, six writes, re-reading the record, the NOTIFY, COMMIT), which were most of a
 * publication's CPU time and latency (bench/publish.ts); this is one.
 *
 * Run on the client's pool (queryRows), or inside a transaction the caller opened (a follow-up that locks its
 * incident first): the statement is the same. Prisma types stop here.
 */
import type { AnnouncementStatus, AnnouncementType, LanguageVersion } from '../domain/announcement.js';
import type { Importance, Language } from '../domain/types.js';
import { Prisma } from '../generated/prisma/client.js';
import { type Db, queryRows } from './prisma.js';

/** An AuditLog row as the publishing statement writes it (built by src/services/audit.ts's auditRow). */
export interface AuditRow {
  actorKind: string;
  actorUserId: string | null;
  action: string;
  outcome: string;
  targetType: string | null;
  targetId: string | null;
  requestId: string | null;
  details: Prisma.InputJsonObject | null;
}

export interface NewAnnouncement {
  /** Chosen by the caller (a v4 UUID), so that what depends on it is known before the statement runs. */
  id: string;
  channelId: string;
  authorId: string | null;
  /** The original first; the others become AnnouncementTranslation rows. */
  versions: readonly LanguageVersion[];
  importance: Importance;
  type: AnnouncementType;
  affectedSystem: string | null;
  startsAt: Date | null;
  endsAt: Date | null;
  resolvesId: string | null;
  audienceOrganisationIds: readonly string[];
  expiresAt: Date | null;
  ackRequired: boolean;
  ackDeadline: Date | null;
  status: AnnouncementStatus;
  publishedAt: Date | null;
  publishAt: Date | null;
  /** createdAt and updatedAt. */
  now: Date;
}

export interface NewAnnouncementWrite {
  announcement: NewAnnouncement;
  /** AnnouncementRevision 1. */
  revision: { editorId: string | null; content: Prisma.InputJsonObject };
  /** The outbox event (none for a draft). */
  outboxEvent: { type: string; payload: Prisma.InputJsonObject } | null;
  audit: AuditRow;
  /** Stored with the publication (src/services/idempotency.ts); its primary key decides between concurrent retries. */
  idempotencyKey: {
    userId: string;
    key: string;
    fingerprint: string;
    responseStatus: number;
    responseBody: Prisma.InputJsonObject;
  } | null;
  /** pg_notify's channel, at commit; null: nobody to wake. */
  notify: string | null;
}

const json = (value: Prisma.InputJsonObject) => Prisma.sql`${JSON.stringify(value)}::jsonb`;

/**
 * Writes the announcement and its companions in one statement.
 * @throws the driver's error when a constraint or trigger refuses any of the rows; then none of them is written.
 */
export async function insertAnnouncement(db: Pick<Db, '$queryRaw'>, write: NewAnnouncementWrite): Promise<void> {
  const a = write.announcement;
  const [original, ...translations] = a.versions;
  if (!original) throw new Error('An announcement has at least its original version');
  const parts: Prisma.Sql[] = [
    Prisma.sql`announcement AS (
      INSERT INTO "Announcement" (id, "channelId", "authorId", language, title, summary, body, importance, type,
                                  "affectedSystem", "startsAt", "endsAt", "resolvesId", "audienceOrganisationIds",
                                  "expiresAt", "ackRequired", "ackDeadline", status, "publishedAt", "publishAt",
                                  "createdAt", "updatedAt")
      VALUES (${a.id}::uuid, ${a.channelId}::uuid, ${a.authorId}::uuid, ${original.language}::"Language",
              ${original.title}, ${original.summary}, ${original.body}, ${a.importance}::"Importance",
              ${a.type}::"AnnouncementType", ${a.affectedSystem}, ${a.startsAt}, ${a.endsAt}, ${a.resolvesId}::uuid,
              ${[...a.audienceOrganisationIds]}::uuid[], ${a.expiresAt}, ${a.ackRequired}, ${a.ackDeadline},
              ${a.status}::"AnnouncementStatus", ${a.publishedAt}, ${a.publishAt}, ${a.now}, ${a.now})
      RETURNING id)`,
    Prisma.sql`revision AS (
      INSERT INTO "AnnouncementRevision" ("announcementId", revision, "editorId", material, content, "createdAt")
      VALUES (${a.id}::uuid, 1, ${write.revision.editorId}::uuid, true, ${json(write.revision.content)}, ${a.now}))`,
    Prisma.sql`audit AS (
      INSERT INTO "AuditLog" (at, "actorUserId", "actorKind", action, "targetType", "targetId", outcome, "requestId",
                              details)
      VALUES (${a.now}, ${write.audit.actorUserId}::uuid, ${write.audit.actorKind}, ${write.audit.action},
              ${write.audit.targetType}, ${write.audit.targetId}, ${write.audit.outcome}, ${write.audit.requestId},
              ${write.audit.details === null ? null : JSON.stringify(write.audit.details)}::jsonb))`,
  ];
  if (translations.length > 0) {
    const rows = translations.map((t: LanguageVersion) => ({
      language: t.language satisfies Language,
      title: t.title,
      summary: t.summary,
      body: t.body,
    }));
    parts.push(Prisma.sql`translations AS (
      INSERT INTO "AnnouncementTranslation" ("announcementId", language, title, summary, body)
      SELECT ${a.id}::uuid, t.language::"Language", t.title, t.summary, t.body
        FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS t(language text, title text, summary text, body text))`);
  }
  if (write.outboxEvent) {
    parts.push(Prisma.sql`outbox AS (
      INSERT INTO "OutboxEvent" (type, "channelId", "aggregateId", payload, "createdAt", attempts)
      VALUES (${write.outboxEvent.type}, ${a.channelId}::uuid, ${a.id}::uuid, ${json(write.outboxEvent.payload)},
              ${a.now}, 0))`);
  }
  if (write.idempotencyKey) {
    const k = write.idempotencyKey;
    parts.push(Prisma.sql`idempotency AS (
      INSERT INTO "IdempotencyKey" ("userId", key, fingerprint, "responseStatus", "responseBody", "createdAt")
      VALUES (${k.userId}::uuid, ${k.key}, ${k.fingerprint}, ${k.responseStatus}, ${json(k.responseBody)}, ${a.now}))`);
  }
  // A SELECT in a WITH runs only when the outer query reads it; the join below does (pg_notify is volatile, so the
  // planner neither inlines nor drops it). Its void result is not selected: Prisma's raw path cannot decode void.
  const notified = write.notify !== null;
  if (notified) parts.push(Prisma.sql`notified AS (SELECT pg_notify(${write.notify}, '') AS done)`);
  await queryRows<{ id: string }>(
    db,
    Prisma.sql`WITH ${Prisma.join(parts, ',\n')}
               SELECT announcement.id::text AS id FROM announcement ${notified ? Prisma.sql`, notified` : Prisma.empty}`,
  );
}

/**
 * A person's own data: everything the service holds about their account, as one JSON document (export), and
 * erasure of the account.
 *
 * Export holds the profile, organisation, subscriptions, browsers registered for web push (never their keys),
 * channel roles, API tokens (metadata: never hashes),
 * sign-in sessions (times only: never ids), announcements they wrote (id and title), deliveries and digests made to
 * them, their
 * read state, ratings and acknowledgements of announcements, and the audit records they caused or that name their
 * account.
 *
 * Erasure removes the account and what hangs on it: subscriptions, push subscriptions (its browsers),
 * channel roles, API tokens, sessions, read state, ratings and acknowledgements (an announcement's acknowledgement
 * figures drop by theirs). View counts stay: a viewer row holds an HMAC of the
 * user id, not the id (src/services/reading.ts), and the id leads to no one once the account is gone. Announcements they wrote stay, with no author (shown as a former user);
 * deliveries and digests made to them lose the error text an SMTP server may have written with their address in it
 * (they stay, keyed by the account id, for the delivery figures). An address on the suppression list stays there:
 * it records that the address cannot take mail, which protects the sender's reputation whoever owned it. The audit
 * log keeps its records (it is append-only, and the erasure itself is one of them); they name the account only by
 * its id, which no longer leads to a person.
 *
 * Bare e-mail subscriptions (an address with no account) are deliberately neither exported nor erased by matching
 * the account's address: sign-in e-mail claims are unverified (Feide's `email_verified` is always false), so matching
 * on them could hand someone else's subscriptions to this account. Those are managed through their own signed links.
 */
import type { Db } from '../db/prisma.js';
import { canEraseOwnAccount, canExportOwnData } from '../domain/access.js';
import { AppError } from '../domain/errors.js';
import { recipientKey } from '../domain/recipient.js';
import { recordAudit } from './audit.js';
import type { Caller } from './caller.js';
import { API_TOKEN_METADATA } from './tokens.js';

/** What the person types to confirm erasure (the route's body carries it), so it never happens by accident. */
export const ERASE_CONFIRMATION = 'DELETE';

export interface PersonalDataExport {
  exportedAt: string;
  profile: {
    id: string;
    displayName: string;
    email: string | null;
    principalName: string | null;
    oidcIssuer: string | null;
    oidcSubject: string | null;
    language: string;
    isAdmin: boolean;
    createdAt: string;
    updatedAt: string;
    lastLoginAt: string | null;
  };
  organisation: { code: string; name: string; realm: string } | null;
  subscriptions: {
    channel: string;
    emailMode: string;
    language: string;
    confirmedAt: string | null;
    push: boolean;
    createdAt: string;
    updatedAt: string;
  }[];
  /** Browsers registered for web push: where they are reached, never the keys messages are encrypted for. */
  pushSubscriptions: {
    id: string;
    endpoint: string;
    userAgent: string | null;
    expiresAt: string | null;
    createdAt: string;
    lastSeenAt: string;
    lastSuccessAt: string | null;
  }[];
  channelRoles: { channel: string; role: string; createdAt: string }[];
  apiTokens: {
    id: string;
    name: string;
    prefix: string;
    scopes: string[];
    createdAt: string;
    lastUsedAt: string | null;
    expiresAt: string | null;
    revokedAt: string | null;
  }[];
  sessions: { createdAt: string; lastSeenAt: string; expiresAt: string }[];
  announcements: { id: string; channel: string; title: string; status: string; publishedAt: string | null }[];
  deliveries: {
    announcementId: string;
    medium: string;
    kind: string;
    status: string;
    createdAt: string;
    sentAt: string | null;
  }[];
  /** Digest e-mails made for you: the period each covers and what it held. */
  digests: {
    mode: string;
    periodStart: string;
    periodEnd: string;
    announcementIds: string[];
    status: string;
    sentAt: string | null;
  }[];
  reads: { announcementId: string; readAt: string }[];
  ratings: { announcementId: string; stars: number; createdAt: string; updatedAt: string }[];
  /** "I have read this" confirmations, with the organisation kept with each (its code). */
  acknowledgements: { announcementId: string; acknowledgedAt: string; organisation: string | null }[];
  auditRecords: {
    id: string;
    at: string;
    action: string;
    actorKind: string;
    actorUserId: string | null;
    targetType: string | null;
    targetId: string | null;
    outcome: string;
    requestId: string | null;
    details: unknown;
  }[];
}

const iso = (date: Date | null): string | null => date?.toISOString() ?? null;

function signedInUser(caller: Caller) {
  if (caller.actor.kind !== 'user') throw new AppError('unauthenticated', 'This needs a signed-in user');
  return caller.actor;
}

/** Everything the service holds about the caller's own account. Writes a `user.export` audit record first. */
export async function exportPersonalData(deps: { db: Db }, caller: Caller): Promise<PersonalDataExport> {
  const actor = signedInUser(caller);
  if (!canExportOwnData(actor, caller.credential)) {
    throw new AppError('forbidden', 'Exporting your data needs a signed-in session or a token with scope `read`');
  }
  const userId = actor.userId;
  const user = await deps.db.user.findUnique({ where: { id: userId }, include: { organisation: true } });
  if (!user) throw new AppError('unauthenticated', 'The account behind this credential no longer exists');

  // Written before reading, so the export lists its own record too: the person sees every access to their data.
  await recordAudit(deps.db, {
    actor,
    action: 'user.export',
    outcome: 'success',
    targetType: 'user',
    targetId: userId,
    ...(caller.requestId ? { requestId: caller.requestId } : {}),
    details: { credential: caller.credential },
  });

  const [
    subscriptions,
    roles,
    tokens,
    sessions,
    announcements,
    deliveries,
    digests,
    reads,
    ratings,
    acknowledgements,
    audit,
  ] = await Promise.all([
    deps.db.subscription.findMany({
      where: { userId },
      include: { channel: { select: { slug: true } } },
      orderBy: { id: 'asc' },
    }),
    deps.db.channelRole.findMany({
      where: { userId },
      include: { channel: { select: { slug: true } } },
      orderBy: { createdAt: 'asc' },
    }),
    deps.db.apiToken.findMany({
      where: { userId },
      select: API_TOKEN_METADATA,
      orderBy: { createdAt: 'asc' },
    }),
    deps.db.session.findMany({
      where: { userId },
      // Never the id (the hash of the cookie) nor the CSRF secret or id token.
      select: { createdAt: true, lastSeenAt: true, expiresAt: true },
      orderBy: { createdAt: 'asc' },
    }),
    deps.db.announcement.findMany({
      where: { authorId: userId },
      select: { id: true, title: true, status: true, publishedAt: true, channel: { select: { slug: true } } },
      orderBy: { createdAt: 'asc' },
    }),
    deps.db.delivery.findMany({
      where: { recipient: recipientKey({ userId, email: null }) },
      select: { announcementId: true, medium: true, kind: true, status: true, createdAt: true, sentAt: true },
      orderBy: { id: 'asc' },
    }),
    deps.db.digest.findMany({
      where: { recipient: recipientKey({ userId, email: null }) },
      select: {
        mode: true,
        periodStart: true,
        periodEnd: true,
        announcementIds: true,
        status: true,
        sentAt: true,
      },
      orderBy: { id: 'asc' },
    }),
    deps.db.announcementRead.findMany({
      where: { userId },
      select: { announcementId: true, readAt: true },
      orderBy: [{ readAt: 'asc' }, { announcementId: 'asc' }],
    }),
    deps.db.announcementRating.findMany({
      where: { userId },
      select: { announcementId: true, stars: true, createdAt: true, updatedAt: true },
      orderBy: [{ createdAt: 'asc' }, { announcementId: 'asc' }],
    }),
    deps.db.announcementAcknowledgement.findMany({
      where: { userId },
      select: { announcementId: true, acknowledgedAt: true, organisation: { select: { code: true } } },
      orderBy: [{ acknowledgedAt: 'asc' }, { announcementId: 'asc' }],
    }),
    deps.db.auditLog.findMany({
      where: { OR: [{ actorUserId: userId }, { targetType: 'user', targetId: userId }] },
      orderBy: [{ at: 'asc' }, { id: 'asc' }],
    }),
  ]);
  const pushSubscriptions = await deps.db.pushSubscription.findMany({
    where: { userId },
    select: {
      id: true,
      endpoint: true,
      userAgent: true,
      expiresAt: true,
      createdAt: true,
      lastSeenAt: true,
      lastSuccessAt: true,
    },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
  });

  return {
    exportedAt: new Date().toISOString(),
    profile: {
      id: user.id,
      displayName: user.displayName,
      email: user.email,
      principalName: user.principalName,
      oidcIssuer: user.oidcIssuer,
      oidcSubject: user.oidcSubject,
      language: user.language,
      isAdmin: user.isAdmin,
      createdAt: user.createdAt.toISOString(),
      updatedAt: user.updatedAt.toISOString(),
      lastLoginAt: iso(user.lastLoginAt),
    },
    organisation: user.organisation
      ? { code: user.organisation.code, name: user.organisation.name, realm: user.organisation.realm }
      : null,
    subscriptions: subscriptions.map((s) => ({
      channel: s.channel.slug,
      emailMode: s.emailMode,
      language: s.language,
      confirmedAt: iso(s.confirmedAt),
      push: s.push,
      createdAt: s.createdAt.toISOString(),
      updatedAt: s.updatedAt.toISOString(),
    })),
    pushSubscriptions: pushSubscriptions.map((p) => ({
      id: p.id,
      endpoint: p.endpoint,
      userAgent: p.userAgent,
      expiresAt: iso(p.expiresAt),
      createdAt: p.createdAt.toISOString(),
      lastSeenAt: p.lastSeenAt.toISOString(),
      lastSuccessAt: iso(p.lastSuccessAt),
    })),
    channelRoles: roles.map((r) => ({ channel: r.channel.slug, role: r.role, createdAt: r.createdAt.toISOString() })),
    apiTokens: tokens.map((t) => ({
      id: t.id,
      name: t.name,
      prefix: t.prefix,
      scopes: t.scopes,
      createdAt: t.createdAt.toISOString(),
      lastUsedAt: iso(t.lastUsedAt),
      expiresAt: iso(t.expiresAt),
      revokedAt: iso(t.revokedAt),
    })),
    sessions: sessions.map((s) => ({
      createdAt: s.createdAt.toISOString(),
      lastSeenAt: s.lastSeenAt.toISOString(),
      expiresAt: s.expiresAt.toISOString(),
    })),
    announcements: announcements.map((a) => ({
      id: a.id,
      channel: a.channel.slug,
      title: a.title,
      status: a.status,
      publishedAt: iso(a.publishedAt),
    })),
    deliveries: deliveries.map((d) => ({
      announcementId: d.announcementId,
      medium: d.medium,
      kind: d.kind,
      status: d.status,
      createdAt: d.createdAt.toISOString(),
      sentAt: iso(d.sentAt),
    })),
    digests: digests.map((d) => ({
      mode: d.mode,
      periodStart: d.periodStart.toISOString(),
      periodEnd: d.periodEnd.toISOString(),
      announcementIds: d.announcementIds,
      status: d.status,
      sentAt: iso(d.sentAt),
    })),
    reads: reads.map((r) => ({ announcementId: r.announcementId, readAt: r.readAt.toISOString() })),
    ratings: ratings.map((r) => ({
      announcementId: r.announcementId,
      stars: r.stars,
      createdAt: r.createdAt.toISOString(),
      updatedAt: r.updatedAt.toISOString(),
    })),
    acknowledgements: acknowledgements.map((a) => ({
      announcementId: a.announcementId,
      acknowledgedAt: a.acknowledgedAt.toISOString(),
      organisation: a.organisation?.code ?? null,
    })),
    auditRecords: audit.map((r) => ({
      id: r.id.toString(),
      at: r.at.toISOString(),
      action: r.action,
      actorKind: r.actorKind,
      actorUserId: r.actorUserId,
      targetType: r.targetType,
      targetId: r.targetId,
      outcome: r.outcome,
      requestId: r.requestId,
      details: r.details ?? null,
    })),
  };
}

export interface ErasureSummary {
  subscriptions: number;
  pushSubscriptions: number;
  apiTokens: number;
  sessions: number;
  channelRoles: number;
  reads: number;
  ratings: number;
  acknowledgements: number;
  announcementsKept: number;
}

/**
 * Erases the caller's account (see the file comment for what goes and what stays). Only in a signed-in session, and
 * only with `confirm` equal to ERASE_CONFIRMATION. The `user.erase` record is written first, in the same transaction
 * as the deletion: an erasure is never without its record, and a record never describes an erasure that rolled back.
 */
export async function eraseOwnAccount(deps: { db: Db }, caller: Caller, confirm: string): Promise<ErasureSummary> {
  const actor = signedInUser(caller);
  if (!canEraseOwnAccount(actor, caller.credential)) {
    throw new AppError(
      'forbidden',
      'Deleting an account needs the person signed in (a browser session); API tokens cannot do it',
    );
  }
  if (confirm !== ERASE_CONFIRMATION) {
    throw new AppError('validation_failed', `Confirm by sending {"confirm": "${ERASE_CONFIRMATION}"}`, {
      field: 'confirm',
    });
  }
  const userId = actor.userId;

  return deps.db.$transaction(async (tx) => {
    // Lock the row: two erasures at once must not both count and record.
    const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "User" WHERE id = ${userId}::uuid FOR UPDATE`;
    if (locked.length === 0)
      throw new AppError('unauthenticated', 'The account behind this credential no longer exists');

    const [subscriptions, apiTokens, sessions, channelRoles, reads, ratings, acknowledgements, announcementsKept] =
      await Promise.all([
        tx.subscription.count({ where: { userId } }),
        tx.apiToken.count({ where: { userId } }),
        tx.session.count({ where: { userId } }),
        tx.channelRole.count({ where: { userId } }),
        tx.announcementRead.count({ where: { userId } }),
        tx.announcementRating.count({ where: { userId } }),
        tx.announcementAcknowledgement.count({ where: { userId } }),
        tx.announcement.count({ where: { authorId: userId } }),
      ]);
    const pushSubscriptions = await tx.pushSubscription.count({ where: { userId } });
    const summary = {
      subscriptions,
      pushSubscriptions,
      apiTokens,
      sessions,
      channelRoles,
      reads,
      ratings,
      acknowledgements,
      announcementsKept,
    };
    await recordAudit(tx, {
      actor,
      action: 'user.erase',
      outcome: 'success',
      targetType: 'user',
      targetId: userId,
      ...(caller.requestId ? { requestId: caller.requestId } : {}),
      details: { ...summary },
    });

    // Explicit, although the schema's ON DELETE rules would do most of it: the erasure must not depend on a
    // foreign-key rule someone may change later.
    await tx.subscription.deleteMany({ where: { userId } });
    await tx.pushSubscription.deleteMany({ where: { userId } });
    await tx.apiToken.deleteMany({ where: { userId } });
    await tx.session.deleteMany({ where: { userId } });
    await tx.channelRole.deleteMany({ where: { userId } });
    await tx.announcementRead.deleteMany({ where: { userId } });
    await tx.announcementRating.deleteMany({ where: { userId } });
    // The figures drop by one: an acknowledgement is a person's statement, and the person is gone.
    await tx.announcementAcknowledgement.deleteMany({ where: { userId } });
    await tx.announcement.updateMany({ where: { authorId: userId }, data: { authorId: null } });
    await tx.delivery.updateMany({
      where: { recipient: recipientKey({ userId, email: null }), lastError: { not: null } },
      data: { lastError: null },
    });
    await tx.digest.updateMany({
      where: { recipient: recipientKey({ userId, email: null }), lastError: { not: null } },
      data: { lastError: null },
    });
    await tx.user.delete({ where: { id: userId } });
    return summary;
  });
}

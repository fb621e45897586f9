/**
 * E-mail subscribers without an account: double opt-in from a public channel's page, imports by the channel's
 * owners, the confirmation link, and the clean-up of subscriptions never confirmed.
 *
 * - A request (`requestEmailSubscription`) never reveals whether the address is subscribed: whatever the state (new,
 *   waiting for confirmation, confirmed, suppressed), the caller gets the same answer. A new address gets a
 *   subscription (source `self`, unconfirmed) and a confirmation e-mail; an unconfirmed one gets the e-mail again, at
 *   most CONFIRMATIONS_PER_WINDOW times per CONFIRMATION_WINDOW_HOURS (then silently nothing); a confirmed one nothing.
 *   However many channels it is asked for, one address gets at most CONFIRMATIONS_PER_ADDRESS_PER_WINDOW of them.
 * - An import creates unconfirmed subscriptions (source `import`) and sends each new one the confirmation e-mail,
 *   worded as the channel's doing; existing subscriptions are left as they are.
 * - Nothing is sent to an unconfirmed subscription but its confirmation e-mail: the fan-out requires confirmedAt.
 * - The e-mail is sent by the worker (queue `confirmation`, workers/processors/confirmation.ts); the job carries the
 *   subscription id and the time of the request only.
 * - Confirming (`confirmByToken`, a POST from the page behind the link) sets confirmedAt once, and lifts a suppression
 *   of the address: the confirmed opt-in is its owner's explicit act, audited as such.
 */
import type { Queue } from 'bullmq';
import { findChannelBySlug } from '../db/channels.js';
import type { Db } from '../db/prisma.js';
import { liftSuppression } from '../db/suppression.js';
import { canManageChannel, canSeeChannel } from '../domain/access.js';
import { AppError, notFound } from '../domain/errors.js';
import type { EmailMode, Language } from '../domain/types.js';
import type { Logger } from '../logger.js';
import { parseConfirmationToken, verifyConfirmationToken } from '../mail/confirmation-token.js';
import type { VerificationKeys } from '../mail/signing-keys.js';
import { type ConfirmationJob, chunk, jobId } from '../queue/jobs.js';
import { recordAudit } from './audit.js';
import type { Caller } from './caller.js';

/** Confirmation e-mails per subscription in one window; further requests send nothing. */
export const CONFIRMATIONS_PER_WINDOW = 3;
/**
 * Confirmation e-mails per address in one window, whatever the channels: nobody can flood an inbox by asking for it
 * on many channels.
 */
export const CONFIRMATIONS_PER_ADDRESS_PER_WINDOW = 5;
export const CONFIRMATION_WINDOW_HOURS = 24;
/** Unconfirmed subscriptions are deleted this long after their last confirmation e-mail (the sweeper). */
export const UNCONFIRMED_MAX_AGE_DAYS = 30;
/** Addresses per import. */
export const MAX_IMPORT_ADDRESSES = 5000;
/** RFC 5321: a path is at most 256 octets with its angle brackets, so an address at most 254. */
export const MAX_ADDRESS_LENGTH = 254;

export interface EmailSubscriptionDeps {
  db: Db;
  confirmationQueue: Pick<Queue<ConfirmationJob>, 'add' | 'addBulk'>;
  logger: Pick<Logger, 'warn' | 'info'>;
}

export type AddressProblem = 'empty' | 'too_long' | 'control_characters' | 'syntax' | 'duplicate';

// Dot-atom local part (RFC 5322 without quoted strings and comments, which nobody types into a form and several
// relays mishandle) and a host name of at least two labels; letters, digits and hyphens only (IDNs in their
// xn-- form).
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The address in the form it is stored in (trimmed, lower-cased: one mailbox is one subscription, whatever its
 * spelling), or why it cannot be used. Control characters (CR/LF above all) are refused outright: an address ends up
 * in a header.
 */
export function parseAddress(raw: string): { address: string } | { problem: AddressProblem } {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
  if (/[\u0000-\u001f\u007f\u0085\u2028\u2029]/.test(raw)) return { problem: 'control_characters' };
  const address = raw.trim().toLowerCase();
  if (address.length === 0) return { problem: 'empty' };
  if (address.length > MAX_ADDRESS_LENGTH) return { problem: 'too_long' };
  const at = address.lastIndexOf('@');
  if (at <= 0) return { problem: 'syntax' };
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  const labels = domain.split('.');
  const tld = labels.at(-1) ?? '';
  if (
    local.length > 64 ||
    !LOCAL_PART.test(local) ||
    labels.length < 2 ||
    !labels.every((label) => LABEL.test(label)) ||
    !/^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/.test(tld)
  ) {
    return { problem: 'syntax' };
  }
  return { address };
}

export interface EmailSubscriptionRequest {
  email: string;
  language: Language;
  emailMode?: EmailMode;
}

/** Whether a request's e-mail mode is one a subscription without an account may have (`off` would be pointless). */
function modeOf(mode: EmailMode | undefined): EmailMode {
  if (mode === 'off')
    throw new AppError('validation_failed', 'emailMode `off` subscribes to nothing', { field: 'emailMode' });
  return mode ?? 'immediate';
}

async function publicChannel(db: Db, caller: Caller, slug: string) {
  const channel = await findChannelBySlug(db, slug, caller.actor);
  // Only public channels reach bare addresses (src/db/recipient-scope-sql.ts). Any other answers like a missing one,
  // whoever asks: the form is for everyone.
  if (channel?.visibility !== 'public') throw notFound('Channel');
  return channel;
}

/**
 * Asks for a subscription of this address to a public channel. Resolves the same way, whatever the state of the
 * address (the route answers one and the same 202): only a malformed request (400) or a channel that is not public
 * (404) are told apart, and neither depends on the address's state.
 */
export async function requestEmailSubscription(
  deps: EmailSubscriptionDeps,
  caller: Caller,
  slug: string,
  request: EmailSubscriptionRequest,
): Promise<void> {
  const channel = await publicChannel(deps.db, caller, slug);
  const parsed = parseAddress(request.email);
  if ('problem' in parsed) {
    throw new AppError('validation_failed', 'This is not an e-mail address we can send to', {
      field: 'email',
      reason: parsed.problem,
    });
  }
  const emailMode = modeOf(request.emailMode);
  const { address } = parsed;

  const send = await deps.db.$transaction(async (tx) => {
    // One request per address at a time (whatever the channel), so that the per-address limit below holds under
    // concurrent requests.
    await tx.$queryRaw`SELECT 1 FROM pg_advisory_xact_lock(hashtext(${`email-subscription:${address}`}))`;
    const [recent] = await tx.$queryRaw<{ sent: number }[]>`
      SELECT COALESCE(sum("confirmationsSent"), 0)::int AS sent
        FROM "Subscription"
       WHERE email = ${address} AND "userId" IS NULL
         AND "confirmationSentAt" > now() - make_interval(hours => ${CONFIRMATION_WINDOW_HOURS}::int)`;
    // Beyond the limit the subscription is still made (the answer must not change), without an e-mail: the person
    // can ask again once the window has passed.
    const mayMail = (recent?.sent ?? 0) < CONFIRMATIONS_PER_ADDRESS_PER_WINDOW;
    const [created] = await tx.$queryRaw<{ id: bigint; requestedAt: Date | null }[]>`
      INSERT INTO "Subscription" ("channelId", email, "emailMode", language, source, "confirmationSentAt",
                                  "confirmationsSent", "updatedAt")
      VALUES (${channel.id}::uuid, ${address}, ${emailMode}::"EmailMode", ${request.language}::"Language", 'self',
              CASE WHEN ${mayMail}::boolean THEN now() END, CASE WHEN ${mayMail}::boolean THEN 1 ELSE 0 END, now())
      ON CONFLICT ("channelId", email) DO NOTHING
      RETURNING id, "confirmationSentAt" AS "requestedAt"`;
    if (created) return created.requestedAt ? { id: created.id, requestedAt: created.requestedAt } : null;
    return mayMail ? claimResend(tx, channel.id, address, { emailMode, language: request.language }) : null;
  });
  if (send) await enqueueConfirmations(deps, [send]);
}

/**
 * One more confirmation e-mail for an unconfirmed subscription, if its window allows: a claim in one statement, so
 * concurrent requests cannot exceed the limit. A subscription that was confirmed and then unsubscribed (mode `off`)
 * counts as unconfirmed again: switching it back on needs the owner's confirmation like a new one. The window starts again once the last e-mail is older than it. A
 * resend also takes the latest request's language and mode (nobody has confirmed the earlier ones). Null when
 * nothing is to be sent: confirmed, limit reached, or the row is gone.
 */
async function claimResend(
  db: Pick<Db, '$queryRaw'>,
  channelId: string,
  address: string,
  choice: { emailMode: EmailMode; language: Language },
): Promise<{ id: bigint; requestedAt: Date } | null> {
  const window = `${CONFIRMATION_WINDOW_HOURS} hours`;
  const rows = await db.$queryRaw<{ id: bigint; requestedAt: Date }[]>`
    UPDATE "Subscription"
       SET "confirmationsSent" = CASE WHEN "confirmationSentAt" IS NULL OR "confirmationSentAt" < now() - ${window}::interval
                                      THEN 1 ELSE "confirmationsSent" + 1 END,
           "confirmationSentAt" = now(), "confirmedAt" = NULL,
           "emailMode" = ${choice.emailMode}::"EmailMode", language = ${choice.language}::"Language",
           "updatedAt" = now()
     WHERE "channelId" = ${channelId}::uuid AND email = ${address} AND "userId" IS NULL
       AND ("confirmedAt" IS NULL OR "emailMode" = 'off')
       AND ("confirmationSentAt" IS NULL OR "confirmationSentAt" < now() - ${window}::interval
            OR "confirmationsSent" < ${CONFIRMATIONS_PER_WINDOW}::int)
    RETURNING id, "confirmationSentAt" AS "requestedAt"`;
  return rows[0] ?? null;
}

/**
 * Puts the confirmation jobs on the queue. When Redis does not take them, the request still succeeds: its answer
 * must not differ from that for a confirmed address, and the person can ask again (the window counts the lost send).
 */
async function enqueueConfirmations(
  deps: EmailSubscriptionDeps,
  sends: { id: bigint; requestedAt: Date }[],
): Promise<void> {
  const jobs = sends.map((send) => {
    const requestedAt = send.requestedAt.getTime();
    return {
      name: 'confirmation',
      data: { subscriptionId: String(send.id), requestedAt },
      opts: { jobId: jobId.confirmation(send.id, requestedAt) },
    };
  });
  try {
    for (const part of chunk(jobs, 1000)) await deps.confirmationQueue.addBulk(part);
  } catch (error) {
    deps.logger.warn(
      { err: error, subscriptions: sends.length },
      'could not queue confirmation e-mails; the subscribers can ask again',
    );
  }
}

export interface ImportInput {
  /** The addresses, each with the line the answer names it by (its 1-based position, or its line in a file). */
  entries: { line: number; value: string }[];
  language?: Language;
  emailMode?: EmailMode;
}

export interface ImportResult {
  imported: number;
  alreadySubscribed: number;
  invalid: { line: number; reason: AddressProblem }[];
}

/**
 * Imports addresses into a public channel for its owners and administrators (canManageChannel). New addresses get an
 * unconfirmed subscription (source `import`) and a confirmation e-mail; existing subscriptions (confirmed or not) are
 * left alone. Audited with the counts (never the addresses).
 */
export async function importEmailSubscriptions(
  deps: EmailSubscriptionDeps,
  caller: Caller,
  slug: string,
  input: ImportInput,
): Promise<ImportResult> {
  const { actor } = caller;
  const channel = await findChannelBySlug(deps.db, slug, actor);
  if (!channel || !canSeeChannel(actor, channel)) throw notFound('Channel');
  if (!canManageChannel(actor, channel)) {
    throw new AppError('forbidden', "Only the channel's owners and administrators may import subscribers");
  }
  if (channel.visibility !== 'public') {
    throw new AppError(
      'conflict',
      'Only public channels have subscribers without an account: make the channel public first',
    );
  }
  if (input.entries.length > MAX_IMPORT_ADDRESSES) {
    throw new AppError('validation_failed', `An import has at most ${MAX_IMPORT_ADDRESSES} addresses`, {
      count: input.entries.length,
    });
  }
  const emailMode = modeOf(input.emailMode);
  const language = input.language ?? 'nb';

  const invalid: ImportResult['invalid'] = [];
  const valid = new Set<string>();
  for (const { line, value } of input.entries) {
    const parsed = parseAddress(value);
    if ('problem' in parsed) invalid.push({ line, reason: parsed.problem });
    else if (valid.has(parsed.address)) invalid.push({ line, reason: 'duplicate' });
    else valid.add(parsed.address);
  }
  const addresses = [...valid];

  const created = await deps.db.$transaction(async (tx) => {
    const rows =
      addresses.length === 0
        ? []
        : await tx.$queryRaw<{ id: bigint; requestedAt: Date }[]>`
            INSERT INTO "Subscription" ("channelId", email, "emailMode", language, source, "confirmationSentAt",
                                        "confirmationsSent", "updatedAt")
            SELECT ${channel.id}::uuid, address, ${emailMode}::"EmailMode", ${language}::"Language", 'import', now(), 1,
                   now()
              FROM unnest(${addresses}::text[]) AS address
            ON CONFLICT ("channelId", email) DO NOTHING
            RETURNING id, "confirmationSentAt" AS "requestedAt"`;
    await recordAudit(tx, {
      actor,
      action: 'subscription.import',
      outcome: 'success',
      targetType: 'channel',
      targetId: channel.id,
      requestId: caller.requestId,
      details: {
        slug: channel.slug,
        imported: rows.length,
        alreadySubscribed: addresses.length - rows.length,
        invalid: invalid.length,
      },
    });
    return rows;
  });
  await enqueueConfirmations(deps, created);
  return { imported: created.length, alreadySubscribed: addresses.length - created.length, invalid };
}

export interface ConfirmationTarget {
  subscriptionId: bigint;
  email: string;
  channelId: string;
  channelTitle: string;
  language: Language;
  confirmed: boolean;
}

const invalidLink = () => new AppError('validation_failed', 'This confirmation link is not valid');

/**
 * The subscription a valid confirmation token names; `validation_failed` for any token that is not valid now
 * (malformed, tampered, expired, made for another address, or its subscription deleted). Reads only.
 */
export async function findConfirmationTarget(
  deps: { db: Db; signingKey: VerificationKeys },
  token: string,
): Promise<ConfirmationTarget> {
  const parsed = parseConfirmationToken(token);
  if (!parsed) throw invalidLink();
  const row = await deps.db.subscription.findUnique({
    where: { id: parsed.subscriptionId },
    select: {
      id: true,
      email: true,
      userId: true,
      confirmedAt: true,
      language: true,
      channel: { select: { id: true, title: true } },
    },
  });
  if (!row?.email || row.userId !== null || !verifyConfirmationToken(deps.signingKey, parsed, row.email)) {
    throw invalidLink();
  }
  return {
    subscriptionId: row.id,
    email: row.email,
    channelId: row.channel.id,
    channelTitle: row.channel.title,
    language: row.language,
    confirmed: row.confirmedAt !== null,
  };
}

/**
 * Confirms the subscription the token names (idempotent: `changed` is false the second time) and lifts a
 * suppression of its address, in one transaction with the audit record of the lift.
 */
export async function confirmByToken(
  deps: { db: Db; signingKey: VerificationKeys },
  caller: Caller,
  token: string,
): Promise<ConfirmationTarget & { changed: boolean; liftedSuppression: boolean }> {
  const target = await findConfirmationTarget(deps, token);
  return deps.db.$transaction(async (tx) => {
    const { count } = await tx.subscription.updateMany({
      where: { id: target.subscriptionId, confirmedAt: null },
      data: { confirmedAt: new Date() },
    });
    const lifted = await liftSuppression(tx, target.email);
    if (lifted) {
      await recordAudit(tx, {
        actor: caller.actor,
        action: 'email_suppression.lift',
        outcome: 'success',
        targetType: 'subscription',
        targetId: String(target.subscriptionId),
        requestId: caller.requestId,
        // The address is not written here (the audit log holds no addresses); the subscription names it.
        details: { via: 'confirmed_subscription', channelId: target.channelId },
      });
    }
    return { ...target, confirmed: true, changed: count > 0, liftedSuppression: lifted };
  });
}

/**
 * Deletes subscriptions without an account that were never confirmed, UNCONFIRMED_MAX_AGE_DAYS after their last
 * confirmation e-mail (or their creation). Their links expired long ago; keeping the addresses would only keep
 * personal data nobody agreed to. Run by the sweeper.
 */
export async function deleteStaleUnconfirmed(db: Db, maxAgeDays = UNCONFIRMED_MAX_AGE_DAYS): Promise<number> {
  return db.$executeRaw`
    DELETE FROM "Subscription"
     WHERE "userId" IS NULL AND "confirmedAt" IS NULL
       AND COALESCE("confirmationSentAt", "createdAt") < now() - make_interval(days => ${maxAgeDays}::int)`;
}

/**
 * The entries of a text import (text/plain or text/csv): one address per line; of a CSV line its first field
 * (quotes removed). Blank lines and a first line that is a column name (`email`, `e-post`…) are skipped; line
 * numbers stay those of the file.
 */
export function importEntriesFromText(text: string): { line: number; value: string }[] {
  const entries: { line: number; value: string }[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  lines.forEach((raw, index) => {
    if (raw.trim() === '') return;
    const field = (raw.split(/[,;\t]/)[0] ?? '').trim().replace(/^"(.*)"$/, '$1');
    if (entries.length === 0 && /^(?:e-?mail|e-?post|epost|address|adresse|e-?mail address)$/i.test(field)) return;
    entries.push({ line: index + 1, value: field });
  });
  return entries;
}

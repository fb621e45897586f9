/**
 * Single-use tickets for opening a WebSocket. Browsers cannot set an Authorization header on a WebSocket, and a
 * long-lived credential in a URL ends up in proxy logs, browser history and Referer headers; a ticket may be in the
 * URL because it is worth little there: it lives LIVE_TICKET_TTL_SECONDS, works once (GETDEL is atomic, so two
 * upgrades racing with one ticket cannot both win), and only stands for the credential that asked for it, which is
 * checked again when the ticket is used.
 *
 * Redis holds `<prefix>:live-ticket:<sha256(ticket)>` → the credential (a session id or token hash, never a secret),
 * so a Redis dump yields no usable ticket either.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { LiveCredential } from './live-access.js';

export const LIVE_TICKET_TTL_SECONDS = 30;

/** 32 random bytes, base64url. */
const TICKET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

function ticketKey(prefix: string, ticket: string): string {
  return `${prefix}:live-ticket:${createHash('sha256').update(ticket).digest('hex')}`;
}

type TicketCredential = Exclude<LiveCredential, { kind: 'anonymous' }>;

/** Issues a ticket standing for `credential`. */
export async function issueLiveTicket(
  redis: Redis,
  prefix: string,
  credential: TicketCredential,
): Promise<{ ticket: string; expiresIn: number }> {
  const ticket = randomBytes(32).toString('base64url');
  await redis.set(ticketKey(prefix, ticket), JSON.stringify(credential), 'EX', LIVE_TICKET_TTL_SECONDS);
  return { ticket, expiresIn: LIVE_TICKET_TTL_SECONDS };
}

/**
 * Consumes a ticket: the credential it stands for, or null when it is malformed, unknown, already used or expired
 * (the four are not told apart). The ticket is gone afterwards whatever the outcome.
 */
export async function redeemLiveTicket(redis: Redis, prefix: string, ticket: string): Promise<TicketCredential | null> {
  if (!TICKET_PATTERN.test(ticket)) return null;
  const stored = await redis.getdel(ticketKey(prefix, ticket));
  if (stored === null) return null;
  const parsed = JSON.parse(stored) as TicketCredential;
  if (parsed.kind === 'session' && typeof parsed.sessionId === 'string') return parsed;
  if (parsed.kind === 'token' && typeof parsed.tokenHash === 'string') return parsed;
  return null;
}

/**
 * The Mailer port and its SMTP implementation. Processors depend on the port only; the SMTP details (pool, timeouts,
 * error classes) stop here.
 */
import nodemailer from 'nodemailer';
import addressparser from 'nodemailer/lib/addressparser';
import { type DkimSettings, dkimTransportOptions } from './dkim.js';

/** One composed e-mail to one recipient. Header values must already be free of CR/LF (compose.ts sees to that). */
export interface OutgoingMail {
  /**
   * MAIL_FROM as configured (`Name <address>`), or an address object whose name nodemailer quotes and encodes
   * (senderOf in compose.ts: the organisation's sender name), so no name can break the header.
   */
  from: string | MailAddress;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** With angle brackets: `<delivery-42@example.org>`. */
  messageId: string;
  /** Extra headers (List-Unsubscribe, Auto-Submitted…). */
  headers: Record<string, string>;
  /**
   * This same message as MIME, already built (src/mail/mime.ts, for the recipients of a batch): the SMTP mailer sends
   * these bytes instead of having nodemailer build them from the fields above, which still describe it.
   */
  raw?: string | undefined;
}

export interface MailAddress {
  name: string;
  address: string;
}

export interface SendResult {
  /** Addresses the relay accepted. */
  accepted: string[];
  /** The relay's final reply, e.g. `250 OK: queued as …`. */
  response: string;
}

export interface Mailer {
  /** Resolves when the SMTP relay has accepted the message; rejects with the relay's error otherwise. */
  send(message: OutgoingMail): Promise<SendResult>;
  /** Stops taking messages; connections finish what they are sending, then close. */
  close(): Promise<void>;
}

export interface SmtpMailerOptions {
  /** `smtp://user:pass@host:587` or `smtps://…`. */
  url: string;
  /** Pooled connections kept open. */
  poolSize: number;
  /** Messages per connection before it is renewed (≥ 1,000 keeps the handshake cost out of the hot path). */
  maxMessages: number;
  /** Upper bound on messages per second for this process; 0 for none. */
  ratePerSecond: number;
  /** Signs every message with DKIM when set (src/mail/dkim.ts). */
  dkim?: DkimSettings | undefined;
}

/**
 * Time limits. nodemailer's defaults (2 min to connect, 10 min of socket silence) are longer than the sweeper's
 * STALE_DELIVERY_MS, which would let the sweeper hand a delivery that is still being sent to another worker.
 */
const CONNECTION_TIMEOUT_MS = 20_000;
const GREETING_TIMEOUT_MS = 20_000;
const SOCKET_TIMEOUT_MS = 60_000;

/** A Mailer over a pooled nodemailer SMTP transport. */
export function createSmtpMailer(options: SmtpMailerOptions): Mailer {
  const transport = nodemailer.createTransport({
    pool: true,
    url: options.url,
    maxConnections: options.poolSize,
    maxMessages: options.maxMessages,
    ...(options.ratePerSecond > 0 ? { rateLimit: options.ratePerSecond, rateDelta: 1000 } : {}),
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    greetingTimeout: GREETING_TIMEOUT_MS,
    socketTimeout: SOCKET_TIMEOUT_MS,
    // One requeue absorbs a connection the relay closed under us; beyond that the error reaches the ledger, which
    // retries with back-off and records what happened (the pool's own requeues are invisible to it).
    maxRequeues: 1,
    ...(options.dkim ? { dkim: dkimTransportOptions(options.dkim) } : {}),
  });
  let closed = false;
  return {
    async send(message) {
      if (closed) throw Object.assign(new Error('Mailer is closed'), { code: 'ECONNECTION' });
      const info = await transport.sendMail(
        message.raw === undefined
          ? {
              from: message.from,
              to: message.to,
              subject: message.subject,
              text: message.text,
              html: message.html,
              messageId: message.messageId,
              headers: message.headers,
              // No X-Mailer: it tells nobody anything useful and reveals the library version.
              xMailer: false,
            }
          : // A raw message is not parsed: the envelope is given (the addresses its From and To name).
            {
              raw: message.raw,
              envelope: { from: envelopeAddress(message.from), to: [message.to] },
              messageId: message.messageId,
            },
      );
      return {
        accepted: (info.accepted ?? []).map(String),
        response: info.response ?? '',
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      // The pool closes idle connections at once and lets a busy one finish its message. Callers close the e-mail
      // workers first (they wait for their jobs, which wait for their sends), so nothing is queued by now.
      transport.close();
    },
  };
}

/** The bare address of a From (`Name <address>` or an address object), for a raw message's envelope. */
function envelopeAddress(from: string | MailAddress): string {
  if (typeof from !== 'string') return from.address;
  const [parsed] = addressparser(from, { flatten: true });
  return parsed?.address || from.trim();
}

/** Error shape nodemailer gives, as far as classification needs it. */
interface SmtpErrorLike {
  code?: unknown;
  responseCode?: unknown;
}

/**
 * The one classification of mail errors. Permanent: the relay refused the message or recipient for good (5xx, except
 * 503 "bad sequence", which is about the session, not the message), or the address cannot be used at all (nodemailer
 * refuses it before talking to the relay: EENVELOPE without a reply code). Everything else — 4xx, timeouts, connection
 * and TLS failures, authentication problems an operator can fix — is transient and retried with back-off.
 */
export function isPermanentMailError(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const { code, responseCode } = error as SmtpErrorLike;
  if (typeof responseCode === 'number') return responseCode >= 500 && responseCode < 600 && responseCode !== 503;
  return code === 'EENVELOPE';
}

/** A short, address-free description of a mail error for the ledger's lastError and for logs. */
export function describeMailError(error: unknown): string {
  if (!error || typeof error !== 'object') return String(error).slice(0, 300);
  const { code, responseCode } = error as SmtpErrorLike;
  const message = error instanceof Error ? error.message : String(error);
  const parts = [
    typeof code === 'string' ? code : undefined,
    typeof responseCode === 'number' ? String(responseCode) : undefined,
  ];
  // Relays often echo the recipient in their reply; keep addresses out of the ledger and the logs.
  const scrubbed = message.replace(/[^\s<>"'()[\]]+@[^\s<>"'()[\]]+/g, '<address>');
  return [...parts.filter(Boolean), scrubbed].join(' ').slice(0, 300);
}

/**
 * Sends one encrypted web push message (RFC 8030 + RFC 8291 aes128gcm, VAPID RFC 8292) with the `web-push` library,
 * and says what the push service's answer means for the ledger: delivered, gone (404/410: the browser unsubscribed,
 * delete the subscription), retry (429, 5xx, network trouble) or rejected (any other answer: retrying would fail the
 * same way).
 */
import type { Agent } from 'node:https';
import webpush from 'web-push';
import type { Importance } from '../domain/types.js';

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
  /** mailto: or https: (RFC 8292 §2.1). */
  subject: string;
}

/** A browser's push subscription, as stored (PushSubscription row). */
export interface PushTarget {
  endpoint: string;
  p256dh: string;
  auth: string;
}

export type Urgency = 'very-low' | 'low' | 'normal' | 'high';

export interface PushMessageOptions {
  /** Seconds the push service keeps the message for a browser that is offline (RFC 8030 §5.2). */
  ttlSeconds: number;
  urgency: Urgency;
  /** RFC 8030 §5.4: a newer message with the same topic replaces an undelivered older one at the push service. */
  topic?: string;
}

export type PushSendOutcome =
  | { kind: 'delivered'; status: number }
  | { kind: 'gone'; status: number }
  | { kind: 'retry'; status: number | null; error: string; retryAfterMs: number | null }
  | { kind: 'rejected'; status: number | null; error: string };

export interface PushSender {
  send(target: PushTarget, payload: string, options: PushMessageOptions): Promise<PushSendOutcome>;
}

/** A day: long enough for a laptop closed overnight, short enough that old news does not pop up days later. */
export const PUSH_TTL_SECONDS = 24 * 3600;
/** Critical announcements are kept longer: someone back after a long weekend must still learn of them. */
export const CRITICAL_PUSH_TTL_SECONDS = 4 * 24 * 3600;
/** How long one request to a push service may take; well below STALE_DELIVERY_MS. */
export const PUSH_REQUEST_TIMEOUT_MS = 15_000;

/** RFC 8030 §5.3 urgency by importance: important and critical wake a device that saves battery. */
export function urgencyOf(importance: Importance): Urgency {
  return importance === 'info' ? 'normal' : 'high';
}

/**
 * TTL by importance, never past the announcement's expiry (a message about something over is noise) and at least a
 * minute, so a message sent moments before expiry still reaches a browser that is online.
 */
export function ttlOf(importance: Importance, expiresAt: Date | null, now: Date): number {
  const ttl = importance === 'critical' ? CRITICAL_PUSH_TTL_SECONDS : PUSH_TTL_SECONDS;
  if (!expiresAt) return ttl;
  const untilExpiry = Math.floor((expiresAt.getTime() - now.getTime()) / 1000);
  return Math.max(60, Math.min(ttl, untilExpiry));
}

/** The topic of an announcement's messages: its UUID without dashes (32 characters of the base64url alphabet). */
export function topicOf(announcementId: string): string {
  return announcementId.replace(/-/g, '');
}

/** RFC 9110 Retry-After in seconds (the date form is rare from push services and ignored). */
function retryAfterMs(headers: Record<string, unknown> | undefined): number | null {
  const raw = headers?.['retry-after'];
  if (typeof raw !== 'string' || !/^\d{1,7}$/.test(raw.trim())) return null;
  return Number(raw.trim()) * 1000;
}

/** What an answer or error means. Exported for unit tests. */
export function classifyPushError(error: unknown): PushSendOutcome {
  if (error instanceof webpush.WebPushError) {
    const status = error.statusCode;
    const body = typeof error.body === 'string' ? error.body.slice(0, 200) : '';
    const description = `push service answered ${status}${body ? `: ${body}` : ''}`;
    if (status === 404 || status === 410) return { kind: 'gone', status };
    if (status === 429 || status >= 500) {
      return { kind: 'retry', status, error: description, retryAfterMs: retryAfterMs(error.headers) };
    }
    return { kind: 'rejected', status, error: description };
  }
  const err = error as { code?: unknown; message?: unknown };
  const message = typeof err?.message === 'string' ? err.message : String(error);
  // Network trouble carries a system error code (ECONNREFUSED, ECONNRESET, ENOTFOUND, certificate errors…) or is
  // web-push's own timeout; anything else comes from web-push refusing its input, which will not get better.
  if (typeof err?.code === 'string' || message === 'Socket timeout') {
    return {
      kind: 'retry',
      status: null,
      error: `push service unreachable: ${typeof err.code === 'string' ? `${err.code} ` : ''}${message}`,
      retryAfterMs: null,
    };
  }
  return { kind: 'rejected', status: null, error: `push message refused before sending: ${message}` };
}

export interface PushSenderOptions {
  vapid: VapidKeys;
  /**
   * The HTTPS agent for requests to push services. Production leaves it out (Node's default agent and trust store);
   * the tests pass one that trusts their local push service's self-signed certificate.
   */
  agent?: Agent;
  timeoutMs?: number;
}

export function createPushSender(options: PushSenderOptions): PushSender {
  return {
    async send(target, payload, message) {
      try {
        const result = await webpush.sendNotification(
          { endpoint: target.endpoint, keys: { p256dh: target.p256dh, auth: target.auth } },
          payload,
          {
            vapidDetails: options.vapid,
            TTL: message.ttlSeconds,
            urgency: message.urgency,
            ...(message.topic ? { topic: message.topic } : {}),
            contentEncoding: 'aes128gcm',
            timeout: options.timeoutMs ?? PUSH_REQUEST_TIMEOUT_MS,
            ...(options.agent ? { agent: options.agent } : {}),
          },
        );
        return { kind: 'delivered', status: result.statusCode };
      } catch (error) {
        return classifyPushError(error);
      }
    },
  };
}

/** A fresh VAPID key pair (base64url), for `npm run cli -- vapid-keys`. */
export function generateVapidKeys(): { publicKey: string; privateKey: string } {
  return webpush.generateVAPIDKeys();
}

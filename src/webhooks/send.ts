/**
 * One signed webhook call and what its answer means: the body in the webhook's format, the Standard Webhooks headers
 * (on every format: Slack and Teams ignore them, and a relay in between can still verify), the POST through the
 * SSRF-guarded client, and the verdict. Used by the processor (deliveries) and by the test endpoint.
 */
import { type WebhookEvent, type WebhookFormat, webhookBody } from './formats.js';
import { type WebhookHttpClient, WebhookSendError } from './http-client.js';
import { webhookHeaders } from './signing.js';

export interface WebhookTarget {
  url: string;
  format: WebhookFormat;
  secret: string;
}

export type WebhookSendOutcome =
  | { ok: true; status: number; latencyMs: number }
  | {
      ok: false;
      /** The receiver answered 410 Gone: it will never take another message. */
      gone: boolean;
      status: number | null;
      latencyMs: number | null;
      /** What went wrong, for lastError and the test endpoint (no secrets, no response headers). */
      error: string;
    };

export async function sendWebhookEvent(
  client: WebhookHttpClient,
  target: WebhookTarget,
  event: WebhookEvent,
  msgId: string,
  now: Date = new Date(),
): Promise<WebhookSendOutcome> {
  const body = webhookBody(target.format, event);
  const headers = webhookHeaders(target.secret, msgId, body, now);
  try {
    const response = await client.post(target.url, headers, body);
    if (response.status >= 200 && response.status < 300) {
      return { ok: true, status: response.status, latencyMs: response.latencyMs };
    }
    const excerpt = response.bodyExcerpt.replace(/\s+/g, ' ').trim().slice(0, 200);
    return {
      ok: false,
      gone: response.status === 410,
      status: response.status,
      latencyMs: response.latencyMs,
      error: `HTTP ${response.status}${excerpt ? `: ${excerpt}` : ''}`,
    };
  } catch (error) {
    if (error instanceof WebhookSendError) {
      return { ok: false, gone: false, status: error.status ?? null, latencyMs: null, error: error.message };
    }
    return { ok: false, gone: false, status: null, latencyMs: null, error: (error as Error).message };
  }
}

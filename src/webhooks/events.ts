/**
 * The event types a webhook can receive, and which delivery in the ledger carries which. A webhook chooses any of
 * them (Webhook.events, all three by default; at least one, a CHECK constraint of its migration):
 *
 * - `announcement.published` — the fan-out's delivery of kind `announcement` (src/webhooks/deliveries.ts);
 * - `announcement.updated` — a material edit: a delivery of kind `correction` for that revision, made by
 *   workers/processors/notices.ts; it carries the announcement as it now reads and the revision's note;
 * - `announcement.retracted` — a delivery of kind `retraction`: the title and when, never the withdrawn text.
 *
 * Edits and retractions go to the webhooks that were SENT the publication, or — for a webhook that does not take
 * publications — to those that would have been sent it (same channel, existing at publication, an announcement for
 * everyone), so that a receiver never hears of an announcement it should not have seen.
 */
export const WEBHOOK_EVENT_TYPES = [
  'announcement.published',
  'announcement.updated',
  'announcement.retracted',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** What a webhook gets when it chooses nothing: everything. */
export const DEFAULT_WEBHOOK_EVENTS: readonly WebhookEventType[] = WEBHOOK_EVENT_TYPES;

/** The ledger's delivery kinds (Delivery.kind) that webhooks carry. */
export type WebhookDeliveryKind = 'announcement' | 'correction' | 'retraction';

export const EVENT_OF_KIND: Record<WebhookDeliveryKind, WebhookEventType> = {
  announcement: 'announcement.published',
  correction: 'announcement.updated',
  retraction: 'announcement.retracted',
};

export function isWebhookDeliveryKind(kind: string): kind is WebhookDeliveryKind {
  return Object.hasOwn(EVENT_OF_KIND, kind);
}

/** The chosen types in the catalogue's order, each once (how they are stored and shown). */
export function normaliseEvents(events: readonly WebhookEventType[]): WebhookEventType[] {
  return WEBHOOK_EVENT_TYPES.filter((type) => events.includes(type));
}

/**
 * Managing a channel's webhooks: its owners and administrators (canManageChannel) register, list, change, delete and
 * test them, and rotate their signing secrets. Each change writes its audit record in the same transaction.
 *
 * The secret (`whsec_…`) is shown only when it is made: in the response to creation and to rotation. Listings and
 * reads never include it.
 *
 * Existence is not leaked: under /channels/:slug a channel the caller may not see answers 404 and one they see but
 * may not manage 403, as channel settings do; a webhook by id answers 404 to everyone who may not manage its channel
 * (a webhook is never readable to them, so "forbidden" would only confirm that the id exists).
 *
 * Each webhook chooses its event types (`events`: announcement.published, .updated, .retracted; all three unless the
 * owners choose fewer; src/webhooks/events.ts).
 *
 * URLs are checked at registration (http/https, no credentials, at most 2,048 characters, every resolved address
 * allowed: src/webhooks/addresses.ts) for a clear 400 early; the HTTP client checks the addresses again at every
 * connection, since DNS answers change.
 */
import { randomUUID } from 'node:crypto';
import { findChannelBySlug } from '../db/channels.js';
import type { Db } from '../db/prisma.js';
import { canManageChannel, canSeeChannel } from '../domain/access.js';
import { AppError, notFound } from '../domain/errors.js';
import type { Actor, ChannelRoleKind, ChannelVisibility } from '../domain/types.js';
import {
  DEFAULT_WEBHOOK_EVENTS,
  normaliseEvents,
  WEBHOOK_EVENT_TYPES,
  type WebhookEventType,
} from '../webhooks/events.js';
import type { WebhookFormat } from '../webhooks/formats.js';
import { parseWebhookUrl, type WebhookHttpClient, WebhookSendError } from '../webhooks/http-client.js';
import { sendWebhookEvent } from '../webhooks/send.js';
import { generateWebhookSecret } from '../webhooks/signing.js';
import { recordAudit } from './audit.js';
import type { Caller } from './caller.js';

export interface WebhookServiceDeps {
  db: Db;
  client: WebhookHttpClient;
  publicUrl: string;
}

export const MAX_WEBHOOK_URL_LENGTH = 2048;
export const MAX_WEBHOOK_DESCRIPTION_LENGTH = 500;
/** A channel needs a handful (a chat room or two, a dashboard); more is more likely a mistake or abuse. */
export const MAX_WEBHOOKS_PER_CHANNEL = 20;

export interface WebhookView {
  id: string;
  channel: string;
  url: string;
  format: WebhookFormat;
  description: string;
  /** The event types it receives, in catalogue order. */
  events: WebhookEventType[];
  enabled: boolean;
  consecutiveFailures: number;
  disabledAt: string | null;
  lastError: string | null;
  lastSuccessAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A webhook with its signing secret: only in the answers to creation and rotation. */
export interface WebhookWithSecret extends WebhookView {
  secret: string;
}

export interface WebhookTestResult {
  ok: boolean;
  /** The receiver's HTTP status, null when none came (refused address, timeout, network error). */
  status: number | null;
  latencyMs: number | null;
  error: string | null;
}

interface WebhookRow {
  id: string;
  channelId: string;
  url: string;
  format: WebhookFormat;
  description: string;
  secret: string;
  events: string[];
  enabled: boolean;
  consecutiveFailures: number;
  disabledAt: Date | null;
  lastError: string | null;
  lastSuccessAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export function webhookView(row: WebhookRow, channelSlug: string): WebhookView {
  return {
    id: row.id,
    channel: channelSlug,
    url: row.url,
    format: row.format,
    description: row.description,
    // The database's CHECK keeps out anything else; the filter makes the type say so too.
    events: WEBHOOK_EVENT_TYPES.filter((type) => row.events.includes(type)),
    enabled: row.enabled,
    consecutiveFailures: row.consecutiveFailures,
    disabledAt: row.disabledAt?.toISOString() ?? null,
    lastError: row.lastError,
    lastSuccessAt: row.lastSuccessAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

async function managedChannelBySlug(db: Db, actor: Actor, slug: string) {
  const channel = await findChannelBySlug(db, slug, actor);
  if (!channel || !canSeeChannel(actor, channel)) throw notFound('Channel');
  if (!canManageChannel(actor, channel)) {
    throw new AppError('forbidden', "Only the channel's owners and administrators may manage its webhooks");
  }
  return channel;
}

/** The webhook with its channel, when the actor may manage that channel; otherwise not_found. */
async function managedWebhook(db: Db, actor: Actor, id: string): Promise<WebhookRow & { channelSlug: string }> {
  const row = await db.webhook.findUnique({
    where: { id },
    include: {
      channel: {
        select: {
          slug: true,
          visibility: true,
          roles: actor.kind === 'user' ? { where: { userId: actor.userId }, select: { role: true } } : (false as const),
        },
      },
    },
  });
  if (!row) throw notFound('Webhook');
  const channel = row.channel as { slug: string; visibility: ChannelVisibility; roles?: { role: ChannelRoleKind }[] };
  if (!canManageChannel(actor, { visibility: channel.visibility, role: channel.roles?.[0]?.role ?? null })) {
    throw notFound('Webhook');
  }
  return { ...row, channelSlug: channel.slug };
}

/** Checks a URL for registration: shape, then every address its host resolves to. */
async function validateUrl(client: WebhookHttpClient, raw: string): Promise<string> {
  const url = raw.trim();
  const refuse = (reason: string, kind: string) =>
    new AppError('validation_failed', `url: ${reason}`, { field: 'url', reason: kind });
  if (url.length > MAX_WEBHOOK_URL_LENGTH) {
    throw refuse(`must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`, 'too_long');
  }
  try {
    parseWebhookUrl(url);
    await client.check(url);
  } catch (error) {
    if (error instanceof WebhookSendError) throw refuse(error.message, error.kind);
    throw error;
  }
  return url;
}

/** The chosen event types, each once; at least one (a webhook that wants nothing is switched off instead). */
function cleanEvents(events: readonly WebhookEventType[] | undefined): WebhookEventType[] | undefined {
  if (events === undefined) return undefined;
  const chosen = normaliseEvents(events);
  if (chosen.length === 0) {
    throw new AppError(
      'validation_failed',
      'events must name at least one event type (to receive nothing, switch the webhook off: enabled false)',
      { field: 'events' },
    );
  }
  return chosen;
}

function cleanDescription(description: string | undefined): string | undefined {
  if (description === undefined) return undefined;
  const trimmed = description.trim();
  if (trimmed.length > MAX_WEBHOOK_DESCRIPTION_LENGTH) {
    throw new AppError(
      'validation_failed',
      `description must be at most ${MAX_WEBHOOK_DESCRIPTION_LENGTH} characters`,
      {
        field: 'description',
      },
    );
  }
  return trimmed;
}

export async function createWebhook(
  deps: WebhookServiceDeps,
  caller: Caller,
  slug: string,
  input: { url: string; format?: WebhookFormat; description?: string; events?: WebhookEventType[] },
): Promise<WebhookWithSecret> {
  const channel = await managedChannelBySlug(deps.db, caller.actor, slug);
  const events = cleanEvents(input.events) ?? [...DEFAULT_WEBHOOK_EVENTS];
  const url = await validateUrl(deps.client, input.url);
  const description = cleanDescription(input.description) ?? '';
  const secret = generateWebhookSecret();
  const row = await deps.db.$transaction(async (tx) => {
    // Serialises creations in one channel, so two at once cannot both pass the limit.
    await tx.$queryRaw`SELECT 1 FROM "Channel" WHERE id = ${channel.id}::uuid FOR UPDATE`;
    const count = await tx.webhook.count({ where: { channelId: channel.id } });
    if (count >= MAX_WEBHOOKS_PER_CHANNEL) {
      throw new AppError('conflict', `A channel has at most ${MAX_WEBHOOKS_PER_CHANNEL} webhooks`);
    }
    const created = await tx.webhook.create({
      data: {
        id: randomUUID(),
        channelId: channel.id,
        url,
        format: input.format ?? 'standard',
        description,
        secret,
        events,
        createdById: caller.actor.kind === 'user' ? caller.actor.userId : null,
      },
    });
    await recordAudit(tx, {
      actor: caller.actor,
      action: 'webhook.create',
      outcome: 'success',
      targetType: 'webhook',
      targetId: created.id,
      requestId: caller.requestId,
      // The origin only: a path or query may carry the receiver's own token.
      details: { channel: channel.slug, format: created.format, events, origin: new URL(url).origin },
    });
    return created;
  });
  return { ...webhookView(row, channel.slug), secret };
}

export async function listWebhooks(deps: WebhookServiceDeps, caller: Caller, slug: string): Promise<WebhookView[]> {
  const channel = await managedChannelBySlug(deps.db, caller.actor, slug);
  const rows = await deps.db.webhook.findMany({
    where: { channelId: channel.id },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
  });
  return rows.map((row) => webhookView(row, channel.slug));
}

export async function getWebhook(deps: WebhookServiceDeps, caller: Caller, id: string): Promise<WebhookView> {
  const row = await managedWebhook(deps.db, caller.actor, id);
  return webhookView(row, row.channelSlug);
}

export interface WebhookChanges {
  url?: string;
  format?: WebhookFormat;
  description?: string;
  events?: WebhookEventType[];
  enabled?: boolean;
}

export async function updateWebhook(
  deps: WebhookServiceDeps,
  caller: Caller,
  id: string,
  changes: WebhookChanges,
): Promise<WebhookView> {
  const current = await managedWebhook(deps.db, caller.actor, id);
  const data: {
    url?: string;
    format?: WebhookFormat;
    description?: string;
    events?: WebhookEventType[];
    enabled?: boolean;
    consecutiveFailures?: number;
    disabledAt?: Date | null;
  } = {};
  if (changes.url !== undefined) data.url = await validateUrl(deps.client, changes.url);
  if (changes.format !== undefined) data.format = changes.format;
  const description = cleanDescription(changes.description);
  if (description !== undefined) data.description = description;
  const events = cleanEvents(changes.events);
  if (events !== undefined) data.events = events;
  if (changes.enabled !== undefined) {
    data.enabled = changes.enabled;
    // Switching on again starts a fresh count: the owner says the receiver works now.
    if (changes.enabled && !current.enabled) {
      data.consecutiveFailures = 0;
      data.disabledAt = null;
    }
    if (!changes.enabled && current.enabled) data.disabledAt = new Date();
  }
  if (Object.keys(data).length === 0) {
    throw new AppError('validation_failed', 'Send at least one of url, format, description, events, enabled');
  }
  const row = await deps.db.$transaction(async (tx) => {
    const updated = await tx.webhook.update({ where: { id }, data });
    await recordAudit(tx, {
      actor: caller.actor,
      action: 'webhook.update',
      outcome: 'success',
      targetType: 'webhook',
      targetId: id,
      requestId: caller.requestId,
      details: {
        channel: current.channelSlug,
        changed: Object.keys(changes).filter((key) => changes[key as keyof WebhookChanges] !== undefined),
        ...(data.enabled !== undefined && data.enabled !== current.enabled ? { enabled: data.enabled } : {}),
        ...(events ? { events } : {}),
      },
    });
    return updated;
  });
  return webhookView(row, current.channelSlug);
}

export async function deleteWebhook(deps: WebhookServiceDeps, caller: Caller, id: string): Promise<void> {
  const current = await managedWebhook(deps.db, caller.actor, id);
  await deps.db.$transaction(async (tx) => {
    await tx.webhook.delete({ where: { id } });
    await recordAudit(tx, {
      actor: caller.actor,
      action: 'webhook.delete',
      outcome: 'success',
      targetType: 'webhook',
      targetId: id,
      requestId: caller.requestId,
      details: { channel: current.channelSlug },
    });
  });
}

/** A new secret; the old one stops verifying at once (receivers must be updated with the new one). */
export async function rotateWebhookSecret(
  deps: WebhookServiceDeps,
  caller: Caller,
  id: string,
): Promise<WebhookWithSecret> {
  const current = await managedWebhook(deps.db, caller.actor, id);
  const secret = generateWebhookSecret();
  const row = await deps.db.$transaction(async (tx) => {
    const updated = await tx.webhook.update({ where: { id }, data: { secret } });
    await recordAudit(tx, {
      actor: caller.actor,
      action: 'webhook.rotate_secret',
      outcome: 'success',
      targetType: 'webhook',
      targetId: id,
      requestId: caller.requestId,
      details: { channel: current.channelSlug },
    });
    return updated;
  });
  return { ...webhookView(row, current.channelSlug), secret };
}

/**
 * Sends a `webhook.test` event now, in the webhook's format and signed like every message, and reports the answer.
 * Works on a switched-off webhook too (to see whether the receiver is back) and changes none of its counters.
 */
export async function testWebhook(deps: WebhookServiceDeps, caller: Caller, id: string): Promise<WebhookTestResult> {
  const webhook = await managedWebhook(deps.db, caller.actor, id);
  const channel = await deps.db.channel.findUniqueOrThrow({
    where: { id: webhook.channelId },
    select: { title: true },
  });
  // The test message is read by the person testing: in their language.
  const user =
    caller.actor.kind === 'user'
      ? await deps.db.user.findUnique({ where: { id: caller.actor.userId }, select: { language: true } })
      : null;
  const now = new Date();
  const outcome = await sendWebhookEvent(
    deps.client,
    webhook,
    {
      type: 'webhook.test',
      timestamp: now,
      channelTitle: channel.title,
      channelSlug: webhook.channelSlug,
      webhookId: webhook.id,
      channelUrl: `${deps.publicUrl}/api/v1/channels/${webhook.channelSlug}`,
      language: user?.language ?? 'nb',
    },
    `msg_test_${randomUUID().replace(/-/g, '')}`,
    now,
  );
  const result: WebhookTestResult = outcome.ok
    ? { ok: true, status: outcome.status, latencyMs: outcome.latencyMs, error: null }
    : { ok: false, status: outcome.status, latencyMs: outcome.latencyMs, error: outcome.error };
  await recordAudit(deps.db, {
    actor: caller.actor,
    action: 'webhook.test',
    outcome: result.ok ? 'success' : 'failure',
    targetType: 'webhook',
    targetId: id,
    requestId: caller.requestId,
    details: { channel: webhook.channelSlug, status: result.status },
  });
  return result;
}

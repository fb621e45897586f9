/**
 * Webhooks hear of edits and retractions, not only publications: `announcement.updated` (a material edit, with its
 * revision note) and `announcement.retracted`, each webhook getting the event types it chose. Through the whole
 * pipeline as src/main.ts runs it (publish/edit/retract → outbox → relay → fan-out or notices → webhook worker) to a
 * real HTTP receiver on 127.0.0.1, signatures verified with the reference `standardwebhooks` library and bodies
 * checked against the OpenAPI document's `webhooks` section; then who gets a notice, and the re-checks at send time.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { Webhook as Verifier } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/domain/types.js';
import { buildApp } from '../../src/http/app.js';
import { createSmtpMailer, type Mailer } from '../../src/mail/mailer.js';
import { editAnnouncement } from '../../src/services/edit.js';
import { publishAnnouncement } from '../../src/services/publish.js';
import { retractAnnouncement } from '../../src/services/retract.js';
import { parseAllowlist } from '../../src/webhooks/addresses.js';
import { insertWebhookNotices } from '../../src/webhooks/deliveries.js';
import type { WebhookEventType } from '../../src/webhooks/events.js';
import type { WebhookFormat } from '../../src/webhooks/formats.js';
import { createWebhookHttpClient } from '../../src/webhooks/http-client.js';
import { generateWebhookSecret } from '../../src/webhooks/signing.js';
import { startWorkers } from '../../workers/main.js';
import { processWebhookJob, WEBHOOK_SKIP_REASON, type WebhookProcessorDeps } from '../../workers/processors/webhook.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createAnnouncement, silentLogger } from '../helpers/delivery.js';
import { createChannel, createUser } from '../helpers/factories.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { waitFor } from '../helpers/wait.js';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let ctx: TestContext;
let smtp: TestSmtpServer;
let mailer: Mailer;
let app: FastifyInstance;
let admin: Actor;
let receiver: http.Server;
let base: string;
const received: Received[] = [];
let deps: WebhookProcessorDeps;
// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document read generically
let documentWebhooks: any;

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ path: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(204).end();
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  smtp = await startSmtpServer();
  ctx = await createTestContext({
    PUBLIC_URL: 'https://meldingskanal.example.no',
    SWEEP_INTERVAL_MS: '60000',
    WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
  });
  mailer = createSmtpMailer({ url: smtp.url, poolSize: 1, maxMessages: 100, ratePerSecond: 0 });
  const user = await createUser(ctx.deps.db, { isAdmin: true });
  admin = { kind: 'user', userId: user.id, isAdmin: true, organisationId: null, scopes: ['read', 'publish', 'admin'] };
  deps = {
    db: ctx.deps.db,
    client: createWebhookHttpClient({ allowlist: parseAllowlist(ctx.config.webhooks.allowedHosts), timeoutMs: 2000 }),
    webhookQueue: ctx.deps.queues.webhook,
    mailer,
    mailFrom: 'BOTT Meldingskanal <noreply@example.no>',
    publicUrl: ctx.config.http.publicUrl,
    maxAttempts: 5,
    maxFailures: 3,
    logger: silentLogger,
  };
  // The payloads as the API documents them to integrators.
  app = await buildApp(ctx.deps, { logger: false });
  documentWebhooks = (await app.inject({ url: '/api/openapi.json' })).json().webhooks;
});

afterAll(async () => {
  receiver?.closeAllConnections();
  receiver?.close();
  await app?.close();
  await mailer?.close();
  await smtp?.close();
  await ctx?.close();
});

const services = () => ({ db: ctx.deps.db, publicUrl: ctx.config.http.publicUrl });

async function addWebhook(
  channelId: string,
  options: { format?: WebhookFormat; events?: WebhookEventType[]; createdAt?: Date } = {},
) {
  const path = `/hook-${randomUUID()}`;
  const secret = generateWebhookSecret();
  const webhook = await ctx.deps.db.webhook.create({
    data: {
      id: randomUUID(),
      channelId,
      url: `${base}${path}`,
      format: options.format ?? 'standard',
      secret,
      ...(options.events ? { events: options.events } : {}),
      createdAt: options.createdAt ?? new Date(Date.now() - 60_000),
    },
  });
  return { webhook, path, secret };
}

const callsTo = (path: string) => received.filter((request) => request.path === path);

/** The body of a signed call, as a receiver verifying it with the reference library gets it. */
function verified(
  request: Received,
  secret: string,
): { type: string; timestamp: string; data: Record<string, unknown> } {
  return new Verifier(secret).verify(request.body, {
    'webhook-id': request.headers['webhook-id'] as string,
    'webhook-timestamp': request.headers['webhook-timestamp'] as string,
    'webhook-signature': request.headers['webhook-signature'] as string,
  }) as { type: string; timestamp: string; data: Record<string, unknown> };
}

/** Checks a standard body against the schema the OpenAPI document gives for its event type. */
function expectDocumented(body: { type: string }): void {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const schema = documentWebhooks[body.type]?.post?.requestBody?.content?.['application/json']?.schema;
  expect(schema, body.type).toBeDefined();
  const validate = ajv.compile(schema);
  expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
}

async function webhookRows(announcementId: string) {
  return ctx.deps.db.delivery.findMany({
    where: { announcementId, medium: 'webhook' },
    orderBy: { id: 'asc' },
  });
}

describe('edits and retractions by webhook, through the pipeline', () => {
  it('tells each webhook the events it chose: signed, documented, and Rettet / Trukket tilbake in Slack and Teams', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db, { title: 'BOTT IT-drift' });
    const everything = await addWebhook(channel.id);
    const slack = await addWebhook(channel.id, {
      format: 'slack',
      events: ['announcement.published', 'announcement.updated'],
    });
    const teams = await addWebhook(channel.id, { format: 'teams' });
    const publicationsOnly = await addWebhook(channel.id, { events: ['announcement.published'] });
    const retractionsOnly = await addWebhook(channel.id, { events: ['announcement.retracted'] });

    const workers = await startWorkers(ctx.deps, { mailer, logger: silentLogger });
    try {
      // --- published: the webhooks that take publications ---
      const announcement = await publishAnnouncement(services(), admin, channel.slug, {
        title: 'Vedlikehold av e-post',
        body: 'Tjenesten er nede **fredag** kl. 18.',
      });
      const takingPublications = [everything, slack, teams, publicationsOnly];
      await waitFor(
        async () => {
          const rows = await webhookRows(announcement.id);
          return rows.filter((row) => row.kind === 'announcement' && row.status === 'sent').length === 4;
        },
        { what: 'the four publications sent' },
      );
      const publication = verified(callsTo(everything.path)[0]!, everything.secret);
      expect(publication).toMatchObject({ type: 'announcement.published', data: { id: announcement.id } });
      expectDocumented(publication);
      expect(callsTo(retractionsOnly.path)).toHaveLength(0);

      // --- a material edit: announcement.updated, with the note ---
      await editAnnouncement(services(), admin, announcement.id, {
        title: 'Vedlikehold av e-post flyttet',
        body: 'Tjenesten er nede **lørdag** kl. 18.',
        material: true,
        note: 'Ny dato: lørdag, ikke fredag.',
      });
      await waitFor(() => [everything, slack, teams].every((hook) => callsTo(hook.path).length === 2), {
        what: 'the corrections',
      });
      const update = verified(callsTo(everything.path)[1]!, everything.secret);
      expect(update).toMatchObject({
        type: 'announcement.updated',
        data: {
          id: announcement.id,
          title: 'Vedlikehold av e-post flyttet',
          revision: 2,
          revisionNote: 'Ny dato: lørdag, ikke fredag.',
        },
      });
      expect(update.data.bodyHtml).toContain('<strong>lørdag</strong>');
      expectDocumented(update);
      const slackUpdate = verified(callsTo(slack.path)[1]!, slack.secret) as unknown as {
        blocks: { type: string; text?: { text: string } }[];
      };
      expect(slackUpdate.blocks[0]!.text!.text).toBe('Rettet: Vedlikehold av e-post flyttet');
      expect(slackUpdate.blocks[1]!.text!.text).toBe('Utgiverens merknad: Ny dato: lørdag, ikke fredag.');
      const teamsCard = (request: Received) =>
        (JSON.parse(request.body) as { attachments: { content: { body: { text: string }[] } }[] }).attachments[0]!
          .content;
      expect(teamsCard(callsTo(teams.path)[1]!).body[1]!.text).toBe('Rettet: Vedlikehold av e-post flyttet');

      // --- retracted: announcement.retracted, also to the webhook that takes only retractions ---
      await retractAnnouncement(services(), admin, announcement.id);
      await waitFor(() => callsTo(everything.path).length === 3 && callsTo(teams.path).length === 3, {
        what: 'the retraction notices',
      });
      await waitFor(() => callsTo(retractionsOnly.path).length === 1, { what: 'the retraction-only webhook' });
      const retraction = verified(callsTo(everything.path)[2]!, everything.secret);
      expect(retraction).toEqual({
        type: 'announcement.retracted',
        timestamp: expect.any(String),
        data: {
          id: announcement.id,
          channel: channel.slug,
          language: 'nb',
          title: 'Vedlikehold av e-post flyttet',
          retractedAt: expect.any(String),
        },
      });
      expectDocumented(retraction);
      expect(verified(callsTo(retractionsOnly.path)[0]!, retractionsOnly.secret).type).toBe('announcement.retracted');
      const teamsWithdrawal = teamsCard(callsTo(teams.path)[2]!) as unknown as {
        body: { text: string }[];
        actions: unknown[];
      };
      expect(teamsWithdrawal.body[1]!.text).toBe('Trukket tilbake: Vedlikehold av e-post flyttet');
      expect(teamsWithdrawal.actions).toEqual([]);
      expect(JSON.stringify(teamsWithdrawal)).not.toContain('lørdag');

      // --- the ledger: exactly who was told what, each sent once, each with its own webhook-id ---
      const rows = await waitFor(
        async () => {
          const all = await webhookRows(announcement.id);
          return all.length === 10 && all.every((row) => row.status === 'sent') && all;
        },
        { what: 'every webhook delivery sent' },
      );
      const byKind = (kind: string) =>
        rows
          .filter((row) => row.kind === kind)
          .map((row) => row.recipient)
          .sort();
      const recipients = (hooks: { webhook: { id: string } }[]) => hooks.map((h) => `webhook:${h.webhook.id}`).sort();
      expect(byKind('announcement')).toEqual(recipients(takingPublications));
      expect(byKind('correction')).toEqual(recipients([everything, slack, teams]));
      expect(rows.filter((row) => row.kind === 'correction').map((row) => row.revision)).toEqual([2, 2, 2]);
      expect(byKind('retraction')).toEqual(recipients([everything, teams, retractionsOnly]));
      const calls = [everything, slack, teams, publicationsOnly, retractionsOnly].flatMap((hook) => callsTo(hook.path));
      expect(calls).toHaveLength(10);
      expect(new Set(calls.map((call) => call.headers['webhook-id'])).size).toBe(10);
      expect(callsTo(publicationsOnly.path)).toHaveLength(1);
      expect(callsTo(slack.path)).toHaveLength(2);
    } finally {
      await workers.close();
    }
  });
});

describe('insertWebhookNotices: who hears of an edit or a retraction', () => {
  it('those sent the publication (not those whose publication is pending or failed), and those not taking publications', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    const sent = await addWebhook(channel.id);
    const pending = await addWebhook(channel.id);
    const failed = await addWebhook(channel.id);
    const noPublications = await addWebhook(channel.id, { events: ['announcement.updated', 'announcement.retracted'] });
    const noUpdates = await addWebhook(channel.id, { events: ['announcement.published', 'announcement.retracted'] });
    // Registered after the publication: it never hears of it (as the fan-out's bound).
    await addWebhook(channel.id, { createdAt: new Date(Date.now() + 60_000) });
    const switchedOff = await addWebhook(channel.id);
    await db.webhook.update({ where: { id: switchedOff.webhook.id }, data: { enabled: false } });
    const { id } = await createAnnouncement(db, { channelId: channel.id });
    const publication = (hook: { webhook: { id: string } }, status: 'sent' | 'pending' | 'failed') => ({
      announcementId: id,
      recipient: `webhook:${hook.webhook.id}`,
      medium: 'webhook' as const,
      status,
    });
    await db.delivery.createMany({
      data: [
        publication(sent, 'sent'),
        publication(pending, 'pending'),
        publication(failed, 'failed'),
        publication(noUpdates, 'sent'),
        publication(switchedOff, 'sent'),
      ],
    });

    const corrections = await insertWebhookNotices(db, { announcementId: id, kind: 'correction', revision: 2 });
    expect(corrections.created).toBe(2);
    const made = await db.delivery.findMany({ where: { id: { in: corrections.pendingIds.map(BigInt) } } });
    expect(made.map((row) => row.recipient).sort()).toEqual(
      [`webhook:${sent.webhook.id}`, `webhook:${noPublications.webhook.id}`].sort(),
    );
    expect(made.every((row) => row.kind === 'correction' && row.revision === 2 && row.subscriptionId === null)).toBe(
      true,
    );
    // Again: nothing new, the same ids still due.
    const again = await insertWebhookNotices(db, { announcementId: id, kind: 'correction', revision: 2 });
    expect(again).toEqual({ created: 0, pendingIds: corrections.pendingIds });

    const retractions = await insertWebhookNotices(db, { announcementId: id, kind: 'retraction', revision: 0 });
    const told = await db.delivery.findMany({ where: { id: { in: retractions.pendingIds.map(BigInt) } } });
    expect(told.map((row) => row.recipient).sort()).toEqual(
      [sent, noPublications, noUpdates].map((hook) => `webhook:${hook.webhook.id}`).sort(),
    );
  });

  it('a webhook not taking publications hears nothing of an announcement for one organisation', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    const noPublications = await addWebhook(channel.id, { events: ['announcement.retracted'] });
    const organisation = await db.organisation.create({
      data: { code: `W${randomUUID().slice(0, 6)}`, name: 'Org', realm: `${randomUUID().slice(0, 6)}.no` },
    });
    const { id } = await createAnnouncement(db, { channelId: channel.id });
    await db.announcement.update({ where: { id }, data: { audienceOrganisationIds: [organisation.id] } });
    const notices = await insertWebhookNotices(db, { announcementId: id, kind: 'retraction', revision: 0 });
    expect(notices).toEqual({ created: 0, pendingIds: [] });
    expect(noPublications.webhook.events).toEqual(['announcement.retracted']);
  });
});

describe('processWebhookJob re-checks notices before sending', () => {
  /** A webhook, an announcement, and one delivery of `kind` for it, as the notices processor makes it. */
  async function notice(
    kind: 'correction' | 'retraction',
    options: { events?: WebhookEventType[]; revision?: number; status?: 'published' | 'retracted' } = {},
  ) {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    const hook = await addWebhook(channel.id, { events: options.events });
    const { id } = await createAnnouncement(db, { channelId: channel.id });
    if (options.status) await db.announcement.update({ where: { id }, data: { status: options.status } });
    const row = await db.delivery.create({
      data: {
        announcementId: id,
        recipient: `webhook:${hook.webhook.id}`,
        medium: 'webhook',
        kind,
        revision: kind === 'correction' ? (options.revision ?? 2) : 0,
      },
    });
    return { ...hook, announcementId: id, deliveryId: row.id };
  }

  const skipReasonOf = async (deliveryId: bigint) =>
    (await ctx.deps.db.delivery.findUniqueOrThrow({ where: { id: deliveryId } })).skipReason;

  it('skips what the webhook no longer takes (its owners changed its events since)', async () => {
    const made = await notice('correction', { events: ['announcement.published'] });
    const result = await processWebhookJob({ deliveryIds: [String(made.deliveryId)] }, deps);
    expect(result).toMatchObject({ skipped: 1, sent: 0 });
    expect(await skipReasonOf(made.deliveryId)).toBe(WEBHOOK_SKIP_REASON.eventNotWanted);
    expect(callsTo(made.path)).toHaveLength(0);
  });

  it('skips a correction superseded by a later material revision’s, and sends that one', async () => {
    const made = await notice('correction', { revision: 2 });
    const later = await ctx.deps.db.delivery.create({
      data: {
        announcementId: made.announcementId,
        recipient: `webhook:${made.webhook.id}`,
        medium: 'webhook',
        kind: 'correction',
        revision: 3,
      },
    });
    const result = await processWebhookJob({ deliveryIds: [String(made.deliveryId), String(later.id)] }, deps);
    expect(result).toMatchObject({ skipped: 1, sent: 1 });
    expect(await skipReasonOf(made.deliveryId)).toBe(WEBHOOK_SKIP_REASON.superseded);
    const [call] = callsTo(made.path);
    expect(verified(call!, made.secret).type).toBe('announcement.updated');
  });

  it('sends no correction of a retracted announcement, and no retraction notice of one that is not retracted', async () => {
    const correction = await notice('correction', { status: 'retracted' });
    const retraction = await notice('retraction', { status: 'published' });
    await processWebhookJob({ deliveryIds: [String(correction.deliveryId), String(retraction.deliveryId)] }, deps);
    expect(await skipReasonOf(correction.deliveryId)).toBe(WEBHOOK_SKIP_REASON.announcementNotPublished);
    expect(await skipReasonOf(retraction.deliveryId)).toBe(WEBHOOK_SKIP_REASON.announcementNotRetracted);
    expect([...callsTo(correction.path), ...callsTo(retraction.path)]).toHaveLength(0);
  });

  it('tells of a withdrawal narrowed to one organisation only a webhook that was sent the announcement', async () => {
    const db = ctx.deps.db;
    const organisation = await db.organisation.create({
      data: { code: `R${randomUUID().slice(0, 6)}`, name: 'Org', realm: `${randomUUID().slice(0, 6)}.no` },
    });
    const neverSent = await notice('retraction', { status: 'retracted', events: ['announcement.retracted'] });
    const wasSent = await notice('retraction', { status: 'retracted' });
    await db.delivery.create({
      data: {
        announcementId: wasSent.announcementId,
        recipient: `webhook:${wasSent.webhook.id}`,
        medium: 'webhook',
        status: 'sent',
      },
    });
    await db.announcement.updateMany({
      where: { id: { in: [neverSent.announcementId, wasSent.announcementId] } },
      data: { audienceOrganisationIds: [organisation.id] },
    });
    await processWebhookJob({ deliveryIds: [String(neverSent.deliveryId), String(wasSent.deliveryId)] }, deps);
    expect(await skipReasonOf(neverSent.deliveryId)).toBe(WEBHOOK_SKIP_REASON.audience);
    expect(callsTo(neverSent.path)).toHaveLength(0);
    const [call] = callsTo(wasSent.path);
    expect(verified(call!, wasSent.secret)).toMatchObject({
      type: 'announcement.retracted',
      data: { id: wasSent.announcementId },
    });
  });
});

/**
 * Webhook deliveries end to end against real HTTP receivers on 127.0.0.1 (allowlisted, as an operator would for an
 * internal host), real PostgreSQL and Redis, and a real SMTP server for the owners' notices: the ledger insert, the
 * signed message, retries with the same webhook-id, switching off after failures or 410, redirects, the Slack and
 * Teams bodies on the wire, the re-checks, and DNS rebinding at send time.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook as Verifier } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSmtpMailer, type Mailer } from '../../src/mail/mailer.js';
import { jobId } from '../../src/queue/jobs.js';
import { EMPTY_ALLOWLIST, parseAllowlist } from '../../src/webhooks/addresses.js';
import { enqueueWebhookDeliveries, insertWebhookDeliveries } from '../../src/webhooks/deliveries.js';
import type { WebhookFormat } from '../../src/webhooks/formats.js';
import { createWebhookHttpClient } from '../../src/webhooks/http-client.js';
import { generateWebhookSecret } from '../../src/webhooks/signing.js';
import {
  processWebhookJob,
  sweepWebhooks,
  WEBHOOK_SKIP_REASON,
  WEBHOOK_WORKER_LOST_ERROR,
  type WebhookProcessorDeps,
  webhookRetryDelayMs,
} from '../../workers/processors/webhook.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createAnnouncement, deliveriesOf, silentLogger } from '../helpers/delivery.js';
import { createChannel, createUser, grantRole } from '../helpers/factories.js';
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
let receiver: http.Server;
let base: string;
const received: Received[] = [];
/** Statuses to answer per path, in order; 200 once a path's list is used up. */
const script = new Map<string, number[]>();
let deps: WebhookProcessorDeps;

beforeAll(async () => {
  smtp = await startSmtpServer();
  ctx = await createTestContext({
    PUBLIC_URL: 'https://meldingskanal.example.no',
    WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
  });
  mailer = createSmtpMailer({ url: smtp.url, poolSize: 1, maxMessages: 100, ratePerSecond: 0 });
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ path: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
      const status = script.get(req.url!)?.shift() ?? 200;
      const headers = status >= 300 && status < 400 ? { location: `${base}/redirect-target` } : {};
      res.writeHead(status, headers).end(status >= 400 ? 'nope' : '');
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
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
});

afterAll(async () => {
  receiver?.closeAllConnections();
  receiver?.close();
  await mailer?.close();
  await smtp?.close();
  await ctx?.close();
});

beforeEach(() => {
  script.clear();
});

/** A channel with an owner, and a webhook on it pointing at `path` of the receiver. */
async function channelWithWebhook(options: { format?: WebhookFormat; path?: string; url?: string } = {}) {
  const db = ctx.deps.db;
  const channel = await createChannel(db, { title: 'BOTT IT-drift' });
  const owner = await createUser(db);
  await grantRole(db, channel.id, owner.id, 'owner');
  const path = options.path ?? `/hook-${randomUUID()}`;
  const secret = generateWebhookSecret();
  const webhook = await db.webhook.create({
    data: {
      id: randomUUID(),
      channelId: channel.id,
      url: options.url ?? `${base}${path}`,
      format: options.format ?? 'standard',
      secret,
      description: 'Driftsrommet',
      createdAt: new Date(Date.now() - 60_000),
    },
  });
  return { channel, owner, webhook, path, secret };
}

/** A published announcement of the channel and its webhook delivery ids. */
async function publish(channelId: string, options: { title?: string } = {}) {
  const announcement = await createAnnouncement(ctx.deps.db, { channelId, title: options.title });
  const ids = await insertWebhookDeliveries(ctx.deps.db, announcement.id, channelId);
  return { announcement, ids };
}

function requestsTo(path: string): Received[] {
  return received.filter((r) => r.path === path);
}

/** Makes a retrying delivery due now (instead of waiting out its back-off). */
async function makeDue(ids: string[]) {
  await ctx.deps.db.$executeRaw`UPDATE "Delivery" SET "nextAttemptAt" = now() WHERE id = ANY(${ids}::bigint[])`;
}

describe('insertWebhookDeliveries', () => {
  it('makes one pending delivery per enabled webhook for an announcement for everyone, and is idempotent', async () => {
    const { channel, webhook } = await channelWithWebhook();
    const off = await ctx.deps.db.webhook.create({
      data: {
        id: randomUUID(),
        channelId: channel.id,
        url: `${base}/off`,
        secret: generateWebhookSecret(),
        enabled: false,
      },
    });
    const { announcement, ids } = await publish(channel.id);
    expect(ids).toHaveLength(1);
    const [delivery] = await deliveriesOf(ctx.deps.db, announcement.id);
    expect(delivery).toMatchObject({
      recipient: `webhook:${webhook.id}`,
      medium: 'webhook',
      kind: 'announcement',
      revision: 0,
      status: 'pending',
      subscriptionId: null,
    });
    expect(off.id).not.toBe(webhook.id);
    // A re-run inserts nothing and hands back the still-pending one.
    expect(await insertWebhookDeliveries(ctx.deps.db, announcement.id, channel.id)).toEqual(ids);
    expect(await deliveriesOf(ctx.deps.db, announcement.id)).toHaveLength(1);
  });

  it('makes none for an announcement with a limited audience, a draft, or a webhook newer than the publication', async () => {
    const db = ctx.deps.db;
    const { channel } = await channelWithWebhook();
    const organisation = await db.organisation.create({
      data: { code: `O${randomUUID().slice(0, 6)}`, name: 'Org', realm: `${randomUUID().slice(0, 6)}.no` },
    });
    const limited = await createAnnouncement(db, { channelId: channel.id });
    await db.announcement.update({ where: { id: limited.id }, data: { audienceOrganisationIds: [organisation.id] } });
    expect(await insertWebhookDeliveries(db, limited.id, channel.id)).toEqual([]);

    const draft = await createAnnouncement(db, { channelId: channel.id, status: 'draft' });
    expect(await insertWebhookDeliveries(db, draft.id, channel.id)).toEqual([]);

    const older = await createAnnouncement(db, {
      channelId: channel.id,
      publishedAt: new Date(Date.now() - 3_600_000),
    });
    expect(await insertWebhookDeliveries(db, older.id, channel.id)).toEqual([]);
  });

  it('enqueues webhook jobs named by their first delivery id', async () => {
    const { channel } = await channelWithWebhook();
    const { ids } = await publish(channel.id);
    expect(await enqueueWebhookDeliveries(ctx.deps.queues.webhook, ids)).toBe(1);
    const job = await ctx.deps.queues.webhook.getJob(jobId.webhook(ids[0]!));
    expect(job?.data).toEqual({ deliveryIds: ids });
  });
});

describe('processWebhookJob', () => {
  it('sends a Standard Webhooks message the reference library verifies, and records the success', async () => {
    const { channel, webhook, path, secret } = await channelWithWebhook();
    const { announcement, ids } = await publish(channel.id, { title: 'Planlagt vedlikehold av Canvas' });

    const result = await processWebhookJob({ deliveryIds: ids }, deps);
    expect(result).toEqual({ sent: 1, skipped: 0, failed: 0, retrying: 0, notClaimed: 0, disabled: 0 });

    const [request] = requestsTo(path);
    expect(request).toBeDefined();
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['webhook-id']).toBe(`msg_${ids[0]}`);
    const payload = new Verifier(secret).verify(request!.body, {
      'webhook-id': request!.headers['webhook-id'] as string,
      'webhook-timestamp': request!.headers['webhook-timestamp'] as string,
      'webhook-signature': request!.headers['webhook-signature'] as string,
    }) as { type: string; timestamp: string; data: Record<string, unknown> };
    expect(payload.type).toBe('announcement.published');
    expect(new Date(payload.timestamp).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(payload.data).toMatchObject({
      id: announcement.id,
      channel: channel.slug,
      title: 'Planlagt vedlikehold av Canvas',
      language: 'nb',
      url: `https://meldingskanal.example.no/announcements/${announcement.id}`,
    });

    const [delivery] = await deliveriesOf(ctx.deps.db, announcement.id);
    expect(delivery).toMatchObject({ status: 'sent', attempts: 1, lastError: null });
    const after = await ctx.deps.db.webhook.findUniqueOrThrow({ where: { id: webhook.id } });
    expect(after.consecutiveFailures).toBe(0);
    expect(after.lastSuccessAt).toBeInstanceOf(Date);

    // Running the job again sends nothing: the claim fails.
    expect(await processWebhookJob({ deliveryIds: ids }, deps)).toMatchObject({ sent: 0, notClaimed: 1 });
    expect(requestsTo(path)).toHaveLength(1);
  });

  it('retries after a 500 with back-off, carrying the same webhook-id, and resets the failure count on success', async () => {
    const { channel, webhook, path, secret } = await channelWithWebhook();
    const { announcement, ids } = await publish(channel.id);
    script.set(path, [500]);

    const first = await processWebhookJob({ deliveryIds: ids }, deps);
    expect(first).toMatchObject({ retrying: 1, sent: 0 });
    const [pending] = await deliveriesOf(ctx.deps.db, announcement.id);
    expect(pending).toMatchObject({ status: 'pending', attempts: 1, lastError: 'HTTP 500: nope' });
    // Back-off: due in 15–30 s (attempt 1 of base 30 s with equal jitter), not now.
    expect(pending!.nextAttemptAt.getTime()).toBeGreaterThan(Date.now() + 10_000);
    expect((await ctx.deps.db.webhook.findUniqueOrThrow({ where: { id: webhook.id } })).consecutiveFailures).toBe(1);
    const retryJob = await ctx.deps.queues.webhook.getJob(jobId.webhook(ids[0]!, 1));
    expect(retryJob?.data).toEqual({ deliveryIds: ids });
    expect(retryJob?.opts.delay).toBeGreaterThan(10_000);

    // Not due yet: a second run does not claim it.
    expect(await processWebhookJob({ deliveryIds: ids }, deps)).toMatchObject({ notClaimed: 1 });
    await makeDue(ids);
    expect(await processWebhookJob({ deliveryIds: ids }, deps)).toMatchObject({ sent: 1 });

    const requests = requestsTo(path);
    expect(requests).toHaveLength(2);
    expect(requests[0]!.headers['webhook-id']).toBe(`msg_${ids[0]}`);
    expect(requests[1]!.headers['webhook-id']).toBe(requests[0]!.headers['webhook-id']);
    const verifier = new Verifier(secret);
    for (const request of requests) {
      expect(() =>
        verifier.verify(request.body, {
          'webhook-id': request.headers['webhook-id'] as string,
          'webhook-timestamp': request.headers['webhook-timestamp'] as string,
          'webhook-signature': request.headers['webhook-signature'] as string,
        }),
      ).not.toThrow();
    }
    expect(await deliveriesOf(ctx.deps.db, announcement.id)).toMatchObject([{ status: 'sent', attempts: 2 }]);
    const after = await ctx.deps.db.webhook.findUniqueOrThrow({ where: { id: webhook.id } });
    expect(after).toMatchObject({ consecutiveFailures: 0, lastError: null, enabled: true });
  });

  it('marks a delivery failed after WEBHOOK_MAX_ATTEMPTS', async () => {
    const { channel, path } = await channelWithWebhook();
    const { announcement, ids } = await publish(channel.id);
    script.set(path, [502, 502]);
    const twoAttempts = { ...deps, maxAttempts: 2, maxFailures: 100 };
    expect(await processWebhookJob({ deliveryIds: ids }, twoAttempts)).toMatchObject({ retrying: 1 });
    await makeDue(ids);
    expect(await processWebhookJob({ deliveryIds: ids }, twoAttempts)).toMatchObject({ failed: 1 });
    expect(await deliveriesOf(ctx.deps.db, announcement.id)).toMatchObject([
      { status: 'failed', attempts: 2, lastError: 'HTTP 502: nope' },
    ]);
  });

  it('switches a webhook off after WEBHOOK_MAX_FAILURES consecutive failures, skips its pending deliveries, audits, and tells the owners', async () => {
    const db = ctx.deps.db;
    const { channel, webhook, path, owner } = await channelWithWebhook();
    const secondOwner = await createUser(db);
    await db.user.update({ where: { id: secondOwner.id }, data: { language: 'en' } });
    await grantRole(db, channel.id, secondOwner.id, 'owner');
    const publisher = await createUser(db);
    await grantRole(db, channel.id, publisher.id, 'publisher');
    script.set(path, [503, 503, 503, 503]);

    const deliveries = [];
    for (let i = 0; i < 4; i++) deliveries.push((await publish(channel.id)).ids[0]!);
    // Three deliveries fail once each: the third failure in a row switches the webhook off.
    expect(await processWebhookJob({ deliveryIds: [deliveries[0]!] }, deps)).toMatchObject({ retrying: 1 });
    expect(await processWebhookJob({ deliveryIds: [deliveries[1]!] }, deps)).toMatchObject({ retrying: 1 });
    expect(await processWebhookJob({ deliveryIds: [deliveries[2]!] }, deps)).toMatchObject({ failed: 1, disabled: 1 });

    const after = await db.webhook.findUniqueOrThrow({ where: { id: webhook.id } });
    expect(after).toMatchObject({ enabled: false, consecutiveFailures: 3, lastError: 'HTTP 503: nope' });
    expect(after.disabledAt).toBeInstanceOf(Date);
    const rows = await db.delivery.findMany({
      where: { id: { in: deliveries.map((id) => BigInt(id)) } },
      orderBy: { id: 'asc' },
    });
    expect(rows.map((row) => [row.status, row.skipReason])).toEqual([
      ['skipped', 'webhook_disabled'], // was pending for its retry
      ['skipped', 'webhook_disabled'],
      ['failed', null],
      ['skipped', 'webhook_disabled'], // never tried
    ]);
    expect(requestsTo(path)).toHaveLength(3);

    const audit = await db.auditLog.findMany({ where: { action: 'webhook.disable', targetId: webhook.id } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorKind: 'system', outcome: 'success', targetType: 'webhook' });
    expect(audit[0]!.details).toMatchObject({ reason: 'failures', consecutiveFailures: 3, skipped: 3 });

    const [nb] = await waitFor(() => smtp.messagesTo(owner.email).length === 1 && smtp.messagesTo(owner.email), {
      what: 'the first owner’s notice',
    });
    expect(nb!.parsed.subject).toBe('[BOTT IT-drift] En webhook er slått av');
    expect(nb!.parsed.text).toContain('Webhooken er slått av etter 3 mislykkede forsøk på rad.');
    expect(nb!.parsed.text).toContain(`Webhook: ${base} — Driftsrommet`);
    expect(nb!.parsed.text).toContain('Siste feil: HTTP 503: nope');
    expect(nb!.parsed.text).not.toContain(path); // the path may carry the receiver's token
    const [en] = await waitFor(
      () => smtp.messagesTo(secondOwner.email).length === 1 && smtp.messagesTo(secondOwner.email),
      { what: 'the second owner’s notice' },
    );
    expect(en!.parsed.subject).toBe('[BOTT IT-drift] A webhook was switched off');
    expect(en!.parsed.html).toContain('<html lang="en">');
    expect(smtp.messagesTo(publisher.email)).toHaveLength(0);

    // A job for a skipped delivery does nothing; the retry of the first one neither.
    await makeDue([deliveries[0]!]);
    expect(await processWebhookJob({ deliveryIds: [deliveries[0]!, deliveries[3]!] }, deps)).toMatchObject({
      notClaimed: 2,
    });
    expect(requestsTo(path)).toHaveLength(3);
  });

  it('switches a webhook off at once on 410 Gone, and tells the owner why', async () => {
    const { channel, webhook, path, owner } = await channelWithWebhook();
    script.set(path, [410]);
    const { announcement, ids } = await publish(channel.id);
    expect(await processWebhookJob({ deliveryIds: ids }, deps)).toMatchObject({ failed: 1, disabled: 1 });
    expect(await deliveriesOf(ctx.deps.db, announcement.id)).toMatchObject([
      { status: 'failed', lastError: 'HTTP 410: nope' },
    ]);
    expect(await ctx.deps.db.webhook.findUniqueOrThrow({ where: { id: webhook.id } })).toMatchObject({
      enabled: false,
      consecutiveFailures: 1,
    });
    const [mail] = await waitFor(() => smtp.messagesTo(owner.email).length === 1 && smtp.messagesTo(owner.email), {
      what: 'the owner’s notice',
    });
    expect(mail!.parsed.text).toContain('410 Gone');
  });

  it('does not follow a redirect: a 3xx is a failure and the target gets nothing', async () => {
    const { channel, path } = await channelWithWebhook();
    script.set(path, [307]);
    const { announcement, ids } = await publish(channel.id);
    expect(await processWebhookJob({ deliveryIds: ids }, deps)).toMatchObject({ retrying: 1 });
    const [delivery] = await deliveriesOf(ctx.deps.db, announcement.id);
    expect(delivery!.lastError).toBe(`HTTP 307: redirect to ${base}/redirect-target not followed`);
    expect(requestsTo('/redirect-target')).toHaveLength(0);
  });

  it('sends the Slack and Teams bodies their receivers expect', async () => {
    const slack = await channelWithWebhook({ format: 'slack' });
    const teams = await channelWithWebhook({ format: 'teams' });
    const fromSlack = await publish(slack.channel.id, { title: 'Nettverk <nede> & treigt' });
    const fromTeams = await publish(teams.channel.id, { title: 'Nettverk nede' });
    await processWebhookJob({ deliveryIds: [...fromSlack.ids, ...fromTeams.ids] }, deps);

    const slackBody = JSON.parse(requestsTo(slack.path)[0]!.body);
    expect(slackBody.text.startsWith('Nettverk &lt;nede&gt; &amp; treigt\n')).toBe(true);
    expect(slackBody.blocks.map((b: { type: string }) => b.type)).toEqual(['header', 'section', 'context', 'actions']);
    expect(slackBody.blocks[3].elements[0].url).toBe(
      `https://meldingskanal.example.no/announcements/${fromSlack.announcement.id}`,
    );

    const teamsBody = JSON.parse(requestsTo(teams.path)[0]!.body);
    expect(teamsBody.type).toBe('message');
    expect(teamsBody.attachments[0].contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(teamsBody.attachments[0].content.body[1]).toMatchObject({ type: 'TextBlock', text: 'Nettverk nede' });
    expect(teamsBody.attachments[0].content.actions[0].type).toBe('Action.OpenUrl');
    // Signed too, for a relay in between.
    expect(requestsTo(teams.path)[0]!.headers['webhook-signature']).toMatch(/^v1,/);
  });

  it('re-checks before sending: retracted, expired, audience narrowed, webhook switched off or deleted', async () => {
    const db = ctx.deps.db;
    const cases: [string, (a: { announcementId: string; webhookId: string }) => Promise<unknown>][] = [
      [
        WEBHOOK_SKIP_REASON.announcementNotPublished,
        ({ announcementId }) =>
          db.announcement.update({ where: { id: announcementId }, data: { status: 'retracted' } }),
      ],
      [
        WEBHOOK_SKIP_REASON.expired,
        ({ announcementId }) =>
          db.announcement.update({ where: { id: announcementId }, data: { expiresAt: new Date(Date.now() - 1000) } }),
      ],
      [
        WEBHOOK_SKIP_REASON.audience,
        async ({ announcementId }) => {
          const organisation = await db.organisation.create({
            data: { code: `A${randomUUID().slice(0, 6)}`, name: 'Org', realm: `${randomUUID().slice(0, 6)}.no` },
          });
          await db.announcement.update({
            where: { id: announcementId },
            data: { audienceOrganisationIds: [organisation.id] },
          });
        },
      ],
      [
        WEBHOOK_SKIP_REASON.webhookDisabled,
        ({ webhookId }) => db.webhook.update({ where: { id: webhookId }, data: { enabled: false } }),
      ],
      [WEBHOOK_SKIP_REASON.webhookRemoved, ({ webhookId }) => db.webhook.delete({ where: { id: webhookId } })],
    ];
    for (const [reason, change] of cases) {
      const { channel, webhook, path } = await channelWithWebhook();
      const { announcement, ids } = await publish(channel.id);
      await change({ announcementId: announcement.id, webhookId: webhook.id });
      expect(await processWebhookJob({ deliveryIds: ids }, deps), reason).toMatchObject({ skipped: 1 });
      expect(await deliveriesOf(db, announcement.id), reason).toMatchObject([
        { status: 'skipped', skipReason: reason },
      ]);
      expect(requestsTo(path), reason).toHaveLength(0);
    }
  });

  it('refuses at send time a host that now resolves to 127.0.0.1 when it is not allowlisted (DNS rebinding)', async () => {
    const hostname = 'hooks.rebind.example.test';
    const port = new URL(base).port;
    const { channel, webhook } = await channelWithWebhook({ url: `http://${hostname}:${port}/rebound` });
    const { announcement, ids } = await publish(channel.id);
    let resolved = '93.184.215.14';
    const rebinding = createWebhookHttpClient({
      allowlist: EMPTY_ALLOWLIST,
      timeoutMs: 2000,
      resolveAll: async () => [{ address: resolved, family: 4 }],
    });
    // At registration the name resolved to a public address...
    await rebinding.check(webhook.url);
    // ...and now to loopback.
    resolved = '127.0.0.1';
    expect(await processWebhookJob({ deliveryIds: ids }, { ...deps, client: rebinding })).toMatchObject({
      retrying: 1,
    });
    const [delivery] = await deliveriesOf(ctx.deps.db, announcement.id);
    expect(delivery!.lastError).toBe(`${hostname} (127.0.0.1) is a loopback address, which webhooks may not reach`);
    expect(requestsTo('/rebound')).toHaveLength(0);

    // The same host allowlisted by name is delivered to.
    const allowing = createWebhookHttpClient({
      allowlist: parseAllowlist([hostname]),
      timeoutMs: 2000,
      resolveAll: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    await makeDue(ids);
    expect(await processWebhookJob({ deliveryIds: ids }, { ...deps, client: allowing })).toMatchObject({ sent: 1 });
    expect(requestsTo('/rebound')).toHaveLength(1);
  });
});

describe('sweepWebhooks', () => {
  it('re-queues webhook rows whose worker died (or fails them when out of attempts) and pending rows whose job was lost', async () => {
    const db = ctx.deps.db;
    const { channel, path } = await channelWithWebhook();
    const stale = (await publish(channel.id)).ids[0]!;
    const exhausted = (await publish(channel.id)).ids[0]!;
    const lost = (await publish(channel.id)).ids[0]!;
    const fresh = (await publish(channel.id)).ids[0]!;
    await db.$executeRaw`UPDATE "Delivery" SET status = 'sending', attempts = 1, "claimedAt" = now() - interval '1 hour'
                          WHERE id = ${BigInt(stale)}`;
    await db.$executeRaw`UPDATE "Delivery" SET status = 'sending', attempts = 5, "claimedAt" = now() - interval '1 hour'
                          WHERE id = ${BigInt(exhausted)}`;
    await db.$executeRaw`UPDATE "Delivery" SET "nextAttemptAt" = now() - interval '1 hour' WHERE id = ${BigInt(lost)}`;

    const queue = ctx.deps.queues.webhook;
    const result = await sweepWebhooks({
      db,
      webhookQueue: queue,
      staleDeliveryMs: 60_000,
      maxAttempts: 5,
      logger: silentLogger,
    });
    expect(result).toEqual({ resetSending: 1, failedSending: 1, requeuedPending: 1 });
    const rows = await db.delivery.findMany({
      where: { id: { in: [stale, exhausted, lost, fresh].map((id) => BigInt(id)) } },
      orderBy: { id: 'asc' },
    });
    expect(rows.map((row) => [row.status, row.lastError])).toEqual([
      ['pending', WEBHOOK_WORKER_LOST_ERROR],
      ['failed', WEBHOOK_WORKER_LOST_ERROR],
      ['pending', null],
      ['pending', null],
    ]);
    const jobs = await queue.getJobs(['waiting', 'delayed', 'prioritized']);
    const requeued = jobs.filter(
      (job) => job.id?.startsWith(`webhook-${stale}-s`) || job.id?.startsWith(`webhook-${lost}-s`),
    );
    expect(requeued.flatMap((job) => job.data.deliveryIds).sort()).toEqual([lost, stale].sort());

    // The re-queued job sends them, each under its delivery's webhook-id.
    for (const job of requeued) await processWebhookJob(job.data, deps);
    expect(
      requestsTo(path)
        .map((r) => r.headers['webhook-id'])
        .sort(),
    ).toEqual([`msg_${lost}`, `msg_${stale}`].sort());
  });
});

describe('webhookRetryDelayMs', () => {
  it('doubles from 30 s up to 1 h, with half of it random', () => {
    expect(webhookRetryDelayMs(1, () => 0)).toBe(15_000);
    expect(webhookRetryDelayMs(1, () => 1)).toBe(30_000);
    expect(webhookRetryDelayMs(3, () => 1)).toBe(120_000);
    expect(webhookRetryDelayMs(20, () => 0)).toBe(1_800_000);
    expect(webhookRetryDelayMs(20, () => 1)).toBe(3_600_000);
  });
});

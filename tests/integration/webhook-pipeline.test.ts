/**
 * Webhooks in the whole pipeline, as src/main.ts runs it: publish → outbox → relay → fan-out → webhook worker → a
 * real HTTP receiver on 127.0.0.1 (allowlisted), with a signature the reference library verifies; an announcement
 * for one organisation never goes out by webhook.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook as Verifier } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/domain/types.js';
import { createSmtpMailer, type Mailer } from '../../src/mail/mailer.js';
import { publishAnnouncement } from '../../src/services/publish.js';
import { generateWebhookSecret } from '../../src/webhooks/signing.js';
import { startWorkers } from '../../workers/main.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { silentLogger } from '../helpers/delivery.js';
import { createChannel, createUser } from '../helpers/factories.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { waitFor } from '../helpers/wait.js';

let ctx: TestContext;
let smtp: TestSmtpServer;
let mailer: Mailer;
let admin: Actor;
let receiver: http.Server;
let base: string;
const received: { path: string; headers: http.IncomingHttpHeaders; body: string }[] = [];

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
});

afterAll(async () => {
  receiver?.closeAllConnections();
  receiver?.close();
  await mailer?.close();
  await smtp?.close();
  await ctx?.close();
});

describe('webhooks in the pipeline', () => {
  it('delivers a published announcement to the channel’s webhook, signed, and records it as sent', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db, { title: 'BOTT Økonomi' });
    const organisation = await db.organisation.create({
      data: { code: `P${randomUUID().slice(0, 6)}`, name: 'Org', realm: `${randomUUID().slice(0, 6)}.no` },
    });
    const secret = generateWebhookSecret();
    const path = `/pipeline-${randomUUID()}`;
    const webhook = await db.webhook.create({
      data: {
        id: randomUUID(),
        channelId: channel.id,
        url: `${base}${path}`,
        secret,
        createdAt: new Date(Date.now() - 60_000),
      },
    });
    const workers = await startWorkers(ctx.deps, { mailer, logger: silentLogger });
    try {
      const limited = await publishAnnouncement({ db, publicUrl: ctx.config.http.publicUrl }, admin, channel.slug, {
        title: 'Bare for én organisasjon',
        body: 'Tekst',
        audience: [organisation.code],
      });
      const announcement = await publishAnnouncement(
        { db, publicUrl: ctx.config.http.publicUrl },
        admin,
        channel.slug,
        { title: 'Fakturering stengt', body: 'Fakturering er stengt fredag.' },
      );

      const [request] = await waitFor(() => received.filter((r) => r.path === path).length > 0 && received, {
        what: 'the webhook call',
      });
      const payload = new Verifier(secret).verify(request!.body, {
        'webhook-id': request!.headers['webhook-id'] as string,
        'webhook-timestamp': request!.headers['webhook-timestamp'] as string,
        'webhook-signature': request!.headers['webhook-signature'] as string,
      });
      expect(payload).toMatchObject({
        type: 'announcement.published',
        data: { id: announcement.id, title: 'Fakturering stengt' },
      });
      const delivery = await waitFor(
        async () => {
          const row = await db.delivery.findFirst({ where: { announcementId: announcement.id, medium: 'webhook' } });
          return row?.status === 'sent' && row;
        },
        { what: 'the delivery to be recorded as sent' },
      );
      expect(delivery.recipient).toBe(`webhook:${webhook.id}`);
      expect(request!.headers['webhook-id']).toBe(`msg_${delivery.id}`);
      // The announcement for one organisation got no webhook delivery at all.
      expect(await db.delivery.count({ where: { announcementId: limited.id, medium: 'webhook' } })).toBe(0);
      expect(received.filter((r) => r.path === path)).toHaveLength(1);
    } finally {
      await workers.close();
    }
  });
});

/**
 * Web push through the running workers (startWorkers with its BullMQ bindings): publishing goes through the outbox
 * relay and the fan-out to the push worker and reaches each subscriber's browser at the local push service, decrypted
 * there with the browser's keys, in the subscriber's language; a push job on the "push" queue is sent; the maintenance
 * worker's sweeper re-queues a push delivery whose job was lost.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/domain/types.js';
import { createSmtpMailer, type Mailer } from '../../src/mail/mailer.js';
import type { PushPayload } from '../../src/push/payload.js';
import { CRITICAL_PUSH_TTL_SECONDS, generateVapidKeys } from '../../src/push/sender.js';
import { publishAnnouncement } from '../../src/services/publish.js';
import { startWorkers } from '../../workers/main.js';
import { enqueuePushJobs, insertPushDeliveries } from '../../workers/processors/push.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createAnnouncement, createSubscription, silentLogger } from '../helpers/delivery.js';
import { createChannel, createUser } from '../helpers/factories.js';
import { startPushEndpoint, type TestPushEndpoint } from '../helpers/push-endpoint.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { waitFor } from '../helpers/wait.js';

const VAPID = generateVapidKeys();

let ctx: TestContext;
let pushService: TestPushEndpoint;
let smtp: TestSmtpServer;
let mailer: Mailer;

beforeAll(async () => {
  pushService = await startPushEndpoint({ vapidPublicKey: VAPID.publicKey });
  smtp = await startSmtpServer();
  ctx = await createTestContext({
    PUBLIC_URL: 'https://meldingskanal.example.no',
    VAPID_PUBLIC_KEY: VAPID.publicKey,
    VAPID_PRIVATE_KEY: VAPID.privateKey,
    VAPID_SUBJECT: 'https://meldingskanal.example.no/kontakt',
    // The local push service (tests/helpers/push-endpoint.ts); the push worker sends only to allowed hosts.
    PUSH_SERVICE_HOSTS: '127.0.0.1',
    // The sweeper runs often and calls a job lost after a few seconds (long enough that a slow send on a busy machine
    // is not taken for a lost one), so the lost-job case completes quickly.
    SWEEP_INTERVAL_MS: '200',
    STALE_DELIVERY_MS: '4000',
  });
  mailer = createSmtpMailer({ url: smtp.url, poolSize: 1, maxMessages: 100, ratePerSecond: 0 });
});

afterAll(async () => {
  await mailer?.close();
  await smtp?.close();
  await pushService?.close();
  await ctx?.close();
});

/** A person subscribed to a new channel with push on and one browser, and an announcement there. */
async function subscriberAndAnnouncement(title: string) {
  const db = ctx.deps.db;
  const channel = await createChannel(db, { title: 'BOTT IAM' });
  const user = await createUser(db, { organisationCode: 'NTNU' });
  const subscription = await createSubscription(db, { channelId: channel.id, userId: user.id, language: 'en' });
  await db.subscription.update({ where: { id: subscription.id }, data: { push: true } });
  const browser = pushService.createSubscription();
  await db.pushSubscription.create({
    data: { id: randomUUID(), userId: user.id, endpoint: browser.endpoint, ...browser.keys },
  });
  const announcement = await createAnnouncement(db, { channelId: channel.id, title, importance: 'important' });
  return { subscription, browser, announcement };
}

describe('the push worker in startWorkers', () => {
  it('publishing reaches every push subscriber’s browsers, each in their language; others get none', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db, { title: 'BOTT Drift', visibility: 'internal' });
    const admin = await createUser(db, { isAdmin: true });
    const actor: Actor = {
      kind: 'user',
      userId: admin.id,
      isAdmin: true,
      organisationId: null,
      scopes: ['read', 'publish', 'admin'],
    };
    const people = [];
    for (const [language, push] of [
      ['en', true],
      ['nn', true],
      ['nb', false],
    ] as const) {
      const user = await createUser(db, { organisationCode: 'UIT' });
      const subscription = await createSubscription(db, {
        channelId: channel.id,
        userId: user.id,
        language,
        emailMode: 'off',
      });
      await db.subscription.update({ where: { id: subscription.id }, data: { push } });
      const browser = pushService.createSubscription();
      await db.pushSubscription.create({
        data: { id: randomUUID(), userId: user.id, endpoint: browser.endpoint, ...browser.keys },
      });
      people.push({ language, push, browser });
    }

    const workers = await startWorkers(ctx.deps, { mailer, logger: silentLogger, pushAgent: pushService.agent });
    try {
      const published = await publishAnnouncement({ db, publicUrl: ctx.config.http.publicUrl }, actor, channel.slug, {
        title: 'Nettverket er nede',
        body: 'Vi jobber med saken.',
        importance: 'critical',
        translations: [
          {
            language: 'nn',
            title: 'Nettverket er nede',
            summary: 'Vi arbeider med saka.',
            body: 'Vi arbeider med saka.',
          },
          { language: 'en', title: 'The network is down', body: 'We are working on it.' },
        ],
      });
      const [en, nn, off] = people;
      const arrived = await waitFor(
        () => {
          const got = [en!, nn!].map((p) => pushService.receivedBy(p.browser.endpoint)[0]);
          return got.every(Boolean) && (got as NonNullable<(typeof got)[number]>[]);
        },
        { what: 'push messages to both push subscribers' },
      );
      expect(arrived.map((m) => JSON.parse(m.plaintext!) as PushPayload)).toEqual([
        expect.objectContaining({
          id: published.id,
          title: 'The network is down',
          body: 'We are working on it.',
          language: 'en',
          importance: 'critical',
        }),
        expect.objectContaining({
          id: published.id,
          title: 'Nettverket er nede',
          body: 'Vi arbeider med saka.',
          language: 'nn',
        }),
      ]);
      expect(arrived.map((m) => [m.ttl, m.urgency])).toEqual([
        [CRITICAL_PUSH_TTL_SECONDS, 'high'],
        [CRITICAL_PUSH_TTL_SECONDS, 'high'],
      ]);
      const rows = await waitFor(
        async () => {
          const found = await db.delivery.findMany({ where: { announcementId: published.id, medium: 'push' } });
          return found.length === 2 && found.every((row) => row.status === 'sent') && found;
        },
        { what: 'both push deliveries sent' },
      );
      expect(rows).toHaveLength(2);
      expect(pushService.receivedBy(off!.browser.endpoint)).toHaveLength(0);
    } finally {
      await workers.close();
    }
  }, 60_000);

  it('sends what is put on the push queue, and the sweeper re-queues a delivery whose job was lost', async () => {
    const workers = await startWorkers(ctx.deps, { mailer, logger: silentLogger, pushAgent: pushService.agent });
    try {
      const queued = await subscriberAndAnnouncement('Innlogging nede');
      const { dueIds } = await insertPushDeliveries(ctx.deps.db, queued.announcement.id, [queued.subscription.id]);
      expect(dueIds).toHaveLength(1);
      await enqueuePushJobs(ctx.deps.queues.push, dueIds);

      const [message] = await waitFor(
        () => {
          const got = pushService.receivedBy(queued.browser.endpoint);
          return got.length > 0 && got;
        },
        { what: 'the push message' },
      );
      expect(JSON.parse(message!.plaintext!) as PushPayload).toMatchObject({
        id: queued.announcement.id,
        title: 'Innlogging nede',
        importance: 'important',
      });
      expect(message!.urgency).toBe('high');
      expect(message!.vapid.sub).toBe('https://meldingskanal.example.no/kontakt');
      await waitFor(
        async () =>
          (await ctx.deps.db.delivery.findUniqueOrThrow({ where: { id: BigInt(dueIds[0]!) } })).status === 'sent',
        { what: 'the delivery to be sent' },
      );

      // A delivery whose job never made it to Redis: only the sweeper can find it.
      const lost = await subscriberAndAnnouncement('Lost job');
      await insertPushDeliveries(ctx.deps.db, lost.announcement.id, [lost.subscription.id]);
      await waitFor(() => pushService.receivedBy(lost.browser.endpoint).length === 1, {
        what: 'the swept push message',
        timeoutMs: 30_000,
      });
      const row = await waitFor(async () => {
        const found = await ctx.deps.db.delivery.findFirstOrThrow({
          where: { announcementId: lost.announcement.id, medium: 'push' },
        });
        return found.status === 'sent' && found;
      });
      expect(row.attempts).toBe(1);
    } finally {
      await workers.close();
    }
  }, 60_000);
});

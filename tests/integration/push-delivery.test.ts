/**
 * Web push delivery against a local push service that verifies VAPID and decrypts every message with the browser keys
 * made here (tests/helpers/push-endpoint.ts): payload in the subscriber's language, TTL/Urgency/Topic headers, 404/410
 * removing the browser, 429/5xx retries, permanent refusals, re-checks, the fan-out's push part and the sweeper's.
 * Real web-push, real cryptography, real PostgreSQL and Redis.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Importance, Language } from '../../src/domain/types.js';
import { PUSH_PAYLOAD_MAX_BYTES, type PushPayload } from '../../src/push/payload.js';
import {
  CRITICAL_PUSH_TTL_SECONDS,
  createPushSender,
  generateVapidKeys,
  PUSH_TTL_SECONDS,
  type PushSender,
} from '../../src/push/sender.js';
import { jobId } from '../../src/queue/jobs.js';
import {
  deleteStalePushSubscriptions,
  fanOutPush,
  insertPushDeliveries,
  PUSH_SKIP_REASON,
  type PushProcessorDeps,
  processPushJob,
  sweepPush,
} from '../../workers/processors/push.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createAnnouncement, createSubscription, silentLogger } from '../helpers/delivery.js';
import { createChannel, createUser, grantRole } from '../helpers/factories.js';
import { type BrowserSubscription, startPushEndpoint, type TestPushEndpoint } from '../helpers/push-endpoint.js';

const VAPID = { ...generateVapidKeys(), subject: 'mailto:drift@example.no' };
const PUBLIC_URL = 'https://meldingskanal.example.no';

let ctx: TestContext;
let pushService: TestPushEndpoint;
let sender: PushSender;
let deps: PushProcessorDeps;

beforeAll(async () => {
  pushService = await startPushEndpoint({ vapidPublicKey: VAPID.publicKey });
  ctx = await createTestContext({ PUBLIC_URL, PUSH_MAX_ATTEMPTS: '3' });
  sender = createPushSender({ vapid: VAPID, agent: pushService.agent });
  deps = {
    db: ctx.deps.db,
    sender,
    pushQueue: ctx.deps.queues.push,
    publicUrl: PUBLIC_URL,
    // The local push service's host, as an operator would list it in PUSH_SERVICE_HOSTS.
    serviceHosts: ['127.0.0.1'],
    maxAttempts: 3,
    logger: silentLogger,
  };
});

afterAll(async () => {
  await pushService?.close();
  await ctx?.close();
});

beforeEach(() => {
  pushService.received.length = 0;
});

const db = () => ctx.deps.db;

/** A person with browsers registered (rows as the API stores them). */
async function personWithBrowsers(count: number, options: { organisationCode?: string } = {}) {
  const user = await createUser(db(), { organisationCode: options.organisationCode ?? 'UIO' });
  const browsers: (BrowserSubscription & { id: string })[] = [];
  for (let i = 0; i < count; i += 1) {
    const browser = pushService.createSubscription();
    const id = randomUUID();
    await db().pushSubscription.create({
      data: { id, userId: user.id, endpoint: browser.endpoint, p256dh: browser.keys.p256dh, auth: browser.keys.auth },
    });
    browsers.push({ ...browser, id });
  }
  return { user, browsers };
}

interface Setup {
  channelSlug?: string;
  importance?: Importance;
  language?: Language;
  push?: boolean;
  browsers?: number;
  title?: string;
  body?: string;
  summary?: string | null;
  translations?: { language: Language; title: string; summary?: string | null; body: string }[];
  expiresAt?: Date | null;
}

/** A channel, one subscriber with browsers, an announcement, and its push deliveries made by the fan-out. */
async function pushAnnouncement(setup: Setup = {}) {
  const channel = await createChannel(db(), { title: 'BOTT SA', slug: setup.channelSlug });
  const { user, browsers } = await personWithBrowsers(setup.browsers ?? 1);
  const subscription = await createSubscription(db(), {
    channelId: channel.id,
    userId: user.id,
    language: setup.language ?? 'nb',
    emailMode: 'off',
  });
  await db().subscription.update({ where: { id: subscription.id }, data: { push: setup.push ?? true } });
  const announcement = await createAnnouncement(db(), {
    channelId: channel.id,
    title: setup.title ?? 'Planlagt vedlikehold',
    body: setup.body ?? 'Tjenesten er **utilgjengelig** i kveld.\n\nVi beklager ulempen.',
    importance: setup.importance,
  });
  await db().announcement.update({
    where: { id: announcement.id },
    data: {
      summary: setup.summary ?? null,
      ...(setup.expiresAt !== undefined ? { expiresAt: setup.expiresAt } : {}),
    },
  });
  for (const t of setup.translations ?? []) {
    await db().announcementTranslation.create({
      data: {
        announcementId: announcement.id,
        language: t.language,
        title: t.title,
        summary: t.summary ?? null,
        body: t.body,
      },
    });
  }
  const fanout = await fanOutPush({ db: db(), pushQueue: ctx.deps.queues.push, pageSize: 100 }, announcement.id);
  const deliveries = await db().delivery.findMany({
    where: { announcementId: announcement.id, medium: 'push' },
    orderBy: { id: 'asc' },
  });
  return {
    channel,
    user,
    browsers,
    subscription,
    announcement,
    fanout,
    deliveries,
    ids: deliveries.map((d) => String(d.id)),
  };
}

function payloadOf(message: { plaintext: string | null }): PushPayload {
  expect(message.plaintext).not.toBeNull();
  return JSON.parse(message.plaintext!) as PushPayload;
}

async function deliveryRow(id: string) {
  return db().delivery.findUniqueOrThrow({ where: { id: BigInt(id) } });
}

describe('processPushJob', () => {
  it('sends an encrypted message that decrypts to the announcement in the subscription language (nynorsk)', async () => {
    const { announcement, ids, browsers, channel } = await pushAnnouncement({
      language: 'nn',
      translations: [
        {
          language: 'nn',
          title: 'Planlagt vedlikehald',
          summary: 'Tenesta er nede i kveld.',
          body: 'Tenesta er nede.',
        },
        { language: 'en', title: 'Planned maintenance', body: 'The service is down tonight.' },
      ],
    });
    expect(ids).toHaveLength(1);

    const result = await processPushJob({ deliveryIds: ids }, deps);
    expect(result).toMatchObject({ sent: 1, skipped: 0, failed: 0, retrying: 0, notClaimed: 0 });

    const [message] = pushService.receivedBy(browsers[0]!.endpoint);
    expect(message!.status).toBe(201);
    expect(payloadOf(message!)).toEqual({
      id: announcement.id,
      channel: channel.slug,
      title: 'Planlagt vedlikehald',
      body: 'Tenesta er nede i kveld.',
      url: `${PUBLIC_URL}/announcements/${announcement.id}`,
      importance: 'info',
      language: 'nn',
    });
    // VAPID: signed for this push service's origin, with our subject.
    expect(message!.vapid).toMatchObject({ aud: pushService.origin, sub: VAPID.subject });
    expect(message!.headers['content-encoding']).toBe('aes128gcm');
    expect(message!.ttl).toBe(PUSH_TTL_SECONDS);
    expect(message!.urgency).toBe('normal');
    expect(message!.topic).toBe(announcement.id.replace(/-/g, ''));

    const row = await deliveryRow(ids[0]!);
    expect(row).toMatchObject({
      status: 'sent',
      attempts: 1,
      lastError: null,
      recipient: expect.stringMatching(/^user:/),
    });
    expect(row.sentAt).toBeInstanceOf(Date);
    const device = await db().pushSubscription.findUniqueOrThrow({ where: { id: browsers[0]!.id } });
    expect(device.lastSuccessAt).toBeInstanceOf(Date);
  });

  it('in English, the body is the start of the plain text when there is no summary; critical: longer TTL, high urgency', async () => {
    const longBody = `The **VPN** is down.\n\n${'Details follow. '.repeat(40)}`;
    const { ids, browsers } = await pushAnnouncement({
      language: 'en',
      importance: 'critical',
      translations: [{ language: 'en', title: 'VPN outage', body: longBody }],
    });
    await processPushJob({ deliveryIds: ids }, deps);
    const [message] = pushService.receivedBy(browsers[0]!.endpoint);
    const payload = payloadOf(message!);
    expect(payload).toMatchObject({ title: 'VPN outage', language: 'en', importance: 'critical' });
    // Markdown rendered as plain text, on one line, cut with an ellipsis.
    expect(payload.body.startsWith('The VPN is down. Details follow.')).toBe(true);
    expect(payload.body.endsWith('…')).toBe(true);
    expect([...payload.body].length).toBeLessThanOrEqual(240);
    expect(message!.ttl).toBe(CRITICAL_PUSH_TTL_SECONDS);
    expect(message!.urgency).toBe('high');
  });

  it('important is high urgency; a language without a version falls back (nn → nb); TTL never outlives expiry', async () => {
    const expiresAt = new Date(Date.now() + 2 * 3600 * 1000);
    const { ids, browsers } = await pushAnnouncement({ language: 'nn', importance: 'important', expiresAt });
    await processPushJob({ deliveryIds: ids }, deps);
    const [message] = pushService.receivedBy(browsers[0]!.endpoint);
    expect(payloadOf(message!)).toMatchObject({ title: 'Planlagt vedlikehold', language: 'nb' });
    expect(message!.urgency).toBe('high');
    expect(message!.ttl).toBeGreaterThan(2 * 3600 - 60);
    expect(message!.ttl).toBeLessThanOrEqual(2 * 3600);
  });

  it('keeps the payload within PUSH_PAYLOAD_MAX_BYTES even for a very long title of multi-byte characters', async () => {
    const { ids, browsers } = await pushAnnouncement({
      title: 'Æøå 🚧 '.repeat(300),
      summary: 'Ærlig talt 🚧 '.repeat(100),
    });
    await processPushJob({ deliveryIds: ids }, deps);
    const [message] = pushService.receivedBy(browsers[0]!.endpoint);
    expect(Buffer.byteLength(message!.plaintext!)).toBeLessThanOrEqual(PUSH_PAYLOAD_MAX_BYTES);
    expect(payloadOf(message!).title.startsWith('Æøå 🚧')).toBe(true);
  });

  it('sends to every browser of the person; 410 from one deletes that browser and the delivery is still sent', async () => {
    const { ids, browsers } = await pushAnnouncement({ browsers: 3 });
    pushService.respondWith(browsers[1]!.endpoint, [410]);
    pushService.respondWith(browsers[2]!.endpoint, [404]);

    const result = await processPushJob({ deliveryIds: ids }, deps);
    expect(result).toMatchObject({ sent: 1, subscriptionsRemoved: 2 });
    expect(pushService.receivedBy(browsers[0]!.endpoint).map((m) => m.status)).toEqual([201]);
    expect(pushService.receivedBy(browsers[1]!.endpoint).map((m) => m.status)).toEqual([410]);
    const left = await db().pushSubscription.findMany({ where: { id: { in: browsers.map((b) => b.id) } } });
    expect(left.map((row) => row.id)).toEqual([browsers[0]!.id]);
    expect((await deliveryRow(ids[0]!)).status).toBe('sent');
  });

  it('410 from the only browser: the browser is deleted and the delivery skipped no_push_subscription', async () => {
    const { ids, browsers } = await pushAnnouncement();
    pushService.respondWith(browsers[0]!.endpoint, [410]);
    const result = await processPushJob({ deliveryIds: ids }, deps);
    expect(result).toMatchObject({ skipped: 1, subscriptionsRemoved: 1 });
    expect(await db().pushSubscription.count({ where: { id: browsers[0]!.id } })).toBe(0);
    expect(await deliveryRow(ids[0]!)).toMatchObject({
      status: 'skipped',
      skipReason: PUSH_SKIP_REASON.noPushSubscription,
    });
  });

  it('429 goes back to pending with a back-off of at least Retry-After and a retry job; the retry is delivered', async () => {
    const { ids, browsers } = await pushAnnouncement();
    pushService.respondWith(browsers[0]!.endpoint, [429], { retryAfterSeconds: 600 });

    const before = Date.now();
    const first = await processPushJob({ deliveryIds: ids }, deps);
    expect(first).toMatchObject({ retrying: 1, sent: 0 });
    const pending = await deliveryRow(ids[0]!);
    expect(pending).toMatchObject({ status: 'pending', attempts: 1 });
    expect(pending.lastError).toContain('429');
    // Retry-After 600 s beats the first back-off step (30–60 s).
    expect(pending.nextAttemptAt.getTime()).toBeGreaterThanOrEqual(before + 600_000 - 1000);
    const job = await ctx.deps.queues.push.getJob(jobId.push(ids[0]!, 1));
    expect(job?.data).toEqual({ deliveryIds: ids });
    expect(job!.opts.delay).toBeGreaterThanOrEqual(599_000);
    await job!.remove();

    // Not due yet: the job finds nothing to claim.
    expect(await processPushJob({ deliveryIds: ids }, deps)).toMatchObject({ notClaimed: 1 });

    await db().delivery.update({
      where: { id: BigInt(ids[0]!) },
      data: { nextAttemptAt: new Date(Date.now() - 1000) },
    });
    const second = await processPushJob({ deliveryIds: ids }, deps);
    expect(second).toMatchObject({ sent: 1 });
    expect(await deliveryRow(ids[0]!)).toMatchObject({ status: 'sent', attempts: 2, lastError: null });
    expect(pushService.receivedBy(browsers[0]!.endpoint).map((m) => m.status)).toEqual([429, 201]);
  });

  it('5xx on every attempt ends failed after PUSH_MAX_ATTEMPTS', async () => {
    const { ids, browsers } = await pushAnnouncement();
    pushService.respondWith(browsers[0]!.endpoint, [503, 500, 502]);
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      await db().delivery.update({
        where: { id: BigInt(ids[0]!) },
        data: { nextAttemptAt: new Date(Date.now() - 1000) },
      });
      const result = await processPushJob({ deliveryIds: ids }, deps);
      expect(result).toMatchObject(attempt < 3 ? { retrying: 1 } : { failed: 1 });
    }
    const row = await deliveryRow(ids[0]!);
    expect(row).toMatchObject({ status: 'failed', attempts: 3 });
    expect(row.lastError).toContain('502');
    // The browser stays: a push service that is down says nothing about the subscription.
    expect(await db().pushSubscription.count({ where: { id: browsers[0]!.id } })).toBe(1);
    for (const attempt of [1, 2]) await (await ctx.deps.queues.push.getJob(jobId.push(ids[0]!, attempt)))?.remove();
  });

  it('a refusal that retrying cannot fix (400, 403) fails at once', async () => {
    const { ids, browsers } = await pushAnnouncement();
    pushService.respondWith(browsers[0]!.endpoint, [403]);
    expect(await processPushJob({ deliveryIds: ids }, deps)).toMatchObject({ failed: 1 });
    const row = await deliveryRow(ids[0]!);
    expect(row).toMatchObject({ status: 'failed', attempts: 1 });
    expect(row.lastError).toContain('403');
  });

  it('a message signed with another VAPID key is refused by the push service (the check is real)', async () => {
    const { ids } = await pushAnnouncement();
    const wrongKeys = { ...generateVapidKeys(), subject: VAPID.subject };
    const wrongSender = createPushSender({ vapid: wrongKeys, agent: pushService.agent });
    expect(await processPushJob({ deliveryIds: ids }, { ...deps, sender: wrongSender })).toMatchObject({ failed: 1 });
    expect(pushService.refused.at(-1)?.reason).toBe('k is not the application server key of the subscription');
    expect((await deliveryRow(ids[0]!)).lastError).toContain('push service answered 403');
  });

  it('an unreachable push service is a retry, not a failure', async () => {
    const { ids, browsers } = await pushAnnouncement();
    // The same browser at a port where nothing listens.
    const closed = browsers[0]!.endpoint.replace(/:\d+\//, ':1/');
    await db().pushSubscription.update({ where: { id: browsers[0]!.id }, data: { endpoint: closed } });
    expect(await processPushJob({ deliveryIds: ids }, deps)).toMatchObject({ retrying: 1 });
    expect((await deliveryRow(ids[0]!)).lastError).toMatch(/unreachable: ECONNREFUSED/);
    await (await ctx.deps.queues.push.getJob(jobId.push(ids[0]!, 1)))?.remove();
  });

  it('is sent once when the same job runs twice, also concurrently', async () => {
    const { ids, browsers } = await pushAnnouncement();
    const [a, b] = await Promise.all([
      processPushJob({ deliveryIds: ids }, deps),
      processPushJob({ deliveryIds: ids }, deps),
    ]);
    expect(a.sent + b.sent).toBe(1);
    expect(a.notClaimed + b.notClaimed).toBe(1);
    expect(await processPushJob({ deliveryIds: ids }, deps)).toMatchObject({ notClaimed: 1, sent: 0 });
    expect(pushService.receivedBy(browsers[0]!.endpoint)).toHaveLength(1);
  });

  describe('re-checks just before sending', () => {
    it('push turned off for the channel meanwhile → skipped push_off', async () => {
      const { ids, subscription, browsers } = await pushAnnouncement();
      await db().subscription.update({ where: { id: subscription.id }, data: { push: false } });
      expect(await processPushJob({ deliveryIds: ids }, deps)).toMatchObject({ skipped: 1 });
      expect(await deliveryRow(ids[0]!)).toMatchObject({ status: 'skipped', skipReason: PUSH_SKIP_REASON.pushOff });
      expect(pushService.receivedBy(browsers[0]!.endpoint)).toHaveLength(0);
    });

    it('unsubscribed meanwhile → skipped subscription_removed', async () => {
      const { ids, subscription } = await pushAnnouncement();
      await db().subscription.delete({ where: { id: subscription.id } });
      await processPushJob({ deliveryIds: ids }, deps);
      expect(await deliveryRow(ids[0]!)).toMatchObject({ skipReason: PUSH_SKIP_REASON.subscriptionRemoved });
    });

    it('expired or retracted meanwhile → skipped', async () => {
      const expired = await pushAnnouncement();
      await db().announcement.update({
        where: { id: expired.announcement.id },
        data: { expiresAt: new Date(Date.now() - 1000) },
      });
      await processPushJob({ deliveryIds: expired.ids }, deps);
      expect(await deliveryRow(expired.ids[0]!)).toMatchObject({ skipReason: PUSH_SKIP_REASON.announcementExpired });

      const retracted = await pushAnnouncement();
      await db().announcement.update({
        where: { id: retracted.announcement.id },
        data: { status: 'retracted', retractedAt: new Date() },
      });
      await processPushJob({ deliveryIds: retracted.ids }, deps);
      expect(await deliveryRow(retracted.ids[0]!)).toMatchObject({
        skipReason: PUSH_SKIP_REASON.announcementNotPublished,
      });
    });

    it('can no longer read the channel (restricted now) → skipped no_access; outside the audience → audience', async () => {
      const noAccess = await pushAnnouncement();
      await db().channel.update({ where: { id: noAccess.channel.id }, data: { visibility: 'restricted' } });
      await processPushJob({ deliveryIds: noAccess.ids }, deps);
      expect(await deliveryRow(noAccess.ids[0]!)).toMatchObject({ skipReason: PUSH_SKIP_REASON.noAccess });

      const narrowed = await pushAnnouncement();
      const other = await db().organisation.upsert({
        where: { code: 'NTNU' },
        update: {},
        create: { code: 'NTNU', name: 'NTNU', realm: 'ntnu.no' },
      });
      await db().announcement.update({
        where: { id: narrowed.announcement.id },
        data: { audienceOrganisationIds: [other.id] },
      });
      await processPushJob({ deliveryIds: narrowed.ids }, deps);
      expect(await deliveryRow(narrowed.ids[0]!)).toMatchObject({ skipReason: PUSH_SKIP_REASON.audience });
    });

    it('no browser registered → skipped no_push_subscription; browser past its expiry is not sent to', async () => {
      const none = await pushAnnouncement({ browsers: 0 });
      await processPushJob({ deliveryIds: none.ids }, deps);
      expect(await deliveryRow(none.ids[0]!)).toMatchObject({ skipReason: PUSH_SKIP_REASON.noPushSubscription });

      const expired = await pushAnnouncement();
      await db().pushSubscription.update({
        where: { id: expired.browsers[0]!.id },
        data: { expiresAt: new Date(Date.now() - 1000) },
      });
      await processPushJob({ deliveryIds: expired.ids }, deps);
      expect(await deliveryRow(expired.ids[0]!)).toMatchObject({ skipReason: PUSH_SKIP_REASON.noPushSubscription });
      expect(pushService.receivedBy(expired.browsers[0]!.endpoint)).toHaveLength(0);
    });

    it('web push switched off on the server (no VAPID keys) → skipped push_disabled', async () => {
      const { ids } = await pushAnnouncement();
      await processPushJob({ deliveryIds: ids }, { ...deps, sender: null });
      expect(await deliveryRow(ids[0]!)).toMatchObject({ skipReason: PUSH_SKIP_REASON.pushDisabled });
    });
  });

  describe('PUSH_SERVICE_HOSTS, checked again at send time', () => {
    it('skips push_host_not_allowed once the allowlist no longer has the browser’s push service', async () => {
      const first = await pushAnnouncement();
      expect((await processPushJob({ deliveryIds: first.ids }, deps)).sent).toBe(1);
      // The operator narrows PUSH_SERVICE_HOSTS (a restart with a new setting): the same browser, a new announcement.
      const narrowed = { ...deps, serviceHosts: ['fcm.googleapis.com', 'push.services.mozilla.com'] };
      const announcement = await createAnnouncement(db(), { channelId: first.channel.id, title: 'Neste melding' });
      await fanOutPush({ db: db(), pushQueue: ctx.deps.queues.push, pageSize: 100 }, announcement.id);
      const [delivery] = await db().delivery.findMany({ where: { announcementId: announcement.id, medium: 'push' } });
      const result = await processPushJob({ deliveryIds: [String(delivery!.id)] }, narrowed);
      expect(result).toMatchObject({ sent: 0, skipped: 1, failed: 0, retrying: 0 });
      expect(await deliveryRow(String(delivery!.id))).toMatchObject({
        status: 'skipped',
        skipReason: PUSH_SKIP_REASON.pushHostNotAllowed,
        lastError: `not in PUSH_SERVICE_HOSTS: ${new URL(pushService.origin).host}`,
      });
      expect(pushService.receivedBy(first.browsers[0]!.endpoint)).toHaveLength(1);
      // Kept: the setting may be widened again.
      expect(await db().pushSubscription.count({ where: { id: first.browsers[0]!.id } })).toBe(1);
    });

    it('sends to the person’s browsers that are still allowed, and leaves the others out', async () => {
      const { ids, browsers, user } = await pushAnnouncement();
      // A second browser at a push service the allowlist does not have (it would not even resolve).
      await db().pushSubscription.create({
        data: {
          id: randomUUID(),
          userId: user.id,
          endpoint: 'https://push.example.invalid/send/abc',
          p256dh: browsers[0]!.keys.p256dh,
          auth: browsers[0]!.keys.auth,
        },
      });
      const result = await processPushJob({ deliveryIds: ids }, deps);
      expect(result).toMatchObject({ sent: 1, skipped: 0 });
      expect(pushService.receivedBy(browsers[0]!.endpoint)).toHaveLength(1);
      // Not tried at all: a failed attempt there would be in lastError.
      expect(await deliveryRow(ids[0]!)).toMatchObject({ status: 'sent', lastError: null });
    });
  });

  it('refuses malformed jobs (permanent errors for BullMQ)', async () => {
    for (const data of [
      {},
      { deliveryIds: [] },
      { deliveryIds: ['0'] },
      { deliveryIds: ['x'] },
      { deliveryIds: [1] },
    ]) {
      await expect(processPushJob(data as never, deps)).rejects.toMatchObject({ code: 'validation_failed' });
    }
  });
});

describe('fanOutPush', () => {
  it('makes one push delivery per subscriber with push on who may see it, idempotently, and enqueues them', async () => {
    const channel = await createChannel(db(), { visibility: 'internal' });
    const member = await createUser(db(), { organisationCode: 'UIB' });
    const memberOff = await createUser(db(), { organisationCode: 'UIB' });
    const outsider = await createUser(db()); // no member organisation: cannot read an internal channel
    const editor = await createUser(db());
    await grantRole(db(), channel.id, editor.id, 'publisher');
    const late = await createUser(db(), { organisationCode: 'UIB' });
    const withPush = [member, outsider, editor];
    for (const user of [...withPush, memberOff]) {
      const s = await createSubscription(db(), { channelId: channel.id, userId: user.id });
      await db().subscription.update({ where: { id: s.id }, data: { push: user !== memberOff } });
    }
    // A bare address has no browser: never a push delivery.
    await createSubscription(db(), { channelId: channel.id });
    const announcement = await createAnnouncement(db(), { channelId: channel.id, importance: 'critical' });
    // Subscribed after publication: not in this announcement's audience (the same bound as e-mail).
    const lateSub = await createSubscription(db(), {
      channelId: channel.id,
      userId: late.id,
      createdAt: new Date(Date.now() + 60_000),
    });
    await db().subscription.update({ where: { id: lateSub.id }, data: { push: true } });

    const fanoutDeps = { db: db(), pushQueue: ctx.deps.queues.push, pageSize: 10 };
    const first = await fanOutPush(fanoutDeps, announcement.id);
    expect(first).toMatchObject({ subscriptionsRead: 3, deliveriesCreated: 2, deliveriesEnqueued: 2, jobs: 1 });
    const rows = await db().delivery.findMany({ where: { announcementId: announcement.id }, orderBy: { id: 'asc' } });
    expect(rows.map((r) => [r.recipient, r.medium, r.kind, r.status])).toEqual([
      [`user:${member.id}`, 'push', 'announcement', 'pending'],
      [`user:${editor.id}`, 'push', 'announcement', 'pending'],
    ]);
    const job = await ctx.deps.queues.push.getJob(jobId.push(rows[0]!.id));
    expect(job?.data).toEqual({ deliveryIds: rows.map((r) => String(r.id)) });

    // Again: nothing new, the still-pending ones are due again.
    const again = await fanOutPush(fanoutDeps, announcement.id);
    expect(again).toMatchObject({ deliveriesCreated: 0, deliveriesEnqueued: 2 });
    expect(await db().delivery.count({ where: { announcementId: announcement.id } })).toBe(2);

    // insertPushDeliveries for ids of another channel or without push does nothing.
    const otherChannel = await createChannel(db());
    const foreign = await createSubscription(db(), { channelId: otherChannel.id, userId: member.id });
    await db().subscription.update({ where: { id: foreign.id }, data: { push: true } });
    expect(await insertPushDeliveries(db(), announcement.id, [foreign.id])).toEqual({ inserted: 0, dueIds: [] });
  });

  it('pages through many subscribers', async () => {
    const channel = await createChannel(db());
    for (let i = 0; i < 7; i += 1) {
      const user = await createUser(db());
      const s = await createSubscription(db(), { channelId: channel.id, userId: user.id });
      await db().subscription.update({ where: { id: s.id }, data: { push: true } });
    }
    const announcement = await createAnnouncement(db(), { channelId: channel.id });
    const result = await fanOutPush({ db: db(), pushQueue: ctx.deps.queues.push, pageSize: 3 }, announcement.id);
    expect(result).toMatchObject({ subscriptionsRead: 7, deliveriesCreated: 7, jobs: 3 });
  });

  it('does nothing for a draft', async () => {
    const channel = await createChannel(db());
    const draft = await createAnnouncement(db(), { channelId: channel.id, status: 'draft' });
    expect(await fanOutPush({ db: db(), pushQueue: ctx.deps.queues.push, pageSize: 10 }, draft.id)).toMatchObject({
      deliveriesCreated: 0,
    });
  });
});

describe('sweepPush', () => {
  it('deletes browsers not seen for PUSH_SUBSCRIPTION_MAX_AGE_DAYS and those past their expiry', async () => {
    const { browsers } = await personWithBrowsers(3);
    const day = 24 * 3600 * 1000;
    await db().pushSubscription.update({
      where: { id: browsers[0]!.id },
      data: { lastSeenAt: new Date(Date.now() - 91 * day) },
    });
    await db().pushSubscription.update({
      where: { id: browsers[1]!.id },
      data: { lastSeenAt: new Date(Date.now() - 89 * day), expiresAt: new Date(Date.now() - 1000) },
    });
    await db().pushSubscription.update({
      where: { id: browsers[2]!.id },
      data: { lastSeenAt: new Date(Date.now() - 89 * day), expiresAt: new Date(Date.now() + day) },
    });
    expect(await deleteStalePushSubscriptions(db(), 90)).toBeGreaterThanOrEqual(2);
    const left = await db().pushSubscription.findMany({ where: { id: { in: browsers.map((b) => b.id) } } });
    expect(left.map((b) => b.id)).toEqual([browsers[2]!.id]);
  });

  it('re-queues a push delivery whose worker died mid-send, and one whose job was lost', async () => {
    const lostWorker = await pushAnnouncement();
    const lostJob = await pushAnnouncement();
    const longAgo = new Date(Date.now() - 10 * 60_000);
    await db().delivery.update({
      where: { id: BigInt(lostWorker.ids[0]!) },
      data: { status: 'sending', claimedAt: longAgo, attempts: 1 },
    });
    await db().delivery.update({ where: { id: BigInt(lostJob.ids[0]!) }, data: { nextAttemptAt: longAgo } });

    const result = await sweepPush({
      db: db(),
      pushQueue: ctx.deps.queues.push,
      staleDeliveryMs: 60_000,
      maxAttempts: 3,
      subscriptionMaxAgeDays: 90,
      logger: silentLogger,
    });
    expect(result.resetSending).toBeGreaterThanOrEqual(1);
    expect(result.requeuedPending).toBeGreaterThanOrEqual(1);
    expect(await deliveryRow(lostWorker.ids[0]!)).toMatchObject({
      status: 'pending',
      lastError: 'worker lost while sending',
    });

    // What the re-queued jobs would do: both are delivered.
    const sent = await processPushJob({ deliveryIds: [lostWorker.ids[0]!, lostJob.ids[0]!] }, deps);
    expect(sent).toMatchObject({ sent: 2 });
  });
});

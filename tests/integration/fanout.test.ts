/** The fan-out processor on real PostgreSQL and Redis: audience, ledger rows, e-mail jobs, idempotence. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobId } from '../../src/queue/jobs.js';
import { type FanoutProcessorDeps, processFanout } from '../../workers/processors/fanout.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createAnnouncement, createSubscription, deliveriesOf, silentLogger } from '../helpers/delivery.js';
import { createChannel, createUser } from '../helpers/factories.js';

let ctx: TestContext;
let deps: FanoutProcessorDeps;

beforeAll(async () => {
  ctx = await createTestContext();
  // Small pages and batches so a handful of subscribers exercises paging and batching.
  deps = { db: ctx.deps.db, emailQueue: ctx.deps.queues.email, pageSize: 3, emailBatchSize: 2, logger: silentLogger };
});

afterAll(async () => {
  await ctx.close();
});

async function emailJobsFor(deliveryIds: string[]) {
  const jobs = await ctx.deps.queues.email.getJobs(['waiting', 'delayed', 'prioritized', 'active', 'completed']);
  const wanted = new Set(deliveryIds);
  return jobs.filter((job) => job.data.deliveryIds.some((id) => wanted.has(id)));
}

describe('processFanout', () => {
  it('creates one pending e-mail delivery per eligible recipient and enqueues ids in batches', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    const other = await createChannel(db);
    const user = await createUser(db);
    const userWithoutAddress = await db.user.create({ data: { displayName: 'No address' } });

    const immediate = await Promise.all([
      createSubscription(db, { channelId: channel.id }),
      createSubscription(db, { channelId: channel.id, userId: user.id }),
      createSubscription(db, { channelId: channel.id, language: 'en' }),
      createSubscription(db, { channelId: channel.id }),
      createSubscription(db, { channelId: channel.id }),
    ]);
    // Not in the audience of an info announcement:
    await createSubscription(db, { channelId: channel.id, emailMode: 'daily' });
    await createSubscription(db, { channelId: channel.id, emailMode: 'weekly' });
    await createSubscription(db, { channelId: channel.id, emailMode: 'off' });
    await createSubscription(db, { channelId: channel.id, confirmed: false });
    await createSubscription(db, { channelId: channel.id, userId: userWithoutAddress.id });
    await createSubscription(db, { channelId: other.id });
    const announcement = await createAnnouncement(db, { channelId: channel.id });
    // Subscribed after publication: not part of this announcement's audience, however often the fan-out runs.
    await createSubscription(db, { channelId: channel.id, createdAt: new Date(Date.now() + 60_000) });

    const result = await processFanout({ announcementId: announcement.id }, deps);

    const deliveries = await deliveriesOf(db, announcement.id);
    expect(deliveries).toHaveLength(5);
    expect(deliveries.every((d) => d.medium === 'email' && d.status === 'pending' && d.attempts === 0)).toBe(true);
    expect(new Set(deliveries.map((d) => d.subscriptionId))).toEqual(new Set(immediate.map((s) => s.id)));
    const recipients = deliveries.map((d) => d.recipient).sort();
    expect(recipients).toContain(`user:${user.id}`);
    expect(recipients.filter((r) => r.startsWith('email:'))).toHaveLength(4);

    expect(result).toMatchObject({ status: 'done', deliveriesCreated: 5, deliveriesEnqueued: 5 });
    const ids = deliveries.map((d) => String(d.id));
    const jobs = await emailJobsFor(ids);
    expect(jobs.flatMap((job) => job.data.deliveryIds).sort()).toEqual([...ids].sort());
    expect(jobs.every((job) => job.data.deliveryIds.length <= 2)).toBe(true);
    for (const job of jobs) expect(job.id).toBe(jobId.email(job.data.deliveryIds[0]!));
  });

  it('is idempotent: a second run creates nothing and re-enqueues only still-pending deliveries', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    for (let i = 0; i < 4; i++) await createSubscription(db, { channelId: channel.id });
    const announcement = await createAnnouncement(db, { channelId: channel.id });

    await processFanout({ announcementId: announcement.id }, deps);
    const first = await deliveriesOf(db, announcement.id);
    expect(first).toHaveLength(4);
    // Two were sent meanwhile; the other two are still pending (say their jobs were lost).
    await db.delivery.updateMany({ where: { id: { in: [first[0]!.id, first[1]!.id] } }, data: { status: 'sent' } });

    const second = await processFanout({ announcementId: announcement.id }, deps);
    const after = await deliveriesOf(db, announcement.id);
    expect(after.map((d) => d.id)).toEqual(first.map((d) => d.id));
    expect(second).toMatchObject({ deliveriesCreated: 0, deliveriesEnqueued: 2 });
  });

  it('sends critical announcements to daily and weekly subscribers too, never to off', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    await createSubscription(db, { channelId: channel.id, emailMode: 'immediate' });
    await createSubscription(db, { channelId: channel.id, emailMode: 'daily' });
    await createSubscription(db, { channelId: channel.id, emailMode: 'weekly' });
    await createSubscription(db, { channelId: channel.id, emailMode: 'off' });
    const announcement = await createAnnouncement(db, { channelId: channel.id, importance: 'critical' });

    await processFanout({ announcementId: announcement.id }, deps);
    expect(await deliveriesOf(db, announcement.id)).toHaveLength(3);
  });

  it('does nothing for an announcement that is not published', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    await createSubscription(db, { channelId: channel.id });
    const draft = await createAnnouncement(db, { channelId: channel.id, status: 'draft' });
    const retracted = await createAnnouncement(db, { channelId: channel.id, status: 'retracted' });

    expect((await processFanout({ announcementId: draft.id }, deps)).status).toBe('not_published');
    expect((await processFanout({ announcementId: retracted.id }, deps)).status).toBe('not_published');
    expect((await processFanout({ announcementId: '00000000-0000-4000-8000-000000000000' }, deps)).status).toBe(
      'not_published',
    );
    expect(await db.delivery.count({ where: { announcementId: { in: [draft.id, retracted.id] } } })).toBe(0);
  });

  it('refuses a malformed job payload', async () => {
    await expect(processFanout({ announcementId: 'not-a-uuid' }, deps)).rejects.toMatchObject({
      code: 'validation_failed',
    });
  });
});

describe('processFanout with every medium wired', () => {
  it('makes e-mail, web push and webhook deliveries for one announcement, and a re-run makes none of them again', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    const pushUser = await createUser(db);
    const mailOnlyUser = await createUser(db);
    const pushSub = await createSubscription(db, { channelId: channel.id, userId: pushUser.id, emailMode: 'off' });
    await db.subscription.update({ where: { id: pushSub.id }, data: { push: true } });
    await createSubscription(db, { channelId: channel.id, userId: mailOnlyUser.id });
    const webhook = await db.webhook.create({
      data: {
        id: crypto.randomUUID(),
        channelId: channel.id,
        url: 'https://hooks.example.org/bott',
        secret: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
        createdAt: new Date(Date.now() - 60_000),
      },
    });
    const announcement = await createAnnouncement(db, { channelId: channel.id });
    const all: FanoutProcessorDeps = {
      ...deps,
      pushQueue: ctx.deps.queues.push,
      webhookQueue: ctx.deps.queues.webhook,
    };

    const first = await processFanout({ announcementId: announcement.id }, all);
    const rows = await deliveriesOf(db, announcement.id);
    expect(rows.map((d) => `${d.medium} ${d.recipient}`).sort()).toEqual(
      [`email user:${mailOnlyUser.id}`, `push user:${pushUser.id}`, `webhook webhook:${webhook.id}`].sort(),
    );
    expect(first.push).toMatchObject({ deliveriesCreated: 1 });
    expect(first.webhookDeliveriesEnqueued).toBe(1);
    const pushJobs = await ctx.deps.queues.push.getJobs(['waiting', 'delayed', 'prioritized', 'active', 'completed']);
    const pushRow = rows.find((d) => d.medium === 'push')!;
    expect(pushJobs.some((job) => job.data.deliveryIds.includes(String(pushRow.id)))).toBe(true);
    const hookJobs = await ctx.deps.queues.webhook.getJobs([
      'waiting',
      'delayed',
      'prioritized',
      'active',
      'completed',
    ]);
    const hookRow = rows.find((d) => d.medium === 'webhook')!;
    expect(hookJobs.some((job) => job.data.deliveryIds.includes(String(hookRow.id)))).toBe(true);

    const again = await processFanout({ announcementId: announcement.id }, all);
    expect(again.deliveriesCreated + (again.push?.deliveriesCreated ?? 0)).toBe(0);
    expect(await deliveriesOf(db, announcement.id)).toHaveLength(3);
  });
});

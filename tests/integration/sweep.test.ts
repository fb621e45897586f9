/** The sweeper on real PostgreSQL and Redis: stale claims go back to pending, lost pending rows are re-queued once. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeAnnouncementEmail } from '../../src/mail/compose.js';
import { createSmtpMailer, type Mailer } from '../../src/mail/mailer.js';
import { processEmailJob } from '../../workers/processors/email.js';
import { processFanout } from '../../workers/processors/fanout.js';
import { processSweep, type SweepProcessorDeps, WORKER_LOST_ERROR } from '../../workers/processors/sweep.js';
import { createTestContext, TEST_UNSUBSCRIBE_SECRET, type TestContext } from '../helpers/context.js';
import {
  createAnnouncement,
  createSubscription,
  deliveriesOf,
  silentLogger,
  uniqueAddress,
} from '../helpers/delivery.js';
import { createChannel } from '../helpers/factories.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';

let ctx: TestContext;
let smtp: TestSmtpServer;
let mailer: Mailer;
let sweepDeps: SweepProcessorDeps;
const STALE_MS = 60_000;
const LONG_AGO = () => new Date(Date.now() - 10 * 60_000);

beforeAll(async () => {
  smtp = await startSmtpServer();
  ctx = await createTestContext({ PUBLIC_URL: 'https://meldingskanal.example.no' });
  mailer = createSmtpMailer({ url: smtp.url, poolSize: 1, maxMessages: 1000, ratePerSecond: 0 });
  sweepDeps = {
    db: ctx.deps.db,
    emailQueue: ctx.deps.queues.email,
    staleDeliveryMs: STALE_MS,
    maxAttempts: 3,
    emailBatchSize: 50,
    logger: silentLogger,
  };
});

afterAll(async () => {
  await mailer.close();
  await smtp.close();
  await ctx.close();
});

async function deliveriesTo(addresses: string[]) {
  const db = ctx.deps.db;
  const channel = await createChannel(db);
  for (const email of addresses) await createSubscription(db, { channelId: channel.id, email });
  const announcement = await createAnnouncement(db, { channelId: channel.id });
  await processFanout(
    { announcementId: announcement.id },
    // One delivery per job, so each delivery's job can be lost on its own.
    { db, emailQueue: ctx.deps.queues.email, pageSize: 100, emailBatchSize: 1, logger: silentLogger },
  );
  return deliveriesOf(db, announcement.id);
}

/** Every e-mail job that carries this delivery id, whatever its state. */
async function jobsCarrying(deliveryId: bigint) {
  const jobs = await ctx.deps.queues.email.getJobs(['waiting', 'delayed', 'prioritized', 'active', 'completed']);
  return jobs.filter((job) => job.data.deliveryIds.includes(String(deliveryId)));
}

describe('processSweep', () => {
  it('puts a delivery whose worker died mid-send back to pending; the resend carries the same Message-ID', async () => {
    const address = uniqueAddress('crash');
    const [delivery] = await deliveriesTo([address]);
    const db = ctx.deps.db;
    const subscription = await db.subscription.findUniqueOrThrow({ where: { id: delivery!.subscriptionId! } });

    // A worker claimed the delivery long ago, handed the message to the relay and died before recording it.
    await db.delivery.update({
      where: { id: delivery!.id },
      data: { status: 'sending', claimedAt: LONG_AGO(), attempts: 1 },
    });
    await mailer.send(
      composeAnnouncementEmail({
        deliveryId: delivery!.id,
        to: address,
        from: 'noreply@example.no',
        publicUrl: ctx.config.http.publicUrl,
        language: subscription.language,
        channelTitle: 'Kanal',
        announcement: { title: 't', body: 'b', importance: 'info' },
        unsubscribeToken: 'unused',
      }),
    );

    const result = await processSweep(sweepDeps);
    expect(result.resetSending).toBeGreaterThanOrEqual(1);
    const reset = await db.delivery.findUniqueOrThrow({ where: { id: delivery!.id } });
    expect(reset).toMatchObject({ status: 'pending', lastError: WORKER_LOST_ERROR, attempts: 1 });
    expect(Math.abs(reset.nextAttemptAt.getTime() - Date.now())).toBeLessThan(30_000);

    const [job] = await jobsCarrying(delivery!.id);
    expect(job?.id).toMatch(new RegExp(`^email-${delivery!.id}-s\\d+$`));

    await processEmailJob(job!.data, {
      db,
      mailer,
      emailQueue: ctx.deps.queues.email,
      unsubscribeKey: TEST_UNSUBSCRIBE_SECRET,
      publicUrl: ctx.config.http.publicUrl,
      from: 'noreply@example.no',
      maxAttempts: 3,
      logger: silentLogger,
    });
    const received = smtp.messagesTo(address);
    expect(received).toHaveLength(2);
    expect(received[1]!.parsed.messageId).toBe(received[0]!.parsed.messageId);
    expect(received[1]!.parsed.messageId).toBe(`<delivery-${delivery!.id}@meldingskanal.example.no>`);
    expect(await db.delivery.findUniqueOrThrow({ where: { id: delivery!.id } })).toMatchObject({
      status: 'sent',
      attempts: 2,
    });
  });

  it('leaves a delivery that is being sent right now alone, and fails one that has no attempts left', async () => {
    const [fresh, exhausted] = await deliveriesTo([uniqueAddress(), uniqueAddress()]);
    const db = ctx.deps.db;
    await db.delivery.update({
      where: { id: fresh!.id },
      data: { status: 'sending', claimedAt: new Date(), attempts: 1 },
    });
    await db.delivery.update({
      where: { id: exhausted!.id },
      data: { status: 'sending', claimedAt: LONG_AGO(), attempts: 3 },
    });

    const result = await processSweep(sweepDeps);
    expect(result.failedSending).toBeGreaterThanOrEqual(1);
    expect(await db.delivery.findUniqueOrThrow({ where: { id: fresh!.id } })).toMatchObject({ status: 'sending' });
    expect(await db.delivery.findUniqueOrThrow({ where: { id: exhausted!.id } })).toMatchObject({
      status: 'failed',
      lastError: WORKER_LOST_ERROR,
    });
    expect(await jobsCarrying(exhausted!.id)).toHaveLength(1); // only the fan-out's original job
  });

  it('re-queues a pending delivery whose job was lost, once, even with two sweepers racing', async () => {
    const [lost, due] = await deliveriesTo([uniqueAddress(), uniqueAddress()]);
    const db = ctx.deps.db;
    // Redis lost the jobs: the fan-out's job is gone, and the row has been due for a long time.
    for (const job of await jobsCarrying(lost!.id)) await job.remove();
    await db.delivery.update({ where: { id: lost!.id }, data: { nextAttemptAt: LONG_AGO() } });

    const [a, b] = await Promise.all([processSweep(sweepDeps), processSweep(sweepDeps)]);
    expect(a.requeuedPending + b.requeuedPending).toBe(1);
    const jobs = await jobsCarrying(lost!.id);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.id).toMatch(new RegExp(`^email-${lost!.id}-s\\d+$`));
    const bumped = await db.delivery.findUniqueOrThrow({ where: { id: lost!.id } });
    expect(Math.abs(bumped.nextAttemptAt.getTime() - Date.now())).toBeLessThan(30_000);

    // A pending row that only just became due is not considered lost.
    expect(await jobsCarrying(due!.id)).toHaveLength(1);
    await processSweep(sweepDeps);
    expect(await jobsCarrying(due!.id)).toHaveLength(1);
    // Nor is the one just re-queued, until another STALE_DELIVERY_MS has passed.
    expect(await jobsCarrying(lost!.id)).toHaveLength(1);
  });
});

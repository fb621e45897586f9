/**
 * The whole delivery pipeline in this process, as src/main.ts runs it: publish → outbox → relay → fan-out → e-mail
 * over a real SMTP socket, plus the sweeper's schedule and a graceful close that lets an in-flight send finish.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/domain/types.js';
import { createSmtpMailer, type Mailer, type OutgoingMail } from '../../src/mail/mailer.js';
import { SWEEP_SCHEDULER_ID } from '../../src/queue/jobs.js';
import { publishAnnouncement } from '../../src/services/publish.js';
import { startWorkers } from '../../workers/main.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createSubscription, silentLogger, uniqueAddress } from '../helpers/delivery.js';
import { createChannel, createUser } from '../helpers/factories.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { waitFor } from '../helpers/wait.js';

let ctx: TestContext;
let smtp: TestSmtpServer;
let mailer: Mailer;
let admin: Actor;

beforeAll(async () => {
  smtp = await startSmtpServer();
  ctx = await createTestContext({ PUBLIC_URL: 'https://meldingskanal.example.no', SWEEP_INTERVAL_MS: '60000' });
  mailer = createSmtpMailer({ url: smtp.url, poolSize: 2, maxMessages: 1000, ratePerSecond: 0 });
  const user = await createUser(ctx.deps.db, { isAdmin: true });
  admin = { kind: 'user', userId: user.id, isAdmin: true, organisationId: null, scopes: ['read', 'publish', 'admin'] };
});

afterAll(async () => {
  await mailer.close();
  await smtp.close();
  await ctx.close();
});

async function channelWith(addresses: string[]) {
  const channel = await createChannel(ctx.deps.db, { title: 'BOTT Økonomi' });
  for (const email of addresses) await createSubscription(ctx.deps.db, { channelId: channel.id, email });
  return channel;
}

function publish(slug: string, title: string) {
  return publishAnnouncement({ db: ctx.deps.db, publicUrl: ctx.config.http.publicUrl }, admin, slug, {
    title,
    body: 'Fakturering er stengt fredag.',
  });
}

describe('startWorkers', () => {
  it('delivers a published announcement by e-mail and schedules the sweeper', async () => {
    const addresses = [uniqueAddress('a'), uniqueAddress('b'), uniqueAddress('c')];
    const channel = await channelWith(addresses);
    const workers = await startWorkers(ctx.deps, { mailer, logger: silentLogger });
    try {
      const announcement = await publish(channel.slug, 'Fakturering stengt');

      await waitFor(() => addresses.every((a) => smtp.messagesTo(a).length === 1), { what: 'three e-mails' });
      const [mail] = smtp.messagesTo(addresses[0]!);
      expect(mail!.parsed.subject).toBe('[BOTT Økonomi] Fakturering stengt');
      const deliveries = await waitFor(
        async () => {
          const rows = await ctx.deps.db.delivery.findMany({ where: { announcementId: announcement.id } });
          return rows.length === 3 && rows.every((row) => row.status === 'sent') && rows;
        },
        { what: 'the deliveries to be recorded as sent' },
      );
      expect(deliveries.map((d) => `<delivery-${d.id}@meldingskanal.example.no>`).sort()).toEqual(
        addresses.map((a) => smtp.messagesTo(a)[0]!.parsed.messageId).sort(),
      );

      const scheduler = await ctx.deps.queues.maintenance.getJobScheduler(SWEEP_SCHEDULER_ID);
      expect(scheduler?.every).toBe(60_000);
    } finally {
      await workers.close();
    }
  });

  it('close() lets a send in flight finish and records it', async () => {
    const address = uniqueAddress('inflight');
    const channel = await channelWith([address]);
    let sendStarted!: () => void;
    const started = new Promise<void>((resolve) => {
      sendStarted = resolve;
    });
    let releaseSend!: () => void;
    const released = new Promise<void>((resolve) => {
      releaseSend = resolve;
    });
    // The relay is slow to answer this one message: the send is still in flight when shutdown begins.
    const slowMailer: Mailer = {
      async send(message: OutgoingMail) {
        sendStarted();
        await released;
        return mailer.send(message);
      },
      close: async () => {},
    };
    const workers = await startWorkers(ctx.deps, { mailer: slowMailer, logger: silentLogger });

    const announcement = await publish(channel.slug, 'Under avslutning');
    await started;
    let closed = false;
    const closing = workers.close().then(() => {
      closed = true;
    });
    const inFlight = await ctx.deps.db.delivery.findFirstOrThrow({ where: { announcementId: announcement.id } });
    expect(inFlight.status).toBe('sending');
    expect(closed).toBe(false);

    releaseSend();
    await closing;
    expect(smtp.messagesTo(address)).toHaveLength(1);
    const settled = await ctx.deps.db.delivery.findFirstOrThrow({ where: { announcementId: announcement.id } });
    expect(settled.status).toBe('sent');
  });
});

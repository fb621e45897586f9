/**
 * The e-mail processor against a real SMTP server over a socket: message format and headers, claims, re-checks,
 * transient and permanent failures, and running twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Importance } from '../../src/domain/types.js';
import { createSmtpMailer, type Mailer } from '../../src/mail/mailer.js';
import { parseUnsubscribeToken, verifyUnsubscribeToken } from '../../src/mail/unsubscribe-token.js';
import { jobId } from '../../src/queue/jobs.js';
import { type EmailProcessorDeps, processEmailJob, SKIP_REASON } from '../../workers/processors/email.js';
import { processFanout } from '../../workers/processors/fanout.js';
import { createTestContext, TEST_UNSUBSCRIBE_SECRET, type TestContext } from '../helpers/context.js';
import {
  createAnnouncement,
  createSubscription,
  deliveriesOf,
  silentLogger,
  uniqueAddress,
} from '../helpers/delivery.js';
import { createChannel, createUser } from '../helpers/factories.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';

let ctx: TestContext;
let smtp: TestSmtpServer;
let mailer: Mailer;
let deps: EmailProcessorDeps;

beforeAll(async () => {
  smtp = await startSmtpServer();
  ctx = await createTestContext({ PUBLIC_URL: 'https://meldingskanal.example.no', EMAIL_MAX_ATTEMPTS: '3' });
  mailer = createSmtpMailer({ url: smtp.url, poolSize: 2, maxMessages: 1000, ratePerSecond: 0 });
  deps = {
    db: ctx.deps.db,
    mailer,
    emailQueue: ctx.deps.queues.email,
    unsubscribeKey: TEST_UNSUBSCRIBE_SECRET,
    publicUrl: ctx.config.http.publicUrl,
    from: 'BOTT Meldingskanal <noreply@example.no>',
    maxAttempts: ctx.config.delivery.emailMaxAttempts,
    logger: silentLogger,
  };
});

afterAll(async () => {
  await mailer.close();
  await smtp.close();
  await ctx.close();
});

/** A channel with these bare-address subscribers, an announcement, and the fan-out's deliveries (id order). */
async function announcementTo(
  addresses: string[],
  options: { title?: string; body?: string; importance?: Importance; channelTitle?: string } = {},
) {
  const db = ctx.deps.db;
  const channel = await createChannel(db, { title: options.channelTitle ?? 'BOTT SA' });
  const subscriptions = [];
  for (const email of addresses) subscriptions.push(await createSubscription(db, { channelId: channel.id, email }));
  const announcement = await createAnnouncement(db, {
    channelId: channel.id,
    title: options.title,
    body: options.body,
    importance: options.importance,
  });
  await processFanout(
    { announcementId: announcement.id },
    { db, emailQueue: ctx.deps.queues.email, pageSize: 100, emailBatchSize: 50, logger: silentLogger },
  );
  const deliveries = await deliveriesOf(db, announcement.id);
  return { channel, announcement, subscriptions, deliveries, ids: deliveries.map((d) => String(d.id)) };
}

describe('processEmailJob', () => {
  it('sends a multipart/alternative message with one-click unsubscribe and a Message-ID from the delivery id', async () => {
    const address = uniqueAddress();
    const { deliveries, ids, subscriptions } = await announcementTo([address], {
      title: 'Planlagt vedlikehold',
      body: 'Første linje\nandre linje\n\nNytt avsnitt',
    });

    const result = await processEmailJob({ deliveryIds: ids }, deps);
    expect(result).toEqual({ sent: 1, skipped: 0, failed: 0, retrying: 0, notClaimed: 0 });

    const [mail] = smtp.messagesTo(address);
    expect(mail).toBeDefined();
    const { parsed, raw } = mail!;
    expect(parsed.headers.get('content-type')).toMatchObject({ value: 'multipart/alternative' });
    expect(parsed.text).toContain('Første linje\nandre linje');
    expect(parsed.html).toContain('<html lang="nb">');
    expect(parsed.html).toContain('<p>Første linje<br />\nandre linje</p>');
    expect(parsed.subject).toBe('[BOTT SA] Planlagt vedlikehold');
    expect(parsed.messageId).toBe(`<delivery-${deliveries[0]!.id}@meldingskanal.example.no>`);
    expect(parsed.headers.get('auto-submitted')).toBe('auto-generated');
    expect(raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/m);

    const link = /^List-Unsubscribe: <(https:\/\/meldingskanal\.example\.no\/unsubscribe\?token=([^>]+))>$/.exec(
      mail!.headerLines.find((line) => line.startsWith('List-Unsubscribe:')) ?? '',
    );
    expect(link).not.toBeNull();
    const token = parseUnsubscribeToken(decodeURIComponent(link![2]!));
    expect(token?.subscriptionId).toBe(subscriptions[0]!.id);
    expect(verifyUnsubscribeToken(TEST_UNSUBSCRIBE_SECRET, token!, `email:${address}`)).toBe(true);

    const [row] = await deliveriesOf(ctx.deps.db, deliveries[0]!.announcementId);
    expect(row).toMatchObject({ status: 'sent', attempts: 1, lastError: null });
    expect(row!.sentAt).toBeInstanceOf(Date);
  });

  it('carries a Markdown body as HTML in the HTML part and as plain text in the text part, without the script', async () => {
    const address = uniqueAddress();
    const { ids } = await announcementTo([address], {
      body: '## Endringer\n\n- **Ny** innlogging: <https://www.uio.no/login>\n- Gammel <script>alert(1)</script>side',
    });

    await processEmailJob({ deliveryIds: ids }, deps);
    const [mail] = smtp.messagesTo(address);
    expect(mail!.parsed.html).toContain(
      '<h2>Endringer</h2>\n<ul>\n<li><strong>Ny</strong> innlogging: ' +
        '<a href="https://www.uio.no/login" rel="noopener noreferrer nofollow ugc">https://www.uio.no/login</a></li>\n' +
        '<li>Gammel side</li>\n</ul>',
    );
    expect(mail!.parsed.html).not.toMatch(/<script|alert\(1\)/);
    expect(mail!.parsed.text).toContain(
      'Endringer\n---------\n\n- Ny innlogging: https://www.uio.no/login\n- Gammel side',
    );
  });

  it('uses the account address for a user subscription', async () => {
    const db = ctx.deps.db;
    const user = await createUser(db);
    const channel = await createChannel(db);
    await createSubscription(db, { channelId: channel.id, userId: user.id, language: 'en' });
    const announcement = await createAnnouncement(db, { channelId: channel.id, importance: 'critical' });
    await processFanout(
      { announcementId: announcement.id },
      { db, emailQueue: ctx.deps.queues.email, pageSize: 100, emailBatchSize: 50, logger: silentLogger },
    );
    const ids = (await deliveriesOf(db, announcement.id)).map((d) => String(d.id));

    await processEmailJob({ deliveryIds: ids }, deps);
    const [mail] = smtp.messagesTo(user.email);
    expect(mail?.parsed.subject).toMatch(/^\[Channel channel-[0-9a-f]+\] Critical: /);
    expect(mail?.parsed.html).toContain('<html lang="en">');
  });

  it('does not let a title add a header', async () => {
    const address = uniqueAddress();
    const victim = uniqueAddress('victim');
    const { ids } = await announcementTo([address], {
      title: `Hei\r\nBcc: ${victim}\r\nX-Injected: yes`,
      channelTitle: 'Kanal\nX-Also-Injected: yes',
    });

    await processEmailJob({ deliveryIds: ids }, deps);
    const [mail] = smtp.messagesTo(address);
    expect(mail!.envelope.to).toEqual([address]);
    expect(smtp.messagesTo(victim)).toHaveLength(0);
    expect(mail!.parsed.headers.has('x-injected')).toBe(false);
    expect(mail!.parsed.headers.has('x-also-injected')).toBe(false);
    expect(mail!.parsed.headers.has('bcc')).toBe(false);
    expect(mail!.headerLines.filter((line) => /^(bcc|x-injected|x-also-injected):/i.test(line))).toEqual([]);
    expect(mail!.parsed.subject).toBe(`[Kanal X-Also-Injected: yes] Hei Bcc: ${victim} X-Injected: yes`);
  });

  it('retries a 4xx with back-off and sends once; the neighbours in the batch are not held back', async () => {
    const busy = uniqueAddress('busy');
    const fine = uniqueAddress('fine');
    smtp.refuse(busy, 451, 1);
    const { deliveries, ids } = await announcementTo([busy, fine]);
    const busyId = deliveries[0]!.id;

    const first = await processEmailJob({ deliveryIds: ids }, deps);
    expect(first).toMatchObject({ sent: 1, retrying: 1, failed: 0 });
    expect(smtp.messagesTo(fine)).toHaveLength(1);
    expect(smtp.messagesTo(busy)).toHaveLength(0);

    const pending = await ctx.deps.db.delivery.findUniqueOrThrow({ where: { id: busyId } });
    expect(pending).toMatchObject({ status: 'pending', attempts: 1 });
    expect(pending.lastError).toContain('451');
    expect(pending.lastError).not.toContain(busy);
    // First retry: between 30 and 60 seconds from now.
    const wait = pending.nextAttemptAt.getTime() - Date.now();
    expect(wait).toBeGreaterThan(20_000);
    expect(wait).toBeLessThanOrEqual(61_000);

    const retryJob = await ctx.deps.queues.email.getJob(jobId.email(busyId, 1));
    expect(retryJob?.data.deliveryIds).toEqual([String(busyId)]);
    expect(retryJob?.opts.delay).toBeGreaterThan(20_000);

    // Not due yet: running the retry early changes nothing.
    expect(await processEmailJob(retryJob!.data, deps)).toMatchObject({ notClaimed: 1, sent: 0 });

    // Time passes (the row becomes due), and the delayed job runs.
    await ctx.deps.db.delivery.update({ where: { id: busyId }, data: { nextAttemptAt: new Date(Date.now() - 1000) } });
    expect(await processEmailJob(retryJob!.data, deps)).toMatchObject({ sent: 1 });
    expect(smtp.messagesTo(busy)).toHaveLength(1);
    expect(await ctx.deps.db.delivery.findUniqueOrThrow({ where: { id: busyId } })).toMatchObject({
      status: 'sent',
      attempts: 2,
      lastError: null,
    });
  });

  it('marks a 5xx failed at once and never retries it', async () => {
    const gone = uniqueAddress('gone');
    smtp.refuse(gone, 550);
    const { deliveries, ids } = await announcementTo([gone]);

    expect(await processEmailJob({ deliveryIds: ids }, deps)).toMatchObject({ failed: 1, retrying: 0 });
    const row = await ctx.deps.db.delivery.findUniqueOrThrow({ where: { id: deliveries[0]!.id } });
    expect(row).toMatchObject({ status: 'failed', attempts: 1 });
    expect(row.lastError).toContain('550');
    expect(await ctx.deps.queues.email.getJob(jobId.email(deliveries[0]!.id, 1))).toBeUndefined();

    // Even if its job ran again, a failed delivery is not claimable.
    expect(await processEmailJob({ deliveryIds: ids }, deps)).toMatchObject({ notClaimed: 1 });
    expect(smtp.refusals.filter((r) => r.address === gone)).toHaveLength(1);
  });

  it('marks a delivery failed when its attempts are used up', async () => {
    const flaky = uniqueAddress('flaky');
    smtp.refuse(flaky, 421);
    const { deliveries, ids } = await announcementTo([flaky]);
    await ctx.deps.db.delivery.update({ where: { id: deliveries[0]!.id }, data: { attempts: 2 } });

    expect(await processEmailJob({ deliveryIds: ids }, deps)).toMatchObject({ failed: 1 });
    expect(await ctx.deps.db.delivery.findUniqueOrThrow({ where: { id: deliveries[0]!.id } })).toMatchObject({
      status: 'failed',
      attempts: 3,
    });
  });

  it('re-checks just before sending and skips with a reason', async () => {
    const db = ctx.deps.db;
    const addresses = [uniqueAddress('off'), uniqueAddress('removed'), uniqueAddress('daily'), uniqueAddress('ok')];
    const { deliveries, ids, subscriptions } = await announcementTo(addresses);
    // After the fan-out: one unsubscribes, one deletes the subscription, one switches to a daily digest.
    await db.subscription.update({ where: { id: subscriptions[0]!.id }, data: { emailMode: 'off' } });
    await db.subscription.delete({ where: { id: subscriptions[1]!.id } });
    await db.subscription.update({ where: { id: subscriptions[2]!.id }, data: { emailMode: 'daily' } });

    expect(await processEmailJob({ deliveryIds: ids }, deps)).toMatchObject({ sent: 1, skipped: 3 });
    const rows = await deliveriesOf(db, deliveries[0]!.announcementId);
    expect(rows.map((r) => [r.status, r.skipReason])).toEqual([
      ['skipped', SKIP_REASON.unsubscribed],
      ['skipped', SKIP_REASON.subscriptionRemoved],
      ['skipped', SKIP_REASON.digestMode],
      ['sent', null],
    ]);
    for (const address of addresses.slice(0, 3)) expect(smtp.messagesTo(address)).toHaveLength(0);
  });

  it('skips every delivery of an announcement retracted after the fan-out', async () => {
    const address = uniqueAddress();
    const { announcement, ids } = await announcementTo([address]);
    await ctx.deps.db.announcement.update({ where: { id: announcement.id }, data: { status: 'retracted' } });

    expect(await processEmailJob({ deliveryIds: ids }, deps)).toMatchObject({ skipped: 1 });
    const [row] = await deliveriesOf(ctx.deps.db, announcement.id);
    expect(row).toMatchObject({ status: 'skipped', skipReason: SKIP_REASON.announcementNotPublished });
    expect(smtp.messagesTo(address)).toHaveLength(0);
  });

  it('sends once when the same job runs twice at the same time and again afterwards', async () => {
    const addresses = [uniqueAddress('twice'), uniqueAddress('twice'), uniqueAddress('twice')];
    const { ids } = await announcementTo(addresses);

    const results = await Promise.all([
      processEmailJob({ deliveryIds: ids }, deps),
      processEmailJob({ deliveryIds: [...ids].reverse() }, deps),
    ]);
    const again = await processEmailJob({ deliveryIds: ids }, deps);

    expect(results[0]!.sent + results[1]!.sent).toBe(3);
    expect(results[0]!.notClaimed + results[1]!.notClaimed).toBe(3);
    expect(again).toMatchObject({ sent: 0, notClaimed: 3 });
    for (const address of addresses) expect(smtp.messagesTo(address)).toHaveLength(1);
  });

  it('refuses a malformed job payload', async () => {
    await expect(processEmailJob({ deliveryIds: [] }, deps)).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(processEmailJob({ deliveryIds: ['1', 'x'] }, deps)).rejects.toMatchObject({
      code: 'validation_failed',
    });
  });
});

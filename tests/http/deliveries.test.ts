/**
 * An announcement's delivery figures and the retry of its failed deliveries, over HTTP on real PostgreSQL, Redis and
 * SMTP: counts per medium × kind × revision × status with skip reasons, for the channel's editors only; a retry puts
 * back exactly the failed ones (optionally of one medium) with attempts reset, queues them, is audited, and the
 * sender still honours the suppression list.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createSmtpMailer, type Mailer } from '../../src/mail/mailer.js';
import { processEmailJob, SKIP_REASON } from '../../workers/processors/email.js';
import { createTestContext, TEST_UNSUBSCRIBE_SECRET, type TestContext } from '../helpers/context.js';
import { createAnnouncement, createSubscription, silentLogger, uniqueAddress } from '../helpers/delivery.js';
import { createChannel, createUser, grantRole, type TestChannel, tokenFor } from '../helpers/factories.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';

let ctx: TestContext;
let app: FastifyInstance;
let smtp: TestSmtpServer;
let mailer: Mailer;
let channel: TestChannel;
let publisherToken: string;
let readerToken: string;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  smtp = await startSmtpServer();
  ctx = await createTestContext({ PUBLIC_URL: 'https://meldingskanal.example.no' });
  app = await buildApp(ctx.deps, { logger: false });
  mailer = createSmtpMailer({ url: smtp.url, poolSize: 1, maxMessages: 100, ratePerSecond: 0 });
  channel = await createChannel(ctx.deps.db);
  const publisher = await createUser(ctx.deps.db, { organisationCode: 'UiB' });
  await grantRole(ctx.deps.db, channel.id, publisher.id, 'publisher');
  publisherToken = await tokenFor(ctx.deps.db, publisher.id);
  const reader = await createUser(ctx.deps.db, { organisationCode: 'UiB' });
  readerToken = await tokenFor(ctx.deps.db, reader.id);
});

afterAll(async () => {
  await app?.close();
  await mailer?.close();
  await smtp?.close();
  await ctx?.close();
});

type Row = {
  medium?: 'email' | 'push' | 'webhook';
  kind?: 'announcement' | 'correction' | 'retraction' | 'ack_reminder';
  revision?: number;
  status: 'pending' | 'sending' | 'sent' | 'failed' | 'skipped';
  skipReason?: string;
  recipient?: string;
  subscriptionId?: bigint;
};

async function ledger(announcementId: string, rows: Row[]) {
  for (const row of rows) {
    await ctx.deps.db.delivery.create({
      data: {
        announcementId,
        medium: row.medium ?? 'email',
        kind: row.kind ?? 'announcement',
        revision: row.revision ?? 0,
        status: row.status,
        skipReason: row.skipReason ?? null,
        recipient: row.recipient ?? `email:${uniqueAddress()}`,
        subscriptionId: row.subscriptionId ?? null,
        attempts: row.status === 'failed' ? 8 : 1,
        lastError: row.status === 'failed' ? '550 mailbox unavailable' : null,
      },
    });
  }
}

describe('GET /announcements/{id}/deliveries', () => {
  it('counts per medium, kind, revision and status, with the skip reasons, computed by PostgreSQL', async () => {
    const { id } = await createAnnouncement(ctx.deps.db, { channelId: channel.id });
    await ledger(id, [
      { status: 'sent' },
      { status: 'sent' },
      { status: 'failed' },
      { status: 'pending' },
      { status: 'skipped', skipReason: 'unsubscribed' },
      { status: 'skipped', skipReason: 'suppressed' },
      { status: 'skipped', skipReason: 'suppressed' },
      { kind: 'correction', revision: 2, status: 'sent' },
      { kind: 'correction', revision: 3, status: 'skipped', skipReason: 'superseded' },
      { medium: 'push', status: 'failed', recipient: `user:${randomUUID()}` },
      { medium: 'webhook', status: 'sent', recipient: `webhook:${randomUUID()}` },
    ]);

    const res = await app.inject({
      method: 'GET',
      url: `/api/v1/announcements/${id}/deliveries`,
      headers: bearer(publisherToken),
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.announcement).toBe(id);
    expect(body.totals).toEqual({ pending: 1, sending: 0, sent: 4, failed: 2, skipped: 4, total: 11 });
    expect(body.groups).toEqual([
      {
        medium: 'email',
        kind: 'announcement',
        revision: 0,
        pending: 1,
        sending: 0,
        sent: 2,
        failed: 1,
        skipped: 3,
        total: 7,
        skipReasons: [
          { reason: 'suppressed', count: 2 },
          { reason: 'unsubscribed', count: 1 },
        ],
      },
      expect.objectContaining({ medium: 'email', kind: 'correction', revision: 2, sent: 1, total: 1, skipReasons: [] }),
      expect.objectContaining({
        medium: 'email',
        kind: 'correction',
        revision: 3,
        skipped: 1,
        skipReasons: [{ reason: 'superseded', count: 1 }],
      }),
      expect.objectContaining({ medium: 'push', kind: 'announcement', failed: 1, total: 1 }),
      expect.objectContaining({ medium: 'webhook', kind: 'announcement', sent: 1, total: 1 }),
    ]);
  });

  it('answers an announcement without deliveries with zeros; 403 for a reader, 404 for an unknown one, 401 without a token', async () => {
    const { id } = await createAnnouncement(ctx.deps.db, { channelId: channel.id });
    const empty = await app.inject({
      method: 'GET',
      url: `/api/v1/announcements/${id}/deliveries`,
      headers: bearer(publisherToken),
    });
    expect(empty.json()).toEqual({
      announcement: id,
      totals: { pending: 0, sending: 0, sent: 0, failed: 0, skipped: 0, total: 0 },
      groups: [],
    });
    const reader = await app.inject({
      method: 'GET',
      url: `/api/v1/announcements/${id}/deliveries`,
      headers: bearer(readerToken),
    });
    expect(reader.statusCode).toBe(403);
    const unknown = await app.inject({
      method: 'GET',
      url: `/api/v1/announcements/${randomUUID()}/deliveries`,
      headers: bearer(publisherToken),
    });
    expect(unknown.statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: `/api/v1/announcements/${id}/deliveries` })).statusCode).toBe(401);

    // A restricted channel the caller cannot read answers like a missing announcement.
    const hidden = await createChannel(ctx.deps.db, { visibility: 'restricted' });
    const secret = await createAnnouncement(ctx.deps.db, { channelId: hidden.id });
    const res = await app.inject({
      method: 'GET',
      url: `/api/v1/announcements/${secret.id}/deliveries`,
      headers: bearer(readerToken),
    });
    expect(res.statusCode).toBe(404);
  });
});

describe('POST /announcements/{id}/deliveries/retry', () => {
  it('puts back only the failed ones of the medium asked for, queues them, audits, and suppressed addresses stay unsent', async () => {
    const db = ctx.deps.db;
    const { id } = await createAnnouncement(db, { channelId: channel.id, title: 'Strømbrudd' });
    const good = await createSubscription(db, { channelId: channel.id });
    const suppressed = await createSubscription(db, { channelId: channel.id });
    await db.emailSuppression.create({ data: { email: suppressed.email!.toLowerCase(), reason: 'bounce' } });
    await ledger(id, [
      { status: 'failed', recipient: `email:${good.email}`, subscriptionId: good.id },
      { status: 'failed', recipient: `email:${suppressed.email}`, subscriptionId: suppressed.id },
      { status: 'sent' },
      { status: 'skipped', skipReason: 'unsubscribed' },
      { medium: 'push', status: 'failed', recipient: `user:${randomUUID()}` },
    ]);

    const res = await app.inject({
      method: 'POST',
      url: `/api/v1/announcements/${id}/deliveries/retry?medium=email`,
      headers: bearer(publisherToken),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      announcement: id,
      retried: 2,
      byMedium: { email: 2, push: 0, webhook: 0 },
      queued: true,
    });

    const rows = await db.delivery.findMany({ where: { announcementId: id }, orderBy: { id: 'asc' } });
    const retried = rows.filter((row) => row.medium === 'email' && row.status === 'pending');
    expect(retried).toHaveLength(2);
    expect(retried.every((row) => row.attempts === 0 && row.lastError === null)).toBe(true);
    expect(rows.map((row) => [row.medium, row.status])).toEqual([
      ['email', 'pending'],
      ['email', 'pending'],
      ['email', 'sent'],
      ['email', 'skipped'],
      ['push', 'failed'],
    ]);
    const jobs = await ctx.deps.queues.email.getJobs(['waiting', 'delayed', 'prioritized']);
    const queued = new Set(jobs.flatMap((job) => job.data.deliveryIds));
    for (const row of retried) expect(queued.has(String(row.id))).toBe(true);

    const audit = await db.auditLog.findFirstOrThrow({
      where: { action: 'announcement.retry_deliveries', targetId: id },
    });
    expect(audit.details).toMatchObject({ medium: 'email', retried: 2 });

    // The sender re-checks as ever: the suppressed address is skipped, the other is sent.
    const result = await processEmailJob(
      { deliveryIds: retried.map((row) => String(row.id)) },
      {
        db,
        mailer,
        emailQueue: ctx.deps.queues.email,
        unsubscribeKey: TEST_UNSUBSCRIBE_SECRET,
        publicUrl: ctx.config.http.publicUrl,
        from: 'Meldingskanal <noreply@example.no>',
        maxAttempts: 3,
        logger: silentLogger,
      },
    );
    expect(result).toMatchObject({ sent: 1, skipped: 1 });
    const after = await db.delivery.findMany({
      where: { id: { in: retried.map((row) => row.id) } },
      orderBy: { id: 'asc' },
    });
    expect(after.map((row) => [row.status, row.skipReason])).toEqual([
      ['sent', null],
      ['skipped', SKIP_REASON.suppressed],
    ]);
    expect(smtp.messagesTo(good.email!)).toHaveLength(1);
    expect(smtp.messagesTo(suppressed.email!)).toHaveLength(0);

    // Nothing failed is left of e-mail; all media takes the push one; then nothing.
    const all = await app.inject({
      method: 'POST',
      url: `/api/v1/announcements/${id}/deliveries/retry`,
      headers: bearer(publisherToken),
    });
    expect(all.json()).toMatchObject({ retried: 1, byMedium: { email: 0, push: 1, webhook: 0 } });
    const none = await app.inject({
      method: 'POST',
      url: `/api/v1/announcements/${id}/deliveries/retry`,
      headers: bearer(publisherToken),
    });
    expect(none.json()).toMatchObject({ retried: 0 });
  });

  it('refuses readers (403), read-only tokens (403), unknown media (400) and anonymous callers (401)', async () => {
    const db = ctx.deps.db;
    const { id } = await createAnnouncement(db, { channelId: channel.id });
    await ledger(id, [{ status: 'failed' }]);
    const url = `/api/v1/announcements/${id}/deliveries/retry`;
    expect((await app.inject({ method: 'POST', url, headers: bearer(readerToken) })).statusCode).toBe(403);
    const publisher = await db.channelRole.findFirstOrThrow({ where: { channelId: channel.id, role: 'publisher' } });
    const readOnly = await tokenFor(db, publisher.userId, { scopes: ['read'] });
    expect((await app.inject({ method: 'POST', url, headers: bearer(readOnly) })).statusCode).toBe(403);
    const bad = await app.inject({ method: 'POST', url: `${url}?medium=fax`, headers: bearer(publisherToken) });
    expect(bad.statusCode).toBe(400);
    expect((await app.inject({ method: 'POST', url })).statusCode).toBe(401);
    expect((await db.delivery.findFirstOrThrow({ where: { announcementId: id } })).status).toBe('failed');
  });
});

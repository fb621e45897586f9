/**
 * E-mail subscribers without an account through the real app, with the real confirmation worker (BullMQ on Redis),
 * PostgreSQL and an in-process SMTP server: double opt-in that never reveals an address's state, the confirmation
 * e-mail and its pages, bad links, the per-address and per-IP limits, imports, and lifting a suppression.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suppressAddress } from '../../src/db/suppression.js';
import { buildApp } from '../../src/http/app.js';
import { EMAIL_SUBSCRIBE_PER_IP_PER_HOUR } from '../../src/http/routes/email-subscriptions.js';
import { signConfirmationToken } from '../../src/mail/confirmation-token.js';
import { createSmtpMailer, type Mailer } from '../../src/mail/mailer.js';
import { signUnsubscribeToken } from '../../src/mail/unsubscribe-token.js';
import { jobId } from '../../src/queue/jobs.js';
import { parseAddress } from '../../src/services/email-subscriptions.js';
import { SESSION_COOKIE, startSession } from '../../src/services/sessions.js';
import type { BoundWorker } from '../../workers/binding.js';
import { createConfirmationWorker } from '../../workers/confirmation.worker.js';
import { processFanout } from '../../workers/processors/fanout.js';
import { createTestContext, TEST_UNSUBSCRIBE_SECRET, type TestContext } from '../helpers/context.js';
import { createAnnouncement, deliveriesOf, silentLogger, uniqueAddress } from '../helpers/delivery.js';
import { createChannel, createUser, grantRole, tokenFor } from '../helpers/factories.js';
import { type ReceivedMail, startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { waitFor } from '../helpers/wait.js';

let ctx: TestContext;
let app: FastifyInstance;
let smtp: TestSmtpServer;
let mailer: Mailer;
let worker: BoundWorker;
let ipCounter = 0;

const PUBLIC_URL = 'https://meldingskanal.example.no';
const WIDGET_ORIGIN = 'https://intranett.example.no';

beforeAll(async () => {
  smtp = await startSmtpServer();
  ctx = await createTestContext({
    PUBLIC_URL,
    MAIL_FROM: 'Meldingskanal <noreply@example.no>',
    WIDGET_ORIGINS: WIDGET_ORIGIN,
  });
  app = await buildApp(ctx.deps, { logger: false });
  mailer = createSmtpMailer({ url: smtp.url, poolSize: 2, maxMessages: 1000, ratePerSecond: 0 });
  worker = createConfirmationWorker(ctx.deps, { mailer, signingKey: TEST_UNSUBSCRIBE_SECRET, logger: silentLogger });
  await worker.worker.waitUntilReady();
});

afterAll(async () => {
  await worker?.close();
  await app?.close();
  await mailer?.close();
  await smtp?.close();
  await ctx?.close();
});

/** Each test its own client address, so the per-IP limit of one test never holds back another. */
function clientAddress(): string {
  ipCounter += 1;
  return `10.1.${Math.floor(ipCounter / 250)}.${(ipCounter % 250) + 1}`;
}

function subscribe(
  slug: string,
  body: Record<string, unknown>,
  options: { ip?: string; headers?: Record<string, string> } = {},
) {
  return app.inject({
    method: 'POST',
    url: `/api/v1/channels/${slug}/email-subscriptions`,
    payload: body,
    remoteAddress: options.ip ?? clientAddress(),
    ...(options.headers ? { headers: options.headers } : {}),
  });
}

async function subscriptionOf(channelId: string, email: string) {
  return ctx.deps.db.subscription.findUnique({ where: { channelId_email: { channelId, email } } });
}

/** The confirmation link in a received e-mail (its text part), as a path with its token. */
function confirmPath(mail: ReceivedMail): string {
  const match = /https:\/\/meldingskanal\.example\.no(\/subscriptions\/confirm\?token=[^\s]+)/.exec(
    mail.parsed.text ?? '',
  );
  expect(match).not.toBeNull();
  return match![1]!;
}

const form = { 'content-type': 'application/x-www-form-urlencoded' };

describe('POST /api/v1/channels/:slug/email-subscriptions', () => {
  it('subscribes a new address unconfirmed and sends a confirmation whose link shows a page, then confirms on POST', async () => {
    const channel = await createChannel(ctx.deps.db, { title: 'BOTT <Økonomi>' });
    const email = uniqueAddress('new');
    const response = await subscribe(channel.slug, { email: email.toUpperCase(), emailMode: 'daily' });
    expect(response.statusCode).toBe(202);

    const row = await subscriptionOf(channel.id, email);
    expect(row).toMatchObject({ source: 'self', confirmedAt: null, emailMode: 'daily', language: 'nb' });
    expect(row!.confirmationsSent).toBe(1);
    // The job is named by the subscription and the time of the request.
    const job = await ctx.deps.queues.confirmation.getJob(
      jobId.confirmation(row!.id, row!.confirmationSentAt!.getTime()),
    );
    expect(job?.data).toEqual({ subscriptionId: String(row!.id), requestedAt: row!.confirmationSentAt!.getTime() });

    const [mail] = await waitFor(() => smtp.messagesTo(email).length > 0 && smtp.messagesTo(email), {
      what: 'the confirmation e-mail',
    });
    expect(mail!.parsed.subject).toBe('Bekreft abonnementet på «BOTT <Økonomi>»');
    expect(mail!.parsed.html).toContain('<html lang="nb"');
    expect(mail!.parsed.html).toContain('<h1');
    expect(mail!.parsed.html).toContain('BOTT &lt;Økonomi&gt;');
    expect(mail!.parsed.text).toContain('Noen, forhåpentligvis du, ba om');
    expect(mail!.parsed.messageId).toMatch(new RegExp(`^<confirmation-${row!.id}-\\d+@meldingskanal\\.example\\.no>$`));
    expect(mail!.parsed.headers.get('auto-submitted')).toBe('auto-generated');
    // Nothing to unsubscribe from yet: ignoring the e-mail is enough.
    expect(mail!.parsed.headers.has('list-unsubscribe')).toBe(false);

    const path = confirmPath(mail!);
    expect(mail!.parsed.html).toContain(`href="${PUBLIC_URL}${path.replace(/&/g, '&amp;')}"`);

    // GET only shows the button.
    const page = await app.inject({ method: 'GET', url: path });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.body).toContain('<html lang="nb"');
    expect(page.body).toContain('<form method="post">');
    expect(page.body).toContain('Vil du få kunngjøringer fra «BOTT &lt;Økonomi>» på e-post?');
    expect((await subscriptionOf(channel.id, email))!.confirmedAt).toBeNull();

    // POST (the button) confirms, idempotently.
    const confirmed = await app.inject({ method: 'POST', url: path, headers: form, payload: 'confirm=yes' });
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.body).toContain('Abonnementet er bekreftet');
    expect(confirmed.body).toContain('melder deg av med ett klikk');
    const confirmedAt = (await subscriptionOf(channel.id, email))!.confirmedAt;
    expect(confirmedAt).toBeInstanceOf(Date);
    const again = await app.inject({ method: 'POST', url: path, headers: form, payload: 'confirm=yes' });
    expect(again.statusCode).toBe(200);
    expect((await subscriptionOf(channel.id, email))!.confirmedAt).toEqual(confirmedAt);
    // The link now says it is done, without a button.
    const after = await app.inject({ method: 'GET', url: path });
    expect(after.body).not.toContain('<form');
    expect(after.body).toContain('Abonnementet er bekreftet');
  });

  it('answers the same 202 for new, unconfirmed, confirmed and suppressed addresses; re-sends at most 3 times a day', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    const waiting = uniqueAddress('waiting');
    const confirmed = uniqueAddress('confirmed');
    const suppressed = uniqueAddress('suppressed');
    await db.subscription.create({ data: { channelId: channel.id, email: confirmed, confirmedAt: new Date() } });
    await suppressAddress(db, { email: suppressed, reason: 'bounce', detail: '550', deliveryId: null });

    const bodies = new Set<string>();
    const statuses = new Set<number>();
    const ask = async (email: string) => {
      const response = await subscribe(channel.slug, { email });
      bodies.add(response.body);
      statuses.add(response.statusCode);
    };
    for (let i = 0; i < 5; i += 1) await ask(waiting);
    await ask(confirmed);
    await ask(suppressed);
    await ask(uniqueAddress('fresh'));
    expect([...statuses]).toEqual([202]);
    expect(bodies.size).toBe(1);

    // Three confirmations for the waiting address, then nothing more within the window.
    await waitFor(() => smtp.messagesTo(waiting).length === 3, { what: 'three confirmations' });
    const row = (await subscriptionOf(channel.id, waiting))!;
    expect(row.confirmationsSent).toBe(3);
    const jobs = await ctx.deps.queues.confirmation.getJobs(['completed', 'waiting', 'active', 'delayed']);
    expect(jobs.filter((job) => job.data.subscriptionId === String(row.id))).toHaveLength(3);
    // The confirmed subscription was not touched, and got no job.
    const confirmedRow = (await subscriptionOf(channel.id, confirmed))!;
    expect(confirmedRow).toMatchObject({ confirmationsSent: 0, confirmationSentAt: null });
    expect(jobs.some((job) => job.data.subscriptionId === String(confirmedRow.id))).toBe(false);

    // Once the window has passed, the address may ask again.
    await db.subscription.update({
      where: { id: row.id },
      data: { confirmationSentAt: new Date(Date.now() - 25 * 3600_000) },
    });
    await ask(waiting);
    await waitFor(() => smtp.messagesTo(waiting).length === 4, { what: 'a fourth confirmation a day later' });
    expect((await subscriptionOf(channel.id, waiting))!.confirmationsSent).toBe(1);
  });

  it('asks an address that unsubscribed to confirm again before e-mail is switched back on', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    const email = uniqueAddress('returner');
    const row = await db.subscription.create({
      data: { channelId: channel.id, email, confirmedAt: new Date(), emailMode: 'off', source: 'self' },
    });
    expect((await subscribe(channel.slug, { email, emailMode: 'weekly' })).statusCode).toBe(202);
    expect(await db.subscription.findUniqueOrThrow({ where: { id: row.id } })).toMatchObject({
      confirmedAt: null,
      emailMode: 'weekly',
      confirmationsSent: 1,
    });
    const [mail] = await waitFor(() => smtp.messagesTo(email).length > 0 && smtp.messagesTo(email));
    await app.inject({ method: 'POST', url: confirmPath(mail!), headers: form, payload: 'confirm=yes' });
    expect((await db.subscription.findUniqueOrThrow({ where: { id: row.id } })).confirmedAt).toBeInstanceOf(Date);
  });

  it('sends one address at most 5 confirmations a day, however many channels it is asked for', async () => {
    const db = ctx.deps.db;
    const email = uniqueAddress('popular');
    const channels = [];
    for (let i = 0; i < 6; i += 1) channels.push(await createChannel(db));
    const bodies = new Set<string>();
    for (const channel of channels) bodies.add((await subscribe(channel.slug, { email })).body);
    expect(bodies.size).toBe(1);

    await waitFor(() => smtp.messagesTo(email).length === 5, { what: 'five confirmations' });
    const rows = await db.subscription.findMany({ where: { email }, orderBy: { id: 'asc' } });
    expect(rows.map((row) => row.confirmationsSent)).toEqual([1, 1, 1, 1, 1, 0]);
    // The sixth subscription exists, unconfirmed and without an e-mail; asking again today sends nothing either.
    expect(rows[5]).toMatchObject({ confirmedAt: null, confirmationSentAt: null });
    await subscribe(channels[5]!.slug, { email });
    expect((await db.subscription.findUniqueOrThrow({ where: { id: rows[5]!.id } })).confirmationsSent).toBe(0);
  });

  it('sends a suppressed address the confirmation it asked for, and confirming lifts the suppression (audited)', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    const email = uniqueAddress('returning');
    await suppressAddress(db, { email, reason: 'bounce', detail: '550 no such user', deliveryId: null });
    await subscribe(channel.slug, { email });
    const [mail] = await waitFor(() => smtp.messagesTo(email).length > 0 && smtp.messagesTo(email));

    const response = await app.inject({
      method: 'POST',
      url: confirmPath(mail!),
      headers: form,
      payload: 'confirm=yes',
    });
    expect(response.statusCode).toBe(200);
    const suppression = await db.emailSuppression.findUniqueOrThrow({ where: { email } });
    expect(suppression.liftedAt).toBeInstanceOf(Date);
    const row = (await subscriptionOf(channel.id, email))!;
    const audit = await db.auditLog.findMany({ where: { action: 'email_suppression.lift', targetId: String(row.id) } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorKind: 'anonymous', targetType: 'subscription', outcome: 'success' });
    expect(JSON.stringify(audit[0]!.details)).not.toContain('@');
  });

  it('writes in the language asked for: the body, else Accept-Language', async () => {
    const channel = await createChannel(ctx.deps.db, { title: 'IT-drift' });
    const nn = uniqueAddress('nn');
    const en = uniqueAddress('en');
    await subscribe(channel.slug, { email: nn }, { headers: { 'accept-language': 'nn-NO, en;q=0.5' } });
    await subscribe(channel.slug, { email: en, language: 'en' }, { headers: { 'accept-language': 'nb' } });
    const [nnMail] = await waitFor(() => smtp.messagesTo(nn).length > 0 && smtp.messagesTo(nn));
    const [enMail] = await waitFor(() => smtp.messagesTo(en).length > 0 && smtp.messagesTo(en));
    expect(nnMail!.parsed.subject).toBe('Stadfest abonnementet på «IT-drift»');
    expect(nnMail!.parsed.html).toContain('<html lang="nn"');
    expect(enMail!.parsed.subject).toBe('Confirm your subscription to “IT-drift”');
    expect(enMail!.parsed.text).toContain('Someone, hopefully you');

    const page = await app.inject({ method: 'GET', url: confirmPath(nnMail!) });
    expect(page.body).toContain('<html lang="nn"');
    expect(page.body).toContain('Stadfest');
  });

  it('answers 404 for channels that are not public, exactly as for a missing one', async () => {
    const db = ctx.deps.db;
    const internal = await createChannel(db, { visibility: 'internal' });
    const restricted = await createChannel(db, { visibility: 'restricted' });
    const missing = await subscribe('no-such-channel', { email: uniqueAddress() });
    expect(missing.statusCode).toBe(404);
    for (const channel of [internal, restricted]) {
      const response = await subscribe(channel.slug, { email: uniqueAddress() });
      expect(response.statusCode).toBe(404);
      expect(response.json().error).toEqual(missing.json().error);
      expect(await db.subscription.count({ where: { channelId: channel.id } })).toBe(0);
    }
  });

  it('refuses addresses that cannot be used with 400 and a reason', async () => {
    const channel = await createChannel(ctx.deps.db);
    const cases: [string, string][] = [
      ['no-at-sign.example.org', 'syntax'],
      ['two@@example.org', 'syntax'],
      ['user@localhost', 'syntax'],
      ['.dot@example.org', 'syntax'],
      ['user@exa_mple.org', 'syntax'],
      ['victim@example.org\r\nBcc: everyone@example.org', 'control_characters'],
      [`${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(60)}.org`, 'too_long'],
      ['   ', 'empty'],
    ];
    for (const [email, reason] of cases) {
      const response = await subscribe(channel.slug, { email });
      expect(response.statusCode, email).toBe(400);
      expect(response.json().error).toMatchObject({ code: 'validation_failed', details: { field: 'email', reason } });
    }
    const off = await subscribe(channel.slug, { email: uniqueAddress(), emailMode: 'off' });
    expect(off.statusCode).toBe(400);
    expect(await ctx.deps.db.subscription.count({ where: { channelId: channel.id } })).toBe(0);
  });

  it(`limits one client address to ${EMAIL_SUBSCRIBE_PER_IP_PER_HOUR} requests an hour (429 with Retry-After)`, async () => {
    const channel = await createChannel(ctx.deps.db);
    const ip = clientAddress();
    for (let i = 0; i < EMAIL_SUBSCRIBE_PER_IP_PER_HOUR; i += 1) {
      const response = await subscribe(channel.slug, { email: 'not an address' }, { ip });
      expect(response.statusCode).toBe(400);
    }
    const limited = await subscribe(channel.slug, { email: uniqueAddress() }, { ip });
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(60);
    // Another client is not held back.
    expect((await subscribe(channel.slug, { email: uniqueAddress() })).statusCode).toBe(202);
  });
});

describe('the form in a widget on another origin', () => {
  it('may POST a subscription (CORS without credentials), and nothing else is opened', async () => {
    const channel = await createChannel(ctx.deps.db);
    const path = `/api/v1/channels/${channel.slug}/email-subscriptions`;
    const preflight = (url: string, origin = WIDGET_ORIGIN, method = 'POST') =>
      app.inject({
        method: 'OPTIONS',
        url,
        headers: {
          origin,
          'access-control-request-method': method,
          'access-control-request-headers': 'content-type',
        },
      });

    const allowed = await preflight(path);
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe(WIDGET_ORIGIN);
    expect(allowed.headers['access-control-allow-methods']).toBe('POST');
    expect(String(allowed.headers['access-control-allow-headers']).toLowerCase()).toContain('content-type');
    expect(allowed.headers['access-control-allow-credentials']).toBeUndefined();

    const response = await app.inject({
      method: 'POST',
      url: path,
      headers: { origin: WIDGET_ORIGIN, 'content-type': 'application/json' },
      payload: { email: uniqueAddress('widget') },
      remoteAddress: clientAddress(),
    });
    expect(response.statusCode).toBe(202);
    expect(response.headers['access-control-allow-origin']).toBe(WIDGET_ORIGIN);

    // Another origin, the import, and other methods stay closed.
    expect((await preflight(path, 'https://evil.example')).headers['access-control-allow-origin']).toBeUndefined();
    expect((await preflight(`${path}/import`)).headers['access-control-allow-origin']).toBeUndefined();
    expect((await preflight(path, WIDGET_ORIGIN, 'DELETE')).headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('the confirmation link', () => {
  it('refuses tampered, expired, foreign, unsubscribe and malformed tokens with one 400 page that reveals nothing', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    const email = uniqueAddress('link');
    const row = await db.subscription.create({ data: { channelId: channel.id, email, source: 'self' } });
    const other = await db.subscription.create({
      data: { channelId: channel.id, email: uniqueAddress(), source: 'self' },
    });
    const good = signConfirmationToken(TEST_UNSUBSCRIBE_SECRET, { subscriptionId: row.id, address: email });
    const [id, expiry, mac] = good.split('.') as [string, string, string];
    // A character in the middle: the last one carries 2 unused bits.
    const flipped = `${mac.slice(0, 20)}${mac[20] === 'A' ? 'B' : 'A'}${mac.slice(21)}`;
    // The same MAC spelt with the unused bits set (not the token we issued).
    const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(mac.at(-1)!);
    const respelt = `${mac.slice(0, -1)}${'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[last | 1]}`;
    const bad = [
      `${id}.${expiry}.${flipped}`,
      `${id}.${expiry}.${respelt}`,
      // Expired: signed 8 days ago.
      signConfirmationToken(
        TEST_UNSUBSCRIBE_SECRET,
        { subscriptionId: row.id, address: email },
        new Date(Date.now() - 8 * 24 * 3600_000),
      ),
      // A longer life written into a valid token.
      `${id}.${Number(expiry) + 3600}.${mac}`,
      // Signed for another address.
      signConfirmationToken(TEST_UNSUBSCRIBE_SECRET, { subscriptionId: row.id, address: uniqueAddress() }),
      // Another subscription's valid token moved onto this id.
      `${id}.${expiry}.${signConfirmationToken(TEST_UNSUBSCRIBE_SECRET, { subscriptionId: other.id, address: other.email! }).split('.')[2]}`,
      // Signed with another key.
      signConfirmationToken('another-key-0123456789abcdef0123456789', { subscriptionId: row.id, address: email }),
      // A valid unsubscribe token for the same subscription: another purpose.
      signUnsubscribeToken(TEST_UNSUBSCRIBE_SECRET, { subscriptionId: row.id, recipient: `email:${email}` }),
      `999999999.${expiry}.${mac}`,
      'not-a-token',
      '',
    ];
    const bodies = new Set<string>();
    for (const token of bad) {
      for (const method of ['GET', 'POST'] as const) {
        const response = await app.inject({
          method,
          url: `/subscriptions/confirm?token=${encodeURIComponent(token)}`,
          headers: { ...form, 'accept-language': 'en' },
          payload: method === 'POST' ? 'confirm=yes' : undefined,
        });
        expect(response.statusCode, `${method} ${token}`).toBe(400);
        expect(response.headers['content-type']).toMatch(/^text\/html/);
        bodies.add(response.body);
      }
    }
    expect(bodies.size).toBe(1);
    const [page] = [...bodies];
    expect(page).toContain('<html lang="en"');
    expect(page).toContain('This link does not work');
    expect(page).not.toContain('<form');
    expect((await db.subscription.findUniqueOrThrow({ where: { id: row.id } })).confirmedAt).toBeNull();

    // The good one still works.
    const ok = await app.inject({
      method: 'POST',
      url: `/subscriptions/confirm?token=${encodeURIComponent(good)}`,
      headers: form,
      payload: 'confirm=yes',
    });
    expect(ok.statusCode).toBe(200);
  });

  it('confirms from a signed-in browser without a CSRF token (the signed link is the authority)', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    const email = uniqueAddress('browser');
    const row = await db.subscription.create({ data: { channelId: channel.id, email, source: 'self' } });
    const token = signConfirmationToken(TEST_UNSUBSCRIBE_SECRET, { subscriptionId: row.id, address: email });
    const session = await startSession(db, { userId: (await createUser(db)).id }, ctx.config.session);
    const response = await app.inject({
      method: 'POST',
      url: `/subscriptions/confirm?token=${encodeURIComponent(token)}`,
      headers: { ...form, cookie: `${SESSION_COOKIE}=${session.secret}`, 'sec-fetch-site': 'cross-site' },
      payload: 'confirm=yes',
    });
    expect(response.statusCode).toBe(200);
    expect((await db.subscription.findUniqueOrThrow({ where: { id: row.id } })).confirmedAt).toBeInstanceOf(Date);
  });
});

describe('unconfirmed subscribers', () => {
  it('receive no announcement until they confirm', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    const email = uniqueAddress('patient');
    await subscribe(channel.slug, { email });
    const [mail] = await waitFor(() => smtp.messagesTo(email).length > 0 && smtp.messagesTo(email));
    const row = (await subscriptionOf(channel.id, email))!;
    // Published after the subscription was made: only its confirmation holds it back.
    await db.subscription.update({ where: { id: row.id }, data: { createdAt: new Date(Date.now() - 60_000) } });

    const fanout = async () => {
      const announcement = await createAnnouncement(db, { channelId: channel.id });
      await processFanout(
        { announcementId: announcement.id },
        { db, emailQueue: ctx.deps.queues.email, pageSize: 100, emailBatchSize: 50, logger: silentLogger },
      );
      return deliveriesOf(db, announcement.id);
    };
    expect(await fanout()).toEqual([]);
    await app.inject({ method: 'POST', url: confirmPath(mail!), headers: form, payload: 'confirm=yes' });
    expect((await fanout()).map((d) => d.recipient)).toEqual([`email:${email}`]);
  });
});

describe('POST /api/v1/channels/:slug/email-subscriptions/import', () => {
  async function ownedChannel(visibility: 'public' | 'internal' = 'public') {
    const db = ctx.deps.db;
    const channel = await createChannel(db, { visibility, title: 'Studentweb' });
    const owner = await createUser(db, { organisationCode: 'UiO' });
    await grantRole(db, channel.id, owner.id, 'owner');
    return { channel, owner, token: await tokenFor(db, owner.id) };
  }

  function importTo(slug: string, token: string, payload: unknown, contentType = 'application/json', query = '') {
    return app.inject({
      method: 'POST',
      url: `/api/v1/channels/${slug}/email-subscriptions/import${query}`,
      headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
  }

  it('creates unconfirmed subscriptions, sends each new one a confirmation naming the channel, and leaves others alone', async () => {
    const db = ctx.deps.db;
    const { channel, owner, token } = await ownedChannel();
    const existing = uniqueAddress('existing');
    const existingRow = await db.subscription.create({
      data: { channelId: channel.id, email: existing, confirmedAt: new Date(), emailMode: 'weekly' },
    });
    const fresh = [uniqueAddress('imp'), uniqueAddress('imp')];
    const response = await importTo(channel.slug, token, {
      addresses: [fresh[0], 'broken', existing, fresh[1]!.toUpperCase(), fresh[0], `x\n${fresh[0]}`],
      language: 'en',
      emailMode: 'daily',
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      imported: 2,
      alreadySubscribed: 1,
      invalid: [
        { line: 2, reason: 'syntax' },
        { line: 5, reason: 'duplicate' },
        { line: 6, reason: 'control_characters' },
      ],
    });
    for (const email of fresh) {
      expect(await subscriptionOf(channel.id, email)).toMatchObject({
        source: 'import',
        confirmedAt: null,
        language: 'en',
        emailMode: 'daily',
      });
      const [mail] = await waitFor(() => smtp.messagesTo(email).length > 0 && smtp.messagesTo(email));
      expect(mail!.parsed.text).toContain('The channel “Studentweb” on Meldingskanal has added this address');
      // Who imported it is not said: the channel did.
      expect(mail!.parsed.text).not.toContain(owner.email);
    }
    expect(await db.subscription.findUniqueOrThrow({ where: { id: existingRow.id } })).toMatchObject({
      emailMode: 'weekly',
      confirmationsSent: 0,
    });
    expect(smtp.messagesTo(existing)).toHaveLength(0);

    const [audit] = await db.auditLog.findMany({ where: { action: 'subscription.import', targetId: channel.id } });
    expect(audit).toMatchObject({ actorUserId: owner.id, outcome: 'success', targetType: 'channel' });
    expect(audit!.details).toMatchObject({ imported: 2, alreadySubscribed: 1, invalid: 3 });
    expect(JSON.stringify(audit!.details)).not.toContain('@');

    // Importing again changes nothing.
    const again = await importTo(channel.slug, token, { addresses: fresh });
    expect(again.json()).toEqual({ imported: 0, alreadySubscribed: 2, invalid: [] });
  });

  it('takes text/csv and text/plain, one address per line, with line numbers of the file', async () => {
    const { channel, token } = await ownedChannel();
    const [a, b, c] = [uniqueAddress('csv'), uniqueAddress('csv'), uniqueAddress('txt')];
    const csv = await importTo(
      channel.slug,
      token,
      `email,name\r\n${a},Kari\r\n\r\n"${b}";Ola\r\nnonsense\r\n`,
      'text/csv',
      '?language=nn',
    );
    expect(csv.statusCode).toBe(200);
    expect(csv.json()).toEqual({ imported: 2, alreadySubscribed: 0, invalid: [{ line: 5, reason: 'syntax' }] });
    expect(await subscriptionOf(channel.id, b)).toMatchObject({ language: 'nn', source: 'import' });
    const text = await importTo(channel.slug, token, `${c}\n${a}\n`, 'text/plain; charset=utf-8');
    expect(text.json()).toEqual({ imported: 1, alreadySubscribed: 1, invalid: [] });
  });

  it('refuses more than 5,000 addresses, non-public channels (409), and callers who may not manage the channel', async () => {
    const db = ctx.deps.db;
    const { channel, token } = await ownedChannel();
    const tooMany = Array.from({ length: 5001 }, (_, i) => `a${i}@example.org`);
    expect((await importTo(channel.slug, token, { addresses: tooMany })).statusCode).toBe(400);
    expect((await importTo(channel.slug, token, tooMany.join('\n'), 'text/plain')).statusCode).toBe(400);
    expect(await db.subscription.count({ where: { channelId: channel.id } })).toBe(0);

    const internal = await ownedChannel('internal');
    const conflict = await importTo(internal.channel.slug, internal.token, { addresses: [uniqueAddress()] });
    expect(conflict.statusCode).toBe(409);

    const reader = await createUser(db, { organisationCode: 'UiB' });
    const readerToken = await tokenFor(db, reader.id);
    expect((await importTo(channel.slug, readerToken, { addresses: [uniqueAddress()] })).statusCode).toBe(403);
    const anonymous = await app.inject({
      method: 'POST',
      url: `/api/v1/channels/${channel.slug}/email-subscriptions/import`,
      payload: { addresses: [uniqueAddress()] },
    });
    expect(anonymous.statusCode).toBe(401);
    const admin = await createUser(db, { isAdmin: true });
    const adminImport = await importTo(channel.slug, await tokenFor(db, admin.id), { addresses: [uniqueAddress()] });
    expect(adminImport.json()).toMatchObject({ imported: 1 });
  });
});

describe('lifting a suppression as a signed-in user, and the admin view', () => {
  it('PUT /me/subscriptions lifts the suppression of the account address (audited); admins can look it up', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    const user = await createUser(db, { organisationCode: 'UiO' });
    await suppressAddress(db, { email: user.email, reason: 'bounce', detail: '550 gone', deliveryId: null });
    const token = await tokenFor(db, user.id);
    const admin = await createUser(db, { isAdmin: true });
    const adminToken = await tokenFor(db, admin.id);
    const lookup = () =>
      app.inject({
        method: 'GET',
        url: `/api/v1/admin/suppressions?email=${encodeURIComponent(user.email.toUpperCase())}`,
        headers: { authorization: `Bearer ${adminToken}` },
      });
    expect((await lookup()).json()).toMatchObject({
      email: user.email,
      reason: 'bounce',
      active: true,
      liftedAt: null,
    });

    // Turning e-mail off is no re-subscription.
    const off = await app.inject({
      method: 'PUT',
      url: `/api/v1/me/subscriptions/${channel.slug}`,
      headers: { authorization: `Bearer ${token}` },
      payload: { emailMode: 'off' },
    });
    expect(off.statusCode).toBe(201);
    expect((await lookup()).json()).toMatchObject({ active: true });

    const on = await app.inject({
      method: 'PUT',
      url: `/api/v1/me/subscriptions/${channel.slug}`,
      headers: { authorization: `Bearer ${token}` },
      payload: { emailMode: 'immediate' },
    });
    expect(on.statusCode).toBe(200);
    const view = (await lookup()).json();
    expect(view).toMatchObject({ active: false, detail: '550 gone' });
    expect(view.liftedAt).not.toBeNull();
    const audit = await db.auditLog.findMany({ where: { action: 'email_suppression.lift', targetId: user.id } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorUserId: user.id, targetType: 'user' });

    const notListed = await app.inject({
      method: 'GET',
      url: `/api/v1/admin/suppressions?email=${encodeURIComponent(uniqueAddress())}`,
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(notListed.statusCode).toBe(404);
    const notAdmin = await app.inject({
      method: 'GET',
      url: `/api/v1/admin/suppressions?email=${encodeURIComponent(user.email)}`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(notAdmin.statusCode).toBe(403);
  });
});

describe('parseAddress', () => {
  it('keeps usual addresses, lower-cased and trimmed', () => {
    expect(parseAddress('  Kari.Nordmann+drift@Student.UiO.no ')).toEqual({
      address: 'kari.nordmann+drift@student.uio.no',
    });
    expect(parseAddress("o'brien@xn--bcher-kva.example")).toEqual({ address: "o'brien@xn--bcher-kva.example" });
    expect(parseAddress('a@b.co')).toEqual({ address: 'a@b.co' });
    expect(parseAddress(`${'a'.repeat(65)}@example.org`)).toEqual({ problem: 'syntax' });
    expect(parseAddress('a..b@example.org')).toEqual({ problem: 'syntax' });
    expect(parseAddress('a@-example.org')).toEqual({ problem: 'syntax' });
    expect(parseAddress('a@example.123')).toEqual({ problem: 'syntax' });
    expect(parseAddress('a@exam ple.org')).toEqual({ problem: 'syntax' });
  });
});

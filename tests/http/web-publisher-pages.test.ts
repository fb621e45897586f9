/**
 * The publishers' pages besides the editor, without a browser: an announcement's delivery figures (per medium, with
 * skip reasons), views, rating and acknowledgements by organisation, the retry of failed deliveries, the retraction's
 * confirmation step, and channel settings (name and visibility, publishers by e-mail or Feide id, webhooks with the
 * secret shown once). Access as the API answers it, CSRF, validation with an error summary, 303 after success.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/domain/types.js';
import { buildApp } from '../../src/http/app.js';
import { publishAnnouncement } from '../../src/services/publish.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, grantRole, type TestChannel, type TestUser } from '../helpers/factories.js';
import { type BrowserSession, browserSession, getPage, postForm } from '../helpers/web.js';

let ctx: TestContext;
let app: FastifyInstance;
let channel: TestChannel;
let owner: TestUser;
let publisher: TestUser;
let ownerSession: BrowserSession;
let publisherSession: BrowserSession;
let strangerSession: BrowserSession;

const actorOf = (user: TestUser): Actor => ({
  kind: 'user',
  userId: user.id,
  isAdmin: false,
  organisationId: user.organisationId,
  scopes: ['read', 'publish'],
});

beforeAll(async () => {
  ctx = await createTestContext({ WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' });
  const db = ctx.deps.db;
  channel = await createChannel(db, { visibility: 'restricted', title: 'BOTT Tilgang' });
  owner = await createUser(db, { organisationCode: 'NTNU' });
  publisher = await createUser(db, { organisationCode: 'UiB' });
  await grantRole(db, channel.id, owner.id, 'owner');
  await grantRole(db, channel.id, publisher.id, 'publisher');
  ownerSession = await browserSession(db, owner.id);
  publisherSession = await browserSession(db, publisher.id);
  const stranger = await createUser(db, { organisationCode: 'UiO' });
  await grantRole(db, (await createChannel(db)).id, stranger.id, 'publisher');
  strangerSession = await browserSession(db, stranger.id);
  app = await buildApp(ctx.deps, { logger: false });
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

async function publish(title: string, extra: Record<string, unknown> = {}) {
  return publishAnnouncement(
    { db: ctx.deps.db, publicUrl: ctx.config.http.publicUrl },
    actorOf(publisher),
    channel.slug,
    {
      title,
      body: 'Tekst',
      ...extra,
    },
  );
}

describe('the delivery figures page', () => {
  it('shows deliveries per medium with skip reasons, views, rating and acknowledgements by organisation', async () => {
    const db = ctx.deps.db;
    const announcement = await publish('Nytt tilgangssystem', { acknowledgement: { required: true } });
    const row = (recipient: string, medium: 'email' | 'push', status: string, extra: Record<string, unknown> = {}) => ({
      announcementId: announcement.id,
      recipient,
      medium,
      status: status as 'sent',
      ...extra,
    });
    await db.delivery.createMany({
      data: [
        row('email:a@uib.no', 'email', 'sent'),
        row('email:b@uib.no', 'email', 'sent'),
        row('email:c@uib.no', 'email', 'failed', { lastError: '550' }),
        row('email:d@uib.no', 'email', 'skipped', { skipReason: 'suppressed' }),
        row('email:a@uib.no', 'email', 'sent', { kind: 'correction', revision: 2 }),
        row(`user:${publisher.id}`, 'push', 'skipped', { skipReason: 'no_push_subscription' }),
      ],
    });
    await db.announcementAcknowledgement.create({
      data: { announcementId: announcement.id, userId: owner.id, organisationId: owner.organisationId },
    });
    await db.announcementRating.create({ data: { announcementId: announcement.id, userId: owner.id, stars: 4 } });

    const page = await getPage(app, `/announcements/${announcement.id}/deliveries`, { session: publisherSession });
    expect(page.statusCode).toBe(200);
    expect(page.headers['cache-control']).toBe('private, no-store');
    const html = page.body;
    expect(html).toContain('E-post: leveranser etter slag');
    expect(html).toMatch(
      /<th scope="row">Kunngjøringen<\/th><td data-status="pending">0<\/td><td data-status="sent">2<\/td><td data-status="failed">1<\/td><td data-status="skipped">1<\/td><td>4<\/td>/,
    );
    expect(html).toContain('Rettelse (revisjon 2)');
    expect(html).toContain('adressen er på sperrelisten');
    expect(html).toContain('ingen nettleser er registrert');
    expect(html).toContain('Prøv den mislykkede på nytt (E-post)');
    expect(html).toContain('Vurdering: 4 av 5 (1 stemmer)');
    expect(html).toMatch(/1 av \d+ forventede har bekreftet/);
    expect(html).toContain('<th scope="row">NTNU</th><td>1</td>');

    const english = await getPage(app, `/announcements/${announcement.id}/deliveries?lang=en`, {
      session: publisherSession,
    });
    expect(english.body).toContain('E-mail: deliveries by kind');
    expect(english.body).toContain('Retry the failed one (E-mail)');
  });

  it('retries the failed deliveries by POST (303), and nothing without the CSRF token', async () => {
    const db = ctx.deps.db;
    const announcement = await publish('Feilet e-post');
    await db.delivery.create({
      data: {
        announcementId: announcement.id,
        recipient: 'email:x@uib.no',
        medium: 'email',
        status: 'failed',
        attempts: 5,
      },
    });
    const url = `/announcements/${announcement.id}/deliveries/retry`;
    const forged = await app.inject({
      method: 'POST',
      url,
      headers: {
        cookie: publisherSession.cookie,
        accept: 'text/html',
        'content-type': 'application/x-www-form-urlencoded',
        'sec-fetch-site': 'same-origin',
      },
      payload: 'medium=email',
    });
    expect(forged.statusCode).toBe(403);
    expect((await db.delivery.findFirstOrThrow({ where: { announcementId: announcement.id } })).status).toBe('failed');

    const retried = await postForm(app, url, { medium: 'email' }, { session: publisherSession });
    expect(retried.statusCode).toBe(303);
    expect(retried.headers.location).toBe(`/announcements/${announcement.id}/deliveries?saved=retried`);
    const row = await db.delivery.findFirstOrThrow({ where: { announcementId: announcement.id } });
    expect(row).toMatchObject({ attempts: 0 });
    expect(['pending', 'sending', 'sent', 'failed']).toContain(row.status);
    expect(row.status === 'failed' && row.attempts === 5).toBe(false);
  });

  it('answers a publisher of another channel as the API: 404 for a channel they cannot read', async () => {
    const announcement = await publish('Ikke for andre');
    const page = await getPage(app, `/announcements/${announcement.id}/deliveries`, { session: strangerSession });
    expect(page.statusCode).toBe(404);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const retry = await postForm(
      app,
      `/announcements/${announcement.id}/deliveries/retry`,
      {},
      { session: strangerSession },
    );
    expect(retry.statusCode).toBe(404);
  });
});

describe('retracting', () => {
  it('asks for confirmation and a reason, then retracts (303) and keeps the reason in the audit record', async () => {
    const db = ctx.deps.db;
    const announcement = await publish('Trekkes tilbake');
    const confirm = await getPage(app, `/announcements/${announcement.id}/retract?lang=nn`, {
      session: publisherSession,
    });
    expect(confirm.statusCode).toBe(200);
    expect(confirm.body).toContain('Ja, trekk tilbake kunngjeringa');
    // Nothing changed by looking.
    expect((await db.announcement.findUniqueOrThrow({ where: { id: announcement.id } })).status).toBe('published');

    const blank = await postForm(
      app,
      `/announcements/${announcement.id}/retract`,
      { reason: '  ' },
      { session: publisherSession },
    );
    expect(blank.statusCode).toBe(400);
    expect(blank.body).toContain('href="#field-reason"');

    const done = await postForm(
      app,
      `/announcements/${announcement.id}/retract`,
      { reason: 'Feil kanal' },
      { session: publisherSession },
    );
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe(`/announcements/${announcement.id}/deliveries?saved=retracted`);
    expect((await db.announcement.findUniqueOrThrow({ where: { id: announcement.id } })).status).toBe('retracted');
    const audit = await db.auditLog.findFirstOrThrow({
      where: { action: 'announcement.retract', targetId: announcement.id },
    });
    expect(audit.details).toMatchObject({ reason: 'Feil kanal' });
    // A retracted one has nothing left to retract.
    expect(
      (await getPage(app, `/announcements/${announcement.id}/retract`, { session: publisherSession })).statusCode,
    ).toBe(409);
  });
});

describe('channel settings', () => {
  const settings = () => `/channels/${channel.slug}/settings`;

  it('are for owners and administrators: a publisher gets 403, someone who cannot see the channel 404', async () => {
    const page = await getPage(app, settings(), { session: ownerSession });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Innstillinger for BOTT Tilgang');
    expect((await getPage(app, settings(), { session: publisherSession })).statusCode).toBe(403);
    expect((await getPage(app, settings(), { session: strangerSession })).statusCode).toBe(404);
    const post = await postForm(app, settings(), { title: 'Kapret' }, { session: publisherSession });
    expect(post.statusCode).toBe(403);
  });

  it('change name, description and visibility, with field errors for invalid input', async () => {
    const blank = await postForm(
      app,
      settings(),
      { title: ' ', description: '', visibility: 'restricted' },
      { session: ownerSession },
    );
    expect(blank.statusCode).toBe(400);
    expect(blank.body).toContain('href="#field-title"');
    const saved = await postForm(
      app,
      settings(),
      { title: 'BOTT Tilgangsstyring', description: 'Om tilgang', visibility: 'internal' },
      { session: ownerSession },
    );
    expect(saved.statusCode).toBe(303);
    expect(saved.headers.location).toBe(`${settings()}?saved=settings`);
    const stored = await ctx.deps.db.channel.findUniqueOrThrow({ where: { id: channel.id } });
    expect(stored).toMatchObject({ title: 'BOTT Tilgangsstyring', description: 'Om tilgang', visibility: 'internal' });
  });

  it('give the publisher role by e-mail address or Feide id, and take it away', async () => {
    const db = ctx.deps.db;
    const newcomer = await createUser(db, { organisationCode: 'UiT' });
    await db.user.update({ where: { id: newcomer.id }, data: { principalName: 'kari@uit.no' } });
    const unknown = await postForm(
      app,
      `${settings()}/roles`,
      { person: 'ingen@uit.no', role: 'publisher' },
      { session: ownerSession },
    );
    expect(unknown.statusCode).toBe(400);
    expect(unknown.body).toContain('Ingen med den adressen har logget inn ennå.');
    const owners = await postForm(
      app,
      `${settings()}/roles`,
      { person: 'KARI@uit.no', role: 'owner' },
      { session: ownerSession },
    );
    expect(owners.statusCode).toBe(400);
    expect(owners.body).toContain('Bare administratorer kan gi eller ta fra noen eierrollen.');

    const granted = await postForm(
      app,
      `${settings()}/roles`,
      { person: 'KARI@uit.no', role: 'publisher' },
      { session: ownerSession },
    );
    expect(granted.statusCode).toBe(303);
    const role = await db.channelRole.findUniqueOrThrow({
      where: { channelId_userId: { channelId: channel.id, userId: newcomer.id } },
    });
    expect(role.role).toBe('publisher');
    const page = await getPage(app, settings(), { session: ownerSession });
    expect(page.body).toContain(`value="${newcomer.id}"`);

    const revoked = await postForm(
      app,
      `${settings()}/roles/revoke`,
      { userId: newcomer.id },
      { session: ownerSession },
    );
    expect(revoked.statusCode).toBe(303);
    expect(await db.channelRole.count({ where: { channelId: channel.id, userId: newcomer.id } })).toBe(0);
  });

  it('add a webhook and show its secret once; rotate it; delete it', async () => {
    const db = ctx.deps.db;
    const invalid = await postForm(
      app,
      `${settings()}/webhooks`,
      { webhookUrl: 'ftp://example.org/hook', webhookFormat: 'slack', webhookEvents: ['announcement.published'] },
      { session: ownerSession },
    );
    expect(invalid.statusCode).toBe(400);
    expect(invalid.body).toContain('href="#field-webhookUrl"');

    const created = await postForm(
      app,
      `${settings()}/webhooks`,
      {
        webhookUrl: 'http://127.0.0.1:9/hook',
        webhookFormat: 'teams',
        webhookEvents: ['announcement.published', 'announcement.retracted'],
      },
      { session: ownerSession },
    );
    expect(created.statusCode).toBe(200);
    const secret = /data-testid="webhook-secret">([^<]+)</.exec(created.body)?.[1];
    expect(secret).toMatch(/^whsec_/);
    const stored = await db.webhook.findFirstOrThrow({ where: { channelId: channel.id } });
    expect(stored).toMatchObject({
      format: 'teams',
      secret,
      events: ['announcement.published', 'announcement.retracted'],
    });
    // Shown once: the settings page never carries it again.
    expect((await getPage(app, settings(), { session: ownerSession })).body).not.toContain(secret);

    const rotated = await postForm(app, `${settings()}/webhooks/${stored.id}/rotate`, {}, { session: ownerSession });
    expect(rotated.statusCode).toBe(200);
    const newSecret = /data-testid="webhook-secret">([^<]+)</.exec(rotated.body)?.[1];
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(secret);

    expect(
      (await postForm(app, `${settings()}/webhooks/${stored.id}/delete`, {}, { session: publisherSession })).statusCode,
    ).toBe(404);
    const deleted = await postForm(app, `${settings()}/webhooks/${stored.id}/delete`, {}, { session: ownerSession });
    expect(deleted.statusCode).toBe(303);
    expect(await db.webhook.count({ where: { id: stored.id } })).toBe(0);
  });
});

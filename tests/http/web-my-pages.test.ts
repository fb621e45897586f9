/**
 * A signed-in person's own pages through app.inject: my feed (unread state, mark read and unread, mark all read),
 * my subscriptions (e-mail mode, language, push; leaving), my account (API tokens and feed URLs shown once, then
 * revoked; the data download link; deletion behind a confirmation step). Sign-in first (an anonymous visitor is sent
 * to sign in), `private, no-store`, CSRF on every POST, 303 after success, 400 with the errors on the fields.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { authenticateToken } from '../../src/services/tokens.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createSubscription } from '../helpers/delivery.js';
import { createUser } from '../helpers/factories.js';
import { createReaderWorld, READER_TITLES, type ReaderWorld } from '../helpers/reader-pages.js';
import { type BrowserSession, browserSession, getPage, postForm } from '../helpers/web.js';

let ctx: TestContext;
let app: FastifyInstance;
let world: ReaderWorld;
let reader: BrowserSession;

beforeAll(async () => {
  // An issuer, so an anonymous visitor is sent to sign in (the provider is never contacted by these tests).
  ctx = await createTestContext({
    OIDC_ISSUER: 'https://idp.example.org',
    OIDC_CLIENT_ID: 'meldingskanal',
    OIDC_CLIENT_SECRET: 'test-secret',
  });
  world = await createReaderWorld(ctx.deps.db, ctx.config.http.publicUrl);
  app = await buildApp(ctx.deps, { logger: false });
  reader = await browserSession(ctx.deps.db, world.reader.id);
  await createSubscription(ctx.deps.db, { channelId: world.publicChannel.id, userId: world.reader.id });
  await createSubscription(ctx.deps.db, {
    channelId: world.internalChannel.id,
    userId: world.reader.id,
    emailMode: 'weekly',
    language: 'en',
  });
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

const unreadCount = (body: string) => Number(/data-unread-total="(\d+)"/.exec(body)?.[1]);

describe('sign-in first', () => {
  it('sends an anonymous visitor to sign in and back, and answers personal pages private, no-store', async () => {
    for (const path of ['/me/feed', '/me/subscriptions', '/me/account', '/me/account/delete']) {
      const anonymous = await getPage(app, path);
      expect(anonymous.statusCode, path).toBe(303);
      expect(anonymous.headers.location, path).toBe(`/auth/login?returnTo=${encodeURIComponent(path)}`);
      const page = await getPage(app, path, { session: reader });
      expect(page.statusCode, path).toBe(200);
      expect(page.headers['cache-control'], path).toBe('private, no-store');
    }
  });
});

describe('my feed', () => {
  it('lists my channels’ announcements with their unread state, in my language', async () => {
    const page = await getPage(app, '/me/feed', { session: reader });
    expect(page.body).toContain('<h1 class="ds-heading" data-size="lg">Mine kunngjøringer</h1>');
    expect(page.body).toContain(READER_TITLES.internal);
    expect(page.body).toContain(READER_TITLES.incident);
    expect(page.body).not.toContain(READER_TITLES.restricted);
    expect(unreadCount(page.body)).toBe(6);
    expect(page.body).toContain('6 uleste kunngjøringer');
    const live = /data-live-channels="([^"]*)"/.exec(page.body)?.[1]?.split(',').sort();
    expect(live).toEqual([world.publicChannel.slug, world.internalChannel.slug].sort());
    expect(page.body).toMatch(/<template id="feed-item-template"/);
    const english = await getPage(app, '/me/feed?lang=en', { session: reader });
    expect(english.body).toContain('6 unread announcements');
    expect(english.body).toContain(READER_TITLES.maintenanceEn);
  });

  it('marks one read and unread, and everything read, by POST forms that come back with 303', async () => {
    const id = world.ids.incident;
    const read = await postForm(
      app,
      `/me/feed/${id}/read`,
      { read: 'true', returnTo: '/me/feed' },
      { session: reader },
    );
    expect(read.statusCode).toBe(303);
    expect(read.headers.location).toBe('/me/feed?done=read');
    let page = await getPage(app, '/me/feed?done=read', { session: reader });
    expect(page.body).toContain('Merket som lest.');
    expect(unreadCount(page.body)).toBe(5);
    expect(page.body).toMatch(new RegExp(`data-read="true" data-announcement="${id}"`));

    const unread = await postForm(
      app,
      `/me/feed/${id}/read`,
      { read: 'false', returnTo: `/announcements/${id}` },
      { session: reader },
    );
    expect(unread.headers.location).toBe(`/announcements/${id}?done=unread`);
    // A return address elsewhere is not followed.
    const away = await postForm(
      app,
      `/me/feed/${id}/read`,
      { read: 'true', returnTo: 'https://evil.example/' },
      { session: reader },
    );
    expect(away.headers.location).toBe('/?done=read');

    const forged = await postForm(app, '/me/feed/read-all', {}, { session: { ...reader, csrfToken: 'x' } });
    expect(forged.statusCode).toBe(403);
    page = await getPage(app, '/me/feed', { session: reader });
    expect(unreadCount(page.body)).toBe(5);

    const all = await postForm(app, '/me/feed/read-all', {}, { session: reader });
    expect(all.headers.location).toBe('/me/feed?done=all-read');
    page = await getPage(app, all.headers.location as string, { session: reader });
    expect(unreadCount(page.body)).toBe(0);
    expect(page.body).toContain('Alle kunngjøringene er merket som lest.');
    expect(page.body).not.toContain('data-read-all-form');
    // An announcement the reader may not read: the same 404 as one that does not exist.
    const hidden = await postForm(app, `/me/feed/${world.ids.restricted}/read`, { read: 'true' }, { session: reader });
    expect(hidden.statusCode).toBe(404);
  });
});

describe('my subscriptions', () => {
  it('shows each subscription with its e-mail mode, language and push, and saves changes', async () => {
    const page = await getPage(app, '/me/subscriptions', { session: reader });
    const publicSlug = world.publicChannel.slug;
    const internalSlug = world.internalChannel.slug;
    expect(page.body).toContain('BOTT Studieadministrasjon');
    expect(page.body).toContain(`name="emailMode.${internalSlug}"`);
    expect(page.body).toMatch(new RegExp(`id="field-emailMode-${internalSlug}"[\\s\\S]*?value="weekly" selected`));
    // This server has no VAPID keys: push is said to be off, and no push script is loaded.
    expect(page.body).toContain('Varsler er ikke satt opp på denne tjenesten.');
    expect(page.body).not.toContain('entries/push');

    const saved = await postForm(
      app,
      '/me/subscriptions',
      {
        action: 'save',
        [`emailMode.${publicSlug}`]: 'daily',
        [`language.${publicSlug}`]: 'nn',
        [`push.${publicSlug}`]: 'on',
        [`emailMode.${internalSlug}`]: 'off',
        [`language.${internalSlug}`]: 'en',
      },
      { session: reader },
    );
    expect(saved.statusCode).toBe(303);
    expect(saved.headers.location).toBe('/me/subscriptions?done=saved');
    const rows = await ctx.deps.db.subscription.findMany({
      where: { userId: world.reader.id },
      include: { channel: { select: { slug: true } } },
    });
    const bySlug = Object.fromEntries(rows.map((row) => [row.channel.slug, row]));
    expect(bySlug[publicSlug]).toMatchObject({ emailMode: 'daily', language: 'nn', push: true });
    expect(bySlug[internalSlug]).toMatchObject({ emailMode: 'off', language: 'en', push: false });
  });

  it('refuses a value it does not offer with 400 and the error on that field, saving nothing', async () => {
    const publicSlug = world.publicChannel.slug;
    const invalid = await postForm(
      app,
      '/me/subscriptions?lang=en',
      { action: 'save', [`emailMode.${publicSlug}`]: 'hourly', [`language.${publicSlug}`]: 'nb' },
      { session: reader },
    );
    expect(invalid.statusCode).toBe(400);
    expect(invalid.body).toContain(`href="#field-emailMode-${publicSlug}"`);
    expect(invalid.body).toContain('Choose one of the options.');
    expect(invalid.body).toMatch(/value="hourly"|aria-invalid="true"/);
    const row = await ctx.deps.db.subscription.findFirst({
      where: { userId: world.reader.id, channelId: world.publicChannel.id },
    });
    expect(row?.emailMode).toBe('daily');
  });

  it('leaves one subscription with its own button', async () => {
    const left = await postForm(
      app,
      '/me/subscriptions',
      { unsubscribe: world.internalChannel.slug },
      { session: reader },
    );
    expect(left.headers.location).toBe('/me/subscriptions?done=unsubscribed');
    const page = await getPage(app, left.headers.location as string, { session: reader });
    expect(page.body).toContain('Abonnementet er avsluttet.');
    expect(page.body).not.toContain(`name="emailMode.${world.internalChannel.slug}"`);
  });
});

describe('my account', () => {
  it('creates an API token whose secret is shown once, then revokes it', async () => {
    const page = await getPage(app, '/me/account', { session: reader });
    expect(page.body).toContain('Du har ingen API-nøkler.');
    expect(page.body).toContain('href="/api/v1/me/export"');
    const created = await postForm(
      app,
      '/me/account/tokens',
      { name: 'Publiseringsskript', scopes: ['read'], expiresInDays: '30' },
      { session: reader },
    );
    expect(created.statusCode).toBe(200);
    expect(created.headers['cache-control']).toBe('private, no-store');
    const secret = /id="new-token" readonly value="(mkt_[^"]+)"/.exec(created.body)?.[1];
    expect(secret).toBeDefined();
    expect(await authenticateToken(ctx.deps.db, secret!)).toMatchObject({ userId: world.reader.id });
    const later = await getPage(app, '/me/account', { session: reader });
    expect(later.body).toContain('Publiseringsskript');
    expect(later.body).not.toContain(secret!);

    const token = await ctx.deps.db.apiToken.findFirstOrThrow({ where: { userId: world.reader.id } });
    const revoked = await postForm(app, `/me/account/tokens/${token.id}/revoke`, {}, { session: reader });
    expect(revoked.headers.location).toBe('/me/account?done=token-revoked');
    expect(await authenticateToken(ctx.deps.db, secret!)).toBeNull();
    // Someone else's token answers like one that does not exist.
    const other = await createUser(ctx.deps.db);
    const otherSession = await browserSession(ctx.deps.db, other.id);
    const foreign = await postForm(app, `/me/account/tokens/${token.id}/revoke`, {}, { session: otherSession });
    expect(foreign.statusCode).toBe(404);
  });

  it('refuses an invalid token form with 400, every error on its field', async () => {
    const invalid = await postForm(
      app,
      '/me/account/tokens',
      { name: ' ', expiresInDays: '1000' },
      { session: reader },
    );
    expect(invalid.statusCode).toBe(400);
    for (const field of ['name', 'scopes', 'expiresInDays']) expect(invalid.body).toContain(`href="#field-${field}"`);
    expect(invalid.body).toContain('Gi nøkkelen et navn.');
    // A scope the person does not hold (admin) is not offered, and refused when sent.
    const admin = await postForm(
      app,
      '/me/account/tokens',
      { name: 'x', scopes: ['admin'], expiresInDays: '30' },
      { session: reader },
    );
    expect(admin.statusCode).toBe(403);
  });

  it('creates a personal feed URL shown once, which works until revoked', async () => {
    const created = await postForm(app, '/me/account/feed-urls', {}, { session: reader });
    expect(created.statusCode).toBe(200);
    const url = /id="new-feed-atom" readonly value="([^"]+)"/.exec(created.body)?.[1];
    expect(url).toMatch(/\/feeds\/me\/mkf_[\w-]{40}\.atom$/);
    const path = new URL(url!).pathname;
    expect((await app.inject({ method: 'GET', url: path })).statusCode).toBe(200);
    const token = await ctx.deps.db.feedToken.findFirstOrThrow({ where: { userId: world.reader.id } });
    const revoked = await postForm(app, `/me/account/feed-urls/${token.id}/revoke`, {}, { session: reader });
    expect(revoked.headers.location).toBe('/me/account?done=feed-url-revoked');
    expect((await app.inject({ method: 'GET', url: path })).statusCode).toBe(404);
  });

  it('deletes the account only after the confirmation step, signs out and says so', async () => {
    const person = await createUser(ctx.deps.db);
    const session = await browserSession(ctx.deps.db, person.id);
    const step = await getPage(app, '/me/account/delete', { session });
    expect(step.body).toContain('Slette kontoen?');
    const unconfirmed = await postForm(app, '/me/account/delete', {}, { session });
    expect(unconfirmed.statusCode).toBe(400);
    expect(unconfirmed.body).toContain('href="#field-confirm"');
    expect(await ctx.deps.db.user.findUnique({ where: { id: person.id } })).not.toBeNull();
    const forged = await postForm(
      app,
      '/me/account/delete',
      { confirm: 'yes' },
      { session: { ...session, csrfToken: 'x' } },
    );
    expect(forged.statusCode).toBe(403);

    const deleted = await postForm(app, '/me/account/delete', { confirm: 'yes' }, { session });
    expect(deleted.statusCode).toBe(303);
    expect(deleted.headers.location).toBe('/?done=account-deleted');
    expect([deleted.headers['set-cookie']].flat().join()).toMatch(/__Host-mk_session=;/);
    expect(await ctx.deps.db.user.findUnique({ where: { id: person.id } })).toBeNull();
    const home = await getPage(app, '/?done=account-deleted');
    expect(home.body).toContain('Kontoen din er slettet.');
  });
});

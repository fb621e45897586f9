/**
 * The web app's shared machinery: pages in the reader's language (link, remembered choice, account setting,
 * Accept-Language), the language form, the fingerprinted assets, and HTML error pages for people (JSON stays for
 * programs).
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { loadWebAssets } from '../../src/web/assets.js';
import { LANGUAGE_COOKIE } from '../../src/web/context.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser } from '../helpers/factories.js';
import { browserSession, getPage, postForm } from '../helpers/web.js';

let ctx: TestContext;
let app: FastifyInstance;
const WIDGET_ORIGIN = 'https://intranett.uio.no';

beforeAll(async () => {
  ctx = await createTestContext({ WIDGET_ORIGINS: WIDGET_ORIGIN });
  await createChannel(ctx.deps.db, { visibility: 'public' });
  app = await buildApp(ctx.deps, { logger: false });
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

const htmlLang = (body: string) => /<html lang="(\w+)"/.exec(body)?.[1];

describe('the page language', () => {
  it('is bokmål by default, Accept-Language when it names one of ours, and ?lang= above both', async () => {
    const plain = await getPage(app, '/');
    expect(plain.statusCode).toBe(200);
    expect(htmlLang(plain.body)).toBe('nb');
    expect(plain.headers['content-language']).toBe('nb');
    expect(plain.headers.vary).toMatch(/Cookie/);
    expect(plain.headers['cache-control']).toBe('no-cache');

    const english = await getPage(app, '/', { headers: { 'accept-language': 'en-GB,en;q=0.9' } });
    expect(htmlLang(english.body)).toBe('en');
    expect(english.body).toContain('Skip to main content');

    const linked = await getPage(app, '/?lang=nn', { headers: { 'accept-language': 'en' } });
    expect(htmlLang(linked.body)).toBe('nn');
    expect(linked.body).toContain('Hopp til hovudinnhaldet');
  });

  it('is remembered by POST /language (a cookie), which goes back to the page it came from, without lang=', async () => {
    const chosen = await postForm(app, '/language', { lang: 'nn', returnTo: '/?q=bott&lang=en' });
    expect(chosen.statusCode).toBe(303);
    expect(chosen.headers.location).toBe('/?q=bott&lang=en');
    const cookie = [chosen.headers['set-cookie']].flat().find((c) => c?.startsWith(`${LANGUAGE_COOKIE}=`));
    expect(cookie).toMatch(/^mk_lang=nn; Max-Age=31536000; Path=\/; HttpOnly; SameSite=Lax/);

    const remembered = await getPage(app, '/', { cookies: ['mk_lang=nn'], headers: { 'accept-language': 'en' } });
    expect(htmlLang(remembered.body)).toBe('nn');
    // The language form on the page sends the visitor back here without the old choice.
    const withLang = await getPage(app, '/?q=x&lang=en');
    expect(withLang.body).toContain('name="returnTo" value="/?q=x"');
  });

  it('never sends anyone elsewhere, and ignores a language it does not have', async () => {
    for (const returnTo of ['https://evil.example/', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)']) {
      const response = await postForm(app, '/language', { lang: 'en', returnTo });
      expect(response.statusCode, returnTo).toBe(303);
      expect(response.headers.location, returnTo).toBe('/');
    }
    const unknown = await postForm(app, '/language', { lang: 'sv', returnTo: '/channels' });
    expect(unknown.statusCode).toBe(303);
    expect(unknown.headers['set-cookie']).toBeUndefined();
  });

  it('follows a signed-in person: their setting when they chose nothing here, and a choice updates the setting', async () => {
    const user = await createUser(ctx.deps.db, { organisationCode: 'UiB' });
    await ctx.deps.db.user.update({ where: { id: user.id }, data: { language: 'en' } });
    const session = await browserSession(ctx.deps.db, user.id);

    const page = await getPage(app, '/', { session });
    expect(htmlLang(page.body)).toBe('en');
    expect(page.headers['cache-control']).toBe('private, no-store');
    expect(page.body).toContain(`Signed in as ${'Test user'}`);
    expect(page.body).toContain(`name="_csrf" value="${session.csrfToken}"`);

    const chosen = await postForm(app, '/language', { lang: 'nb', returnTo: '/' }, { session });
    expect(chosen.statusCode).toBe(303);
    expect((await ctx.deps.db.user.findUniqueOrThrow({ where: { id: user.id } })).language).toBe('nb');

    // Without its CSRF token the same form is refused (the session is an ambient credential).
    const forged = await app.inject({
      method: 'POST',
      url: '/language',
      headers: {
        cookie: session.cookie,
        accept: 'text/html',
        'content-type': 'application/x-www-form-urlencoded',
        'sec-fetch-site': 'cross-site',
      },
      payload: 'lang=en&returnTo=/',
    });
    expect(forged.statusCode).toBe(403);
    expect(forged.headers['content-type']).toMatch(/^text\/html/);
    expect((await ctx.deps.db.user.findUniqueOrThrow({ where: { id: user.id } })).language).toBe('nb');
  });
});

describe('assets', () => {
  const assets = loadWebAssets();

  it('are served fingerprinted, immutable, pre-compressed, with an ETag', async () => {
    const url = assets.url('app.css');
    expect(url).toMatch(/^\/assets\/app-[A-Z0-9]{8}\.css$/);
    const br = await app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'gzip, br' } });
    expect(br.statusCode).toBe(200);
    expect(br.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const plain = await app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toContain('.ds-button');
    expect(plain.rawPayload.length).toBeGreaterThan(br.rawPayload.length * 3);

    const again = await app.inject({ method: 'GET', url, headers: { 'if-none-match': String(br.headers.etag) } });
    expect(again.statusCode).toBe(304);
  });

  it('may be loaded as modules by widget origins, and by nobody else', async () => {
    const url = assets.url('entries/app.js');
    const allowed = await app.inject({ method: 'GET', url, headers: { origin: WIDGET_ORIGIN } });
    expect(allowed.headers['access-control-allow-origin']).toBe(WIDGET_ORIGIN);
    expect(allowed.headers['content-type']).toBe('text/javascript; charset=utf-8');
    const other = await app.inject({ method: 'GET', url, headers: { origin: 'https://evil.example' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answer 404 for anything the build did not make, including paths outside it', async () => {
    for (const url of [
      '/assets/app-ZZZZZZZZ.css',
      '/assets/../package.json',
      '/assets/chunks/..%2F..%2Fpackage.json',
    ]) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(404);
    }
  });
});

describe('errors', () => {
  it('are pages in the reader’s language for browsers, and JSON for programs', async () => {
    const page = await getPage(app, '/finst-ikkje', { headers: { 'accept-language': 'nn' } });
    expect(page.statusCode).toBe(404);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('Fann ikkje sida');
    expect(page.body).toContain(`Referanse: ${page.headers['x-request-id']}`);

    const program = await app.inject({ method: 'GET', url: '/finst-ikkje' });
    expect(program.statusCode).toBe(404);
    expect(program.json().error.code).toBe('not_found');

    // API paths answer JSON even to a browser.
    const api = await getPage(app, '/api/v1/finst-ikkje');
    expect(api.headers['content-type']).toMatch(/^application\/json/);
  });
});

/**
 * Feeds over HTTP: public channel feeds, the combined public feed and personal feed URLs, parsed by real parsers
 * (rss-parser; saxes for strict XML 1.0 + namespaces; xmldom for namespace-aware queries), with conditional GETs,
 * paging, tombstones and the access rules of the personal feed.
 */
import { DOMParser, type Element, onWarningStopParsing } from '@xmldom/xmldom';
import type { FastifyInstance } from 'fastify';
import Parser from 'rss-parser';
import { SaxesParser } from 'saxes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOMBSTONES_NS } from '../../src/feeds/index.js';
import { buildApp } from '../../src/http/app.js';
import { scrubLogLine } from '../../src/logger.js';
import { resolveSession, SESSION_COOKIE, startSession } from '../../src/services/sessions.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createAnnouncement, createSubscription } from '../helpers/delivery.js';
import { createChannel, createUser, grantRole, type TestChannel, tokenFor } from '../helpers/factories.js';

const ATOM = 'http://www.w3.org/2005/Atom';
const PUBLIC_URL = 'https://meldinger.example.no';
const WIDGET_ORIGIN = 'https://intranett.example.org';

let ctx: TestContext;
let app: FastifyInstance;
let publicChannel: TestChannel;
let internalChannel: TestChannel;
let restrictedChannel: TestChannel;
const feedParser = new Parser();

beforeAll(async () => {
  ctx = await createTestContext({ PUBLIC_URL, WIDGET_ORIGINS: WIDGET_ORIGIN });
  app = await buildApp(ctx.deps, { logger: false });
  const db = ctx.deps.db;
  publicChannel = await createChannel(db, { visibility: 'public', title: 'BOTT SA' });
  internalChannel = await createChannel(db, { visibility: 'internal' });
  restrictedChannel = await createChannel(db, { visibility: 'restricted' });
  await createAnnouncement(db, {
    channelId: publicChannel.id,
    title: 'Eldre melding',
    body: 'Gammel tekst',
    publishedAt: new Date('2026-11-01T10:00:00.000Z'),
  });
  await createAnnouncement(db, {
    channelId: publicChannel.id,
    title: 'Ny versjon <av> BOTT SA',
    body: '**Oppgradering** på lørdag. <script>alert(1)</script>',
    importance: 'important',
    publishedAt: new Date('2026-11-02T10:00:00.000Z'),
  });
  await createAnnouncement(db, { channelId: internalChannel.id, title: 'Intern melding' });
  await createAnnouncement(db, { channelId: restrictedChannel.id, title: 'Begrenset melding' });
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

/** Strict XML 1.0 + namespaces (saxes throws on anything malformed), then a namespace-aware DOM. */
function parseXml(xml: string) {
  const sax = new SaxesParser({ xmlns: true });
  sax.on('error', (error) => {
    throw error;
  });
  sax.write(xml).close();
  return new DOMParser({ onError: onWarningStopParsing }).parseFromString(xml, 'application/xml');
}

function children(parent: Element, namespace: string, localName: string): Element[] {
  return Array.from(parent.childNodes).filter(
    (node): node is Element =>
      node.nodeType === 1 &&
      ((node as Element).namespaceURI ?? '') === namespace &&
      (node as Element).localName === localName,
  );
}

function atomFeed(xml: string): Element {
  const root = parseXml(xml).documentElement;
  if (!root || root.namespaceURI !== ATOM || root.localName !== 'feed') throw new Error('not an Atom feed');
  return root as unknown as Element;
}

function atomLink(feed: Element, rel: string): string | null {
  const link = children(feed, ATOM, 'link').find((element) => element.getAttribute('rel') === rel);
  return link?.getAttribute('href') ?? null;
}

function atomEntryIds(feed: Element): string[] {
  return children(feed, ATOM, 'entry').map((entry) => children(entry, ATOM, 'id')[0]?.textContent ?? '');
}

/** The path and query of an absolute feed URL, for app.inject. */
const local = (url: string) => url.slice(PUBLIC_URL.length);

const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });

/** A signed-in browser: the session cookie plus what a same-origin page sends with a state change. */
async function sessionHeaders(userId: string) {
  const started = await startSession(ctx.deps.db, { userId, idToken: 'header.payload.signature' }, ctx.config.session);
  const resolved = await resolveSession(ctx.deps.db, started.secret, ctx.config.session);
  if (!resolved) throw new Error('session did not resolve');
  return {
    cookie: `${SESSION_COOKIE}=${started.secret}`,
    'x-csrf-token': resolved.csrfToken,
    'sec-fetch-site': 'same-origin',
  };
}

describe('public channel feeds', () => {
  it('RSS 2.0: parsed by rss-parser, newest first, sanitised HTML, absolute URLs, language nb, caching headers', async () => {
    const response = await get(`/feeds/channels/${publicChannel.slug}.rss`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/rss+xml; charset=utf-8');
    expect(response.headers['cache-control']).toBe('public, max-age=60');
    expect(response.headers.etag).toMatch(/^W\/"[\w-]+"$/);
    expect(new Date(String(response.headers['last-modified'])).getTime()).not.toBeNaN();
    const feed = await feedParser.parseString(response.body);
    expect(feed.title).toBe('BOTT SA');
    expect(feed.language).toBe('nb');
    expect(feed.items.map((item) => item.title)).toEqual(['Ny versjon <av> BOTT SA', 'Eldre melding']);
    const [newest] = feed.items;
    expect(newest?.content).toContain('<strong>Oppgradering</strong>');
    expect(newest?.content).not.toContain('<script');
    expect(newest?.link).toMatch(new RegExp(`^${PUBLIC_URL}/announcements/[0-9a-f-]{36}$`));
    // The REST view carries the same HTML.
    const id = newest?.link?.split('/').at(-1);
    expect((await get(`/api/v1/announcements/${id}`)).json().bodyHtml).toBe(newest?.content);
  });

  it('Atom: strict XML, self link for this URL, xml:lang nb, entries with urn:uuid ids and HTML content', async () => {
    const response = await get(`/feeds/channels/${publicChannel.slug}.atom`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/atom+xml; charset=utf-8');
    const feed = atomFeed(response.body);
    expect(feed.getAttribute('xml:lang')).toBe('nb');
    expect(atomLink(feed, 'self')).toBe(`${PUBLIC_URL}/feeds/channels/${publicChannel.slug}.atom`);
    expect(atomLink(feed, 'first')).toBe(`${PUBLIC_URL}/feeds/channels/${publicChannel.slug}.atom`);
    expect(atomLink(feed, 'next')).toBeNull();
    const ids = atomEntryIds(feed);
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    const content = children(children(feed, ATOM, 'entry')[0]!, ATOM, 'content')[0]!;
    expect(content.getAttribute('type')).toBe('html');
    expect(content.textContent).toContain('<strong>Oppgradering</strong>');
  });

  it('JSON Feed 1.1: version, language, items with content_html', async () => {
    const response = await get(`/feeds/channels/${publicChannel.slug}.json`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/feed+json; charset=utf-8');
    const feed = response.json();
    expect(feed.version).toBe('https://jsonfeed.org/version/1.1');
    expect(feed.language).toBe('nb');
    expect(feed.feed_url).toBe(`${PUBLIC_URL}/feeds/channels/${publicChannel.slug}.json`);
    expect(feed.next_url).toBeUndefined();
    expect(feed.items.map((item: { title: string }) => item.title)).toEqual([
      'Ny versjon <av> BOTT SA',
      'Eldre melding',
    ]);
    expect(feed.items[0].content_html).toContain('<strong>Oppgradering</strong>');
  });

  it('internal and restricted channels answer 404 exactly like a missing channel, also to their readers', async () => {
    const missing = await get('/feeds/channels/no-such-channel.atom');
    expect(missing.statusCode).toBe(404);
    const member = await createUser(ctx.deps.db, { organisationCode: 'UiB' });
    await grantRole(ctx.deps.db, restrictedChannel.id, member.id, 'owner');
    const token = await tokenFor(ctx.deps.db, member.id);
    for (const channel of [internalChannel, restrictedChannel]) {
      for (const headers of [{}, { authorization: `Bearer ${token}` }] as Record<string, string>[]) {
        const response = await get(`/feeds/channels/${channel.slug}.atom`, headers);
        expect(response.statusCode).toBe(404);
        expect(response.json().error).toEqual(missing.json().error);
      }
    }
    expect((await get(`/feeds/channels/${publicChannel.slug}.html`)).statusCode).toBe(404);
  });

  it('the combined public feed holds public channels only', async () => {
    const feed = await feedParser.parseString((await get('/feeds/public.rss')).body);
    const titles = feed.items.map((item) => item.title);
    expect(titles).toEqual(expect.arrayContaining(['Ny versjon <av> BOTT SA', 'Eldre melding']));
    expect(titles).not.toContain('Intern melding');
    expect(titles).not.toContain('Begrenset melding');
    const atom = atomFeed((await get('/feeds/public.atom')).body);
    expect(atomLink(atom, 'self')).toBe(`${PUBLIC_URL}/feeds/public.atom`);
    expect((await get('/feeds/public.json')).json().items.length).toBe(titles.length);
  });

  it('the front page links the combined feed, each public channel’s page its own, never an internal one', async () => {
    const page = (await get('/')).body;
    expect(page).toContain('<link rel="alternate" type="application/atom+xml"');
    for (const extension of ['atom', 'rss', 'json'])
      expect(page).toContain(`href="/feeds/public.${extension}?lang=nb"`);
    expect(page).not.toContain(internalChannel.slug);
    expect(page).not.toContain(restrictedChannel.slug);
    const channelPage = (await get(`/channels/${publicChannel.slug}`)).body;
    expect(channelPage).toContain(`rel="alternate" type="application/atom+xml"`);
    for (const extension of ['atom', 'rss', 'json']) {
      expect(channelPage).toContain(`href="/feeds/channels/${publicChannel.slug}.${extension}?lang=nb"`);
    }
  });

  it('widget origins may read public feeds (CORS), never with credentials', async () => {
    const response = await get(`/feeds/channels/${publicChannel.slug}.json`, { origin: WIDGET_ORIGIN });
    expect(response.headers['access-control-allow-origin']).toBe(WIDGET_ORIGIN);
    expect(response.headers['access-control-allow-credentials']).toBeUndefined();
  });
});

describe('conditional GET', () => {
  it('answers 304 to If-None-Match and If-Modified-Since, and 200 once something changed', async () => {
    const channel = await createChannel(ctx.deps.db, { visibility: 'public' });
    await createAnnouncement(ctx.deps.db, { channelId: channel.id, publishedAt: new Date('2026-11-03T08:00:00Z') });
    const url = `/feeds/channels/${channel.slug}.atom`;
    const first = await get(url);
    const etag = String(first.headers.etag);
    const modified = String(first.headers['last-modified']);

    const byTag = await get(url, { 'if-none-match': etag });
    expect(byTag.statusCode).toBe(304);
    expect(byTag.body).toBe('');
    expect(byTag.headers.etag).toBe(etag);
    const head = await app.inject({ method: 'HEAD', url });
    expect([head.statusCode, head.headers.etag, head.body]).toEqual([200, etag, '']);
    expect((await app.inject({ method: 'HEAD', url, headers: { 'if-none-match': etag } })).statusCode).toBe(304);
    const byDate = await get(url, { 'if-modified-since': modified });
    expect(byDate.statusCode).toBe(304);
    expect((await get(url, { 'if-modified-since': 'Sun, 01 Nov 2026 00:00:00 GMT' })).statusCode).toBe(200);
    expect((await get(url, { 'if-none-match': 'W/"something-else"' })).statusCode).toBe(200);
    // Another format of the same feed is another representation.
    expect((await get(`/feeds/channels/${channel.slug}.rss`, { 'if-none-match': etag })).statusCode).toBe(200);

    await createAnnouncement(ctx.deps.db, { channelId: channel.id });
    const changed = await get(url, { 'if-none-match': etag });
    expect(changed.statusCode).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
  });
});

describe('paging', () => {
  it('pages 50 at a time: Atom next link (RFC 5005), JSON Feed next_url, no duplicates or gaps', async () => {
    const channel = await createChannel(ctx.deps.db, { visibility: 'public' });
    const base = Date.parse('2026-10-01T00:00:00.000Z');
    await ctx.deps.db.announcement.createMany({
      data: Array.from({ length: 53 }, (_, i) => ({
        channelId: channel.id,
        title: `Melding ${i}`,
        body: `Tekst ${i}`,
        status: 'published' as const,
        // Pairs share a publishedAt: the id must break ties.
        publishedAt: new Date(base + Math.floor(i / 2) * 60_000),
      })),
    });
    const first = atomFeed((await get(`/feeds/channels/${channel.slug}.atom`)).body);
    const firstIds = atomEntryIds(first);
    expect(firstIds).toHaveLength(50);
    const next = atomLink(first, 'next');
    expect(next).toMatch(new RegExp(`^${PUBLIC_URL}/feeds/channels/${channel.slug}\\.atom\\?cursor=`));
    const second = atomFeed((await get(local(next!))).body);
    expect(atomLink(second, 'self')).toBe(next);
    expect(atomLink(second, 'first')).toBe(`${PUBLIC_URL}/feeds/channels/${channel.slug}.atom`);
    expect(atomLink(second, 'next')).toBeNull();
    const all = [...firstIds, ...atomEntryIds(second)];
    expect(new Set(all).size).toBe(53);

    const json = (await get(`/feeds/channels/${channel.slug}.json`)).json();
    expect(json.items).toHaveLength(50);
    const jsonSecond = (await get(local(json.next_url))).json();
    expect(jsonSecond.items).toHaveLength(3);
    expect(jsonSecond.next_url).toBeUndefined();

    const bad = await get(`/feeds/channels/${channel.slug}.atom?cursor=garbage`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_cursor');
  });
});

describe('retracted announcements', () => {
  it('become RFC 6721 tombstones in Atom and disappear from RSS and JSON Feed', async () => {
    const channel = await createChannel(ctx.deps.db, { visibility: 'public' });
    const kept = await createAnnouncement(ctx.deps.db, { channelId: channel.id, title: 'Blir stående' });
    const retracted = await createAnnouncement(ctx.deps.db, { channelId: channel.id, title: 'Trekkes tilbake' });
    const before = atomFeed((await get(`/feeds/channels/${channel.slug}.atom`)).body);
    expect(atomEntryIds(before)).toContain(`urn:uuid:${retracted.id}`);

    await ctx.deps.db.announcement.update({ where: { id: retracted.id }, data: { status: 'retracted' } });
    const after = atomFeed((await get(`/feeds/channels/${channel.slug}.atom`)).body);
    expect(atomEntryIds(after)).toEqual([`urn:uuid:${kept.id}`]);
    const tombstones = children(after, TOMBSTONES_NS, 'deleted-entry');
    expect(tombstones.map((tombstone) => tombstone.getAttribute('ref'))).toEqual([`urn:uuid:${retracted.id}`]);
    expect(new Date(tombstones[0]!.getAttribute('when')!).getTime()).not.toBeNaN();

    const rss = await feedParser.parseString((await get(`/feeds/channels/${channel.slug}.rss`)).body);
    expect(rss.items.map((item) => item.title)).toEqual(['Blir stående']);
    const json = (await get(`/feeds/channels/${channel.slug}.json`)).json();
    expect(json.items.map((item: { title: string }) => item.title)).toEqual(['Blir stående']);
  });
});

describe('personal feed URLs', () => {
  it('serve the subscribed channels the owner may read now; stop after losing the role and after revocation', async () => {
    const db = ctx.deps.db;
    const owner = await createUser(db, { organisationCode: 'UiO' });
    await grantRole(db, restrictedChannel.id, owner.id, 'publisher');
    for (const channel of [internalChannel, restrictedChannel, publicChannel]) {
      await createSubscription(db, { channelId: channel.id, userId: owner.id });
    }
    const headers = await sessionHeaders(owner.id);

    const created = await app.inject({ method: 'POST', url: '/api/v1/me/feed-tokens', headers });
    expect(created.statusCode).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const body = created.json();
    expect(body.token).toMatch(/^mkf_[A-Za-z0-9_-]{40}$/);
    expect(body.prefix).toBe(body.token.slice(0, 12));
    expect(body.urls).toEqual({
      atom: `${PUBLIC_URL}/feeds/me/${body.token}.atom`,
      rss: `${PUBLIC_URL}/feeds/me/${body.token}.rss`,
      json: `${PUBLIC_URL}/feeds/me/${body.token}.json`,
    });

    const titles = async () => {
      const response = await get(local(body.urls.rss));
      expect(response.statusCode).toBe(200);
      expect(response.headers['cache-control']).toBe('private, max-age=60');
      expect(response.headers['referrer-policy']).toBe('no-referrer');
      return (await feedParser.parseString(response.body)).items.map((item) => item.title).sort();
    };
    expect(await titles()).toEqual(
      ['Begrenset melding', 'Eldre melding', 'Intern melding', 'Ny versjon <av> BOTT SA'].sort(),
    );
    const atom = await get(local(body.urls.atom));
    expect(atom.statusCode).toBe(200);
    expect(atomLink(atomFeed(atom.body), 'self')).toBe(body.urls.atom);
    expect((await get(local(body.urls.json))).json().items).toHaveLength(4);
    // Not readable through the widget CORS rule: the URL is a secret.
    expect((await get(local(body.urls.json), { origin: WIDGET_ORIGIN })).headers['access-control-allow-origin']).toBe(
      undefined,
    );

    // Losing the role removes the restricted channel at the next fetch.
    await db.channelRole.delete({ where: { channelId_userId: { channelId: restrictedChannel.id, userId: owner.id } } });
    expect(await titles()).toEqual(['Eldre melding', 'Intern melding', 'Ny versjon <av> BOTT SA'].sort());
    // Leaving the member organisations removes the internal channel too.
    await db.user.update({ where: { id: owner.id }, data: { organisationId: null } });
    expect(await titles()).toEqual(['Eldre melding', 'Ny versjon <av> BOTT SA'].sort());

    const listed = await app.inject({ method: 'GET', url: '/api/v1/me/feed-tokens', headers });
    expect(listed.statusCode).toBe(200);
    expect(listed.json().items).toEqual([
      { id: body.id, prefix: body.prefix, createdAt: body.createdAt, lastUsedAt: expect.any(String) },
    ]);
    expect(listed.body).not.toContain(body.token);

    const revoked = await app.inject({ method: 'DELETE', url: `/api/v1/me/feed-tokens/${body.id}`, headers });
    expect(revoked.statusCode).toBe(204);
    const gone = await get(local(body.urls.atom));
    expect(gone.statusCode).toBe(404);
    const unknown = await get(`/feeds/me/mkf_${'A'.repeat(40)}.atom`);
    expect(unknown.statusCode).toBe(404);
    expect(gone.json().error).toEqual(unknown.json().error);
    expect((await app.inject({ method: 'GET', url: '/api/v1/me/feed-tokens', headers })).json().items).toEqual([]);
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/me/feed-tokens/${body.id}`, headers })).statusCode).toBe(
      404,
    );

    const audit = await db.auditLog.findMany({
      where: { targetType: 'feed_token', targetId: body.id },
      orderBy: { id: 'asc' },
    });
    expect(audit.map((record) => [record.action, record.actorUserId, record.outcome])).toEqual([
      ['feed_token.create', owner.id, 'success'],
      ['feed_token.revoke', owner.id, 'success'],
    ]);
  });

  it('are created in a session, not with an ordinary API token; others cannot revoke them', async () => {
    const user = await createUser(ctx.deps.db, { organisationCode: 'UiB' });
    const token = await tokenFor(ctx.deps.db, user.id);
    const byToken = await app.inject({
      method: 'POST',
      url: '/api/v1/me/feed-tokens',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(byToken.statusCode).toBe(403);
    expect((await app.inject({ method: 'POST', url: '/api/v1/me/feed-tokens' })).statusCode).toBe(401);

    const created = (
      await app.inject({ method: 'POST', url: '/api/v1/me/feed-tokens', headers: await sessionHeaders(user.id) })
    ).json();
    const stranger = await createUser(ctx.deps.db, { organisationCode: 'UiB' });
    const attempt = await app.inject({
      method: 'DELETE',
      url: `/api/v1/me/feed-tokens/${created.id}`,
      headers: await sessionHeaders(stranger.id),
    });
    expect(attempt.statusCode).toBe(404);
    expect((await get(local(created.urls.atom))).statusCode).toBe(200);
  });

  it('secrets are masked in log lines', () => {
    const secret = `mkf_${'x'.repeat(40)}`;
    const line = JSON.stringify({ req: { url: `/feeds/me/${secret}.atom` } });
    expect(scrubLogLine(line)).not.toContain(secret);
    expect(scrubLogLine(line)).toContain('mkf_[redacted]');
  });
});

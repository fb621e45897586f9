/**
 * The read cache (src/services/read-cache.ts) over HTTP, with TWO app instances on one database, as two API processes
 * would run: instance B serves a channel's newest page, its Atom feed and anonymous channel look-ups from its cache,
 * and forgets them when instance A publishes, edits, retracts or pins, or when anything writes the rows directly (a
 * worker, the CLI), told by PostgreSQL's notifications. Each reader gets the page of their audience and language.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, grantRole, type TestChannel, tokenFor } from '../helpers/factories.js';
import { waitFor } from '../helpers/wait.js';

let ctx: TestContext;
let a: FastifyInstance;
let b: FastifyInstance;
let channel: TestChannel;
let publisherToken: string;
let uioToken: string;
let uibToken: string;

interface Page {
  items: { id: string; title: string; language: string; pinned?: boolean }[];
}

beforeAll(async () => {
  // The cache on (test contexts turn it off so other tests need not wait for notifications).
  ctx = await createTestContext({ READ_CACHE_TTL_MS: '60000' });
  a = await buildApp(ctx.deps, { logger: false });
  b = await buildApp(ctx.deps, { logger: false });
  const db = ctx.deps.db;
  channel = await createChannel(db, { visibility: 'public' });
  const publisher = await createUser(db, { organisationCode: 'UiO' });
  await grantRole(db, channel.id, publisher.id, 'publisher');
  publisherToken = await tokenFor(db, publisher.id);
  uioToken = await tokenFor(db, (await createUser(db, { organisationCode: 'UiO' })).id, { scopes: ['read'] });
  uibToken = await tokenFor(db, (await createUser(db, { organisationCode: 'UiB' })).id, { scopes: ['read'] });
  await publish({ title: 'Første melding', body: 'Tekst' });
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await ctx?.close();
});

async function publish(body: Record<string, unknown>): Promise<{ id: string }> {
  const response = await a.inject({
    method: 'POST',
    url: `/api/v1/channels/${channel.slug}/announcements`,
    headers: { authorization: `Bearer ${publisherToken}` },
    payload: body,
  });
  expect(response.statusCode).toBe(201);
  return response.json();
}

function newest(app: FastifyInstance, options: { token?: string; lang?: string; etag?: string } = {}) {
  return app.inject({
    url: `/api/v1/channels/${channel.slug}/announcements?limit=20${options.lang ? `&lang=${options.lang}` : ''}`,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.etag ? { 'if-none-match': options.etag } : {}),
    },
  });
}

const titles = (response: LightMyRequestResponse) => (response.json() as Page).items.map((item) => item.title);

/** Reads instance B until `check` holds for its answer (the notification travels asynchronously). */
async function eventually(
  read: () => Promise<LightMyRequestResponse>,
  check: (response: LightMyRequestResponse) => boolean,
  what: string,
): Promise<LightMyRequestResponse> {
  return waitFor(
    async () => {
      const response = await read();
      return check(response) ? response : false;
    },
    { what },
  );
}

describe('the newest page in a second API process', () => {
  it('is served from the cache, with a strong ETag and 304, until a publication in the other process', async () => {
    const first = await newest(b);
    expect(first.statusCode).toBe(200);
    expect(first.headers.etag).toMatch(/^"[\w-]{32}"$/);
    expect(first.headers['cache-control']).toBe('no-cache');
    const before = b.readCache.stats();
    const second = await newest(b);
    expect(second.body).toBe(first.body);
    // Two hits, no miss: the anonymous channel look-up and the page.
    expect(b.readCache.stats()).toMatchObject({ hits: before.hits + 2, misses: before.misses });
    expect((await newest(b, { etag: first.headers.etag as string })).statusCode).toBe(304);

    await publish({ title: 'Andre melding', body: 'Mer tekst' });
    const after = await eventually(
      () => newest(b),
      (response) => titles(response).includes('Andre melding'),
      'the new announcement on B',
    );
    expect(titles(after)[0]).toBe('Andre melding');
    expect(after.headers.etag).not.toBe(first.headers.etag);
    // The old validator no longer matches.
    expect((await newest(b, { etag: first.headers.etag as string })).statusCode).toBe(200);
  });

  it('forgets the page on an edit, a pin and a retraction made in the other process', async () => {
    const { id } = await publish({ title: 'Skal endres', body: 'Tekst' });
    await eventually(
      () => newest(b),
      (r) => titles(r).includes('Skal endres'),
      'the announcement on B',
    );

    const edited = await a.inject({
      method: 'PATCH',
      url: `/api/v1/announcements/${id}`,
      headers: { authorization: `Bearer ${publisherToken}` },
      payload: { title: 'Er endret', material: false },
    });
    expect(edited.statusCode).toBe(200);
    await eventually(
      () => newest(b),
      (r) => titles(r).includes('Er endret'),
      'the edit on B',
    );

    const pinned = await a.inject({
      method: 'PUT',
      url: `/api/v1/announcements/${id}/pin`,
      headers: { authorization: `Bearer ${publisherToken}` },
      payload: {},
    });
    expect(pinned.statusCode).toBe(200);
    await eventually(
      () => newest(b),
      (r) => (r.json() as Page).items.some((item) => item.id === id && item.pinned === true),
      'the pin on B',
    );

    const retracted = await a.inject({
      method: 'POST',
      url: `/api/v1/announcements/${id}/retract`,
      headers: { authorization: `Bearer ${publisherToken}` },
    });
    expect(retracted.statusCode).toBe(200);
    await eventually(
      () => newest(b),
      (r) => !titles(r).includes('Er endret'),
      'the retraction on B',
    );
  });

  it('forgets the page when the rows change without the API (a worker, the CLI, SQL)', async () => {
    await newest(b);
    const { id } = await publish({ title: 'Før SQL', body: 'Tekst' });
    await eventually(
      () => newest(b),
      (r) => titles(r).includes('Før SQL'),
      'the announcement on B',
    );
    await ctx.deps.db.$executeRaw`UPDATE "Announcement" SET title = 'Etter SQL' WHERE id = ${id}::uuid`;
    await eventually(
      () => newest(b),
      (r) => titles(r).includes('Etter SQL'),
      'the direct update on B',
    );
    // An author's new name reaches every cached page (the notification for all channels).
    await ctx.deps.db.$executeRaw`UPDATE "User" SET "displayName" = 'Omdøpt forfatter'
      WHERE id = (SELECT "authorId" FROM "Announcement" WHERE id = ${id}::uuid)`;
    await eventually(
      () => newest(b),
      (r) => r.body.includes('Omdøpt forfatter'),
      'the renamed author on B',
    );
  });

  it('keeps one page per audience: an announcement for UiO reaches UiO members and editors only', async () => {
    // All three readers' pages are cached before the publication.
    for (const token of [undefined, uioToken, uibToken, publisherToken]) await newest(b, token ? { token } : {});
    await publish({ title: 'Bare for UiO', body: 'Intern tekst', audience: ['UiO'] });
    await eventually(
      () => newest(b, { token: uioToken }),
      (r) => titles(r).includes('Bare for UiO'),
      'the UiO member sees it',
    );
    await eventually(
      () => newest(b, { token: publisherToken }),
      (r) => titles(r).includes('Bare for UiO'),
      'the publisher sees it',
    );
    // By now B has heard of the publication; the other scopes' pages were read again, without it.
    expect(titles(await newest(b))).not.toContain('Bare for UiO');
    expect(titles(await newest(b, { token: uibToken }))).not.toContain('Bare for UiO');
    expect((await newest(b, { token: uioToken })).headers['cache-control']).toBe('private, no-cache');
  });

  it('keeps one page per language, and an edit of a translation reaches that language', async () => {
    const { id } = await publish({
      title: 'Norsk tittel',
      body: 'Tekst',
      translations: [{ language: 'en', title: 'English title', body: 'Text' }],
    });
    await eventually(
      () => newest(b, { lang: 'en' }),
      (r) => titles(r).includes('English title'),
      'en page',
    );
    await eventually(
      () => newest(b, { lang: 'nb' }),
      (r) => titles(r).includes('Norsk tittel'),
      'nb page',
    );
    const edited = await a.inject({
      method: 'PATCH',
      url: `/api/v1/announcements/${id}`,
      headers: { authorization: `Bearer ${publisherToken}` },
      payload: { translations: [{ language: 'en', title: 'Better English title', body: 'Text' }], material: false },
    });
    expect(edited.statusCode).toBe(200);
    await eventually(
      () => newest(b, { lang: 'en' }),
      (r) => titles(r).includes('Better English title'),
      'the edited translation on B',
    );
    expect(titles(await newest(b, { lang: 'nb' }))).toContain('Norsk tittel');
  });
});

describe('the public feeds in a second API process', () => {
  const atom = () => b.inject({ url: `/feeds/channels/${channel.slug}.atom` });

  it('serve the Atom feed from the cache (304 on its validator) until a publication in the other process', async () => {
    const first = await atom();
    expect(first.statusCode).toBe(200);
    const notModified = await b.inject({
      url: `/feeds/channels/${channel.slug}.atom`,
      headers: { 'if-none-match': first.headers.etag as string },
    });
    expect(notModified.statusCode).toBe(304);
    await publish({ title: 'Ny i feeden', body: 'Tekst' });
    await eventually(atom, (r) => r.body.includes('Ny i feeden'), 'the new entry in the Atom feed on B');
    const combined = await eventually(
      () => b.inject({ url: '/feeds/public.atom' }),
      (r) => r.body.includes('Ny i feeden'),
      'the new entry in the combined feed on B',
    );
    expect(combined.statusCode).toBe(200);
  });

  it('answer 404 for a channel made internal in the other process', async () => {
    const other = await createChannel(ctx.deps.db, { visibility: 'public' });
    expect((await b.inject({ url: `/feeds/channels/${other.slug}.atom` })).statusCode).toBe(200);
    await ctx.deps.db.channel.update({ where: { id: other.id }, data: { visibility: 'internal' } });
    await eventually(
      () => b.inject({ url: `/feeds/channels/${other.slug}.atom` }),
      (r) => r.statusCode === 404,
      'the feed of the now internal channel answers 404 on B',
    );
    expect((await b.inject({ url: `/api/v1/channels/${other.slug}/announcements` })).statusCode).toBe(404);
  });
});

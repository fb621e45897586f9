/**
 * Reading announcements in full: the reader's language (?lang, Accept-Language, the fallback, Content-Language),
 * expiry (left out of listings, feeds and counts, kept in the archive, by id and in search), and the filters of the
 * channel listing and the personal feed (language, importance, type, organisation, date range) with keyset pages —
 * on real PostgreSQL, with announcements made directly in the database.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, type TestChannel, tokenFor } from '../helpers/factories.js';

let ctx: TestContext;
let app: FastifyInstance;
let channel: TestChannel;
let adminToken: string;
let readerToken: string;
/** nb original with an English translation; info, general, for everyone. */
let bilingual: string;
/** English only; critical incident, for UiB. */
let englishIncident: string;
/** nn original with a bokmål translation; important maintenance, for NTNU. */
let nynorskMaintenance: string;
/** Expired an hour ago. */
let expired: string;
let releases: string[];

const START = Date.parse('2026-06-01T08:00:00.000Z');
const minute = (n: number) => new Date(START + n * 60_000);

async function get(url: string, token?: string, extra: Record<string, string> = {}) {
  return app.inject({
    method: 'GET',
    url,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra },
  });
}

async function listed(url: string, token: string = adminToken): Promise<string[]> {
  const response = await get(url, token);
  expect(response.statusCode, response.body).toBe(200);
  return response.json().items.map((item: { id: string }) => item.id);
}

/** Every id of a listing, page by page (limit 2), checking that no page repeats an earlier item. */
async function walk(url: string, token: string = adminToken): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const separator = url.includes('?') ? '&' : '?';
    const page = await get(`${url}${separator}limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, token);
    expect(page.statusCode, page.body).toBe(200);
    const body = page.json();
    for (const item of body.items as { id: string }[]) {
      expect(seen).not.toContain(item.id);
      seen.push(item.id);
    }
    cursor = body.nextCursor;
  } while (cursor);
  return seen;
}

beforeAll(async () => {
  ctx = await createTestContext();
  app = await buildApp(ctx.deps, { logger: false });
  const db = ctx.deps.db;
  const admin = await createUser(db, { isAdmin: true });
  adminToken = await tokenFor(db, admin.id);
  const reader = await createUser(db, { organisationCode: 'UiB' });
  readerToken = await tokenFor(db, reader.id);
  await createUser(db, { organisationCode: 'NTNU' });
  const uib = await db.organisation.findUniqueOrThrow({ where: { code: 'UiB' } });
  const ntnu = await db.organisation.findUniqueOrThrow({ where: { code: 'NTNU' } });
  channel = await createChannel(db, { visibility: 'public' });
  for (const userId of [admin.id, reader.id]) {
    await db.subscription.create({ data: { channelId: channel.id, userId, confirmedAt: new Date() } });
  }

  bilingual = (
    await db.announcement.create({
      data: {
        channelId: channel.id,
        language: 'nb',
        title: 'Ny lønnsløsning',
        summary: 'Kort om lønn',
        body: 'Lønn kommer nå fra det nye systemet.',
        publishedAt: minute(1),
        translations: {
          create: {
            language: 'en',
            title: 'New payroll',
            summary: 'Payroll in short',
            body: 'Salaries now come from the new gizmotron.',
          },
        },
      },
    })
  ).id;
  englishIncident = (
    await db.announcement.create({
      data: {
        channelId: channel.id,
        language: 'en',
        title: 'Login outage',
        body: 'Logging in fails.',
        importance: 'critical',
        type: 'incident',
        audienceOrganisationIds: [uib.id],
        publishedAt: minute(2),
      },
    })
  ).id;
  nynorskMaintenance = (
    await db.announcement.create({
      data: {
        channelId: channel.id,
        language: 'nn',
        title: 'Planlagd nedetid',
        body: 'Systemet er nede i kveld.',
        importance: 'important',
        type: 'maintenance',
        affectedSystem: 'BOTT ØL',
        startsAt: minute(100),
        endsAt: minute(160),
        audienceOrganisationIds: [ntnu.id],
        publishedAt: minute(3),
        translations: {
          create: { language: 'nb', title: 'Planlagt nedetid', body: 'Systemet er nede i kveld.' },
        },
      },
    })
  ).id;
  expired = (
    await db.announcement.create({
      data: {
        channelId: channel.id,
        title: 'Utløpt melding om kantina',
        body: 'Kantina er stengt.',
        publishedAt: minute(4),
        expiresAt: new Date(Date.now() - 60 * 60_000),
      },
    })
  ).id;
  releases = [];
  for (let i = 0; i < 5; i++) {
    releases.push(
      (
        await db.announcement.create({
          data: {
            channelId: channel.id,
            title: `Versjon 1.${i}`,
            body: 'Ny versjon',
            type: 'release',
            // Two pairs share a publishedAt: the id must break ties under the filter too.
            publishedAt: minute(10 + Math.floor(i / 2)),
          },
        })
      ).id,
    );
  }
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

describe("the reader's language", () => {
  it('?lang= picks the version and Content-Language says which; without it, the original', async () => {
    const english = await get(`/api/v1/announcements/${bilingual}?lang=en`);
    expect(english.statusCode).toBe(200);
    expect(english.json()).toMatchObject({
      language: 'en',
      languages: ['nb', 'en'],
      title: 'New payroll',
      summary: 'Payroll in short',
    });
    expect(english.json().bodyHtml).toContain('gizmotron');
    expect(english.headers['content-language']).toBe('en');
    expect(String(english.headers.vary)).toMatch(/accept-language/i);

    const original = await get(`/api/v1/announcements/${bilingual}`);
    expect([original.json().language, original.json().title]).toEqual(['nb', 'Ny lønnsløsning']);
    expect(original.headers['content-language']).toBe('nb');
  });

  it('else Accept-Language (by q-value); ?lang= wins over it', async () => {
    const byHeader = await get(`/api/v1/announcements/${bilingual}`, undefined, {
      'accept-language': 'de;q=1, en-GB;q=0.8, nb;q=0.5',
    });
    expect(byHeader.json().language).toBe('en');
    const both = await get(`/api/v1/announcements/${bilingual}?lang=nb`, undefined, { 'accept-language': 'en' });
    expect(both.json().language).toBe('nb');
    const none = await get(`/api/v1/announcements/${bilingual}`, undefined, { 'accept-language': 'de, fr' });
    expect(none.json().language).toBe('nb');
  });

  it('falls back to the other Norwegian written form, then to the original', async () => {
    // nn asked, only nb and en exist: bokmål.
    expect((await get(`/api/v1/announcements/${bilingual}?lang=nn`)).json().language).toBe('nb');
    // nb asked of an nn original with a bokmål translation: the translation.
    const nb = (await get(`/api/v1/announcements/${nynorskMaintenance}?lang=nb`, adminToken)).json();
    expect([nb.language, nb.title]).toEqual(['nb', 'Planlagt nedetid']);
    // en asked, no English: the original (nynorsk), not the bokmål translation.
    const en = await get(`/api/v1/announcements/${nynorskMaintenance}?lang=en`, adminToken);
    expect([en.json().language, en.headers['content-language']]).toEqual(['nn', 'nn']);
    // nn asked of an English-only one: its original.
    expect((await get(`/api/v1/announcements/${englishIncident}?lang=nn`, adminToken)).json().language).toBe('en');
  });

  it('refuses a language we do not have with 400, everywhere it is accepted', async () => {
    for (const url of [
      `/api/v1/announcements/${bilingual}?lang=de`,
      `/api/v1/channels/${channel.slug}/announcements?lang=sv`,
      '/api/v1/me/feed?lang=xx',
      '/api/v1/search?q=lønn&lang=fr',
      '/api/v1/directory?lang=da',
      `/api/v1/announcements/${nynorskMaintenance}/calendar.ics?lang=de`,
      `/feeds/channels/${channel.slug}.atom?lang=de`,
    ]) {
      const response = await get(url, adminToken);
      expect(response.statusCode, url).toBe(400);
      expect(response.json().error.code, url).toBe('validation_failed');
    }
  });

  it('applies to the channel listing, the personal feed and search', async () => {
    const listing = (await get(`/api/v1/channels/${channel.slug}/announcements?lang=en`, adminToken)).json();
    const inListing = listing.items.find((item: { id: string }) => item.id === bilingual);
    expect([inListing.language, inListing.title]).toEqual(['en', 'New payroll']);
    const byHeader = (
      await get(`/api/v1/channels/${channel.slug}/announcements`, adminToken, { 'accept-language': 'en' })
    ).json();
    expect(byHeader.items.find((item: { id: string }) => item.id === bilingual).title).toBe('New payroll');

    for (const url of [
      `/api/v1/channels/${channel.slug}/announcements`,
      '/api/v1/me/feed',
      '/api/v1/search?q=l%C3%B8nn',
      '/api/v1/directory',
    ]) {
      expect(String((await get(url, readerToken)).headers.vary), url).toMatch(/accept-language/i);
    }
    const feed = (await get('/api/v1/me/feed?lang=en', readerToken)).json();
    expect(feed.items.find((item: { id: string }) => item.id === bilingual).title).toBe('New payroll');

    // Found by a word only its English version has; titled in the reader's language, snippet from the match.
    const norwegianReader = (await get(`/api/v1/search?q=gizmotron&lang=nb`)).json();
    expect(norwegianReader.items).toHaveLength(1);
    expect(norwegianReader.items[0]).toMatchObject({
      id: bilingual,
      language: 'nb',
      title: 'Ny lønnsløsning',
      summary: 'Kort om lønn',
      snippetLanguage: 'en',
      type: 'general',
      expired: false,
    });
    expect(norwegianReader.items[0].snippet).toContainEqual({ text: 'gizmotron', match: true });
    const englishReader = (await get(`/api/v1/search?q=gizmotron`, undefined, { 'accept-language': 'en' })).json();
    expect(englishReader.items[0]).toMatchObject({ language: 'en', title: 'New payroll', snippetLanguage: 'en' });
  });
});

describe('expiry', () => {
  it('leaves expired announcements out of the listing by default; archive=true keeps them, marked expired', async () => {
    expect(await listed(`/api/v1/channels/${channel.slug}/announcements?limit=100`)).not.toContain(expired);
    const archive = (await get(`/api/v1/channels/${channel.slug}/announcements?archive=true&limit=100`, adminToken))
      .json()
      .items.filter((item: { id: string }) => item.id === expired);
    expect(archive).toHaveLength(1);
    expect(archive[0].expired).toBe(true);
    const current = (await get(`/api/v1/channels/${channel.slug}/announcements?archive=true`, adminToken)).json();
    expect(current.items.find((item: { id: string }) => item.id === bilingual).expired).toBe(false);
  });

  it('is still answered by id and found by search (the archive)', async () => {
    const single = await get(`/api/v1/announcements/${expired}`);
    expect([single.statusCode, single.json().expired]).toEqual([200, true]);
    const hits = (await get('/api/v1/search?q=kantina')).json().items;
    expect(hits.map((hit: { id: string; expired: boolean }) => [hit.id, hit.expired])).toEqual([[expired, true]]);
  });

  it('is left out of the personal feed, the unread counts and the feeds', async () => {
    expect(await walk('/api/v1/me/feed', readerToken)).not.toContain(expired);
    // The reader (UiB) sees bilingual, englishIncident and the five releases, unread; not NTNU's nor the expired one.
    expect((await get('/api/v1/me/unread', readerToken)).json().total).toBe(7);
    const json = (await get(`/feeds/channels/${channel.slug}.json`)).json();
    expect(json.items.map((item: { id: string }) => item.id)).not.toContain(`urn:uuid:${expired}`);
    expect(json.items.map((item: { id: string }) => item.id)).toContain(`urn:uuid:${bilingual}`);
  });
});

describe('filters of the channel listing and the personal feed', () => {
  const channelUrl = () => `/api/v1/channels/${channel.slug}/announcements`;

  it('language: has a version in that language (original or translation)', async () => {
    expect(new Set(await walk(`${channelUrl()}?language=en`))).toEqual(new Set([bilingual, englishIncident]));
    expect(await walk(`${channelUrl()}?language=nn`)).toEqual([nynorskMaintenance]);
    expect(await walk(`${channelUrl()}?language=nb`)).toContain(nynorskMaintenance);
    expect(new Set(await walk('/api/v1/me/feed?language=en', readerToken))).toEqual(
      new Set([bilingual, englishIncident]),
    );
  });

  it('importance and type', async () => {
    expect(await walk(`${channelUrl()}?importance=critical`)).toEqual([englishIncident]);
    expect(await walk(`${channelUrl()}?type=maintenance`)).toEqual([nynorskMaintenance]);
    expect(await walk(`${channelUrl()}?type=incident&importance=info`)).toEqual([]);
    expect(await walk('/api/v1/me/feed?type=incident', readerToken)).toEqual([englishIncident]);
    expect(await walk('/api/v1/me/feed?importance=important', readerToken)).toEqual([]);
  });

  it('organisation: announcements for everyone or whose audience includes it; an unknown code answers 400', async () => {
    const uib = new Set(await walk(`${channelUrl()}?organisation=UiB`));
    expect(uib.has(englishIncident)).toBe(true);
    expect(uib.has(bilingual)).toBe(true);
    expect(uib.has(nynorskMaintenance)).toBe(false);
    const ntnu = new Set(await walk(`${channelUrl()}?organisation=NTNU`));
    expect([ntnu.has(nynorskMaintenance), ntnu.has(englishIncident)]).toEqual([true, false]);
    // A filter narrows what the caller may see; it never widens it.
    expect(await walk('/api/v1/me/feed?organisation=NTNU', readerToken)).not.toContain(nynorskMaintenance);
    for (const url of [`${channelUrl()}?organisation=Nowhere`, '/api/v1/me/feed?organisation=Nowhere']) {
      const response = await get(url, readerToken);
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('validation_failed');
    }
  });

  it('from (inclusive) and to (exclusive); from must be before to', async () => {
    const range = `from=${minute(2).toISOString()}&to=${minute(10).toISOString()}`;
    expect(await walk(`${channelUrl()}?${range}`)).toEqual([nynorskMaintenance, englishIncident]);
    expect(await walk(`/api/v1/me/feed?${range}`, readerToken)).toEqual([englishIncident]);
    for (const url of [
      `${channelUrl()}?from=${minute(5).toISOString()}&to=${minute(5).toISOString()}`,
      `/api/v1/me/feed?from=${minute(6).toISOString()}&to=${minute(5).toISOString()}`,
      `${channelUrl()}?from=yesterday`,
    ]) {
      expect((await get(url, readerToken)).statusCode, url).toBe(400);
    }
  });

  it('keyset pages keep working under a filter: every match once, newest first, ties broken by id', async () => {
    const walked = await walk(`${channelUrl()}?type=release`);
    expect(walked).toHaveLength(5);
    expect(new Set(walked)).toEqual(new Set(releases));
    const all = (await get(`${channelUrl()}?type=release&limit=100`, adminToken)).json().items;
    expect(walked).toEqual(all.map((item: { id: string }) => item.id));
    expect(await walk('/api/v1/me/feed?type=release', readerToken)).toEqual(walked);
    // Filters combine with the archive.
    expect(
      await walk(`${channelUrl()}?archive=true&from=${minute(4).toISOString()}&to=${minute(5).toISOString()}`),
    ).toEqual([expired]);
  });

  it('refuses unknown filter values and parameters with 400', async () => {
    for (const query of ['type=memo', 'importance=urgent', 'language=de', 'archive=perhaps', 'audience=UiB']) {
      expect((await get(`${channelUrl()}?${query}`, adminToken)).statusCode, query).toBe(400);
    }
  });
});

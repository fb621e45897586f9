/**
 * Announcements in full in the feeds and the maintenance calendar, on real PostgreSQL: entries in the feed's language
 * (xml:lang / JSON Feed `language` on a fallback), summary, importance and type categories, enclosures from
 * attachments, expired entries left out with validators that move, and GET /announcements/{id}/calendar.ics checked
 * with ical.js.
 */
import { createHash } from 'node:crypto';
import { DOMParser, type Element } from '@xmldom/xmldom';
import type { FastifyInstance } from 'fastify';
import ICAL from 'ical.js';
import Parser from 'rss-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createMyFeedToken } from '../../src/services/feed-tokens.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, type TestChannel, tokenFor } from '../helpers/factories.js';

const PUBLIC_URL = 'https://meldinger.example.no';
const ATOM = 'http://www.w3.org/2005/Atom';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';

let ctx: TestContext;
let app: FastifyInstance;
let channel: TestChannel;
let maintenance: string;
let general: string;
let attachmentId: string;

async function get(url: string, headers: Record<string, string> = {}) {
  return app.inject({ method: 'GET', url, headers });
}

function atomEntries(xml: string): Element[] {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  return Array.from(doc.getElementsByTagNameNS(ATOM, 'entry'));
}

function entryById(xml: string, id: string): Element {
  const entry = atomEntries(xml).find((e) => e.getElementsByTagNameNS(ATOM, 'id')[0]?.textContent === `urn:uuid:${id}`);
  if (!entry) throw new Error(`no entry ${id}`);
  return entry;
}

beforeAll(async () => {
  ctx = await createTestContext({ PUBLIC_URL, MAIL_FROM: 'BOTT Meldingskanal <drift@bott.example.no>' });
  app = await buildApp(ctx.deps, { logger: false });
  const db = ctx.deps.db;
  channel = await createChannel(db, { visibility: 'public', title: 'Drift' });
  maintenance = (
    await db.announcement.create({
      data: {
        channelId: channel.id,
        title: 'Planlagt nedetid i lønnssystemet',
        summary: 'Lønn er nede lørdag kveld',
        body: 'Vi **oppgraderer** databasen.',
        importance: 'important',
        type: 'maintenance',
        affectedSystem: 'BOTT ØL',
        startsAt: new Date('2026-12-05T17:00:00Z'),
        endsAt: new Date('2026-12-05T21:30:00Z'),
        revision: 3,
        publishedAt: new Date(Date.now() - 120_000),
        translations: {
          create: {
            language: 'en',
            title: 'Planned downtime of payroll',
            summary: 'Payroll is down on Saturday night',
            body: 'We are **upgrading** the database.',
          },
        },
      },
    })
  ).id;
  general = (
    await db.announcement.create({
      data: {
        channelId: channel.id,
        language: 'en',
        title: 'English only',
        body: 'Only in English.',
        publishedAt: new Date(Date.now() - 60_000),
      },
    })
  ).id;
  const bytes = Buffer.from('%PDF-1.4 test');
  attachmentId = (
    await db.attachment.create({
      data: {
        id: crypto.randomUUID(),
        announcementId: maintenance,
        filename: 'plan for helga.pdf',
        contentType: 'application/pdf',
        size: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        storage: 'database',
        data: bytes,
      },
    })
  ).id;
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

describe('feed entries', () => {
  it('Atom: summary, importance and type categories in the feed language, an enclosure, xml:lang on a fallback', async () => {
    const response = await get(`/feeds/channels/${channel.slug}.atom`);
    expect(response.statusCode).toBe(200);
    const entry = entryById(response.body, maintenance);
    expect(entry.getElementsByTagNameNS(ATOM, 'title')[0]?.textContent).toBe('Planlagt nedetid i lønnssystemet');
    expect(entry.getElementsByTagNameNS(ATOM, 'summary')[0]?.textContent).toBe('Lønn er nede lørdag kveld');
    const categories = Array.from(entry.getElementsByTagNameNS(ATOM, 'category')).map((c) => [
      c.getAttribute('scheme'),
      c.getAttribute('term'),
      c.getAttribute('label'),
    ]);
    expect(categories).toEqual([
      [`${PUBLIC_URL}/feeds/categories/importance`, 'important', 'Viktig'],
      [`${PUBLIC_URL}/feeds/categories/type`, 'maintenance', 'Planlagt nedetid'],
    ]);
    const enclosure = Array.from(entry.getElementsByTagNameNS(ATOM, 'link')).find(
      (link) => link.getAttribute('rel') === 'enclosure',
    );
    expect(enclosure?.getAttribute('href')).toBe(
      `${PUBLIC_URL}/api/v1/attachments/${attachmentId}/plan%20for%20helga.pdf`,
    );
    expect([enclosure?.getAttribute('type'), enclosure?.getAttribute('length')]).toEqual(['application/pdf', '13']);
    // The feed is bokmål; an entry that exists only in English says so.
    expect(entry.getAttributeNS(XML_NS, 'lang') || null).toBeNull();
    expect(entryById(response.body, general).getAttributeNS(XML_NS, 'lang')).toBe('en');
  });

  it('?lang=en gives English versions and labels, and keeps the language in paging links', async () => {
    const response = await get(`/feeds/channels/${channel.slug}.atom?lang=en`);
    expect(response.headers['content-language']).toBe('en');
    const entry = entryById(response.body, maintenance);
    expect(entry.getElementsByTagNameNS(ATOM, 'title')[0]?.textContent).toBe('Planned downtime of payroll');
    expect(Array.from(entry.getElementsByTagNameNS(ATOM, 'category')).map((c) => c.getAttribute('label'))).toEqual([
      'Important',
      'Planned downtime',
    ]);
    expect(response.body).toContain(`href="${PUBLIC_URL}/feeds/channels/${channel.slug}.atom?lang=en"`);

    const json = (await get(`/feeds/channels/${channel.slug}.json?lang=en`)).json();
    expect(json.language).toBe('en');
    const item = json.items.find((i: { id: string }) => i.id === `urn:uuid:${maintenance}`);
    expect(item).toMatchObject({
      title: 'Planned downtime of payroll',
      summary: 'Payroll is down on Saturday night',
      tags: ['important', 'maintenance'],
      attachments: [
        {
          url: `${PUBLIC_URL}/api/v1/attachments/${attachmentId}/plan%20for%20helga.pdf`,
          mime_type: 'application/pdf',
          size_in_bytes: 13,
          title: 'plan for helga.pdf',
        },
      ],
    });
    expect(item.language).toBeUndefined();
    const nynorsk = (await get(`/feeds/channels/${channel.slug}.json?lang=nn`)).json();
    // No nynorsk version: bokmål, stated per item.
    expect(nynorsk.items.find((i: { id: string }) => i.id === `urn:uuid:${maintenance}`).language).toBe('nb');
  });

  it("a personal feed URL is in its owner's language unless ?lang= says otherwise", async () => {
    const db = ctx.deps.db;
    const owner = await createUser(db, { organisationCode: 'UiB' });
    await db.user.update({ where: { id: owner.id }, data: { language: 'en' } });
    await db.subscription.create({ data: { channelId: channel.id, userId: owner.id, confirmedAt: new Date() } });
    const created = await createMyFeedToken(
      { db, publicUrl: PUBLIC_URL },
      {
        actor: { kind: 'user', userId: owner.id, isAdmin: false, organisationId: owner.organisationId, scopes: [] },
        credential: 'session',
      },
    );
    const path = new URL(created.urls.json).pathname;
    const english = (await get(path)).json();
    expect(english.language).toBe('en');
    expect(english.items.find((i: { id: string }) => i.id === `urn:uuid:${maintenance}`).title).toBe(
      'Planned downtime of payroll',
    );
    const bokmal = (await get(`${path}?lang=nb`)).json();
    expect(bokmal.language).toBe('nb');
    expect(bokmal.items.find((i: { id: string }) => i.id === `urn:uuid:${maintenance}`).title).toBe(
      'Planlagt nedetid i lønnssystemet',
    );
  });

  it('RSS: an enclosure and both categories', async () => {
    const rss = await new Parser().parseString((await get(`/feeds/channels/${channel.slug}.rss`)).body);
    const item = rss.items.find((i) => i.guid === `urn:uuid:${maintenance}`);
    expect(item?.enclosure).toMatchObject({ type: 'application/pdf', length: '13' });
    // rss-parser gives a category with a domain attribute as { _: term, $: { domain } }.
    const categories = (item?.categories ?? []) as unknown as { _: string; $: { domain: string } }[];
    expect(categories.map((category) => [category._, category.$.domain])).toEqual([
      ['important', `${PUBLIC_URL}/feeds/categories/importance`],
      ['maintenance', `${PUBLIC_URL}/feeds/categories/type`],
    ]);
  });
});

describe('expiry in feeds', () => {
  it('an expired entry leaves the feed; ETag changes when an expiry is set, Last-Modified when it passes', async () => {
    const db = ctx.deps.db;
    const own = await createChannel(db, { visibility: 'public' });
    const older = await db.announcement.create({
      data: { channelId: own.id, title: 'Blir', body: 'x', publishedAt: new Date(Date.now() - 3_600_000) },
    });
    const expiring = await db.announcement.create({
      data: { channelId: own.id, title: 'Forsvinner', body: 'y', publishedAt: new Date(Date.now() - 1_800_000) },
    });
    // Both were last changed long ago, so the moment the expiry passes is the feed's latest change.
    const longAgo = new Date(Date.now() - 7_200_000);
    await db.$executeRaw`UPDATE "Announcement" SET "updatedAt" = ${longAgo} WHERE "channelId" = ${own.id}::uuid`;
    await db.$executeRaw`UPDATE "Channel" SET "updatedAt" = ${longAgo} WHERE id = ${own.id}::uuid`;
    const url = `/feeds/channels/${own.slug}.json`;
    const first = await get(url);
    const etag = String(first.headers.etag);
    expect((await get(url, { 'if-none-match': etag })).statusCode).toBe(304);

    // An expiry set in the future: the entry stays, but caches must revalidate.
    const soon = new Date(Date.now() + 60 * 60_000);
    await db.$executeRaw`UPDATE "Announcement" SET "expiresAt" = ${soon} WHERE id = ${expiring.id}::uuid`;
    const withExpiry = await get(url, { 'if-none-match': etag });
    expect(withExpiry.statusCode).toBe(200);
    expect(withExpiry.json().items).toHaveLength(2);
    const secondTag = String(withExpiry.headers.etag);
    const modified = String(withExpiry.headers['last-modified']);

    // It passes (set in the past without touching updatedAt: time alone moved): gone, and both validators move.
    const passed = new Date(Date.now() - 1000);
    await db.$executeRaw`UPDATE "Announcement" SET "expiresAt" = ${passed} WHERE id = ${expiring.id}::uuid`;
    const after = await get(url);
    expect(after.json().items.map((i: { id: string }) => i.id)).toEqual([`urn:uuid:${older.id}`]);
    expect(after.headers.etag).not.toBe(secondTag);
    expect(Date.parse(String(after.headers['last-modified']))).toBeGreaterThan(Date.parse(modified));
    expect((await get(url, { 'if-modified-since': modified })).statusCode).toBe(200);
    const now = String(after.headers['last-modified']);
    expect((await get(url, { 'if-modified-since': now })).statusCode).toBe(304);
    // The combined feed leaves it out too; the archive keeps it.
    expect((await get('/feeds/public.atom')).body).not.toContain(expiring.id);
    expect((await get(`/api/v1/channels/${own.slug}/announcements?archive=true`)).json().items).toHaveLength(2);
  });
});

describe('GET /api/v1/announcements/{id}/calendar.ics', () => {
  it('is a valid iCalendar attachment for the maintenance window, in the reader language', async () => {
    const response = await get(`/api/v1/announcements/${maintenance}/calendar.ics`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/calendar; charset=utf-8');
    expect(response.headers['content-disposition']).toBe(`attachment; filename="maintenance-${maintenance}.ics"`);
    expect(response.headers['content-language']).toBe('nb');
    expect(response.body).toMatch(/\r\n$/);
    const calendar = new ICAL.Component(ICAL.parse(response.body));
    const event = new ICAL.Event(calendar.getFirstSubcomponent('vevent')!);
    expect(event.uid).toBe(`${maintenance}@meldinger.example.no`);
    expect(event.summary).toBe('Planlagt nedetid i lønnssystemet');
    expect(event.startDate.toJSDate().toISOString()).toBe('2026-12-05T17:00:00.000Z');
    expect(event.endDate.toJSDate().toISOString()).toBe('2026-12-05T21:30:00.000Z');
    expect(event.sequence).toBe(2);
    expect(event.description).toContain('BOTT ØL');
    expect(event.description).toContain('Lønn er nede lørdag kveld');
    // Plain text: the Markdown is rendered, not shown with its marks.
    expect(event.description).toContain('Vi oppgraderer databasen.');
    expect(event.description).not.toContain('**');
    const vevent = calendar.getFirstSubcomponent('vevent')!;
    expect(vevent.getFirstPropertyValue('organizer')).toBe('mailto:drift@bott.example.no');
    expect(vevent.getFirstProperty('organizer')?.getParameter('cn')).toBe('BOTT Meldingskanal');
    expect(vevent.getFirstPropertyValue('url')).toBe(`${PUBLIC_URL}/announcements/${maintenance}`);

    const english = await get(`/api/v1/announcements/${maintenance}/calendar.ics`, { 'accept-language': 'en' });
    expect(english.headers['content-language']).toBe('en');
    const englishEvent = new ICAL.Event(new ICAL.Component(ICAL.parse(english.body)).getFirstSubcomponent('vevent')!);
    expect(englishEvent.summary).toBe('Planned downtime of payroll');
    expect(englishEvent.description).toContain('Affected system: BOTT ØL');
  });

  it('answers 404 for an announcement that is no maintenance window, and for an unknown id', async () => {
    const other = await get(`/api/v1/announcements/${general}/calendar.ics`);
    expect(other.statusCode).toBe(404);
    expect(other.json().error.code).toBe('not_found');
    expect((await get(`/api/v1/announcements/${crypto.randomUUID()}/calendar.ics`)).statusCode).toBe(404);
  });

  it('follows who may read the announcement: an internal channel is 404 to anonymous, 200 to a member', async () => {
    const db = ctx.deps.db;
    const internal = await createChannel(db, { visibility: 'internal' });
    const row = await db.announcement.create({
      data: {
        channelId: internal.id,
        title: 'Intern nedetid',
        body: 'z',
        type: 'maintenance',
        affectedSystem: 'Intranett',
        startsAt: new Date('2026-12-06T10:00:00Z'),
        endsAt: new Date('2026-12-06T11:00:00Z'),
        publishedAt: new Date(),
      },
    });
    expect((await get(`/api/v1/announcements/${row.id}/calendar.ics`)).statusCode).toBe(404);
    const member = await createUser(db, { organisationCode: 'UiB' });
    const token = await tokenFor(db, member.id);
    const read = await get(`/api/v1/announcements/${row.id}/calendar.ics`, { authorization: `Bearer ${token}` });
    expect(read.statusCode).toBe(200);
    expect(read.headers['cache-control']).toBe('private, no-cache');
  });
});

/**
 * Audience in every place an announcement is read: an announcement for UiO only is invisible — absent from lists,
 * 404 by id — to an NTNU member and to anonymous readers, and visible to UiO members, the channel's publishers (of
 * any organisation) and administrators. Each place is checked for every one of them, on real PostgreSQL, with the
 * announcements made directly in the database (the authoring API is not needed to read).
 */
import type { FastifyInstance } from 'fastify';
import Parser from 'rss-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createMyFeedToken } from '../../src/services/feed-tokens.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import {
  createChannel,
  createUser,
  grantRole,
  type TestChannel,
  type TestUser,
  tokenFor,
} from '../helpers/factories.js';

const PUBLIC_URL = 'https://meldinger.example.no';

let ctx: TestContext;
let app: FastifyInstance;
let channel: TestChannel;
let forEveryone: string;
let uioOnly: string;
let uioPinned: string;
let uioDraft: string;

type Who = 'uio' | 'ntnu' | 'anonymous' | 'publisher' | 'admin';
const users = {} as Record<Exclude<Who, 'anonymous'>, { user: TestUser; token: string }>;
const SEES: Record<Who, boolean> = { uio: true, ntnu: false, anonymous: false, publisher: true, admin: true };
const EVERYONE: Who[] = ['uio', 'ntnu', 'anonymous', 'publisher', 'admin'];
const SIGNED_IN = EVERYONE.filter((who): who is Exclude<Who, 'anonymous'> => who !== 'anonymous');

function headers(who: Who): Record<string, string> {
  return who === 'anonymous' ? {} : { authorization: `Bearer ${users[who].token}` };
}

async function get(url: string, who: Who) {
  return app.inject({ method: 'GET', url, headers: headers(who) });
}

async function ids(url: string, who: Who): Promise<string[]> {
  const response = await get(url, who);
  expect(response.statusCode, `${who}: ${response.body}`).toBe(200);
  return response.json().items.map((item: { id: string }) => item.id);
}

beforeAll(async () => {
  ctx = await createTestContext({ PUBLIC_URL });
  app = await buildApp(ctx.deps, { logger: false });
  const db = ctx.deps.db;
  for (const [who, code] of [
    ['uio', 'UiO'],
    ['ntnu', 'NTNU'],
    ['publisher', 'NTNU'],
  ] as const) {
    const user = await createUser(db, { organisationCode: code });
    users[who] = { user, token: await tokenFor(db, user.id) };
  }
  const admin = await createUser(db, { isAdmin: true });
  users.admin = { user: admin, token: await tokenFor(db, admin.id) };
  const uio = await db.organisation.findUniqueOrThrow({ where: { code: 'UiO' } });

  channel = await createChannel(db, { visibility: 'public', title: 'Driftsmeldinger' });
  await grantRole(db, channel.id, users.publisher.user.id, 'publisher');
  for (const who of SIGNED_IN) {
    await db.subscription.create({
      data: { channelId: channel.id, userId: users[who].user.id, confirmedAt: new Date() },
    });
  }
  const at = (minutes: number) => new Date(Date.now() - (60 - minutes) * 60_000);
  forEveryone = (
    await db.announcement.create({
      data: { channelId: channel.id, title: 'Alle kan lese', body: 'Fellesmelding', publishedAt: at(1) },
    })
  ).id;
  uioOnly = (
    await db.announcement.create({
      data: {
        channelId: channel.id,
        title: 'Bare for UiO: snekkerverksted',
        body: 'Vedlikehold av snekkerverkstedet',
        type: 'maintenance',
        affectedSystem: 'Verksted',
        startsAt: new Date('2026-12-01T18:00:00Z'),
        endsAt: new Date('2026-12-01T20:00:00Z'),
        audienceOrganisationIds: [uio.id],
        publishedAt: at(3),
      },
    })
  ).id;
  uioPinned = (
    await db.announcement.create({
      data: {
        channelId: channel.id,
        title: 'Festet for UiO',
        body: 'Festet melding',
        audienceOrganisationIds: [uio.id],
        publishedAt: at(2),
        pinnedAt: at(4),
      },
    })
  ).id;
  uioDraft = (
    await db.announcement.create({
      data: {
        channelId: channel.id,
        title: 'Utkast for UiO',
        body: 'Utkast',
        status: 'draft',
        audienceOrganisationIds: [uio.id],
      },
    })
  ).id;
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

describe('an announcement for UiO only', () => {
  it.each(EVERYONE)('channel listing, pinned ones included, for %s', async (who) => {
    const response = await get(`/api/v1/channels/${channel.slug}/announcements`, who);
    expect(response.statusCode).toBe(200);
    const items: { id: string; pinned?: boolean }[] = response.json().items;
    const listed = items.map((item) => item.id);
    expect(listed.includes(uioOnly)).toBe(SEES[who]);
    expect(items.some((item) => item.id === uioPinned && item.pinned === true)).toBe(SEES[who]);
    expect(listed).toContain(forEveryone);
    // Drafts are never listed, not even to the channel's editors.
    expect(listed).not.toContain(uioDraft);
  });

  it.each(EVERYONE)('GET by id answers 404 exactly like a missing id, or the announcement, for %s', async (who) => {
    const response = await get(`/api/v1/announcements/${uioOnly}`, who);
    if (SEES[who]) {
      expect(response.statusCode).toBe(200);
      expect(response.json().audience).toEqual(['UiO']);
    } else {
      const missing = await get('/api/v1/announcements/00000000-0000-4000-8000-000000000000', who);
      expect([response.statusCode, response.json().error]).toEqual([404, missing.json().error]);
    }
  });

  it('a draft is opened by id by the channel editors only, and never counted or rated', async () => {
    expect((await get(`/api/v1/announcements/${uioDraft}`, 'publisher')).statusCode).toBe(200);
    expect((await get(`/api/v1/announcements/${uioDraft}`, 'admin')).statusCode).toBe(200);
    expect((await get(`/api/v1/announcements/${uioDraft}`, 'uio')).statusCode).toBe(404);
    const rate = await app.inject({
      method: 'PUT',
      url: `/api/v1/announcements/${uioDraft}/rating`,
      headers: headers('publisher'),
      payload: { stars: 5 },
    });
    expect(rate.statusCode).toBe(404);
  });

  it.each(EVERYONE)('calendar.ics follows the same rule for %s', async (who) => {
    const response = await get(`/api/v1/announcements/${uioOnly}/calendar.ics`, who);
    expect(response.statusCode).toBe(SEES[who] ? 200 : 404);
  });

  it.each(SIGNED_IN)('personal feed and unread counts for %s', async (who) => {
    expect((await ids('/api/v1/me/feed', who)).includes(uioOnly)).toBe(SEES[who]);
    const unread = (await get('/api/v1/me/unread', who)).json();
    // Every signed-in user here subscribes and has read nothing yet: the pinned one and uioOnly count only if seen.
    expect(unread.total).toBe(SEES[who] ? 3 : 1);
  });

  it.each(SIGNED_IN)('mark read, rate and mark all read for %s', async (who) => {
    const put = await app.inject({ method: 'PUT', url: `/api/v1/me/reads/${uioOnly}`, headers: headers(who) });
    expect(put.statusCode).toBe(SEES[who] ? 204 : 404);
    const rate = await app.inject({
      method: 'PUT',
      url: `/api/v1/announcements/${uioOnly}/rating`,
      headers: headers(who),
      payload: { stars: 4 },
    });
    expect(rate.statusCode).toBe(SEES[who] ? 200 : 404);
    const all = await app.inject({ method: 'POST', url: '/api/v1/me/reads', headers: headers(who), payload: {} });
    expect(all.statusCode).toBe(200);
    // What remained unread: forEveryone, plus the pinned one for those who see it (uioOnly was marked above).
    expect(all.json().marked).toBe(SEES[who] ? 2 : 1);
    const rows = await ctx.deps.db.announcementRead.findMany({ where: { userId: users[who].user.id } });
    expect(rows.some((row) => row.announcementId === uioOnly)).toBe(SEES[who]);
    expect((await get('/api/v1/me/unread', who)).json().total).toBe(0);
  });

  it.each(EVERYONE)('search for %s', async (who) => {
    const found = await ids(`/api/v1/search?q=${encodeURIComponent('snekkerverksted')}`, who);
    expect(found.includes(uioOnly)).toBe(SEES[who]);
  });

  it.each(EVERYONE)("the directory's latest announcement for %s", async (who) => {
    const response = await get('/api/v1/directory', who);
    const entry = response.json().items.find((item: { slug: string }) => item.slug === channel.slug);
    // The newest published one is uioOnly; whoever may not see it gets the newest they may.
    expect(entry.latestAnnouncement.id).toBe(SEES[who] ? uioOnly : forEveryone);
  });

  it('is left out of the public feeds in every format (feeds are anonymous)', async () => {
    for (const url of [`/feeds/channels/${channel.slug}`, '/feeds/public']) {
      const rss = await new Parser().parseString((await get(`${url}.rss`, 'admin')).body);
      expect(rss.items.map((item) => item.guid)).toEqual([`urn:uuid:${forEveryone}`]);
      const atom = (await get(`${url}.atom`, 'admin')).body;
      expect(atom).toContain(forEveryone);
      expect(atom).not.toContain(uioOnly);
      const json = (await get(`${url}.json`, 'admin')).json();
      expect(json.items.map((item: { id: string }) => item.id)).toEqual([`urn:uuid:${forEveryone}`]);
    }
  });

  it.each(SIGNED_IN)("is in a personal feed URL as its owner's audience says, for %s", async (who) => {
    const { user } = users[who];
    const created = await createMyFeedToken(
      { db: ctx.deps.db, publicUrl: PUBLIC_URL },
      {
        actor: {
          kind: 'user',
          userId: user.id,
          isAdmin: user.isAdmin,
          organisationId: user.organisationId,
          scopes: [],
        },
        credential: 'session',
      },
    );
    const response = await app.inject({ method: 'GET', url: new URL(created.urls.json).pathname });
    expect(response.statusCode).toBe(200);
    const entries = response.json().items.map((item: { id: string }) => item.id);
    expect(entries.includes(`urn:uuid:${uioOnly}`)).toBe(SEES[who]);
    expect(entries).toContain(`urn:uuid:${forEveryone}`);
    expect(entries).not.toContain(`urn:uuid:${uioDraft}`);
  });
});

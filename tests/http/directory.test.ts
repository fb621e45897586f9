/** GET /api/v1/directory: visibility, counts, latest announcement, filtering, paging, bad input, one query per page. */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/prisma.js';
import { ANONYMOUS } from '../../src/domain/types.js';
import { buildApp } from '../../src/http/app.js';
import { listDirectory } from '../../src/services/directory.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, grantRole, tokenFor } from '../helpers/factories.js';

let ctx: TestContext;
let app: FastifyInstance;
let db: Db;
const tokens = {} as Record<'admin' | 'member' | 'outsider' | 'roleHolder', string>;
let economy: { id: string; slug: string };
let newestPublished: { id: string; title: string; publishedAt: Date };

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000);

interface Entry {
  slug: string;
  title: string;
  description: string;
  roles: { owners: number; publishers: number };
  subscriberCount: number;
  latestAnnouncement: { id: string; title: string; publishedAt: string } | null;
}

async function directory(query = '', headers: Record<string, string> = {}) {
  const response = await app.inject({ method: 'GET', url: `/api/v1/directory${query}`, headers });
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as { items: Entry[]; nextCursor: string | null };
}

beforeAll(async () => {
  ctx = await createTestContext();
  db = ctx.deps.db;
  app = await buildApp(ctx.deps, { logger: false });
  tokens.admin = await tokenFor(db, (await createUser(db, { isAdmin: true })).id);
  const member = await createUser(db, { organisationCode: 'UiB' });
  tokens.member = await tokenFor(db, member.id);
  tokens.outsider = await tokenFor(db, (await createUser(db)).id);
  const roleHolder = await createUser(db);
  tokens.roleHolder = await tokenFor(db, roleHolder.id);

  economy = await createChannel(db, { slug: 'okonomi', title: 'Økonomi og lønn', visibility: 'public' });
  await db.channel.update({ where: { id: economy.id }, data: { description: 'Felles økonomitjeneste (100% BOTT)' } });
  await createChannel(db, { slug: 'arkiv', title: 'Arkiv', visibility: 'public' });
  await createChannel(db, { slug: 'hr-intern', title: 'HR', visibility: 'internal' });
  const restricted = await createChannel(db, { slug: 'styret', title: 'Styret', visibility: 'restricted' });
  await grantRole(db, restricted.id, roleHolder.id, 'publisher');

  // Economy: two owners, one publisher; three subscribers (two users and a confirmed address; an unconfirmed
  // address does not count); announcements of which the newest published one is the latest.
  // One after another: concurrent upserts of the same organisation race on its unique code.
  const people = [];
  for (let i = 0; i < 5; i++) people.push(await createUser(db, { organisationCode: 'UiO' }));
  const [ownerA, ownerB, publisher, subscriberA, subscriberB] = people;
  await grantRole(db, economy.id, ownerA!.id, 'owner');
  await grantRole(db, economy.id, ownerB!.id, 'owner');
  await grantRole(db, economy.id, publisher!.id, 'publisher');
  await db.subscription.createMany({
    data: [
      { channelId: economy.id, userId: subscriberA!.id },
      { channelId: economy.id, userId: subscriberB!.id },
      { channelId: economy.id, email: 'confirmed@uib.no', confirmedAt: at(5) },
      { channelId: economy.id, email: 'unconfirmed@uib.no' },
    ],
  });
  const announcement = (title: string, extra: object) =>
    db.announcement.create({ data: { channelId: economy.id, title, body: 'Tekst', ...extra } });
  await announcement('Eldre', { publishedAt: at(60) });
  const newest = await announcement('Nyeste', { publishedAt: at(10) });
  newestPublished = { id: newest.id, title: newest.title, publishedAt: newest.publishedAt! };
  await announcement('Utkast', { status: 'draft', publishedAt: null });
  await announcement('Trukket', { status: 'retracted', publishedAt: at(1) });
  await announcement('Planlagt', { publishedAt: new Date(Date.now() + 3_600_000) });
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

describe('what the directory shows', () => {
  it('gives each channel its description, role counts, subscriber count and latest published announcement', async () => {
    const { items } = await directory();
    const entry = items.find((e) => e.slug === 'okonomi');
    expect(entry).toEqual({
      slug: 'okonomi',
      title: 'Økonomi og lønn',
      description: 'Felles økonomitjeneste (100% BOTT)',
      visibility: 'public',
      roles: { owners: 2, publishers: 1 },
      subscriberCount: 3,
      latestAnnouncement: {
        id: newestPublished.id,
        language: 'nb',
        title: 'Nyeste',
        publishedAt: newestPublished.publishedAt.toISOString(),
      },
    });
    const empty = items.find((e) => e.slug === 'arkiv');
    expect(empty).toMatchObject({ roles: { owners: 0, publishers: 0 }, subscriberCount: 0, latestAnnouncement: null });
  });

  it('names no people: no user ids, names or addresses anywhere in the answer', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/directory', headers: bearer(tokens.admin) });
    expect(response.body).not.toMatch(/@|Test user|userId|email/);
  });
});

describe('visibility (the same rule as GET /channels)', () => {
  // Sorted here: the directory orders by title, these assertions are about which channels appear.
  const slugs = async (headers: Record<string, string>) =>
    (await directory('', headers)).items.map((e) => e.slug).sort();

  it('anonymous callers and outsiders see public channels only', async () => {
    expect(await slugs({})).toEqual(['arkiv', 'okonomi']);
    expect(await slugs(bearer(tokens.outsider))).toEqual(['arkiv', 'okonomi']);
  });
  it('members of an organisation see internal channels too', async () => {
    expect(await slugs(bearer(tokens.member))).toEqual(['arkiv', 'hr-intern', 'okonomi']);
  });
  it('members of a restricted channel see it; administrators see all', async () => {
    expect(await slugs(bearer(tokens.roleHolder))).toEqual(['arkiv', 'okonomi', 'styret']);
    expect(await slugs(bearer(tokens.admin))).toEqual(['arkiv', 'hr-intern', 'okonomi', 'styret']);
  });
});

describe('filtering', () => {
  it('matches title or description without regard to case or accents', async () => {
    expect((await directory('?q=OKONOMI')).items.map((e) => e.slug)).toEqual(['okonomi']);
    expect((await directory('?q=l%C3%B8nn')).items.map((e) => e.slug)).toEqual(['okonomi']);
    expect((await directory('?q=BOTT')).items.map((e) => e.slug)).toEqual(['okonomi']);
    expect((await directory('?q=ark')).items.map((e) => e.slug)).toEqual(['arkiv']);
  });
  it('takes LIKE wildcards literally', async () => {
    expect((await directory('?q=100%25')).items.map((e) => e.slug)).toEqual(['okonomi']);
    expect((await directory('?q=%25')).items.map((e) => e.slug)).toEqual(['okonomi']);
    expect((await directory('?q=_')).items).toEqual([]);
  });
  it('never shows a channel the caller may not see, even when it matches', async () => {
    expect((await directory('?q=styret')).items).toEqual([]);
    expect((await directory('?q=styret', bearer(tokens.roleHolder))).items.map((e) => e.slug)).toEqual(['styret']);
  });
});

describe('paging', () => {
  it('walks the channels by title one page at a time', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await directory(`?limit=1${cursor ? `&cursor=${cursor}` : ''}`, bearer(tokens.admin));
      expect(page.items.length).toBe(1);
      seen.push(page.items[0]!.title);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['Arkiv', 'HR', 'Styret', 'Økonomi og lønn'].sort((a, b) => a.localeCompare(b, 'nb')));
  });

  it('refuses a garbled cursor and a search cursor', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/directory?cursor=eyJrIjoic2UifQ' });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('invalid_cursor');
  });
});

describe('bad input', () => {
  it.each([
    ['empty q', '?q='],
    ['blank q', '?q=%20%20'],
    ['overlong q', `?q=${'x'.repeat(101)}`],
    ['unknown parameter', '?sort=title'],
  ])('answers 400 validation_failed for %s', async (_label, query) => {
    const response = await app.inject({ method: 'GET', url: `/api/v1/directory${query}` });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('validation_failed');
  });
});

describe('cost', () => {
  it('issues exactly one SQL statement per page, however many channels are on it', async () => {
    const calls: string[] = [];
    const counting = new Proxy(db, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof property === 'string') calls.push(property);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const page = await listDirectory({ db: counting }, ANONYMOUS, { limit: 100 });
    expect(page.items.length).toBe(2);
    expect(calls).toEqual(['$queryRaw']);
  });
});

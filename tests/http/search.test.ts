/** GET /api/v1/search: stemming, accents, ranking, safe snippets, visibility, paging and bad queries. */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/prisma.js';
import { ANONYMOUS } from '../../src/domain/types.js';
import { Prisma } from '../../src/generated/prisma/client.js';
import { buildApp } from '../../src/http/app.js';
import {
  ENGLISH_DOCUMENT,
  NORWEGIAN_DOCUMENT,
  SEARCH_RESULT_CAP,
  searchAnnouncements,
  snippetSegments,
  TRANSLATION_ENGLISH_DOCUMENT,
  TRANSLATION_NORWEGIAN_DOCUMENT,
} from '../../src/services/search.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, grantRole, tokenFor } from '../helpers/factories.js';

let ctx: TestContext;
let app: FastifyInstance;
let db: Db;
const tokens = {} as Record<'admin' | 'member' | 'outsider' | 'roleHolder', string>;
let publicChannelId: string;
let internalChannelId: string;
let restrictedChannelId: string;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const PAST = new Date(Date.now() - 60 * 60 * 1000);

interface Hit {
  id: string;
  title: string;
  channel: { slug: string };
  snippet: { text: string; match: boolean }[];
  rank: number;
}

async function announce(
  channelId: string,
  title: string,
  body: string,
  extra: { status?: 'draft' | 'published' | 'retracted'; publishedAt?: Date | null } = {},
): Promise<string> {
  const row = await db.announcement.create({
    data: {
      channelId,
      title,
      body,
      status: extra.status ?? 'published',
      publishedAt: extra.publishedAt === undefined ? PAST : extra.publishedAt,
    },
  });
  return row.id;
}

async function search(q: string, headers: Record<string, string> = {}, extra = ''): Promise<Hit[]> {
  const response = await app.inject({
    method: 'GET',
    url: `/api/v1/search?q=${encodeURIComponent(q)}${extra}`,
    headers,
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().items;
}

beforeAll(async () => {
  ctx = await createTestContext();
  db = ctx.deps.db;
  app = await buildApp(ctx.deps, { logger: false });
  tokens.admin = await tokenFor(db, (await createUser(db, { isAdmin: true })).id);
  tokens.member = await tokenFor(db, (await createUser(db, { organisationCode: 'UiB' })).id);
  tokens.outsider = await tokenFor(db, (await createUser(db)).id);
  const roleHolder = await createUser(db);
  tokens.roleHolder = await tokenFor(db, roleHolder.id);
  publicChannelId = (await createChannel(db, { slug: 'offentlig', visibility: 'public' })).id;
  internalChannelId = (await createChannel(db, { slug: 'intern', visibility: 'internal' })).id;
  const restricted = await createChannel(db, { slug: 'begrenset', visibility: 'restricted' });
  restrictedChannelId = restricted.id;
  await grantRole(db, restricted.id, roleHolder.id, 'publisher');
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

describe('matching', () => {
  it('finds inflected Norwegian forms: "vedlikehold" finds "vedlikeholdet"', async () => {
    const id = await announce(publicChannelId, 'Nedetid i helgen', 'Vedlikeholdet av lønnssystemet tar hele lørdagen.');
    const hits = await search('vedlikehold');
    expect(hits.map((h) => h.id)).toEqual([id]);
    expect(hits[0]!.snippet).toContainEqual({ text: 'Vedlikeholdet', match: true });
  });

  it('finds inflected English forms: "upgrading" finds "upgraded"', async () => {
    const id = await announce(publicChannelId, 'Release notes', 'The portal was upgraded to the new version.');
    expect((await search('upgrading')).map((h) => h.id)).toEqual([id]);
  });

  it('ignores accents and Norwegian letters: "okonomi" finds "Økonomien", "okonomiavdelingen" does not', async () => {
    // This PostgreSQL's unaccent maps ø→o, æ→ae and å→a, so Norwegian letters typed as plain ones still match.
    const id = await announce(publicChannelId, 'Økonomien i prosjektet', 'Budsjett for neste år.');
    expect((await search('okonomi')).map((h) => h.id)).toEqual([id]);
    expect((await search('ØKONOMI')).map((h) => h.id)).toEqual([id]);
    expect((await search('budsjett aar')).map((h) => h.id)).toEqual([]);
    expect((await search('budsjett ar')).map((h) => h.id)).toEqual([id]);
  });

  it('understands web-search syntax (phrases and excluded words) and never fails on odd input', async () => {
    const kept = await announce(publicChannelId, 'Felles lønn', 'Felles lønnstjeneste for alle fire.');
    await announce(publicChannelId, 'Felles lønn og HR', 'Felles lønnstjeneste, men også HR.');
    expect((await search('"felles lønn" -hr')).map((h) => h.id)).toEqual([kept]);
    for (const odd of ['&', '!(', "'", ':*', '"', '<>']) expect(await search(odd)).toEqual([]);
  });

  it('finds only published announcements that are out (no drafts, retracted or future ones)', async () => {
    const published = await announce(publicChannelId, 'Kanelbolle', 'Kanelbolle i kantina.');
    await announce(publicChannelId, 'Kanelbolle utkast', 'Kanelbolle.', { status: 'draft', publishedAt: null });
    await announce(publicChannelId, 'Kanelbolle trukket', 'Kanelbolle.', { status: 'retracted' });
    await announce(publicChannelId, 'Kanelbolle senere', 'Kanelbolle.', { publishedAt: new Date(Date.now() + 3.6e6) });
    expect((await search('kanelbolle')).map((h) => h.id)).toEqual([published]);
  });
});

describe('ranking', () => {
  it('ranks a title match above a body match', async () => {
    const inBody = await announce(publicChannelId, 'Om tjenestene', 'Vi flytter serverrommet til Gløshaugen.');
    const inTitle = await announce(publicChannelId, 'Serverrommet flytter', 'Mer om dette senere.');
    const hits = await search('serverrommet');
    expect(hits.map((h) => h.id)).toEqual([inTitle, inBody]);
    expect(hits[0]!.rank).toBeGreaterThan(hits[1]!.rank);
  });
});

describe('snippets', () => {
  it('are plain-text segments: a <script> in the body yields no tag, only text', async () => {
    const body =
      'Les dette <script>alert("xss")</script> om brannøvelsen <img src=x onerror=alert(1)> og <b>annet</b>.\n\n' +
      '[lenke](javascript:alert(1)) brannøvelsen igjen';
    await announce(publicChannelId, 'Øvelse', body);
    const response = await app.inject({ method: 'GET', url: '/api/v1/search?q=brann%C3%B8velsen' });
    expect(response.statusCode).toBe(200);
    const [hit] = response.json().items as Hit[];
    expect(hit!.snippet.filter((s) => s.match).map((s) => s.text)).toEqual(['brannøvelsen', 'brannøvelsen']);
    const text = hit!.snippet.map((s) => s.text).join('');
    expect(text).not.toMatch(/<\s*\/?\s*(script|img|b)\b/i);
    expect(response.body).not.toContain('<script');
    expect(response.body).not.toContain('onerror');
  });

  it('cannot be given extra highlights by marker characters in the body', async () => {
    await announce(publicChannelId, 'Markører', 'Snøfresing \uE000falsk\uE001 treff og snøfresing.');
    const [hit] = await search('snøfresing');
    expect(hit!.snippet.filter((s) => s.match).map((s) => s.text)).toEqual(['Snøfresing', 'snøfresing']);
    expect(hit!.snippet.map((s) => s.text).join('')).toContain('falsk treff');
  });

  it('read as text: link targets and Markdown marks are left out', async () => {
    await announce(
      publicChannelId,
      'Markdown',
      '## Om **reinsdyrflytting**\n\n> Se [planen for reinsdyrflytting](https://example.no/plan) og `kart`.\n\n| a | b |',
    );
    const [hit] = await search('reinsdyrflytting');
    const text = hit!.snippet.map((s) => s.text).join('');
    expect(text).toContain('planen for reinsdyrflytting og kart');
    expect(text).not.toMatch(/[*`#|>[\]]|https:|\(/);
  });

  it('splits headline output at its markers (unit)', () => {
    expect(snippetSegments('a \uE000b\uE001 c')).toEqual([
      { text: 'a ', match: false },
      { text: 'b', match: true },
      { text: ' c', match: false },
    ]);
    expect(snippetSegments('\uE000x\uE001')).toEqual([{ text: 'x', match: true }]);
    expect(snippetSegments('')).toEqual([]);
  });
});

describe('visibility (the same rule as GET /channels)', () => {
  let ids: { public: string; internal: string; restricted: string };
  beforeAll(async () => {
    ids = {
      public: await announce(publicChannelId, 'Sjokoladekake offentlig', 'Sjokoladekake.'),
      internal: await announce(internalChannelId, 'Sjokoladekake intern', 'Sjokoladekake.'),
      restricted: await announce(restrictedChannelId, 'Sjokoladekake begrenset', 'Sjokoladekake.'),
    };
  });
  const found = async (headers: Record<string, string>) =>
    (await search('sjokoladekake', headers)).map((h) => h.id).sort();

  it('anonymous callers find public announcements only', async () => {
    expect(await found({})).toEqual([ids.public]);
  });
  it('members of an organisation also find internal ones, not restricted ones', async () => {
    expect(await found(bearer(tokens.member))).toEqual([ids.public, ids.internal].sort());
  });
  it('users outside the member organisations find public ones only', async () => {
    expect(await found(bearer(tokens.outsider))).toEqual([ids.public]);
  });
  it('a member of the restricted channel finds its announcements', async () => {
    expect(await found(bearer(tokens.roleHolder))).toEqual([ids.public, ids.restricted].sort());
  });
  it('administrators find everything', async () => {
    expect(await found(bearer(tokens.admin))).toEqual(Object.values(ids).sort());
  });
});

describe('paging', () => {
  it('walks all hits in rank order without repeats, and refuses a garbled cursor', async () => {
    const created: string[] = [];
    for (let i = 1; i <= 5; i++) {
      created.push(await announce(publicChannelId, `Rullestol ${i}`, `${'rullestol '.repeat(i)}og mer.`));
    }
    const seen: Hit[] = [];
    let cursor: string | null = null;
    do {
      const response = await app.inject({
        method: 'GET',
        url: `/api/v1/search?q=rullestol&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      });
      expect(response.statusCode).toBe(200);
      const page: { items: Hit[]; nextCursor: string | null } = response.json();
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.map((h) => h.id).sort()).toEqual([...created].sort());
    const ranks = seen.map((h) => h.rank);
    expect(ranks).toEqual([...ranks].sort((a, b) => b - a));

    const bad = await app.inject({ method: 'GET', url: '/api/v1/search?q=rullestol&cursor=bm90LWEtY3Vyc29y' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_cursor');
  });

  it(`answers at most ${SEARCH_RESULT_CAP} hits over all pages`, async () => {
    await db.announcement.createMany({
      data: Array.from({ length: SEARCH_RESULT_CAP + 5 }, (_, i) => ({
        channelId: publicChannelId,
        title: `Mengde ${i}`,
        body: 'Stikkordet lavvo står her.',
        status: 'published' as const,
        publishedAt: PAST,
      })),
    });
    let total = 0;
    let cursor: string | null = null;
    do {
      const response = await app.inject({
        method: 'GET',
        url: `/api/v1/search?q=lavvo&limit=100${cursor ? `&cursor=${cursor}` : ''}`,
      });
      const page: { items: Hit[]; nextCursor: string | null } = response.json();
      total += page.items.length;
      cursor = page.nextCursor;
    } while (cursor);
    expect(total).toBe(SEARCH_RESULT_CAP);
  });
});

describe('bad queries', () => {
  it.each([
    ['missing', ''],
    ['empty', '?q='],
    ['blank', '?q=%20%20%20'],
    ['overlong', `?q=${'a'.repeat(201)}`],
    ['limit too large', '?q=x&limit=101'],
  ])('answers 400 validation_failed for a %s query', async (_label, query) => {
    const response = await app.inject({ method: 'GET', url: `/api/v1/search${query}` });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('validation_failed');
    expect(response.json().error.message).toMatch(/q|limit/);
  });
});

describe('language versions, audience and type', () => {
  it('finds a word in a translation only, in Norwegian and English, once per announcement', async () => {
    const row = await db.announcement.create({
      data: {
        channelId: publicChannelId,
        title: 'Oppgradering av telefonsentralen',
        body: 'Sentralbordet byttes ut.',
        publishedAt: PAST,
        translations: {
          create: [
            { language: 'en', title: 'Switchboard upgrade', body: 'The zanzibarphones are being replaced.' },
            { language: 'nn', title: 'Oppgradering av telefonsentralen', body: 'Sentralbordet vert bytt ut.' },
          ],
        },
      },
    });
    // An English stem ("replacing" → "replac") in the English version only.
    const english = await search('replacing zanzibarphones');
    expect(english.map((hit) => hit.id)).toEqual([row.id]);
    // A word all three versions have: one hit, not three.
    expect((await search('telefonsentralen')).filter((hit) => hit.id === row.id)).toHaveLength(1);
    const inNynorsk = await search('vert bytt', {}, '&lang=nn');
    expect(inNynorsk.find((hit) => hit.id === row.id)).toMatchObject({ language: 'nn' });
  });

  it('leaves out announcements for other organisations, and filters by type', async () => {
    const uio = await db.organisation.upsert({
      where: { code: 'UiO' },
      update: {},
      create: { code: 'UiO', name: 'UiO', realm: 'uio.no' },
    });
    const forUio = await db.announcement.create({
      data: {
        channelId: publicChannelId,
        title: 'Kvasirbrønnen stenges',
        body: 'Bare for UiO',
        type: 'incident',
        audienceOrganisationIds: [uio.id],
        publishedAt: PAST,
      },
    });
    expect(await search('kvasirbrønnen')).toEqual([]);
    expect(await search('kvasirbrønnen', bearer(tokens.member))).toEqual([]);
    expect((await search('kvasirbrønnen', bearer(tokens.admin))).map((hit) => hit.id)).toEqual([forUio.id]);
    expect(await search('kvasirbrønnen', bearer(tokens.admin), '&type=release')).toEqual([]);
    expect((await search('kvasirbrønnen', bearer(tokens.admin), '&type=incident')).map((hit) => hit.id)).toEqual([
      forUio.id,
    ]);
    const bad = await app.inject({ method: 'GET', url: '/api/v1/search?q=x&type=memo' });
    expect(bad.statusCode).toBe(400);
  });
});

describe('cost', () => {
  it('matches through the GIN indexes of the migration (the expressions are identical)', async () => {
    // Sequential scans off for this one transaction: then a plan without the index means the expressions differ.
    const plan = await db.$transaction(async (tx) => {
      await tx.$executeRaw`SET LOCAL enable_seqscan = off`;
      return tx.$queryRaw<{ 'QUERY PLAN': string }[]>(Prisma.sql`
        EXPLAIN SELECT a.id FROM "Announcement" a
        WHERE ${NORWEGIAN_DOCUMENT} @@ websearch_to_tsquery('mk_norwegian'::regconfig, 'lavvo')
           OR ${ENGLISH_DOCUMENT} @@ websearch_to_tsquery('mk_english'::regconfig, 'lavvo')`);
    });
    const text = plan.map((line) => line['QUERY PLAN']).join('\n');
    expect(text).toContain('Announcement_search_nb_idx');
    expect(text).toContain('Announcement_search_en_idx');
  });

  it('matches translations through their own GIN indexes (the same expressions on AnnouncementTranslation)', async () => {
    const plan = await db.$transaction(async (tx) => {
      await tx.$executeRaw`SET LOCAL enable_seqscan = off`;
      return tx.$queryRaw<{ 'QUERY PLAN': string }[]>(Prisma.sql`
        EXPLAIN SELECT t."announcementId" FROM "AnnouncementTranslation" t
        WHERE ${TRANSLATION_NORWEGIAN_DOCUMENT} @@ websearch_to_tsquery('mk_norwegian'::regconfig, 'lavvo')
           OR ${TRANSLATION_ENGLISH_DOCUMENT} @@ websearch_to_tsquery('mk_english'::regconfig, 'lavvo')`);
    });
    const text = plan.map((line) => line['QUERY PLAN']).join('\n');
    expect(text).toContain('AnnouncementTranslation_search_nb_idx');
    expect(text).toContain('AnnouncementTranslation_search_en_idx');
  });

  it('issues exactly one SQL statement per page and touches no model delegate', async () => {
    const calls: string[] = [];
    const counting = new Proxy(db, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof property === 'string') calls.push(property);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const page = await searchAnnouncements({ db: counting, publicUrl: 'http://x' }, ANONYMOUS, {
      q: 'rullestol',
      limit: 2,
    });
    expect(page.items).toHaveLength(2);
    expect(calls).toEqual(['$queryRaw']);
  });
});

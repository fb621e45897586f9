/**
 * Reading over HTTP: the personal feed (order, keyset pages, filters, read state), read/unread and mark-all, unread
 * counts, losing access, ratings and view counts — on real PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { viewerKeyFor } from '../../src/services/reading.js';
import { createTestContext, TEST_UNSUBSCRIBE_SECRET, type TestContext } from '../helpers/context.js';
import {
  createChannel,
  createUser,
  grantRole,
  type TestChannel,
  type TestUser,
  tokenFor,
} from '../helpers/factories.js';

let ctx: TestContext;
let app: FastifyInstance;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  ctx = await createTestContext();
  app = await buildApp(ctx.deps, { logger: false });
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

interface Reader {
  user: TestUser;
  token: string;
}

async function reader(organisationCode: string | undefined = 'UiB'): Promise<Reader> {
  const user = await createUser(ctx.deps.db, organisationCode ? { organisationCode } : {});
  return { user, token: await tokenFor(ctx.deps.db, user.id) };
}

async function subscribe(who: Reader, channel: TestChannel): Promise<void> {
  await ctx.deps.db.subscription.create({
    data: { channelId: channel.id, userId: who.user.id, confirmedAt: new Date() },
  });
}

/** Announcements published one minute apart, oldest first, so the feed order is known. */
async function publish(
  channel: TestChannel,
  count: number,
  options: { start?: Date; importance?: 'info' | 'important' | 'critical' } = {},
): Promise<string[]> {
  const start = options.start ?? new Date('2026-01-01T08:00:00.000Z');
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const row = await ctx.deps.db.announcement.create({
      data: {
        channelId: channel.id,
        title: `${channel.slug} ${i}`,
        body: 'Tekst',
        importance: options.importance ?? 'info',
        publishedAt: new Date(start.getTime() + i * 60_000),
      },
    });
    ids.push(row.id);
  }
  return ids;
}

async function get(url: string, who?: Reader) {
  return app.inject({ method: 'GET', url, headers: who ? bearer(who.token) : {} });
}

async function feed(who: Reader, query = '') {
  const response = await get(`/api/v1/me/feed${query}`, who);
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as { items: { id: string; channel: string; read: boolean }[]; nextCursor: string | null };
}

async function unread(who: Reader) {
  const response = await get('/api/v1/me/unread', who);
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as { total: number; byChannel: { channel: string; unread: number }[] };
}

function send(method: 'PUT' | 'DELETE' | 'POST', url: string, who?: Reader, payload?: object) {
  return app.inject({ method, url, headers: who ? bearer(who.token) : {}, ...(payload ? { payload } : {}) });
}

describe('personal feed', () => {
  it('lists subscribed channels only, newest first, across channels, in keyset pages without gaps or repeats', async () => {
    const me = await reader();
    const [a, b, other] = await Promise.all([
      createChannel(ctx.deps.db),
      createChannel(ctx.deps.db),
      createChannel(ctx.deps.db),
    ]);
    await subscribe(me, a);
    await subscribe(me, b);
    const fromA = await publish(a, 3, { start: new Date('2026-02-01T08:00:00.000Z') });
    const fromB = await publish(b, 3, { start: new Date('2026-02-01T08:00:30.000Z') });
    await publish(other, 2);
    // Interleaved: a0 b0 a1 b1 a2 b2 (30 s apart), newest first.
    const expected = [fromB[2], fromA[2], fromB[1], fromA[1], fromB[0], fromA[0]];

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await feed(me, `?limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(2);
    expect(seen).toEqual(expected);

    const first = await feed(me, '?limit=1');
    expect(first.items[0]).toMatchObject({
      id: fromB[2],
      channel: b.slug,
      read: false,
      rating: { average: null, votes: 0 },
      views: 0,
    });
  });

  it('filters by importance, channel and date range', async () => {
    const me = await reader();
    const [a, b] = await Promise.all([createChannel(ctx.deps.db), createChannel(ctx.deps.db)]);
    await subscribe(me, a);
    await subscribe(me, b);
    const infos = await publish(a, 2, { start: new Date('2026-03-01T08:00:00.000Z') });
    const [critical] = await publish(b, 1, { start: new Date('2026-03-02T08:00:00.000Z'), importance: 'critical' });
    expect((await feed(me, '?importance=critical')).items.map((i) => i.id)).toEqual([critical]);
    expect((await feed(me, `?channel=${a.slug}`)).items.map((i) => i.id)).toEqual([infos[1], infos[0]]);
    const range = `?from=${encodeURIComponent('2026-03-01T08:01:00.000Z')}&to=${encodeURIComponent('2026-03-02T08:00:00.000Z')}`;
    expect((await feed(me, range)).items.map((i) => i.id)).toEqual([infos[1]]);

    for (const bad of ['?importance=urgent', '?from=yesterday', '?limit=0', '?cursor=%21%21']) {
      const response = await get(`/api/v1/me/feed${bad}`, me);
      expect(response.statusCode, bad).toBe(400);
    }
    const reversed = await get(`/api/v1/me/feed?from=2026-03-02T00:00:00.000Z&to=2026-03-01T00:00:00.000Z`, me);
    expect(reversed.statusCode).toBe(400);
  });
});

describe('read state and unread counts', () => {
  it('marks read and unread (idempotent), and the counts per channel follow', async () => {
    const me = await reader();
    const [a, b] = await Promise.all([createChannel(ctx.deps.db), createChannel(ctx.deps.db)]);
    await subscribe(me, a);
    await subscribe(me, b);
    const fromA = await publish(a, 3);
    await publish(b, 2);
    expect(await unread(me)).toEqual({
      total: 5,
      byChannel: [
        { channel: a.slug, unread: 3 },
        { channel: b.slug, unread: 2 },
      ].sort((x, y) => x.channel.localeCompare(y.channel)),
    });

    for (let i = 0; i < 2; i++) {
      const response = await send('PUT', `/api/v1/me/reads/${fromA[0]}`, me);
      expect(response.statusCode).toBe(204);
    }
    expect((await feed(me)).items.find((item) => item.id === fromA[0])?.read).toBe(true);
    expect((await unread(me)).byChannel.find((entry) => entry.channel === a.slug)?.unread).toBe(2);

    for (let i = 0; i < 2; i++) {
      expect((await send('DELETE', `/api/v1/me/reads/${fromA[0]}`, me)).statusCode).toBe(204);
    }
    expect((await feed(me)).items.find((item) => item.id === fromA[0])?.read).toBe(false);
    expect((await unread(me)).total).toBe(5);

    // Read state is personal: another reader's counts are untouched.
    const other = await reader();
    await subscribe(other, a);
    await send('PUT', `/api/v1/me/reads/${fromA[1]}`, me);
    expect((await unread(other)).total).toBe(3);
  });

  it('marks all read, for one channel or the whole feed, and leaves channels with none out of the counts', async () => {
    const me = await reader();
    const [a, b] = await Promise.all([createChannel(ctx.deps.db), createChannel(ctx.deps.db)]);
    await subscribe(me, a);
    await subscribe(me, b);
    await publish(a, 2);
    await publish(b, 3);
    const one = await send('POST', '/api/v1/me/reads', me, { channel: a.slug });
    expect(one.statusCode, one.body).toBe(200);
    expect(one.json()).toEqual({ marked: 2 });
    expect(await unread(me)).toEqual({ total: 3, byChannel: [{ channel: b.slug, unread: 3 }] });
    expect((await send('POST', '/api/v1/me/reads', me, { channel: a.slug })).json()).toEqual({ marked: 0 });
    const all = await send('POST', '/api/v1/me/reads', me, {});
    expect(all.json()).toEqual({ marked: 3 });
    expect(await unread(me)).toEqual({ total: 0, byChannel: [] });
    expect((await feed(me)).items.every((item) => item.read)).toBe(true);
  });

  it('answers 404 for announcements and channels the reader may not read, like ones that do not exist', async () => {
    const me = await reader();
    const secret = await createChannel(ctx.deps.db, { visibility: 'restricted' });
    const [hidden] = await publish(secret, 1);
    const draft = await ctx.deps.db.announcement.create({
      data: { channelId: (await createChannel(ctx.deps.db)).id, title: 'Utkast', body: 'x', status: 'draft' },
    });
    const missing = await send('PUT', `/api/v1/me/reads/${randomUUID()}`, me);
    expect(missing.statusCode).toBe(404);
    for (const id of [hidden, draft.id]) {
      for (const method of ['PUT', 'DELETE'] as const) {
        const response = await send(method, `/api/v1/me/reads/${id}`, me);
        expect(response.statusCode).toBe(404);
        expect(response.json().error).toEqual(missing.json().error);
      }
    }
    const channel = await send('POST', '/api/v1/me/reads', me, { channel: secret.slug });
    const noChannel = await send('POST', '/api/v1/me/reads', me, { channel: 'no-such-channel' });
    expect(channel.statusCode).toBe(404);
    expect(channel.json().error).toEqual(noChannel.json().error);
    expect(await ctx.deps.db.announcementRead.count({ where: { userId: me.user.id } })).toBe(0);
  });

  it('drops a channel from the feed and the counts when the reader loses access to it', async () => {
    const me = await reader();
    const open = await createChannel(ctx.deps.db, { visibility: 'internal' });
    const team = await createChannel(ctx.deps.db, { visibility: 'restricted' });
    await grantRole(ctx.deps.db, team.id, me.user.id, 'publisher');
    await subscribe(me, open);
    await subscribe(me, team);
    await publish(open, 1);
    const fromTeam = await publish(team, 2);
    expect((await unread(me)).total).toBe(3);

    await ctx.deps.db.channelRole.delete({ where: { channelId_userId: { channelId: team.id, userId: me.user.id } } });
    expect(await unread(me)).toEqual({ total: 1, byChannel: [{ channel: open.slug, unread: 1 }] });
    expect((await feed(me)).items.map((item) => item.channel)).toEqual([open.slug]);
    expect((await send('PUT', `/api/v1/me/reads/${fromTeam[0]}`, me)).statusCode).toBe(404);
    // Mark-all skips it too: nothing of the lost channel is marked.
    await send('POST', '/api/v1/me/reads', me, {});
    expect(
      await ctx.deps.db.announcementRead.count({ where: { userId: me.user.id, announcementId: { in: fromTeam } } }),
    ).toBe(0);

    await ctx.deps.db.channel.update({ where: { id: open.id }, data: { visibility: 'restricted' } });
    expect(await unread(me)).toEqual({ total: 0, byChannel: [] });
    expect((await feed(me)).items).toEqual([]);
  });

  it('answers 401 to anonymous callers on every reading endpoint, and 403 never leaks', async () => {
    const channel = await createChannel(ctx.deps.db);
    const [id] = await publish(channel, 1);
    const requests = [
      get('/api/v1/me/feed'),
      get('/api/v1/me/unread'),
      send('PUT', `/api/v1/me/reads/${id}`),
      send('DELETE', `/api/v1/me/reads/${id}`),
      send('POST', '/api/v1/me/reads', undefined, {}),
      send('PUT', `/api/v1/announcements/${id}/rating`, undefined, { stars: 3 }),
      send('DELETE', `/api/v1/announcements/${id}/rating`),
    ];
    for (const response of await Promise.all(requests)) {
      expect(response.statusCode).toBe(401);
      expect(response.json().error.code).toBe('unauthenticated');
    }
  });
});

describe('ratings', () => {
  it('keeps one changeable vote per reader and shows the average and number of votes', async () => {
    const channel = await createChannel(ctx.deps.db);
    const [id] = await publish(channel, 1);
    const [first, second, third] = await Promise.all([reader(), reader(), reader(undefined)]);
    const rate = (who: Reader, stars: number) => send('PUT', `/api/v1/announcements/${id}/rating`, who, { stars });

    expect((await rate(first, 5)).json()).toEqual({ stars: 5, rating: { average: 5, votes: 1 } });
    expect((await rate(second, 2)).json()).toEqual({ stars: 2, rating: { average: 3.5, votes: 2 } });
    // Changing a vote replaces it.
    expect((await rate(first, 3)).json()).toEqual({ stars: 3, rating: { average: 2.5, votes: 2 } });
    // A reader from no member organisation may rate a public announcement too.
    expect((await rate(third, 4)).json()).toEqual({ stars: 4, rating: { average: 3, votes: 3 } });

    const shown = await get(`/api/v1/announcements/${id}`);
    expect(shown.json().rating).toEqual({ average: 3, votes: 3 });
    const listed = await get(`/api/v1/channels/${channel.slug}/announcements`);
    expect(listed.json().items[0].rating).toEqual({ average: 3, votes: 3 });

    expect((await send('DELETE', `/api/v1/announcements/${id}/rating`, third)).statusCode).toBe(204);
    expect((await send('DELETE', `/api/v1/announcements/${id}/rating`, third)).statusCode).toBe(404);
    expect((await get(`/api/v1/announcements/${id}`)).json().rating).toEqual({ average: 2.5, votes: 2 });
    expect(await ctx.deps.db.announcementRating.count({ where: { announcementId: id } })).toBe(2);
  });

  it('refuses bad stars with 400 and stores nothing', async () => {
    const channel = await createChannel(ctx.deps.db);
    const [id] = await publish(channel, 1);
    const me = await reader();
    for (const payload of [{ stars: 0 }, { stars: 6 }, { stars: 2.5 }, { stars: '3' }, {}, { stars: 3, extra: 1 }]) {
      const response = await send('PUT', `/api/v1/announcements/${id}/rating`, me, payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().error.code).toBe('validation_failed');
    }
    expect(await ctx.deps.db.announcementRating.count({ where: { announcementId: id } })).toBe(0);
  });

  it('answers 404 for announcements the reader may not read, and a publish-only token may not vote', async () => {
    const secret = await createChannel(ctx.deps.db, { visibility: 'restricted' });
    const [hidden] = await publish(secret, 1);
    const me = await reader();
    const denied = await send('PUT', `/api/v1/announcements/${hidden}/rating`, me, { stars: 3 });
    const missing = await send('PUT', `/api/v1/announcements/${randomUUID()}/rating`, me, { stars: 3 });
    expect(denied.statusCode).toBe(404);
    expect(denied.json().error).toEqual(missing.json().error);

    const open = await createChannel(ctx.deps.db);
    const [id] = await publish(open, 1);
    const automation = { user: me.user, token: await tokenFor(ctx.deps.db, me.user.id, { scopes: ['publish'] }) };
    expect((await send('PUT', `/api/v1/announcements/${id}/rating`, automation, { stars: 1 })).statusCode).toBe(404);
  });

  it('goes with the account when it is erased, as read state does', async () => {
    const channel = await createChannel(ctx.deps.db);
    const [id] = await publish(channel, 1);
    const me = await reader();
    await send('PUT', `/api/v1/announcements/${id}/rating`, me, { stars: 5 });
    await send('PUT', `/api/v1/me/reads/${id}`, me);
    await get(`/api/v1/announcements/${id}`, me);
    await ctx.deps.db.user.delete({ where: { id: me.user.id } });
    expect(await ctx.deps.db.announcementRating.count({ where: { announcementId: id } })).toBe(0);
    expect(await ctx.deps.db.announcementRead.count({ where: { announcementId: id } })).toBe(0);
    expect((await get(`/api/v1/announcements/${id}`)).json()).toMatchObject({ rating: { votes: 0 }, views: 1 });
  });
});

describe('views', () => {
  it('counts distinct signed-in readers, never anonymous reads, and stores no user id', async () => {
    const channel = await createChannel(ctx.deps.db);
    const [id, other] = await publish(channel, 2);
    const [first, second] = await Promise.all([reader(), reader()]);
    const views = async () => (await get(`/api/v1/announcements/${id}`)).json().views as number;

    expect(await views()).toBe(0);
    await get(`/api/v1/announcements/${id}`, first);
    await get(`/api/v1/announcements/${id}`, first);
    // A second token of the same person is the same reader.
    await get(`/api/v1/announcements/${id}`, { user: first.user, token: await tokenFor(ctx.deps.db, first.user.id) });
    expect(await views()).toBe(1);
    const seenBySecond = await get(`/api/v1/announcements/${id}`, second);
    expect(seenBySecond.json().views).toBe(2);
    expect(await views()).toBe(2);

    const page = (await get(`/api/v1/channels/${channel.slug}/announcements`)).json().items as {
      id: string;
      views: number;
    }[];
    expect(page.map((item) => [item.id, item.views])).toEqual([
      [other, 0],
      [id, 2],
    ]);

    const stored = await ctx.deps.db.announcementViewer.findMany({ where: { announcementId: id } });
    expect(stored.map((row) => row.viewerKey).sort()).toEqual(
      [
        viewerKeyFor(TEST_UNSUBSCRIBE_SECRET, first.user.id),
        viewerKeyFor(TEST_UNSUBSCRIBE_SECRET, second.user.id),
      ].sort(),
    );
    for (const row of stored) {
      expect(row.viewerKey).not.toContain(first.user.id);
      expect(row.viewerKey).not.toContain(second.user.id);
    }
  });

  it('does not count a read that was refused', async () => {
    const secret = await createChannel(ctx.deps.db, { visibility: 'restricted' });
    const [id] = await publish(secret, 1);
    const me = await reader();
    expect((await get(`/api/v1/announcements/${id}`, me)).statusCode).toBe(404);
    expect(await ctx.deps.db.announcementViewer.count({ where: { announcementId: id } })).toBe(0);
  });
});

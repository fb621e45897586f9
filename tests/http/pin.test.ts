/** PUT/DELETE /api/v1/announcements/:id/pin and the pinned announcements on top of a channel listing's first page. */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { MAX_PINNED_PER_CHANNEL } from '../../src/services/pin.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, grantRole, tokenFor } from '../helpers/factories.js';

let ctx: TestContext;
let app: FastifyInstance;
let publisherToken: string;
let readerToken: string;
let publisherId: string;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  ctx = await createTestContext();
  app = await buildApp(ctx.deps, { logger: false });
  const publisher = await createUser(ctx.deps.db);
  publisherId = publisher.id;
  publisherToken = await tokenFor(ctx.deps.db, publisher.id);
  readerToken = await tokenFor(ctx.deps.db, (await createUser(ctx.deps.db, { organisationCode: 'UiB' })).id);
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

/** A public channel of its own with `count` announcements published a second apart, oldest first. */
async function channelWith(slug: string, count: number): Promise<string[]> {
  const db = ctx.deps.db;
  const channel = await createChannel(db, { slug, visibility: 'public' });
  await grantRole(db, channel.id, publisherId, 'publisher');
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const row = await db.announcement.create({
      data: {
        channelId: channel.id,
        title: `Nr ${i}`,
        body: 'Tekst',
        publishedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
      },
    });
    ids.push(row.id);
  }
  return ids;
}

function pin(id: string, payload: Record<string, unknown> = {}, token = publisherToken) {
  return app.inject({ method: 'PUT', url: `/api/v1/announcements/${id}/pin`, headers: bearer(token), payload });
}
function unpin(id: string, token = publisherToken) {
  return app.inject({ method: 'DELETE', url: `/api/v1/announcements/${id}/pin`, headers: bearer(token) });
}

/** Every page of the listing, following nextCursor: the items' ids and pinned flags per page. */
async function allPages(slug: string, limit: number) {
  const pages: { id: string; pinned?: boolean }[][] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const response = await app.inject({
      method: 'GET',
      url: `/api/v1/channels/${slug}/announcements?limit=${limit}${query}`,
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    pages.push(body.items.map((item: { id: string; pinned?: boolean }) => ({ id: item.id, pinned: item.pinned })));
    cursor = body.nextCursor;
  } while (cursor);
  return pages;
}

describe('pinning', () => {
  it('puts pinned ones on top of the first page only, and pages through the rest showing each item once', async () => {
    const ids = await channelWith('pin-liste', 7);
    // Pin an old one and a middle one; the later pin comes first.
    expect((await pin(ids[1]!)).json()).toMatchObject({ id: ids[1], pinned: true });
    expect((await pin(ids[4]!)).statusCode).toBe(200);

    const pages = await allPages('pin-liste', 2);
    expect(pages[0]!.slice(0, 2)).toEqual([
      { id: ids[4], pinned: true },
      { id: ids[1], pinned: true },
    ]);
    expect(pages[0]!.slice(2)).toEqual([{ id: ids[6] }, { id: ids[5] }]);
    const all = pages.flat().map((item) => item.id);
    expect(all).toEqual([ids[4], ids[1], ids[6], ids[5], ids[3], ids[2], ids[0]]);
    expect(
      pages
        .slice(1)
        .flat()
        .every((item) => item.pinned === undefined),
    ).toBe(true);
    expect(await ctx.deps.db.auditLog.count({ where: { action: 'announcement.pin', targetId: ids[1] } })).toBe(1);
  });

  it('ends a pin at `until` by itself, and refuses an `until` in the past', async () => {
    const ids = await channelWith('pin-utloper', 3);
    const until = new Date(Date.now() + 3_600_000).toISOString();
    expect((await pin(ids[0]!, { until })).statusCode).toBe(200);
    expect((await allPages('pin-utloper', 10))[0]![0]).toEqual({ id: ids[0], pinned: true });

    // The hour passes (moved into the past rather than waited for).
    await ctx.deps.db.announcement.update({
      where: { id: ids[0] },
      data: { pinnedUntil: new Date(Date.now() - 1000) },
    });
    expect((await allPages('pin-utloper', 10))[0]).toEqual([{ id: ids[2] }, { id: ids[1] }, { id: ids[0] }]);

    const past = await pin(ids[1]!, { until: new Date(Date.now() - 60_000).toISOString() });
    expect(past.statusCode).toBe(400);
    expect(past.json().error.code).toBe('validation_failed');
    expect((await pin(ids[1]!, { until: 'soon' })).statusCode).toBe(400);
  });

  it('unpins (audited once), and unpinning again changes nothing', async () => {
    const ids = await channelWith('pin-av', 2);
    await pin(ids[0]!);
    const response = await unpin(ids[0]!);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ id: ids[0], pinned: false });
    expect((await unpin(ids[0]!)).statusCode).toBe(200);
    expect(await ctx.deps.db.auditLog.count({ where: { action: 'announcement.unpin', targetId: ids[0] } })).toBe(1);
    expect((await allPages('pin-av', 10))[0]).toEqual([{ id: ids[1] }, { id: ids[0] }]);
  });

  it('refuses readers (403), retracted and draft announcements (409), and more than the limit per channel (409)', async () => {
    const ids = await channelWith('pin-grenser', MAX_PINNED_PER_CHANNEL + 2);
    expect((await pin(ids[0]!, {}, readerToken)).statusCode).toBe(403);
    expect((await unpin(ids[0]!, readerToken)).statusCode).toBe(403);

    await ctx.deps.db.announcement.update({ where: { id: ids[0] }, data: { status: 'retracted' } });
    expect((await pin(ids[0]!)).statusCode).toBe(409);
    const draft = await ctx.deps.db.announcement.create({
      data: {
        channelId: (await ctx.deps.db.announcement.findUniqueOrThrow({ where: { id: ids[1] } })).channelId,
        title: 'Utkast',
        body: 'Tekst',
        status: 'draft',
      },
    });
    expect((await pin(draft.id)).statusCode).toBe(409);

    for (const id of ids.slice(1, MAX_PINNED_PER_CHANNEL + 1)) expect((await pin(id)).statusCode).toBe(200);
    const over = await pin(ids[MAX_PINNED_PER_CHANNEL + 1]!);
    expect(over.statusCode).toBe(409);
    expect(over.json().error.code).toBe('conflict');
    // Re-pinning one that is pinned is not one more.
    expect((await pin(ids[1]!)).statusCode).toBe(200);
    const first = (await allPages('pin-grenser', 1))[0]!;
    expect(first.filter((item) => item.pinned)).toHaveLength(MAX_PINNED_PER_CHANNEL);
  });
});

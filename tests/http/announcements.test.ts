import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { ANNOUNCEMENT_PUBLISHED } from '../../src/services/publish.js';
import { hashToken } from '../../src/services/tokens.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, grantRole, type TestChannel, tokenFor } from '../helpers/factories.js';

let ctx: TestContext;
let app: FastifyInstance;
let publicChannel: TestChannel;
let internalChannel: TestChannel;
let restrictedChannel: TestChannel;
let ownerToken: string;
let publisherToken: string;
let adminToken: string;
let memberToken: string; // organisation member, no role
let publishOnlyToken: string; // publisher in the public channel, token without the read scope
let readOnlyPublisherToken: string; // publisher whose token lacks the publish scope

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  ctx = await createTestContext();
  app = await buildApp(ctx.deps, { logger: false });
  const db = ctx.deps.db;
  publicChannel = await createChannel(db, { slug: 'offentlig', visibility: 'public' });
  internalChannel = await createChannel(db, { slug: 'intern', visibility: 'internal' });
  restrictedChannel = await createChannel(db, { slug: 'lukket', visibility: 'restricted' });
  const owner = await createUser(db);
  await grantRole(db, publicChannel.id, owner.id, 'owner');
  await grantRole(db, restrictedChannel.id, owner.id, 'owner');
  ownerToken = await tokenFor(db, owner.id);
  const publisher = await createUser(db, { organisationCode: 'UiO' });
  await grantRole(db, publicChannel.id, publisher.id, 'publisher');
  await grantRole(db, internalChannel.id, publisher.id, 'publisher');
  publisherToken = await tokenFor(db, publisher.id);
  publishOnlyToken = await tokenFor(db, publisher.id, { scopes: ['publish'] });
  readOnlyPublisherToken = await tokenFor(db, publisher.id, { scopes: ['read'] });
  adminToken = await tokenFor(db, (await createUser(db, { isAdmin: true })).id);
  memberToken = await tokenFor(db, (await createUser(db, { organisationCode: 'UiO' })).id);
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

function publish(slug: string, payload: unknown, token?: string) {
  return app.inject({
    method: 'POST',
    url: `/api/v1/channels/${slug}/announcements`,
    headers: token ? bearer(token) : {},
    payload: payload as Record<string, unknown>,
  });
}

async function counts() {
  const db = ctx.deps.db;
  return { announcements: await db.announcement.count(), events: await db.outboxEvent.count() };
}

describe('POST /api/v1/channels/:slug/announcements', () => {
  it('publishes: 201 with the announcement, and exactly one outbox event written in the same transaction', async () => {
    const before = await counts();
    const response = await publish(
      'offentlig',
      { title: 'Ny versjon av BOTT SA', body: '**Oppgradering** på lørdag.', importance: 'important' },
      publisherToken,
    );
    expect(response.statusCode).toBe(201);
    const announcement = response.json();
    // The full view (src/services/views.ts), without the reading stats and pin flag that only REST reads carry.
    expect(Object.keys(announcement).sort()).toEqual(
      [
        'acknowledgement',
        'affectedSystem',
        'attachments',
        'audience',
        'author',
        'body',
        'bodyHtml',
        'calendarUrl',
        'channel',
        'editedAt',
        'endsAt',
        'expired',
        'expiresAt',
        'id',
        'importance',
        'language',
        'languages',
        'publishAt',
        'publishedAt',
        'resolvedBy',
        'resolves',
        'revision',
        'startsAt',
        'status',
        'summary',
        'title',
        'type',
        'url',
      ].sort(),
    );
    expect(announcement).toMatchObject({
      channel: 'offentlig',
      title: 'Ny versjon av BOTT SA',
      body: '**Oppgradering** på lørdag.',
      bodyHtml: '<p><strong>Oppgradering</strong> på lørdag.</p>\n',
      importance: 'important',
      status: 'published',
      url: `${ctx.config.http.publicUrl}/announcements/${announcement.id}`,
      author: { name: expect.stringMatching(/^Test user /) },
    });
    expect(response.headers.location).toBe(`/api/v1/announcements/${announcement.id}`);

    expect(await counts()).toEqual({ announcements: before.announcements + 1, events: before.events + 1 });
    const events = await ctx.deps.db.outboxEvent.findMany({ where: { aggregateId: announcement.id } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: ANNOUNCEMENT_PUBLISHED, channelId: publicChannel.id, relayedAt: null });
    // Both rows were created by the same PostgreSQL transaction: their xmin (creating transaction id) is equal.
    const [row] = await ctx.deps.db.$queryRaw<{ a: string; e: string }[]>`
      SELECT (SELECT xmin::text FROM "Announcement" WHERE id = ${announcement.id}::uuid) AS a,
             (SELECT xmin::text FROM "OutboxEvent" WHERE "aggregateId" = ${announcement.id}::uuid) AS e`;
    expect(row?.a).toBe(row?.e);
  });

  it('defaults importance to info and lets owners and admins publish', async () => {
    const byOwner = await publish('lukket', { title: 'Eier', body: 'Tekst' }, ownerToken);
    expect(byOwner.statusCode).toBe(201);
    expect(byOwner.json().importance).toBe('info');
    const byAdmin = await publish('intern', { title: 'Admin', body: 'Tekst' }, adminToken);
    expect(byAdmin.statusCode).toBe(201);
  });

  it('writes nothing when the outbox insert fails: the announcement rolls back with it (500, no internals leaked)', async () => {
    const db = ctx.deps.db;
    await db.$executeRawUnsafe(`
      CREATE FUNCTION reject_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'outbox is broken (secret internals)'; END $$`);
    await db.$executeRawUnsafe(
      'CREATE TRIGGER reject_outbox BEFORE INSERT ON "OutboxEvent" FOR EACH ROW EXECUTE FUNCTION reject_outbox()',
    );
    try {
      const before = await counts();
      const response = await publish('offentlig', { title: 'Skal ikke lagres', body: 'Tekst' }, publisherToken);
      expect(response.statusCode).toBe(500);
      expect(response.json()).toEqual({
        error: { code: 'internal_error', message: expect.any(String) },
        requestId: response.headers['x-request-id'],
      });
      expect(response.body).not.toMatch(/secret|outbox|trigger/i);
      expect(await counts()).toEqual(before);
      expect(await db.announcement.count({ where: { title: 'Skal ikke lagres' } })).toBe(0);
    } finally {
      await db.$executeRawUnsafe('DROP TRIGGER reject_outbox ON "OutboxEvent"');
      await db.$executeRawUnsafe('DROP FUNCTION reject_outbox()');
    }
  });

  it('writes nothing when validation fails (unknown field, blank or over-long text, bad importance)', async () => {
    const before = await counts();
    const cases: [unknown, string][] = [
      [{ title: 'T', body: 'B', pinned: true }, 'body.pinned'],
      [{ title: '  ', body: 'B' }, 'body.title'],
      [{ title: 'T', body: '' }, 'body.body'],
      [{ title: 'x'.repeat(201), body: 'B' }, 'body.title'],
      [{ title: 'T', body: 'x'.repeat(20_001) }, 'body.body'],
      [{ title: 'T', body: 'B', importance: 'urgent' }, 'body.importance'],
      [{ body: 'B' }, 'body.title'],
      // Bodies are not type-coerced (query strings are): a number is not a title.
      [{ title: 42, body: 'B' }, 'body.title'],
      [{ title: 'T', body: ['B'] }, 'body.body'],
    ];
    for (const [payload, field] of cases) {
      const response = await publish('offentlig', payload, publisherToken);
      expect(response.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(400);
      const { error } = response.json();
      expect(error.code).toBe('validation_failed');
      expect(error.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    expect(await counts()).toEqual(before);
  });

  it('accepts a body of exactly 20,000 characters and a 200-character title', async () => {
    const response = await publish('offentlig', { title: 't'.repeat(200), body: 'b'.repeat(20_000) }, publisherToken);
    expect(response.statusCode).toBe(201);
  });

  it('answers 403 to readers without a role and to tokens without the publish scope, writing nothing', async () => {
    const before = await counts();
    for (const token of [memberToken, readOnlyPublisherToken]) {
      const response = await publish('offentlig', { title: 'T', body: 'B' }, token);
      expect(response.statusCode).toBe(403);
      expect(response.json().error.code).toBe('forbidden');
    }
    expect(await counts()).toEqual(before);
  });

  it('answers 401 with WWW-Authenticate to anonymous, garbage, revoked and expired tokens', async () => {
    const db = ctx.deps.db;
    const publisher = await db.channelRole.findFirstOrThrow({
      where: { channelId: publicChannel.id, role: 'publisher' },
    });
    const revoked = await tokenFor(db, publisher.userId);
    await db.apiToken.update({ where: { tokenHash: hashToken(revoked) }, data: { revokedAt: new Date() } });
    const expired = await tokenFor(db, publisher.userId, { expiresAt: new Date(Date.now() + 60_000) });
    await db.apiToken.update({
      where: { tokenHash: hashToken(expired) },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    const before = await counts();

    const anonymous = await publish('offentlig', { title: 'T', body: 'B' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer');
    for (const token of ['garbage', `mkt_${'A'.repeat(40)}`, revoked, expired]) {
      const response = await publish('offentlig', { title: 'T', body: 'B' }, token);
      expect(response.statusCode, token).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
      expect(response.json()).toEqual({
        error: { code: 'unauthenticated', message: expect.any(String) },
        requestId: expect.any(String),
      });
    }
    expect(await counts()).toEqual(before);
  });

  it('answers 404, not 403, for a channel the publisher cannot read, and for a missing one', async () => {
    // The publisher has no role in the restricted channel: it must look absent.
    const hidden = await publish('lukket', { title: 'T', body: 'B' }, publisherToken);
    const missing = await publish('finnes-ikke', { title: 'T', body: 'B' }, publisherToken);
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json().error).toEqual(missing.json().error);
    // A token without the read scope cannot see the internal channel, so it cannot publish there either.
    const publishOnly = await publish('intern', { title: 'T', body: 'B' }, publishOnlyToken);
    expect(publishOnly.statusCode).toBe(404);
    const publicOk = await publish('offentlig', { title: 'Kun publiser', body: 'B' }, publishOnlyToken);
    expect(publicOk.statusCode).toBe(201);
  });
});

describe('GET /api/v1/channels/:slug/announcements', () => {
  let feed: TestChannel;
  /** The feed's published announcements in the expected order (publishedAt desc, id desc). */
  let expected: string[];

  beforeAll(async () => {
    const db = ctx.deps.db;
    feed = await createChannel(db, { slug: 'feed', visibility: 'public' });
    const other = await createChannel(db, { slug: 'feed-other' });
    const base = Date.parse('2026-01-01T12:00:00.000Z');
    const rows: { id: string; publishedAt: Date }[] = [];
    // 23 announcements over 8 distinct instants: many share a publishedAt, so the id must break ties.
    for (let i = 0; i < 23; i++) {
      rows.push({ id: randomUUID(), publishedAt: new Date(base + (i % 8) * 1000) });
    }
    await db.announcement.createMany({
      data: rows.map((r, i) => ({
        id: r.id,
        channelId: feed.id,
        title: `Kunngjøring ${i}`,
        body: 'Tekst',
        status: 'published' as const,
        publishedAt: r.publishedAt,
      })),
    });
    // Noise that must never show: a draft, a retracted one, and another channel's announcement.
    await db.announcement.createMany({
      data: [
        { channelId: feed.id, title: 'Utkast', body: 'x', status: 'draft', publishedAt: null },
        { channelId: feed.id, title: 'Trukket', body: 'x', status: 'retracted', publishedAt: new Date(base) },
        { channelId: other.id, title: 'Annen kanal', body: 'x', status: 'published', publishedAt: new Date(base) },
      ],
    });
    expected = rows
      .sort((a, b) => b.publishedAt.getTime() - a.publishedAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .map((r) => r.id);
  });

  async function walk(limit: number, headers: Record<string, string> = {}, between?: () => Promise<void>) {
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/api/v1/channels/feed/announcements?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
      const response = await app.inject({ method: 'GET', url, headers });
      expect(response.statusCode).toBe(200);
      const page = response.json();
      expect(page.items.length).toBeLessThanOrEqual(limit);
      for (const item of page.items) expect(item.channel).toBe('feed');
      ids.push(...page.items.map((a: { id: string }) => a.id));
      cursor = page.nextCursor;
      pages++;
      if (between && pages === 1) await between();
    } while (cursor);
    return { ids, pages };
  }

  it('walks every published announcement newest first, without duplicates or gaps, across equal publishedAt', async () => {
    for (const limit of [1, 4, 7, 23, 100]) {
      const { ids, pages } = await walk(limit);
      expect(ids, `limit ${limit}`).toEqual(expected);
      expect(pages).toBe(Math.max(1, Math.ceil(23 / limit)));
    }
  });

  it('is stable while newer announcements are published mid-walk (they do not shift later pages)', async () => {
    const { ids } = await walk(5, {}, async () => {
      const response = await publish('feed', { title: 'Midt i', body: 'B' }, adminToken);
      expect(response.statusCode).toBe(201);
    });
    expect(ids).toEqual(expected);
  });

  it('returns items with publishedAt descending and a null nextCursor on the last page', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/channels/feed/announcements?limit=100' });
    const page = response.json();
    expect(page.nextCursor).toBeNull();
    const times = page.items.map((a: { publishedAt: string }) => Date.parse(a.publishedAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(page.items.every((a: { status: string }) => a.status === 'published')).toBe(true);
  });

  it('defaults to 20 per page; limit 101, unknown parameters and bad cursors are 400', async () => {
    const first = await app.inject({ method: 'GET', url: '/api/v1/channels/feed/announcements' });
    expect(first.json().items).toHaveLength(20);
    const tooMany = await app.inject({ method: 'GET', url: '/api/v1/channels/feed/announcements?limit=101' });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().error).toMatchObject({ code: 'validation_failed' });
    const unknown = await app.inject({ method: 'GET', url: '/api/v1/channels/feed/announcements?offset=20' });
    expect(unknown.statusCode).toBe(400);
    const channelCursor = Buffer.from(JSON.stringify({ k: 'ch', s: 'feed' })).toString('base64url');
    const badTime = Buffer.from(JSON.stringify({ k: 'an', p: 'yesterday', i: randomUUID() })).toString('base64url');
    for (const cursor of ['%%%', 'eyJ9', channelCursor, badTime]) {
      const response = await app.inject({ method: 'GET', url: `/api/v1/channels/feed/announcements?cursor=${cursor}` });
      expect(response.statusCode, cursor).toBe(400);
      expect(response.json().error.code).toBe('invalid_cursor');
    }
  });

  it('hides feeds of channels the caller cannot read (404), and shows them to those who can', async () => {
    const anonymous = await app.inject({ method: 'GET', url: '/api/v1/channels/intern/announcements' });
    expect(anonymous.statusCode).toBe(404);
    const member = await app.inject({
      method: 'GET',
      url: '/api/v1/channels/intern/announcements',
      headers: bearer(memberToken),
    });
    expect(member.statusCode).toBe(200);
    expect(member.json().items.length).toBeGreaterThan(0);
    const restricted = await app.inject({
      method: 'GET',
      url: '/api/v1/channels/lukket/announcements',
      headers: bearer(memberToken),
    });
    expect(restricted.statusCode).toBe(404);
  });
});

describe('GET /api/v1/announcements/:id', () => {
  it('returns a published announcement of a readable channel', async () => {
    const created = (await publish('offentlig', { title: 'Hent meg', body: 'B' }, publisherToken)).json();
    const response = await app.inject({ method: 'GET', url: `/api/v1/announcements/${created.id}` });
    expect(response.statusCode).toBe(200);
    // Reads add what readers made of it (src/services/reading.ts); the publish response has no readers yet.
    expect(response.json()).toEqual({ ...created, rating: { average: null, votes: 0 }, views: 0 });
  });

  it('answers 404 alike for unreadable channels, drafts and unknown ids', async () => {
    const internal = (await publish('intern', { title: 'Intern', body: 'B' }, publisherToken)).json();
    const draft = await ctx.deps.db.announcement.create({
      data: { channelId: publicChannel.id, title: 'Utkast', body: 'x', status: 'draft' },
    });
    const responses = await Promise.all(
      [internal.id, draft.id, randomUUID()].map((id) =>
        app.inject({ method: 'GET', url: `/api/v1/announcements/${id}` }),
      ),
    );
    for (const response of responses) {
      expect(response.statusCode).toBe(404);
      expect(response.json().error).toEqual(responses[2]!.json().error);
    }
    const asMember = await app.inject({
      method: 'GET',
      url: `/api/v1/announcements/${internal.id}`,
      headers: bearer(memberToken),
    });
    expect(asMember.statusCode).toBe(200);
  });

  it('rejects an id that is not a UUID with 400', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/announcements/42' });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.details[0].field).toBe('params.id');
  });
});

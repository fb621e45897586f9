import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { MAX_AUDIT_PAGE_SIZE } from '../../src/services/audit.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
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
let admin: TestUser;
let adminToken: string;
let publisher: TestUser;
let publisherToken: string;
let member: TestUser;
let memberToken: string;
let channel: TestChannel;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** The audit records a request wrote, found by its request id. */
async function recordsOf(response: { headers: Record<string, unknown> }) {
  const requestId = String(response.headers['x-request-id']);
  return ctx.deps.db.auditLog.findMany({ where: { requestId }, orderBy: { id: 'asc' } });
}

function publish(slug: string, headers: Record<string, string> = {}, title = 'Melding') {
  return app.inject({
    method: 'POST',
    url: `/api/v1/channels/${slug}/announcements`,
    headers,
    payload: { title, body: 'Innhold' },
  });
}

beforeAll(async () => {
  ctx = await createTestContext();
  app = await buildApp(ctx.deps, { logger: false });
  const db = ctx.deps.db;
  admin = await createUser(db, { isAdmin: true });
  adminToken = await tokenFor(db, admin.id);
  publisher = await createUser(db, { organisationCode: 'UiB' });
  publisherToken = await tokenFor(db, publisher.id);
  member = await createUser(db, { organisationCode: 'UiB' });
  memberToken = await tokenFor(db, member.id);
  channel = await createChannel(db, { slug: 'revisjon', visibility: 'public' });
  await grantRole(db, channel.id, publisher.id, 'publisher');
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

describe('privileged actions write records', () => {
  it('publishing writes announcement.publish with actor, target, outcome and request id', async () => {
    const response = await publish(channel.slug, bearer(publisherToken));
    expect(response.statusCode).toBe(201);
    const records = await recordsOf(response);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      action: 'announcement.publish',
      outcome: 'success',
      actorKind: 'user',
      actorUserId: publisher.id,
      targetType: 'announcement',
      targetId: response.json().id,
      requestId: response.headers['x-request-id'],
      details: { channel: channel.slug, importance: 'info' },
    });
  });

  it('writes the publish record in the announcement transaction: no record, no announcement (and vice versa)', async () => {
    const doomed = await createChannel(ctx.deps.db, { slug: 'doomed-audit' });
    await grantRole(ctx.deps.db, doomed.id, publisher.id, 'publisher');
    // Make the audit insert fail for this one channel, as a full disk or a broken constraint would.
    await ctx.deps.db.$executeRawUnsafe(`
      CREATE FUNCTION test_refuse_doomed_audit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.details->>'channel' = 'doomed-audit' THEN RAISE EXCEPTION 'audit insert refused by the test'; END IF;
        RETURN NEW;
      END $$`);
    await ctx.deps.db.$executeRawUnsafe(`
      CREATE TRIGGER test_refuse_doomed_audit BEFORE INSERT ON "AuditLog"
      FOR EACH ROW EXECUTE FUNCTION test_refuse_doomed_audit()`);
    try {
      const response = await publish(doomed.slug, bearer(publisherToken));
      expect(response.statusCode).toBe(500);
      expect(await ctx.deps.db.announcement.count({ where: { channelId: doomed.id } })).toBe(0);
      expect(await ctx.deps.db.outboxEvent.count({ where: { channelId: doomed.id } })).toBe(0);
    } finally {
      await ctx.deps.db.$executeRawUnsafe('DROP TRIGGER test_refuse_doomed_audit ON "AuditLog"');
      await ctx.deps.db.$executeRawUnsafe('DROP FUNCTION test_refuse_doomed_audit()');
    }
  });
});

describe('changes made through the management endpoints', () => {
  it('record channel, role, organisation and token changes, each with its request id', async () => {
    const admin$ = bearer(adminToken);
    const person = await createUser(ctx.deps.db);
    const steps: [string, () => Promise<LightMyRequestResponse>][] = [
      [
        'channel.create',
        () =>
          app.inject({
            method: 'POST',
            url: '/api/v1/channels',
            headers: admin$,
            payload: { slug: 'revidert', title: 'Revidert' },
          }),
      ],
      [
        'channel.update',
        () =>
          app.inject({ method: 'PATCH', url: '/api/v1/channels/revidert', headers: admin$, payload: { title: 'Ny' } }),
      ],
      [
        'channel.role.grant',
        () =>
          app.inject({
            method: 'PUT',
            url: `/api/v1/channels/revidert/roles/${person.id}`,
            headers: admin$,
            payload: { role: 'publisher' },
          }),
      ],
      [
        'channel.role.revoke',
        () => app.inject({ method: 'DELETE', url: `/api/v1/channels/revidert/roles/${person.id}`, headers: admin$ }),
      ],
      ['channel.delete', () => app.inject({ method: 'DELETE', url: '/api/v1/channels/revidert', headers: admin$ })],
      [
        'organisation.create',
        () =>
          app.inject({
            method: 'POST',
            url: '/api/v1/organisations',
            headers: admin$,
            payload: { code: 'HVL', name: 'Høgskulen på Vestlandet', realm: 'hvl.no' },
          }),
      ],
      [
        'organisation.update',
        () =>
          app.inject({
            method: 'PATCH',
            url: '/api/v1/organisations/HVL',
            headers: admin$,
            payload: { name: 'HVL' },
          }),
      ],
      [
        'token.create',
        () => app.inject({ method: 'POST', url: '/api/v1/me/tokens', headers: admin$, payload: { name: 'revisjon' } }),
      ],
    ];
    let createdTokenId = '';
    for (const [action, send] of steps) {
      const response = await send();
      expect(response.statusCode, `${action}: ${response.body}`).toBeLessThan(300);
      if (action === 'token.create') createdTokenId = response.json().id;
      const records = await recordsOf(response);
      expect(records, action).toHaveLength(1);
      expect(records[0], action).toMatchObject({ action, outcome: 'success', actorUserId: admin.id });
    }
    const revoked = await app.inject({ method: 'DELETE', url: `/api/v1/me/tokens/${createdTokenId}`, headers: admin$ });
    expect(revoked.statusCode).toBe(204);
    expect(await recordsOf(revoked)).toEqual([
      expect.objectContaining({ action: 'token.revoke', targetId: createdTokenId, actorUserId: admin.id }),
    ]);
    // Nothing secret in any of them: the new token's secret appears in no record.
    const all = await ctx.deps.db.auditLog.findMany({ where: { actorUserId: admin.id } });
    expect(JSON.stringify(all.map((r) => r.details))).not.toMatch(/mkt_[A-Za-z0-9_-]{40}/);
  });
});

describe('failed authorisation', () => {
  it('records a 403 on a privileged route with the route, the reason and the actor', async () => {
    const response = await publish(channel.slug, bearer(memberToken));
    expect(response.statusCode).toBe(403);
    const records = await recordsOf(response);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      action: 'authorisation.denied',
      outcome: 'denied',
      actorKind: 'user',
      actorUserId: member.id,
      targetType: 'route',
      targetId: 'POST /api/v1/channels/:slug/announcements',
      details: {
        status: 403,
        code: 'forbidden',
        reason: response.json().error.message,
        credential: 'token',
        params: { slug: channel.slug },
      },
    });
  });

  it('records a 401 of an anonymous caller, and of a rejected bearer token', async () => {
    const anonymous = await publish(channel.slug);
    expect(anonymous.statusCode).toBe(401);
    const [anonymousRecord] = await recordsOf(anonymous);
    expect(anonymousRecord).toMatchObject({
      action: 'authorisation.denied',
      actorKind: 'anonymous',
      actorUserId: null,
      details: { status: 401, code: 'unauthenticated', credential: 'anonymous' },
    });

    const rejected = await publish(channel.slug, bearer('mkt_this-is-not-a-real-token-000000000000000'));
    expect(rejected.statusCode).toBe(401);
    const [rejectedRecord] = await recordsOf(rejected);
    expect(rejectedRecord).toMatchObject({
      actorKind: 'anonymous',
      details: { status: 401, credential: 'rejected_bearer' },
    });
    // The record never holds the presented secret.
    expect(JSON.stringify({ ...rejectedRecord, id: String(rejectedRecord?.id) })).not.toContain(
      'this-is-not-a-real-token',
    );
  });

  it('records denied reads of admin routes', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/admin/audit', headers: bearer(memberToken) });
    expect(response.statusCode).toBe(403);
    const [record] = await recordsOf(response);
    expect(record).toMatchObject({ action: 'authorisation.denied', targetId: 'GET /api/v1/admin/audit' });
  });

  it('does not record 404s, unknown URLs or ordinary reads that need a sign-in', async () => {
    const before = await ctx.deps.db.auditLog.count();
    const responses = await Promise.all([
      app.inject({ method: 'GET', url: '/api/v1/channels/finnes-ikke' }),
      app.inject({ method: 'GET', url: '/api/v1/no-such-route' }),
      app.inject({ method: 'POST', url: '/api/v1/no-such-route', payload: {} }),
      app.inject({ method: 'GET', url: '/api/v1/me/subscriptions' }),
    ]);
    expect(responses.map((r) => r.statusCode)).toEqual([404, 404, 404, 401]);
    expect(await ctx.deps.db.auditLog.count()).toBe(before);
  });
});

describe('GET /api/v1/admin/audit', () => {
  const page = (query: string, token = adminToken) =>
    app.inject({ method: 'GET', url: `/api/v1/admin/audit?${query}`, headers: bearer(token) });

  it('is for administrators acting as such: 401 anonymous, 403 others and admin tokens without `admin`', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/v1/admin/audit' })).statusCode).toBe(401);
    expect((await page('', memberToken)).statusCode).toBe(403);
    const readOnlyAdmin = await tokenFor(ctx.deps.db, admin.id, { scopes: ['read', 'publish'] });
    expect((await page('', readOnlyAdmin)).statusCode).toBe(403);
    expect((await page('')).statusCode).toBe(200);
  });

  it('pages newest first with a keyset cursor: every record once, ties broken by id', async () => {
    const base = Date.parse('2026-01-10T12:00:00.000Z');
    // Seven records, two pairs at the same instant.
    const offsets = [0, 1000, 1000, 2000, 3000, 3000, 4000];
    for (const [i, offset] of offsets.entries()) {
      await ctx.deps.db.auditLog.create({
        data: {
          at: new Date(base + offset),
          actorKind: 'system',
          action: 'channel.update',
          outcome: 'success',
          targetType: 'paging-test',
          targetId: `t${i}`,
        },
      });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const response = await page(`targetType=paging-test&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(response.statusCode).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
      const body = response.json();
      seen.push(...body.items.map((item: { targetId: string }) => item.targetId));
      cursor = body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    // Newest first; at equal times the later-written (higher id) first.
    expect(seen).toEqual(['t6', 't5', 't4', 't3', 't2', 't1', 't0']);
  });

  it('filters by action, actor, target, outcome and time window', async () => {
    const published = await publish(channel.slug, bearer(publisherToken), 'Filtrert');
    const announcementId = published.json().id;
    const byTarget = (await page(`targetType=announcement&targetId=${announcementId}`)).json();
    expect(byTarget.items).toHaveLength(1);
    expect(byTarget.items[0]).toMatchObject({ action: 'announcement.publish', actorUserId: publisher.id });

    const byActor = (await page(`actorUserId=${member.id}&action=authorisation.denied&outcome=denied`)).json();
    expect(byActor.items.length).toBeGreaterThan(0);
    for (const item of byActor.items) {
      expect(item).toMatchObject({ actorUserId: member.id, action: 'authorisation.denied', outcome: 'denied' });
    }

    const window = (
      await page('targetType=paging-test&from=2026-01-10T12:00:01.000Z&to=2026-01-10T12:00:03.000Z')
    ).json();
    expect(window.items.map((item: { targetId: string }) => item.targetId)).toEqual(['t3', 't2', 't1']);

    expect((await page('outcome=success&action=user.erase&targetType=nothing-here')).json().items).toEqual([]);
  });

  it('rejects bad filters, a page larger than the maximum and foreign cursors with 400', async () => {
    for (const query of [
      `limit=${MAX_AUDIT_PAGE_SIZE + 1}`,
      'action=not.an.action',
      'outcome=maybe',
      'actorUserId=not-a-uuid',
      'from=yesterday',
      'from=2026-01-10T12:00:03.000Z&to=2026-01-10T12:00:01.000Z',
      'unknown=1',
      'cursor=eyJrIjoiY2giLCJzIjoiYSJ9',
    ]) {
      const response = await page(query);
      expect(response.statusCode, query).toBe(400);
      expect(['validation_failed', 'invalid_cursor']).toContain(response.json().error.code);
    }
  });
});

describe('append-only', () => {
  it("refuses updates and deletes through the application's own Prisma client", async () => {
    const db = ctx.deps.db;
    const record = await db.auditLog.create({
      data: { actorKind: 'system', action: 'channel.update', outcome: 'success' },
    });
    await expect(db.auditLog.update({ where: { id: record.id }, data: { outcome: 'denied' } })).rejects.toThrow(
      /append-only/,
    );
    await expect(db.auditLog.updateMany({ data: { outcome: 'denied' } })).rejects.toThrow(/append-only/);
    await expect(db.auditLog.delete({ where: { id: record.id } })).rejects.toThrow(/append-only/);
    await expect(db.auditLog.deleteMany({})).rejects.toThrow(/append-only/);
    await expect(db.$executeRawUnsafe('TRUNCATE "AuditLog"')).rejects.toThrow(/append-only/);
    expect(await db.auditLog.findUnique({ where: { id: record.id } })).toMatchObject({ outcome: 'success' });
  });
});

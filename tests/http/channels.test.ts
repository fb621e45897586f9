import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, grantRole, tokenFor } from '../helpers/factories.js';

let ctx: TestContext;
let app: FastifyInstance;
let adminToken: string;
let memberToken: string; // member of an organisation, no roles
let outsiderToken: string; // no organisation
let roleHolderToken: string; // no organisation, publisher in the restricted channel
let readOnlyAdminToken: string;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  ctx = await createTestContext();
  app = await buildApp(ctx.deps, { logger: false });
  const db = ctx.deps.db;
  const admin = await createUser(db, { isAdmin: true });
  adminToken = await tokenFor(db, admin.id);
  readOnlyAdminToken = await tokenFor(db, admin.id, { scopes: ['read', 'publish'] });
  memberToken = await tokenFor(db, (await createUser(db, { organisationCode: 'UiB' })).id);
  outsiderToken = await tokenFor(db, (await createUser(db)).id);
  const roleHolder = await createUser(db);
  roleHolderToken = await tokenFor(db, roleHolder.id);
  // Slugs chosen so that their order is known: a-…, b-…, c-….
  await createChannel(db, { slug: 'a-public', visibility: 'public' });
  await createChannel(db, { slug: 'b-internal', visibility: 'internal' });
  const restricted = await createChannel(db, { slug: 'c-restricted', visibility: 'restricted' });
  await grantRole(db, restricted.id, roleHolder.id, 'publisher');
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

async function listSlugs(headers: Record<string, string> = {}): Promise<string[]> {
  const response = await app.inject({ method: 'GET', url: '/api/v1/channels?limit=100', headers });
  expect(response.statusCode).toBe(200);
  return response.json().items.map((c: { slug: string }) => c.slug);
}

describe('POST /api/v1/channels', () => {
  it('creates a channel for an admin and answers 201 with exactly the declared fields', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/channels',
      headers: bearer(adminToken),
      payload: { slug: 'd-new', title: '  Ny kanal ', description: 'Om kanalen', visibility: 'internal' },
    });
    expect(response.statusCode).toBe(201);
    expect(response.headers.location).toBe('/api/v1/channels/d-new');
    const body = response.json();
    expect(Object.keys(body).sort()).toEqual(['createdAt', 'description', 'id', 'slug', 'title', 'visibility']);
    expect(body).toMatchObject({ slug: 'd-new', title: 'Ny kanal', description: 'Om kanalen', visibility: 'internal' });
    const stored = await ctx.deps.db.channel.findUnique({ where: { slug: 'd-new' } });
    expect(stored?.id).toBe(body.id);
  });

  it('defaults to a public channel with an empty description', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/channels',
      headers: bearer(adminToken),
      payload: { slug: 'e-defaults', title: 'Standard' },
    });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ visibility: 'public', description: '' });
  });

  it('answers 409 conflict for a duplicate slug', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/channels',
      headers: bearer(adminToken),
      payload: { slug: 'a-public', title: 'Again' },
    });
    expect(response.statusCode).toBe(409);
    expect(response.json().error.code).toBe('conflict');
  });

  it('answers 401 without a token and 403 for a non-admin or an admin token without the admin scope', async () => {
    const payload = { slug: 'f-nope', title: 'Nope' };
    const anonymous = await app.inject({ method: 'POST', url: '/api/v1/channels', payload });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().error.code).toBe('unauthenticated');
    for (const token of [memberToken, readOnlyAdminToken]) {
      const response = await app.inject({ method: 'POST', url: '/api/v1/channels', headers: bearer(token), payload });
      expect(response.statusCode).toBe(403);
      expect(response.json().error.code).toBe('forbidden');
    }
    expect(await ctx.deps.db.channel.count({ where: { slug: 'f-nope' } })).toBe(0);
  });

  it('rejects unknown fields, bad slugs and blank titles with 400 listing each problem', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/channels',
      headers: bearer(adminToken),
      payload: { slug: 'Not A Slug', title: '   ', colour: 'red', visibility: 'secret' },
    });
    expect(response.statusCode).toBe(400);
    const { error, requestId } = response.json();
    expect(error.code).toBe('validation_failed');
    expect(requestId).toBe(response.headers['x-request-id']);
    const fields = error.details.map((d: { field: string }) => d.field).sort();
    expect(fields).toEqual(['body.colour', 'body.slug', 'body.title', 'body.visibility']);
    expect(error.details).toContainEqual({ field: 'body.colour', message: 'is not an accepted field' });
    expect(error.details).toContainEqual({ field: 'body.title', message: 'must not be blank' });
    expect(error.details).toContainEqual({
      field: 'body.visibility',
      message: 'must be one of: public, internal, restricted',
    });
  });

  it('rejects a missing title and an over-long slug', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/channels',
      headers: bearer(adminToken),
      payload: { slug: 'x'.repeat(65) },
    });
    expect(response.statusCode).toBe(400);
    const details = response.json().error.details;
    expect(details).toContainEqual({ field: 'body.title', message: 'is required' });
    expect(details.some((d: { field: string }) => d.field === 'body.slug')).toBe(true);
  });
});

describe('GET /api/v1/channels', () => {
  it('shows anonymous callers only public channels', async () => {
    expect(await listSlugs()).toEqual(['a-public', 'e-defaults']);
  });

  it('shows organisation members public and internal channels', async () => {
    expect(await listSlugs(bearer(memberToken))).toEqual(['a-public', 'b-internal', 'd-new', 'e-defaults']);
  });

  it('shows users outside member organisations public channels plus those they hold a role in', async () => {
    expect(await listSlugs(bearer(outsiderToken))).toEqual(['a-public', 'e-defaults']);
    expect(await listSlugs(bearer(roleHolderToken))).toEqual(['a-public', 'c-restricted', 'e-defaults']);
  });

  it('shows admins every channel', async () => {
    expect(await listSlugs(bearer(adminToken))).toEqual([
      'a-public',
      'b-internal',
      'c-restricted',
      'd-new',
      'e-defaults',
    ]);
  });

  it('pages by slug with an opaque cursor until nextCursor is null', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/api/v1/channels?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const response = await app.inject({ method: 'GET', url, headers: bearer(adminToken) });
      expect(response.statusCode).toBe(200);
      const page = response.json();
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((c: { slug: string }) => c.slug));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(['a-public', 'b-internal', 'c-restricted', 'd-new', 'e-defaults']);
  });

  it('defaults to 20 per page and rejects limits outside 1..100', async () => {
    const db = ctx.deps.db;
    await db.channel.createMany({
      data: Array.from({ length: 21 }, (_, i) => ({
        slug: `z-bulk-${String(i).padStart(2, '0')}`,
        title: `Bulk ${i}`,
      })),
    });
    const first = await app.inject({ method: 'GET', url: '/api/v1/channels' });
    expect(first.json().items).toHaveLength(20);
    expect(first.json().nextCursor).toEqual(expect.any(String));
    for (const limit of ['101', '0', 'ten']) {
      const response = await app.inject({ method: 'GET', url: `/api/v1/channels?limit=${limit}` });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('validation_failed');
      expect(response.json().error.details[0].field).toBe('query.limit');
    }
  });

  it('rejects unknown query parameters and bad cursors', async () => {
    const unknown = await app.inject({ method: 'GET', url: '/api/v1/channels?sort=desc' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.details).toContainEqual({ field: 'query.sort', message: 'is not an accepted field' });
    const announcementCursor = Buffer.from(
      JSON.stringify({ k: 'an', p: new Date().toISOString(), i: crypto.randomUUID() }),
    ).toString('base64url');
    for (const cursor of ['garbage!', 'bm90IGpzb24', announcementCursor]) {
      const response = await app.inject({
        method: 'GET',
        url: `/api/v1/channels?cursor=${encodeURIComponent(cursor)}`,
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('invalid_cursor');
    }
  });
});

describe('GET /api/v1/channels/:slug', () => {
  it('returns a readable channel', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/channels/a-public' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ slug: 'a-public', visibility: 'public' });
  });

  it('answers an unreadable channel exactly like a missing one (404, same message)', async () => {
    const missing = await app.inject({ method: 'GET', url: '/api/v1/channels/does-not-exist' });
    const internal = await app.inject({ method: 'GET', url: '/api/v1/channels/b-internal' });
    const restricted = await app.inject({
      method: 'GET',
      url: '/api/v1/channels/c-restricted',
      headers: bearer(memberToken),
    });
    for (const response of [missing, internal, restricted]) {
      expect(response.statusCode).toBe(404);
      expect(response.json().error).toEqual(missing.json().error);
    }
    const allowed = await app.inject({
      method: 'GET',
      url: '/api/v1/channels/c-restricted',
      headers: bearer(roleHolderToken),
    });
    expect(allowed.statusCode).toBe(200);
  });

  it('rejects a malformed slug with 400', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/channels/Bad_Slug' });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.details[0].field).toBe('params.slug');
  });
});

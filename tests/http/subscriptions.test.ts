import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, grantRole, type TestUser, tokenFor } from '../helpers/factories.js';

let ctx: TestContext;
let app: FastifyInstance;
let member: TestUser;
let memberToken: string;
let otherToken: string;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  ctx = await createTestContext();
  app = await buildApp(ctx.deps, { logger: false });
  const db = ctx.deps.db;
  member = await createUser(db, { organisationCode: 'NTNU' });
  await db.user.update({ where: { id: member.id }, data: { language: 'en' } });
  memberToken = await tokenFor(db, member.id);
  otherToken = await tokenFor(db, (await createUser(db, { organisationCode: 'NTNU' })).id);
  await createChannel(db, { slug: 'apen', visibility: 'public' });
  await createChannel(db, { slug: 'intern', visibility: 'internal' });
  await createChannel(db, { slug: 'hemmelig', visibility: 'restricted' });
  const granted = await createChannel(db, { slug: 'medlem', visibility: 'restricted' });
  await grantRole(db, granted.id, member.id, 'publisher');
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

function put(slug: string, payload: Record<string, unknown>, token = memberToken) {
  return app.inject({ method: 'PUT', url: `/api/v1/me/subscriptions/${slug}`, headers: bearer(token), payload });
}

async function mySubscriptions(token = memberToken) {
  const response = await app.inject({ method: 'GET', url: '/api/v1/me/subscriptions', headers: bearer(token) });
  expect(response.statusCode).toBe(200);
  return response.json().items as { channel: string; emailMode: string; language: string }[];
}

describe('/api/v1/me/subscriptions', () => {
  it('answers 401 to anonymous callers on every endpoint', async () => {
    const requests = [
      app.inject({ method: 'GET', url: '/api/v1/me/subscriptions' }),
      app.inject({ method: 'PUT', url: '/api/v1/me/subscriptions/apen', payload: {} }),
      app.inject({ method: 'DELETE', url: '/api/v1/me/subscriptions/apen' }),
    ];
    for (const response of await Promise.all(requests)) {
      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
      expect(response.json().error.code).toBe('unauthenticated');
    }
    expect(await ctx.deps.db.subscription.count()).toBe(0);
  });

  it('starts empty', async () => {
    expect(await mySubscriptions()).toEqual([]);
  });

  it('creates a confirmed subscription with 201, defaulting to immediate e-mail in the user’s language', async () => {
    const response = await put('apen', {});
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(Object.keys(body).sort()).toEqual(['channel', 'createdAt', 'emailMode', 'language', 'push', 'updatedAt']);
    expect(body).toMatchObject({ channel: 'apen', emailMode: 'immediate', language: 'en', push: false });
    const stored = await ctx.deps.db.subscription.findFirstOrThrow({ where: { userId: member.id } });
    expect(stored.confirmedAt).toBeInstanceOf(Date);
    expect(stored.email).toBeNull();
  });

  it('updates only the given fields with 200, keeping one row', async () => {
    const first = await put('apen', { emailMode: 'weekly' });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ channel: 'apen', emailMode: 'weekly', language: 'en' });
    const second = await put('apen', { language: 'nn' });
    expect(second.statusCode).toBe(200);
    expect(second.json()).toMatchObject({ emailMode: 'weekly', language: 'nn' });
    expect(await ctx.deps.db.subscription.count({ where: { userId: member.id } })).toBe(1);
  });

  it('creates one subscription when the same PUT races itself', async () => {
    const responses = await Promise.all(Array.from({ length: 5 }, () => put('intern', { emailMode: 'daily' })));
    const statuses = responses.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 201]);
    expect(await ctx.deps.db.subscription.count({ where: { userId: member.id, channel: { slug: 'intern' } } })).toBe(1);
  });

  it('lets a user subscribe to a restricted channel they hold a role in', async () => {
    expect((await put('medlem', { emailMode: 'off' })).statusCode).toBe(201);
  });

  it('answers 404 for a channel the user cannot read, exactly as for a missing one', async () => {
    const hidden = await put('hemmelig', {});
    const missing = await put('finnes-ikke', {});
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json().error).toEqual(missing.json().error);
    expect(await ctx.deps.db.subscription.count({ where: { channel: { slug: 'hemmelig' } } })).toBe(0);
  });

  it('rejects unknown fields and values outside the enums', async () => {
    const response = await put('apen', { emailMode: 'hourly', language: 'sv', push: 'yes', sms: true });
    expect(response.statusCode).toBe(400);
    const fields = response
      .json()
      .error.details.map((d: { field: string }) => d.field)
      .sort();
    expect(fields).toEqual(['body.emailMode', 'body.language', 'body.push', 'body.sms']);
  });

  it('lists the user’s subscriptions by channel slug, and only theirs', async () => {
    expect((await put('apen', {}, otherToken)).statusCode).toBe(201);
    const items = await mySubscriptions();
    expect(items.map((s) => s.channel)).toEqual(['apen', 'intern', 'medlem']);
    expect(items[0]).toEqual({
      channel: 'apen',
      emailMode: 'weekly',
      language: 'nn',
      push: false,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect((await mySubscriptions(otherToken)).map((s) => s.channel)).toEqual(['apen']);
  });

  it('deletes with 204, then answers 404 for the same delete, and leaves other users alone', async () => {
    const deleted = await app.inject({
      method: 'DELETE',
      url: '/api/v1/me/subscriptions/apen',
      headers: bearer(memberToken),
    });
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
    const again = await app.inject({
      method: 'DELETE',
      url: '/api/v1/me/subscriptions/apen',
      headers: bearer(memberToken),
    });
    expect(again.statusCode).toBe(404);
    expect(again.json().error.code).toBe('not_found');
    expect((await mySubscriptions()).map((s) => s.channel)).toEqual(['intern', 'medlem']);
    expect((await mySubscriptions(otherToken)).map((s) => s.channel)).toEqual(['apen']);
  });

  it('lets a user leave a channel they can no longer read', async () => {
    const db = ctx.deps.db;
    await db.channel.update({ where: { slug: 'intern' }, data: { visibility: 'restricted' } });
    const response = await app.inject({
      method: 'DELETE',
      url: '/api/v1/me/subscriptions/intern',
      headers: bearer(memberToken),
    });
    expect(response.statusCode).toBe(204);
  });
});

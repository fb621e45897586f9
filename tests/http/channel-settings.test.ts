/**
 * Managing channels: settings (PATCH), deletion, and roles. Who may do what is covered row by row in
 * authorisation-matrix.test.ts; here: what each operation does, its validation, and its audit record.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, grantRole, type TestUser, tokenFor } from '../helpers/factories.js';

let ctx: TestContext;
let app: FastifyInstance;
let admin: TestUser;
let owner: TestUser;
let adminToken: string;
let ownerToken: string;
let ownerPublishOnlyToken: string;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  ctx = await createTestContext();
  app = await buildApp(ctx.deps, { logger: false });
  const db = ctx.deps.db;
  admin = await createUser(db, { isAdmin: true });
  owner = await createUser(db, { organisationCode: 'UiO' });
  adminToken = await tokenFor(db, admin.id);
  ownerToken = await tokenFor(db, owner.id);
  ownerPublishOnlyToken = await tokenFor(db, owner.id, { scopes: ['publish'] });
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

/** A restricted channel owned by `owner`. */
async function ownedChannel() {
  const channel = await createChannel(ctx.deps.db, { visibility: 'restricted' });
  await grantRole(ctx.deps.db, channel.id, owner.id, 'owner');
  return channel;
}

async function auditOf(action: string, targetId: string) {
  return ctx.deps.db.auditLog.findMany({ where: { action, targetId }, orderBy: { id: 'asc' } });
}

describe('PATCH /api/v1/channels/:slug', () => {
  it('changes title, description and visibility for the owner, and records who changed what', async () => {
    const channel = await ownedChannel();
    const response = await app.inject({
      method: 'PATCH',
      url: `/api/v1/channels/${channel.slug}`,
      headers: { ...bearer(ownerToken), 'x-request-id': 'patch-1' },
      payload: { title: '  Nytt navn ', description: 'Om', visibility: 'internal' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      slug: channel.slug,
      title: 'Nytt navn',
      description: 'Om',
      visibility: 'internal',
    });
    const [record] = await auditOf('channel.update', channel.id);
    expect(record).toMatchObject({ actorUserId: owner.id, outcome: 'success', requestId: 'patch-1' });
    expect(record?.details).toEqual({
      slug: channel.slug,
      changed: ['title', 'description', 'visibility'],
      visibility: { from: 'restricted', to: 'internal' },
    });
  });

  it('changes only what is sent', async () => {
    const channel = await ownedChannel();
    const response = await app.inject({
      method: 'PATCH',
      url: `/api/v1/channels/${channel.slug}`,
      headers: bearer(adminToken),
      payload: { description: 'Bare beskrivelsen' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ visibility: 'restricted', description: 'Bare beskrivelsen' });
  });

  it('refuses an empty change, a blank title, unknown fields and the slug (400), changing nothing', async () => {
    const channel = await ownedChannel();
    for (const payload of [{}, { title: '   ' }, { colour: 'red' }, { slug: 'new-slug' }, { visibility: 'secret' }]) {
      const response = await app.inject({
        method: 'PATCH',
        url: `/api/v1/channels/${channel.slug}`,
        headers: bearer(ownerToken),
        payload,
      });
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().error.code).toBe('validation_failed');
    }
    expect(await auditOf('channel.update', channel.id)).toHaveLength(0);
  });

  it('answers 404 to an owner whose token lacks `read` for a restricted channel, as for a missing one', async () => {
    const channel = await ownedChannel();
    const hidden = await app.inject({
      method: 'PATCH',
      url: `/api/v1/channels/${channel.slug}`,
      headers: bearer(ownerPublishOnlyToken),
      payload: { title: 'X' },
    });
    const missing = await app.inject({
      method: 'PATCH',
      url: '/api/v1/channels/finnes-ikke',
      headers: bearer(ownerPublishOnlyToken),
      payload: { title: 'X' },
    });
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json().error).toEqual(missing.json().error);
  });
});

describe('DELETE /api/v1/channels/:slug', () => {
  it('deletes the channel with its roles, announcements and subscriptions, and records it', async () => {
    const db = ctx.deps.db;
    const channel = await ownedChannel();
    await db.announcement.create({ data: { channelId: channel.id, title: 'T', body: 'B', publishedAt: new Date() } });
    await db.subscription.create({ data: { channelId: channel.id, userId: owner.id } });
    const response = await app.inject({
      method: 'DELETE',
      url: `/api/v1/channels/${channel.slug}`,
      headers: bearer(adminToken),
    });
    expect(response.statusCode).toBe(204);
    expect(await db.channel.findUnique({ where: { id: channel.id } })).toBeNull();
    expect(await db.channelRole.count({ where: { channelId: channel.id } })).toBe(0);
    expect(await db.announcement.count({ where: { channelId: channel.id } })).toBe(0);
    const [record] = await auditOf('channel.delete', channel.id);
    expect(record).toMatchObject({ actorUserId: admin.id, details: { slug: channel.slug } });

    const again = await app.inject({
      method: 'DELETE',
      url: `/api/v1/channels/${channel.slug}`,
      headers: bearer(adminToken),
    });
    expect(again.statusCode).toBe(404);
  });
});

describe('channel roles', () => {
  const put = (slug: string, userId: string, role: string, token: string) =>
    app.inject({
      method: 'PUT',
      url: `/api/v1/channels/${slug}/roles/${userId}`,
      headers: bearer(token),
      payload: { role },
    });
  const remove = (slug: string, userId: string, token: string) =>
    app.inject({ method: 'DELETE', url: `/api/v1/channels/${slug}/roles/${userId}`, headers: bearer(token) });
  const list = async (slug: string, token: string) => {
    const response = await app.inject({ method: 'GET', url: `/api/v1/channels/${slug}/roles`, headers: bearer(token) });
    expect(response.statusCode).toBe(200);
    return response.json().items as { userId: string; role: string; displayName: string; grantedAt: string }[];
  };

  it('lets an owner add a publisher (201), list, and remove them (204), each change recorded', async () => {
    const channel = await ownedChannel();
    const person = await createUser(ctx.deps.db, { organisationCode: 'UiB' });
    const granted = await put(channel.slug, person.id, 'publisher', ownerToken);
    expect(granted.statusCode).toBe(201);
    expect(Object.keys(granted.json()).sort()).toEqual(['displayName', 'grantedAt', 'role', 'userId']);
    expect(granted.json()).toMatchObject({ userId: person.id, role: 'publisher' });
    // The same again changes nothing and is no new grant.
    expect((await put(channel.slug, person.id, 'publisher', ownerToken)).statusCode).toBe(200);

    const roles = await list(channel.slug, ownerToken);
    expect(roles.map((r) => [r.userId, r.role])).toEqual([
      [owner.id, 'owner'],
      [person.id, 'publisher'],
    ]);

    expect((await remove(channel.slug, person.id, ownerToken)).statusCode).toBe(204);
    expect((await remove(channel.slug, person.id, ownerToken)).statusCode).toBe(404);
    const grants = await auditOf('channel.role.grant', channel.id);
    expect(grants.map((g) => g.details)).toEqual([
      { slug: channel.slug, userId: person.id, role: 'publisher', previousRole: null },
    ]);
    const revokes = await auditOf('channel.role.revoke', channel.id);
    expect(revokes.map((r) => r.details)).toEqual([{ slug: channel.slug, userId: person.id, role: 'publisher' }]);
  });

  it('keeps owners to administrators: an owner may not make, demote or remove an owner (403)', async () => {
    const channel = await ownedChannel();
    const person = await createUser(ctx.deps.db, { organisationCode: 'UiB' });
    expect((await put(channel.slug, person.id, 'owner', ownerToken)).statusCode).toBe(403);
    // The admin makes them an owner; the first owner can then neither demote nor remove them…
    expect((await put(channel.slug, person.id, 'owner', adminToken)).statusCode).toBe(201);
    const demote = await put(channel.slug, person.id, 'publisher', ownerToken);
    expect(demote.statusCode).toBe(403);
    expect(demote.json().error.message).toMatch(/administrators/);
    expect((await remove(channel.slug, person.id, ownerToken)).statusCode).toBe(403);
    // …nor step down themselves.
    expect((await remove(channel.slug, owner.id, ownerToken)).statusCode).toBe(403);
    expect((await list(channel.slug, adminToken)).filter((r) => r.role === 'owner')).toHaveLength(2);
    // The admin may demote.
    const demoted = await put(channel.slug, person.id, 'publisher', adminToken);
    expect(demoted.statusCode).toBe(200);
    const [, demotion] = await auditOf('channel.role.grant', channel.id);
    expect(demotion?.details).toMatchObject({ role: 'publisher', previousRole: 'owner' });
  });

  it('answers 404 for a person who does not exist, and 400 for an unknown role', async () => {
    const channel = await ownedChannel();
    const unknown = await put(channel.slug, '00000000-0000-4000-8000-000000000000', 'publisher', ownerToken);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.message).toBe('User was not found');
    const person = await createUser(ctx.deps.db);
    expect((await put(channel.slug, person.id, 'editor', ownerToken)).statusCode).toBe(400);
  });

  it('takes effect at once: a new publisher publishes, a removed one no longer reads the restricted channel', async () => {
    const channel = await ownedChannel();
    const person = await createUser(ctx.deps.db, { organisationCode: 'UiB' });
    const personToken = await tokenFor(ctx.deps.db, person.id);
    const publish = () =>
      app.inject({
        method: 'POST',
        url: `/api/v1/channels/${channel.slug}/announcements`,
        headers: bearer(personToken),
        payload: { title: 'Hei', body: 'Tekst' },
      });
    expect((await publish()).statusCode).toBe(404);
    await put(channel.slug, person.id, 'publisher', ownerToken);
    expect((await publish()).statusCode).toBe(201);
    await remove(channel.slug, person.id, ownerToken);
    expect((await publish()).statusCode).toBe(404);
  });
});

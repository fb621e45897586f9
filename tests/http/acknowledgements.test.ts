/**
 * Acknowledgements over HTTP on real PostgreSQL: acknowledging (only a POST, only when asked for, idempotent, the
 * organisation kept), the `acknowledged` flag on GET /announcements/{id}, and the editors' figures (expected, per
 * organisation, per Europe/Oslo day).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createSubscription } from '../helpers/delivery.js';
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

interface Person {
  user: TestUser;
  token: string;
}

async function person(organisationCode?: string): Promise<Person> {
  const user = await createUser(ctx.deps.db, organisationCode ? { organisationCode } : {});
  return { user, token: await tokenFor(ctx.deps.db, user.id) };
}

async function organisationId(code: string): Promise<string> {
  return (await ctx.deps.db.organisation.findUniqueOrThrow({ where: { code } })).id;
}

/** An announcement made directly (the publishing API may not take these fields yet). */
async function announcement(
  channel: TestChannel,
  options: { ackRequired?: boolean; ackDeadline?: Date; audience?: string[]; status?: 'draft' | 'published' } = {},
): Promise<string> {
  const status = options.status ?? 'published';
  const row = await ctx.deps.db.announcement.create({
    data: {
      channelId: channel.id,
      title: 'Ny rutine for tilgang',
      body: 'Les og bekreft.',
      status,
      publishedAt: status === 'published' ? new Date() : null,
      ackRequired: options.ackRequired ?? true,
      ackDeadline: options.ackDeadline ?? null,
      audienceOrganisationIds: options.audience ?? [],
    },
  });
  return row.id;
}

function acknowledge(id: string, token?: string) {
  return app.inject({
    method: 'POST',
    url: `/api/v1/announcements/${id}/acknowledgement`,
    headers: token ? bearer(token) : {},
  });
}

function figures(id: string, token: string) {
  return app.inject({ method: 'GET', url: `/api/v1/announcements/${id}/acknowledgements`, headers: bearer(token) });
}

describe('POST /api/v1/announcements/{id}/acknowledgement', () => {
  it('acknowledges once: 201, then 200 with the first time; the organisation of the moment is kept', async () => {
    const channel = await createChannel(ctx.deps.db);
    const id = await announcement(channel);
    const reader = await person('UiB');

    const first = await acknowledge(id, reader.token);
    expect(first.statusCode).toBe(201);
    const body = first.json();
    expect(body).toEqual({ announcement: id, acknowledged: true, acknowledgedAt: expect.any(String) });

    // The reader moves to another organisation; acknowledging again changes nothing.
    const ntnu = await createUser(ctx.deps.db, { organisationCode: 'NTNU' });
    await ctx.deps.db.user.update({ where: { id: reader.user.id }, data: { organisationId: ntnu.organisationId } });
    const second = await acknowledge(id, reader.token);
    expect(second.statusCode).toBe(200);
    expect(second.json()).toEqual(body);

    const rows = await ctx.deps.db.announcementAcknowledgement.findMany({ where: { announcementId: id } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ userId: reader.user.id, organisationId: await organisationId('UiB') });
    expect(rows[0]!.acknowledgedAt.toISOString()).toBe(body.acknowledgedAt);
  });

  it('stays one acknowledgement when the same reader sends several at once', async () => {
    const channel = await createChannel(ctx.deps.db);
    const id = await announcement(channel);
    const reader = await person('UiB');

    const responses = await Promise.all(Array.from({ length: 6 }, () => acknowledge(id, reader.token)));
    expect(responses.map((r) => r.statusCode).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    expect(new Set(responses.map((r) => r.json().acknowledgedAt)).size).toBe(1);
    expect(await ctx.deps.db.announcementAcknowledgement.count({ where: { announcementId: id } })).toBe(1);
  });

  it('answers 409 when the announcement does not ask for acknowledgement, or is a draft', async () => {
    const channel = await createChannel(ctx.deps.db);
    const editor = await person('UiO');
    await grantRole(ctx.deps.db, channel.id, editor.user.id, 'publisher');
    const notAsked = await announcement(channel, { ackRequired: false });
    const draft = await announcement(channel, { status: 'draft' });

    const response = await acknowledge(notAsked, editor.token);
    expect(response.statusCode).toBe(409);
    expect(response.json().error).toMatchObject({
      code: 'conflict',
      details: { reason: 'acknowledgement_not_required' },
    });
    // The editor can see the draft, but nobody acknowledges what is not published.
    expect((await acknowledge(draft, editor.token)).json().error.details).toEqual({ reason: 'not_published' });
    expect(await ctx.deps.db.announcementAcknowledgement.count({ where: { announcementId: notAsked } })).toBe(0);
  });

  it('answers 404 outside the audience and in a channel the reader may not read, exactly like a missing id', async () => {
    const uib = await person('UiB');
    const missing = await acknowledge(randomUUID(), uib.token);
    expect(missing.statusCode).toBe(404);

    const open = await createChannel(ctx.deps.db);
    const forUiO = await announcement(open, { audience: [await organisationId('UiO')] });
    const restricted = await createChannel(ctx.deps.db, { visibility: 'restricted' });
    const hidden = await announcement(restricted);
    for (const id of [forUiO, hidden]) {
      const response = await acknowledge(id, uib.token);
      expect(response.statusCode).toBe(404);
      expect(response.json().error).toEqual(missing.json().error);
    }
    expect(await ctx.deps.db.announcementAcknowledgement.count({ where: { userId: uib.user.id } })).toBe(0);
  });

  it('needs a signed-in reader, and a token with scope read', async () => {
    const channel = await createChannel(ctx.deps.db);
    const id = await announcement(channel);
    expect((await acknowledge(id)).statusCode).toBe(401);

    const automation = await createUser(ctx.deps.db, { organisationCode: 'UiB' });
    await grantRole(ctx.deps.db, channel.id, automation.id, 'publisher');
    const publishOnly = await tokenFor(ctx.deps.db, automation.id, { scopes: ['publish'] });
    const response = await acknowledge(id, publishOnly);
    expect(response.statusCode).toBe(403);
    expect(response.json().error.code).toBe('forbidden');
  });

  it('has no GET: a link can never acknowledge', async () => {
    const channel = await createChannel(ctx.deps.db);
    const id = await announcement(channel);
    const reader = await person('UiB');
    const response = await app.inject({
      method: 'GET',
      url: `/api/v1/announcements/${id}/acknowledgement`,
      headers: bearer(reader.token),
    });
    expect(response.statusCode).toBe(404);
    expect(await ctx.deps.db.announcementAcknowledgement.count({ where: { announcementId: id } })).toBe(0);
  });
});

describe('GET /api/v1/announcements/{id} for a signed-in reader', () => {
  it('says whether the caller has acknowledged, only where acknowledgement is asked for', async () => {
    const channel = await createChannel(ctx.deps.db);
    const asked = await announcement(channel);
    const notAsked = await announcement(channel, { ackRequired: false });
    const reader = await person('UiB');
    const read = async (id: string, token?: string) =>
      (
        await app.inject({ method: 'GET', url: `/api/v1/announcements/${id}`, headers: token ? bearer(token) : {} })
      ).json();

    expect((await read(asked, reader.token)).acknowledged).toBe(false);
    await acknowledge(asked, reader.token);
    expect((await read(asked, reader.token)).acknowledged).toBe(true);
    expect(await read(notAsked, reader.token)).not.toHaveProperty('acknowledged');
    // Anonymous readers of a public channel have nothing to acknowledge with.
    expect(await read(asked)).not.toHaveProperty('acknowledged');
  });
});

describe('GET /api/v1/announcements/{id}/acknowledgements', () => {
  it('counts acknowledgements per organisation and per Oslo day, and who is expected', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db);
    const owner = await person('UiO');
    await grantRole(db, channel.id, owner.user.id, 'owner');
    const uibId = await organisationId('UiB');
    const ntnuId = (await createUser(db, { organisationCode: 'NTNU' })).organisationId!;
    // For UiB and NTNU only.
    const id = await announcement(channel, { audience: [uibId, ntnuId], ackDeadline: new Date(Date.now() + 86400e3) });

    const uibA = await person('UiB');
    const uibB = await person('UiB');
    const ntnu = await person('NTNU');
    const subscriberNotYet = await person('UiB');
    const subscriberOutside = await person('UiT');
    const emailedNotYet = await person('NTNU');
    await createSubscription(db, { channelId: channel.id, userId: subscriberNotYet.user.id });
    await createSubscription(db, { channelId: channel.id, userId: subscriberOutside.user.id });
    await createSubscription(db, { channelId: channel.id, email: 'bare@example.org' });
    // Sent to these by e-mail (the fan-out's ledger); a skipped one reached nobody.
    const skipped = await person('UiB');
    for (const [who, status] of [
      [uibA, 'sent'],
      [emailedNotYet, 'pending'],
      [skipped, 'skipped'],
    ] as const) {
      await db.delivery.create({
        data: { announcementId: id, recipient: `user:${who.user.id}`, medium: 'email', status },
      });
    }

    for (const who of [uibA, uibB, ntnu]) expect((await acknowledge(id, who.token)).statusCode).toBe(201);
    // Acknowledgements on two Oslo days: 22:30 UTC on 1 December is 23:30 in Oslo; 23:30 UTC is already 2 December.
    await db.announcementAcknowledgement.update({
      where: { announcementId_userId: { announcementId: id, userId: uibA.user.id } },
      data: { acknowledgedAt: new Date('2026-12-01T22:30:00Z') },
    });
    await db.announcementAcknowledgement.update({
      where: { announcementId_userId: { announcementId: id, userId: uibB.user.id } },
      data: { acknowledgedAt: new Date('2026-12-01T23:30:00Z') },
    });
    await db.announcementAcknowledgement.update({
      where: { announcementId_userId: { announcementId: id, userId: ntnu.user.id } },
      data: { acknowledgedAt: new Date('2026-12-02T09:00:00Z'), organisationId: null },
    });

    const response = await figures(id, owner.token);
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ announcement: id, required: true, deadline: expect.any(String), total: 3 });
    // uibA (sent), emailedNotYet (pending), subscriberNotYet (subscribes, in the audience), uibB and ntnu
    // (acknowledged); not subscriberOutside (UiT), the skipped one, the bare address or the owner.
    expect(body.expected).toBe(5);
    expect(body.byOrganisation).toEqual([
      { organisation: 'UiB', acknowledged: 2 },
      { organisation: null, acknowledged: 1 },
    ]);
    expect(body.overTime).toEqual([
      { date: '2026-12-01', acknowledged: 1, cumulative: 1 },
      { date: '2026-12-02', acknowledged: 2, cumulative: 3 },
    ]);
  });

  it('is for editors: 403 for a reader of the channel, 404 for one who may not read it', async () => {
    const db = ctx.deps.db;
    const internal = await createChannel(db, { visibility: 'internal' });
    const id = await announcement(internal);
    const reader = await person('UiB');
    const outsider = await person();
    const publisher = await person('UiT');
    await grantRole(db, internal.id, publisher.user.id, 'publisher');

    expect((await figures(id, publisher.token)).json()).toMatchObject({ total: 0, expected: 0, overTime: [] });
    expect((await figures(id, reader.token)).statusCode).toBe(403);
    const hidden = await figures(id, outsider.token);
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json().error).toEqual((await figures(randomUUID(), outsider.token)).json().error);
  });
});

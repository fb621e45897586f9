import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import {
  canonicalJson,
  deleteExpiredIdempotencyKeys,
  IDEMPOTENCY_KEY_TTL_MS,
  requestFingerprint,
} from '../../src/services/idempotency.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, grantRole, type TestChannel, tokenFor } from '../helpers/factories.js';

let ctx: TestContext;
let app: FastifyInstance;
let channel: TestChannel;
let otherChannel: TestChannel;
let publisherId: string;
let publisherToken: string;
let secondPublisherToken: string;
let readerToken: string;

beforeAll(async () => {
  ctx = await createTestContext();
  app = await buildApp(ctx.deps, { logger: false });
  const db = ctx.deps.db;
  channel = await createChannel(db, { slug: 'idem', visibility: 'public' });
  otherChannel = await createChannel(db, { slug: 'idem-annen', visibility: 'public' });
  const publisher = await createUser(db);
  publisherId = publisher.id;
  await grantRole(db, channel.id, publisher.id, 'publisher');
  await grantRole(db, otherChannel.id, publisher.id, 'publisher');
  publisherToken = await tokenFor(db, publisher.id);
  const second = await createUser(db);
  await grantRole(db, channel.id, second.id, 'publisher');
  secondPublisherToken = await tokenFor(db, second.id);
  readerToken = await tokenFor(db, (await createUser(db)).id);
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

function publish(payload: Record<string, unknown>, key?: string, token = publisherToken, slug = channel.slug) {
  return app.inject({
    method: 'POST',
    url: `/api/v1/channels/${slug}/announcements`,
    headers: { authorization: `Bearer ${token}`, ...(key === undefined ? {} : { 'idempotency-key': key }) },
    payload,
  });
}

/** Announcements, outbox events and publish audit records of one title: what a publication leaves behind. */
async function traces(title: string) {
  const db = ctx.deps.db;
  const announcements = await db.announcement.findMany({ where: { title } });
  const ids = announcements.map((a) => a.id);
  return {
    announcements: announcements.length,
    events: await db.outboxEvent.count({ where: { aggregateId: { in: ids } } }),
    audits: await db.auditLog.count({ where: { action: 'announcement.publish', targetId: { in: ids } } }),
  };
}

describe('Idempotency-Key on POST /api/v1/channels/:slug/announcements', () => {
  it('replays the first response for the same key and body, and publishes once', async () => {
    const key = randomUUID();
    const payload = { title: 'Én gang', body: 'Kun **én** kunngjøring.', importance: 'important' };
    const first = await publish(payload, key);
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();

    // Key order of the body does not matter: the fingerprint is of the canonical JSON.
    const again = await publish({ importance: 'important', body: payload.body, title: payload.title }, key);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers.location).toBe(first.headers.location);
    expect(again.json()).toEqual(first.json());
    expect(await traces('Én gang')).toEqual({ announcements: 1, events: 1, audits: 1 });
  });

  it('refuses the same key with another body or another channel (422 idempotency_key_reused), creating nothing', async () => {
    const key = randomUUID();
    expect((await publish({ title: 'Original', body: 'Tekst.' }, key)).statusCode).toBe(201);

    const otherBody = await publish({ title: 'Original', body: 'Annen tekst.' }, key);
    expect(otherBody.statusCode).toBe(422);
    expect(otherBody.json()).toMatchObject({ error: { code: 'idempotency_key_reused' } });
    const otherSlug = await publish({ title: 'Original', body: 'Tekst.' }, key, publisherToken, otherChannel.slug);
    expect(otherSlug.statusCode).toBe(422);
    expect(otherSlug.json().error.code).toBe('idempotency_key_reused');
    expect(await traces('Original')).toEqual({ announcements: 1, events: 1, audits: 1 });
  });

  it('keeps keys per user: another user with the same key publishes their own announcement', async () => {
    const key = randomUUID();
    const payload = { title: 'Per bruker', body: 'Tekst.' };
    const mine = await publish(payload, key);
    const theirs = await publish(payload, key, secondPublisherToken);
    expect([mine.statusCode, theirs.statusCode]).toEqual([201, 201]);
    expect(theirs.headers['idempotent-replayed']).toBeUndefined();
    expect(theirs.json().id).not.toBe(mine.json().id);
    expect(await traces('Per bruker')).toEqual({ announcements: 2, events: 2, audits: 2 });
  });

  it('creates the announcement once when five identical requests race, and all five get the same body', async () => {
    const key = randomUUID();
    const payload = { title: 'Kappløp', body: 'Fem samtidige forsøk.' };
    const responses = await Promise.all(Array.from({ length: 5 }, () => publish(payload, key)));
    expect(responses.map((r) => r.statusCode)).toEqual([201, 201, 201, 201, 201]);
    const bodies = responses.map((r) => r.json());
    for (const body of bodies) expect(body).toEqual(bodies[0]);
    expect(responses.filter((r) => r.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
    expect(await traces('Kappløp')).toEqual({ announcements: 1, events: 1, audits: 1 });
    expect(await ctx.deps.db.idempotencyKey.count({ where: { userId: publisherId, key } })).toBe(1);
  });

  it('does not remember refused requests: a corrected retry with the same key publishes', async () => {
    const key = randomUUID();
    const refused = await publish({ title: 'Nektet', body: 'Tekst.' }, key, readerToken);
    expect(refused.statusCode).toBe(403);
    const blank = await publish({ title: 'Tom', body: ' ' }, key);
    expect(blank.statusCode).toBe(400);
    const corrected = await publish({ title: 'Rettet', body: 'Nå med tekst.' }, key);
    expect(corrected.statusCode).toBe(201);
    expect(corrected.headers['idempotent-replayed']).toBeUndefined();
  });

  it('rejects a key that is empty, too long or not printable ASCII (400), and works without a key as before', async () => {
    for (const bad of ['', 'k'.repeat(201), 'nøkkel', 'tab\there']) {
      const response = await publish({ title: 'Ugyldig nøkkel', body: 'Tekst.' }, bad);
      expect(response.statusCode, JSON.stringify(bad)).toBe(400);
      expect(response.json().error.code).toBe('validation_failed');
    }
    expect((await publish({ title: 'Ugyldig nøkkel', body: 'Tekst.' }, 'k'.repeat(200))).statusCode).toBe(201);
    const without = [
      await publish({ title: 'Uten nøkkel', body: 'Tekst.' }),
      await publish({ title: 'Uten nøkkel', body: 'Tekst.' }),
    ];
    expect(without.map((r) => r.statusCode)).toEqual([201, 201]);
    expect((await traces('Uten nøkkel')).announcements).toBe(2);
  });

  it('forgets a key after 24 hours: an expired key publishes anew, and the sweep deletes only expired keys', async () => {
    const db = ctx.deps.db;
    const key = randomUUID();
    const payload = { title: 'Utløpt', body: 'Tekst.' };
    const first = await publish(payload, key);
    const expired = new Date(Date.now() - IDEMPOTENCY_KEY_TTL_MS - 60_000);
    await db.idempotencyKey.update({
      where: { userId_key: { userId: publisherId, key } },
      data: { createdAt: expired },
    });

    const afterExpiry = await publish(payload, key);
    expect(afterExpiry.statusCode).toBe(201);
    expect(afterExpiry.headers['idempotent-replayed']).toBeUndefined();
    expect(afterExpiry.json().id).not.toBe(first.json().id);
    expect((await traces('Utløpt')).announcements).toBe(2);

    const stale = randomUUID();
    await publish({ title: 'Gammel', body: 'Tekst.' }, stale);
    await db.idempotencyKey.update({
      where: { userId_key: { userId: publisherId, key: stale } },
      data: { createdAt: expired },
    });
    const live = await db.idempotencyKey.count();
    expect(await deleteExpiredIdempotencyKeys(db)).toBe(1);
    expect(await db.idempotencyKey.count()).toBe(live - 1);
    expect(await db.idempotencyKey.count({ where: { key: stale } })).toBe(0);
  });

  it('documents the header in the OpenAPI document', async () => {
    const spec = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    const operation = spec.paths['/api/v1/channels/{slug}/announcements'].post;
    expect(operation.parameters).toContainEqual(
      expect.objectContaining({ in: 'header', name: 'idempotency-key', required: false }),
    );
    expect(operation.responses).toHaveProperty('422');
  });
});

describe('request fingerprint', () => {
  it('is the same for equal values in any key order, and differs for another channel or body', () => {
    expect(canonicalJson({ b: [1, { d: 2, c: 3 }], a: 'x' })).toBe('{"a":"x","b":[1,{"c":3,"d":2}]}');
    const base = requestFingerprint('kanal', { title: 'T', body: 'B' });
    expect(requestFingerprint('kanal', { body: 'B', title: 'T' })).toBe(base);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(requestFingerprint('annen', { title: 'T', body: 'B' })).not.toBe(base);
    expect(requestFingerprint('kanal', { title: 'T', body: 'B2' })).not.toBe(base);
  });
});

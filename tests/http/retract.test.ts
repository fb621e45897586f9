/**
 * POST /api/v1/announcements/:id/retract: who may, what it changes (status, retractedAt, one outbox event, one audit
 * record), where the announcement disappears, the Atom tombstone's time, and the live frame the outbox relay sends.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import type { FanoutJob } from '../../src/queue/jobs.js';
import { ANNOUNCEMENT_PUBLISHED } from '../../src/services/publish.js';
import { ANNOUNCEMENT_RETRACTED } from '../../src/services/retract.js';
import { createOutboxRelay } from '../../workers/outbox-relay.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { silentLogger } from '../helpers/delivery.js';
import { createChannel, createUser, grantRole, type TestChannel, tokenFor } from '../helpers/factories.js';
import { LiveClient } from '../helpers/live-client.js';

let ctx: TestContext;
let app: FastifyInstance;
let liveUrl: string;
let channel: TestChannel;
let restricted: TestChannel;
let publisherToken: string;
let adminToken: string;
let readerToken: string;
const clients: LiveClient[] = [];

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  ctx = await createTestContext();
  app = await buildApp(ctx.deps, { logger: false });
  const db = ctx.deps.db;
  channel = await createChannel(db, { slug: 'trekk', visibility: 'public' });
  restricted = await createChannel(db, { slug: 'trekk-lukket', visibility: 'restricted' });
  const publisher = await createUser(db);
  await grantRole(db, channel.id, publisher.id, 'publisher');
  await grantRole(db, restricted.id, publisher.id, 'publisher');
  publisherToken = await tokenFor(db, publisher.id);
  adminToken = await tokenFor(db, (await createUser(db, { isAdmin: true })).id);
  readerToken = await tokenFor(db, (await createUser(db, { organisationCode: 'UiB' })).id);
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  await app.liveHub.start();
  liveUrl = `${address.replace(/^http/, 'ws')}/api/v1/live`;
});

afterAll(async () => {
  for (const client of clients) client.close();
  await app?.close();
  await ctx?.close();
});

async function publish(title: string, slug = channel.slug): Promise<string> {
  const response = await app.inject({
    method: 'POST',
    url: `/api/v1/channels/${slug}/announcements`,
    headers: bearer(publisherToken),
    payload: { title, body: 'Tekst.' },
  });
  expect(response.statusCode).toBe(201);
  return response.json().id;
}

function retract(id: string, token?: string) {
  return app.inject({
    method: 'POST',
    url: `/api/v1/announcements/${id}/retract`,
    headers: token ? bearer(token) : {},
  });
}

const eventsOf = (id: string) =>
  ctx.deps.db.outboxEvent.findMany({ where: { aggregateId: id }, orderBy: { id: 'asc' }, select: { type: true } });

describe('POST /api/v1/announcements/:id/retract', () => {
  it('retracts: status retracted, retractedAt set, one outbox event and one audit record, in one go', async () => {
    const id = await publish('Feil dato');
    const before = Date.now();
    const response = await retract(id, publisherToken);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ id, channel: channel.slug, status: 'retracted', title: 'Feil dato' });
    const row = await ctx.deps.db.announcement.findUniqueOrThrow({ where: { id } });
    expect(row.status).toBe('retracted');
    expect(row.retractedAt!.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect((await eventsOf(id)).map((e) => e.type)).toEqual([ANNOUNCEMENT_PUBLISHED, ANNOUNCEMENT_RETRACTED]);
    expect(
      await ctx.deps.db.auditLog.count({ where: { action: 'announcement.retract', targetId: id, outcome: 'success' } }),
    ).toBe(1);
  });

  it('is idempotent: retracting again (also concurrently) answers 200 and writes one event', async () => {
    const id = await publish('To ganger');
    const responses = await Promise.all([
      retract(id, publisherToken),
      retract(id, adminToken),
      retract(id, adminToken),
    ]);
    expect(responses.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    const again = await retract(id, publisherToken);
    expect(again.statusCode).toBe(200);
    expect(again.json().status).toBe('retracted');
    expect((await eventsOf(id)).filter((e) => e.type === ANNOUNCEMENT_RETRACTED)).toHaveLength(1);
    expect(await ctx.deps.db.auditLog.count({ where: { action: 'announcement.retract', targetId: id } })).toBe(1);
  });

  it('refuses readers (403), hides restricted channels and unknown ids alike (404), needs a token (401)', async () => {
    const id = await publish('Beskyttet');
    expect((await retract(id, readerToken)).statusCode).toBe(403);
    const hidden = await publish('Lukket', restricted.slug);
    const hiddenAnswer = await retract(hidden, readerToken);
    const missingAnswer = await retract(randomUUID(), readerToken);
    expect(hiddenAnswer.statusCode).toBe(404);
    expect(hiddenAnswer.json().error).toEqual(missingAnswer.json().error);
    expect((await retract(id)).statusCode).toBe(401);
    expect((await retract('not-a-uuid', publisherToken)).statusCode).toBe(400);
    expect((await ctx.deps.db.announcement.findUniqueOrThrow({ where: { id } })).status).toBe('published');
  });

  it('answers 409 for a draft', async () => {
    const draft = await ctx.deps.db.announcement.create({
      data: { channelId: channel.id, title: 'Utkast', body: 'Tekst', status: 'draft' },
    });
    const response = await retract(draft.id, publisherToken);
    expect(response.statusCode).toBe(409);
    expect(response.json().error.code).toBe('conflict');
  });

  it('removes it from reads, lists and search; Atom keeps a tombstone dated retractedAt', async () => {
    const id = await publish('Forsvinner snart');
    const kept = await publish('Blir værende');
    // Make the last change later than the retraction, so the tombstone's time can only come from retractedAt.
    expect((await retract(id, publisherToken)).statusCode).toBe(200);
    const retractedAt = new Date('2026-01-02T03:04:05Z');
    await ctx.deps.db.announcement.update({ where: { id }, data: { retractedAt } });

    expect((await app.inject({ method: 'GET', url: `/api/v1/announcements/${id}` })).statusCode).toBe(404);
    const list = (await app.inject({ method: 'GET', url: `/api/v1/channels/${channel.slug}/announcements` })).json();
    const listed = list.items.map((item: { id: string }) => item.id);
    expect(listed).toContain(kept);
    expect(listed).not.toContain(id);
    const search = (await app.inject({ method: 'GET', url: '/api/v1/search?q=Forsvinner' })).json();
    expect(search.items.map((item: { id: string }) => item.id)).not.toContain(id);

    const atom = (await app.inject({ method: 'GET', url: `/feeds/channels/${channel.slug}.atom` })).body;
    expect(atom).toContain(`ref="urn:uuid:${id}" when="2026-01-02T03:04:05Z"`);
  });
});

describe('the outbox relay and live clients', () => {
  it('sends a subscribed socket an announcement.retracted frame, and queues the retraction notices, no fan-out', async () => {
    const client = await LiveClient.connect(liveUrl);
    clients.push(client);
    client.send({ type: 'subscribe', channels: [channel.slug] });
    await client.frame((f) => f.type === 'subscribed', 'the subscribe answer');

    const queued: { name: string; data: FanoutJob }[] = [];
    const relay = createOutboxRelay({
      db: ctx.deps.db,
      fanoutQueue: {
        addBulk: async (jobs) => {
          queued.push(...jobs.map((job) => ({ name: job.name, data: job.data })));
          return [];
        },
      },
      scheduledQueue: ctx.deps.queues.scheduled,
      publisher: ctx.deps.redis,
      redisPrefix: ctx.config.redis.prefix,
      databaseUrl: ctx.config.database.url,
      publicUrl: ctx.config.http.publicUrl,
      pollMs: 600_000,
      logger: silentLogger,
    });
    // Everything written so far (earlier tests) goes first, so what follows is this test's alone.
    while ((await relay.relayOnce()) > 0);
    queued.length = 0;

    const id = await publish('Live og trukket');
    await relay.relayOnce();
    await client.frame((f) => f.type === 'announcement.published' && f.announcement.id === id, 'the publication');
    expect(queued).toEqual([{ name: 'fanout', data: { announcementId: id } }]);

    expect((await retract(id, publisherToken)).statusCode).toBe(200);
    expect(await relay.relayOnce()).toBe(1);
    const frame = await client.frame(
      (f) => f.type === 'announcement.retracted' && f.announcementId === id,
      'the retraction',
    );
    const [event] = await ctx.deps.db.outboxEvent.findMany({
      where: { aggregateId: id, type: ANNOUNCEMENT_RETRACTED },
    });
    expect(frame).toEqual({
      type: 'announcement.retracted',
      eventId: String(event!.id),
      channelId: channel.id,
      channel: channel.slug,
      announcementId: id,
    });
    // No second fan-out: the retraction adds only the job of its notices to those who were sent it by e-mail
    // (workers/processors/notices.ts).
    expect(queued).toEqual([
      { name: 'fanout', data: { announcementId: id } },
      { name: 'retraction', data: { announcementId: id } },
    ]);
    expect(await ctx.deps.db.outboxEvent.count({ where: { relayedAt: null } })).toBe(0);
  });
});

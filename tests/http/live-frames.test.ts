/**
 * Reader changes reach the same user's other live connections in every API process (two apps here, each with its own
 * hub, sharing Redis), over both transports; and the frames as the OpenAPI document describes them: the two live
 * routes, and every frame these tests receive — of every type — checked against the document's LiveServerFrame, so the
 * document and the wire cannot drift apart unnoticed.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/domain/types.js';
import { buildApp } from '../../src/http/app.js';
import { publishAnnouncement } from '../../src/services/publish.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, type TestUser, tokenFor } from '../helpers/factories.js';
import { type Frame, LiveClient } from '../helpers/live-client.js';
import { headPosition, relayAll } from '../helpers/live-relay.js';
import { validatorOfDocument } from '../helpers/openapi-frames.js';
import { SseClient } from '../helpers/sse-client.js';

let ctx: TestContext;
let appA: FastifyInstance;
let appB: FastifyInstance;
let baseA: string;
let baseB: string;
let reader: TestUser;
let readerToken: string;
let otherToken: string;
let publishOnlyToken: string;
let publisher: Actor;
let channel: { id: string; slug: string };
// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document walked generically
let doc: any;
const clients: { close(): void }[] = [];
/** Every frame any connection of this file received, to check against the document at the end. */
const received: Frame[][] = [];

async function listen(app: FastifyInstance): Promise<string> {
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  await app.liveHub.start();
  return base;
}

async function socket(base: string, token?: string): Promise<LiveClient> {
  const client = await LiveClient.connect(`${base.replace('http', 'ws')}/api/v1/live`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  clients.push(client);
  received.push(client.frames);
  return client;
}

async function stream(base: string, query: string, token?: string): Promise<SseClient> {
  const client = await SseClient.connect(
    `${base}/api/v1/live/sse?${query}`,
    token ? { authorization: `Bearer ${token}` } : {},
  );
  clients.push(client);
  received.push(client.frames);
  return client;
}

async function announce(title: string, ackRequired = false): Promise<string> {
  const view = await publishAnnouncement(
    { db: ctx.deps.db, publicUrl: ctx.config.http.publicUrl },
    publisher,
    channel.slug,
    { title, body: 'Tekst.', ...(ackRequired ? { acknowledgement: { required: true } } : {}) },
  );
  await relayAll(ctx);
  return view.id;
}

function call(app: FastifyInstance, method: 'PUT' | 'DELETE' | 'POST', url: string, token: string, payload?: object) {
  return app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/json' } : {}) },
    ...(payload ? { payload } : {}),
  });
}

beforeAll(async () => {
  ctx = await createTestContext();
  const db = ctx.deps.db;
  const admin = await createUser(db, { isAdmin: true });
  publisher = { kind: 'user', userId: admin.id, isAdmin: true, organisationId: null, scopes: ['read', 'publish'] };
  channel = await createChannel(db, { visibility: 'public' });
  reader = await createUser(db);
  readerToken = await tokenFor(db, reader.id, { scopes: ['read'] });
  publishOnlyToken = await tokenFor(db, reader.id, { scopes: ['publish'] });
  otherToken = await tokenFor(db, (await createUser(db)).id, { scopes: ['read'] });
  appA = await buildApp(ctx.deps, { logger: false });
  appB = await buildApp(ctx.deps, { logger: false });
  baseA = await listen(appA);
  baseB = await listen(appB);
  doc = (await appA.inject({ method: 'GET', url: '/api/openapi.json' })).json();
});

afterAll(async () => {
  for (const client of clients) client.close();
  await appA?.close();
  await appB?.close();
  await ctx?.close();
});

describe('reader changes', () => {
  it("reach the user's WebSockets and event streams in every API process, once committed", async () => {
    const id = await announce('Les meg');
    const onA = await socket(baseA, readerToken);
    const onB = await stream(baseB, `channels=${channel.slug}`, readerToken);
    const other = await socket(baseB, otherToken);
    const publishOnly = await socket(baseB, publishOnlyToken);
    await onB.frame((f) => f.type === 'subscribed', 'the stream subscribed');

    // Marked read through process A: both of the reader's connections hear of it, in both processes, whatever they
    // watch (the socket on A watches no channel at all).
    expect((await call(appA, 'PUT', `/api/v1/me/reads/${id}`, readerToken)).statusCode).toBe(204);
    const expected = { type: 'read.changed', read: true, announcementIds: [id], channel: channel.slug };
    expect(await onA.frame((f) => f.type === 'read.changed', 'read on A')).toEqual(expected);
    expect(await onB.frame((f) => f.type === 'read.changed', 'read on B')).toEqual(expected);

    // Marking it read again changes nothing, and says nothing; unread does.
    expect((await call(appB, 'PUT', `/api/v1/me/reads/${id}`, readerToken)).statusCode).toBe(204);
    expect((await call(appB, 'DELETE', `/api/v1/me/reads/${id}`, readerToken)).statusCode).toBe(204);
    const unread = await onA.frame((f) => f.type === 'read.changed' && f.read === false, 'unread on A');
    expect(unread).toEqual({ ...expected, read: false });
    await onB.frame((f) => f.type === 'read.changed' && f.read === false, 'unread on B');
    expect(onA.ofType('read.changed')).toHaveLength(2);

    // Everything of the channel read.
    const all = await call(appA, 'POST', '/api/v1/me/reads', readerToken, { channel: channel.slug });
    expect(all.statusCode).toBe(200);
    expect(await onB.frame((f) => f.all === true, 'all read on B')).toEqual({
      type: 'read.changed',
      read: true,
      all: true,
      channel: channel.slug,
    });
    await onA.frame((f) => f.all === true, 'all read on A');

    // An acknowledgement, the first time only.
    const ackId = await announce('Stadfest at du har lese dette', true);
    const acked = await call(appB, 'POST', `/api/v1/announcements/${ackId}/acknowledgement`, readerToken);
    expect(acked.statusCode).toBe(201);
    const frame = await onA.frame((f) => f.type === 'acknowledged', 'acknowledged on A');
    expect(frame).toEqual({
      type: 'acknowledged',
      announcementId: ackId,
      channel: channel.slug,
      acknowledgedAt: acked.json().acknowledgedAt,
    });
    await onB.frame((f) => f.type === 'acknowledged', 'acknowledged on B');
    expect((await call(appA, 'POST', `/api/v1/announcements/${ackId}/acknowledgement`, readerToken)).statusCode).toBe(
      200,
    );

    // A barrier: a frame every connection gets after all of the above, then check who got what.
    for (const client of [other, publishOnly]) client.send({ type: 'ping' });
    await other.frame((f) => f.type === 'pong', 'pong');
    await publishOnly.frame((f) => f.type === 'pong', 'pong');
    expect(onA.ofType('acknowledged')).toHaveLength(1);
    // Another user's connection, and a connection of the same user with a token that cannot read, get none of it.
    expect(other.frames.map((f) => f.type)).toEqual(['pong']);
    expect(publishOnly.frames.map((f) => f.type)).toEqual(['pong']);
  });
});

describe('the frames in the OpenAPI document', () => {
  it('documents the WebSocket upgrade with its refusals and the event stream with its media type', () => {
    const ws = doc.paths['/api/v1/live'].get;
    expect(ws).toMatchObject({ operationId: 'openLiveConnection', tags: ['live'], security: [{ bearerAuth: [] }, {}] });
    expect(ws.responses['101'].description).toMatch(/WebSocket/);
    for (const status of ['400', '401', '403', '429']) {
      expect(ws.responses[status].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
    }
    const sse = doc.paths['/api/v1/live/sse'].get;
    expect(sse.operationId).toBe('openLiveEventStream');
    expect(Object.keys(sse.responses['200'].content)).toEqual(['text/event-stream']);
    expect(sse.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`).sort()).toEqual(
      ['header:last-event-id', 'query:channels', 'query:lang', 'query:since', 'query:ticket'].sort(),
    );
    for (const name of ['LiveServerFrame', 'LiveClientFrame', 'LiveResetFrame', 'LiveAnnouncement']) {
      expect(doc.components.schemas, name).toHaveProperty(name);
    }
  });

  it('describes every frame connections are sent, of every type', async () => {
    // More frame types than the test above produced: replayed, reset, announcements of all three kinds, errors.
    const id = await announce('Endra og trekt');
    const since = await headPosition(ctx.deps.db);
    await ctx.deps.db.$transaction(async (tx) => {
      const row = await tx.announcement.update({ where: { id }, data: { revision: 2, editedAt: new Date() } });
      await tx.outboxEvent.create({
        data: {
          type: 'announcement.updated',
          channelId: row.channelId,
          aggregateId: id,
          payload: { announcementId: id, revision: 2, material: true },
        },
      });
    });
    await relayAll(ctx);
    const replaying = await socket(baseA);
    replaying.send({ type: 'subscribe', channels: [channel.slug, 'finst-ikkje'], since });
    await replaying.frame((f) => f.type === 'replayed', 'replayed');
    const resetting = await stream(baseB, `channels=${channel.slug}&since=${BigInt(since) + 10_000n}`);
    await resetting.frame((f) => f.type === 'reset', 'reset');
    replaying.send('not json');
    replaying.send({ type: 'unsubscribe', channels: [channel.slug] });
    await replaying.frame((f) => f.type === 'unsubscribed', 'unsubscribed');
    const live = await socket(baseB);
    live.send({ type: 'subscribe', channels: [channel.slug] });
    await live.frame((f) => f.type === 'subscribed', 'subscribed');
    await ctx.deps.db.$transaction(async (tx) => {
      await tx.announcement.update({ where: { id }, data: { status: 'retracted', retractedAt: new Date() } });
      await tx.outboxEvent.create({
        data: {
          type: 'announcement.retracted',
          channelId: channel.id,
          aggregateId: id,
          payload: { announcementId: id },
        },
      });
    });
    await announce('Ny');
    await live.frame((f) => f.type === 'announcement.published', 'a publication');

    const validate = validatorOfDocument(doc, 'LiveServerFrame');
    const frames = received.flat();
    const types = new Set(frames.map((f) => f.type));
    for (const type of [
      'subscribed',
      'unsubscribed',
      'replayed',
      'reset',
      'announcement.published',
      'announcement.updated',
      'announcement.retracted',
      'read.changed',
      'acknowledged',
      'pong',
      'error',
    ]) {
      expect(types, type).toContain(type);
    }
    for (const frame of frames) expect(validate(frame), JSON.stringify(frame).slice(0, 300)).toEqual([]);
    // And the document refuses what is not a frame.
    expect(validate({ type: 'replayed', channels: [], count: 0, truncated: false })).not.toEqual([]);
    expect(validate({ type: 'announcement.retracted', eventId: 12, channelId: channel.id })).not.toEqual([]);
  });
});

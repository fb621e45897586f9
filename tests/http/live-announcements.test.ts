/**
 * Announcements in full on the live WebSocket: organisation audiences (live and on replay), the socket's language,
 * `announcement.updated` frames, and replays that carry edits and retractions. Real `ws` clients against a listening
 * server, the real outbox relay publishing through real Redis, and replays read from real PostgreSQL. Test data is
 * written with Prisma directly (an announcement row and its outbox event in one transaction, as the services do).
 */

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Language } from '../../src/domain/types.js';
import { buildApp } from '../../src/http/app.js';
import { announceAccessChange } from '../../src/realtime/access-hints.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, grantRole, type TestUser, tokenFor } from '../helpers/factories.js';
import { type Frame, LiveClient } from '../helpers/live-client.js';
import { headPosition, relayAll as relayEverything } from '../helpers/live-relay.js';
import { waitFor } from '../helpers/wait.js';

let ctx: TestContext;
let app: FastifyInstance;
let url: string;
let channel: { id: string; slug: string };
let uio: TestUser;
let ntnu: TestUser;
let publisher: TestUser;
const tokens = new Map<TestUser, string>();
const clients: LiveClient[] = [];

beforeAll(async () => {
  ctx = await createTestContext();
  const db = ctx.deps.db;
  uio = await createUser(db, { organisationCode: 'UiO' });
  ntnu = await createUser(db, { organisationCode: 'NTNU' });
  // A publisher from outside the audience: editors see every announcement of their channel.
  publisher = await createUser(db, { organisationCode: 'NTNU' });
  channel = await createChannel(db, { visibility: 'public' });
  await grantRole(db, channel.id, publisher.id, 'publisher');
  for (const user of [uio, ntnu, publisher]) tokens.set(user, await tokenFor(db, user.id));

  app = await buildApp(ctx.deps, { logger: false });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  // Events published before the hub's Redis subscription is confirmed would not be seen.
  await app.liveHub.start();
  url = `${address.replace(/^http/, 'ws')}/api/v1/live`;
});

afterAll(async () => {
  for (const client of clients) client.close();
  await app?.close();
  await ctx?.close();
});

interface Connect {
  as?: TestUser;
  query?: string;
  headers?: Record<string, string>;
}

async function connect(options: Connect = {}): Promise<LiveClient> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.as) headers.authorization = `Bearer ${tokens.get(options.as)}`;
  const client = await LiveClient.connect(options.query ? `${url}?${options.query}` : url, { headers });
  clients.push(client);
  return client;
}

/** Opens a socket and subscribes to the test channel (with `since`: waits for the end of the replay). */
async function watching(options: Connect & { since?: string } = {}): Promise<LiveClient> {
  const client = await connect(options);
  client.send({ type: 'subscribe', channels: [channel.slug], ...(options.since ? { since: options.since } : {}) });
  await client.frame((f) => f.type === 'subscribed', 'the subscribe answer');
  if (options.since) await client.frame((f) => f.type === 'replayed', 'the end of the replay');
  return client;
}

/** The newest position of the live log: a `since` that means "I have everything until now". */
async function lastEventId(): Promise<string> {
  return headPosition(ctx.deps.db);
}

/**
 * Relays everything written so far (the outbox relay gives each live event its position and publishes it) and
 * returns the position of the outbox row `outboxId`: the eventId clients see for it.
 */
async function relayed(outboxId: bigint): Promise<string> {
  await relayAll();
  const row = await ctx.deps.db.outboxEvent.findUniqueOrThrow({ where: { id: outboxId } });
  if (row.position === null) throw new Error(`outbox event ${outboxId} has no position after the relay`);
  return String(row.position);
}

async function organisationId(user: TestUser): Promise<string> {
  if (!user.organisationId) throw new Error('the user has no organisation');
  return user.organisationId;
}

/** A published announcement (bokmål original, optional translations and audience) and its outbox event. */
async function announce(
  title: string,
  options: {
    audience?: TestUser[];
    translations?: { language: Language; title: string }[];
    expiresAt?: Date;
  } = {},
): Promise<{ id: string; eventId: string }> {
  const audienceOrganisationIds = await Promise.all((options.audience ?? []).map(organisationId));
  const written = await ctx.deps.db.$transaction(async (tx) => {
    const announcement = await tx.announcement.create({
      data: {
        channelId: channel.id,
        authorId: publisher.id,
        title,
        body: `Tekst: ${title}`,
        language: 'nb',
        status: 'published',
        publishedAt: new Date(),
        audienceOrganisationIds,
        expiresAt: options.expiresAt ?? null,
        translations: {
          create: (options.translations ?? []).map((t) => ({ ...t, body: `Text: ${t.title}` })),
        },
      },
    });
    const event = await tx.outboxEvent.create({
      data: {
        type: 'announcement.published',
        channelId: channel.id,
        aggregateId: announcement.id,
        payload: { announcementId: announcement.id },
      },
    });
    return { id: announcement.id, outboxId: event.id };
  });
  return { id: written.id, eventId: await relayed(written.outboxId) };
}

/** An edit of a published announcement, as the authoring service records it. Returns the event id. */
async function edit(id: string, title: string, material: boolean, audience?: TestUser[]): Promise<string> {
  const audienceOrganisationIds = audience ? await Promise.all(audience.map(organisationId)) : undefined;
  const outboxId = await ctx.deps.db.$transaction(async (tx) => {
    const row = await tx.announcement.update({
      where: { id },
      data: {
        title,
        revision: { increment: 1 },
        editedAt: new Date(),
        ...(audienceOrganisationIds ? { audienceOrganisationIds } : {}),
      },
    });
    const event = await tx.outboxEvent.create({
      data: {
        type: 'announcement.updated',
        channelId: row.channelId,
        aggregateId: id,
        payload: { announcementId: id, revision: row.revision, material },
      },
    });
    return event.id;
  });
  return relayed(outboxId);
}

async function retract(id: string): Promise<string> {
  const outboxId = await ctx.deps.db.$transaction(async (tx) => {
    const row = await tx.announcement.update({
      where: { id },
      data: { status: 'retracted', retractedAt: new Date() },
    });
    const event = await tx.outboxEvent.create({
      data: {
        type: 'announcement.retracted',
        channelId: row.channelId,
        aggregateId: id,
        payload: { announcementId: id },
      },
    });
    return event.id;
  });
  return relayed(outboxId);
}

/** The worker's outbox relay, draining everything written so far to Redis. */
async function relayAll(): Promise<void> {
  await relayEverything(ctx);
}

/** The announcement events a socket got (published, updated, retracted), in order. */
function events(client: LiveClient): Frame[] {
  return client.frames.filter((f) => String(f.type).startsWith('announcement.'));
}

/** `[type, announcement id]` of each announcement event a socket got. */
function seen(client: LiveClient): [string, string][] {
  return events(client).map((f) => [f.type, f.announcementId ?? f.announcement.id]);
}

/**
 * Waits until a socket got the event `eventId` (an announcement for everyone, sent after the ones a test asserts on:
 * a socket receives events in id order, so whatever it was to get before the barrier has arrived by then).
 */
async function barrier(client: LiveClient, eventId: string): Promise<void> {
  await client.frame((f) => f.eventId === eventId, `event ${eventId}`);
}

describe('audience', () => {
  it('sends an organisation-limited announcement to its members and the channel publisher only, live and on replay', async () => {
    const since = await lastEventId();
    const sockets = {
      uio: await watching({ as: uio }),
      publisher: await watching({ as: publisher }),
      ntnu: await watching({ as: ntnu }),
      anonymous: await watching(),
    };
    const limited = await announce('Berre for UiO', { audience: [uio] });
    const open = await announce('For alle');
    await relayAll();
    for (const socket of Object.values(sockets)) await barrier(socket, open.eventId);

    const both = [
      ['announcement.published', limited.id],
      ['announcement.published', open.id],
    ];
    const openOnly = [['announcement.published', open.id]];
    expect(seen(sockets.uio)).toEqual(both);
    expect(seen(sockets.publisher)).toEqual(both);
    expect(seen(sockets.ntnu)).toEqual(openOnly);
    expect(seen(sockets.anonymous)).toEqual(openOnly);
    // What decides it stays on the server.
    const frame = events(sockets.uio)[0]!;
    expect(frame).not.toHaveProperty('audienceOrganisationIds');
    expect(frame.announcement.audience).toEqual(['UiO']);

    // The same after a reconnect: the replay filters by audience too, and counts only what it sends.
    const replayed = {
      uio: await watching({ as: uio, since }),
      publisher: await watching({ as: publisher, since }),
      ntnu: await watching({ as: ntnu, since }),
      anonymous: await watching({ since }),
    };
    expect(seen(replayed.uio)).toEqual(both);
    expect(seen(replayed.publisher)).toEqual(both);
    expect(seen(replayed.ntnu)).toEqual(openOnly);
    expect(seen(replayed.anonymous)).toEqual(openOnly);
    expect(replayed.ntnu.ofType('replayed')[0]).toMatchObject({ count: 1 });
    expect(replayed.uio.ofType('replayed')[0]).toMatchObject({ count: 2 });
  });
});

describe('audience after an access change', () => {
  it('stops sending organisation-limited announcements to a publisher whose role was taken away', async () => {
    const former = await createUser(ctx.deps.db, { organisationCode: 'NTNU' });
    await grantRole(ctx.deps.db, channel.id, former.id, 'publisher');
    tokens.set(former, await tokenFor(ctx.deps.db, former.id));
    const socket = await watching({ as: former });
    const before = await announce('UiO, før', { audience: [uio] });
    const open = await announce('Alle, før');
    await relayAll();
    await barrier(socket, open.eventId);
    expect(seen(socket).map(([, id]) => id)).toEqual([before.id, open.id]);

    await ctx.deps.db.channelRole.delete({ where: { channelId_userId: { channelId: channel.id, userId: former.id } } });
    await announceAccessChange(ctx.deps.redis, ctx.config.redis.prefix, { userId: former.id });
    // The re-check the hint starts is not observable by itself (a public channel stays readable): probe with pairs
    // of announcements until one for UiO no longer arrives before the one for everyone that follows it.
    await waitFor(
      async () => {
        const limited = await announce('UiO, etter', { audience: [uio] });
        const barrierEvent = await announce('Alle, etter');
        await relayAll();
        await barrier(socket, barrierEvent.eventId);
        return !seen(socket).some(([, id]) => id === limited.id);
      },
      { what: 'the re-check to narrow what the socket is sent', intervalMs: 100 },
    );
    // Still subscribed: the channel is public, only the audience rule changed.
    expect(socket.ofType('unsubscribed')).toEqual([]);
  });
});

describe('language', () => {
  it('sends each socket its language: ?lang=, else the user’s language, else Accept-Language, else the original', async () => {
    await ctx.deps.db.user.update({ where: { id: ntnu.id }, data: { language: 'nn' } });
    const sockets = {
      nn: await watching({ query: 'lang=nn' }),
      // No English version: English readers get the original.
      en: await watching({ query: 'lang=en' }),
      nbByAcceptLanguage: await watching({ headers: { 'accept-language': 'nb-NO, en;q=0.5' } }),
      nnByUserSetting: await watching({ as: ntnu, headers: { 'accept-language': 'en' } }),
      // ?lang= wins over the user's setting.
      nbOverUserSetting: await watching({ as: ntnu, query: 'lang=nb' }),
      original: await watching(),
    };
    const since = await lastEventId();
    const translated = await announce('Driftsmelding', {
      translations: [{ language: 'nn', title: 'Driftsmelding (nn)' }],
    });
    const nnOnly = await announce('Berre på bokmål');
    await relayAll();
    for (const socket of Object.values(sockets)) await barrier(socket, nnOnly.eventId);

    const received = (client: LiveClient) =>
      events(client).map((f) => [f.announcement.language, f.announcement.title, f.announcement.languages]);
    expect(received(sockets.nn)).toEqual([
      ['nn', 'Driftsmelding (nn)', ['nb', 'nn']],
      // Nynorsk readers fall back to bokmål.
      ['nb', 'Berre på bokmål', ['nb']],
    ]);
    expect(received(sockets.nnByUserSetting)).toEqual(received(sockets.nn));
    for (const socket of [sockets.en, sockets.nbByAcceptLanguage, sockets.nbOverUserSetting, sockets.original]) {
      expect(received(socket)).toEqual([
        ['nb', 'Driftsmelding', ['nb', 'nn']],
        ['nb', 'Berre på bokmål', ['nb']],
      ]);
    }
    expect(events(sockets.nn)[0]!.announcement.bodyHtml).toContain('Text: Driftsmelding (nn)');
    expect(translated.id).toBe(events(sockets.nn)[0]!.announcement.id);

    // A replay is in the socket's language too.
    const replay = await watching({ query: 'lang=nn', since });
    expect(received(replay)).toEqual(received(sockets.nn));
  });

  it('refuses an unknown ?lang= with 400 before the upgrade', async () => {
    const refusal = await LiveClient.refused(`${url}?lang=de`);
    expect(refusal.status).toBe(400);
    expect(JSON.parse(refusal.body)).toMatchObject({ error: { code: 'validation_failed' } });
  });
});

describe('announcement.updated', () => {
  it('sends an edit as announcement.updated (material, revision, the announcement now) to its audience', async () => {
    const limited = await announce('Vedlikehald', {
      audience: [uio],
      translations: [{ language: 'en', title: 'Maintenance' }],
    });
    await relayAll();
    const sockets = {
      uio: await watching({ as: uio, query: 'lang=en' }),
      publisher: await watching({ as: publisher }),
      ntnu: await watching({ as: ntnu }),
    };
    const editId = await edit(limited.id, 'Vedlikehald flytta', true);
    const open = await announce('Etter endringa');
    await relayAll();
    for (const socket of Object.values(sockets)) await barrier(socket, open.eventId);

    const [update] = sockets.uio.ofType('announcement.updated');
    expect(update).toEqual({
      type: 'announcement.updated',
      eventId: editId,
      channelId: channel.id,
      channel: channel.slug,
      material: true,
      revision: 2,
      announcement: expect.objectContaining({ id: limited.id, language: 'en', title: 'Maintenance', revision: 2 }),
    });
    expect(sockets.publisher.ofType('announcement.updated')[0]).toMatchObject({
      eventId: editId,
      announcement: { language: 'nb', title: 'Vedlikehald flytta' },
    });
    expect(sockets.ntnu.ofType('announcement.updated')).toEqual([]);
  });
});

describe('an edit that moves the audience', () => {
  it('tells sockets it took the announcement from to remove it, and sends it to those it now reaches', async () => {
    const sockets = { uio: await watching({ as: uio }), ntnu: await watching({ as: ntnu }) };
    const moved = await announce('Først for UiO', { audience: [uio] });
    await relayAll();
    await barrier(sockets.uio, moved.eventId);
    const editId = await edit(moved.id, 'No for NTNU', true, [ntnu]);
    const open = await announce('Alle');
    await relayAll();
    for (const socket of Object.values(sockets)) await barrier(socket, open.eventId);

    expect(seen(sockets.uio)).toEqual([
      ['announcement.published', moved.id],
      ['announcement.retracted', moved.id],
      ['announcement.published', open.id],
    ]);
    expect(sockets.uio.ofType('announcement.retracted')[0]).toMatchObject({ eventId: editId, reason: 'audience' });
    expect(seen(sockets.ntnu)).toEqual([
      ['announcement.updated', moved.id],
      ['announcement.published', open.id],
    ]);
    expect(sockets.ntnu.ofType('announcement.updated')[0]!.announcement).toMatchObject({
      title: 'No for NTNU',
      audience: ['NTNU'],
    });
  });
});

describe('replay', () => {
  it('replays publications, edits (the announcement now) and retractions after `since`, in event order, by audience', async () => {
    const retractedLater = await announce('Trekt seinare');
    const editedLater = await announce('Endra seinare');
    const limitedRetracted = await announce('UiO, trekt seinare', { audience: [uio] });
    await relayAll();
    const since = await lastEventId();

    const retraction = await retract(retractedLater.id);
    const firstEdit = await edit(editedLater.id, 'Endra ein gong', false);
    const limitedRetraction = await retract(limitedRetracted.id);
    const secondEdit = await edit(editedLater.id, 'Endra to gonger', true);
    const fresh = await announce('Ny etter since');
    await relayAll();

    const uioSocket = await watching({ as: uio, since });
    const ntnuSocket = await watching({ as: ntnu, since });
    expect(events(uioSocket).map((f) => [f.eventId, f.type])).toEqual([
      [retraction, 'announcement.retracted'],
      [firstEdit, 'announcement.updated'],
      [limitedRetraction, 'announcement.retracted'],
      [secondEdit, 'announcement.updated'],
      [fresh.eventId, 'announcement.published'],
    ]);
    // An NTNU reader never had the UiO announcement: its retraction is not theirs either.
    expect(events(ntnuSocket).map((f) => f.eventId)).toEqual([retraction, firstEdit, secondEdit, fresh.eventId]);

    const [retracted] = uioSocket.ofType('announcement.retracted');
    expect(retracted).toEqual({
      type: 'announcement.retracted',
      eventId: retraction,
      channelId: channel.id,
      channel: channel.slug,
      announcementId: retractedLater.id,
    });
    // Each edit replays with its own revision and materiality, and the announcement as it is now.
    expect(uioSocket.ofType('announcement.updated').map((f) => [f.revision, f.material, f.announcement.title])).toEqual(
      [
        [2, false, 'Endra to gonger'],
        [3, true, 'Endra to gonger'],
      ],
    );
    expect(uioSocket.ofType('replayed')[0]).toMatchObject({ count: 5 });
  });

  it('never sends an expired announcement: not live, not on replay, not its edits', async () => {
    const since = await lastEventId();
    const socket = await watching({ as: uio });
    const expired = await announce('Alt ute', { expiresAt: new Date(Date.now() - 1000) });
    const expiringSoon = await announce('Går snart ut', { expiresAt: new Date(Date.now() + 60_000) });
    const open = await announce('Står');
    await relayAll();
    await barrier(socket, open.eventId);
    expect(seen(socket).map(([, id]) => id)).toEqual([expiringSoon.id, open.id]);

    // Expired since it was sent: gone from the replay, and an edit of it is not sent either.
    await ctx.deps.db.announcement.update({
      where: { id: expiringSoon.id },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    await edit(expiringSoon.id, 'Går snart ut (endra)', true);
    const after = await announce('Etter');
    await relayAll();
    await barrier(socket, after.eventId);
    expect(seen(socket).map(([, id]) => id)).toEqual([expiringSoon.id, open.id, after.id]);

    const replay = await watching({ as: uio, since });
    expect(seen(replay).map(([, id]) => id)).toEqual([open.id, after.id]);
    expect(seen(replay).map(([, id]) => id)).not.toContain(expired.id);
  });
});

/**
 * The authoring lifecycle over HTTP on real PostgreSQL: the full publish input (language versions, type, incident
 * follow-ups, audience by organisation code, expiry, acknowledgement), drafts and scheduling, edits with their
 * revision history and optimistic concurrency. Each state change is checked in the database too: the outbox event
 * (or its absence), the revision rows and the audit records.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { ANNOUNCEMENT_UPDATED } from '../../src/services/edit.js';
import { ANNOUNCEMENT_PUBLISHED, ANNOUNCEMENT_SCHEDULED } from '../../src/services/publish.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, grantRole, type TestChannel, tokenFor } from '../helpers/factories.js';

let ctx: TestContext;
let app: FastifyInstance;
let channel: TestChannel;
let otherChannel: TestChannel;
let restricted: TestChannel;
let publisherToken: string;
let publisherName: string;
let adminToken: string;
let uioMemberToken: string;
let ntnuMemberToken: string;
let outsiderToken: string; // no organisation, no role
let readOnlyPublisherToken: string;
let uioId: string;
let ntnuId: string;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

beforeAll(async () => {
  ctx = await createTestContext();
  app = await buildApp(ctx.deps, { logger: false });
  const db = ctx.deps.db;
  channel = await createChannel(db, { slug: 'bott-sa', visibility: 'public' });
  otherChannel = await createChannel(db, { slug: 'bott-okonomi', visibility: 'public' });
  restricted = await createChannel(db, { slug: 'lukket-kanal', visibility: 'restricted' });
  const publisher = await createUser(db, { organisationCode: 'UiB' });
  await grantRole(db, channel.id, publisher.id, 'publisher');
  await grantRole(db, otherChannel.id, publisher.id, 'publisher');
  publisherToken = await tokenFor(db, publisher.id);
  readOnlyPublisherToken = await tokenFor(db, publisher.id, { scopes: ['read'] });
  publisherName = (await db.user.findUniqueOrThrow({ where: { id: publisher.id } })).displayName;
  adminToken = await tokenFor(db, (await createUser(db, { isAdmin: true })).id);
  const uioMember = await createUser(db, { organisationCode: 'UiO' });
  uioMemberToken = await tokenFor(db, uioMember.id);
  uioId = uioMember.organisationId as string;
  const ntnuMember = await createUser(db, { organisationCode: 'NTNU' });
  ntnuMemberToken = await tokenFor(db, ntnuMember.id);
  ntnuId = ntnuMember.organisationId as string;
  outsiderToken = await tokenFor(db, (await createUser(db)).id);
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

function publish(payload: Record<string, unknown>, token = publisherToken, slug = channel.slug) {
  return app.inject({
    method: 'POST',
    url: `/api/v1/channels/${slug}/announcements`,
    headers: bearer(token),
    payload,
  });
}

function edit(id: string, payload: Record<string, unknown>, token = publisherToken, headers = {}) {
  return app.inject({
    method: 'PATCH',
    url: `/api/v1/announcements/${id}`,
    headers: { ...bearer(token), ...headers },
    payload,
  });
}

function publishExisting(id: string, payload: Record<string, unknown> = {}, token = publisherToken) {
  return app.inject({
    method: 'POST',
    url: `/api/v1/announcements/${id}/publish`,
    headers: bearer(token),
    payload,
  });
}

function get(url: string, token?: string) {
  return app.inject({ method: 'GET', url, headers: token ? bearer(token) : {} });
}

async function eventsOf(id: string) {
  return ctx.deps.db.outboxEvent.findMany({ where: { aggregateId: id }, orderBy: { id: 'asc' } });
}

describe('POST /channels/:slug/announcements with the full input', () => {
  it('stores language versions, summary, type, audience (by code, as ids), expiry and acknowledgement, with revision 1', async () => {
    const expiresAt = inMinutes(60 * 24 * 7);
    const deadline = inMinutes(60 * 24);
    const startsAt = inMinutes(60 * 24 * 2);
    const endsAt = inMinutes(60 * 24 * 2 + 120);
    const response = await publish({
      title: 'Planlagt nedetid i BOTT SA',
      summary: 'Lønn og regnskap er utilgjengelig lørdag.',
      body: 'Vi oppgraderer **lørdag**.',
      importance: 'important',
      language: 'nb',
      translations: [
        { language: 'en', title: 'Planned downtime in BOTT SA', summary: 'Closed Saturday.', body: 'We upgrade.' },
        { language: 'nn', title: 'Planlagd nedetid i BOTT SA', body: 'Vi oppgraderer laurdag.' },
      ],
      type: 'maintenance',
      affectedSystem: 'BOTT SA lønn',
      startsAt,
      endsAt,
      audience: ['uio', 'NTNU'],
      expiresAt,
      acknowledgement: { required: true, deadline },
    });
    expect(response.statusCode, response.body).toBe(201);
    const created = response.json();
    expect(created).toMatchObject({
      language: 'nb',
      languages: ['nb', 'nn', 'en'],
      title: 'Planlagt nedetid i BOTT SA',
      summary: 'Lønn og regnskap er utilgjengelig lørdag.',
      type: 'maintenance',
      affectedSystem: 'BOTT SA lønn',
      startsAt,
      endsAt,
      audience: ['NTNU', 'UiO'],
      expiresAt,
      acknowledgement: { required: true, deadline },
      status: 'published',
      revision: 1,
      editedAt: null,
    });

    const row = await ctx.deps.db.announcement.findUniqueOrThrow({ where: { id: created.id } });
    expect([...row.audienceOrganisationIds].sort()).toEqual([uioId, ntnuId].sort());
    const [revision] = await ctx.deps.db.announcementRevision.findMany({ where: { announcementId: created.id } });
    expect(revision).toMatchObject({ revision: 1, material: true, note: null });
    expect(revision?.content).toEqual({
      language: 'nb',
      title: 'Planlagt nedetid i BOTT SA',
      summary: 'Lønn og regnskap er utilgjengelig lørdag.',
      body: 'Vi oppgraderer **lørdag**.',
      translations: [
        { language: 'en', title: 'Planned downtime in BOTT SA', summary: 'Closed Saturday.', body: 'We upgrade.' },
        { language: 'nn', title: 'Planlagd nedetid i BOTT SA', summary: null, body: 'Vi oppgraderer laurdag.' },
      ],
    });
    const events = await eventsOf(created.id);
    expect(events.map((event) => event.type)).toEqual([ANNOUNCEMENT_PUBLISHED]);

    // The audience decides who reads it: UiO and NTNU members do, a member of no listed organisation does not.
    expect((await get(`/api/v1/announcements/${created.id}`, uioMemberToken)).statusCode).toBe(200);
    expect((await get(`/api/v1/announcements/${created.id}`, ntnuMemberToken)).statusCode).toBe(200);
    expect((await get(`/api/v1/announcements/${created.id}`, outsiderToken)).statusCode).toBe(404);
  });

  it('refuses bad input with 400 naming the field, and writes nothing', async () => {
    const before = await ctx.deps.db.announcement.count();
    const cases: [Record<string, unknown>, string, RegExp?][] = [
      [{ audience: ['uio', 'nope', 'ingen'] }, 'audience', /nope, ingen/],
      [{ translations: [{ language: 'nb', title: 'T', body: 'B' }] }, 'translations'],
      [
        {
          translations: [
            { language: 'en', title: 'T', body: 'B' },
            { language: 'en', title: 'T2', body: 'B2' },
          ],
        },
        'translations',
      ],
      [{ translations: [{ language: 'en', title: '   ', body: 'B' }] }, 'translations'],
      [{ type: 'maintenance', startsAt: inMinutes(10), endsAt: inMinutes(20) }, 'affectedSystem'],
      [{ type: 'maintenance', affectedSystem: 'X', startsAt: inMinutes(20), endsAt: inMinutes(10) }, 'endsAt'],
      [{ acknowledgement: { required: false, deadline: inMinutes(10) } }, 'acknowledgement.deadline'],
      [{ expiresAt: inMinutes(-1) }, 'expiresAt'],
      [{ publishAt: inMinutes(-1) }, 'publishAt'],
      [{ publishAt: inMinutes(10), draft: true }, 'publishAt'],
      [{ publishAt: inMinutes(10), expiresAt: inMinutes(5) }, 'expiresAt'],
      [{ summary: 'x'.repeat(501) }, 'body.summary'],
      [{ type: 'release', resolves: randomUUID() }, 'resolves'],
    ];
    for (const [extra, field, message] of cases) {
      const response = await publish({ title: 'Tittel', body: 'Tekst', ...extra });
      expect(response.statusCode, JSON.stringify(extra)).toBe(400);
      const { error } = response.json();
      expect(error.code).toBe('validation_failed');
      const fields = JSON.stringify(error.details);
      expect(fields, JSON.stringify(extra)).toContain(field);
      if (message) expect(error.message).toMatch(message);
    }
    expect(await ctx.deps.db.announcement.count()).toBe(before);
  });

  it('publishes the resolved follow-up of a published incident once; other channels, unknown ids and repeats are refused', async () => {
    const incident = (await publish({ title: 'Driftsavbrudd', body: 'BOTT SA er nede.', type: 'incident' })).json();
    const notIncident = (await publish({ title: 'Versjon 2', body: 'Ny versjon', type: 'release' })).json();
    const elsewhere = (
      await publish({ title: 'Avbrudd', body: 'Nede', type: 'incident' }, publisherToken, otherChannel.slug)
    ).json();

    const followUp = await publish({ title: 'Løst', body: 'BOTT SA virker igjen.', resolves: incident.id });
    expect(followUp.statusCode, followUp.body).toBe(201);
    expect(followUp.json()).toMatchObject({ type: 'incident', resolves: incident.id });
    expect((await get(`/api/v1/announcements/${incident.id}`)).json().resolvedBy).toBe(followUp.json().id);

    const again = await publish({ title: 'Løst igjen', body: 'Tekst', resolves: incident.id });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('conflict');
    expect((await publish({ title: 'Løst', body: 'Tekst', resolves: elsewhere.id })).statusCode).toBe(404);
    expect((await publish({ title: 'Løst', body: 'Tekst', resolves: randomUUID() })).statusCode).toBe(404);
    const wrongType = await publish({ title: 'Løst', body: 'Tekst', resolves: notIncident.id });
    expect(wrongType.statusCode).toBe(400);
    expect(wrongType.json().error.details).toMatchObject({ field: 'resolves' });

    // A draft incident is not published: it cannot be resolved yet.
    const draftIncident = (await publish({ title: 'Utkast', body: 'Tekst', type: 'incident', draft: true })).json();
    expect((await publish({ title: 'Løst', body: 'Tekst', resolves: draftIncident.id })).statusCode).toBe(409);
  });

  it('refuses to publish a drafted follow-up once its incident was retracted', async () => {
    const incident = (await publish({ title: 'Treg innlogging', body: 'Tekst', type: 'incident' })).json();
    const draft = (await publish({ title: 'Løst', body: 'Virker igjen', resolves: incident.id, draft: true })).json();
    const retracted = await app.inject({
      method: 'POST',
      url: `/api/v1/announcements/${incident.id}/retract`,
      headers: bearer(publisherToken),
    });
    expect(retracted.statusCode).toBe(200);
    const published = await publishExisting(draft.id);
    expect(published.statusCode).toBe(409);
    expect(published.json().error.code).toBe('conflict');
    expect((await ctx.deps.db.announcement.findUniqueOrThrow({ where: { id: draft.id } })).status).toBe('draft');
  });

  it('lets two follow-ups race for one incident: exactly one wins', async () => {
    const incident = (await publish({ title: 'Treghet', body: 'Tregt.', type: 'incident' })).json();
    const results = await Promise.all(
      [1, 2, 3].map((n) => publish({ title: `Løst ${n}`, body: 'Tekst', resolves: incident.id })),
    );
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409, 409]);
    expect(await ctx.deps.db.announcement.count({ where: { resolvesId: incident.id } })).toBe(1);
  });

  it('counts the whole body in the Idempotency-Key fingerprint', async () => {
    const key = randomUUID();
    const send = (audience: string[]) =>
      app.inject({
        method: 'POST',
        url: `/api/v1/channels/${channel.slug}/announcements`,
        headers: { ...bearer(publisherToken), 'idempotency-key': key },
        payload: { title: 'Med nøkkel', body: 'Tekst', audience },
      });
    const first = await send(['uio']);
    expect(first.statusCode).toBe(201);
    const replay = await send(['uio']);
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json().id).toBe(first.json().id);
    const other = await send(['ntnu']);
    expect(other.statusCode).toBe(422);
    expect(other.json().error.code).toBe('idempotency_key_reused');
  });
});

describe('drafts and scheduling', () => {
  it('stores a draft without an outbox event; only editors see it, in GET /channels/:slug/drafts', async () => {
    const response = await publish({ title: 'Utkast', body: 'Ikke ferdig', draft: true });
    expect(response.statusCode).toBe(201);
    const draft = response.json();
    expect(draft).toMatchObject({ status: 'draft', publishedAt: null, revision: 1 });
    expect(await eventsOf(draft.id)).toEqual([]);
    expect(await ctx.deps.db.announcementRevision.count({ where: { announcementId: draft.id } })).toBe(1);
    const audit = await ctx.deps.db.auditLog.findFirst({ where: { targetId: draft.id } });
    expect(audit?.action).toBe('announcement.draft');

    expect((await get(`/api/v1/announcements/${draft.id}`, uioMemberToken)).statusCode).toBe(404);
    expect((await get(`/api/v1/announcements/${draft.id}`)).statusCode).toBe(404);
    expect((await get(`/api/v1/announcements/${draft.id}`, publisherToken)).statusCode).toBe(200);
    const listed = await get(`/api/v1/channels/${channel.slug}/announcements`);
    expect(listed.json().items.map((item: { id: string }) => item.id)).not.toContain(draft.id);
  });

  it('lists drafts and scheduled ones newest first, in keyset pages, to editors only', async () => {
    const slug = (await createChannel(ctx.deps.db)).slug;
    const db = ctx.deps.db;
    const { id: channelId } = await db.channel.findUniqueOrThrow({ where: { slug } });
    const owner = await createUser(db);
    await grantRole(db, channelId, owner.id, 'owner');
    const ownerToken = await tokenFor(db, owner.id);
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const r = await publish({ title: `Utkast ${n}`, body: 'Tekst', draft: true }, ownerToken, slug);
      ids.push(r.json().id);
    }
    const scheduled = await publish({ title: 'Planlagt', body: 'Tekst', publishAt: inMinutes(30) }, ownerToken, slug);
    ids.push(scheduled.json().id);
    await publish({ title: 'Publisert', body: 'Tekst' }, ownerToken, slug);

    const first = await get(`/api/v1/channels/${slug}/drafts?limit=3`, ownerToken);
    expect(first.statusCode).toBe(200);
    const second = await get(`/api/v1/channels/${slug}/drafts?limit=3&cursor=${first.json().nextCursor}`, ownerToken);
    expect(second.json().nextCursor).toBeNull();
    const seen = [...first.json().items, ...second.json().items];
    expect(seen.map((item: { id: string }) => item.id)).toEqual([...ids].reverse());
    expect(seen[0]).toMatchObject({ status: 'scheduled', publishedAt: null });

    expect((await get(`/api/v1/channels/${slug}/drafts`, adminToken)).json().items).toHaveLength(4);
    expect((await get(`/api/v1/channels/${slug}/drafts`, uioMemberToken)).statusCode).toBe(403);
    expect((await get(`/api/v1/channels/${slug}/drafts`)).statusCode).toBe(401);
    expect((await get(`/api/v1/channels/${restricted.slug}/drafts`, uioMemberToken)).statusCode).toBe(404);
    expect((await get(`/api/v1/channels/${slug}/drafts`, readOnlyPublisherToken)).statusCode).toBe(403);
  });

  it('schedules with a future publishAt: status scheduled and an announcement.scheduled event in the same transaction', async () => {
    const publishAt = inMinutes(45);
    const response = await publish({ title: 'Senere', body: 'Tekst', publishAt });
    expect(response.statusCode).toBe(201);
    const scheduled = response.json();
    expect(scheduled).toMatchObject({ status: 'scheduled', publishAt, publishedAt: null });
    const events = await eventsOf(scheduled.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: ANNOUNCEMENT_SCHEDULED,
      payload: { announcementId: scheduled.id, publishAt },
    });
    const [row] = await ctx.deps.db.$queryRaw<{ a: string; e: string }[]>`
      SELECT (SELECT xmin::text FROM "Announcement" WHERE id = ${scheduled.id}::uuid) AS a,
             (SELECT xmin::text FROM "OutboxEvent" WHERE "aggregateId" = ${scheduled.id}::uuid) AS e`;
    expect(row?.a).toBe(row?.e);
    expect((await get(`/api/v1/announcements/${scheduled.id}`, uioMemberToken)).statusCode).toBe(404);
  });

  it('POST /announcements/:id/publish publishes a draft now, exactly like publishing, and then answers 409', async () => {
    const draft = (await publish({ title: 'Klar snart', body: 'Tekst', draft: true })).json();
    // No body at all is "publish now" too.
    const response = await app.inject({
      method: 'POST',
      url: `/api/v1/announcements/${draft.id}/publish`,
      headers: bearer(publisherToken),
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ id: draft.id, status: 'published', publishAt: null });
    expect(response.json().publishedAt).not.toBeNull();
    const events = await eventsOf(draft.id);
    expect(events.map((event) => event.type)).toEqual([ANNOUNCEMENT_PUBLISHED]);
    expect((await get(`/api/v1/announcements/${draft.id}`, uioMemberToken)).statusCode).toBe(200);
    const audits = await ctx.deps.db.auditLog.findMany({ where: { targetId: draft.id }, orderBy: { id: 'asc' } });
    expect(audits.map((audit) => audit.action)).toEqual(['announcement.draft', 'announcement.publish']);

    const again = await publishExisting(draft.id);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('conflict');
  });

  it('schedules a draft, re-schedules it, publishes a scheduled one now, and unschedules', async () => {
    const draft = (await publish({ title: 'Plan', body: 'Tekst', draft: true })).json();
    const first = inMinutes(30);
    const scheduled = await publishExisting(draft.id, { publishAt: first });
    expect(scheduled.statusCode).toBe(200);
    expect(scheduled.json()).toMatchObject({ status: 'scheduled', publishAt: first });
    const later = inMinutes(90);
    expect((await publishExisting(draft.id, { publishAt: later })).json()).toMatchObject({ publishAt: later });
    const events = await eventsOf(draft.id);
    expect(events.map((event) => [event.type, (event.payload as { publishAt: string }).publishAt])).toEqual([
      [ANNOUNCEMENT_SCHEDULED, first],
      [ANNOUNCEMENT_SCHEDULED, later],
    ]);

    const unscheduled = await app.inject({
      method: 'POST',
      url: `/api/v1/announcements/${draft.id}/unschedule`,
      headers: bearer(publisherToken),
    });
    expect(unscheduled.statusCode).toBe(200);
    expect(unscheduled.json()).toMatchObject({ status: 'draft', publishAt: null });
    const notScheduled = await app.inject({
      method: 'POST',
      url: `/api/v1/announcements/${draft.id}/unschedule`,
      headers: bearer(publisherToken),
    });
    expect(notScheduled.statusCode).toBe(409);

    await publishExisting(draft.id, { publishAt: inMinutes(20) });
    const now = await publishExisting(draft.id);
    expect(now.json()).toMatchObject({ status: 'published' });
    expect((await eventsOf(draft.id)).at(-1)?.type).toBe(ANNOUNCEMENT_PUBLISHED);

    expect((await publishExisting(draft.id, { publishAt: inMinutes(-5) })).statusCode).toBe(409);
    const pastDraft = (await publish({ title: 'P', body: 'T', draft: true })).json();
    expect((await publishExisting(pastDraft.id, { publishAt: inMinutes(-5) })).statusCode).toBe(400);
  });

  it('refuses members, other channels and anonymous callers', async () => {
    const draft = (await publish({ title: 'Hemmelig', body: 'Tekst', draft: true })).json();
    expect((await publishExisting(draft.id, {}, uioMemberToken)).statusCode).toBe(403);
    expect((await publishExisting(draft.id, {}, readOnlyPublisherToken)).statusCode).toBe(403);
    const anonymous = await app.inject({ method: 'POST', url: `/api/v1/announcements/${draft.id}/publish` });
    expect(anonymous.statusCode).toBe(401);
    expect((await publishExisting(randomUUID())).statusCode).toBe(404);
    expect((await ctx.deps.db.announcement.findUniqueOrThrow({ where: { id: draft.id } })).status).toBe('draft');
  });
});

describe('PATCH /announcements/:id and its revisions', () => {
  it('needs `material` for a published announcement; a material edit bumps the revision and writes announcement.updated', async () => {
    const original = (
      await publish({
        title: 'Oppgradering',
        body: 'Lørdag kl. 10.',
        translations: [{ language: 'en', title: 'Upgrade', body: 'Saturday 10 am.' }],
      })
    ).json();
    const missing = await edit(original.id, { body: 'Lørdag kl. 12.' });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.details).toMatchObject({ field: 'material' });

    const response = await edit(
      original.id,
      {
        body: 'Lørdag kl. 12.',
        translations: [{ language: 'en', title: 'Upgrade', body: 'Saturday noon.' }],
        material: true,
        note: 'Nytt tidspunkt',
      },
      publisherToken,
      { 'if-match': '"1"' },
    );
    expect(response.statusCode, response.body).toBe(200);
    const edited = response.json();
    expect(edited).toMatchObject({ revision: 2, body: 'Lørdag kl. 12.', title: 'Oppgradering', status: 'published' });
    expect(edited.editedAt).not.toBeNull();

    const events = await eventsOf(original.id);
    expect(events.map((event) => event.type)).toEqual([ANNOUNCEMENT_PUBLISHED, ANNOUNCEMENT_UPDATED]);
    expect(events[1]?.payload).toEqual({ announcementId: original.id, revision: 2, material: true });
    const audit = await ctx.deps.db.auditLog.findFirst({
      where: { targetId: original.id, action: 'announcement.edit' },
    });
    expect(audit?.details).toMatchObject({ revision: 2, material: true });

    // A minor fix: revision 3, material false.
    const minor = await edit(original.id, { title: 'Oppgradering av BOTT SA', material: false }, publisherToken, {
      'if-match': 'W/"2"',
    });
    expect(minor.statusCode).toBe(200);
    expect((await eventsOf(original.id)).at(-1)?.payload).toEqual({
      announcementId: original.id,
      revision: 3,
      material: false,
    });

    const history = await get(`/api/v1/announcements/${original.id}/revisions`, uioMemberToken);
    expect(history.statusCode).toBe(200);
    const items = history.json().items;
    expect(items.map((item: { revision: number }) => item.revision)).toEqual([3, 2, 1]);
    expect(items[1]).toMatchObject({
      editor: { name: publisherName },
      material: true,
      note: 'Nytt tidspunkt',
      content: {
        language: 'nb',
        languages: ['nb', 'en'],
        title: 'Oppgradering',
        summary: null,
        body: 'Lørdag kl. 12.',
        bodyHtml: '<p>Lørdag kl. 12.</p>\n',
      },
    });
    expect(items[2].content.body).toBe('Lørdag kl. 10.');
    expect(items[0]).toMatchObject({ material: false, note: null, content: { title: 'Oppgradering av BOTT SA' } });

    const english = await get(`/api/v1/announcements/${original.id}/revisions?lang=en`);
    expect(english.json().items.map((item: { content: { body: string } }) => item.content.body)).toEqual([
      'Saturday noon.',
      'Saturday noon.',
      'Saturday 10 am.',
    ]);
    expect((await get(`/api/v1/announcements/${original.id}/revisions?lang=de`)).statusCode).toBe(400);
  });

  it('moving the acknowledgement deadline makes room for a new reminder; other edits keep the old one', async () => {
    const created = (
      await publish({
        title: 'Les dette',
        body: 'Tekst',
        acknowledgement: { required: true, deadline: inMinutes(600) },
      })
    ).json();
    const db = ctx.deps.db;
    const remindedAt = new Date();
    await db.announcement.update({ where: { id: created.id }, data: { ackRemindersAt: remindedAt } });
    expect((await edit(created.id, { body: 'Ny tekst', material: false })).statusCode).toBe(200);
    expect((await db.announcement.findUniqueOrThrow({ where: { id: created.id } })).ackRemindersAt).toEqual(remindedAt);
    const moved = await edit(created.id, {
      acknowledgement: { required: true, deadline: inMinutes(1200) },
      material: true,
    });
    expect(moved.statusCode, moved.body).toBe(200);
    expect((await db.announcement.findUniqueOrThrow({ where: { id: created.id } })).ackRemindersAt).toBeNull();
  });

  it('answers 409 conflict for a stale If-Match or revision, and changes nothing', async () => {
    const created = (await publish({ title: 'Versjon', body: 'Tekst' })).json();
    expect((await edit(created.id, { body: 'Ny', material: false })).statusCode).toBe(200);
    const stale = await edit(created.id, { body: 'Gammel', material: false }, publisherToken, { 'if-match': '"1"' });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().error).toMatchObject({ code: 'conflict', details: { revision: 2 } });
    const staleBody = await edit(created.id, { body: 'Gammel', material: false, revision: 1 });
    expect(staleBody.statusCode).toBe(409);
    const garbled = await edit(created.id, { body: 'X', material: false }, publisherToken, { 'if-match': 'abc' });
    expect(garbled.statusCode).toBe(400);
    const row = await ctx.deps.db.announcement.findUniqueOrThrow({ where: { id: created.id } });
    expect(row).toMatchObject({ revision: 2, body: 'Ny' });
  });

  it('lets one of two concurrent edits of the same revision win; the other gets 409', async () => {
    const created = (await publish({ title: 'Samtidig', body: 'Tekst' })).json();
    const results = await Promise.all(
      ['A', 'B', 'C'].map((body) => edit(created.id, { body, material: false }, publisherToken, { 'if-match': '"1"' })),
    );
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409, 409]);
    expect(await ctx.deps.db.announcementRevision.count({ where: { announcementId: created.id } })).toBe(2);
  });

  it('applies concurrent edits that name no revision one after another, none lost', async () => {
    const created = (await publish({ title: 'Samtidig uten', body: 'Tekst' })).json();
    const results = await Promise.all([
      edit(created.id, { title: 'Ny tittel', material: false }),
      edit(created.id, { body: 'Ny tekst', material: false }),
      edit(created.id, { summary: 'Nytt sammendrag', material: false }),
    ]);
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    const row = await ctx.deps.db.announcement.findUniqueOrThrow({ where: { id: created.id } });
    expect(row).toMatchObject({ revision: 4, title: 'Ny tittel', body: 'Ny tekst', summary: 'Nytt sammendrag' });
    const revisions = await ctx.deps.db.announcementRevision.findMany({
      where: { announcementId: created.id },
      orderBy: { revision: 'asc' },
    });
    expect(revisions.map((r) => r.revision)).toEqual([1, 2, 3, 4]);
  });

  it('edits a draft without an event (material ignored) and changes audience, type and translations', async () => {
    const draft = (
      await publish({
        title: 'Utkast',
        body: 'Tekst',
        draft: true,
        translations: [{ language: 'en', title: 'Draft', body: 'Text' }],
      })
    ).json();
    const response = await edit(draft.id, {
      audience: ['ntnu'],
      type: 'maintenance',
      affectedSystem: 'Fakturamottak',
      startsAt: inMinutes(60),
      endsAt: inMinutes(120),
      translations: [],
      summary: 'Kort',
      material: true,
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({
      status: 'draft',
      revision: 2,
      audience: ['NTNU'],
      type: 'maintenance',
      languages: ['nb'],
      summary: 'Kort',
    });
    expect(await eventsOf(draft.id)).toEqual([]);
    const revision = await ctx.deps.db.announcementRevision.findFirstOrThrow({
      where: { announcementId: draft.id, revision: 2 },
    });
    expect(revision.material).toBe(false);
    expect((await edit(draft.id, { type: 'maintenance', affectedSystem: null })).statusCode).toBe(400);
    expect((await edit(draft.id, { audience: ['finnes-ikke'] })).statusCode).toBe(400);
  });

  it('changes the original language, keeps translations unless replaced, and holds a scheduled one to its time', async () => {
    const created = (
      await publish({
        title: 'Tittel',
        body: 'Tekst',
        translations: [{ language: 'nn', title: 'Tittel nn', body: 'Tekst nn' }],
      })
    ).json();
    // English is now the original: the nynorsk version stays.
    const english = await edit(created.id, { language: 'en', title: 'Title', body: 'Text', material: false });
    expect(english.statusCode, english.body).toBe(200);
    expect(english.json()).toMatchObject({ language: 'en', languages: ['en', 'nn'], title: 'Title' });
    // The original's language may not also be a translation.
    const twice = await edit(created.id, {
      translations: [{ language: 'en', title: 'T', body: 'B' }],
      material: false,
    });
    expect(twice.statusCode).toBe(400);
    expect(twice.json().error.details).toMatchObject({ field: 'translations' });

    const scheduled = (await publish({ title: 'Senere', body: 'Tekst', publishAt: inMinutes(60) })).json();
    const early = await edit(scheduled.id, { expiresAt: inMinutes(30) });
    expect(early.statusCode).toBe(400);
    expect(early.json().error.details).toMatchObject({ field: 'expiresAt' });
    const fine = await edit(scheduled.id, { expiresAt: inMinutes(120), note: 'Utløper' });
    expect(fine.statusCode).toBe(200);
    expect(fine.json()).toMatchObject({ status: 'scheduled', revision: 2 });
    expect(await eventsOf(scheduled.id)).toHaveLength(1); // only its scheduling: editing it tells nobody
  });

  it('refuses to edit a retracted announcement, and refuses members and anonymous callers', async () => {
    const created = (await publish({ title: 'Tilbake', body: 'Tekst' })).json();
    expect((await edit(created.id, { body: 'X', material: false }, uioMemberToken)).statusCode).toBe(403);
    const anonymous = await app.inject({
      method: 'PATCH',
      url: `/api/v1/announcements/${created.id}`,
      payload: { body: 'X', material: false },
    });
    expect(anonymous.statusCode).toBe(401);
    await app.inject({
      method: 'POST',
      url: `/api/v1/announcements/${created.id}/retract`,
      headers: bearer(publisherToken),
    });
    const retracted = await edit(created.id, { body: 'X', material: false });
    expect(retracted.statusCode).toBe(409);
    expect((await get(`/api/v1/announcements/${created.id}/revisions`, publisherToken)).statusCode).toBe(404);
  });

  it('shows the history only to those who may read the announcement', async () => {
    const forUio = (await publish({ title: 'Kun UiO', body: 'Tekst', audience: ['UiO'] })).json();
    expect((await get(`/api/v1/announcements/${forUio.id}/revisions`, uioMemberToken)).statusCode).toBe(200);
    expect((await get(`/api/v1/announcements/${forUio.id}/revisions`, ntnuMemberToken)).statusCode).toBe(404);
    expect((await get(`/api/v1/announcements/${forUio.id}/revisions`)).statusCode).toBe(404);
    const draft = (await publish({ title: 'Utkast', body: 'Tekst', draft: true })).json();
    expect((await get(`/api/v1/announcements/${draft.id}/revisions`, uioMemberToken)).statusCode).toBe(404);
    expect((await get(`/api/v1/announcements/${draft.id}/revisions`, publisherToken)).statusCode).toBe(200);
  });
});

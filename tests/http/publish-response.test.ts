/**
 * The publish response is built from what publishing wrote, not read back (src/services/publish.ts): it must be the
 * announcement exactly as a later read gives it, for every kind of publication and every field that publishing sets
 * (language versions out of order, audience codes in other case, times with sub-millisecond digits and offsets,
 * trimmed text). The read adds only what is the reader's own (acknowledged) or counted later (rating, views).
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, grantRole, tokenFor } from '../helpers/factories.js';

let ctx: TestContext;
let app: FastifyInstance;
let token: string;

beforeAll(async () => {
  ctx = await createTestContext();
  app = await buildApp(ctx.deps, { logger: false });
  const db = ctx.deps.db;
  const channel = await createChannel(db, { slug: 'svar', visibility: 'public' });
  const publisher = await createUser(db, { organisationCode: 'UiO' });
  await createUser(db, { organisationCode: 'NTNU' });
  await grantRole(db, channel.id, publisher.id, 'publisher');
  token = await tokenFor(db, publisher.id);
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

async function publishAndRead(payload: Record<string, unknown>) {
  const headers = { authorization: `Bearer ${token}` };
  const published = await app.inject({ method: 'POST', url: '/api/v1/channels/svar/announcements', headers, payload });
  expect(published.statusCode, published.body).toBe(201);
  const read = await app.inject({ method: 'GET', url: `/api/v1/announcements/${published.json().id}`, headers });
  expect(read.statusCode).toBe(200);
  const { acknowledged: _acknowledged, rating: _rating, views: _views, ...view } = read.json();
  return { published: published.json(), read: view };
}

describe('the publish response', () => {
  it('is what a read gives, for a maintenance notice with translations, audience and acknowledgement', async () => {
    const { published, read } = await publishAndRead({
      title: ' Vedlikehold ',
      summary: ' Kort ',
      body: '# Hei\n\n*tekst* og [lenke](https://example.org)',
      language: 'nn',
      importance: 'critical',
      type: 'maintenance',
      affectedSystem: ' BOTT ØL ',
      startsAt: '2027-01-01T10:00:00.123456Z',
      endsAt: '2027-01-01T13:00:00+01:00',
      audience: ['uio', 'NTNU'],
      expiresAt: '2027-02-01T00:00:00Z',
      acknowledgement: { required: true, deadline: '2027-01-05T00:00:00+01:00' },
      translations: [
        { language: 'en', title: 'Maintenance', body: 'Text' },
        { language: 'nb', title: 'Vedlikehold', summary: 'kort', body: 'Tekst' },
      ],
    });
    expect(published).toEqual(read);
    expect(published.languages).toEqual(['nn', 'nb', 'en']);
    expect(published.audience).toEqual(['NTNU', 'UiO']);
  });

  it('is what a read gives, for a plain publication, a draft and a scheduled one', async () => {
    for (const payload of [
      { title: 'Melding', body: 'Tekst' },
      { title: 'Kladd', body: 'Tekst', draft: true },
      { title: 'Senere', body: 'Tekst', publishAt: '2027-03-01T08:00:00.5Z' },
    ]) {
      const { published, read } = await publishAndRead(payload);
      expect(published, payload.title).toEqual(read);
    }
  });

  it('is what a read gives, for an incident and its follow-up (written in a transaction that locks the incident)', async () => {
    const incident = await publishAndRead({ title: 'Feil', body: 'Nede', type: 'incident' });
    expect(incident.published).toEqual(incident.read);
    const followUp = await publishAndRead({ title: 'Løst', body: 'Oppe igjen', resolves: incident.published.id });
    expect(followUp.published).toEqual(followUp.read);
    expect(followUp.published).toMatchObject({ type: 'incident', resolves: incident.published.id });
  });
});

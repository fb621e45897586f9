/** /api/v1/organisations: the member table sign-in maps realms with. Access is covered in the matrix test. */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createUser, type TestUser, tokenFor } from '../helpers/factories.js';

let ctx: TestContext;
let app: FastifyInstance;
let admin: TestUser;
let adminToken: string;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  ctx = await createTestContext();
  app = await buildApp(ctx.deps, { logger: false });
  admin = await createUser(ctx.deps.db, { isAdmin: true });
  adminToken = await tokenFor(ctx.deps.db, admin.id);
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

const create = (payload: Record<string, unknown>) =>
  app.inject({ method: 'POST', url: '/api/v1/organisations', headers: bearer(adminToken), payload });
const update = (code: string, payload: Record<string, unknown>) =>
  app.inject({ method: 'PATCH', url: `/api/v1/organisations/${code}`, headers: bearer(adminToken), payload });

describe('organisations', () => {
  it('are added by an admin (201, realm stored lower-case), listed to anyone by code, and recorded', async () => {
    const created = await create({ code: 'UiS', name: ' Universitetet i Stavanger ', realm: 'UiS.no' });
    expect(created.statusCode).toBe(201);
    expect(created.headers.location).toBe('/api/v1/organisations/UiS');
    expect(created.json()).toEqual({ code: 'UiS', name: 'Universitetet i Stavanger', realm: 'uis.no' });
    await create({ code: 'HVL', name: 'Høgskulen på Vestlandet', realm: 'hvl.no' });

    const listed = await app.inject({ method: 'GET', url: '/api/v1/organisations' });
    expect(listed.statusCode).toBe(200);
    const codes = listed.json().items.map((o: { code: string }) => o.code);
    expect(codes).toEqual([...codes].sort());
    expect(listed.json().items).toContainEqual({ code: 'UiS', name: 'Universitetet i Stavanger', realm: 'uis.no' });

    const records = await ctx.deps.db.auditLog.findMany({ where: { action: 'organisation.create' } });
    expect(records.map((r) => r.details)).toContainEqual({
      code: 'UiS',
      name: 'Universitetet i Stavanger',
      realm: 'uis.no',
    });
  });

  it('refuses a code taken in another spelling, and a realm taken by another organisation (409)', async () => {
    await create({ code: 'NMBU', name: 'NMBU', realm: 'nmbu.no' });
    const sameCode = await create({ code: 'nmbu', name: 'Another', realm: 'other-nmbu.no' });
    expect(sameCode.statusCode).toBe(409);
    expect(sameCode.json().error.message).toMatch(/code NMBU/);
    const sameRealm = await create({ code: 'NMBU2', name: 'Another', realm: 'nmbu.no' });
    expect(sameRealm.statusCode).toBe(409);
    expect(sameRealm.json().error.message).toMatch(/realm nmbu\.no/);
  });

  it('explain bad input (400): code, realm, blank name, unknown fields', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ code: '1abc', name: 'X', realm: 'x.no' }, 'code'],
      [{ code: 'Has space', name: 'X', realm: 'x.no' }, 'code'],
      [{ code: 'Ok', name: 'X', realm: 'localhost' }, 'realm'],
      [{ code: 'Ok', name: 'X', realm: 'https://x.no' }, 'realm'],
      [{ code: 'Ok', name: '  ', realm: 'x.no' }, 'name'],
      [{ code: 'Ok', name: 'X', realm: 'x.no', colour: 'red' }, 'colour'],
    ];
    for (const [payload, field] of cases) {
      const response = await create(payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().error.message, JSON.stringify(payload)).toContain(field);
    }
  });

  it('are changed by code (case-insensitive), name and realm only; unknown codes answer 404', async () => {
    await create({ code: 'OsloMet', name: 'OsloMet', realm: 'oslomet.no' });
    const changed = await update('oslomet', { name: 'OsloMet – storbyuniversitetet', realm: 'OsloMet.NO' });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toEqual({ code: 'OsloMet', name: 'OsloMet – storbyuniversitetet', realm: 'oslomet.no' });
    const [record] = await ctx.deps.db.auditLog.findMany({ where: { action: 'organisation.update' } });
    expect(record?.details).toEqual({
      code: 'OsloMet',
      name: { from: 'OsloMet', to: 'OsloMet – storbyuniversitetet' },
      realm: { from: 'oslomet.no', to: 'oslomet.no' },
    });
    expect((await update('OsloMet', { code: 'New' })).statusCode).toBe(400);
    expect((await update('OsloMet', {})).statusCode).toBe(400);
    expect((await update('Nowhere', { name: 'X' })).statusCode).toBe(404);
  });
});

/**
 * The administrators' pages without a browser: who may open them (administrators; anyone else the 403 the API
 * gives, anonymous visitors sent to sign in), every page in nb/nn/en, and each form — channels (create, owners,
 * deletion behind typing the slug), organisations and realms, people (search, admin flag, channel roles), API
 * tokens (revocation behind a confirmation step), the audit log's filters and keyset pages, the suppression
 * look-up and queue health. CSRF on every POST, 303 after success, 400 with an error summary on invalid input.
 */
import { randomUUID } from 'node:crypto';
import { Worker } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suppressAddress } from '../../src/db/suppression.js';
import { LANGUAGES } from '../../src/domain/types.js';
import { buildApp } from '../../src/http/app.js';
import { createRedis } from '../../src/redis.js';
import { recordAudit } from '../../src/services/audit.js';
import { createApiToken } from '../../src/services/tokens.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, grantRole, type TestUser } from '../helpers/factories.js';
import { waitFor } from '../helpers/wait.js';
import { type BrowserSession, browserSession, getPage, postForm } from '../helpers/web.js';

let ctx: TestContext;
let app: FastifyInstance;
let admin: TestUser;
let adminSession: BrowserSession;
let owner: TestUser;
let ownerSession: BrowserSession;

beforeAll(async () => {
  // An issuer, so an anonymous visitor is sent to sign in (the provider is never contacted by these tests).
  ctx = await createTestContext({
    OIDC_ISSUER: 'https://idp.example.org',
    OIDC_CLIENT_ID: 'meldingskanal',
    OIDC_CLIENT_SECRET: 'test-secret',
  });
  const db = ctx.deps.db;
  admin = await createUser(db, { isAdmin: true, organisationCode: 'UiO' });
  await db.user.update({ where: { id: admin.id }, data: { displayName: 'Ada Administrator' } });
  adminSession = await browserSession(db, admin.id);
  // An owner of a channel: a publisher's pages are theirs, the admin pages are not.
  owner = await createUser(db, { organisationCode: 'UiB' });
  await grantRole(db, (await createChannel(db)).id, owner.id, 'owner');
  ownerSession = await browserSession(db, owner.id);
  app = await buildApp(ctx.deps, { logger: false });
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

const PAGES = [
  '/admin',
  '/admin/channels',
  '/admin/organisations',
  '/admin/users',
  '/admin/tokens',
  '/admin/audit',
  '/admin/suppressions',
  '/admin/queues',
];

const lastAudit = (action: string) => ctx.deps.db.auditLog.findFirst({ where: { action }, orderBy: { id: 'desc' } });

describe('who may open the admin pages', () => {
  it('administrators, in nb, nn and en, private and not cached; each page marks its section', async () => {
    for (const path of PAGES) {
      for (const language of LANGUAGES) {
        const page = await getPage(app, `${path}?lang=${language}`, { session: adminSession });
        expect(page.statusCode, `${path} ${language}`).toBe(200);
        expect(page.headers['cache-control']).toBe('private, no-store');
        expect(page.body).toContain(`<html lang="${language}"`);
        expect(page.body.match(/<h1[\s>]/g), `${path}: one h1`).toHaveLength(1);
      }
    }
    const start = await getPage(app, '/admin?lang=en', { session: adminSession });
    for (const path of PAGES.slice(1)) expect(start.body).toContain(`href="${path}"`);
    expect(start.body).toContain('<a class="ds-link" href="/admin" aria-current="page">Administration</a>');
    const audit = await getPage(app, '/admin/audit', { session: adminSession });
    expect(audit.body).toMatch(/<a class="ds-link" href="\/admin\/audit" aria-current="page">Revisjonslogg<\/a>/);
  });

  it('are refused to anyone else as the API refuses them: 403 to the signed-in, sign-in for anonymous visitors', async () => {
    for (const path of [...PAGES, '/admin/channels/x', '/admin/users/00000000-0000-4000-8000-000000000000']) {
      const refused = await getPage(app, path, { session: ownerSession });
      expect(refused.statusCode, path).toBe(403);
      expect(refused.headers['content-type']).toMatch(/^text\/html/);
      const anonymous = await getPage(app, path);
      expect(anonymous.statusCode, path).toBe(303);
      expect(anonymous.headers.location).toBe(`/auth/login?returnTo=${encodeURIComponent(path)}`);
    }
    const channel = await createChannel(ctx.deps.db);
    for (const [path, fields] of [
      ['/admin/channels', { slug: 'kapret', title: 'Kapret', visibility: 'public' }],
      [`/admin/channels/${channel.slug}/delete`, { confirm: channel.slug }],
      [`/admin/users/${owner.id}/admin`, { admin: 'grant' }],
      ['/admin/organisations', { code: 'Kapret', name: 'Kapret', realm: 'kapret.no' }],
    ] as const) {
      const refused = await postForm(app, path, fields, { session: ownerSession });
      expect(refused.statusCode, path).toBe(403);
      // Anonymous: unauthenticated (no session, so no CSRF check first).
      expect((await postForm(app, path, fields)).statusCode, path).toBe(401);
    }
    expect(await ctx.deps.db.channel.count({ where: { slug: 'kapret' } })).toBe(0);
    expect(await ctx.deps.db.channel.count({ where: { id: channel.id } })).toBe(1);
    expect((await ctx.deps.db.user.findUniqueOrThrow({ where: { id: owner.id } })).isAdmin).toBe(false);
  });

  it('refuse every POST without the CSRF token, changing nothing', async () => {
    const channel = await createChannel(ctx.deps.db);
    const forged = (url: string, payload: string) =>
      app.inject({
        method: 'POST',
        url,
        headers: {
          cookie: adminSession.cookie,
          accept: 'text/html',
          'content-type': 'application/x-www-form-urlencoded',
          'sec-fetch-site': 'same-origin',
        },
        payload,
      });
    for (const [url, payload] of [
      ['/admin/channels', 'slug=forged&title=Forged&visibility=public'],
      [`/admin/channels/${channel.slug}/delete`, `confirm=${channel.slug}`],
      [`/admin/channels/${channel.slug}/owners`, `person=${encodeURIComponent(owner.email)}`],
      [`/admin/users/${owner.id}/admin`, 'admin=grant'],
      [`/admin/users/${owner.id}/roles`, `channel=${channel.slug}&role=owner`],
      ['/admin/organisations', 'code=Forged&name=Forged&realm=forged.no'],
    ] as const) {
      const response = await forged(url, payload);
      expect(response.statusCode, url).toBe(403);
      expect(response.headers['content-type'], url).toMatch(/^text\/html/);
    }
    const db = ctx.deps.db;
    expect(await db.channel.count({ where: { slug: 'forged' } })).toBe(0);
    expect(await db.channel.count({ where: { id: channel.id } })).toBe(1);
    expect(await db.channelRole.count({ where: { channelId: channel.id } })).toBe(0);
    expect((await db.user.findUniqueOrThrow({ where: { id: owner.id } })).isAdmin).toBe(false);
    expect(await db.organisation.count({ where: { code: 'Forged' } })).toBe(0);
  });
});

describe('channels and their owners', () => {
  it('lists every channel with its visibility and owners, with links to its owners, settings and deletion', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db, { visibility: 'restricted', title: 'BOTT Lukket' });
    await grantRole(db, channel.id, owner.id, 'owner');
    const page = await getPage(app, '/admin/channels', { session: adminSession });
    expect(page.statusCode).toBe(200);
    const row = new RegExp(`<tr data-channel="${channel.slug}">.*?</tr>`).exec(page.body)?.[0] ?? '';
    expect(row).toContain('BOTT Lukket');
    expect(row).toContain('Begrenset');
    expect(row).toContain(`href="/admin/users/${owner.id}"`);
    expect(row).toContain(`href="/channels/${channel.slug}/settings"`);
    expect(row).toContain(`href="/admin/channels/${channel.slug}/delete"`);
    expect(page.body).toContain('<caption>Alle kanaler, etter adresse</caption>');
  });

  it('creates a channel (303 to its page, audited), with field errors for a bad slug, a blank name or a taken slug', async () => {
    const invalid = await postForm(
      app,
      '/admin/channels',
      { slug: 'Ikke Gyldig', title: '   ', visibility: 'secret' },
      { session: adminSession },
    );
    expect(invalid.statusCode).toBe(400);
    expect(invalid.body).toContain('data-testid="error-summary"');
    for (const field of ['slug', 'title', 'visibility']) expect(invalid.body).toContain(`href="#field-${field}"`);
    expect(invalid.body).toContain('value="Ikke Gyldig"');

    const slug = `bott-ny-${randomUUID().slice(0, 8)}`;
    const created = await postForm(
      app,
      '/admin/channels',
      { slug, title: 'BOTT Ny', description: 'Om det nye', visibility: 'internal' },
      { session: adminSession },
    );
    expect(created.statusCode).toBe(303);
    expect(created.headers.location).toBe(`/admin/channels/${slug}?done=channelCreated`);
    const stored = await ctx.deps.db.channel.findUniqueOrThrow({ where: { slug } });
    expect(stored).toMatchObject({ title: 'BOTT Ny', description: 'Om det nye', visibility: 'internal' });
    expect(await lastAudit('channel.create')).toMatchObject({ actorUserId: admin.id, targetId: stored.id });
    const landing = await getPage(app, created.headers.location as string, { session: adminSession });
    expect(landing.body).toContain('Kanalen er opprettet.');

    const taken = await postForm(
      app,
      '/admin/channels',
      { slug, title: 'Igjen', visibility: 'public' },
      { session: adminSession },
    );
    expect(taken.statusCode).toBe(400);
    expect(taken.body).toContain('Det finnes allerede en kanal med den adressen.');
  });

  it('makes someone owner by e-mail address or Feide id, or a publisher owner, and takes the role away', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db, { title: 'BOTT Eiere' });
    const page = `/admin/channels/${channel.slug}`;
    const kari = await createUser(db, { organisationCode: 'UiT' });
    await db.user.update({ where: { id: kari.id }, data: { principalName: 'kari@uit.no', displayName: 'Kari' } });
    const per = await createUser(db);
    await grantRole(db, channel.id, per.id, 'publisher');

    const unknown = await postForm(app, `${page}/owners`, { person: 'ingen@uit.no' }, { session: adminSession });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.body).toContain('Ingen med den adressen har logget inn ennå.');
    expect(unknown.body).toContain('href="#field-person"');

    const byFeide = await postForm(app, `${page}/owners`, { person: 'KARI@uit.no' }, { session: adminSession });
    expect(byFeide.statusCode).toBe(303);
    expect(byFeide.headers.location).toBe(`${page}?done=ownerAdded`);
    const promoted = await postForm(app, `${page}/owners`, { userId: per.id }, { session: adminSession });
    expect(promoted.statusCode).toBe(303);
    const roles = await db.channelRole.findMany({ where: { channelId: channel.id }, orderBy: { userId: 'asc' } });
    expect(Object.fromEntries(roles.map((r) => [r.userId, r.role]))).toEqual({ [kari.id]: 'owner', [per.id]: 'owner' });
    expect(await lastAudit('channel.role.grant')).toMatchObject({
      actorUserId: admin.id,
      details: { slug: channel.slug, userId: per.id, role: 'owner', previousRole: 'publisher' },
    });

    const shown = await getPage(app, page, { session: adminSession });
    expect(shown.body).toContain('Fjern rollen til Kari');
    expect(shown.body).toContain(`href="/channels/${channel.slug}/settings"`);

    const removed = await postForm(app, `${page}/owners/remove`, { userId: kari.id }, { session: adminSession });
    expect(removed.statusCode).toBe(303);
    expect(await db.channelRole.count({ where: { channelId: channel.id, userId: kari.id } })).toBe(0);
    expect(
      (await postForm(app, `${page}/owners/remove`, { userId: kari.id }, { session: adminSession })).statusCode,
    ).toBe(404);
  });

  it('deletes a channel only after its slug is typed on the confirmation step', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db, { title: 'BOTT Slettes' });
    const confirm = await getPage(app, `/admin/channels/${channel.slug}/delete?lang=nn`, { session: adminSession });
    expect(confirm.statusCode).toBe(200);
    expect(confirm.body).toContain('Ja, slett kanalen');
    expect(await db.channel.count({ where: { id: channel.id } })).toBe(1);

    const wrong = await postForm(
      app,
      `/admin/channels/${channel.slug}/delete`,
      { confirm: 'feil' },
      { session: adminSession },
    );
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body).toContain('href="#field-confirm"');
    expect(await db.channel.count({ where: { id: channel.id } })).toBe(1);

    const deleted = await postForm(
      app,
      `/admin/channels/${channel.slug}/delete`,
      { confirm: ` ${channel.slug} ` },
      { session: adminSession },
    );
    expect(deleted.statusCode).toBe(303);
    expect(deleted.headers.location).toBe('/admin/channels?done=channelDeleted');
    expect(await db.channel.count({ where: { id: channel.id } })).toBe(0);
    expect(await lastAudit('channel.delete')).toMatchObject({ targetId: channel.id, details: { slug: channel.slug } });
    expect((await getPage(app, `/admin/channels/${channel.slug}/delete`, { session: adminSession })).statusCode).toBe(
      404,
    );
  });
});

describe('organisations and realms', () => {
  it('adds one, with errors on the fields for an invalid realm, a taken code or realm', async () => {
    const invalid = await postForm(
      app,
      '/admin/organisations',
      { code: '1x', name: '', realm: 'ikke et domene' },
      { session: adminSession },
    );
    expect(invalid.statusCode).toBe(400);
    for (const field of ['code', 'name', 'realm']) expect(invalid.body).toContain(`href="#field-${field}"`);

    const added = await postForm(
      app,
      '/admin/organisations',
      { code: 'HVL', name: 'Høgskulen på Vestlandet', realm: 'HVL.no' },
      { session: adminSession },
    );
    expect(added.statusCode).toBe(303);
    expect(added.headers.location).toBe('/admin/organisations?done=organisationAdded');
    expect(await ctx.deps.db.organisation.findUniqueOrThrow({ where: { code: 'HVL' } })).toMatchObject({
      realm: 'hvl.no',
    });
    const list = await getPage(app, added.headers.location as string, { session: adminSession });
    expect(list.body).toContain('<th scope="row">HVL</th><td>Høgskulen på Vestlandet</td>');
    expect(list.body).toContain('Organisasjonen er lagt til.');

    const sameCode = await postForm(
      app,
      '/admin/organisations',
      { code: 'hvl', name: 'Igjen', realm: 'annen.no' },
      { session: adminSession },
    );
    expect(sameCode.statusCode).toBe(400);
    expect(sameCode.body).toContain('Det finnes allerede en organisasjon med den koden.');
    const sameRealm = await postForm(
      app,
      '/admin/organisations',
      { code: 'Annen', name: 'Annen', realm: 'hvl.no' },
      { session: adminSession },
    );
    expect(sameRealm.statusCode).toBe(400);
    expect(sameRealm.body).toContain('En annen organisasjon har allerede den realmen.');
  });

  it("changes one's name and realm (audited), and refuses an invalid realm or an unknown code", async () => {
    await ctx.deps.db.organisation.create({ data: { code: 'NHH', name: 'NHH', realm: 'nhh.no' } });
    const form = await getPage(app, '/admin/organisations/nhh', { session: adminSession });
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('value="nhh.no"');
    const invalid = await postForm(
      app,
      '/admin/organisations/NHH',
      { name: 'NHH', realm: 'nhh' },
      { session: adminSession },
    );
    expect(invalid.statusCode).toBe(400);
    expect(invalid.body).toContain('href="#field-realm"');
    const changed = await postForm(
      app,
      '/admin/organisations/NHH',
      { name: 'Norges Handelshøyskole', realm: 'student.nhh.no' },
      { session: adminSession },
    );
    expect(changed.statusCode).toBe(303);
    expect(await ctx.deps.db.organisation.findUniqueOrThrow({ where: { code: 'NHH' } })).toMatchObject({
      name: 'Norges Handelshøyskole',
      realm: 'student.nhh.no',
    });
    expect(await lastAudit('organisation.update')).toMatchObject({
      details: { realm: { from: 'nhh.no', to: 'student.nhh.no' } },
    });
    expect((await getPage(app, '/admin/organisations/Ukjent', { session: adminSession })).statusCode).toBe(404);
    expect(
      (await postForm(app, '/admin/organisations/Ukjent', { name: 'X', realm: 'x.no' }, { session: adminSession }))
        .statusCode,
    ).toBe(404);
  });
});

describe('people and roles', () => {
  it('finds people by name, e-mail address or Feide id, shows organisation, admin flag and roles, and pages by name', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db, { title: 'BOTT Søk' });
    const nora = await createUser(db, { organisationCode: 'NTNU', email: 'nora.nordmann@ntnu.no' });
    await db.user.update({
      where: { id: nora.id },
      data: { displayName: 'Nora Nordmann', principalName: 'noran@ntnu.no', lastLoginAt: new Date() },
    });
    await grantRole(db, channel.id, nora.id, 'publisher');
    for (const q of ['nordmann', 'NORA.NORDMANN@', 'noran@ntnu']) {
      const page = await getPage(app, `/admin/users?q=${encodeURIComponent(q)}`, { session: adminSession });
      expect(page.statusCode, q).toBe(200);
      const row = new RegExp(`<tr data-user="${nora.id}">.*?</tr>`).exec(page.body)?.[0] ?? '';
      expect(row, q).toContain('Nora Nordmann');
      expect(row).toContain('noran@ntnu.no');
      expect(row).toContain('NTNU');
      expect(row).toContain('Publisist i BOTT Søk');
    }
    const admins = await getPage(app, '/admin/users?admins=1', { session: adminSession });
    expect(admins.body).toContain('Ada Administrator');
    expect(admins.body).not.toContain('Nora Nordmann');
    const none = await getPage(app, '/admin/users?q=finnesikke', { session: adminSession });
    expect(none.body).toContain('Ingen personer passer til søket.');
    const tooLong = await getPage(app, `/admin/users?q=${'x'.repeat(300)}`, { session: adminSession });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.body).toContain('href="#field-q"');

    // 55 people of one name: 50 on the first page, a link to the next, 5 there, none twice.
    await db.user.createMany({
      data: Array.from({ length: 55 }, (_, i) => ({
        displayName: `Pagina ${String(i).padStart(2, '0')}`,
        email: `pagina-${i}-${randomUUID()}@example.org`,
      })),
    });
    const first = await getPage(app, '/admin/users?q=pagina', { session: adminSession });
    const ids = (body: string) => [...body.matchAll(/<tr data-user="([^"]+)">/g)].map((m) => m[1]);
    expect(ids(first.body)).toHaveLength(50);
    const next = /href="(\/admin\/users\?[^"]*cursor=[^"]+)" rel="next"/.exec(first.body)?.[1]?.replace(/&amp;/g, '&');
    expect(next).toBeDefined();
    const second = await getPage(app, next!, { session: adminSession });
    expect(ids(second.body)).toHaveLength(5);
    expect(new Set([...ids(first.body), ...ids(second.body)]).size).toBe(55);
  });

  it('gives and takes a channel role through the channel-settings rules, with errors on the form', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db, { title: 'BOTT Roller', visibility: 'restricted' });
    const person = await createUser(db);
    const page = `/admin/users/${person.id}`;
    const shown = await getPage(app, page, { session: adminSession });
    expect(shown.statusCode).toBe(200);
    expect(shown.body).toContain(`<option value="${channel.slug}">BOTT Roller</option>`);

    const noChannel = await postForm(
      app,
      `${page}/roles`,
      { channel: '', role: 'publisher' },
      { session: adminSession },
    );
    expect(noChannel.statusCode).toBe(400);
    expect(noChannel.body).toContain('href="#field-channel"');
    const gone = await postForm(
      app,
      `${page}/roles`,
      { channel: 'finnes-ikke', role: 'owner' },
      { session: adminSession },
    );
    expect(gone.statusCode).toBe(400);
    expect(gone.body).toContain('Ingen kanal har den adressen.');

    const granted = await postForm(
      app,
      `${page}/roles`,
      { channel: channel.slug, role: 'publisher' },
      { session: adminSession },
    );
    expect(granted.statusCode).toBe(303);
    expect(granted.headers.location).toBe(`${page}?done=roleGranted`);
    expect(
      (
        await db.channelRole.findUniqueOrThrow({
          where: { channelId_userId: { channelId: channel.id, userId: person.id } },
        })
      ).role,
    ).toBe('publisher');
    const withRole = await getPage(app, granted.headers.location as string, { session: adminSession });
    expect(withRole.body).toContain('Rollen er gitt.');
    expect(withRole.body).toContain('Fjern rollen i BOTT Roller');

    const revoked = await postForm(app, `${page}/roles/revoke`, { channel: channel.slug }, { session: adminSession });
    expect(revoked.statusCode).toBe(303);
    expect(await db.channelRole.count({ where: { channelId: channel.id, userId: person.id } })).toBe(0);
    expect(await lastAudit('channel.role.revoke')).toMatchObject({ details: { userId: person.id, role: 'publisher' } });
    expect((await getPage(app, `/admin/users/${randomUUID()}`, { session: adminSession })).statusCode).toBe(404);
  });

  it('makes someone an administrator and takes it away (audited), but never one’s own', async () => {
    const db = ctx.deps.db;
    const person = await createUser(db);
    const page = `/admin/users/${person.id}`;
    const granted = await postForm(app, `${page}/admin`, { admin: 'grant' }, { session: adminSession });
    expect(granted.statusCode).toBe(303);
    expect(granted.headers.location).toBe(`${page}?done=adminGranted`);
    expect((await db.user.findUniqueOrThrow({ where: { id: person.id } })).isAdmin).toBe(true);
    expect(await lastAudit('user.admin.grant')).toMatchObject({
      actorUserId: admin.id,
      targetType: 'user',
      targetId: person.id,
      outcome: 'success',
    });
    // Granting again changes nothing and records nothing.
    const before = await db.auditLog.count({ where: { action: 'user.admin.grant' } });
    await postForm(app, `${page}/admin`, { admin: 'grant' }, { session: adminSession });
    expect(await db.auditLog.count({ where: { action: 'user.admin.grant' } })).toBe(before);
    // The new administrator opens the admin pages.
    const theirs = await browserSession(db, person.id);
    expect((await getPage(app, '/admin', { session: theirs })).statusCode).toBe(200);

    const revoked = await postForm(app, `${page}/admin`, { admin: 'revoke' }, { session: adminSession });
    expect(revoked.statusCode).toBe(303);
    expect((await db.user.findUniqueOrThrow({ where: { id: person.id } })).isAdmin).toBe(false);
    expect(await lastAudit('user.admin.revoke')).toMatchObject({ targetId: person.id });
    expect((await getPage(app, '/admin', { session: theirs })).statusCode).toBe(403);

    const own = await getPage(app, `/admin/users/${admin.id}`, { session: adminSession });
    expect(own.body).toContain('Du kan ikke ta fra deg din egen administratorrett.');
    const self = await postForm(app, `/admin/users/${admin.id}/admin`, { admin: 'revoke' }, { session: adminSession });
    expect(self.statusCode).toBe(409);
    expect((await db.user.findUniqueOrThrow({ where: { id: admin.id } })).isAdmin).toBe(true);
    expect((await postForm(app, `${page}/admin`, { admin: 'maybe' }, { session: adminSession })).statusCode).toBe(400);
  });
});

describe('API tokens', () => {
  it('lists everyone’s tokens with owner, prefix, scopes, use and expiry — never a secret — and one person’s', async () => {
    const db = ctx.deps.db;
    const person = await createUser(db);
    const created = await createApiToken(db, {
      userId: person.id,
      name: 'CI-publisering',
      scopes: ['publish'],
      expiresAt: new Date(Date.now() + 86_400_000),
    });
    const list = await getPage(app, '/admin/tokens', { session: adminSession });
    expect(list.statusCode).toBe(200);
    const row = new RegExp(`<tr data-token="${created.id}">.*?</tr>`).exec(list.body)?.[0] ?? '';
    expect(row).toContain('CI-publisering');
    expect(row).toContain(`href="/admin/users/${person.id}"`);
    expect(row).toContain(`${created.prefix}…`);
    expect(row).toContain('publisere');
    expect(row).toContain('Aldri');
    expect(row).toContain(`href="/admin/tokens/${created.id}/revoke"`);
    expect(list.body).not.toContain(created.token);
    const stored = await db.apiToken.findUniqueOrThrow({ where: { id: created.id } });
    expect(list.body).not.toContain(stored.tokenHash);

    const theirs = await getPage(app, `/admin/tokens?user=${person.id}`, { session: adminSession });
    expect([...theirs.body.matchAll(/<tr data-token=/g)]).toHaveLength(1);
    expect(theirs.body).toContain('Vis alle API-nøklene');
  });

  it('revokes one behind a confirmation step (303, audited, gone from the list)', async () => {
    const db = ctx.deps.db;
    const created = await createApiToken(db, { userId: owner.id, name: 'Lekket nøkkel' });
    const confirm = await getPage(app, `/admin/tokens/${created.id}/revoke?lang=en`, { session: adminSession });
    expect(confirm.statusCode).toBe(200);
    expect(confirm.body).toContain('Yes, revoke the token');
    expect((await db.apiToken.findUniqueOrThrow({ where: { id: created.id } })).revokedAt).toBeNull();

    const revoked = await postForm(app, `/admin/tokens/${created.id}/revoke`, {}, { session: adminSession });
    expect(revoked.statusCode).toBe(303);
    expect(revoked.headers.location).toBe('/admin/tokens?done=tokenRevoked');
    expect((await db.apiToken.findUniqueOrThrow({ where: { id: created.id } })).revokedAt).not.toBeNull();
    expect(await lastAudit('token.revoke')).toMatchObject({ actorUserId: admin.id, targetId: created.id });
    const list = await getPage(app, revoked.headers.location as string, { session: adminSession });
    expect(list.body).toContain('API-nøkkelen er trukket tilbake.');
    expect(list.body).not.toContain(`data-token="${created.id}"`);
    expect((await postForm(app, `/admin/tokens/${created.id}/revoke`, {}, { session: adminSession })).statusCode).toBe(
      404,
    );
  });
});

describe('the audit log', () => {
  it('filters by who, action, target (a channel by its slug), outcome and time, naming people', async () => {
    const db = ctx.deps.db;
    const channel = await createChannel(db, { title: 'BOTT Revisjon' });
    const person = await createUser(db);
    await db.user.update({ where: { id: person.id }, data: { displayName: 'Pia Publisist' } });
    const granted = await postForm(
      app,
      `/admin/users/${person.id}/roles`,
      { channel: channel.slug, role: 'publisher' },
      { session: adminSession },
    );
    expect(granted.statusCode).toBe(303);

    const query = new URLSearchParams({
      actor: admin.email.toUpperCase(),
      action: 'channel.role.grant',
      targetType: 'channel',
      target: channel.slug,
      outcome: 'success',
    });
    const page = await getPage(app, `/admin/audit?${query}`, { session: adminSession });
    expect(page.statusCode).toBe(200);
    const rows = [...page.body.matchAll(/<tr data-action="([^"]+)">(.*?)<\/tr>/g)];
    expect(rows).toHaveLength(1);
    const row = rows[0]![2]!;
    expect(rows[0]![1]).toBe('channel.role.grant');
    expect(row).toContain('Rolle gitt i kanal');
    expect(row).toContain(`<a class="ds-link" href="/admin/users/${admin.id}">Ada Administrator</a>`);
    expect(row).toContain(`<a class="ds-link" href="/admin/users/${person.id}">Pia Publisist</a>`);
    expect(row).toContain(`href="/admin/channels/${channel.slug}"`);
    expect(row).toContain('publisher');

    // A window after now holds nothing; one around now holds it.
    const later = await getPage(app, `/admin/audit?${query}&from=2999-01-01T00:00`, { session: adminSession });
    expect(later.body).toContain('Ingen hendelser passer til filtrene.');
    const denied = await getPage(app, '/admin/audit?outcome=denied&lang=en', { session: adminSession });
    expect(denied.statusCode).toBe(200);
    // The owner's refused visits to the admin pages (403) are there.
    expect(denied.body).toContain('Access denied');
  });

  it('answers invalid filters with 400 and the error summary, and shows no records then', async () => {
    const cases: [string, string][] = [
      ['from=2026-02-30T10:00', 'from'],
      ['from=2026-03-02T10:00&to=2026-03-01T10:00', 'from'],
      ['actor=ingen%40example.org', 'actor'],
      ['actor=ikke-en-adresse', 'actor'],
      ['action=channel.explode', 'action'],
      ['targetType=channel&target=finnes-ikke', 'target'],
      [`target=${'x'.repeat(201)}`, 'target'],
    ];
    for (const [query, field] of cases) {
      const page = await getPage(app, `/admin/audit?${query}`, { session: adminSession });
      expect(page.statusCode, query).toBe(400);
      expect(page.body, query).toContain(`href="#field-${field}"`);
      expect(page.body, query).not.toContain('<tr data-action=');
    }
    const badCursor = await getPage(app, '/admin/audit?cursor=garbage', { session: adminSession });
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.body).toContain('Lenken til neste side er ikke gyldig lenger.');
  });

  it('pages newest first by keyset, keeping the filters in the next link', async () => {
    const db = ctx.deps.db;
    const targetId = randomUUID();
    for (let i = 0; i < 55; i++) {
      await recordAudit(db, {
        actor: 'system',
        action: 'webhook.disable',
        outcome: 'success',
        targetType: 'webhook',
        targetId,
        details: { n: i },
      });
    }
    const first = await getPage(app, `/admin/audit?targetType=webhook&target=${targetId}`, { session: adminSession });
    const ns = (body: string) => [...body.matchAll(/<dt>n<\/dt><dd>(\d+)<\/dd>/g)].map((m) => Number(m[1]));
    expect(ns(first.body)).toHaveLength(50);
    expect(ns(first.body)[0]).toBe(54);
    expect(first.body).toContain('Systemet');
    const next = /href="(\/admin\/audit\?[^"]*cursor=[^"]+)" rel="next"/.exec(first.body)?.[1]?.replace(/&amp;/g, '&');
    expect(next).toContain(`target=${targetId}`);
    const second = await getPage(app, next!, { session: adminSession });
    expect(ns(second.body)).toEqual([4, 3, 2, 1, 0]);
  });
});

describe('the suppression list and the queues', () => {
  it('looks up one address: its suppression with the reason, or that it is not listed; a non-address is a field error', async () => {
    await suppressAddress(ctx.deps.db, {
      email: 'borte@uib.no',
      reason: 'bounce',
      detail: '550 5.1.1 mailbox unavailable',
      deliveryId: null,
    });
    const found = await getPage(app, '/admin/suppressions?email=Borte%40UiB.no', { session: adminSession });
    expect(found.statusCode).toBe(200);
    expect(found.body).toContain('Sperring av borte@uib.no');
    expect(found.body).toContain('E-posttjeneren avviste adressen for godt');
    expect(found.body).toContain('550 5.1.1 mailbox unavailable');
    expect(found.body).toContain('Sperret');
    const none = await getPage(app, '/admin/suppressions?email=her%40uib.no&lang=en', { session: adminSession });
    expect(none.statusCode).toBe(200);
    expect(none.body).toContain('her@uib.no is not on the suppression list.');
    const invalid = await getPage(app, '/admin/suppressions?email=ikke-en-adresse', { session: adminSession });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.body).toContain('href="#field-email"');
  });

  it('shows each queue with counts and the paused flag, the ledger by status, and a queue’s failed jobs', async () => {
    const queues = ctx.deps.queues;
    await queues.maintenance.pause();
    const connection = createRedis(ctx.config.redis.url, 'worker', 'test-admin-pages-worker');
    const worker = new Worker(
      queues.confirmation.name,
      async () => {
        throw new Error('relay unreachable');
      },
      { connection, prefix: `${ctx.config.redis.prefix}:bull` },
    );
    try {
      await queues.confirmation.add(
        'confirmation',
        { subscriptionId: '7', requestedAt: 1 },
        { jobId: 'c-7', attempts: 1 },
      );
      await waitFor(async () => (await queues.confirmation.getFailedCount()) === 1, { what: 'a failed job' });
    } finally {
      await worker.close();
      connection.disconnect();
    }
    const page = await getPage(app, '/admin/queues', { session: adminSession });
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/<tr data-queue="maintenance">.*?Satt på pause.*?<\/tr>/);
    expect(page.body).toMatch(/<tr data-queue="confirmation">.*?<td data-state="failed">1<\/td><\/tr>/);
    expect(page.body).toContain('<caption>Leveranser og sammendrag etter status</caption>');
    expect(page.body).toContain('href="/admin/queues/confirmation"');
    await queues.maintenance.resume();

    const failed = await getPage(app, '/admin/queues/confirmation?lang=en', { session: adminSession });
    expect(failed.statusCode).toBe(200);
    expect(failed.body).toContain('relay unreachable');
    expect(failed.body).toContain('c-7');
    expect(failed.body).not.toContain('subscriptionId');
    expect((await getPage(app, '/admin/queues/nope', { session: adminSession })).statusCode).toBe(404);
  });
});

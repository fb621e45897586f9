/**
 * The publishers' editor and start page without a browser (src/http/routes/web/publisher/): who may open them (a
 * publisher of another channel gets the pages the API's answers would give: 404 for a channel they cannot read, 403
 * for one they can), CSRF on every form, validation errors on the fields with an error summary (400), the no-JS
 * preview, publishing, scheduling and saving drafts (303 to a GET page), attachments from multipart forms, material
 * edits with optimistic locking (409 with the form kept), and the live preview endpoint.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { publishAnnouncement } from '../../src/services/publish.js';
import { localDateTimeValue } from '../../src/web/local-time.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, grantRole, type TestChannel, type TestUser } from '../helpers/factories.js';
import { pdf } from '../helpers/files.js';
import { type BrowserSession, browserSession, getPage, postForm } from '../helpers/web.js';

let ctx: TestContext;
let app: FastifyInstance;
let channel: TestChannel;
let restricted: TestChannel;
let publisher: TestUser;
let session: BrowserSession;
let otherSession: BrowserSession;

beforeAll(async () => {
  ctx = await createTestContext();
  const db = ctx.deps.db;
  channel = await createChannel(db, { visibility: 'internal', title: 'BOTT Økonomi' });
  restricted = await createChannel(db, { visibility: 'restricted', title: 'Lukket' });
  publisher = await createUser(db, { organisationCode: 'UiB' });
  await createUser(db, { organisationCode: 'UiO' });
  await grantRole(db, channel.id, publisher.id, 'publisher');
  session = await browserSession(db, publisher.id);
  // Publishes elsewhere: reads this internal channel but may not publish there, and cannot see the restricted one.
  const other = await createUser(db, { organisationCode: 'UiO' });
  const elsewhere = await createChannel(db, { visibility: 'public' });
  await grantRole(db, elsewhere.id, other.id, 'publisher');
  otherSession = await browserSession(db, other.id);
  app = await buildApp(ctx.deps, { logger: false });
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

const newPath = () => `/channels/${channel.slug}/announcements/new`;

/** A multipart body as a browser sends it: fields in order (the CSRF token first), then files. */
function multipart(
  fields: [string, string][],
  files: { name: string; filename: string; type: string; bytes: Buffer }[] = [],
): { payload: Buffer; contentType: string } {
  const boundary = '----mk-test-boundary-7f3a';
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  for (const file of files) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${file.name}"; filename="${file.filename}"\r\n` +
          `Content-Type: ${file.type}\r\n\r\n`,
      ),
      file.bytes,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

function postMultipart(url: string, body: { payload: Buffer; contentType: string }, as: BrowserSession) {
  return app.inject({
    method: 'POST',
    url,
    headers: {
      accept: 'text/html',
      cookie: as.cookie,
      'content-type': body.contentType,
      'sec-fetch-site': 'same-origin',
    },
    payload: body.payload,
  });
}

const errorSummaryOf = (html: string) =>
  /data-testid="error-summary"[\s\S]*?<\/ds-error-summary>/.exec(html)?.[0] ?? '';

describe('the publishing start page', () => {
  it('lists the channels the person publishes in, with a link to write in each; nothing for others', async () => {
    await publishAnnouncement(
      { db: ctx.deps.db, publicUrl: ctx.config.http.publicUrl },
      {
        kind: 'user',
        userId: publisher.id,
        isAdmin: false,
        organisationId: publisher.organisationId,
        scopes: ['read', 'publish'],
      },
      channel.slug,
      { title: 'Et utkast om lønn', body: 'Tekst', draft: true },
    );
    const page = await getPage(app, '/publish', { session });
    expect(page.statusCode).toBe(200);
    expect(page.headers['cache-control']).toBe('private, no-store');
    expect(page.body).toContain('BOTT Økonomi');
    expect(page.body).toContain(`href="${newPath()}"`);
    expect(page.body).toContain('Et utkast om lønn');
    expect(page.body).not.toContain('Lukket');

    const other = await getPage(app, '/publish', { session: otherSession });
    expect(other.body).not.toContain('BOTT Økonomi');

    // Without a sign-in configured here, an anonymous visitor gets the 401 page (with one, sign-in and back).
    const anonymous = await getPage(app, '/publish');
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['content-type']).toMatch(/^text\/html/);
  });
});

describe('the editor of a new announcement', () => {
  it('is shown in each language with every field labelled, and refused to others as the API would', async () => {
    for (const [language, heading] of [
      ['nb', 'Ny kunngjøring i BOTT Økonomi'],
      ['nn', 'Ny kunngjering i BOTT Økonomi'],
      ['en', 'New announcement in BOTT Økonomi'],
    ] as const) {
      const page = await getPage(app, `${newPath()}?lang=${language}`, { session });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain(heading);
      expect(page.body).toContain('enctype="multipart/form-data"');
      // Every input, select and textarea has a label pointing at it.
      for (const [, id] of page.body.matchAll(/<(?:input|select|textarea)[^>]*\bid="([^"]+)"/g)) {
        expect(page.body, id).toContain(`for="${id}"`);
      }
    }
    const readerOnly = await getPage(app, newPath(), { session: otherSession });
    expect(readerOnly.statusCode).toBe(403);
    expect(readerOnly.headers['content-type']).toMatch(/^text\/html/);
    const hidden = await getPage(app, `/channels/${restricted.slug}/announcements/new`, { session: otherSession });
    expect(hidden.statusCode).toBe(404);
    const unknown = await getPage(app, '/channels/finst-ikkje/announcements/new', { session });
    expect(unknown.statusCode).toBe(404);
  });

  it('publishes a plain announcement from an urlencoded form (no JavaScript) and goes on to its page', async () => {
    const response = await postForm(
      app,
      newPath(),
      { 'title.nb': 'Fakturering stengt', 'body.nb': 'Fakturering er **stengt** fredag.', action: 'publish' },
      { session },
    );
    expect(response.statusCode).toBe(303);
    const location = String(response.headers.location);
    expect(location).toMatch(/^\/announcements\/[0-9a-f-]{36}\/deliveries\?saved=published$/);
    const id = location.split('/')[2]!;
    const stored = await ctx.deps.db.announcement.findUniqueOrThrow({ where: { id } });
    expect(stored).toMatchObject({ status: 'published', title: 'Fakturering stengt', language: 'nb' });
  });

  it('refuses a form without the CSRF token, and one from another site', async () => {
    const before = await ctx.deps.db.announcement.count();
    const forged = await app.inject({
      method: 'POST',
      url: newPath(),
      headers: {
        accept: 'text/html',
        cookie: session.cookie,
        'content-type': 'application/x-www-form-urlencoded',
        'sec-fetch-site': 'same-origin',
      },
      payload: new URLSearchParams({ 'title.nb': 'X', 'body.nb': 'Y', action: 'publish' }).toString(),
    });
    expect(forged.statusCode).toBe(403);
    const crossSite = multipart([
      ['_csrf', session.csrfToken],
      ['title.nb', 'X'],
      ['body.nb', 'Y'],
      ['action', 'publish'],
    ]);
    const fromElsewhere = await app.inject({
      method: 'POST',
      url: newPath(),
      headers: {
        accept: 'text/html',
        cookie: session.cookie,
        'content-type': crossSite.contentType,
        'sec-fetch-site': 'cross-site',
      },
      payload: crossSite.payload,
    });
    expect(fromElsewhere.statusCode).toBe(403);
    const noToken = multipart([
      ['title.nb', 'X'],
      ['body.nb', 'Y'],
      ['action', 'publish'],
    ]);
    expect((await postMultipart(newPath(), noToken, session)).statusCode).toBe(403);
    // A file before the token is refused before it is read.
    const fileFirst = multipart([], [{ name: 'files', filename: 'a.pdf', type: 'application/pdf', bytes: pdf() }]);
    expect((await postMultipart(newPath(), fileFirst, session)).statusCode).toBe(403);
    expect(await ctx.deps.db.announcement.count()).toBe(before);
  });

  it('answers invalid input with 400, an error summary and each field’s error, keeping what was typed', async () => {
    const response = await postForm(
      app,
      newPath(),
      {
        'title.nb': '',
        'body.nb': 'Teksten er her',
        'title.en': 'Only a title',
        type: 'maintenance',
        startsAt: '2026-13-40T10:00',
        publishAt: '',
        action: 'schedule',
      },
      { session },
    );
    expect(response.statusCode).toBe(400);
    const summary = errorSummaryOf(response.body);
    expect(summary).toContain('href="#field-title-nb"');
    expect(summary).toContain('href="#field-body-en"');
    expect(summary).toContain('href="#field-startsAt"');
    expect(summary).toContain('href="#field-publishAt"');
    expect(summary).toContain('Velg når kunngjøringen skal publiseres.');
    expect(response.body).toContain('id="field-title-nb-error"');
    expect(response.body).toContain('aria-invalid="true"');
    expect(response.body).toContain('Teksten er her');
    // The service's rules too: a maintenance notice names its system.
    const second = await postForm(
      app,
      `${newPath()}?lang=en`,
      { 'title.nb': 'Vedlikehold', 'body.nb': 'Nede', type: 'maintenance', action: 'publish' },
      { session },
    );
    expect(second.statusCode).toBe(400);
    expect(errorSummaryOf(second.body)).toContain('Name the system the maintenance concerns.');
  });

  it('previews the bodies without JavaScript, rendered and sanitised as readers will see them', async () => {
    const response = await postForm(
      app,
      newPath(),
      {
        'title.nb': 'Tittel',
        'body.nb': 'Dette er **viktig** <script>alert(1)</script>',
        'body.en': 'This is *it*',
        action: 'preview',
      },
      { session },
    );
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('<strong>viktig</strong>');
    expect(response.body).toContain('<em>it</em>');
    expect(response.body).not.toContain('<script>alert(1)</script>');
    // Nothing was stored.
    expect(await ctx.deps.db.announcement.count({ where: { title: 'Tittel' } })).toBe(0);
  });

  it('schedules a bilingual announcement with an attachment from a multipart form', async () => {
    const publishAt = new Date(Date.now() + 3_600_000);
    const body = multipart(
      [
        ['_csrf', session.csrfToken],
        ['language', 'nb'],
        ['title.nb', 'Ny lønnsløsning'],
        ['body.nb', 'Se vedlegget.'],
        ['title.en', 'New payroll'],
        ['body.en', 'See the attachment.'],
        ['audience', 'UiB'],
        ['publishAt', localDateTimeValue(publishAt)],
        ['action', 'schedule'],
      ],
      [{ name: 'files', filename: 'veiledning.pdf', type: 'application/pdf', bytes: pdf('guide') }],
    );
    const response = await postMultipart(newPath(), body, session);
    expect(response.statusCode, response.body.slice(0, 500)).toBe(303);
    const id = String(response.headers.location).split('/')[2]!;
    const stored = await ctx.deps.db.announcement.findUniqueOrThrow({
      where: { id },
      include: { translations: true, attachments: true },
    });
    expect(stored.status).toBe('scheduled');
    expect(Math.abs(stored.publishAt!.getTime() - publishAt.getTime())).toBeLessThan(1000);
    expect(stored.translations.map((t) => [t.language, t.title])).toEqual([['en', 'New payroll']]);
    expect(stored.attachments.map((a) => a.filename)).toEqual(['veiledning.pdf']);
    expect(stored.audienceOrganisationIds).toHaveLength(1);
  });

  it('refuses a file that is not what it says before storing anything', async () => {
    const before = await ctx.deps.db.announcement.count();
    const body = multipart(
      [
        ['_csrf', session.csrfToken],
        ['title.nb', 'Med feil fil'],
        ['body.nb', 'Tekst'],
        ['action', 'publish'],
      ],
      [{ name: 'files', filename: 'bilde.png', type: 'image/png', bytes: pdf() }],
    );
    const response = await postMultipart(newPath(), body, session);
    expect(response.statusCode).toBe(400);
    expect(errorSummaryOf(response.body)).toContain('bilde.png');
    expect(await ctx.deps.db.announcement.count()).toBe(before);
  });
});

describe('editing an announcement', () => {
  async function published(title: string) {
    const response = await postForm(
      app,
      newPath(),
      { 'title.nb': title, 'body.nb': 'Første tekst', action: 'publish' },
      { session },
    );
    return String(response.headers.location).split('/')[2]!;
  }

  it('asks whether a change to a published one is material, then saves it as a new revision', async () => {
    const id = await published('Endres vesentlig');
    const form = await getPage(app, `/announcements/${id}/edit`, { session });
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('name="revision" value="1"');
    const fields = { 'title.nb': 'Endres vesentlig', 'body.nb': 'Ny tekst', revision: '1', action: 'save' };
    const undecided = await postForm(app, `/announcements/${id}/edit`, fields, { session });
    expect(undecided.statusCode).toBe(400);
    expect(errorSummaryOf(undecided.body)).toContain('href="#field-change"');
    const saved = await postForm(
      app,
      `/announcements/${id}/edit`,
      { ...fields, change: 'material', note: 'Ny dato' },
      { session },
    );
    expect(saved.statusCode).toBe(303);
    expect(saved.headers.location).toBe(`/announcements/${id}/deliveries?saved=updated`);
    const revision = await ctx.deps.db.announcementRevision.findFirstOrThrow({
      where: { announcementId: id, revision: 2 },
    });
    expect(revision).toMatchObject({ material: true, note: 'Ny dato' });
  });

  it('answers 409 with the form kept when someone else saved meanwhile', async () => {
    const id = await published('Samtidig endring');
    const first = {
      'title.nb': 'Samtidig endring',
      'body.nb': 'Versjon A',
      revision: '1',
      change: 'minor',
      action: 'save',
    };
    expect((await postForm(app, `/announcements/${id}/edit`, first, { session })).statusCode).toBe(303);
    const stale = await postForm(app, `/announcements/${id}/edit`, { ...first, 'body.nb': 'Versjon B' }, { session });
    expect(stale.statusCode).toBe(409);
    expect(errorSummaryOf(stale.body)).toContain('revisjon 2');
    expect(stale.body).toContain('Versjon B');
    expect(stale.body).toContain('name="revision" value="2"');
    const stored = await ctx.deps.db.announcement.findUniqueOrThrow({ where: { id } });
    expect(stored.body).toBe('Versjon A');
  });

  it('pins and unpins a published announcement without making a revision', async () => {
    const id = await published('Festes');
    const fields = { 'title.nb': 'Festes', 'body.nb': 'Første tekst', revision: '1', action: 'save' };
    expect(
      (await postForm(app, `/announcements/${id}/edit`, { ...fields, pinned: 'on' }, { session })).statusCode,
    ).toBe(303);
    expect((await ctx.deps.db.announcement.findUniqueOrThrow({ where: { id } })).pinnedAt).not.toBeNull();
    expect((await postForm(app, `/announcements/${id}/edit`, fields, { session })).statusCode).toBe(303);
    const stored = await ctx.deps.db.announcement.findUniqueOrThrow({ where: { id } });
    expect(stored).toMatchObject({ pinnedAt: null, revision: 1 });
  });

  it('is refused to a publisher of another channel as the API would (403)', async () => {
    const id = await published('Ikke din');
    const page = await getPage(app, `/announcements/${id}/edit`, { session: otherSession });
    expect(page.statusCode).toBe(403);
    const post = await postForm(
      app,
      `/announcements/${id}/edit`,
      { 'title.nb': 'X', 'body.nb': 'Y', action: 'save' },
      { session: otherSession },
    );
    expect(post.statusCode).toBe(403);
    expect((await getPage(app, '/announcements/not-an-id/edit', { session })).statusCode).toBe(404);
  });
});

describe('the live preview endpoint', () => {
  it('renders a body with the one renderer for publishers, with the CSRF header', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/publish/preview',
      headers: {
        cookie: session.cookie,
        'content-type': 'application/x-www-form-urlencoded',
        'x-csrf-token': session.csrfToken,
        'sec-fetch-site': 'same-origin',
      },
      payload: new URLSearchParams({ body: '# Hei\n\n<img src=x onerror=alert(1)>' }).toString(),
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().html).toContain('<h2>Hei</h2>');
    expect(response.json().html).not.toContain('onerror');
    const withoutToken = await app.inject({
      method: 'POST',
      url: '/publish/preview',
      headers: {
        cookie: session.cookie,
        'content-type': 'application/x-www-form-urlencoded',
        'sec-fetch-site': 'same-origin',
      },
      payload: 'body=x',
    });
    expect(withoutToken.statusCode).toBe(403);
  });
});

/**
 * The channel page kept as finished HTML for anonymous readers (src/web/page-cache.ts), with TWO app instances on one
 * database, as two API processes would run: instance B serves the page from its read cache and forgets it when
 * instance A publishes, edits or retracts (told by PostgreSQL's notifications); each language has its own copy; a
 * signed-in reader is never given the anonymous copy; addresses with a query other than `?lang=` are rendered per
 * request; the copy carries no CSP nonce while every response's policy has a fresh one; and a relative time ("now")
 * ends the copy when it would read otherwise.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser, grantRole, type TestChannel, tokenFor } from '../helpers/factories.js';
import { waitFor } from '../helpers/wait.js';
import { type BrowserSession, browserSession, getPage } from '../helpers/web.js';

let ctx: TestContext;
let a: FastifyInstance;
let b: FastifyInstance;
let channel: TestChannel;
let publisherToken: string;
let reader: BrowserSession;
const READER_NAME = 'Rita Leser';

beforeAll(async () => {
  // The cache on (test contexts turn it off so other tests need not wait for notifications).
  ctx = await createTestContext({ READ_CACHE_TTL_MS: '60000' });
  a = await buildApp(ctx.deps, { logger: false });
  b = await buildApp(ctx.deps, { logger: false });
  const db = ctx.deps.db;
  channel = await createChannel(db, { visibility: 'public', title: 'Hurtigkanalen' });
  const publisher = await createUser(db, { organisationCode: 'UiO' });
  await grantRole(db, channel.id, publisher.id, 'publisher');
  publisherToken = await tokenFor(db, publisher.id);
  const user = await createUser(db, { organisationCode: 'UiO' });
  await db.user.update({ where: { id: user.id }, data: { displayName: READER_NAME } });
  reader = await browserSession(db, user.id);
  await publish(channel, { title: 'Første melding', body: 'Tekst' });
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await ctx?.close();
});

async function publish(into: TestChannel, body: Record<string, unknown>): Promise<{ id: string }> {
  const response = await a.inject({
    method: 'POST',
    url: `/api/v1/channels/${into.slug}/announcements`,
    headers: { authorization: `Bearer ${publisherToken}` },
    payload: body,
  });
  expect(response.statusCode).toBe(201);
  return response.json();
}

const pagePath = (of: TestChannel = channel) => `/channels/${of.slug}`;

/** Reads instance B until `check` holds for its answer (the notification travels asynchronously). */
async function eventually(
  read: () => Promise<LightMyRequestResponse>,
  check: (response: LightMyRequestResponse) => boolean,
  what: string,
): Promise<LightMyRequestResponse> {
  return waitFor(
    async () => {
      const response = await read();
      return check(response) ? response : false;
    },
    { what },
  );
}

/** The response's CSP script nonce. */
const scriptNonce = (response: LightMyRequestResponse) =>
  /script-src [^;]*'nonce-([\w-]+)'/.exec(String(response.headers['content-security-policy']))?.[1];

/**
 * Reads until B answers from its kept copy: a page rendered while a notification of an earlier write was still on its
 * way is sent but not kept (the cache's generation guard), so the copy may come one read later.
 */
function kept(read: () => Promise<LightMyRequestResponse>, what: string): Promise<LightMyRequestResponse> {
  return waitFor(
    async () => {
      const before = b.readCache.stats();
      const response = await read();
      const after = b.readCache.stats();
      return response.statusCode === 200 && after.hits === before.hits + 1 && after.misses === before.misses
        ? response
        : false;
    },
    { what },
  );
}

describe('the channel page for anonymous readers', () => {
  it('is kept and served as the same bytes, with a fresh CSP nonce per response and none in the markup', async () => {
    const first = await getPage(b, pagePath());
    expect(first.statusCode).toBe(200);
    expect(first.body).toContain('Første melding');
    const second = await kept(() => getPage(b, pagePath()), 'the kept copy');
    expect(second.body).toBe(first.body);
    expect(second.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(second.headers['cache-control']).toBe('no-cache');
    expect(second.headers.vary).toBe('Cookie, Accept-Language');
    expect(second.headers['content-language']).toBe('nb');
    // The policy is the page's, with its own nonces each time; the kept body holds no nonce to go stale.
    expect(scriptNonce(first)).toMatch(/^[0-9a-f]{32}$/);
    expect(scriptNonce(second)).toMatch(/^[0-9a-f]{32}$/);
    expect(scriptNonce(second)).not.toBe(scriptNonce(first));
    expect(second.body).not.toMatch(/nonce/i);
    expect(second.body).not.toContain('_csrf');
    // A kept copy has a strong validator: the browser's revalidation (no-cache) is a 304 without a body.
    expect(second.headers.etag).toMatch(/^"[\w-]{32}"$/);
    const revalidated = await getPage(b, pagePath(), { headers: { 'if-none-match': String(second.headers.etag) } });
    expect(revalidated.statusCode).toBe(304);
    expect(revalidated.body).toBe('');
    expect(revalidated.headers.etag).toBe(second.headers.etag);
    expect(revalidated.headers.vary).toBe('Cookie, Accept-Language');
    // Another language's copy has its own validator; a signed-in reader's page has none (and is never a 304).
    const english = await kept(() => getPage(b, `${pagePath()}?lang=en`), 'the en copy');
    expect(english.headers.etag).not.toBe(second.headers.etag);
    const signedIn = await getPage(b, pagePath(), {
      session: reader,
      headers: { 'if-none-match': String(second.headers.etag) },
    });
    expect(signedIn.statusCode).toBe(200);
    expect(signedIn.headers.etag).toBeUndefined();
  });

  it('is forgotten when the other process publishes, edits or retracts', async () => {
    await kept(() => getPage(b, pagePath()), 'the kept copy');

    const before = await kept(() => getPage(b, pagePath()), 'the kept copy');
    const { id } = await publish(channel, { title: 'Andre melding', body: 'Mer tekst' });
    await eventually(
      () => getPage(b, pagePath()),
      (r) => r.body.includes('Andre melding'),
      'the publication on B',
    );
    // The old validator no longer matches.
    const stale = await getPage(b, pagePath(), { headers: { 'if-none-match': String(before.headers.etag) } });
    expect(stale.statusCode).toBe(200);
    expect(stale.body).toContain('Andre melding');
    await kept(() => getPage(b, pagePath()), 'the new copy kept');

    const edited = await a.inject({
      method: 'PATCH',
      url: `/api/v1/announcements/${id}`,
      headers: { authorization: `Bearer ${publisherToken}` },
      payload: { title: 'Endret melding', material: false },
    });
    expect(edited.statusCode).toBe(200);
    const afterEdit = await eventually(
      () => getPage(b, pagePath()),
      (r) => r.body.includes('Endret melding'),
      'the edit on B',
    );
    expect(afterEdit.body).not.toContain('Andre melding');
    await kept(() => getPage(b, pagePath()), 'the new copy kept');

    const retracted = await a.inject({
      method: 'POST',
      url: `/api/v1/announcements/${id}/retract`,
      headers: { authorization: `Bearer ${publisherToken}` },
    });
    expect(retracted.statusCode).toBe(200);
    const afterRetraction = await eventually(
      () => getPage(b, pagePath()),
      (r) => !r.body.includes('Endret melding'),
      'the retraction on B',
    );
    expect(afterRetraction.body).toContain('Første melding');
  });

  it('keeps one copy per language, however the language was chosen', async () => {
    const { id } = await publish(channel, {
      title: 'Norsk tittel',
      body: 'Tekst',
      translations: [{ language: 'en', title: 'English title', body: 'Text' }],
    });
    const readers = {
      nb: () => getPage(b, pagePath()),
      en: () => getPage(b, `${pagePath()}?lang=en`),
      enByHeader: () => getPage(b, pagePath(), { headers: { 'accept-language': 'en-GB,en;q=0.9' } }),
      nnByCookie: () => getPage(b, pagePath(), { cookies: ['mk_lang=nn'] }),
    };
    await eventually(readers.nb, (r) => r.body.includes('Norsk tittel'), 'the publication on B');
    const nb = await kept(readers.nb, 'the nb copy');
    const en = await kept(readers.en, 'the en copy');
    const enByHeader = await kept(readers.enByHeader, 'the copy for Accept-Language: en');
    const nn = await kept(readers.nnByCookie, 'the nn copy');
    expect(nb.body).toContain('<html lang="nb"');
    expect(nb.body).toContain('Norsk tittel');
    expect(en.body).toContain('<html lang="en"');
    expect(en.body).toContain('English title');
    expect(en.headers['content-language']).toBe('en');
    // The same language at another address: its own copy (the frame may write the address into its sign-in link).
    expect(enByHeader.body).toContain('<html lang="en"');
    expect(enByHeader.body).toContain('English title');
    expect(nn.body).toContain('<html lang="nn"');
    expect(nn.headers['content-language']).toBe('nn');

    // An edit of the translation reaches the English copies; the Norwegian one is read again and stays Norwegian.
    const edited = await a.inject({
      method: 'PATCH',
      url: `/api/v1/announcements/${id}`,
      headers: { authorization: `Bearer ${publisherToken}` },
      payload: { translations: [{ language: 'en', title: 'Better English title', body: 'Text' }], material: false },
    });
    expect(edited.statusCode).toBe(200);
    await eventually(readers.en, (r) => r.body.includes('Better English title'), 'the edited translation on B');
    expect((await readers.enByHeader()).body).toContain('Better English title');
    expect((await readers.nb()).body).toContain('Norsk tittel');
  });

  it('is never given to a signed-in reader, whose page is rendered for them', async () => {
    await getPage(b, pagePath());
    const anonymous = await kept(() => getPage(b, pagePath()), 'the kept copy');
    const signedIn = await getPage(b, pagePath(), { session: reader });
    expect(signedIn.statusCode).toBe(200);
    expect(signedIn.headers['cache-control']).toBe('private, no-store');
    expect(signedIn.body).toContain(READER_NAME);
    expect(signedIn.body).toContain(`name="_csrf" value="${reader.csrfToken}"`);
    expect(signedIn.body).not.toBe(anonymous.body);
    // Nor is the reader's page kept for the anonymous ones.
    const again = await kept(() => getPage(b, pagePath()), 'the kept copy again');
    expect(again.body).toBe(anonymous.body);
    expect(again.body).not.toContain(READER_NAME);
    expect(again.body).not.toContain(reader.csrfToken);
  });

  it('renders addresses with another query per request (done, archive, unknown parameters)', async () => {
    // Everything such a page reads is in the cache already (the channel, the nb and en listings): keeping one of
    // these pages would be the only new entry.
    for (const warm of [pagePath(), `${pagePath()}?lang=en`]) {
      await kept(() => getPage(b, warm), `the copy of ${warm}`);
    }
    const entries = b.readCache.stats().entries;
    for (const query of ['?done=email-requested', '?archive=1', '?lang=en&x=1', '?utm_source=mail', '?lang=xx']) {
      for (let i = 0; i < 2; i++) expect((await getPage(b, `${pagePath()}${query}`)).statusCode, query).toBe(200);
      expect(b.readCache.stats().entries, query).toBe(entries);
    }
    const done = await getPage(b, `${pagePath()}?done=email-requested`);
    expect(done.body).toContain('class="ds-alert"');
    expect((await getPage(b, pagePath())).body).not.toContain('class="ds-alert"');
  });

  it('ends a copy with a relative time when that time would read otherwise', async () => {
    const fresh = await createChannel(ctx.deps.db, { visibility: 'public' });
    const publisherId = await ctx.deps.db.channelRole.findFirstOrThrow({
      where: { channelId: channel.id },
      select: { userId: true },
    });
    await grantRole(ctx.deps.db, fresh.id, publisherId.userId, 'publisher');
    const { id } = await publish(fresh, { title: 'Helt fersk', body: 'Tekst' });
    // Published 54 s ago: "now" for 5.5 s more, then "1 minute ago" — long before the cache's 60 s lifetime.
    await ctx.deps.db.$executeRaw`UPDATE "Announcement" SET "publishedAt" = now() - interval '54 seconds'
      WHERE id = ${id}::uuid`;
    const read = () => getPage(b, `${pagePath(fresh)}?lang=en`);
    const first = await eventually(read, (r) => r.body.includes('>now<'), 'the page with "now" on B');
    expect((await kept(read, 'the kept copy')).body).toBe(first.body);
    await eventually(read, (r) => r.body.includes('>1 minute ago<'), '"1 minute ago" on B');
  });
});

describe("an announcement's page for anonymous readers", () => {
  it('is kept, and forgotten on an edit and a retraction in the other process (then 404)', async () => {
    const { id } = await publish(channel, { title: 'Egen side', body: 'Første tekst' });
    const path = `/announcements/${id}`;
    const first = await eventually(
      () => getPage(b, path),
      (r) => r.statusCode === 200,
      'the page on B',
    );
    expect(first.body).toContain('Første tekst');
    const copy = await kept(() => getPage(b, path), 'the kept copy');
    expect(copy.body).toBe(first.body);
    expect(scriptNonce(copy)).not.toBe(scriptNonce(first));

    const edited = await a.inject({
      method: 'PATCH',
      url: `/api/v1/announcements/${id}`,
      headers: { authorization: `Bearer ${publisherToken}` },
      payload: { body: 'Rettet tekst', material: false },
    });
    expect(edited.statusCode).toBe(200);
    await eventually(
      () => getPage(b, path),
      (r) => r.body.includes('Rettet tekst'),
      'the edit on B',
    );
    await kept(() => getPage(b, path), 'the edited copy kept');

    const retracted = await a.inject({
      method: 'POST',
      url: `/api/v1/announcements/${id}/retract`,
      headers: { authorization: `Bearer ${publisherToken}` },
    });
    expect(retracted.statusCode).toBe(200);
    await eventually(
      () => getPage(b, path),
      (r) => r.statusCode === 404,
      'the retraction on B',
    );
  });

  it('keeps one copy per language and none for a signed-in reader or another query', async () => {
    const { id } = await publish(channel, {
      title: 'Kunngjøring på to språk',
      body: 'Norsk tekst',
      translations: [{ language: 'en', title: 'Announcement in two languages', body: 'English text' }],
    });
    const path = `/announcements/${id}`;
    await eventually(
      () => getPage(b, path),
      (r) => r.statusCode === 200,
      'the page on B',
    );
    const nb = await kept(() => getPage(b, path), 'the nb copy');
    const en = await kept(() => getPage(b, `${path}?lang=en`), 'the en copy');
    expect(nb.body).toContain('Norsk tekst');
    expect(en.body).toContain('English text');
    expect(en.headers['content-language']).toBe('en');

    const signedIn = await getPage(b, path, { session: reader });
    expect(signedIn.headers['cache-control']).toBe('private, no-store');
    expect(signedIn.body).toContain(READER_NAME);
    expect(signedIn.body).toContain(`name="_csrf" value="${reader.csrfToken}"`);
    // (Their view counts — a change of the announcement's stats, so the copy is made again — but not their page.)
    const again = await kept(() => getPage(b, path), 'the kept copy again');
    expect(again.body).toContain('Norsk tekst');
    expect(again.body).not.toContain(READER_NAME);
    expect(again.body).not.toContain(reader.csrfToken);

    const entries = b.readCache.stats().entries;
    for (let i = 0; i < 2; i++) await getPage(b, `${path}?done=rated`);
    expect(b.readCache.stats().entries).toBe(entries);
  });
});

/**
 * The pages everyone reads, through app.inject as a browser would: the front page (latest announcements across
 * channels, the channel directory), the channel directory with its keyset paging, a channel's page (pinned on top,
 * subscribing with the account or with an e-mail address, feeds, the widget snippet), an announcement's page (body,
 * language versions, attachments, revisions, rating, acknowledgement, calendar, resolved link) and search — in each
 * language, with access (a restricted channel answers the same 404 page as a missing one), CSRF and validation.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel, createUser } from '../helpers/factories.js';
import { createReaderWorld, READER_TITLES, type ReaderWorld } from '../helpers/reader-pages.js';
import { type BrowserSession, browserSession, getPage, postForm } from '../helpers/web.js';

let ctx: TestContext;
let app: FastifyInstance;
let world: ReaderWorld;
let reader: BrowserSession;

beforeAll(async () => {
  ctx = await createTestContext();
  world = await createReaderWorld(ctx.deps.db, ctx.config.http.publicUrl);
  app = await buildApp(ctx.deps, { logger: false });
  reader = await browserSession(ctx.deps.db, world.reader.id);
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

const htmlLang = (body: string) => /<html lang="(\w+)"/.exec(body)?.[1];
/** The page's text between <main> and </main>, tags removed, for order checks. */
const mainText = (body: string) =>
  (/<main[^>]*>([\s\S]*)<\/main>/.exec(body)?.[1] ?? '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

describe('the front page', () => {
  it('lists the latest announcements across the channels the reader may read, and the channels', async () => {
    const anonymous = await getPage(app, '/');
    expect(anonymous.statusCode).toBe(200);
    expect(anonymous.body).toContain('Siste kunngjøringer');
    expect(anonymous.body).toContain(READER_TITLES.resolved);
    expect(anonymous.body).toContain(`href="/announcements/${world.ids.maintenance}"`);
    expect(anonymous.body).toContain(`href="/channels/${world.publicChannel.slug}"`);
    expect(anonymous.body).not.toContain(READER_TITLES.internal);
    expect(anonymous.body).not.toContain(world.internalChannel.slug);

    const signedIn = await getPage(app, '/', { session: reader });
    expect(signedIn.body).toContain(READER_TITLES.internal);
    expect(signedIn.body).not.toContain(READER_TITLES.restricted);
    expect(signedIn.headers['cache-control']).toBe('private, no-store');
  });

  it('speaks each language, the announcements in theirs where they have it', async () => {
    const english = await getPage(app, '/?lang=en');
    expect(htmlLang(english.body)).toBe('en');
    expect(english.body).toContain('Latest announcements');
    expect(english.body).toContain(READER_TITLES.maintenanceEn);
    // One without an English version keeps its Norwegian title, marked as such.
    expect(english.body).toMatch(new RegExp(`lang="nb">${READER_TITLES.incident}<`));
    const nynorsk = await getPage(app, '/?lang=nn');
    expect(nynorsk.body).toContain('Siste kunngjeringar');
  });

  it('filters the channels with q, and answers 400 for an overlong one', async () => {
    const filtered = await getPage(app, '/?q=studie');
    expect(filtered.body).toContain('BOTT Studieadministrasjon');
    expect(filtered.body).not.toContain('>BOTT Økonomi<');
    expect((await getPage(app, `/?q=${'x'.repeat(101)}`)).statusCode).toBe(400);
  });
});

describe('the channel directory', () => {
  it('pages through the channels by title with the directory cursor', async () => {
    for (let i = 0; i < 21; i++) {
      await createChannel(ctx.deps.db, { visibility: 'public', title: `Å-kanal ${String(i).padStart(2, '0')}` });
    }
    const first = await getPage(app, '/channels');
    expect(first.statusCode).toBe(200);
    expect(first.body).toContain('<h1 class="ds-heading" data-size="lg">Kanaler</h1>');
    const next = /href="(\/channels\?cursor=[^"]+)"[^>]*rel="next"/.exec(first.body)?.[1];
    expect(next).toBeDefined();
    const second = await getPage(app, next!.replaceAll('&amp;', '&'));
    expect(second.statusCode).toBe(200);
    expect(second.body).toContain('Å-kanal 20');
    expect(first.body).not.toContain('Å-kanal 20');
    expect(second.body).toContain('Første side');
    expect((await getPage(app, '/channels?cursor=not-a-cursor')).statusCode).toBe(400);
  });
});

describe('a channel page', () => {
  it('shows pinned announcements on top, then the newest, with its feeds and the widget snippet', async () => {
    const page = await getPage(app, `/channels/${world.publicChannel.slug}`);
    expect(page.statusCode).toBe(200);
    const text = mainText(page.body);
    expect(text.indexOf(READER_TITLES.pinned)).toBeLessThan(text.indexOf(READER_TITLES.acknowledge));
    expect(text.indexOf(READER_TITLES.acknowledge)).toBeLessThan(text.indexOf(READER_TITLES.maintenance));
    expect(page.body).toContain('Festet');
    for (const extension of ['atom', 'rss', 'json']) {
      expect(page.body).toContain(`href="/feeds/channels/${world.publicChannel.slug}.${extension}?lang=nb"`);
    }
    // The snippet as text in a read-only field (escaped: it is shown, never run).
    const snippet = /<textarea[^>]*id="widget-snippet"[^>]*>([^<]*)<\/textarea>/.exec(page.body)?.[1];
    expect(snippet?.replaceAll('&lt;', '<').replaceAll('&quot;', '"')).toBe(
      `<script type="module" src="${ctx.config.http.publicUrl}/widget.js"></script>\n` +
        `<meldingskanal-feed channel="${world.publicChannel.slug}" lang="nb" limit="5"></meldingskanal-feed>`,
    );
    // Anonymous on a public channel: the e-mail-only form, and a way to sign in instead.
    expect(page.body).toContain(`action="/channels/${world.publicChannel.slug}/email-subscription"`);
    expect(page.body).not.toContain(`action="/channels/${world.publicChannel.slug}/subscription"`);
  });

  it('answers a restricted channel with the same 404 page as a missing one; its editors see it', async () => {
    const restricted = await getPage(app, `/channels/${world.restrictedChannel.slug}`, { session: reader });
    const missing = await getPage(app, '/channels/no-such-channel', { session: reader });
    expect(restricted.statusCode).toBe(404);
    expect(missing.statusCode).toBe(404);
    const strip = (body: string) => body.replace(/Referanse: [^<]+/, '').replace(/value="[^"]*"/g, '');
    expect(strip(restricted.body)).toBe(strip(missing.body));
    expect(restricted.headers['content-type']).toMatch(/^text\/html/);
    const internalAnonymous = await getPage(app, `/channels/${world.internalChannel.slug}`);
    expect(internalAnonymous.statusCode).toBe(404);
    const owner = await browserSession(ctx.deps.db, world.owner.id);
    const editor = await getPage(app, `/channels/${world.restrictedChannel.slug}`, { session: owner });
    expect(editor.statusCode).toBe(200);
    expect(editor.body).toContain(READER_TITLES.restricted);
    // No widget or public feeds for a channel that is not public.
    expect(editor.body).not.toContain('meldingskanal-feed');
    expect(editor.body).not.toContain('/feeds/channels/');
  });

  it('lets a signed-in reader subscribe with a mode, change it and leave, by POST forms with 303', async () => {
    const slug = world.publicChannel.slug;
    const page = await getPage(app, `/channels/${slug}`, { session: reader });
    expect(page.body).toContain(`action="/channels/${slug}/subscription"`);
    expect(page.body).toContain(`name="_csrf" value="${reader.csrfToken}"`);

    const subscribed = await postForm(
      app,
      `/channels/${slug}/subscription`,
      { action: 'subscribe', emailMode: 'daily' },
      { session: reader },
    );
    expect(subscribed.statusCode).toBe(303);
    expect(subscribed.headers.location).toBe(`/channels/${slug}?done=subscribed`);
    const row = () => ctx.deps.db.subscription.findFirst({ where: { userId: world.reader.id, channel: { slug } } });
    expect((await row())?.emailMode).toBe('daily');
    const after = await getPage(app, subscribed.headers.location as string, { session: reader });
    expect(after.body).toContain('Du abonnerer nå på kanalen.');
    expect(after.body).toMatch(/value="daily" checked/);

    const changed = await postForm(
      app,
      `/channels/${slug}/subscription`,
      { action: 'save', emailMode: 'weekly' },
      { session: reader },
    );
    expect(changed.headers.location).toBe(`/channels/${slug}?done=saved`);
    expect((await row())?.emailMode).toBe('weekly');

    const invalid = await postForm(
      app,
      `/channels/${slug}/subscription`,
      { action: 'save', emailMode: 'hourly' },
      { session: reader },
    );
    expect(invalid.statusCode).toBe(400);
    expect(invalid.body).toContain('data-testid="error-summary"');
    expect(invalid.body).toContain('href="#field-emailMode"');
    expect((await row())?.emailMode).toBe('weekly');

    // Without the CSRF token (another site's form): refused, nothing changes.
    const forged = await postForm(
      app,
      `/channels/${slug}/subscription`,
      { action: 'unsubscribe' },
      { session: { ...reader, csrfToken: 'forged' } },
    );
    expect(forged.statusCode).toBe(403);
    expect(await row()).not.toBeNull();

    const left = await postForm(app, `/channels/${slug}/subscription`, { action: 'unsubscribe' }, { session: reader });
    expect(left.headers.location).toBe(`/channels/${slug}?done=unsubscribed`);
    expect(await row()).toBeNull();
    // Anonymous: the form asks to sign in (401 page), nothing is created.
    const anonymous = await postForm(app, `/channels/${slug}/subscription`, { emailMode: 'daily' });
    expect(anonymous.statusCode).toBe(401);
  });

  it('takes an e-mail-only subscription (double opt-in) from anyone, and shows errors on the fields', async () => {
    const slug = world.publicChannel.slug;
    const invalid = await postForm(app, `/channels/${slug}/email-subscription`, {
      email: 'not an address',
      emailMode: 'daily',
    });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.body).toContain('href="#field-email"');
    expect(invalid.body).toContain('value="not an address"');
    expect(invalid.body).toContain('aria-invalid="true"');

    const english = await postForm(app, `/channels/${slug}/email-subscription?lang=en`, {
      email: '',
      emailMode: 'off',
    });
    expect(english.statusCode).toBe(400);
    expect(english.body).toContain('Enter an e-mail address');
    expect(english.body).toContain('Choose how often you want e-mail.');

    const accepted = await postForm(app, `/channels/${slug}/email-subscription`, {
      email: 'Les.Er@Example.org',
      emailMode: 'weekly',
    });
    expect(accepted.statusCode).toBe(303);
    expect(accepted.headers.location).toBe(`/channels/${slug}?done=email-requested`);
    const row = await ctx.deps.db.subscription.findFirst({ where: { email: 'les.er@example.org' } });
    expect(row).toMatchObject({ emailMode: 'weekly', confirmedAt: null, language: 'nb' });
    const page = await getPage(app, accepted.headers.location as string);
    expect(page.body).toContain('Sjekk e-posten din.');
    // Not a public channel: the same 404 as a missing one.
    const internal = await postForm(app, `/channels/${world.internalChannel.slug}/email-subscription`, {
      email: 'x@example.org',
      emailMode: 'daily',
    });
    expect(internal.statusCode).toBe(404);
  });
});

describe('an announcement page', () => {
  it('renders the body, its window with the calendar file, attachments and revisions', async () => {
    const page = await getPage(app, `/announcements/${world.ids.maintenance}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(
      `<h1 class="ds-heading" data-size="lg" id="announcement-title">${READER_TITLES.maintenance}`,
    );
    expect(page.body).toContain('<li>Eksamen flyttes ikke</li>');
    expect(page.body).toContain('Gjelder: Inspera');
    expect(page.body).toContain(`href="/api/v1/announcements/${world.ids.maintenance}/calendar.ics?lang=nb"`);
    expect(page.body).toMatch(/Tidsplan\.pdf<\/a> <span[^>]*>\(245 kB\)/);
    expect(page.body).toContain('Endringer');
    expect(page.body).toContain('Merknad: Presisert hva som skjer');
    expect(page.body).toContain('Versjon 2');
    // The language versions are links with ?lang=.
    expect(page.body).toContain(`href="/announcements/${world.ids.maintenance}?lang=en"`);
    const english = await getPage(app, `/announcements/${world.ids.maintenance}?lang=en`);
    expect(htmlLang(english.body)).toBe('en');
    expect(english.body).toContain(READER_TITLES.maintenanceEn);
    expect(english.body).toContain('Add the window to your calendar (.ics)');
  });

  it('links an incident and its "resolved" follow-up both ways', async () => {
    const incident = await getPage(app, `/announcements/${world.ids.incident}`);
    expect(incident.body).toContain('Driftsforstyrrelsen er løst:');
    expect(incident.body).toContain(`href="/announcements/${world.ids.resolved}"`);
    const resolved = await getPage(app, `/announcements/${world.ids.resolved}?lang=nn`);
    expect(resolved.body).toContain('Dette er oppfølginga av driftsforstyrringa');
    expect(resolved.body).toContain(`href="/announcements/${world.ids.incident}"`);
    expect(resolved.body).toContain('Løyst');
  });

  it('answers what the reader may not see like what does not exist', async () => {
    const restricted = await getPage(app, `/announcements/${world.ids.restricted}`, { session: reader });
    const missing = await getPage(app, `/announcements/${crypto.randomUUID()}`, { session: reader });
    expect(restricted.statusCode).toBe(404);
    expect(missing.statusCode).toBe(404);
    expect(restricted.body).toContain('Fant ikke siden');
    expect((await getPage(app, `/announcements/${world.ids.internal}`)).statusCode).toBe(404);
    expect((await getPage(app, `/announcements/${world.ids.internal}`, { session: reader })).statusCode).toBe(200);
  });

  it('takes a signed-in reader’s rating (1–5) and counts the view; refuses an invalid one with 400', async () => {
    // Anonymous: no rating form (the sign-in link is there when sign-in is set up: tests/e2e).
    const anonymous = await getPage(app, `/announcements/${world.ids.pinned}`);
    expect(anonymous.body).not.toContain(`action="/announcements/${world.ids.pinned}/rating"`);

    const page = await getPage(app, `/announcements/${world.ids.pinned}`, { session: reader });
    expect(page.body).toContain(`action="/announcements/${world.ids.pinned}/rating"`);
    expect(page.body).toContain('Lest av 1 person');
    const rated = await postForm(app, `/announcements/${world.ids.pinned}/rating`, { stars: '4' }, { session: reader });
    expect(rated.statusCode).toBe(303);
    expect(rated.headers.location).toBe(`/announcements/${world.ids.pinned}?done=rated`);
    const after = await getPage(app, rated.headers.location as string, { session: reader });
    expect(after.body).toContain('Takk for vurderingen.');
    expect(after.body).toContain('Snitt 4 av 5 (1 vurdering)');
    expect(after.body).toMatch(/value="4" checked/);

    const invalid = await postForm(
      app,
      `/announcements/${world.ids.pinned}/rating`,
      { stars: '9' },
      { session: reader },
    );
    expect(invalid.statusCode).toBe(400);
    expect(invalid.body).toContain('href="#field-stars"');
    expect(invalid.body).toContain('Velg en vurdering fra 1 til 5.');
    const withoutToken = await postForm(
      app,
      `/announcements/${world.ids.pinned}/rating`,
      { stars: '1' },
      { session: { ...reader, csrfToken: 'nope' } },
    );
    expect(withoutToken.statusCode).toBe(403);
    const vote = await ctx.deps.db.announcementRating.findFirst({ where: { userId: world.reader.id } });
    expect(vote?.stars).toBe(4);
  });

  it('asks for acknowledgement with a deadline, and records it by POST', async () => {
    const page = await getPage(app, `/announcements/${world.ids.acknowledge}`, { session: reader });
    expect(page.body).toContain('Bekreft at du har lest');
    expect(page.body).toContain('Frist:');
    const acknowledged = await postForm(
      app,
      `/announcements/${world.ids.acknowledge}/acknowledgement`,
      {},
      { session: reader },
    );
    expect(acknowledged.statusCode).toBe(303);
    const after = await getPage(app, acknowledged.headers.location as string, { session: reader });
    expect(after.body).toContain('Du har bekreftet at du har lest dette.');
    expect(after.body).not.toContain(`action="/announcements/${world.ids.acknowledge}/acknowledgement"`);
    // One that does not ask for it: 409 page.
    const refused = await postForm(app, `/announcements/${world.ids.pinned}/acknowledgement`, {}, { session: reader });
    expect(refused.statusCode).toBe(409);
    expect(refused.headers['content-type']).toMatch(/^text\/html/);
  });
});

describe('search', () => {
  it('shows the form alone, then hits with highlighted snippets, narrowed by type, importance and channel', async () => {
    const empty = await getPage(app, '/search');
    expect(empty.statusCode).toBe(200);
    expect(empty.body).not.toContain('id="results-heading"');
    const hits = await getPage(app, '/search?q=inspera');
    expect(hits.body).toContain(READER_TITLES.maintenance);
    expect(hits.body).toMatch(/<mark>Inspera<\/mark>/i);
    const incidents = await getPage(app, '/search?q=canvas&type=incident&importance=critical');
    expect(incidents.body).toContain(READER_TITLES.incident);
    expect(incidents.body).not.toContain(READER_TITLES.resolved);
    const elsewhere = await getPage(app, `/search?q=inspera&channel=${world.internalChannel.slug}`, {
      session: reader,
    });
    expect(elsewhere.body).toContain('Ingen kunngjøringer passer til søket.');
    // A channel the reader may not read finds nothing, as a channel that does not exist.
    const hidden = await getPage(app, `/search?q=styre&channel=${world.restrictedChannel.slug}`, { session: reader });
    expect(hidden.body).not.toContain(READER_TITLES.restricted);
  });

  it('answers 400 with the error on the field for bad filters, in the reader’s language', async () => {
    const badType = await getPage(app, '/search?q=x&type=rumour&lang=en');
    expect(badType.statusCode).toBe(400);
    expect(badType.body).toContain('href="#field-type"');
    expect(badType.body).toContain('Choose one of the options.');
    const noWords = await getPage(app, '/search?type=incident');
    expect(noWords.statusCode).toBe(400);
    expect(noWords.body).toContain('Skriv hva du vil søke etter.');
    const long = await getPage(app, `/search?q=${'a'.repeat(201)}`);
    expect(long.statusCode).toBe(400);
  });
});

describe('people outside the member organisations', () => {
  it('read public channels like anyone', async () => {
    const guest = await createUser(ctx.deps.db);
    const session = await browserSession(ctx.deps.db, guest.id);
    const page = await getPage(app, '/', { session });
    expect(page.body).toContain(READER_TITLES.pinned);
    expect(page.body).not.toContain(READER_TITLES.internal);
  });
});

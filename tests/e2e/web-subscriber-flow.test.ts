/**
 * Subscribers in Chromium, end to end, with everything running in this process as `npm start` runs it: the local
 * OpenID provider, the app on a free port, the workers (outbox relay, fan-out, e-mail, confirmations) and an SMTP
 * server (tests/helpers/smtp.ts).
 *
 * - A subscriber signs in through the provider, subscribes to a channel with the daily digest, sees a new
 *   announcement appear live in their feed, marks it read in place, and unsubscribes.
 * - A reader follows the link in an announcement e-mail to the announcement's page.
 * - The same without JavaScript: reading a channel and an announcement, the e-mail-only subscription with its
 *   confirmation link, and signing in, subscribing, marking read and unsubscribing by plain form posts.
 */
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevProvider, seedDevAccounts, startDevProvider, withDevSignIn } from '../../src/auth/dev-provider.js';
import { buildApp } from '../../src/http/app.js';
import { createSmtpMailer, type Mailer } from '../../src/mail/mailer.js';
import { publishAnnouncement } from '../../src/services/publish.js';
import { type RunningWorkers, startWorkers } from '../../workers/main.js';
import { axeViolations } from '../helpers/axe.js';
import { launchHeadlessBrowser } from '../helpers/browser.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createSubscription, silentLogger } from '../helpers/delivery.js';
import { createReaderWorld, READER_TITLES, type ReaderWorld } from '../helpers/reader-pages.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { waitFor } from '../helpers/wait.js';

let ctx: TestContext;
let provider: DevProvider;
let smtp: TestSmtpServer;
let mailer: Mailer;
let workers: RunningWorkers;
let app: FastifyInstance;
let browser: Browser;
let base: string;
let world: ReaderWorld;
/** Bare e-mail subscribers of the public channel. */
const READER_ADDRESS = 'leser@example.org';

/** A port free now: the app's address (PUBLIC_URL, the provider's redirect URL) must be known before it listens. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

beforeAll(async () => {
  const port = await freePort();
  base = `http://localhost:${port}`;
  ctx = await createTestContext({ APP_ENV: 'development', PUBLIC_URL: base });
  provider = await startDevProvider({
    appEnv: 'development',
    port: 0,
    redirectUrl: ctx.config.oidc.redirectUrl,
    postLogoutRedirectUrl: ctx.config.oidc.postLogoutRedirectUrl,
  });
  await seedDevAccounts(ctx.deps.db, provider.issuer);
  world = await createReaderWorld(ctx.deps.db, base);
  await createSubscription(ctx.deps.db, { channelId: world.publicChannel.id, email: READER_ADDRESS });
  smtp = await startSmtpServer();
  mailer = createSmtpMailer({ url: smtp.url, poolSize: 1, maxMessages: 100, ratePerSecond: 0 });
  workers = await startWorkers(ctx.deps, { mailer, logger: silentLogger });
  app = await buildApp({ ...ctx.deps, config: withDevSignIn(ctx.config, provider) }, { logger: false });
  await app.listen({ port, host: '127.0.0.1' });
  browser = await launchHeadlessBrowser();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await workers?.close();
  await mailer?.close();
  await smtp?.close();
  await provider?.close();
  await ctx?.close();
});

/** A new context (its own cookies) asking for bokmål, as a Norwegian desktop does. */
async function newContext(options: { javaScriptEnabled?: boolean } = {}): Promise<BrowserContext> {
  return browser.newContext({ locale: 'nb-NO', ...options });
}

/** From the page's "Logg inn" through the provider's account picker as the UiO employee, back where it started. */
async function signIn(page: Page): Promise<void> {
  const back = page.url();
  await page.locator('header').getByRole('link', { name: 'Logg inn' }).click();
  await page.waitForURL(/\/interaction\//);
  await page.getByRole('button', { name: /Ansatt ved UiO/ }).click();
  await page.waitForURL(back);
  expect(await page.locator('header').first().textContent()).toContain('Logget inn som Ansatt ved UiO');
}

const publish = (title: string) =>
  publishAnnouncement({ db: ctx.deps.db, publicUrl: base }, world.owners, world.publicChannel.slug, {
    title,
    body: `${title}: **nye rutiner** fra mandag.`,
  }).then((view) => view.id);

async function subscriptionOf(principalName: string) {
  return ctx.deps.db.subscription.findFirst({
    where: { channelId: world.publicChannel.id, user: { principalName } },
  });
}

describe('a subscriber with JavaScript', () => {
  it('signs in, subscribes with the daily digest, sees a new announcement arrive live, marks it read and leaves', {
    timeout: 120_000,
  }, async () => {
    const context = await newContext();
    const page = await context.newPage();
    await page.goto(`${base}/channels/${world.publicChannel.slug}`);
    await signIn(page);

    await page.getByLabel('Et sammendrag hver dag').check();
    await page.getByRole('button', { name: 'Abonner', exact: true }).click();
    await page.waitForURL(/\?done=subscribed$/);
    expect(await page.locator('.ds-alert').first().textContent()).toBe('Du abonnerer nå på kanalen.');
    expect((await subscriptionOf('ansatt@uio.no'))?.emailMode).toBe('daily');

    await page.getByRole('link', { name: 'Mine kunngjøringer' }).click();
    await page.waitForURL(`${base}/me/feed`);
    await page.locator('[data-live-state="live"]').waitFor({ state: 'attached', timeout: 20_000 });
    const before = Number(await page.locator('[data-unread-total]').getAttribute('data-unread-total'));

    const title = 'Ny innlevering i Inspera';
    const id = await publish(title);
    const card = page.locator(`[data-announcement="${id}"]`);
    await card.waitFor({ timeout: 30_000 });
    expect(page.url()).toBe(`${base}/me/feed`);
    expect(await card.getByRole('link', { name: title }).getAttribute('href')).toBe(`/announcements/${id}`);
    expect(await card.getAttribute('data-read')).toBe('false');
    expect(await page.locator('[data-live-status]').textContent()).toBe(`Ny kunngjøring: ${title}`);
    expect(await page.locator('[data-unread-total]').getAttribute('data-unread-total')).toBe(String(before + 1));
    expect(await axeViolations(page)).toEqual([]);

    // Marked read in place: the same POST the form makes, its 303 not followed; the page stays.
    await card.getByRole('button', { name: 'Merk som lest' }).click();
    await waitFor(async () => (await card.getAttribute('data-read')) === 'true', { what: 'the card marked read' });
    expect(page.url()).toBe(`${base}/me/feed`);
    expect(await card.getByRole('button', { name: 'Merk som ulest' }).count()).toBe(1);
    expect(await page.locator('[data-unread-total]').getAttribute('data-unread-total')).toBe(String(before));
    const user = await ctx.deps.db.user.findFirstOrThrow({ where: { principalName: 'ansatt@uio.no' } });
    expect(await ctx.deps.db.announcementRead.count({ where: { userId: user.id, announcementId: id } })).toBe(1);

    await page.goto(`${base}/channels/${world.publicChannel.slug}`);
    await page.getByRole('button', { name: 'Avslutt abonnementet' }).click();
    await page.waitForURL(/\?done=unsubscribed$/);
    expect(await page.locator('.ds-alert').first().textContent()).toBe('Du abonnerer ikke lenger på kanalen.');
    expect(await subscriptionOf('ansatt@uio.no')).toBeNull();
    await context.close();
  });

  it('follows the link in an announcement e-mail to the announcement’s page', { timeout: 60_000 }, async () => {
    const title = 'Driftsmelding fra e-posten';
    const id = await publish(title);
    const [mail] = await waitFor(
      () => {
        const mails = smtp.messagesTo(READER_ADDRESS).filter((m) => m.parsed.subject?.includes(title));
        return mails.length > 0 && mails;
      },
      { what: 'the announcement e-mail', timeoutMs: 30_000 },
    );
    const html = String(mail!.parsed.html);
    const link = /<a href="([^"]+)"[^>]*>Les kunngjøringen i Meldingskanal<\/a>/.exec(html)?.[1];
    expect(link).toBe(`${base}/announcements/${id}`);
    expect(mail!.parsed.text).toContain(`Les kunngjøringen i Meldingskanal: ${base}/announcements/${id}`);

    const context = await newContext();
    const page = await context.newPage();
    const response = await page.goto(link!);
    expect(response?.status()).toBe(200);
    expect(await page.locator('h1').textContent()).toBe(title);
    expect(await page.locator('.mk-prose').textContent()).toContain('nye rutiner');
    expect(await axeViolations(page)).toEqual([]);
    await context.close();
  });
});

describe('the same without JavaScript', () => {
  it('reads a channel and an announcement, and subscribes an e-mail address through its confirmation link', {
    timeout: 90_000,
  }, async () => {
    const context = await newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${base}/channels/${world.publicChannel.slug}`);
    await page.getByRole('link', { name: READER_TITLES.maintenance }).click();
    expect(await page.locator('h1').textContent()).toBe(READER_TITLES.maintenance);
    expect(await page.locator('.mk-prose li').first().textContent()).toBe('Eksamen flyttes ikke');
    await page.getByRole('link', { name: 'English' }).first().click();
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.locator('h1').textContent()).toBe(READER_TITLES.maintenanceEn);

    const address = 'uten.js@example.org';
    await page.goto(`${base}/channels/${world.publicChannel.slug}`);
    await page.getByLabel('E-postadresse').fill(address);
    await page.getByLabel('Et sammendrag hver uke').check();
    await page.getByRole('button', { name: 'Send meg bekreftelsen' }).click();
    await page.waitForURL(/\?done=email-requested$/);
    expect(await page.locator('.ds-alert').first().textContent()).toContain('Sjekk e-posten din.');

    const [confirmation] = await waitFor(
      () => {
        const mails = smtp.messagesTo(address);
        return mails.length > 0 && mails;
      },
      { what: 'the confirmation e-mail', timeoutMs: 30_000 },
    );
    const link = /href="([^"]*\/subscriptions\/confirm\?token=[^"]+)"/.exec(String(confirmation!.parsed.html))?.[1];
    expect(link).toBeDefined();
    await page.goto(link!.replaceAll('&amp;', '&'));
    // Opening the link changed nothing; the button does.
    const row = () => ctx.deps.db.subscription.findFirstOrThrow({ where: { email: address } });
    expect((await row()).confirmedAt).toBeNull();
    await page.getByRole('button', { name: 'Bekreft' }).click();
    expect(await page.locator('h1').textContent()).toBe('Abonnementet er bekreftet');
    expect((await row()).confirmedAt).not.toBeNull();
    expect((await row()).emailMode).toBe('weekly');
    await context.close();
  });

  it('signs in, subscribes, marks read and leaves by plain form posts', { timeout: 90_000 }, async () => {
    const context = await newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${base}/channels/${world.publicChannel.slug}`);
    await signIn(page);
    await page.getByLabel('Et sammendrag hver dag').check();
    await page.getByRole('button', { name: 'Abonner', exact: true }).click();
    await page.waitForURL(/\?done=subscribed$/);
    expect((await subscriptionOf('ansatt@uio.no'))?.emailMode).toBe('daily');

    await page.goto(`${base}/me/feed`);
    const card = page.locator(`[data-announcement="${world.ids.incident}"]`);
    expect(await card.getAttribute('data-read')).toBe('false');
    await card.getByRole('button', { name: 'Merk som lest' }).click();
    await page.waitForURL(`${base}/me/feed?done=read`);
    expect(await page.locator('.ds-alert').first().textContent()).toBe('Merket som lest.');
    expect(await page.locator(`[data-announcement="${world.ids.incident}"]`).getAttribute('data-read')).toBe('true');

    await page.getByRole('link', { name: 'Abonnementer' }).click();
    await page.getByRole('button', { name: /Avslutt abonnementet på BOTT Studieadministrasjon/ }).click();
    await page.waitForURL(`${base}/me/subscriptions?done=unsubscribed`);
    expect(await page.locator('.ds-alert').first().textContent()).toBe('Abonnementet er avsluttet.');
    expect(await subscriptionOf('ansatt@uio.no')).toBeNull();
    await context.close();
  });
});

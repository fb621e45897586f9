/**
 * A publisher in Chromium, end to end: signs in through the local OpenID provider as the BOTT-SA demo publisher,
 * writes a bilingual announcement with an attachment, schedules it a few seconds ahead, sees it published by the
 * workers' scheduled job, edits it materially, and sees the delivery figures and the correction e-mail arrive in the
 * development mail catcher (maildev, src/mail/dev-catcher.ts, read through its REST API).
 *
 * Everything runs in this process, as `npm start` runs it in one (ROLE=all): the development provider, the app
 * listening on a free port, the workers (outbox relay, scheduler, fan-out, e-mail) and the mail catcher.
 */
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevProvider, seedDevAccounts, startDevProvider, withDevSignIn } from '../../src/auth/dev-provider.js';
import { buildApp } from '../../src/http/app.js';
import { type DevMailCatcher, startDevMailCatcher } from '../../src/mail/dev-catcher.js';
import { createSmtpMailer, type Mailer } from '../../src/mail/mailer.js';
import { seedDemoContent } from '../../src/services/seed.js';
import { localDateTimeValue } from '../../src/web/local-time.js';
import { type RunningWorkers, startWorkers } from '../../workers/main.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createSubscription, silentLogger } from '../helpers/delivery.js';
import { pdf } from '../helpers/files.js';
import { waitFor } from '../helpers/wait.js';

let ctx: TestContext;
let provider: DevProvider;
let catcher: DevMailCatcher;
let mailer: Mailer;
let workers: RunningWorkers;
let app: FastifyInstance;
let browser: TestBrowser;
let base: string;
const SUBSCRIBER = 'saksbehandler@uib.no';

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

interface CaughtMail {
  subject: string;
  to: { address: string }[];
  text?: string;
}

/** The e-mails in the mail catcher, as its REST API lists them. */
async function caughtMail(): Promise<CaughtMail[]> {
  const response = await fetch(`${catcher.webUrl.replace('localhost', '127.0.0.1')}/api/email`);
  if (!response.ok) throw new Error(`the mail catcher answered ${response.status}`);
  const body = (await response.json()) as CaughtMail[] | { emails?: CaughtMail[]; data?: CaughtMail[] };
  return Array.isArray(body) ? body : (body.emails ?? body.data ?? []);
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
  const config = withDevSignIn(ctx.config, provider);
  const db = ctx.deps.db;
  await seedDemoContent(db);
  await seedDevAccounts(db, provider.issuer);
  const channel = await db.channel.findUniqueOrThrow({ where: { slug: 'bott-sa' } });
  await createSubscription(db, { channelId: channel.id, email: SUBSCRIBER, emailMode: 'immediate' });
  catcher = await startDevMailCatcher({ smtpPort: 0, webPort: 0 });
  mailer = createSmtpMailer({ url: catcher.smtpUrl, poolSize: 1, maxMessages: 100, ratePerSecond: 0 });
  workers = await startWorkers(ctx.deps, { mailer, logger: silentLogger });
  app = await buildApp({ ...ctx.deps, config }, { logger: false });
  await app.listen({ port, host: '127.0.0.1' });
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await workers?.close();
  await mailer?.close();
  await catcher?.stop();
  await provider?.close();
  await ctx?.close();
});

/** Opening the publishing page signed out leads through the provider's account picker and back to it. */
async function signInAsPublisher(page: Page): Promise<void> {
  await page.goto(`${base}/publish`);
  await page.waitForURL(/\/interaction\//);
  await page.getByRole('button', { name: /Publisist for BOTT-SA/ }).click();
  await page.waitForURL(`${base}/publish`);
}

/** The number in one cell of a delivery table's row (medium's table, kind's row, status column). */
async function figure(page: Page, medium: string, kind: string, status: string): Promise<number> {
  const table = page.locator('table', { has: page.locator('caption', { hasText: medium }) });
  const row = table.locator('tr', { has: page.locator('th[scope="row"]', { hasText: kind }) });
  return Number(await row.locator(`td[data-status="${status}"]`).textContent());
}

describe('a publisher in the browser', () => {
  it('schedules a bilingual announcement with an attachment, sees it published, corrects it and sees the figures and the correction e-mail', {
    timeout: 90_000,
  }, async () => {
    const page = await browser.context.newPage();
    await signInAsPublisher(page);

    // The publishing start page, then the editor of BOTT-SA.
    expect(await page.locator('h1').textContent()).toBe('Publisering');
    await page.getByRole('link', { name: 'Ny kunngjøring i BOTT saksbehandling og arkiv' }).click();
    await page.locator('#field-title-nb').fill('Nytt arkivsystem i bruk');
    await page.locator('#field-body-nb').fill('Fra mandag arkiveres saker **automatisk**.');
    await page.locator('#field-title-en').fill('New archive system in use');
    await page.locator('#field-body-en').fill('From Monday cases are archived **automatically**.');
    await page.locator('#field-files').setInputFiles({
      name: 'brukerveiledning.pdf',
      mimeType: 'application/pdf',
      buffer: pdf('veiledning'),
    });
    // A few seconds ahead, with seconds: the scheduled job, not this test, publishes it.
    const publishAt = new Date(Date.now() + 6_000);
    await page.locator('#field-publishAt').fill(localDateTimeValue(publishAt).padEnd(19, ':00').slice(0, 19));
    await page.getByRole('button', { name: 'Planlegg publisering' }).click();

    await page.waitForURL(/\/announcements\/[0-9a-f-]{36}\/deliveries\?saved=scheduled$/);
    expect(await page.getByRole('status').textContent()).toContain('Kunngjøringen er planlagt.');
    expect(await page.locator('main .ds-tag').first().textContent()).toBe('Planlagt');
    const id = page.url().split('/')[4]!;
    const stored = await ctx.deps.db.announcement.findUniqueOrThrow({
      where: { id },
      include: { translations: true, attachments: true },
    });
    expect(stored.status).toBe('scheduled');
    expect(stored.translations.map((t) => t.language)).toEqual(['en']);
    expect(stored.attachments.map((a) => a.filename)).toEqual(['brukerveiledning.pdf']);

    // Published by the workers at publishAt; the page shows it (and the e-mail reaches the mail catcher).
    await waitFor(
      async () => {
        await page.reload();
        return (await page.locator('main .ds-tag').first().textContent()) === 'Publisert';
      },
      { what: 'the scheduled announcement to be published', timeoutMs: 30_000, intervalMs: 500 },
    );
    // Not before its time — as entered: the form takes whole seconds, so the time is publishAt without its milliseconds.
    expect(Date.now()).toBeGreaterThanOrEqual(Math.floor(publishAt.getTime() / 1000) * 1000);
    const [first] = await waitFor(
      async () => {
        const mail = (await caughtMail()).filter((m) => m.subject.includes('Nytt arkivsystem i bruk'));
        return mail.length >= 1 && mail;
      },
      { what: 'the announcement e-mail in the mail catcher', timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(first!.to.map((to) => to.address)).toEqual([SUBSCRIBER]);
    await waitFor(
      async () => {
        await page.reload();
        return (await figure(page, 'E-post', 'Kunngjøringen', 'sent')) === 1;
      },
      { what: 'the e-mail counted as sent', timeoutMs: 20_000, intervalMs: 300 },
    );

    // A material edit: the correction goes to whoever was e-mailed the announcement.
    await page.getByRole('link', { name: 'Rediger kunngjøringen' }).click();
    await page.locator('#field-body-nb').fill('Fra **tirsdag** arkiveres saker automatisk.');
    await page.getByLabel('Vesentlig endring (sendes som rettelse)').check();
    await page.locator('#field-note').fill('Ny startdato: tirsdag');
    await page.getByRole('button', { name: 'Lagre endringene' }).click();
    await page.waitForURL(new RegExp(`/announcements/${id}/deliveries\\?saved=updated$`));

    const correction = await waitFor(
      async () => (await caughtMail()).find((m) => m.subject.includes('Rettet: Nytt arkivsystem i bruk')) ?? false,
      { what: 'the correction e-mail in the mail catcher', timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(correction.to.map((to) => to.address)).toEqual([SUBSCRIBER]);
    await waitFor(
      async () => {
        await page.reload();
        return (await figure(page, 'E-post', 'Rettelse (revisjon 2)', 'sent')) === 1;
      },
      { what: 'the correction counted as sent', timeoutMs: 20_000, intervalMs: 300 },
    );
    expect(await figure(page, 'E-post', 'Kunngjøringen', 'sent')).toBe(1);
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.screenshot({ path: '/tmp/shot-deliveries-nb.png', fullPage: true });
    await page.goto(`${base}/announcements/${id}/deliveries?lang=en`);
    expect(await figure(page, 'E-mail', 'Correction (revision 2)', 'sent')).toBe(1);
    await page.screenshot({ path: '/tmp/shot-deliveries-en.png', fullPage: true });
    await page.close();
  });
});

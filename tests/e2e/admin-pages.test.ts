/**
 * The administrators' pages in Chromium: the demo administrator signs in through the local OpenID provider, finds a
 * person, makes them publisher of a channel with the keyboard, and finds that in the audit log; then axe-core finds
 * no WCAG 2.1 A/AA violations on any admin page (and on forms sent back with their error summary) in nb, nn and en.
 * One browser and one app for the file, and two tabs.
 */
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevProvider, seedDevAccounts, startDevProvider, withDevSignIn } from '../../src/auth/dev-provider.js';
import { suppressAddress } from '../../src/db/suppression.js';
import { LANGUAGES } from '../../src/domain/types.js';
import { buildApp } from '../../src/http/app.js';
import { DEMO_CHANNELS, DEMO_ORGANISATIONS } from '../../src/services/seed.js';
import { createApiToken } from '../../src/services/tokens.js';
import { axeViolations } from '../helpers/axe.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { createTestContext, type TestContext } from '../helpers/context.js';

let ctx: TestContext;
let provider: DevProvider;
let app: FastifyInstance;
let browser: TestBrowser;
let base: string;
let page: Page;

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
  const db = ctx.deps.db;
  // Chromium starts while the database is seeded and the app is built.
  const launched = launchBrowser();
  launched.catch(() => {}); // awaited below; a failure there fails the setup
  // The demo world's organisations and channels (its announcements play no part here), and the demo accounts.
  await db.organisation.createMany({ data: [...DEMO_ORGANISATIONS] });
  await db.channel.createMany({ data: DEMO_CHANNELS.map((channel) => ({ ...channel })) });
  await seedDevAccounts(db, provider.issuer);
  app = await buildApp({ ...ctx.deps, config: withDevSignIn(ctx.config, provider) }, { logger: false });
  await app.listen({ port, host: '127.0.0.1' });
  browser = await launched;
  page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await provider?.close();
  await ctx?.close();
});

/**
 * Shows `path` in the tab as the server renders it: fetched with the tab's cookies and put in place of the document
 * (styles applied; the page's own scripts not run — axe checks the server's markup). Returns the HTTP status.
 */
async function showPage(tab: Page, path: string): Promise<number> {
  return tab.evaluate(async (url) => {
    const response = await fetch(url, { headers: { accept: 'text/html' } });
    const parsed = new DOMParser().parseFromString(await response.text(), 'text/html');
    document.replaceChild(document.adoptNode(parsed.documentElement), document.documentElement);
    await Promise.all(
      [...document.querySelectorAll<HTMLLinkElement>('link[rel="stylesheet"]')].map((link) =>
        link.sheet ? undefined : new Promise((resolve) => link.addEventListener('load', resolve, { once: true })),
      ),
    );
    return response.status;
  }, path);
}

describe('an administrator in the browser', () => {
  it('signs in, makes someone publisher of a channel and finds that in the audit log', {
    timeout: 60_000,
  }, async () => {
    // Opening the admin area signed out leads through the provider's account picker and back to it.
    await page.goto(`${base}/admin`);
    await page.waitForURL(/\/interaction\//);
    await page.getByRole('button', { name: /Administrator \(utvikling\)/ }).click();
    await page.waitForURL(`${base}/admin`);
    expect(await page.locator('h1').textContent()).toBe('Administrasjon');

    // Find the person by their Feide id.
    await page.getByRole('link', { name: 'Personer og roller' }).first().click();
    await page.getByLabel('Navn, e-postadresse eller Feide-id').fill('ansatt@uib.no');
    await page.getByRole('button', { name: 'Søk' }).click();
    await page.waitForURL(/\/admin\/users\?q=ansatt%40uib\.no/);
    await page.getByRole('link', { name: 'Ansatt ved UiB' }).click();
    await page.waitForURL(/\/admin\/users\/[0-9a-f-]{36}$/);
    const userId = page.url().split('/').at(-1)!;
    await page.screenshot({ path: '/tmp/shot-admin-user-nb.png', fullPage: true });

    // The role form with the keyboard: choose the channel, Tab to the role (publisher), Tab to the button, Enter.
    await page.locator('#field-channel').focus();
    await page.locator('#field-channel').selectOption('bott-okonomi-og-lonn');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('field-role');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/admin/users/${userId}?done=roleGranted`);
    expect(await page.getByRole('status').textContent()).toContain('Rollen er gitt.');
    expect(await page.locator('main table').textContent()).toContain('Publisist');
    const role = await ctx.deps.db.channelRole.findFirstOrThrow({ where: { userId } });
    expect(role.role).toBe('publisher');

    // The audit log, filtered to role grants.
    await page.getByRole('link', { name: 'Revisjonslogg' }).first().click();
    await page.getByLabel('Handling').selectOption('channel.role.grant');
    await page.getByRole('button', { name: 'Vis', exact: true }).click();
    await page.waitForURL(/\/admin\/audit\?.*action=channel\.role\.grant/);
    const row = page.locator('tr[data-action="channel.role.grant"]').first();
    expect(await row.textContent()).toContain('Rolle gitt i kanal');
    expect(await row.getByRole('link', { name: 'Administrator (utvikling)' }).count()).toBe(1);
    expect(await row.getByRole('link', { name: 'Ansatt ved UiB' }).count()).toBe(1);
    expect(await row.getByRole('link', { name: 'bott-okonomi-og-lonn' }).count()).toBe(1);
    await page.screenshot({ path: '/tmp/shot-admin-audit-nb.png', fullPage: true });

    // The same two pages in English.
    await page.goto(`${page.url()}&lang=en`);
    expect(await page.locator('h1').textContent()).toBe('Audit log');
    expect(await page.locator('tr[data-action="channel.role.grant"]').first().textContent()).toContain(
      'Channel role given',
    );
    await page.screenshot({ path: '/tmp/shot-admin-audit-en.png', fullPage: true });
    await page.goto(`${base}/admin/users/${userId}?lang=en`);
    expect(await page.locator('main table').textContent()).toContain('Publisher');
    await page.screenshot({ path: '/tmp/shot-admin-user-en.png', fullPage: true });
  });

  it('finds no WCAG 2.1 A/AA violations on any admin page in nb, nn and en', { timeout: 60_000 }, async () => {
    const db = ctx.deps.db;
    const someone = await db.user.findFirstOrThrow({ where: { principalName: 'ansatt@uio.no' } });
    const token = await createApiToken(db, { userId: someone.id, name: 'Intranett-widget', scopes: ['read'] });
    await suppressAddress(db, { email: 'borte@uib.no', reason: 'bounce', detail: '550 5.1.1', deliveryId: null });
    const paths = [
      '/admin',
      '/admin/channels',
      '/admin/channels/bott-sa',
      '/admin/channels/bott-sa/delete',
      '/admin/organisations',
      '/admin/organisations/UiB',
      '/admin/users?q=ansatt',
      `/admin/users/${someone.id}`,
      '/admin/tokens',
      `/admin/tokens/${token.id}/revoke`,
      '/admin/audit',
      // Invalid filters: the error summary and the fields' messages.
      '/admin/audit?from=2026-02-30T10:00&actor=ingen%40example.org',
      '/admin/suppressions?email=borte%40uib.no',
      '/admin/queues',
      '/admin/queues/email',
    ];
    // The flow's tab, with axe loaded once: each page is fetched and put in place of the document, so axe (half a
    // megabyte) is not sent and compiled again per page. (A second tab does not pay on this loaded machine.)
    const tabs = [page];
    const checks = LANGUAGES.flatMap((language) => paths.map((path) => ({ language, path })));
    const results = await Promise.all(
      tabs.map(async (tab, t) => {
        const found: { what: string; violations: Awaited<ReturnType<typeof axeViolations>> }[] = [];
        for (const { language, path } of checks.filter((_, i) => i % tabs.length === t)) {
          const status = await showPage(tab, `${path}${path.includes('?') ? '&' : '?'}lang=${language}`);
          expect(status, path).toBe(path.includes('from=') ? 400 : 200);
          expect(await tab.getAttribute('html', 'lang'), path).toBe(language);
          // The frame (header, navigation, footer) is the same on every page: checked whole on the start page in each
          // language; on the others, what is theirs (main, which holds the admin area's navigation too).
          const scope = path === '/admin' ? undefined : 'main';
          found.push({ what: `${path} (${language})`, violations: await axeViolations(tab, scope) });
        }
        return found;
      }),
    );
    for (const { what, violations } of results.flat()) expect(violations, what).toEqual([]);
    // A form sent back with errors (POST, opened for real): the channel form's error summary.
    const tab = page;
    await tab.goto(`${base}/admin/channels?lang=nn`);
    await tab.locator('#field-slug').fill('Ikkje gyldig');
    await tab.getByRole('button', { name: 'Opprett kanalen' }).click();
    await tab.waitForSelector('[data-testid="error-summary"]');
    expect(await axeViolations(tab), 'channel form with errors (nn)').toEqual([]);
  });
});

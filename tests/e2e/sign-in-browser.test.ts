/**
 * "`npm start` with no identity configuration lets a person sign in as each demo account in a browser": the API as a
 * real process from src/main.ts (no OIDC_ISSUER, development) starts the development provider; headless Chromium
 * signs in through the landing page's "Logg inn", picks each demo account on the provider's page, sees its name on
 * the landing page, and signs out with "Logg ut" through the provider's end-session page.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_ACCOUNTS, DEV_SIGN_IN_LABEL } from '../../src/auth/dev-provider.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import { seedDemoContent } from '../../src/services/seed.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { waitFor } from '../helpers/wait.js';

let ctx: TestContext;
let api: ChildProcess;
let output: string[] = [];
let base: string;
let browser: BrowserContext;
let testBrowser: TestBrowser | undefined;

/**
 * A port that is free now. The API's address must be known before it starts (PUBLIC_URL, and with it the redirect
 * URL registered at the provider), so the port cannot be left to the process itself.
 */
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
  ctx = await createTestContext();
  // The demo content (organisations, BOTT channels) an `npm start` loads into an empty database.
  await seedDemoContent(ctx.deps.db);
  const port = await freePort();
  base = `http://localhost:${port}`;
  api = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: PROJECT_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...ctx.env,
      APP_ENV: 'development',
      ROLE: 'api',
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_URL: base,
      DEV_OIDC_PORT: '0',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  output = [];
  createInterface({ input: api.stdout! }).on('line', (line) => output.push(line));
  createInterface({ input: api.stderr! }).on('line', (line) => output.push(line));
  await waitFor(
    () => {
      if (api.exitCode !== null) throw new Error(`the API exited:\n${output.slice(-20).join('\n')}`);
      return output.some((line) => line.includes('API listening on'));
    },
    { what: 'the API to listen', timeoutMs: 30_000 },
  );
  testBrowser = await launchBrowser();
  browser = testBrowser.context;
}, 60_000);

afterAll(async () => {
  await testBrowser?.close();
  if (api && api.exitCode === null) {
    api.kill('SIGTERM');
    await once(api, 'exit');
  }
  await ctx?.close();
});

describe('npm start without identity configuration', () => {
  it('announces the development sign-in, which is not Feide', () => {
    const line = output.find((l) => l.includes('Development sign-in: http://localhost:'));
    expect(line).toMatch(/\(not Feide\)/);
  });

  it('lets a person sign in and out as each demo account in a browser', { timeout: 120_000 }, async () => {
    const page = await browser.newPage();
    // Chromium here asks for English (en-US); the names below are the bokmål ones.
    await page.setExtraHTTPHeaders({ 'accept-language': 'nb-NO,nb;q=0.9' });
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
    for (const account of DEV_ACCOUNTS) {
      await page.goto(`${base}/`);
      await page.getByRole('link', { name: 'Logg inn' }).click();

      // The provider's page: labelled as a development sign-in, one button per account.
      await page.waitForURL(/\/interaction\//);
      expect(await page.getByRole('note').textContent()).toBe(DEV_SIGN_IN_LABEL);
      await page.getByRole('button', { name: new RegExp(account.displayName.replace(/[()]/g, '\\$&')) }).click();

      await page.waitForURL(`${base}/`);
      expect(await page.locator('header').first().textContent()).toContain(`Logget inn som ${account.displayName}`);
      const me = await page.evaluate(`fetch('/api/v1/me').then((r) => r.json())`);
      expect(me).toMatchObject({ principalName: account.principalName, isAdmin: account.isAdmin });

      // Sign out: the app ends its session and hands over to the provider's end-session confirmation.
      await page.getByRole('button', { name: 'Logg ut' }).click();
      await page.getByRole('button', { name: /Ja, logg ut/ }).click();
      await page.waitForURL(`${base}/`);
      expect(await page.getByRole('link', { name: 'Logg inn' }).count()).toBe(1);
      expect(await page.evaluate(`fetch('/api/v1/me').then((r) => r.status)`)).toBe(401);
    }
    expect(violations).toEqual([]);
  });
});

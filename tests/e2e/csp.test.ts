import type { FastifyInstance } from 'fastify';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel } from '../helpers/factories.js';

let ctx: TestContext;
let app: FastifyInstance;
let base: string;
let browser: BrowserContext;
let testBrowser: TestBrowser | undefined;
let channelSlug: string;

beforeAll(async () => {
  // The read cache on, so the channel page is served as the copy kept for anonymous readers (src/web/page-cache.ts).
  ctx = await createTestContext({ READ_CACHE_TTL_MS: '60000' });
  channelSlug = (await createChannel(ctx.deps.db, { visibility: 'public' })).slug;
  app = await buildApp(ctx.deps, { logger: false });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  testBrowser = await launchBrowser();
  browser = testBrowser.context;
});

afterAll(async () => {
  await testBrowser?.close();
  await app?.close();
  await ctx?.close();
});

interface Watched {
  page: Page;
  /** CSP violations, from the page's own `securitypolicyviolation` events and from the console. */
  violations: string[];
}

async function open(path: string): Promise<Watched> {
  const page = await browser.newPage();
  const violations: string[] = [];
  // Init scripts are injected by the browser itself, so the policy under test does not block this listener.
  await page.exposeFunction('__reportCspViolation', (text: string) => violations.push(text));
  // Browser-side code as text: this project type-checks without the DOM library.
  await page.addInitScript(`
    document.addEventListener('securitypolicyviolation', (event) => {
      window.__reportCspViolation(event.violatedDirective + ' blocked ' + (event.blockedURI || 'inline'));
    });
  `);
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  const response = await page.goto(`${base}${path}`, { waitUntil: 'load' });
  expect(response?.status(), path).toBe(200);
  return { page, violations };
}

describe('Content-Security-Policy in Chromium', () => {
  it('the front page renders, styled and scripted, without a violation', async () => {
    const { page, violations } = await open('/');
    await expect(page.locator('h1').textContent()).resolves.toBe('Meldingskanal');
    // The site's stylesheet applied (a file from this origin): the page frame is width-limited.
    const maxWidth = await page.evaluate("getComputedStyle(document.querySelector('.mk-container')).maxWidth");
    expect(maxWidth).not.toBe('none');
    // Designsystemet's module ran (script-src 'self'): it defines the ds-field custom element.
    await expect.poll(() => page.evaluate("customElements.get('ds-field') !== undefined")).toBe(true);
    expect(violations).toEqual([]);
    await page.close();
  });

  it('the channel page kept for anonymous readers runs its module without a violation', async () => {
    const path = `/channels/${channelSlug}`;
    const first = await open(path);
    await first.page.close();
    const hits = app.readCache.stats().hits;
    const { page, violations } = await open(path);
    // Served from the kept copy (one hit: the page itself, nothing read or rendered).
    expect(app.readCache.stats().hits).toBe(hits + 1);
    // The copy button's module ran (script-src 'self'): it shows the controls it hides without JavaScript.
    await expect.poll(() => page.locator('[data-copy-controls]').isVisible()).toBe(true);
    expect(violations).toEqual([]);
    await page.close();
  });

  it('the API documentation renders its operations without a violation', async () => {
    const { page, violations } = await open('/api/docs/');
    await page.locator('.swagger-ui .info .title').filter({ hasText: 'Meldingskanal API' }).waitFor();
    await page.locator('.opblock').first().waitFor();
    expect(await page.locator('.opblock').count()).toBeGreaterThan(5);
    // Expanding an operation renders its schemas and examples (more of the UI's code paths).
    await page.locator('.opblock-summary').first().click();
    await page.locator('.opblock-body').first().waitFor();
    expect(violations).toEqual([]);
    await page.close();
  });

  it('notices a violation when there is one (an injected inline script is refused)', async () => {
    const { page, violations } = await open('/');
    await page.addScriptTag({ content: 'window.__injected = true;' }).catch(() => undefined);
    const injected = await page.evaluate('window.__injected === true');
    expect(injected).toBe(false);
    await expect.poll(() => violations.length).toBeGreaterThan(0);
    await page.close();
  });
});

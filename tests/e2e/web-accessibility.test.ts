/**
 * The frame every page shares, in the real browser: no WCAG 2.1 A/AA violation (axe-core) in any of the three
 * languages, light and dark colour schemes, and no horizontal scrolling at 320 CSS pixels (WCAG 1.4.10 reflow:
 * 1280 px at 400 % zoom). Each area's pages have their own browser tests built on tests/helpers/axe.ts.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LANGUAGES } from '../../src/domain/types.js';
import { buildApp } from '../../src/http/app.js';
import { axeViolations } from '../helpers/axe.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel } from '../helpers/factories.js';

let ctx: TestContext;
let app: FastifyInstance;
let base: string;
let browser: TestBrowser;

beforeAll(async () => {
  ctx = await createTestContext();
  await createChannel(ctx.deps.db, { visibility: 'public' });
  app = await buildApp(ctx.deps, { logger: false });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await ctx?.close();
});

describe('the front page in Chromium', () => {
  for (const language of LANGUAGES) {
    for (const colorScheme of ['light', 'dark'] as const) {
      it(`has no WCAG 2.1 A/AA violations in ${language}, ${colorScheme}`, async () => {
        const page = await browser.context.newPage();
        await page.emulateMedia({ colorScheme });
        await page.goto(`${base}/?lang=${language}`);
        expect(await page.getAttribute('html', 'lang')).toBe(language);
        expect(await axeViolations(page)).toEqual([]);
        await page.close();
      });
    }
  }

  it('reflows at 320 CSS pixels without horizontal scrolling, and the skip link leads to the main content', async () => {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 320, height: 800 });
    await page.goto(`${base}/?lang=nb`);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(320);
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Hopp til hovedinnholdet');
    await page.keyboard.press('Enter');
    expect(await page.evaluate('location.hash')).toBe('#main');
    await page.close();
  });
});

/**
 * The publishers' pages in Chromium: the live preview with JavaScript, publishing a plain announcement with
 * JavaScript switched off (and the no-JS Preview button), and the language versions side by side on a wide screen
 * but in one column at 200 % zoom and at 320 CSS pixels without horizontal scrolling. Screenshots of the editor and
 * of the delivery figures (with failures and skip reasons) in nb and en go to /tmp. Accessibility checks:
 * tests/e2e/publisher-accessibility.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type PublisherPagesWorld, startPublisherPages } from '../helpers/publisher-pages.js';

let world: PublisherPagesWorld;

beforeAll(async () => {
  world = await startPublisherPages();
}, 60_000);

afterAll(async () => {
  await world?.close();
});

describe('the publishers’ pages in Chromium', () => {
  it('show the live preview of a body as the server renders it, with JavaScript', async () => {
    for (const language of ['nb', 'en'] as const) {
      const page = await world.open(`/channels/${world.channel.slug}/announcements/new`, language);
      await page.setViewportSize({ width: 1400, height: 1000 });
      await page.locator('#field-title-nb').fill('Ny reiseregningsløsning');
      await page
        .locator('#field-body-nb')
        .fill('## Hva endres\n\nReiseregninger leveres i **ny løsning** fra 1. mars.\n\n- Enklere\n- Raskere');
      await page.locator('#field-title-en').fill('New travel expense system');
      await page
        .locator('#field-body-en')
        .fill('## What changes\n\nTravel expenses go to the **new system** from 1 March.');
      // (Locators, not waitForFunction: the page's CSP allows no eval, which that would need.)
      await page.locator('#preview-nb strong', { hasText: 'ny løsning' }).waitFor();
      await page.locator('#preview-en strong', { hasText: 'new system' }).waitFor();
      expect(await page.locator('#preview-nb h2').textContent()).toBe('Hva endres');
      // Raw HTML typed into a body is not carried into the preview.
      await page.locator('#field-body-nn').fill('<img src=x onerror="window.previewXss=1"> Hei');
      await page.locator('#preview-nn', { hasText: 'Hei' }).waitFor();
      expect(await page.locator('#preview-nn img').count()).toBe(0);
      expect(await page.evaluate('window.previewXss')).toBeUndefined();
      await page.locator('#field-body-nn').fill('');
      await page.locator('#preview-nn', { hasText: 'Hei' }).waitFor({ state: 'detached' });
      await page.screenshot({ path: `/tmp/shot-editor-${language}.png`, fullPage: true });
      await page.close();
    }
  });

  it('publish a plain announcement with JavaScript switched off', async () => {
    const page = await world.browser.context.newPage();
    const cdp = await world.browser.context.newCDPSession(page);
    await cdp.send('Emulation.setScriptExecutionDisabled', { value: true });
    await page.goto(`${world.base}/channels/${world.channel.slug}/announcements/new?lang=nb`);
    // The editor module did not run (it marks the form when it does).
    expect(await page.locator('form.mk-editor--live').count()).toBe(0);
    await page.locator('#field-title-nb').fill('Uten JavaScript');
    await page.locator('#field-body-nb').fill('Publisert **uten** skript.');
    // The Preview button works without JavaScript too.
    await page.getByRole('button', { name: 'Forhåndsvis' }).click();
    expect(await page.locator('#preview-nb strong').textContent()).toBe('uten');
    await page.getByRole('button', { name: 'Publiser nå' }).click();
    await page.waitForURL(/\/announcements\/[0-9a-f-]{36}\/deliveries\?saved=published$/);
    expect(await page.getByRole('status').textContent()).toContain('Kunngjøringen er publisert.');
    const id = page.url().split('/')[4]!;
    const stored = await world.ctx.deps.db.announcement.findUniqueOrThrow({ where: { id } });
    expect(stored).toMatchObject({ status: 'published', title: 'Uten JavaScript', body: 'Publisert **uten** skript.' });
    await page.close();
  });

  it('put the language versions side by side on a wide screen, and in one column at 200 % zoom and 320 px', async () => {
    const page = await world.open(`/channels/${world.channel.slug}/announcements/new`, 'nb');
    const boxes = async () =>
      Promise.all(['nb', 'nn', 'en'].map(async (language) => page.locator(`#version-${language}`).boundingBox()));
    await page.setViewportSize({ width: 1400, height: 900 });
    const wide = await boxes();
    expect(new Set(wide.map((box) => Math.round(box!.y))).size).toBe(1);
    // 1280 px at 200 % zoom is 640 CSS pixels.
    for (const width of [640, 320]) {
      await page.setViewportSize({ width, height: 900 });
      const narrow = await boxes();
      expect(new Set(narrow.map((box) => Math.round(box!.x))).size, `${width} px`).toBe(1);
      expect(narrow[1]!.y).toBeGreaterThan(narrow[0]!.y);
      expect(await page.evaluate('document.documentElement.scrollWidth'), `${width} px`).toBeLessThanOrEqual(width);
    }
    await page.close();
  });

  it('show the delivery figures with failures and skip reasons (screenshots)', async () => {
    for (const [language, retry] of [
      ['nb', 'Prøv den mislykkede på nytt (E-post)'],
      ['en', 'Retry the failed one (E-mail)'],
    ] as const) {
      const page = await world.open(`/announcements/${world.announcementId}/deliveries`, language);
      await page.setViewportSize({ width: 1280, height: 900 });
      expect(await page.getByRole('button', { name: retry }).count()).toBe(1);
      await page.screenshot({ path: `/tmp/shot-deliveries-figures-${language}.png`, fullPage: true });
      await page.close();
    }
  });
});

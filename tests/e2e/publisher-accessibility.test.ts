/**
 * The publishers' pages in Chromium, checked with axe-core: no WCAG 2.1 A/AA violations on any of them (the
 * publishing start page, the editor new and published, the delivery figures, the retraction's confirmation, channel
 * settings) in nb, nn and en, nor on the editor as it comes back with its error summary.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LANGUAGES } from '../../src/domain/types.js';
import { axeViolations } from '../helpers/axe.js';
import { type PublisherPagesWorld, startPublisherPages } from '../helpers/publisher-pages.js';

let world: PublisherPagesWorld;

beforeAll(async () => {
  world = await startPublisherPages();
}, 60_000);

afterAll(async () => {
  await world?.close();
});

describe('the publishers’ pages in Chromium', () => {
  for (const language of LANGUAGES) {
    it(`have no WCAG 2.1 A/AA violations in ${language}`, async () => {
      // Side by side: each page in its own tab (axe runs in each renderer at once).
      const results = await Promise.all(
        world.pages.map(async ({ name, path }) => {
          const page = await world.open(path, language);
          const violations = await axeViolations(page);
          await page.close();
          return { name, violations };
        }),
      );
      for (const { name, violations } of results) expect(violations, `${name} (${language})`).toEqual([]);
      // The editor as it comes back with errors: the error summary and the fields' messages.
      const page = await world.open(`/channels/${world.channel.slug}/announcements/new`, language);
      await page.locator('#field-body-nb').fill('Uten tittel');
      await page.locator('button[value="schedule"]').click();
      await page.waitForSelector('[data-testid="error-summary"]');
      expect(await axeViolations(page), `editor with errors (${language})`).toEqual([]);
      await page.close();
    });
  }
});

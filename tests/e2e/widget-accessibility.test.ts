/**
 * The widget's accessibility and layout in Chromium, on a host page of another origin: no WCAG 2.1 A/AA violation
 * (axe-core, inside its shadow roots) in bokmål, nynorsk and English, on light and dark host pages and with
 * theme="dark" on a light one; its language taken from the host page; a narrow sidebar and a wide column each get their
 * layout without overflowing; keyboard focus is visible and survives live updates; critical announcements are said
 * assertively; the highlight of new ones respects prefers-reduced-motion. And the demo page (development only).
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LANGUAGES } from '../../src/domain/types.js';
import { axeViolations } from '../helpers/axe.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { waitFor } from '../helpers/wait.js';
import {
  type HostSite,
  hostPageUrl,
  startHostSite,
  startWidgetService,
  type WidgetService,
  widgetState,
  widgetText,
} from '../helpers/widget-host.js';

let host: HostSite;
let service: WidgetService;
let browser: TestBrowser;

const CRITICAL = 'Nettverket er nede på campus';
/** Pinned: first in every widget, however many are published later. */
const PINNED = 'Husk fristen for emneregistrering';

beforeAll(async () => {
  host = await startHostSite();
  service = await startWidgetService([host.origin]);
  browser = await launchBrowser();
  const pinned = await service.publish({
    title: 'Husk fristen for emneregistrering',
    summary: 'Fristen er 1. februar.',
  });
  await service.pin(pinned);
  await service.publish({ title: 'Planlagt vedlikehold av Canvas', importance: 'important', summary: 'Lørdag 10–14.' });
  await service.publish({ title: CRITICAL, importance: 'critical', summary: 'Vi jobber med saken.' });
  await service.publish({ title: 'Nytt i Studentweb', summary: 'En ny side for søknader.' });
});

afterAll(async () => {
  await browser?.close();
  await service?.close();
  await host?.close();
});

const LABELS = {
  nb: { critical: 'Kritisk', pinned: 'Festet' },
  nn: { critical: 'Kritisk', pinned: 'Festa' },
  en: { critical: 'Critical', pinned: 'Pinned' },
} as const;

/** A host page in `lang` with the widget in its wide column and, compact, in its sidebar; resolves once both show. */
async function hostPage(
  lang: string,
  options: { widget?: Record<string, string>; reducedMotion?: 'reduce' } = {},
): Promise<Page> {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.emulateMedia({
    colorScheme: 'light',
    reducedMotion: options.reducedMotion ?? null,
  });
  const channel = service.channel.slug;
  await page.goto(
    hostPageUrl(host, {
      lang,
      service: service.url,
      widgets: [
        { channel, ...options.widget },
        { channel, layout: 'compact', limit: '3', 'heading-level': '3', ...options.widget },
      ],
    }),
  );
  for (const index of [0, 1]) {
    await waitFor(async () => (await widgetState(page, 'live', index)) === 'live', { what: 'the widget live' });
    await waitFor(async () => (await widgetText(page, index)).includes(PINNED), { what: 'the announcements' });
  }
  return page;
}

function inWidget<T>(page: Page, expression: string, index = 0): Promise<T> {
  return page.evaluate(
    `((root) => ${expression})(document.querySelectorAll('meldingskanal-feed')[${index}].shadowRoot)`,
  ) as Promise<T>;
}

describe('the widget’s accessibility', () => {
  for (const language of LANGUAGES) {
    it(`has no WCAG 2.1 A/AA violations in ${language}, on light and dark host pages`, async () => {
      const page = await hostPage(language);
      // No lang attribute on the element: the host page's language is the widget's.
      expect(await inWidget(page, `root.querySelector('section').lang`)).toBe(language);
      const text = await widgetText(page);
      expect(text).toContain(LABELS[language].critical);
      expect(text).toContain(LABELS[language].pinned);
      const background = `getComputedStyle(root.querySelector('.c')).backgroundColor`;
      expect(await inWidget(page, background)).toBe('rgb(255, 255, 255)');
      expect(await axeViolations(page, 'meldingskanal-feed')).toEqual([]);
      // The reader's dark scheme: the host page and the widget follow it.
      await page.emulateMedia({ colorScheme: 'dark' });
      expect(await inWidget(page, background)).toBe('rgb(23, 27, 33)');
      expect(await axeViolations(page, 'meldingskanal-feed')).toEqual([]);
      if (language === 'nb') {
        // A host page with one scheme only fixes the widget's: theme="dark" on a light page.
        await page.emulateMedia({ colorScheme: 'light' });
        await page.evaluate(
          `document.querySelectorAll('meldingskanal-feed').forEach((e) => e.setAttribute('theme', 'dark'))`,
        );
        expect(await inWidget(page, background)).toBe('rgb(23, 27, 33)');
        expect(await axeViolations(page, 'meldingskanal-feed')).toEqual([]);
      }
      await page.close();
    });
  }

  it('is a list with headings: pinned first, then newest first, critical marked', async () => {
    const page = await hostPage('en');
    const structure = await inWidget<{ heading: string; items: [string, string, string][] }>(
      page,
      `({ heading: root.querySelector('h2').textContent,
          items: [...root.querySelectorAll('ul > li')].map((li) => [li.querySelector('h3').textContent, li.getAttribute('part'), li.lang]) })`,
    );
    expect(structure.heading).toBe('BOTT Studieadministrasjon');
    expect(structure.items).toEqual([
      ['Husk fristen for emneregistrering', 'item item-pinned', 'nb'],
      ['Nytt i Studentweb', 'item', 'nb'],
      [CRITICAL, 'item item-critical', 'nb'],
      ['Planlagt vedlikehold av Canvas', 'item item-important', 'nb'],
    ]);
    // The sidebar's widget was asked for heading level 3: its announcements are h4.
    expect(await inWidget(page, `root.querySelectorAll('h3.hd, h4.t').length`, 1)).toBe(4);
    await page.close();
  });

  it('lays itself out by its own width: two columns in the wide column, stacked in the 250 px sidebar, no overflow', async () => {
    const page = await hostPage('nb');
    expect(await widgetState(page, 'width', 0)).toBe('wide');
    expect(await widgetState(page, 'width', 1)).toBe('narrow');
    expect(
      await inWidget(page, `getComputedStyle(root.querySelector('li')).gridTemplateColumns.split(' ').length`, 0),
    ).toBe(2);
    expect(await inWidget(page, `getComputedStyle(root.querySelector('li')).display`, 1)).not.toBe('grid');
    const overflow = await inWidget<number>(
      page,
      `root.querySelector('.c').scrollWidth - root.querySelector('.c').clientWidth`,
      1,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    // And it inherits the host page's font.
    expect(await inWidget(page, `getComputedStyle(root.querySelector('.c')).fontFamily`)).toContain('DejaVu Serif');
    await page.close();
  });

  it('shows keyboard focus, keeps it through live updates, and says critical announcements assertively', async () => {
    const page = await hostPage('nb');
    await page.keyboard.press('Tab');
    const focused = () =>
      page.evaluate(`document.querySelector('meldingskanal-feed').shadowRoot.activeElement?.textContent`);
    expect(await focused()).toBe('Husk fristen for emneregistrering');
    expect(await inWidget(page, `getComputedStyle(root.activeElement).outlineStyle`)).toBe('solid');
    expect(await inWidget(page, `getComputedStyle(root.activeElement).outlineWidth`)).toBe('3px');

    const title = 'Strømbrudd i Realfagbygget';
    await service.publish({ title, importance: 'critical' });
    await waitFor(async () => (await widgetText(page)).includes(title), { what: 'the new announcement' });
    expect(await focused()).toBe('Husk fristen for emneregistrering');
    await waitFor(
      async () =>
        (await inWidget(page, `root.querySelector('[aria-live=assertive]').textContent`)) ===
        `Kritisk kunngjøring: ${title}`,
      { what: 'the assertive announcement' },
    );
    // Highlighted as new (an animation), and the next Tab goes on to the next link.
    expect(await inWidget(page, `getComputedStyle(root.querySelector('li.new')).animationName`)).toBe('mk-new');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe(title);
    await page.close();
  });

  it('does not animate new announcements for readers who prefer reduced motion', async () => {
    const page = await hostPage('nb', { reducedMotion: 'reduce' });
    const title = 'Ny frist for innlevering';
    await service.publish({ title });
    await waitFor(async () => (await widgetText(page)).includes(title), { what: 'the new announcement' });
    expect(await inWidget(page, `root.querySelector('li.new')?.querySelector('a').textContent`)).toBe(title);
    expect(await inWidget(page, `getComputedStyle(root.querySelector('li.new')).animationName`)).toBe('none');
    await page.close();
  });
});

describe('the demo page', () => {
  it('embeds the widget on the service’s own page with no WCAG 2.1 A/AA violations', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${service.url}/widget/demo?lang=nn&channel=${service.channel.slug}`);
    for (const index of [0, 1]) {
      await waitFor(async () => (await widgetText(page, index)).includes(PINNED), { what: 'the demo widgets' });
    }
    expect(await page.inputValue('textarea')).toContain(
      `<meldingskanal-feed channel="${service.channel.slug}" lang="nn"`,
    );
    expect(await axeViolations(page)).toEqual([]);
    await page.close();
  });
});

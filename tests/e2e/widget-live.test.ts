/**
 * The widget in Chromium on a host page of ANOTHER origin (an intranet-like page with a strict CSP, on its own
 * server), against the real service: it renders, shows an announcement published after load within a second,
 * recovers what it missed after its connection was cut (network offline and the server side's sockets destroyed),
 * on WebSocket and on Server-Sent Events, falls back to SSE when WebSockets are refused, reloads over REST after a
 * `reset`, and cannot be loaded by a page on an origin the service does not allow.
 *
 * Prints one line of figures (publish → display, cut → recovered, per transport).
 */
import type { Page, WebSocket } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { createUser, tokenFor } from '../helpers/factories.js';
import { positionOf } from '../helpers/live-relay.js';
import { waitFor } from '../helpers/wait.js';
import { browserSession } from '../helpers/web.js';
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
let foreign: HostSite;
let service: WidgetService;
let browser: TestBrowser;
const figures: string[] = [];
let seeded: { id: string; title: string }[];

beforeAll(async () => {
  host = await startHostSite();
  foreign = await startHostSite();
  service = await startWidgetService([host.origin]);
  browser = await launchBrowser();
  seeded = [];
  for (const title of ['Eksamensplaner er publisert', 'Ny versjon av FS kommer i mai']) {
    seeded.push({ id: await service.publish({ title, summary: `Sammendrag: ${title}` }), title });
  }
});

afterAll(async () => {
  if (figures.length) console.log(`widget: ${figures.join(', ')}`);
  await browser?.close();
  await service?.close();
  await host?.close();
  await foreign?.close();
});

/** A host page with one widget on the test channel; resolves once the widget is live. */
async function openWidget(attributes: Record<string, string> = {}, page?: Page): Promise<Page> {
  const tab = page ?? (await browser.context.newPage());
  await tab.goto(
    hostPageUrl(host, {
      service: service.url,
      widgets: [{ channel: service.channel.slug, limit: '10', ...attributes }],
    }),
  );
  await waitFor(async () => (await widgetState(tab, 'live')) === 'live', { what: 'the widget to be live' });
  await waitFor(
    async () =>
      ((await tab.evaluate(
        `document.querySelector('meldingskanal-feed').shadowRoot.querySelectorAll('li').length`,
      )) as number) > 0,
    { what: 'the first load' },
  );
  return tab;
}

/** Waits until the widget shows every title; resolves with how long that took from `since` (ms). */
async function shown(page: Page, titles: string[], since: number): Promise<number> {
  // Polled through the DevTools protocol: the host page's CSP forbids the eval waitForFunction would need.
  await waitFor(
    async () => {
      const text = await widgetText(page);
      return titles.every((title) => text.includes(title));
    },
    { intervalMs: 5, what: `the widget to show ${titles.join(', ')}` },
  );
  return Date.now() - since;
}

/** How many list items carry this title (each announcement must be shown once). */
function itemsTitled(page: Page, title: string): Promise<number> {
  return page.evaluate(
    `[...document.querySelector('meldingskanal-feed').shadowRoot.querySelectorAll('li')].filter((li) => li.querySelector('a').textContent === ${JSON.stringify(title)}).length`,
  ) as Promise<number>;
}

/** Publishes one announcement and waits until the widget shows it: from then on it has a position to resume from. */
async function receiveOne(page: Page, title: string): Promise<void> {
  await service.publish({ title });
  await shown(page, [title], Date.now());
}

/** Takes the page off the network and cuts its open connections on the server side; waits until the widget saw it. */
async function cut(page: Page): Promise<void> {
  await browser.context.setOffline(true);
  service.cutConnections();
  await waitFor(async () => (await widgetState(page, 'live')) !== 'live', { what: 'the widget to notice the cut' });
}

/** Publishes while the widget is cut off, and waits until the relay gave each event its position. */
async function publishWhileCut(titles: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const title of titles) ids.push(await service.publish({ title }));
  for (const id of ids) {
    await waitFor(() => positionOf(service.ctx.deps.db, id).catch(() => false), { what: 'the relay' });
  }
  return ids;
}

describe('the widget on another origin', () => {
  it('renders the latest announcements, linking to their pages on the service, under the host page’s strict CSP', async () => {
    const page = await openWidget();
    const text = await widgetText(page);
    for (const { title } of seeded) expect(text).toContain(title);
    expect(text).toContain('Sammendrag: Eksamensplaner er publisert');
    // The heading is the channel's title; newest first.
    expect(
      await page.evaluate(`document.querySelector('meldingskanal-feed').shadowRoot.querySelector('h2').textContent`),
    ).toBe('BOTT Studieadministrasjon');
    const links = (await page.evaluate(
      `[...document.querySelector('meldingskanal-feed').shadowRoot.querySelectorAll('li a')].map((a) => [a.textContent, a.href])`,
    )) as [string, string][];
    expect(links).toEqual([
      [seeded[1]!.title, `${service.url}/announcements/${seeded[1]!.id}`],
      [seeded[0]!.title, `${service.url}/announcements/${seeded[0]!.id}`],
    ]);
    // Styled by its adopted style sheet (the page's style-src 'self' would block a <style>), and nothing blocked.
    expect(
      await page.evaluate(
        `getComputedStyle(document.querySelector('meldingskanal-feed').shadowRoot.querySelector('.c')).borderTopStyle`,
      ),
    ).toBe('solid');
    expect(await page.evaluate('window.__violations')).toEqual([]);
    expect(await widgetState(page, 'transport')).toBe('websocket');
    await page.close();
  });

  for (const transport of ['websocket', 'sse'] as const) {
    it(`shows an announcement published after load within a second (${transport})`, async () => {
      const page = await openWidget({ transport });
      const title = `Publisert etter lasting (${transport})`;
      const started = Date.now();
      await service.publish({ title, importance: 'important' });
      const latency = await shown(page, [title], started);
      figures.push(`publish→display ${transport} ${latency} ms`);
      expect(latency).toBeLessThan(1000);
      expect(await itemsTitled(page, title)).toBe(1);
      // New announcements are said politely to screen readers.
      const politely = `Ny kunngjøring: ${title}`;
      await waitFor(
        async () =>
          (await page.evaluate(
            `document.querySelector('meldingskanal-feed').shadowRoot.querySelector('[aria-live=polite]').textContent`,
          )) === politely,
        { what: 'the polite announcement' },
      );
      expect(await widgetState(page, 'transport')).toBe(transport);
      await page.close();
    });

    it(`recovers what it missed while its connection was cut, each once (${transport})`, async () => {
      const page = await openWidget(transport === 'sse' ? { transport } : {});
      const subscribes: string[] = [];
      const streams: string[] = [];
      page.on('websocket', (socket: WebSocket) =>
        socket.on('framesent', (frame) => subscribes.push(String(frame.payload))),
      );
      page.on('request', (request) => {
        if (request.url().includes('/api/v1/live/sse')) streams.push(request.url());
      });
      await receiveOne(page, `Før bruddet (${transport})`);
      await cut(page);
      const missed = [1, 2, 3].map((n) => `Mens forbindelsen var brutt ${n} (${transport})`);
      await publishWhileCut(missed);
      for (const title of missed) expect(await widgetText(page)).not.toContain(title);

      const back = Date.now();
      await browser.context.setOffline(false);
      const recovery = await shown(page, missed, back);
      figures.push(`cut→recovered ${transport} ${recovery} ms`);
      for (const title of missed) expect(await itemsTitled(page, title)).toBe(1);
      // It resumed from its position rather than starting over; on the transport it had.
      if (transport === 'sse') expect(streams.at(-1)).toMatch(/[?&]since=\d+/);
      else expect(subscribes.find((frame) => frame.includes('"subscribe"'))).toMatch(/"since":"\d+"/);
      expect(await widgetState(page, 'transport')).toBe(transport);
      await page.close();
    });
  }

  it('falls back to Server-Sent Events when WebSockets are refused (a proxy that does not pass them)', async () => {
    const page = await browser.context.newPage();
    let refused = 0;
    await page.routeWebSocket(/\/api\/v1\/live/, (socket) => {
      refused += 1;
      socket.close();
    });
    await openWidget({}, page);
    expect(await widgetState(page, 'transport')).toBe('sse');
    expect(refused).toBe(2);
    const title = 'Kommer over SSE';
    await service.publish({ title });
    await shown(page, [title], Date.now());
    await page.close();
  });

  it('reloads over REST after a reset (what it missed was pruned from the log)', async () => {
    const page = await openWidget();
    const resets: string[] = [];
    page.on('websocket', (socket: WebSocket) =>
      socket.on('framereceived', (frame) => {
        if (String(frame.payload).includes('"reset"')) resets.push(String(frame.payload));
      }),
    );
    await receiveOne(page, 'Før pruningen');
    await cut(page);
    const [first] = await publishWhileCut(['Før opprydding', 'Etter opprydding']);
    // The log no longer holds the first missed event: a resume from before it would have a gap.
    const firstPosition = await positionOf(service.ctx.deps.db, first!);
    await service.ctx.deps.db.$executeRaw`DELETE FROM "OutboxEvent" WHERE position <= ${BigInt(firstPosition)}`;
    await browser.context.setOffline(false);
    await shown(page, ['Før opprydding', 'Etter opprydding'], Date.now());
    expect(resets).toHaveLength(1);
    expect(JSON.parse(resets[0]!)).toMatchObject({ type: 'reset', reason: 'too_old' });
    expect(await itemsTitled(page, 'Før opprydding')).toBe(1);
    await page.close();
  });

  it('cannot be loaded by a page on an origin the service does not allow', async () => {
    const page = await browser.context.newPage();
    const failed: string[] = [];
    page.on('requestfailed', (request) => failed.push(request.url()));
    await page.goto(hostPageUrl(foreign, { service: service.url, widgets: [{ channel: service.channel.slug }] }), {
      waitUntil: 'load',
    });
    expect(await page.evaluate(`customElements.get('meldingskanal-feed') === undefined`)).toBe(true);
    expect(await page.evaluate(`document.querySelector('meldingskanal-feed').shadowRoot === null`)).toBe(true);
    expect(failed).toContain(`${service.url}/widget.js`);
    // Nor can its scripts read the API or open the live connection.
    const read = await page.evaluate(
      `fetch(${JSON.stringify(`${service.url}/api/v1/channels/${service.channel.slug}/announcements`)}).then(() => 'read', () => 'refused')`,
    );
    expect(read).toBe('refused');
    const live = await page.evaluate(
      `new Promise((resolve) => { const ws = new WebSocket(${JSON.stringify(`${service.url.replace('http', 'ws')}/api/v1/live`)}); ws.onopen = () => resolve('open'); ws.onclose = () => resolve('refused'); })`,
    );
    expect(live).toBe('refused');
    await page.close();
  });

  it('shows a signed-in reader their unread count on the service’s own site, kept current live; never elsewhere', async () => {
    const db = service.ctx.deps.db;
    const reader = await createUser(db);
    const token = await tokenFor(db, reader.id);
    const api = (method: 'GET' | 'PUT', url: string) =>
      service.app.inject({
        method,
        url,
        headers: {
          authorization: `Bearer ${token}`,
          ...(method === 'PUT' ? { 'content-type': 'application/json' } : {}),
        },
        ...(method === 'PUT' ? { payload: {} } : {}),
      });
    expect((await api('PUT', `/api/v1/me/subscriptions/${service.channel.slug}`)).statusCode).toBe(201);
    const unread = async () => ((await api('GET', '/api/v1/me/unread')).json() as { total: number }).total;
    const session = await browserSession(db, reader.id);
    const [name, value] = session.cookie.split('=') as [string, string];
    await browser.context.addCookies([
      { name, value, url: service.url.replace('http:', 'https:'), secure: true, sameSite: 'Lax' },
    ]);
    /** The badge's words: "1 ulest", "2 uleste" (the catalogue's plural forms). */
    const unreadWords = (count: number) => `${count} ${count === 1 ? 'ulest' : 'uleste'}`;
    const badge = (page: Page) =>
      page.evaluate(
        `((b) => b.hidden ? null : b.textContent)(document.querySelector('meldingskanal-feed').shadowRoot.querySelector('[part=badge]'))`,
      );
    try {
      const page = await browser.context.newPage();
      await page.goto(`${service.url}/widget/demo?lang=nb&channel=${service.channel.slug}`);
      await waitFor(async () => (await widgetState(page, 'live')) === 'live', { what: 'the demo widget live' });
      // Same origin: WebSocket allowed (PUBLIC_URL's origin), the session cookie sent with the REST reads.
      expect(await widgetState(page, 'transport')).toBe('websocket');
      const total = await unread();
      expect(total).toBeGreaterThan(1);
      await waitFor(async () => (await badge(page)) === unreadWords(total), { what: `the badge to say ${total}` });

      // Read on another device: the read.changed frame reaches this page's connection.
      const [first] = seeded;
      expect((await api('PUT', `/api/v1/me/reads/${first!.id}`)).statusCode).toBe(204);
      await waitFor(async () => (await badge(page)) === unreadWords(total - 1), { what: 'the badge after a read' });
      // A new announcement is one more unread.
      await service.publish({ title: 'Uleste teller opp' });
      await waitFor(async () => (await badge(page)) === unreadWords(total), { what: 'the badge after a publication' });
      expect(
        await page.evaluate(
          `document.querySelector('meldingskanal-feed').shadowRoot.querySelector('[part=badge]').href`,
        ),
      ).toBe(`${service.url}/me/feed`);
      await page.close();

      // On the intranet's origin the cookie is not sent: anonymous, no badge.
      const elsewhere = await openWidget();
      expect(await badge(elsewhere)).toBeNull();
      await elsewhere.close();
    } finally {
      await browser.context.clearCookies();
    }
  });
});

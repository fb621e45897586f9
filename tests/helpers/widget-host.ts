/**
 * The world of the widget's browser tests: an intranet-like host site on its own origin (a tiny HTTP server on
 * another port) that embeds the widget's snippet under a strict Content-Security-Policy, and the service — the app
 * listening for real, with WIDGET_ORIGINS naming the host site, and the worker's outbox relay running (woken by
 * NOTIFY, as in production), so an announcement published over the API reaches the widget through PostgreSQL,
 * Redis and the live endpoint.
 */
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { buildApp } from '../../src/http/app.js';
import type { OutboxRelay } from '../../workers/outbox-relay.js';
import { createTestContext, type TestContext } from './context.js';
import { createChannel, createUser, grantRole, type TestChannel, tokenFor } from './factories.js';
import { testRelay } from './live-relay.js';
import { freePort } from './ports.js';

export interface HostSite {
  origin: string;
  close(): Promise<void>;
}

export interface HostPageOptions {
  /** The host page's `lang`. */
  lang?: string;
  /** The widget elements' attributes (one element each). */
  widgets: Record<string, string>[];
  /** Where the widget's script comes from (the service's origin). */
  service: string;
}

/**
 * The host page's own script (script-src 'self' allows it, no inline code): it records Content-Security-Policy
 * violations, so a test can assert that the widget needs nothing the page's policy forbids.
 */
const HOST_SCRIPT = `window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
`;

/** An intranet's look: its own font and colours, light and dark, and a sidebar of 250 px beside a wide column. */
const HOST_STYLE = `body { margin: 0; font-family: "DejaVu Serif", Georgia, serif; font-size: 17px; background: #f4f1ea; color: #222; }
@media (prefers-color-scheme: dark) { body { background: #101214; color: #eee; } a { color: #9cf; } }
header, main { padding: 16px 24px; }
.layout { display: grid; grid-template-columns: minmax(0, 1fr) 250px; gap: 32px; }
.wide { min-width: 0; }
.sidebar { width: 250px; }
`;

const escapeHtml = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

function hostPage(options: HostPageOptions): string {
  const element = (attributes: Record<string, string>) =>
    `<meldingskanal-feed${Object.entries(attributes)
      .map(([name, value]) => ` ${name}="${escapeHtml(value)}"`)
      .join('')}></meldingskanal-feed>`;
  const [wide, ...sidebar] = options.widgets;
  return `<!doctype html>
<html lang="${escapeHtml(options.lang ?? 'nb')}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Intranett</title>
<link rel="stylesheet" href="/host.css">
<script src="/host.js"></script>
<script type="module" src="${escapeHtml(options.service)}/widget.js"></script>
</head>
<body>
<header><p>Universitetets intranett</p></header>
<main>
<h1>Forsiden</h1>
<div class="layout">
<section class="wide" id="wide"><h2>Nyheter</h2><p>Innhold fra intranettet.</p>${wide ? element(wide) : ''}</section>
<aside class="sidebar" id="sidebar" aria-label="Sidekolonne">${sidebar.map(element).join('')}</aside>
</div>
</main>
</body>
</html>`;
}

/**
 * A host site on 127.0.0.1 and a port of its own (another origin than the service). `GET /page?w=<json>` is a page
 * embedding the widgets described by the query (HostPageOptions as JSON), sent with a strict CSP that allows
 * scripts and connections to the service only.
 */
export async function startHostSite(): Promise<HostSite> {
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://host');
    if (url.pathname === '/host.js') {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(HOST_SCRIPT);
    } else if (url.pathname === '/host.css') {
      response.writeHead(200, { 'content-type': 'text/css; charset=utf-8' }).end(HOST_STYLE);
    } else if (url.pathname === '/page') {
      const options = JSON.parse(url.searchParams.get('w') ?? '{}') as HostPageOptions;
      const service = new URL(options.service);
      const policy = [
        "default-src 'self'",
        `script-src 'self' ${service.origin}`,
        `connect-src 'self' ${service.origin} ws://${service.host}`,
        "style-src 'self'",
        "img-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
      ].join('; ');
      response
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': policy })
        .end(hostPage(options));
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The address of a host page with these widgets. */
export function hostPageUrl(site: HostSite, options: HostPageOptions): string {
  return `${site.origin}/page?w=${encodeURIComponent(JSON.stringify(options))}`;
}

export interface WidgetService {
  ctx: TestContext;
  app: FastifyInstance;
  /** The service's origin, `http://localhost:<port>` (PUBLIC_URL). */
  url: string;
  channel: TestChannel;
  /** Publishes over the API as the channel's publisher; resolves with the announcement's id once committed. */
  publish(fields: { title: string; importance?: string; summary?: string; language?: string }): Promise<string>;
  /** Pins an announcement (it then leads the channel's listing). */
  pin(id: string): Promise<void>;
  /** Cuts every connection browsers have open to the service (as a network failure would), not the server. */
  cutConnections(): void;
  close(): Promise<void>;
}

/**
 * The service with WIDGET_ORIGINS = `allowedOrigins` and PUBLIC_URL its own address, a public channel and a publisher
 * in it.
 */
export async function startWidgetService(allowedOrigins: string[]): Promise<WidgetService> {
  // PUBLIC_URL is the address the service listens on, so that its own pages (the demo page) are its origin.
  const port = await freePort();
  const ctx = await createTestContext({
    WIDGET_ORIGINS: allowedOrigins.join(','),
    // localhost, not 127.0.0.1: Chromium sends Secure cookies (the __Host- session cookie) to http://localhost only.
    PUBLIC_URL: `http://localhost:${port}`,
  });
  const db = ctx.deps.db;
  const channel = await createChannel(db, { visibility: 'public', title: 'BOTT Studieadministrasjon' });
  const publisher = await createUser(db);
  await grantRole(db, channel.id, publisher.id, 'publisher');
  const token = await tokenFor(db, publisher.id);
  const app = await buildApp(ctx.deps, { logger: false });
  const sockets = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await app.listen({ port, host: '127.0.0.1' });
  const url = `http://localhost:${port}`;
  await app.liveHub.start();
  const relay: OutboxRelay = testRelay(ctx);
  await relay.start();
  return {
    ctx,
    app,
    url,
    channel,
    async publish(fields) {
      const response = await app.inject({
        method: 'POST',
        url: `/api/v1/channels/${channel.slug}/announcements`,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        payload: { body: `Tekst: ${fields.title}`, ...fields },
      });
      if (response.statusCode !== 201) throw new Error(`publishing answered ${response.statusCode}: ${response.body}`);
      return (response.json() as { id: string }).id;
    },
    async pin(id) {
      const response = await app.inject({
        method: 'PUT',
        url: `/api/v1/announcements/${id}/pin`,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        payload: {},
      });
      if (response.statusCode !== 200) throw new Error(`pinning answered ${response.statusCode}: ${response.body}`);
    },
    cutConnections() {
      for (const socket of sockets) socket.destroy();
    },
    async close() {
      await relay.close();
      await app.close();
      await ctx.close();
    },
  };
}

/** The text content of the widget's shadow root (of the `index`th widget on the page). */
export function widgetText(page: Page, index = 0): Promise<string> {
  return page.evaluate(
    `document.querySelectorAll('meldingskanal-feed')[${index}]?.shadowRoot?.textContent ?? ''`,
  ) as Promise<string>;
}

/** A data attribute of the widget's container: `live` (connecting, live, waiting, stopped), `transport`, `width`. */
export function widgetState(page: Page, name: 'live' | 'transport' | 'width', index = 0): Promise<string | undefined> {
  return page.evaluate(
    `document.querySelectorAll('meldingskanal-feed')[${index}]?.shadowRoot?.querySelector('.c')?.dataset.${name}`,
  ) as Promise<string | undefined>;
}

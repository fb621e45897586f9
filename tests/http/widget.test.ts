/**
 * The widget's addresses over HTTP: the stable GET /widget.js (a module importing the fingerprinted bundle, CORS for
 * allowed origins only, short cache with ETag and 304), the bundle it imports (year-long cache, CORS), and the demo
 * page, served in development only. In the browser: tests/e2e/widget.test.ts.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { WIDGET_DEMO_PATH } from '../../src/http/routes/web/widget.js';
import { widgetSnippet } from '../../src/web/widget-snippet.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel } from '../helpers/factories.js';
import { getPage } from '../helpers/web.js';

const INTRANET = 'https://intranett.uio.no';

let ctx: TestContext;
let app: FastifyInstance;
let channel: { slug: string };

beforeAll(async () => {
  ctx = await createTestContext({ WIDGET_ORIGINS: INTRANET, PUBLIC_URL: 'https://meldinger.example' });
  channel = await createChannel(ctx.deps.db, { visibility: 'public' });
  app = await buildApp(ctx.deps, { logger: false });
});

afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

describe('GET /widget.js', () => {
  it('is a module that imports the fingerprinted bundle by a relative URL, cached briefly with an ETag', async () => {
    const response = await app.inject({ method: 'GET', url: '/widget.js', headers: { origin: INTRANET } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(response.headers['access-control-allow-origin']).toBe(INTRANET);
    expect(response.headers['access-control-allow-credentials']).toBeUndefined();
    expect(response.headers['cross-origin-resource-policy']).toBe('cross-origin');
    expect(response.headers['cache-control']).toBe('public, max-age=300');
    expect(response.headers.vary).toContain('Origin');
    const bundle = app.webAssets.url('widget.js');
    expect(bundle).toMatch(/^\/assets\/widget-[A-Z0-9]{8}\.js$/);
    expect(response.body).toBe(`import ".${bundle}";\n`);

    const again = await app.inject({
      method: 'GET',
      url: '/widget.js',
      headers: { origin: INTRANET, 'if-none-match': String(response.headers.etag) },
    });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });

  it('sends no CORS permission to an origin that is not allowed (the browser then refuses to run it)', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/widget.js',
      headers: { origin: 'https://evil.example' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    const bundle = await app.inject({
      method: 'GET',
      url: app.webAssets.url('widget.js'),
      headers: { origin: 'https://evil.example' },
    });
    expect(bundle.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers PUBLIC_URL’s own origin too, and the bundle it imports is immutable and readable by allowed origins', async () => {
    const own = await app.inject({
      method: 'GET',
      url: '/widget.js',
      headers: { origin: 'https://meldinger.example' },
    });
    expect(own.headers['access-control-allow-origin']).toBe('https://meldinger.example');
    const bundle = await app.inject({
      method: 'GET',
      url: app.webAssets.url('widget.js'),
      headers: { origin: INTRANET, 'accept-encoding': 'gzip' },
    });
    expect(bundle.statusCode).toBe(200);
    expect(bundle.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(bundle.headers['access-control-allow-origin']).toBe(INTRANET);
    expect(bundle.headers['content-encoding']).toBe('gzip');
  });
});

describe('the demo page', () => {
  it('shows the widget twice and the snippet, in development', async () => {
    const page = await getPage(app, `${WIDGET_DEMO_PATH}?lang=en`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<script type="module" src="/widget.js"></script>');
    expect(page.body.match(/<meldingskanal-feed /g)).toHaveLength(2);
    expect(page.body).toContain(`channel="${channel.slug}"`);
    expect(page.body).toContain('layout="compact"');
    // The snippet (escaped in the textarea) names PUBLIC_URL's address.
    const textarea = /<textarea[^>]*>([^<]*)<\/textarea>/.exec(page.body)?.[1] ?? '';
    const text = textarea
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&');
    expect(text).toBe(widgetSnippet({ publicUrl: 'https://meldinger.example', channels: [channel.slug], lang: 'en' }));
    expect(text).toBe(
      `<script type="module" src="https://meldinger.example/widget.js"></script>\n<meldingskanal-feed channel="${channel.slug}" lang="en" limit="5"></meldingskanal-feed>`,
    );
  });

  it('is not there in production', async () => {
    const production = await buildApp(
      { ...ctx.deps, config: { ...ctx.config, appEnv: 'production' } },
      { logger: false },
    );
    try {
      const page = await getPage(production, WIDGET_DEMO_PATH);
      expect(page.statusCode).toBe(404);
      // The script is.
      expect((await production.inject({ method: 'GET', url: '/widget.js' })).statusCode).toBe(200);
    } finally {
      await production.close();
    }
  });
});

/**
 * The embeddable widget's addresses (the widget itself: src/web/client/widget/):
 *
 * - `GET /widget.js` — the stable address host pages load: a one-line module that imports the fingerprinted bundle
 *   (`/assets/widget-<hash>.js`) by a relative URL. The bundle is cached for a year (immutable, by the assets route);
 *   this file for five minutes with an ETag, so a new release reaches host pages within minutes while a revisit
 *   costs at most a 304. Module scripts are fetched in CORS mode: a page on WIDGET_ORIGINS (or PUBLIC_URL's origin)
 *   gets `Access-Control-Allow-Origin` for its origin, which the browser requires to run the module; any other
 *   origin gets none and the browser refuses to run it. `Cross-Origin-Resource-Policy: cross-origin` so that
 *   host pages with COEP can embed it.
 * - `GET /widget/demo` — only with APP_ENV=development: the widget on a mock intranet page, with the snippet to copy
 *   (`?channel=<slug>`, else the first public channel).
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ANONYMOUS } from '../../../domain/types.js';
import { listDirectory } from '../../../services/directory.js';
import { WidgetDemoPage } from '../../../web/pages/widget-demo.js';
import { sendPage } from '../../../web/render.js';
import { WIDGET_SCRIPT_PATH } from '../../../web/widget-contract.js';
import { widgetSnippet } from '../../../web/widget-snippet.js';
import { POLICY } from '../../policy.js';
import { SLUG_PATTERN } from '../../schemas/common.js';
import type { WebRouteOptions } from './index.js';

export const WIDGET_DEMO_PATH = '/widget/demo';

/** How long browsers and caches keep /widget.js before asking again (with If-None-Match). */
export const WIDGET_SCRIPT_MAX_AGE_SECONDS = 300;

const SLUG = new RegExp(SLUG_PATTERN);

export async function widgetRoutes(app: FastifyInstance, { db, config }: WebRouteOptions): Promise<void> {
  const allowedOrigins = new Set(config.allowedOrigins);
  // `import './assets/widget-<hash>.js'`: relative to /widget.js, so the bundle comes from wherever this did.
  const script = `import ".${app.webAssets.url('widget.js')}";\n`;
  const etag = `"${createHash('sha256').update(script).digest('base64url').slice(0, 22)}"`;

  app.get(WIDGET_SCRIPT_PATH, { config: { policy: POLICY.public }, schema: { hide: true } }, async (request, reply) => {
    const origin = request.headers.origin;
    if (origin && allowedOrigins.has(origin)) reply.header('access-control-allow-origin', origin);
    reply
      .header('cross-origin-resource-policy', 'cross-origin')
      .header('cache-control', `public, max-age=${WIDGET_SCRIPT_MAX_AGE_SECONDS}`)
      .header('etag', etag)
      .header('vary', 'Origin')
      .type('text/javascript; charset=utf-8');
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.send(script);
  });

  if (config.appEnv !== 'development') return;
  app.get(
    WIDGET_DEMO_PATH,
    { config: { policy: POLICY.public, page: true }, schema: { hide: true } },
    async (request, reply) => {
      const ctx = await app.pageContext(request);
      const asked = (request.query as Record<string, unknown>).channel;
      let channel = typeof asked === 'string' && SLUG.test(asked) ? asked : undefined;
      // What an intranet page shows: a public channel (another origin reads as anonymous).
      channel ??= (await listDirectory({ db }, ANONYMOUS, { limit: 1 })).items[0]?.slug;
      const snippet = channel
        ? widgetSnippet({ publicUrl: config.http.publicUrl, channels: [channel], lang: ctx.language })
        : undefined;
      return sendPage(reply, ctx, <WidgetDemoPage ctx={ctx} channel={channel} snippet={snippet} />);
    },
  );
}

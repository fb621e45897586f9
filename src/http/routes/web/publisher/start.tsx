/** `GET /publish` — the publishing start page (src/web/pages/publisher/start.tsx). */
import type { FastifyInstance } from 'fastify';
import { listPublishingChannels } from '../../../../services/publishing.js';
import { PublishStartPage } from '../../../../web/pages/publisher/start.js';
import { WEB_PATHS } from '../../../../web/paths.js';
import { sendPage } from '../../../../web/render.js';
import { POLICY } from '../../../policy.js';
import type { WebRouteOptions } from '../index.js';
import { requireViewer } from './page-helpers.js';

export async function publishStartPage(app: FastifyInstance, { db, config }: WebRouteOptions): Promise<void> {
  app.get(
    WEB_PATHS.publish,
    { config: { policy: POLICY.signedIn, page: true }, schema: { hide: true } },
    async (request, reply) => {
      const ctx = await app.pageContext(request);
      requireViewer(ctx);
      const channels = await listPublishingChannels({ db, publicUrl: config.http.publicUrl }, ctx.actor, ctx.language);
      return sendPage(reply, ctx, <PublishStartPage ctx={ctx} channels={channels} />);
    },
  );
}

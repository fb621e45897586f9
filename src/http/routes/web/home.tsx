/** `GET /` — the front page (src/web/pages/home.tsx). */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../../domain/errors.js';
import { listDirectory, MAX_DIRECTORY_QUERY_LENGTH } from '../../../services/directory.js';
import { HomePage } from '../../../web/pages/home.js';
import { WEB_PATHS } from '../../../web/paths.js';
import { sendPage } from '../../../web/render.js';
import { POLICY } from '../../policy.js';
import type { WebRouteOptions } from './index.js';

/** Channels listed on the front page; the filter narrows them, and the channel directory pages through the rest. */
export const HOME_CHANNEL_LIMIT = 50;

export async function homePages(app: FastifyInstance, { db }: WebRouteOptions): Promise<void> {
  app.get(
    WEB_PATHS.home,
    { config: { policy: POLICY.public, page: true }, schema: { hide: true } },
    async (request, reply) => {
      const ctx = await app.pageContext(request);
      const raw = (request.query as Record<string, unknown>).q;
      const q = typeof raw === 'string' && raw.trim() ? raw.trim() : undefined;
      if (q && q.length > MAX_DIRECTORY_QUERY_LENGTH) {
        throw new AppError('validation_failed', ctx.t('home.channels.noMatch'));
      }
      const page = await listDirectory({ db }, ctx.actor, {
        limit: HOME_CHANNEL_LIMIT,
        q,
        readerLanguage: ctx.language,
      });
      return sendPage(reply, ctx, <HomePage ctx={ctx} channels={page.items} q={q} />);
    },
  );
}

/**
 * The people-facing pages (src/web), registered in one scope that accepts HTML form bodies. Every page route
 * declares `config: { policy, page: true }` (errors become HTML pages in the reader's language, see
 * src/http/plugins/web.ts) and `schema.hide: true` (pages are not API operations). Add an area's routes here.
 */
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app.js';
import { acceptFormBodies } from '../../form-body.js';
import { adminPages } from './admin/index.js';
import { myPages } from './me.js';
import { publisherPages } from './publisher/index.js';
import { readerPages } from './reader.js';
import { widgetRoutes } from './widget.js';

export interface WebRouteOptions {
  db: AppDeps['db'];
  config: AppDeps['config'];
  redis: AppDeps['redis'];
  queues: AppDeps['queues'];
}

/** The editor's form carries a body in up to three languages (20,000 characters each), percent-encoded. */
export const PAGE_FORM_BODY_LIMIT = 1024 * 1024;

export async function webPageRoutes(app: FastifyInstance, options: WebRouteOptions): Promise<void> {
  acceptFormBodies(app, PAGE_FORM_BODY_LIMIT);
  await app.register(readerPages, options);
  await app.register(myPages, options);
  await app.register(publisherPages, options);
  await app.register(adminPages, options);
  await app.register(widgetRoutes, options);
}

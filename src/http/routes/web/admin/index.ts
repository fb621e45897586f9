/**
 * The administrators' pages (src/web/pages/admin/): the start page, channels and owners, organisations and realms,
 * people and roles, API tokens, the audit log, the e-mail suppression list and queue health. Every route has policy
 * `admin` (src/http/routes/web/admin/helpers.ts) and is thin over the same services as the API's admin operations.
 */
import type { FastifyInstance } from 'fastify';
import type { WebRouteOptions } from '../index.js';
import { adminAuditPage } from './audit.js';
import { adminChannelPages } from './channels.js';
import { adminOrganisationPages } from './organisations.js';
import { adminQueuePages } from './queues.js';
import { adminStartPage } from './start.js';
import { adminSuppressionPage } from './suppressions.js';
import { adminTokenPages } from './tokens.js';
import { adminUserPages } from './users.js';

export async function adminPages(app: FastifyInstance, options: WebRouteOptions): Promise<void> {
  await app.register(adminStartPage);
  await app.register(adminChannelPages, options);
  await app.register(adminOrganisationPages, options);
  await app.register(adminUserPages, options);
  await app.register(adminTokenPages, options);
  await app.register(adminAuditPage, options);
  await app.register(adminSuppressionPage, options);
  await app.register(adminQueuePages, options);
}

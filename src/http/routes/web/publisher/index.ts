/**
 * The publishers' pages (src/web/pages/publisher/): the publishing start page, the editor and its preview, an
 * announcement's delivery figures and retraction, and channel settings. Each file's routes are thin over the
 * services; the editor's scope also takes multipart forms (attachments without JavaScript).
 */
import type { FastifyInstance } from 'fastify';
import type { WebRouteOptions } from '../index.js';
import { channelSettingsPages } from './channel-settings.js';
import { deliveryPages } from './deliveries.js';
import { editorPages } from './editor.js';
import { publishStartPage } from './start.js';

export async function publisherPages(app: FastifyInstance, options: WebRouteOptions): Promise<void> {
  await app.register(publishStartPage, options);
  await app.register(editorPages, options);
  await app.register(deliveryPages, options);
  await app.register(channelSettingsPages, options);
}

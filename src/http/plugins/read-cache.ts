/**
 * The API process's read cache (src/services/read-cache.ts) as a plugin that owns it: starts listening to
 * PostgreSQL's change notifications, decorates `app.readCache` for the routes that read through it (the channel
 * listing's newest page, the public feeds), and stops listening in onClose. Start-up waits a little for the first
 * LISTEN, so a fresh process caches from its first request; if PostgreSQL is slow to answer it serves uncached until
 * the listener is up.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../../config.js';
import { type ReadCache, startReadCache } from '../../services/read-cache.js';
import { withTimeout } from '../../timeout.js';

declare module 'fastify' {
  interface FastifyInstance {
    readCache: ReadCache;
  }
}

export interface ReadCachePluginOptions {
  config: Pick<Config, 'database' | 'readCache'>;
}

const FIRST_LISTEN_WAIT_MS = 2000;

async function readCachePlugin(app: FastifyInstance, options: ReadCachePluginOptions): Promise<void> {
  const listening = startReadCache(options.config.database.directUrl, options.config.readCache, app.log);
  app.decorate('readCache', listening.cache);
  app.addHook('onClose', () => listening.close());
  await withTimeout(listening.ready, FIRST_LISTEN_WAIT_MS, 'read cache LISTEN').catch((error: unknown) =>
    app.log.warn({ err: error }, 'read cache: not listening yet; serving uncached until it is'),
  );
}

export default fp(readCachePlugin, { name: 'meldingskanal-read-cache', fastify: '5.x' });

/**
 * THE process launcher: `npm start` (ROLE=all), `npm run start:api`, `npm run start:worker`, and the container's
 * `node dist/src/main.js`.
 *
 * By ROLE:
 * - `all`    — the single-machine default: apply pending migrations (MIGRATE_ON_START), load the demo content into
 *              an empty development database (SEED_ON_EMPTY), start the development mail catcher when no SMTP relay
 *              is configured, then run the API and the workers in this one process.
 * - `api`    — the HTTP API (and its WebSockets) only.
 * - `worker` — the workers only (outbox relay, fan-out, e-mail, sweeper); they send mail, so in development without
 *              SMTP_URL this role starts the mail catcher too.
 * Any number of `api` and `worker` processes cooperate through PostgreSQL and Redis; none of them migrates, so a
 * deployment runs `node dist/src/cli/migrate.js` once before starting them.
 *
 * With METRICS_PORT set, every role also serves Prometheus metrics on that port (src/metrics-server.ts): the API's
 * figures include its HTTP request durations; a worker's are the process, queue and ledger figures.
 *
 * Shutdown (SIGTERM, SIGINT): one memoised, deadline-bounded `shutdown()` stops accepting HTTP, closes WebSockets
 * (the live plugin closes them with 1001 so clients reconnect elsewhere), drains the workers, closes the shared
 * resources and the mail catcher; exit code 0 when everything drained, 1 when SHUTDOWN_TIMEOUT_MS passed first.
 * Configuration errors exit 2 before anything starts.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
// This file is the one composition root allowed to import workers/: everything else in src/ stays independent of
// the worker process (ARCHITECTURE.md, "src/ never imports workers/").
import { startWorkers } from '../workers/main.js';
import {
  type DevProvider,
  needsDevSignIn,
  seedDevAccounts,
  startDevProvider,
  withDevSignIn,
} from './auth/dev-provider.js';
import { type Config, ConfigError, loadConfig, redactUrl } from './config.js';
import { runMigrations } from './db/migrate.js';
import { createDeps, type Deps } from './deps.js';
import { buildApp } from './http/app.js';
import { createLogger, type Logger } from './logger.js';
import { type DevMailCatcher, needsDevMailCatcher, startDevMailCatcher } from './mail/dev-catcher.js';
import { createSmtpMailer, type Mailer } from './mail/mailer.js';
import { createMetrics } from './metrics.js';
import { type MetricsServer, startMetricsServer } from './metrics-server.js';
import { seedDemoContent } from './services/seed.js';

/** The HTTP server's accept queue (see start()). */
const LISTEN_BACKLOG = 4096;

/** Exit codes of this process. */
export const EXIT = { ok: 0, failed: 1, badConfig: 2 } as const;

/** Everything a running process holds, in the order it was started; each field is set once started. */
interface Running {
  catcher?: DevMailCatcher;
  devSignIn?: DevProvider;
  deps?: Deps;
  app?: FastifyInstance;
  metricsServer?: MetricsServer;
  mailer?: Mailer;
  workers?: { close(): Promise<void> };
}

/** A URL a person can open for an address the server is bound to (a wildcard bind is reachable at localhost). */
function displayUrl(address: AddressInfo): string {
  const host = ['0.0.0.0', '::', '127.0.0.1', '::1'].includes(address.address) ? 'localhost' : address.address;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

async function prepareDatabase(config: Config, log: Logger, deps: Deps): Promise<void> {
  if (config.migrateOnStart) {
    const result = await runMigrations(config, (message) => log.info(message));
    log.info(
      { applied: result.applied.length, alreadyApplied: result.alreadyApplied.length },
      result.applied.length > 0 ? 'database migrated' : 'database schema is up to date',
    );
  }
  // Demo content only ever goes into a development database, and seedDemoContent itself only fills an empty one
  // (no channels), so real data is never touched.
  if (config.seedOnEmpty && config.appEnv === 'development') {
    const { created } = await seedDemoContent(deps.db);
    if (created) log.info('empty database: loaded the demo content (organisations, BOTT channels, announcements)');
  }
}

/** Where the workers send mail: SMTP_URL, or the development mail catcher (started here). Never nowhere. */
async function mailTransport(config: Config, log: Logger, running: Running): Promise<string> {
  if (config.mail.smtpUrl) return config.mail.smtpUrl;
  if (!needsDevMailCatcher(config)) {
    // loadConfig already refuses production without SMTP_URL; this guards the invariant, should that rule change.
    throw new Error('No SMTP_URL is configured and the development mail catcher only runs in development');
  }
  running.catcher = await startDevMailCatcher(config.mail.maildev);
  log.info({ mailCatcherUrl: running.catcher.webUrl }, `Development mail catcher: open ${running.catcher.webUrl}`);
  return running.catcher.smtpUrl;
}

/**
 * In development without OIDC_ISSUER, the API's sign-in goes to the local development provider (started here, before
 * the API): returns the configuration with that provider as issuer and client. Otherwise the configuration as is.
 */
async function devSignIn(config: Config, log: Logger, running: Running): Promise<Config> {
  if (!needsDevSignIn(config)) return config;
  running.devSignIn = await startDevProvider({
    appEnv: config.appEnv,
    port: config.oidc.devProviderPort,
    // The API's interface: loopback by default; in a container (HOST=0.0.0.0) the browser reaches it via its port.
    host: config.http.host,
    redirectUrl: config.oidc.redirectUrl,
    postLogoutRedirectUrl: config.oidc.postLogoutRedirectUrl,
    onError: (error) => log.warn({ err: error }, 'development sign-in: provider error'),
  });
  const { issuer } = running.devSignIn;
  log.info({ devSignInUrl: issuer }, `Development sign-in: ${issuer} (not Feide)`);
  return withDevSignIn(config, running.devSignIn);
}

async function start(givenConfig: Config, log: Logger, running: Running): Promise<void> {
  const runsApi = givenConfig.role === 'all' || givenConfig.role === 'api';
  const runsWorkers = givenConfig.role === 'all' || givenConfig.role === 'worker';
  const config = runsApi ? await devSignIn(givenConfig, log, running) : givenConfig;
  log.info(
    {
      role: config.role,
      appEnv: config.appEnv,
      database: redactUrl(config.database.url),
      redis: redactUrl(config.redis.url),
    },
    'starting Meldingskanal',
  );

  running.deps = createDeps(config, log);
  if (config.role === 'all') await prepareDatabase(config, log, running.deps);
  if (running.devSignIn) {
    // After the demo content, so the BOTT-SA publisher gets its channel role.
    const seeded = await seedDevAccounts(running.deps.db, running.devSignIn.issuer);
    log.info(seeded, 'development sign-in: demo accounts ready');
  }

  if (runsWorkers) {
    const smtpUrl = await mailTransport(config, log, running);
    running.mailer = createSmtpMailer({
      url: smtpUrl,
      poolSize: config.mail.poolSize,
      maxMessages: config.mail.maxMessages,
      ratePerSecond: config.mail.ratePerSecond,
      dkim: config.mail.dkim,
    });
    log.info(
      {
        smtp: redactUrl(smtpUrl),
        dkim: config.mail.dkim ? `${config.mail.dkim.keySelector}._domainkey.${config.mail.dkim.domainName}` : 'off',
      },
      `e-mail goes to ${redactUrl(smtpUrl)}`,
    );
    running.workers = await startWorkers(running.deps, {
      mailer: running.mailer,
      logger: log.child({ part: 'workers' }),
    });
  }

  if (runsApi) {
    running.app = await buildApp(running.deps);
    // A deep accept queue: after a restart or a network blip thousands of clients reconnect at once, and Node's default
    // (511) overflows into resets (tests/e2e/faults/reconnect-storm.test.ts). The kernel caps it at net.core.somaxconn.
    await running.app.listen({ host: config.http.host, port: config.http.port, backlog: LISTEN_BACKLOG });
    const url = displayUrl(running.app.server.address() as AddressInfo);
    // `apiUrl` carries the bound port (PORT=0 picks a free one), for people and for tests that start this process.
    log.info({ apiUrl: url, docsUrl: `${url}/api/docs`, publicUrl: config.http.publicUrl }, `API listening on ${url}`);
    log.info(`API documentation: ${url}/api/docs`);
  }

  if (config.metrics.port !== undefined) {
    // The API's own registry when this process serves HTTP (it times the requests); otherwise one for the workers.
    const metrics =
      running.app?.metrics ??
      createMetrics({
        db: running.deps.db,
        queues: running.deps.queues,
        onCollectError: (source, error) => log.warn({ source, err: error }, 'metrics collector failed'),
      });
    running.metricsServer = await startMetricsServer({
      host: config.metrics.host,
      port: config.metrics.port,
      token: config.metrics.token,
      metrics,
      logger: log,
    });
    // `metricsUrl` carries the bound port (METRICS_PORT=0 picks a free one), like `apiUrl`.
    log.info(
      { metricsUrl: `${running.metricsServer.url}/metrics`, token: config.metrics.token ? 'required' : 'none' },
      `Prometheus metrics on ${running.metricsServer.url}/metrics`,
    );
  }
}

/**
 * Stops everything that was started, in dependency order: no new HTTP requests and no new jobs first (API and
 * workers in parallel: they are independent), then the mailer they used, then the shared connections, then the
 * catcher. Every step runs even if an earlier one failed; the first failure is reported.
 */
async function stopAll(running: Running, log: Logger): Promise<boolean> {
  let clean = true;
  const step = async (name: string, work: (() => Promise<unknown>) | undefined) => {
    if (!work) return;
    try {
      await work();
      log.debug(`${name} closed`);
    } catch (error) {
      clean = false;
      log.error({ err: error }, `closing ${name} failed`);
    }
  };
  await Promise.all([
    step('HTTP server and WebSockets', running.app && (() => running.app!.close())),
    step('metrics listener', running.metricsServer && (() => running.metricsServer!.close())),
    step('workers', running.workers && (() => running.workers!.close())),
  ]);
  await step('mailer', running.mailer && (() => running.mailer!.close()));
  await step('database and Redis connections', running.deps && (() => running.deps!.close()));
  await step('mail catcher', running.catcher && (() => running.catcher!.stop()));
  await step('development sign-in', running.devSignIn && (() => running.devSignIn!.close()));
  return clean;
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(EXIT.badConfig);
  }

  const log = createLogger(config.logLevel, `meldingskanal-${config.role}`);
  const running: Running = {};

  let shuttingDown: Promise<never> | undefined;
  /** Memoised: the first call decides; later calls (a second signal, a crash during shutdown) wait for it. */
  const shutdown = (reason: string, exitCode: number = EXIT.ok): Promise<never> => {
    shuttingDown ??= (async () => {
      log.info({ reason, deadlineMs: config.shutdownTimeoutMs }, 'shutting down');
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'deadline'>((resolve) => {
        timer = setTimeout(() => resolve('deadline'), config.shutdownTimeoutMs);
      });
      const outcome = await Promise.race([stopAll(running, log), deadline]);
      clearTimeout(timer);
      if (outcome === 'deadline') {
        log.error({ deadlineMs: config.shutdownTimeoutMs }, 'shutdown deadline passed before everything drained');
        process.exit(EXIT.failed);
      }
      const code = outcome ? exitCode : EXIT.failed;
      log.info({ exitCode: code }, 'stopped');
      // Everything is drained and closed; exit explicitly so a stray handle in a library cannot keep us alive.
      process.exit(code);
    })();
    return shuttingDown;
  };

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (shuttingDown) {
        // A second Ctrl-C means "now": the operator has seen the drain and does not want to wait for it.
        log.warn({ signal }, 'second signal during shutdown: exiting without waiting');
        process.exit(EXIT.failed);
      }
      void shutdown(signal);
    });
  }
  process.on('uncaughtException', (error) => {
    log.fatal({ err: error }, 'uncaught exception');
    void shutdown('uncaughtException', EXIT.failed);
  });
  process.on('unhandledRejection', (reason) => {
    log.fatal({ err: reason }, 'unhandled promise rejection');
    void shutdown('unhandledRejection', EXIT.failed);
  });

  try {
    await start(config, log, running);
  } catch (error) {
    log.fatal({ err: error }, 'start-up failed');
    await shutdown('start-up failed', EXIT.failed);
  }
}

await main();

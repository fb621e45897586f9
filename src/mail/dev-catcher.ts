/**
 * The development mail catcher: a local SMTP server with a web inbox (maildev), so that a person running
 * `npm start` without an SMTP relay can read every e-mail the service sends. It exists so that mail is never
 * silently dropped in development; it never runs in production (src/config.ts requires SMTP_URL there, and
 * `needsDevMailCatcher` says no).
 */
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Config } from '../config.js';

export interface DevMailCatcher {
  /** Where to send mail: `smtp://127.0.0.1:<port>`. */
  smtpUrl: string;
  /** Where a person reads it: `http://localhost:<port>`. */
  webUrl: string;
  stop(): Promise<void>;
}

/** True when this configuration sends mail to the development catcher: development, and no SMTP_URL given. */
export function needsDevMailCatcher(config: Config): boolean {
  return config.appEnv === 'development' && config.mail.smtpUrl === undefined;
}

/**
 * Starts maildev on the configured ports (MAILDEV_SMTP_PORT, MAILDEV_WEB_PORT; 0 picks free ones), bound to
 * loopback only: the inbox shows every e-mail, so it must not be reachable from the network.
 */
export async function startDevMailCatcher(ports: Config['mail']['maildev']): Promise<DevMailCatcher> {
  // Loaded on demand: production processes never start the catcher, so they never load maildev and its web stack.
  const { MailDev } = await import('maildev');
  const maildev = new MailDev({
    smtp: ports.smtpPort,
    ip: '127.0.0.1',
    web: ports.webPort,
    webIp: '127.0.0.1',
    // maildev logs to stdout in its own format; the launcher logs the addresses with pino instead.
    silent: true,
    // Keep the inbox bounded: a long-running development process should not grow without limit.
    maxEmails: 500,
  });
  let servers: Awaited<ReturnType<typeof maildev.start>>;
  try {
    servers = await maildev.start();
  } catch (error) {
    await maildev.stop().catch(() => {});
    throw new Error(
      `Could not start the development mail catcher on SMTP port ${ports.smtpPort} / web port ${ports.webPort} ` +
        `(${(error as Error).message}). Free the ports, choose others with MAILDEV_SMTP_PORT / MAILDEV_WEB_PORT, ` +
        'or set SMTP_URL and MAIL_FROM to use a real relay.',
      { cause: error },
    );
  }
  const web = servers.api?.server.server;
  if (web) inboxAtTheRoot(web);
  const smtpPort = servers.smtp.getAddress().port;
  const webPort = servers.api?.getAddress()?.port ?? ports.webPort;
  let stopping: Promise<void> | undefined;
  return {
    smtpUrl: `smtp://127.0.0.1:${smtpPort}`,
    webUrl: `http://localhost:${webPort}`,
    stop() {
      stopping ??= maildev.stop();
      return stopping;
    },
  };
}

/**
 * maildev 3 answers its root with the inbox only to requests that say they accept HTML; anything else — curl, a link
 * checker, a terminal's "open link", some embedded browsers — gets `{"error":"Not found"}`, so the address the log
 * prints looked broken. A GET or HEAD of the root is made to ask for HTML before maildev's handlers see it (the
 * server's request listeners, socket.io's included, run as before, in their order).
 */
function inboxAtTheRoot(server: Server): void {
  const listeners = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '').split('?', 1)[0];
    if ((request.method === 'GET' || request.method === 'HEAD') && path === '/') request.headers.accept = 'text/html';
    for (const listener of listeners) listener.call(server, request, response);
  });
}

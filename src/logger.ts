/**
 * Logger options shared by the API (Fastify's logger) and the workers.
 *
 * Logs never contain e-mail addresses, tokens or session ids. Three layers:
 * 1. Our code does not log them: the request serializer keeps method, path (never the query string, where
 *    unsubscribe and sign-in links carry tokens) and request id (never headers); job payloads carry ids only.
 * 2. Redaction of the known places, should an object with them be logged anyway (headers, `token`, `password`…).
 * 3. A last filter on every written line (scrubbingDestination) that masks anything shaped like an e-mail address
 *    or an API token: error messages from libraries (an SMTP server's "550 <ola@uio.no> unknown", a database's
 *    "Key (email)=(…) already exists") are not ours to shape.
 */
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import type { LogLevel } from './config.js';

export const REDACT_PATHS = [
  'password',
  'token',
  'secret',
  'email',
  'sessionId',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
  '*.secret',
  '*.authorization',
  '*.cookie',
  '*.csrfToken',
  '*.idToken',
  '*.sessionId',
  '*.email',
  'config.unsubscribeSecret',
  'config.unsubscribePreviousSecrets',
  'config.mail.dkim.privateKey',
];

/** Shaped like an e-mail address (local@domain.tld), as it appears inside a JSON string. */
const EMAIL_PATTERN = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
/** An API token (src/services/tokens.ts: `mkt_` + 40 base64url characters). */
const API_TOKEN_PATTERN = /mkt_[A-Za-z0-9_-]{40}/g;
/** A personal feed secret (src/services/feed-tokens.ts: `mkf_` + 40 base64url characters), e.g. in a logged URL. */
const FEED_TOKEN_PATTERN = /mkf_[A-Za-z0-9_-]{40}/g;

/**
 * Masks e-mail addresses, API tokens and feed secrets in one serialised log line (stays valid JSON: no quotes are
 * introduced).
 */
export function scrubLogLine(line: string): string {
  return line
    .replace(EMAIL_PATTERN, '[email]')
    .replace(API_TOKEN_PATTERN, 'mkt_[redacted]')
    .replace(FEED_TOKEN_PATTERN, 'mkf_[redacted]');
}

/** Wraps a destination so that every line passes scrubLogLine first. Defaults to standard output. */
export function scrubbingDestination(inner: DestinationStream = pino.destination(1)): DestinationStream {
  return {
    write(line: string) {
      inner.write(scrubLogLine(line));
    },
  };
}

export function loggerOptions(level: LogLevel, name: string): LoggerOptions {
  return {
    level,
    name,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // Query strings may carry tokens (unsubscribe links, sign-in callbacks); log the path only.
    serializers: {
      req: (req: { method: string; url: string; id: string }) => ({
        method: req.method,
        url: req.url.split('?')[0],
        id: req.id,
      }),
    },
  };
}

/** A logger for processes outside Fastify (launcher, workers), writing through scrubbingDestination. */
export function createLogger(level: LogLevel, name: string, destination?: DestinationStream): Logger {
  return pino(loggerOptions(level, name), scrubbingDestination(destination));
}
export type { DestinationStream, Logger };

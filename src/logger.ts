/**
 * Logger options shared by the API (Fastify's logger) and the workers. Secrets and tokens are redacted wherever they
 * appear in a logged object; e-mail addresses are never logged by our code in the first place.
 */
import { type Logger, type LoggerOptions, pino } from 'pino';
import type { LogLevel } from './config.js';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
  '*.secret',
  '*.authorization',
  'config.unsubscribeSecret',
];

export function loggerOptions(level: LogLevel, name: string): LoggerOptions {
  return {
    level,
    name,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // Query strings may carry tokens (unsubscribe links); log the path only.
    serializers: {
      req: (req: { method: string; url: string; id: string }) => ({
        method: req.method,
        url: req.url.split('?')[0],
        id: req.id,
      }),
    },
  };
}

export function createLogger(level: LogLevel, name: string): Logger {
  return pino(loggerOptions(level, name));
}
export type { Logger };

/**
 * The one configuration schema, shared by the API and the workers. `process.env` is read nowhere else.
 *
 * Each setting is declared once, with its documentation and its default; the README's configuration table is
 * generated from the same declarations (`npm run config:docs`), so the two cannot disagree. Every setting has a
 * default fit for local development, except secrets, which have none.
 */

import { createECDH, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { isAbsolute, normalize } from 'node:path';
import { type DigestSchedule, parseLocalTime, parseTimeZone, parseWeekday } from './digest/period.js';
import { parseRedisUrl } from './redis.js';
import { classifyAddress, parseAllowlist } from './webhooks/addresses.js';

export type AppEnv = 'development' | 'production';
export type ProcessRole = 'all' | 'api' | 'worker';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

interface SettingSpec<T> {
  readonly doc: string;
  /** Raw default. Absent for secrets and for settings whose absence means "off". */
  readonly default?: string;
  readonly secret?: boolean;
  /** Returns the parsed value, or throws an Error whose message says what is wrong. */
  readonly parse: (raw: string) => T;
}

function setting<T>(spec: SettingSpec<T>): SettingSpec<T> {
  return spec;
}

const text = (raw: string) => raw;

function integer(min: number, max: number) {
  return (raw: string): number => {
    if (!/^-?\d+$/.test(raw.trim())) throw new Error(`must be a whole number, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) throw new Error(`must be between ${min} and ${max}, got ${n}`);
    return n;
  };
}

function oneOf<T extends string>(...values: T[]) {
  return (raw: string): T => {
    if (!(values as string[]).includes(raw)) throw new Error(`must be one of ${values.join(', ')}, got "${raw}"`);
    return raw as T;
  };
}

function boolean(raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new Error(`must be true or false, got "${raw}"`);
}

function url(...protocols: string[]) {
  return (raw: string): string => {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new Error(`must be a URL, got "${redactUrl(raw)}"`);
    }
    if (!protocols.includes(parsed.protocol.replace(/:$/, ''))) {
      throw new Error(`must start with ${protocols.map((p) => `${p}://`).join(' or ')}, got "${redactUrl(raw)}"`);
    }
    return raw;
  };
}

function secret(minLength: number) {
  return (raw: string): string => {
    if (raw.length < minLength) throw new Error(`must be at least ${minLength} characters long`);
    return raw;
  };
}

function absolutePath(raw: string): string {
  if (!isAbsolute(raw)) throw new Error(`must be an absolute path, got "${raw}"`);
  return normalize(raw);
}

/** Comma-separated secrets, each at least `minLength` characters (the message never repeats them). */
function secretList(minLength: number) {
  return (raw: string): string[] => {
    const secrets = raw
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
    const short = secrets.findIndex((item) => item.length < minLength);
    if (short !== -1)
      throw new Error(`must be secrets of at least ${minLength} characters each (number ${short + 1} is not)`);
    return secrets;
  };
}

/** An ISO 8601 date-time with a time zone, e.g. `2027-03-01T00:00:00Z`. */
function isoDateTime(raw: string): Date {
  const value = raw.trim();
  const date = new Date(value);
  if (
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) ||
    Number.isNaN(date.getTime())
  ) {
    throw new Error(`must be an ISO 8601 date-time with a time zone, such as 2027-03-01T00:00:00Z, got "${value}"`);
  }
  return date;
}

/** A bare e-mail address fit for a mailto: URI (no display name, nothing that would need escaping). */
function bareAddress(raw: string): string {
  const value = raw.trim();
  if (
    !/^[A-Za-z0-9.!#$%'*+/=^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/.test(
      value,
    )
  ) {
    throw new Error(`must be a bare e-mail address such as unsubscribe@uio.no, got "${value}"`);
  }
  return value;
}

function domainName(raw: string): string {
  const value = raw.trim().toLowerCase();
  if (!/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/.test(value)) {
    throw new Error(`must be a domain name such as uio.no, got "${value}"`);
  }
  return value;
}

function dkimSelector(raw: string): string {
  const value = raw.trim();
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(value)) {
    throw new Error(`must be a DNS label such as meldingskanal2027, got "${value}"`);
  }
  return value;
}

/**
 * A PEM RSA private key, parsed now so a bad key stops the start instead of every send. nodemailer signs
 * rsa-sha256, so other key types are refused; below 1024 bits receivers ignore the signature (RFC 8301).
 * Environment variables often carry the PEM with literal `\n`: those become line breaks.
 */
function dkimPrivateKey(raw: string): string {
  const pem = raw.includes('\n') ? raw : raw.replace(/\\n/g, '\n');
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(pem.trim());
  } catch {
    throw new Error('is not a PEM private key that can be read (PKCS#1 or PKCS#8, unencrypted)');
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new Error(`must be an RSA key (nodemailer signs rsa-sha256), got ${key.asymmetricKeyType ?? 'another type'}`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 1024) throw new Error(`must be at least 1024 bits (2048 recommended), got ${bits}`);
  return `${pem.trim()}\n`;
}

function dkimPrivateKeyFile(raw: string): string {
  const path = absolutePath(raw.trim());
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}): ${path}`);
  }
  return dkimPrivateKey(pem);
}

/** Base64url without padding (RFC 4648 §5), the encoding of VAPID keys and browser push keys. */
function base64urlBytes(raw: string, what: string, length: number): Buffer {
  if (!/^[A-Za-z0-9_-]+$/.test(raw)) throw new Error(`must be base64url (${what})`);
  const bytes = Buffer.from(raw, 'base64url');
  if (bytes.length !== length) throw new Error(`must be ${length} bytes (${what}), got ${bytes.length}`);
  return bytes;
}

function vapidPublicKey(raw: string): string {
  const bytes = base64urlBytes(raw.trim(), 'an uncompressed P-256 point', 65);
  if (bytes[0] !== 0x04) throw new Error('must be an uncompressed P-256 point (its first byte is 0x04)');
  return raw.trim();
}

function vapidPrivateKey(raw: string): string {
  base64urlBytes(raw.trim(), 'a P-256 private key', 32);
  return raw.trim();
}

/** RFC 8292 §2.1: the subject is a mailto: or https: URI the push service can use to contact the sender. */
function vapidSubject(raw: string): string {
  const value = raw.trim();
  if (/^mailto:[^\s@]+@[^\s@]+$/.test(value)) return value;
  let parsed: URL | undefined;
  try {
    parsed = new URL(value);
  } catch {
    parsed = undefined;
  }
  if (parsed?.protocol !== 'https:') throw new Error(`must be a mailto: address or an https:// URL, got "${value}"`);
  return value;
}

function hostList(raw: string): string[] {
  const hosts = raw
    .split(',')
    .map((host) => host.trim().toLowerCase())
    .filter(Boolean);
  for (const host of hosts) {
    if (!/^[a-z0-9.-]+$/.test(host) && isIP(host) === 0) throw new Error(`has "${host}", which is not a host name`);
  }
  return hosts;
}

/** Whether the VAPID public key is the one of the private key (a mismatch makes every push service answer 403). */
function vapidKeysMatch(publicKey: string, privateKey: string): boolean {
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(Buffer.from(privateKey, 'base64url'));
    return ecdh.getPublicKey().equals(Buffer.from(publicKey, 'base64url'));
  } catch {
    return false;
  }
}

/** Fastify's `trustProxy`: nobody, everybody, or the proxies' addresses/CIDRs. */
export type TrustProxy = boolean | readonly string[];

/** proxy-addr's names for address ranges, accepted in TRUST_PROXY next to addresses and CIDRs. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

function trustProxy(raw: string): TrustProxy {
  const value = raw.trim().toLowerCase();
  if (['false', 'no', 'off'].includes(value)) return false;
  if (['true', 'yes', 'on'].includes(value)) return true;
  // Fastify ignores a hop count on purpose (it cannot check that the nearest peer is a proxy, so any client could
  // claim any address by sending enough X-Forwarded-For entries): refuse it rather than silently trust nobody.
  if (/^\d+$/.test(value)) {
    throw new Error(
      `must list the proxies' addresses or CIDRs, not a hop count ("${raw}"): a count cannot tell a proxy from a client`,
    );
  }
  const entries = value.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    const [address, bits, extra] = entry.split('/');
    const family = isIP(address ?? '');
    const bitsOk = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
    if (PROXY_RANGE_NAMES.includes(entry)) continue;
    if (family === 0 || !bitsOk || extra !== undefined) {
      throw new Error(
        `must be false, true, or a comma-separated list of proxy addresses/CIDRs (or ${PROXY_RANGE_NAMES.join(', ')}); "${entry}" is none of these`,
      );
    }
  }
  return entries;
}

/** The settings, in the order the README lists them. */
export const SETTINGS = {
  APP_ENV: setting({
    doc: '`development` or `production`. Production refuses development conveniences (mail catcher, generated secrets).',
    default: 'development',
    parse: oneOf<AppEnv>('development', 'production'),
  }),
  ROLE: setting({
    doc: 'What this process runs: `all` (API and workers, the single-machine default), `api` or `worker`.',
    default: 'all',
    parse: oneOf<ProcessRole>('all', 'api', 'worker'),
  }),
  HOST: setting({ doc: 'Address the HTTP server listens on.', default: '127.0.0.1', parse: text }),
  PORT: setting({ doc: 'HTTP port.', default: '3000', parse: integer(0, 65535) }),
  PUBLIC_URL: setting({
    doc: 'The address people reach the service at; used for links in e-mails and feeds.',
    default: 'http://localhost:3000',
    parse: url('http', 'https'),
  }),
  TRUST_PROXY: setting({
    doc: 'Proxies whose `X-Forwarded-For` is believed: `false` (none), their addresses/CIDRs (`10.0.0.0/8,loopback`), or `true` (anyone: only if every request passes a proxy). Rate limits key on the client IP.',
    default: 'false',
    parse: trustProxy,
  }),
  METRICS_PORT: setting({
    doc: 'Port of the Prometheus listener (`GET /metrics`) in each API and worker process; `0` picks a free one. Unset: no metrics. Metrics are never served on PORT, which the public reaches.',
    parse: integer(0, 65535),
  }),
  METRICS_HOST: setting({
    doc: 'Address the metrics listener binds to: loopback by default, so only this host can scrape. For Prometheus on another host or container use e.g. `0.0.0.0`, with METRICS_TOKEN.',
    default: '127.0.0.1',
    parse: text,
  }),
  METRICS_TOKEN: setting({
    doc: 'Bearer token the scraper must send (Prometheus: `authorization: { credentials_file: … }`); without it /metrics answers 401. Required when APP_ENV=production and METRICS_HOST is not a loopback address.',
    secret: true,
    parse: secret(32),
  }),
  LOG_LEVEL: setting({
    doc: 'pino log level.',
    default: 'info',
    parse: oneOf<LogLevel>('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
  }),
  DATABASE_URL: setting({
    doc: 'PostgreSQL connection string.',
    default: 'postgresql://postgres@127.0.0.1:5432/meldingskanal',
    parse: url('postgres', 'postgresql'),
  }),
  DATABASE_DIRECT_URL: setting({
    doc: 'A direct PostgreSQL connection string for what needs a session of its own: migrations (a session advisory lock) and the LISTEN of the outbox relay. Set it when DATABASE_URL goes through PgBouncer in transaction mode (docs/deployment.md). Unset: DATABASE_URL.',
    parse: url('postgres', 'postgresql'),
  }),
  DATABASE_POOL_SIZE: setting({ doc: 'PostgreSQL connections per process.', default: '10', parse: integer(1, 200) }),
  REDIS_URL: setting({
    doc: 'Redis: `redis://[user:password@]host:port[/db]` (`rediss://` with TLS); a Redis Cluster: `redis+cluster://[user:password@]host:port,host:port,…` (some of its nodes); Sentinel: `redis+sentinel://[user:password@]host:port,…/<master name>[?db=n&sentinelPassword=…]`. See docs/deployment.md.',
    default: 'redis://127.0.0.1:6379',
    parse: (raw: string) => {
      parseRedisUrl(raw);
      return raw.trim();
    },
  }),
  REDIS_PREFIX: setting({
    doc: 'Prefix for every Redis key and pub/sub channel, so several deployments can share one Redis.',
    default: 'mk',
    parse: (raw: string) => {
      if (!/^[A-Za-z0-9_-]{1,40}$/.test(raw)) throw new Error('must be 1–40 letters, digits, "_" or "-"');
      return raw;
    },
  }),
  SMTP_URL: setting({
    doc: 'SMTP relay (`smtp://user:pass@host:587`, `smtps://…`). Unset in development: a local mail catcher is started.',
    parse: url('smtp', 'smtps'),
  }),
  MAIL_FROM: setting({
    doc: 'Sender of e-mails. Required when SMTP_URL is set.',
    parse: (raw: string) => {
      if (/[\r\n]/.test(raw) || !/@/.test(raw))
        throw new Error('must be an address such as "Meldingskanal <noreply@uio.no>"');
      return raw;
    },
  }),
  SMTP_POOL_SIZE: setting({
    doc: 'Pooled SMTP connections per worker process.',
    default: '10',
    parse: integer(1, 100),
  }),
  SMTP_MAX_MESSAGES: setting({
    doc: 'Messages sent over one SMTP connection before it is renewed.',
    default: '1000',
    parse: integer(1, 100000),
  }),
  SMTP_RATE_PER_SECOND: setting({
    doc: 'Upper bound on messages per second per worker process (0 = no limit).',
    default: '0',
    parse: integer(0, 100000),
  }),
  DKIM_DOMAIN: setting({
    doc: "DKIM signing domain (`d=`), normally MAIL_FROM's domain. DKIM_DOMAIN, DKIM_SELECTOR and a key: all or none.",
    parse: domainName,
  }),
  DKIM_SELECTOR: setting({
    doc: 'DKIM selector (`s=`): the public key is published at `<selector>._domainkey.<DKIM_DOMAIN>`.',
    parse: dkimSelector,
  }),
  DKIM_PRIVATE_KEY: setting({
    doc: 'DKIM private key, PEM (RSA ≥ 1024 bits, 2048 recommended); literal `\\n` are read as line breaks. Or DKIM_PRIVATE_KEY_FILE.',
    secret: true,
    parse: dkimPrivateKey,
  }),
  DKIM_PRIVATE_KEY_FILE: setting({
    doc: 'Absolute path of a file holding the DKIM private key (PEM), instead of DKIM_PRIVATE_KEY.',
    parse: dkimPrivateKeyFile,
  }),
  MAILDEV_SMTP_PORT: setting({
    doc: 'Development mail catcher: SMTP port.',
    default: '1025',
    parse: integer(0, 65535),
  }),
  MAILDEV_WEB_PORT: setting({ doc: 'Development mail catcher: web port.', default: '1080', parse: integer(0, 65535) }),
  UNSUBSCRIBE_SECRET: setting({
    doc: 'Key (≥ 32 characters) that signs unsubscribe and confirmation links. Required in production; in development a random key is made per process. To rotate it see "Rotating the link key".',
    secret: true,
    parse: secret(32),
  }),
  UNSUBSCRIBE_PREVIOUS_SECRETS: setting({
    doc: 'Earlier UNSUBSCRIBE_SECRET values (comma-separated, each ≥ 32 characters): they still verify links, never sign new ones, until UNSUBSCRIBE_PREVIOUS_SECRETS_UNTIL.',
    secret: true,
    parse: secretList(32),
  }),
  UNSUBSCRIBE_PREVIOUS_SECRETS_UNTIL: setting({
    doc: 'ISO 8601 date-time (e.g. `2027-03-01T00:00:00Z`) after which UNSUBSCRIBE_PREVIOUS_SECRETS are refused. Required when they are set.',
    parse: isoDateTime,
  }),
  UNSUBSCRIBE_MAILTO: setting({
    doc: 'Address added to List-Unsubscribe as a mailto: URI after the https one. The service does not read mail: that mailbox must be processed by its operator.',
    parse: bareAddress,
  }),
  EMAIL_BATCH_SIZE: setting({ doc: 'Deliveries per e-mail job.', default: '50', parse: integer(1, 1000) }),
  EMAIL_CONCURRENCY: setting({
    doc: 'E-mail jobs in flight per worker process.',
    default: '4',
    parse: integer(1, 100),
  }),
  EMAIL_MAX_ATTEMPTS: setting({
    doc: 'Attempts per e-mail delivery before it is marked failed.',
    default: '8',
    parse: integer(1, 50),
  }),
  FANOUT_PAGE_SIZE: setting({
    doc: 'Subscriptions read per fan-out page (and the most delivery ids enqueued in one call).',
    default: '1000',
    parse: integer(10, 1000),
  }),
  OUTBOX_POLL_MS: setting({
    doc: 'How often the outbox relay looks for unrelayed events when no notification arrives.',
    default: '2000',
    parse: integer(50, 600000),
  }),
  SWEEP_INTERVAL_MS: setting({
    doc: 'How often the sweeper re-queues stale deliveries.',
    default: '30000',
    parse: integer(100, 3600000),
  }),
  STALE_DELIVERY_MS: setting({
    doc: 'A delivery left `pending` or `sending` this long is considered lost by its worker and re-queued.',
    default: '120000',
    parse: integer(100, 86400000),
  }),
  ACK_REMINDER_BEFORE_HOURS: setting({
    doc: 'Hours before an acknowledgement deadline when those who were sent the announcement and have not acknowledged it get one reminder by e-mail.',
    default: '24',
    parse: integer(1, 720),
  }),
  DIGEST_TIME: setting({
    doc: 'Local time (HH:MM, 24-hour clock, in DIGEST_TIME_ZONE) when daily and weekly e-mail digests are cut and sent.',
    default: '07:00',
    parse: parseLocalTime,
  }),
  DIGEST_TIME_ZONE: setting({
    doc: 'IANA time zone of DIGEST_TIME (daylight saving followed: a digest day is 23 or 25 hours across a change).',
    default: 'Europe/Oslo',
    parse: parseTimeZone,
  }),
  DIGEST_WEEKDAY: setting({
    doc: 'The day weekly digests are sent (monday … sunday).',
    default: 'monday',
    parse: parseWeekday,
  }),
  VAPID_PUBLIC_KEY: setting({
    doc: 'Web push: the VAPID public key (base64url, an uncompressed P-256 point; `npm run cli -- vapid-keys` makes a pair). Set all three VAPID settings or none; without them web push is off.',
    parse: vapidPublicKey,
  }),
  VAPID_PRIVATE_KEY: setting({
    doc: 'Web push: the VAPID private key (base64url, 32 bytes) that signs requests to push services.',
    secret: true,
    parse: vapidPrivateKey,
  }),
  VAPID_SUBJECT: setting({
    doc: 'Web push: how push services reach the operator, `mailto:drift@uio.no` or an `https://` page.',
    parse: vapidSubject,
  }),
  PUSH_SERVICE_HOSTS: setting({
    doc: 'Push services browsers may register endpoints at (comma-separated host names; each also allows its subdomains). The workers send requests to these endpoints, so nothing else is accepted. The default covers Chrome/Edge/Opera (FCM), Firefox, Safari and Windows.',
    default: 'fcm.googleapis.com,push.services.mozilla.com,push.apple.com,notify.windows.com',
    parse: hostList,
  }),
  PUSH_MAX_ATTEMPTS: setting({
    doc: 'Attempts per web push delivery (push service busy or down) before it is marked failed.',
    default: '8',
    parse: integer(1, 50),
  }),
  PUSH_CONCURRENCY: setting({
    doc: 'Web push jobs in flight per worker process.',
    default: '4',
    parse: integer(1, 100),
  }),
  PUSH_SUBSCRIPTION_MAX_AGE_DAYS: setting({
    doc: 'A browser push subscription not registered again (the web app refreshes it on every visit) for this many days is deleted.',
    default: '90',
    parse: integer(1, 3650),
  }),
  WEBHOOK_ALLOWED_HOSTS: setting({
    doc: 'Comma-separated host names, addresses or CIDRs (`hooks.intern.uio.no,10.20.0.0/16`) that webhooks may reach although they are internal (loopback, private, link-local…). Everything else internal is refused at connect time.',
    default: '',
    parse: (raw: string) => {
      const entries = raw
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean);
      try {
        parseAllowlist(entries);
      } catch (error) {
        throw new Error(`has an unusable entry: ${(error as Error).message}`);
      }
      return entries;
    },
  }),
  WEBHOOK_TIMEOUT_MS: setting({
    doc: 'How long one webhook call may take (connect, send, answer). Keep it well below STALE_DELIVERY_MS, or the sweeper resends calls that are merely slow.',
    default: '10000',
    parse: integer(100, 120000),
  }),
  WEBHOOK_MAX_ATTEMPTS: setting({
    doc: 'Attempts per webhook delivery before it is marked failed.',
    default: '8',
    parse: integer(1, 50),
  }),
  WEBHOOK_MAX_FAILURES: setting({
    doc: "Consecutive failed calls after which a webhook is switched off and the channel's owners are told by e-mail.",
    default: '10',
    parse: integer(1, 10000),
  }),
  WS_MAX_PAYLOAD_BYTES: setting({
    doc: 'Largest inbound WebSocket frame.',
    default: '4096',
    parse: integer(64, 1048576),
  }),
  WS_PING_INTERVAL_MS: setting({
    doc: 'Live heartbeat interval: WebSockets are pinged (one that missed the previous pong is closed); event streams (SSE) get a comment line.',
    default: '30000',
    parse: integer(100, 600000),
  }),
  WS_MAX_BUFFERED_BYTES: setting({
    doc: 'A live connection whose unsent data passes this is closed (WebSocket 1013; an event stream is cut), so a slow client cannot hold memory.',
    default: '1048576',
    parse: integer(1024, 1073741824),
  }),
  WS_MAX_CHANNELS_PER_SOCKET: setting({
    doc: 'Channels one WebSocket or event stream may watch.',
    default: '50',
    parse: integer(1, 10000),
  }),
  OIDC_ISSUER: setting({
    doc: 'OpenID Connect issuer for sign-in (Feide: `https://auth.dataporten.no`). Unset in development: a local development provider with demo accounts is started. Required in production.',
    parse: url('https', 'http'),
  }),
  OIDC_CLIENT_ID: setting({ doc: 'OpenID Connect client id. Required when OIDC_ISSUER is set.', parse: text }),
  OIDC_CLIENT_SECRET: setting({
    doc: 'OpenID Connect client secret (omit for a public client that relies on PKCE alone).',
    secret: true,
    parse: text,
  }),
  OIDC_SCOPES: setting({
    doc: 'Scopes requested at sign-in (space-separated). `userid-feide` gives the Feide user id, whose realm picks the organisation.',
    default: 'openid profile email userid-feide',
    parse: (raw: string) => {
      const scopes = raw.split(/\s+/).filter(Boolean);
      if (!scopes.includes('openid')) throw new Error('must include "openid"');
      return scopes.join(' ');
    },
  }),
  OIDC_REDIRECT_URL: setting({
    doc: 'Redirect URL registered with the provider. Default: PUBLIC_URL + `/auth/callback`.',
    parse: url('https', 'http'),
  }),
  DEV_OIDC_PORT: setting({
    doc: 'Port of the development OpenID provider (development only, when OIDC_ISSUER is unset).',
    default: '3001',
    parse: integer(0, 65535),
  }),
  SESSION_IDLE_TIMEOUT_MS: setting({
    doc: 'A session unused this long ends.',
    default: '14400000',
    parse: integer(60000, 604800000),
  }),
  SESSION_ABSOLUTE_TIMEOUT_MS: setting({
    doc: 'A session ends this long after sign-in, however active.',
    default: '43200000',
    parse: integer(60000, 2592000000),
  }),
  WIDGET_ORIGINS: setting({
    doc: 'Comma-separated origins (`https://intranett.uio.no`) allowed to embed widgets: CORS and WebSocket `Origin` allowlist, besides PUBLIC_URL itself.',
    default: '',
    parse: (raw: string) => {
      const origins = raw
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean);
      for (const origin of origins) {
        let parsed: URL;
        try {
          parsed = new URL(origin);
        } catch {
          throw new Error(`has "${origin}", which is not an origin such as https://intranett.uio.no`);
        }
        if (parsed.origin !== origin || !['http:', 'https:'].includes(parsed.protocol)) {
          throw new Error(`has "${origin}", which is not an origin (scheme://host[:port], no path or trailing slash)`);
        }
      }
      return origins;
    },
  }),
  RATE_LIMIT_IP_PER_MINUTE: setting({
    doc: 'Requests per minute from one IP address, signed in or not, counted across all API processes (Redis). Generous, because a campus NAT puts many people behind one address; see TRUST_PROXY behind a proxy.',
    default: '1200',
    parse: integer(1, 1000000),
  }),
  RATE_LIMIT_USER_PER_MINUTE: setting({
    doc: 'Requests per minute by one signed-in user or token owner, from any number of addresses (counted in Redis).',
    default: '600',
    parse: integer(1, 1000000),
  }),
  RATE_LIMIT_SENSITIVE_PER_MINUTE: setting({
    doc: 'Requests per minute to each sensitive endpoint (sign-in start, API token creation), per user, or per IP address before sign-in (raise it behind a large NAT).',
    default: '60',
    parse: integer(1, 1000000),
  }),
  WS_MAX_CONNECTIONS_PER_IP: setting({
    doc: 'Concurrent live connections (WebSockets and event streams together) from one IP address, per API process.',
    default: '50',
    parse: integer(1, 100000),
  }),
  LIVE_ACCESS_RECHECK_MS: setting({
    doc: 'How often open WebSockets re-check access, so lost roles and ended sessions stop live updates within this time.',
    default: '5000',
    parse: integer(100, 600000),
  }),
  READ_CACHE_TTL_MS: setting({
    doc: "Longest time an API process keeps a channel's newest page, its public feeds, the channel itself and the pages anonymous readers see in memory (src/services/read-cache.ts; changes drop them at once, through PostgreSQL's notifications). `0` turns the cache off.",
    default: '60000',
    parse: integer(0, 3600000),
  }),
  READ_CACHE_MAX_BYTES: setting({
    doc: 'Memory the read cache may hold per API process, in bytes; the least recently read pages go first.',
    default: '67108864',
    parse: integer(1048576, 4294967296),
  }),
  ATTACHMENT_MAX_BYTES: setting({
    doc: 'Largest attachment accepted, in bytes (413 above it). An upload is held in memory while it is checked, so keep it moderate.',
    default: '20971520',
    parse: integer(1, 104857600),
  }),
  ATTACHMENT_DIR: setting({
    doc: 'Absolute path of a directory for attachment files (created if missing; each file named by its id). Unset: attachments are stored in PostgreSQL.',
    parse: absolutePath,
  }),
  SHUTDOWN_TIMEOUT_MS: setting({
    doc: 'How long SIGTERM waits for in-flight work before closing anyway.',
    default: '10000',
    parse: integer(100, 600000),
  }),
  SEED_ON_EMPTY: setting({
    doc: 'Load the demo content on start when the database has no channels (development only).',
    default: 'true',
    parse: boolean,
  }),
  MIGRATE_ON_START: setting({
    doc: '`npm start` applies pending migrations before serving.',
    default: 'true',
    parse: boolean,
  }),
} as const;

type Settings = typeof SETTINGS;
type Parsed<K extends keyof Settings> = ReturnType<Settings[K]['parse']>;

export interface Config {
  readonly appEnv: AppEnv;
  readonly role: ProcessRole;
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly publicUrl: string;
    /** Fastify's `trustProxy`: see TRUST_PROXY. */
    readonly trustProxy: TrustProxy;
  };
  /** The Prometheus listener (src/metrics-server.ts); `port` undefined: none. */
  readonly metrics: {
    readonly port: number | undefined;
    readonly host: string;
    readonly token: string | undefined;
  };
  readonly logLevel: LogLevel;
  readonly database: {
    readonly url: string;
    /** DATABASE_DIRECT_URL, else DATABASE_URL: for sessions (migrations, LISTEN) that a transaction pooler breaks. */
    readonly directUrl: string;
    readonly poolSize: number;
  };
  readonly redis: { readonly url: string; readonly prefix: string };
  readonly mail: {
    /** Undefined in development without SMTP_URL: the caller starts the development mail catcher. */
    readonly smtpUrl: string | undefined;
    readonly from: string;
    readonly poolSize: number;
    readonly maxMessages: number;
    readonly ratePerSecond: number;
    readonly maildev: { readonly smtpPort: number; readonly webPort: number };
    /** DKIM_DOMAIN, DKIM_SELECTOR, DKIM_PRIVATE_KEY(_FILE); undefined: messages are not signed. */
    readonly dkim:
      | { readonly domainName: string; readonly keySelector: string; readonly privateKey: string }
      | undefined;
  };
  /** Undefined only in development; see UNSUBSCRIBE_SECRET. */
  readonly unsubscribeSecret: string | undefined;
  /** UNSUBSCRIBE_PREVIOUS_SECRETS: verify-only keys (src/mail/signing-keys.ts); empty when none. */
  readonly unsubscribePreviousSecrets: readonly string[];
  /** UNSUBSCRIBE_PREVIOUS_SECRETS_UNTIL; set whenever unsubscribePreviousSecrets is not empty. */
  readonly unsubscribePreviousSecretsUntil: Date | undefined;
  /** UNSUBSCRIBE_MAILTO: the mailto: address in List-Unsubscribe, if any. */
  readonly unsubscribeMailto: string | undefined;
  readonly delivery: {
    readonly emailBatchSize: number;
    readonly emailConcurrency: number;
    readonly emailMaxAttempts: number;
    readonly fanoutPageSize: number;
    readonly outboxPollMs: number;
    readonly sweepIntervalMs: number;
    readonly staleDeliveryMs: number;
    /** ACK_REMINDER_BEFORE_HOURS. */
    readonly ackReminderBeforeHours: number;
  };
  /** DIGEST_TIME, DIGEST_TIME_ZONE, DIGEST_WEEKDAY (src/digest/period.ts). */
  readonly digest: DigestSchedule;
  readonly push: {
    /** Undefined: web push is off (no VAPID keys configured). */
    readonly vapid: { readonly publicKey: string; readonly privateKey: string; readonly subject: string } | undefined;
    readonly maxAttempts: number;
    readonly concurrency: number;
    readonly subscriptionMaxAgeDays: number;
    /** PUSH_SERVICE_HOSTS: endpoints must be on one of these hosts or their subdomains. */
    readonly serviceHosts: readonly string[];
  };
  readonly webhooks: {
    /** WEBHOOK_ALLOWED_HOSTS entries (src/webhooks/addresses.ts parseAllowlist). */
    readonly allowedHosts: readonly string[];
    readonly timeoutMs: number;
    readonly maxAttempts: number;
    readonly maxFailures: number;
  };
  /** The API's read cache (src/services/read-cache.ts). */
  readonly readCache: { readonly ttlMs: number; readonly maxBytes: number };
  readonly ws: {
    readonly maxPayloadBytes: number;
    readonly pingIntervalMs: number;
    readonly maxBufferedBytes: number;
    readonly maxChannelsPerSocket: number;
    readonly maxConnectionsPerIp: number;
    readonly accessRecheckMs: number;
  };
  readonly oidc: {
    /** Undefined in development without OIDC_ISSUER: the launcher starts the development provider. */
    readonly issuer: string | undefined;
    readonly clientId: string | undefined;
    readonly clientSecret: string | undefined;
    readonly scopes: string;
    readonly redirectUrl: string;
    readonly postLogoutRedirectUrl: string;
    readonly devProviderPort: number;
  };
  readonly session: { readonly idleTimeoutMs: number; readonly absoluteTimeoutMs: number };
  /** Origins allowed to call the API from browsers and open WebSockets: PUBLIC_URL's origin plus WIDGET_ORIGINS. */
  readonly allowedOrigins: readonly string[];
  readonly widgetOrigins: readonly string[];
  readonly rateLimit: {
    readonly ipPerMinute: number;
    readonly userPerMinute: number;
    /** Each sensitive route's own limit (src/http/plugins/rate-limit.ts, sensitiveRouteLimit). */
    readonly sensitivePerMinute: number;
  };
  readonly attachments: {
    readonly maxBytes: number;
    /** Where attachment files go; undefined: in PostgreSQL. */
    readonly dir: string | undefined;
  };
  readonly shutdownTimeoutMs: number;
  readonly seedOnEmpty: boolean;
  readonly migrateOnStart: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

/**
 * Parses and validates the environment. Collects every problem before failing, so an operator fixes them in one go.
 * Empty strings count as unset (compose files and shells often leave `FOO=`).
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const problems: string[] = [];
  const values: Partial<{ [K in keyof Settings]: Parsed<K> }> = {};

  for (const [name, spec] of Object.entries(SETTINGS) as [keyof Settings, SettingSpec<unknown>][]) {
    const raw = env[name]?.trim() ? env[name] : spec.default;
    if (raw === undefined) continue;
    try {
      (values as Record<string, unknown>)[name] = spec.parse(raw);
    } catch (error) {
      problems.push(`${name} ${(error as Error).message}`);
    }
  }

  const v = values as { [K in keyof Settings]: Parsed<K> };
  const production = v.APP_ENV === 'production';
  if (v.SMTP_URL && !v.MAIL_FROM && !problems.some((p) => p.startsWith('MAIL_FROM'))) {
    problems.push('MAIL_FROM is required when SMTP_URL is set (for example "BOTT Meldingskanal <noreply@uio.no>")');
  }
  if (v.OIDC_ISSUER && !v.OIDC_CLIENT_ID) {
    problems.push('OIDC_CLIENT_ID is required when OIDC_ISSUER is set');
  }
  const vapidNames = ['VAPID_PUBLIC_KEY', 'VAPID_PRIVATE_KEY', 'VAPID_SUBJECT'] as const;
  const vapidSet = vapidNames.filter((name) => env[name]?.trim());
  if (vapidSet.length > 0 && vapidSet.length < vapidNames.length) {
    const missing = vapidNames.filter((name) => !vapidSet.includes(name));
    problems.push(`${missing.join(', ')} must be set too: web push needs all three VAPID settings, or none of them`);
  } else if (v.VAPID_PUBLIC_KEY && v.VAPID_PRIVATE_KEY && !vapidKeysMatch(v.VAPID_PUBLIC_KEY, v.VAPID_PRIVATE_KEY)) {
    problems.push(
      'VAPID_PUBLIC_KEY is not the public key of VAPID_PRIVATE_KEY (make a pair: npm run cli -- vapid-keys)',
    );
  }
  if (v.UNSUBSCRIBE_PREVIOUS_SECRETS?.length && !env.UNSUBSCRIBE_PREVIOUS_SECRETS_UNTIL?.trim()) {
    problems.push(
      'UNSUBSCRIBE_PREVIOUS_SECRETS_UNTIL is required when UNSUBSCRIBE_PREVIOUS_SECRETS is set (when the old links stop working, e.g. 90 days after the rotation)',
    );
  }
  if (v.UNSUBSCRIBE_PREVIOUS_SECRETS?.length && !env.UNSUBSCRIBE_SECRET?.trim()) {
    problems.push('UNSUBSCRIBE_PREVIOUS_SECRETS needs UNSUBSCRIBE_SECRET, the key that replaced them');
  }
  const dkimKeyNames = ['DKIM_PRIVATE_KEY', 'DKIM_PRIVATE_KEY_FILE'] as const;
  if (dkimKeyNames.every((name) => env[name]?.trim())) {
    problems.push('DKIM_PRIVATE_KEY and DKIM_PRIVATE_KEY_FILE are both set: set one of them');
  }
  const dkimSet = [
    env.DKIM_DOMAIN?.trim() && 'DKIM_DOMAIN',
    env.DKIM_SELECTOR?.trim() && 'DKIM_SELECTOR',
    dkimKeyNames.some((name) => env[name]?.trim()) && 'DKIM_PRIVATE_KEY',
  ];
  if (dkimSet.some(Boolean) && !dkimSet.every(Boolean)) {
    const missing = ['DKIM_DOMAIN', 'DKIM_SELECTOR', 'DKIM_PRIVATE_KEY (or DKIM_PRIVATE_KEY_FILE)'].filter(
      (_name, index) => !dkimSet[index],
    );
    problems.push(
      `${missing.join(', ')} must be set too: DKIM signing needs a domain, a selector and a key, or none of them`,
    );
  }
  if (v.METRICS_PORT === undefined && !problems.some((p) => p.startsWith('METRICS_PORT'))) {
    const orphans = (['METRICS_HOST', 'METRICS_TOKEN'] as const).filter((name) => env[name]?.trim());
    if (orphans.length > 0) {
      problems.push(
        `${orphans.join(' and ')} ${orphans.length > 1 ? 'are' : 'is'} set, but METRICS_PORT is not: set it to serve metrics`,
      );
    }
  } else if (v.METRICS_PORT !== undefined) {
    if (v.ROLE !== 'worker' && v.METRICS_PORT !== 0 && v.METRICS_PORT === v.PORT) {
      problems.push('METRICS_PORT must differ from PORT: metrics are never served on the public API port');
    }
    const tokenProblem = problems.some((p) => p.startsWith('METRICS_TOKEN'));
    if (production && !v.METRICS_TOKEN && !tokenProblem && !isLoopbackHost(v.METRICS_HOST)) {
      problems.push(
        `METRICS_TOKEN is required when APP_ENV=production and METRICS_HOST (${v.METRICS_HOST}) is not a loopback address (generate one: openssl rand -base64 48)`,
      );
    }
  }
  if (v.SESSION_IDLE_TIMEOUT_MS > v.SESSION_ABSOLUTE_TIMEOUT_MS) {
    problems.push('SESSION_IDLE_TIMEOUT_MS must not be longer than SESSION_ABSOLUTE_TIMEOUT_MS');
  }
  if (production) {
    if (!v.SMTP_URL && !problems.some((p) => p.startsWith('SMTP_URL'))) {
      problems.push('SMTP_URL is required when APP_ENV=production (the development mail catcher never runs there)');
    }
    if (!v.UNSUBSCRIBE_SECRET && !problems.some((p) => p.startsWith('UNSUBSCRIBE_SECRET'))) {
      problems.push('UNSUBSCRIBE_SECRET is required when APP_ENV=production (generate one: openssl rand -base64 48)');
    }
    if (!v.OIDC_ISSUER && !problems.some((p) => p.startsWith('OIDC_ISSUER'))) {
      problems.push('OIDC_ISSUER is required when APP_ENV=production (the development sign-in never runs there)');
    }
    // Sign-in over plain http would expose codes and tokens; openid-client allows it only in development.
    if (v.OIDC_ISSUER && new URL(v.OIDC_ISSUER).protocol !== 'https:') {
      problems.push('OIDC_ISSUER must be https:// when APP_ENV=production (Feide: https://auth.dataporten.no)');
    }
    if (v.OIDC_REDIRECT_URL && new URL(v.OIDC_REDIRECT_URL).protocol !== 'https:') {
      problems.push('OIDC_REDIRECT_URL must be https:// when APP_ENV=production');
    }
    if (v.PUBLIC_URL && new URL(v.PUBLIC_URL).protocol !== 'https:') {
      problems.push('PUBLIC_URL must be https:// when APP_ENV=production');
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const publicUrl = v.PUBLIC_URL.replace(/\/+$/, '');
  return deepFreeze({
    appEnv: v.APP_ENV,
    role: v.ROLE,
    http: { host: v.HOST, port: v.PORT, publicUrl, trustProxy: v.TRUST_PROXY },
    metrics: { port: v.METRICS_PORT, host: v.METRICS_HOST, token: v.METRICS_TOKEN },
    logLevel: v.LOG_LEVEL,
    database: {
      url: v.DATABASE_URL,
      directUrl: v.DATABASE_DIRECT_URL ?? v.DATABASE_URL,
      poolSize: v.DATABASE_POOL_SIZE,
    },
    redis: { url: v.REDIS_URL, prefix: v.REDIS_PREFIX },
    mail: {
      smtpUrl: v.SMTP_URL,
      from: v.MAIL_FROM ?? 'BOTT Meldingskanal <meldingskanal@localhost>',
      poolSize: v.SMTP_POOL_SIZE,
      maxMessages: v.SMTP_MAX_MESSAGES,
      ratePerSecond: v.SMTP_RATE_PER_SECOND,
      maildev: { smtpPort: v.MAILDEV_SMTP_PORT, webPort: v.MAILDEV_WEB_PORT },
      dkim:
        v.DKIM_DOMAIN && v.DKIM_SELECTOR && (v.DKIM_PRIVATE_KEY ?? v.DKIM_PRIVATE_KEY_FILE)
          ? {
              domainName: v.DKIM_DOMAIN,
              keySelector: v.DKIM_SELECTOR,
              privateKey: (v.DKIM_PRIVATE_KEY ?? v.DKIM_PRIVATE_KEY_FILE)!,
            }
          : undefined,
    },
    unsubscribeSecret: v.UNSUBSCRIBE_SECRET,
    unsubscribePreviousSecrets: v.UNSUBSCRIBE_PREVIOUS_SECRETS ?? [],
    unsubscribePreviousSecretsUntil: v.UNSUBSCRIBE_PREVIOUS_SECRETS?.length
      ? v.UNSUBSCRIBE_PREVIOUS_SECRETS_UNTIL
      : undefined,
    unsubscribeMailto: v.UNSUBSCRIBE_MAILTO,
    delivery: {
      emailBatchSize: v.EMAIL_BATCH_SIZE,
      emailConcurrency: v.EMAIL_CONCURRENCY,
      emailMaxAttempts: v.EMAIL_MAX_ATTEMPTS,
      fanoutPageSize: v.FANOUT_PAGE_SIZE,
      outboxPollMs: v.OUTBOX_POLL_MS,
      sweepIntervalMs: v.SWEEP_INTERVAL_MS,
      staleDeliveryMs: v.STALE_DELIVERY_MS,
      ackReminderBeforeHours: v.ACK_REMINDER_BEFORE_HOURS,
    },
    digest: { ...v.DIGEST_TIME, timeZone: v.DIGEST_TIME_ZONE, weekday: v.DIGEST_WEEKDAY },
    push: {
      vapid:
        v.VAPID_PUBLIC_KEY && v.VAPID_PRIVATE_KEY && v.VAPID_SUBJECT
          ? { publicKey: v.VAPID_PUBLIC_KEY, privateKey: v.VAPID_PRIVATE_KEY, subject: v.VAPID_SUBJECT }
          : undefined,
      maxAttempts: v.PUSH_MAX_ATTEMPTS,
      concurrency: v.PUSH_CONCURRENCY,
      subscriptionMaxAgeDays: v.PUSH_SUBSCRIPTION_MAX_AGE_DAYS,
      serviceHosts: v.PUSH_SERVICE_HOSTS,
    },
    webhooks: {
      allowedHosts: v.WEBHOOK_ALLOWED_HOSTS,
      timeoutMs: v.WEBHOOK_TIMEOUT_MS,
      maxAttempts: v.WEBHOOK_MAX_ATTEMPTS,
      maxFailures: v.WEBHOOK_MAX_FAILURES,
    },
    readCache: { ttlMs: v.READ_CACHE_TTL_MS, maxBytes: v.READ_CACHE_MAX_BYTES },
    ws: {
      maxPayloadBytes: v.WS_MAX_PAYLOAD_BYTES,
      pingIntervalMs: v.WS_PING_INTERVAL_MS,
      maxBufferedBytes: v.WS_MAX_BUFFERED_BYTES,
      maxChannelsPerSocket: v.WS_MAX_CHANNELS_PER_SOCKET,
      maxConnectionsPerIp: v.WS_MAX_CONNECTIONS_PER_IP,
      accessRecheckMs: v.LIVE_ACCESS_RECHECK_MS,
    },
    oidc: {
      issuer: v.OIDC_ISSUER,
      clientId: v.OIDC_CLIENT_ID,
      clientSecret: v.OIDC_CLIENT_SECRET,
      scopes: v.OIDC_SCOPES,
      redirectUrl: v.OIDC_REDIRECT_URL ?? `${publicUrl}/auth/callback`,
      postLogoutRedirectUrl: `${publicUrl}/`,
      devProviderPort: v.DEV_OIDC_PORT,
    },
    session: { idleTimeoutMs: v.SESSION_IDLE_TIMEOUT_MS, absoluteTimeoutMs: v.SESSION_ABSOLUTE_TIMEOUT_MS },
    allowedOrigins: [new URL(publicUrl).origin, ...v.WIDGET_ORIGINS],
    widgetOrigins: v.WIDGET_ORIGINS,
    rateLimit: {
      ipPerMinute: v.RATE_LIMIT_IP_PER_MINUTE,
      userPerMinute: v.RATE_LIMIT_USER_PER_MINUTE,
      sensitivePerMinute: v.RATE_LIMIT_SENSITIVE_PER_MINUTE,
    },
    attachments: { maxBytes: v.ATTACHMENT_MAX_BYTES, dir: v.ATTACHMENT_DIR },
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
    seedOnEmpty: v.SEED_ON_EMPTY,
    migrateOnStart: v.MIGRATE_ON_START,
  });
}

/**
 * For command-line entry points: the configuration, or null after printing every problem (the caller exits 2).
 * Other errors propagate.
 */
export function loadConfigOrReport(
  env: Record<string, string | undefined>,
  report: (message: string) => void = console.error,
): Config | null {
  try {
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    report(error.message);
    return null;
  }
}

/** The configuration table for the README, generated from SETTINGS. */
export function configTableMarkdown(): string {
  const rows = Object.entries(SETTINGS).map(([name, spec]: [string, SettingSpec<unknown>]) => {
    const def = spec.secret
      ? '_(secret, no default)_'
      : spec.default === undefined
        ? '_(unset)_'
        : `\`${spec.default}\``;
    return `| \`${name}\` | ${def} | ${spec.doc} |`;
  });
  return ['| Setting | Default | Meaning |', '|---|---|---|', ...rows].join('\n');
}

/** Whether a listener bound to `host` is reachable from this machine only. */
function isLoopbackHost(host: string): boolean {
  const bare = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  return bare === 'localhost' || classifyAddress(bare) === 'loopback';
}

/** Hides the password in a connection string, for messages and logs. */
export function redactUrl(raw: string): string {
  return raw.replace(/\/\/([^:/@]+):([^@/]*)@/, '//$1:***@');
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/**
 * The one HTTP client that calls webhook URLs, with the SSRF rules of addresses.ts applied where they cannot be
 * dodged: at connect time, to every address the host name resolves to (a custom `lookup` for node:http/https), so a
 * name that resolved to a public address at registration and to 127.0.0.1 now (DNS rebinding) is refused. Literal IP
 * hosts never reach `lookup` and are judged before connecting.
 *
 * Also: http and https only; redirects are never followed (a 3xx is a failure — following one would be a way around
 * the address check, and a receiver that moved should be re-registered); a deadline for the whole exchange; the
 * response body is read up to a small cap and then dropped (only the status matters).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { ADDRESS_CLASS_TEXT, type AddressAllowlist, judgeAddress, normaliseHost } from './addresses.js';

/** Resolves a host name to all its addresses (dns.lookup with all: true, or a stand-in in tests). */
export type ResolveAll = (host: string) => Promise<LookupAddress[]>;

export const systemResolveAll: ResolveAll = (host) =>
  new Promise((resolve, reject) => {
    dnsLookup(host, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses)));
  });

export type WebhookSendErrorKind =
  | 'invalid_url'
  | 'refused_address'
  | 'dns'
  | 'timeout'
  | 'network'
  | 'redirect'
  | 'http_status';

/** Why a send did not succeed, in words for lastError and the test endpoint. */
export class WebhookSendError extends Error {
  constructor(
    readonly kind: WebhookSendErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'WebhookSendError';
  }
}

export interface WebhookResponse {
  status: number;
  latencyMs: number;
  /** The start of the response body (at most the cap), as text, for diagnostics. */
  bodyExcerpt: string;
}

export interface WebhookHttpClientOptions {
  allowlist: AddressAllowlist;
  /** WEBHOOK_TIMEOUT_MS: connect, send and receive the headers and the (capped) body. */
  timeoutMs: number;
  /** Bytes of response body read at most; the rest is not waited for. */
  maxResponseBytes?: number;
  resolveAll?: ResolveAll;
  userAgent?: string;
}

export interface WebhookHttpClient {
  /**
   * POSTs `body` (JSON) with `headers`. Resolves with the response for ANY status the server answered with (the
   * caller decides what a status means), except 3xx, which rejects (kind `redirect`); rejects with a
   * WebhookSendError when no usable answer came.
   */
  post(url: string, headers: Record<string, string>, body: string): Promise<WebhookResponse>;
  /** Checks a URL the way `post` would, without sending (registration). Rejects with a WebhookSendError. */
  check(url: string): Promise<void>;
}

export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

/** Parses a webhook URL: http(s), no credentials. Throws WebhookSendError('invalid_url'). */
export function parseWebhookUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookSendError('invalid_url', 'not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WebhookSendError('invalid_url', 'only http:// and https:// URLs are allowed');
  }
  if (url.username || url.password) {
    throw new WebhookSendError('invalid_url', 'the URL must not contain a user name or password');
  }
  if (!url.hostname) throw new WebhookSendError('invalid_url', 'the URL has no host');
  return url;
}

function refusal(host: string, address: string, kind: keyof typeof ADDRESS_CLASS_TEXT): WebhookSendError {
  const shown = normaliseHost(host) === address ? address : `${host} (${address})`;
  return new WebhookSendError(
    'refused_address',
    `${shown} is ${ADDRESS_CLASS_TEXT[kind]}, which webhooks may not reach`,
  );
}

export function createWebhookHttpClient(options: WebhookHttpClientOptions): WebhookHttpClient {
  const resolveAll = options.resolveAll ?? systemResolveAll;
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;

  /** All addresses of `host`, each judged; rejects when any one is refused (the OS may pick any of them). */
  async function allowedAddresses(host: string): Promise<LookupAddress[]> {
    const bare = normaliseHost(host);
    if (isIP(bare)) {
      const verdict = judgeAddress(options.allowlist, bare, bare);
      if (!verdict.allowed) throw refusal(host, verdict.address, verdict.kind);
      return [{ address: bare, family: isIP(bare) }];
    }
    let addresses: LookupAddress[];
    try {
      addresses = await resolveAll(bare);
    } catch (error) {
      throw new WebhookSendError(
        'dns',
        `${bare} does not resolve (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    if (addresses.length === 0) throw new WebhookSendError('dns', `${bare} does not resolve`);
    for (const { address } of addresses) {
      const verdict = judgeAddress(options.allowlist, bare, address);
      if (!verdict.allowed) throw refusal(bare, verdict.address, verdict.kind);
    }
    return addresses;
  }

  /** net.connect's `lookup`: resolve now, refuse if any address is not allowed, hand back what was judged. */
  const guardedLookup = (
    hostname: string,
    lookupOptions: { all?: boolean; family?: number },
    callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void,
  ) => {
    allowedAddresses(hostname).then(
      (addresses) => {
        const wanted = lookupOptions.family ? addresses.filter((a) => a.family === lookupOptions.family) : addresses;
        if (wanted.length === 0) {
          callback(new WebhookSendError('dns', `${hostname} has no address of the wanted family`), '', 0);
        } else if (lookupOptions.all) {
          callback(null, wanted);
        } else {
          callback(null, wanted[0]!.address, wanted[0]!.family);
        }
      },
      (error: Error) => callback(error, '', 0),
    );
  };

  return {
    async check(raw) {
      const url = parseWebhookUrl(raw);
      await allowedAddresses(url.hostname);
    },

    async post(raw, headers, body) {
      const url = parseWebhookUrl(raw);
      const host = normaliseHost(url.hostname);
      // An IP literal is never looked up: judge it here (and it is the address connected to).
      if (isIP(host)) await allowedAddresses(host);
      const started = performance.now();
      const payload = Buffer.from(body, 'utf8');
      const transport = url.protocol === 'https:' ? https : http;

      return new Promise<WebhookResponse>((resolve, reject) => {
        let settled = false;
        const finish = (error: Error | null, response?: WebhookResponse) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (error) reject(error);
          else resolve(response!);
        };
        const request = transport.request(
          url,
          {
            method: 'POST',
            // A new connection per send: a pooled socket would skip the connect-time check of a later send.
            agent: false,
            lookup: guardedLookup as never,
            headers: {
              ...headers,
              'content-type': 'application/json',
              'content-length': String(payload.length),
              'user-agent': options.userAgent ?? 'Meldingskanal-Webhooks/1',
              connection: 'close',
            },
          },
          (response) => {
            const status = response.statusCode ?? 0;
            if (status >= 300 && status < 400) {
              response.destroy();
              const location = response.headers.location ? ` to ${response.headers.location}` : '';
              finish(new WebhookSendError('redirect', `HTTP ${status}: redirect${location} not followed`, status));
              return;
            }
            const chunks: Buffer[] = [];
            let size = 0;
            const done = () =>
              finish(null, {
                status,
                latencyMs: Math.round(performance.now() - started),
                bodyExcerpt: Buffer.concat(chunks).toString('utf8').slice(0, 500),
              });
            response.on('data', (chunk: Buffer) => {
              if (size >= maxBytes) return;
              chunks.push(chunk.subarray(0, maxBytes - size));
              size += chunk.length;
              // Enough read: the status is what counts; do not let a receiver stream at us.
              if (size >= maxBytes) {
                done();
                response.destroy();
              }
            });
            response.on('end', done);
            response.on('error', (error) => finish(new WebhookSendError('network', error.message)));
            response.on('close', done);
          },
        );
        const timer = setTimeout(() => {
          const error = new WebhookSendError('timeout', `no complete answer within ${options.timeoutMs} ms`);
          finish(error);
          request.destroy(error);
        }, options.timeoutMs);
        request.on('error', (error) => {
          finish(
            error instanceof WebhookSendError ? error : new WebhookSendError('network', describeNetworkError(error)),
          );
        });
        request.end(payload);
      });
    },
  };
}

function describeNetworkError(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code ? `${code}: ${error.message}` : error.message;
}

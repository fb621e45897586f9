/**
 * Security headers on every response (helmet), with a strict Content-Security-Policy for the app's pages.
 *
 * The app's CSP (APP_CSP_DIRECTIVES): everything from this origin only; no plugins; no `<base>`; no framing (the
 * pages have nothing to embed, and framing is how clickjacking starts); forms post here, or — for sign-out, which
 * redirects to the provider's end-session endpoint after a form POST — to the OpenID provider's origin. Scripts and
 * inline `<style>` blocks need this response's nonce: `reply.cspNonce.script` / `reply.cspNonce.style` (a fresh pair
 * per response, so an injected tag cannot guess it). No 'unsafe-inline', no 'unsafe-eval'.
 *
 * Swagger UI at /api/docs gets its own policy (DOCS_CSP, set through @fastify/swagger-ui's `staticCSP`): the same
 * shape, plus `data:` images for its icons.
 *
 * Pages that know better set their own `Content-Security-Policy` and `Referrer-Policy` in the route (the unsubscribe
 * pages carry a token in their address and send `no-referrer`); a header set in the route replaces helmet's.
 *
 * Also: HSTS (one year) when PUBLIC_URL is https — never over plain http, where it would be ignored at best and pin
 * a development host at worst; `X-Content-Type-Options: nosniff`; `Referrer-Policy: strict-origin-when-cross-origin`
 * (not `no-referrer`: a same-origin form POST must keep its `Origin` header, which the CSRF check reads);
 * `X-Frame-Options: DENY` for browsers without frame-ancestors; Cross-Origin-Opener/Resource-Policy same-origin.
 */
import { randomFillSync } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import helmet from 'helmet';
import type { Config } from '../../config.js';

export interface SecurityHeadersOptions {
  config: Pick<Config, 'appEnv' | 'http' | 'oidc'>;
}

/**
 * Where forms may send the browser besides this origin: the OpenID provider, because sign-out is a form POST that
 * ends in a redirect to its end-session endpoint (browsers apply form-action to the redirect too). Without a
 * configured issuer (development), the development provider on DEV_OIDC_PORT.
 */
export function signOutFormTargets(config: SecurityHeadersOptions['config']): string[] {
  if (config.oidc.issuer) return [new URL(config.oidc.issuer).origin];
  // Port 0: picked when the provider starts, unknown here; the sign-in pages send their own CSP with the real issuer.
  if (config.appEnv !== 'development' || config.oidc.devProviderPort === 0) return [];
  return [`http://localhost:${config.oidc.devProviderPort}`, `http://127.0.0.1:${config.oidc.devProviderPort}`];
}

/** The WebSocket origin of PUBLIC_URL (`wss://host` for https), for connect-src: not every browser maps 'self'. */
function webSocketOrigin(publicUrl: string): string {
  const url = new URL(publicUrl);
  return `${url.protocol === 'https:' ? 'wss:' : 'ws:'}//${url.host}`;
}

export function appCspDirectives(config: SecurityHeadersOptions['config']): Record<string, string[]> {
  return {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    'style-src': ["'self'"],
    'img-src': ["'self'", 'data:'],
    'font-src': ["'self'"],
    'connect-src': ["'self'", webSocketOrigin(config.http.publicUrl)],
    'object-src': ["'none'"],
    'base-uri': ["'none'"],
    'frame-ancestors': ["'none'"],
    'form-action': ["'self'", ...signOutFormTargets(config)],
  };
}

/**
 * The one inline `<style>` Swagger UI writes: the logo's SVG (`.logo_small_svg__cls-2{fill:#fff}…`, in
 * swagger-ui-standalone-preset.js). Allowed by its hash rather than with 'unsafe-inline'; should an upgrade of
 * @fastify/swagger-ui change it, tests/e2e/csp.test.ts reports the violation with the new hash.
 */
export const SWAGGER_UI_LOGO_STYLE_HASH = "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='";

/**
 * Swagger UI's policy. It loads only its own files from /api/docs/static and the OpenAPI document from this origin,
 * and runs no inline script (the initializer is a file); its icons are data: URIs. The online validator badge is
 * switched off in openapi.ts, so no third-party host is needed.
 */
export function docsCsp(publicUrl: string): string {
  return serialiseCsp({
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    'style-src': ["'self'", SWAGGER_UI_LOGO_STYLE_HASH],
    'img-src': ["'self'", 'data:'],
    'font-src': ["'self'", 'data:'],
    'connect-src': ["'self'"],
    'object-src': ["'none'"],
    'base-uri': ["'none'"],
    'frame-ancestors': ["'none'"],
    'form-action': ["'self'"],
  }).concat(publicUrl.startsWith('https:') ? '; upgrade-insecure-requests' : '');
}

function serialiseCsp(directives: Record<string, string[]>): string {
  return Object.entries(directives)
    .map(([name, values]) => `${name} ${values.join(' ')}`)
    .join('; ');
}

/** A response's nonces, made the first time something asks for them (reply.cspNonce, or an HTML response). */
const nonces = new WeakMap<FastifyReply, { script: string; style: string }>();

/** Bytes of one nonce (128 bits). */
const NONCE_BYTES = 16;
/**
 * Random bytes for nonces, filled from the CSPRNG 512 nonces at a time: one randomBytes call per nonce (two per HTML
 * response) was a measurable part of a kept page's cost. Every nonce takes bytes no other nonce had; the pool is
 * refilled once they are used up, so no nonce is ever repeated or predictable from another.
 */
const noncePool = Buffer.alloc(NONCE_BYTES * 512);
let noncePoolUsed = noncePool.length;

function freshNonce(): string {
  if (noncePoolUsed === noncePool.length) {
    randomFillSync(noncePool);
    noncePoolUsed = 0;
  }
  const nonce = noncePool.toString('hex', noncePoolUsed, noncePoolUsed + NONCE_BYTES);
  noncePoolUsed += NONCE_BYTES;
  return nonce;
}

function noncesOf(reply: FastifyReply): { script: string; style: string } {
  let made = nonces.get(reply);
  if (!made) {
    made = { script: freshNonce(), style: freshNonce() };
    nonces.set(reply, made);
  }
  return made;
}

function isHtml(contentType: unknown): boolean {
  return typeof contentType === 'string' && contentType.startsWith('text/html');
}

/**
 * Helmet's headers, with the middleware built ONCE at start-up (@fastify/helmet builds helmet's middleware anew for
 * every request, a measurable part of a cached page's cost). Every response gets them in onRequest, as before, on the
 * raw response (live streams rely on that). The nonces cost only HTML responses: an HTML response whose policy the
 * route did not replace gets the same policy with a fresh script and style nonce; `reply.cspNonce` gives a page its
 * nonces (made on first use). JSON, feeds and files carry the policy without nonces, which allows no more. A request
 * with an `Upgrade` header gets them in onSend instead, only when it is answered with a response.
 */
async function securityHeadersPlugin(app: FastifyInstance, options: SecurityHeadersOptions): Promise<void> {
  const { config } = options;
  const https = new URL(config.http.publicUrl).protocol === 'https:';
  const directives: Record<string, string[]> = {
    ...appCspDirectives(config),
    ...(https ? { 'upgrade-insecure-requests': [] } : {}),
  };
  const applyHeaders = helmet({
    // The policy is ours (below): the same directives, with nonces for HTML.
    contentSecurityPolicy: false,
    hsts: https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
    xFrameOptions: { action: 'deny' },
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
  const policy = (withNonces?: { script: string; style: string }) =>
    Object.entries(directives)
      .map(([name, values]) => {
        const all =
          withNonces && name === 'script-src'
            ? [...values, `'nonce-${withNonces.script}'`]
            : withNonces && name === 'style-src'
              ? [...values, `'nonce-${withNonces.style}'`]
              : values;
        return [name, ...all].join(' ');
      })
      .join(';');
  const plainPolicy = policy();

  app.decorateReply('cspNonce', {
    getter(this: FastifyReply) {
      return noncesOf(this);
    },
  });
  // Helmet's headers do not depend on the request (constant names and values from the options above): recorded once
  // from its middleware, then set from the list, without walking its dozen middleware functions for every response.
  const helmetHeaders: [string, string][] = [];
  const helmetRemoved: string[] = [];
  const recorder = {
    setHeader: (name: string, value: string) => helmetHeaders.push([name, value]),
    removeHeader: (name: string) => helmetRemoved.push(name),
  };
  applyHeaders({} as IncomingMessage, recorder as unknown as ServerResponse, () => {});
  helmetHeaders.push(['content-security-policy', plainPolicy]);
  const setHeaders = (_request: FastifyRequest, reply: FastifyReply) => {
    const raw = reply.raw;
    for (const name of helmetRemoved) raw.removeHeader(name);
    for (const [name, value] of helmetHeaders) raw.setHeader(name, value);
  };
  app.addHook('onRequest', (request, reply, done) => {
    // A WebSocket handshake that succeeds is answered by ws (101 Switching Protocols), not with this response: its
    // headers would be set for nothing, for each of the thousands of sockets of a reconnect storm. One that is refused
    // gets them when its response is sent (onSend), like every response.
    if (request.raw.headers.upgrade === undefined) setHeaders(request, reply);
    done();
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.raw.headers.upgrade !== undefined) setHeaders(request, reply);
    if (isHtml(reply.getHeader('content-type')) && reply.getHeader('content-security-policy') === plainPolicy) {
      reply.header('content-security-policy', policy(noncesOf(reply)));
    }
    done(null, payload);
  });
}

declare module 'fastify' {
  interface FastifyReply {
    /** This response's CSP nonces (made on first use; HTML responses carry them in their policy). */
    readonly cspNonce: { script: string; style: string };
  }
}

export default fp(securityHeadersPlugin, { name: 'meldingskanal-security-headers', fastify: '5.x' });

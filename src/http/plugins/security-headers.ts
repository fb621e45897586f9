/**
 * Security headers on every response (@fastify/helmet), with a strict Content-Security-Policy for the app's pages.
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
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
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

async function securityHeadersPlugin(app: FastifyInstance, options: SecurityHeadersOptions): Promise<void> {
  const { config } = options;
  const https = new URL(config.http.publicUrl).protocol === 'https:';
  await app.register(helmet, {
    global: true,
    enableCSPNonces: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        ...appCspDirectives(config),
        ...(https ? { 'upgrade-insecure-requests': [] } : {}),
      },
    },
    hsts: https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
    xFrameOptions: { action: 'deny' },
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
}

export default fp(securityHeadersPlugin, { name: 'meldingskanal-security-headers', fastify: '5.x' });

/**
 * OpenID Connect test helpers:
 * - CookieJar: a browser's cookies for one site, kept by hand (fetch has no jar).
 * - signInThroughDevProvider: drives a whole sign-in like a browser — the app's /auth/login, the development
 *   provider's redirects and account picker over real HTTP, and the app's /auth/callback.
 * - startTestProvider: a tiny hand-made OpenID provider (discovery, authorisation, token, JWKS, userinfo) whose ID
 *   tokens can be given one chosen defect (wrong iss, wrong aud, expired, alg none, unknown kid, wrong nonce), to
 *   prove the app refuses each. Its keys and tokens are made with `jose`, independently of the code under test.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { exportJWK, SignJWT } from 'jose';
import { generateRsaKeyPair } from '../../src/auth/keys.js';

/** Cookies of one site, by name (paths and expiry beyond deletion do not matter for these flows). */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  absorb(setCookie: string | string[] | undefined): void {
    const lines = setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie];
    for (const line of lines) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => {
        const [key = '', val = ''] = a.trim().split('=');
        if (key.toLowerCase() === 'max-age') return Number(val) <= 0;
        if (key.toLowerCase() === 'expires') return new Date(val).getTime() <= Date.now();
        return false;
      });
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }

  set(name: string, value: string): void {
    this.cookies.set(name, value);
  }

  delete(name: string): void {
    this.cookies.delete(name);
  }

  header(): string | undefined {
    if (this.cookies.size === 0) return undefined;
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/** The path and query of an absolute URL, for app.inject. */
export function pathOf(url: string | URL): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}

export interface InjectedStep {
  response: LightMyRequestResponse;
  location: string | undefined;
}

/** A GET to the app with the jar's cookies; the jar takes the answer's cookies. */
export async function appGet(app: FastifyInstance, url: string, jar: CookieJar): Promise<InjectedStep> {
  const cookie = jar.header();
  const response = await app.inject({ method: 'GET', url, headers: cookie ? { cookie } : {} });
  jar.absorb(response.headers['set-cookie']);
  const location = response.headers.location;
  return { response, location: typeof location === 'string' ? location : undefined };
}

/** A GET with fetch, no automatic redirects, cookies from and into the jar. */
export async function browserFetch(url: string | URL, jar: CookieJar, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const cookie = jar.header();
  if (cookie) headers.set('cookie', cookie);
  const response = await fetch(url, { ...init, headers, redirect: 'manual' });
  jar.absorb(response.headers.getSetCookie());
  return response;
}

/**
 * Follows the provider's redirects from `start` like a browser until it redirects to `stopPrefix` (the app), choosing
 * `account` on the development provider's account picker (or cancelling when account is null). Returns the URL the
 * provider sent the browser to.
 */
export async function throughDevProvider(
  start: string,
  stopPrefix: string,
  account: string | null,
  jar: CookieJar,
): Promise<URL> {
  let url = new URL(start);
  let response = await browserFetch(url, jar);
  for (let step = 0; step < 20; step++) {
    if (response.status >= 300 && response.status < 400) {
      const next = new URL(response.headers.get('location') ?? '', url);
      if (next.href.startsWith(stopPrefix)) return next;
      url = next;
      response = await browserFetch(url, jar);
      continue;
    }
    const html = await response.text();
    if (response.status !== 200 || !/^\/interaction\/[^/]+$/.test(url.pathname)) {
      throw new Error(`unexpected provider answer ${response.status} at ${url.pathname}: ${html.slice(0, 300)}`);
    }
    const action = account === null ? 'abort' : 'login';
    const form = new URLSearchParams(account === null ? {} : { account });
    response = await browserFetch(new URL(`${url.pathname}/${action}`, url), jar, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
  }
  throw new Error('too many redirects at the provider');
}

export interface BrowserSignIn {
  /** The app's answer to the callback. */
  callback: LightMyRequestResponse;
  /** Where the provider sent the browser back to (the app's callback URL with code and state). */
  callbackUrl: URL;
  /** The app's cookies after the callback. */
  appJar: CookieJar;
  providerJar: CookieJar;
}

/**
 * A whole sign-in as a browser does it: /auth/login at the app (in-process), the provider over HTTP, then the
 * app's callback. Pass the jars to continue an earlier browser's life (a second sign-in, a sign-out).
 */
export async function signInThroughDevProvider(
  app: FastifyInstance,
  options: {
    account: string | null;
    redirectUrl: string;
    returnTo?: string;
    appJar?: CookieJar;
    providerJar?: CookieJar;
  },
): Promise<BrowserSignIn> {
  const appJar = options.appJar ?? new CookieJar();
  const providerJar = options.providerJar ?? new CookieJar();
  const query = options.returnTo === undefined ? '' : `?returnTo=${encodeURIComponent(options.returnTo)}`;
  const login = await appGet(app, `/auth/login${query}`, appJar);
  if (login.response.statusCode !== 302 || !login.location) {
    throw new Error(`/auth/login answered ${login.response.statusCode}: ${login.response.body.slice(0, 300)}`);
  }
  const callbackUrl = await throughDevProvider(login.location, options.redirectUrl, options.account, providerJar);
  const callback = await appGet(app, pathOf(callbackUrl), appJar);
  return { callback: callback.response, callbackUrl, appJar, providerJar };
}

// -- a hand-made provider with defects on demand --

export const ID_TOKEN_DEFECTS = [
  'wrong-iss',
  'wrong-aud',
  'expired',
  'alg-none',
  'unknown-kid',
  'wrong-nonce',
  'bad-signature',
] as const;
export type IdTokenDefect = (typeof ID_TOKEN_DEFECTS)[number];

export interface TestPerson {
  sub: string;
  /** Released at userinfo (as Feide does: its ID token carries little more than sub). */
  claims?: Record<string, unknown>;
}

interface IssuedCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  nonce: string | undefined;
  person: TestPerson;
  used: boolean;
}

export interface TokenRequestRecord {
  authMethod: 'client_secret_basic' | 'client_secret_post' | 'none' | 'invalid';
  grantType: string | null;
  outcome: 'issued' | 'refused';
}

export interface TestProvider {
  readonly issuer: string;
  readonly clientId: string;
  /** Who signs in at the next authorisation request. */
  person: TestPerson;
  /** The defect the next ID tokens carry (null: none). */
  defect: IdTokenDefect | null;
  /** While true, every endpoint answers 503 (a provider that is down). */
  down: boolean;
  readonly tokenRequests: TokenRequestRecord[];
  /** Requests the authorisation URL (as the browser would) and returns where the provider redirects to. */
  authorize(authorizationUrl: string): Promise<URL>;
  close(): Promise<void>;
}

function base64url(input: Buffer | string): string {
  return Buffer.from(input).toString('base64url');
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/**
 * Starts the hand-made provider on 127.0.0.1 (a free port). With `clientSecret` the client must authenticate with
 * client_secret_basic; without, it is a public client (`none`).
 */
export async function startTestProvider(options: {
  clientId: string;
  clientSecret?: string;
  redirectUrl: string;
  endSession?: boolean;
}): Promise<TestProvider> {
  const codes = new Map<string, IssuedCode>();
  const accessTokens = new Map<string, TestPerson>();
  // Not jose's generateKeyPair: see src/auth/keys.ts for the Node 20 deadlock it can run into.
  const signing = generateRsaKeyPair();
  const stranger = generateRsaKeyPair();
  const kid = 'test-key-1';
  const publicJwk = { ...(await exportJWK(signing.publicKey)), kid, alg: 'RS256', use: 'sig' };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => json(res, 500, { error: 'server_error', detail: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const provider: TestProvider = {
    issuer,
    clientId: options.clientId,
    person: { sub: 'test-subject' },
    defect: null,
    down: false,
    tokenRequests: [],
    async authorize(authorizationUrl) {
      const response = await fetch(authorizationUrl, { redirect: 'manual' });
      const location = response.headers.get('location');
      if (response.status !== 302 || !location) {
        throw new Error(`authorisation answered ${response.status}: ${await response.text()}`);
      }
      return new URL(location);
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };

  async function idToken(code: IssuedCode): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const defect = provider.defect;
    const payload: Record<string, unknown> = {
      iss: defect === 'wrong-iss' ? 'https://evil.example' : issuer,
      sub: code.person.sub,
      aud: defect === 'wrong-aud' ? 'another-client' : code.clientId,
      iat: defect === 'expired' ? now - 7200 : now,
      exp: defect === 'expired' ? now - 3600 : now + 300,
      ...(code.nonce !== undefined ? { nonce: defect === 'wrong-nonce' ? 'not-the-nonce' : code.nonce } : {}),
    };
    if (defect === 'alg-none') {
      return `${base64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${base64url(JSON.stringify(payload))}.`;
    }
    if (defect === 'unknown-kid') {
      return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: 'unknown-kid' }).sign(stranger.privateKey);
    }
    if (defect === 'bad-signature') {
      // The right kid, a signature by another key.
      return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid }).sign(stranger.privateKey);
    }
    return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid }).sign(signing.privateKey);
  }

  function clientAuthentication(req: IncomingMessage, form: URLSearchParams): TokenRequestRecord['authMethod'] {
    const header = req.headers.authorization;
    if (header?.startsWith('Basic ')) {
      const [id = '', secret = ''] = Buffer.from(header.slice(6), 'base64')
        .toString('utf8')
        .split(':')
        .map((part) => decodeURIComponent(part));
      return id === options.clientId && options.clientSecret !== undefined && secret === options.clientSecret
        ? 'client_secret_basic'
        : 'invalid';
    }
    if (form.has('client_secret')) return 'client_secret_post';
    return form.get('client_id') === options.clientId && options.clientSecret === undefined ? 'none' : 'invalid';
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (provider.down) {
      json(res, 503, { error: 'temporarily_unavailable' });
      return;
    }
    const url = new URL(req.url ?? '/', issuer);
    switch (url.pathname) {
      case '/.well-known/openid-configuration':
        json(res, 200, {
          issuer,
          authorization_endpoint: `${issuer}/authorize`,
          token_endpoint: `${issuer}/token`,
          jwks_uri: `${issuer}/jwks`,
          userinfo_endpoint: `${issuer}/userinfo`,
          ...(options.endSession ? { end_session_endpoint: `${issuer}/logout` } : {}),
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
          code_challenge_methods_supported: ['S256'],
          token_endpoint_auth_methods_supported: ['client_secret_basic', 'none'],
        });
        return;
      case '/jwks':
        json(res, 200, { keys: [publicJwk] });
        return;
      case '/authorize': {
        const p = url.searchParams;
        const redirectUri = p.get('redirect_uri');
        if (
          p.get('client_id') !== options.clientId ||
          redirectUri !== options.redirectUrl ||
          p.get('response_type') !== 'code' ||
          p.get('code_challenge_method') !== 'S256' ||
          !p.get('code_challenge')
        ) {
          json(res, 400, { error: 'invalid_request' });
          return;
        }
        const code = randomBytes(16).toString('base64url');
        codes.set(code, {
          clientId: options.clientId,
          redirectUri,
          codeChallenge: p.get('code_challenge') as string,
          nonce: p.get('nonce') ?? undefined,
          person: provider.person,
          used: false,
        });
        const back = new URL(redirectUri);
        back.searchParams.set('code', code);
        if (p.get('state') !== null) back.searchParams.set('state', p.get('state') as string);
        res.writeHead(302, { location: back.href }).end();
        return;
      }
      case '/token': {
        const form = new URLSearchParams(await readBody(req));
        const authMethod = clientAuthentication(req, form);
        const record: TokenRequestRecord = { authMethod, grantType: form.get('grant_type'), outcome: 'refused' };
        provider.tokenRequests.push(record);
        if (authMethod === 'invalid') {
          json(res, 401, { error: 'invalid_client' });
          return;
        }
        const code = codes.get(form.get('code') ?? '');
        const verifier = form.get('code_verifier') ?? '';
        const challenge = createHash('sha256').update(verifier).digest('base64url');
        if (
          form.get('grant_type') !== 'authorization_code' ||
          !code ||
          code.used ||
          code.redirectUri !== form.get('redirect_uri') ||
          challenge !== code.codeChallenge
        ) {
          json(res, 400, { error: 'invalid_grant' });
          return;
        }
        code.used = true;
        const accessToken = randomBytes(16).toString('base64url');
        accessTokens.set(accessToken, code.person);
        record.outcome = 'issued';
        json(res, 200, {
          access_token: accessToken,
          token_type: 'Bearer',
          expires_in: 300,
          id_token: await idToken(code),
        });
        return;
      }
      case '/userinfo': {
        const person = accessTokens.get((req.headers.authorization ?? '').replace(/^Bearer /, ''));
        if (!person) {
          res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
          return;
        }
        json(res, 200, { ...person.claims, sub: person.sub });
        return;
      }
      default:
        json(res, 404, { error: 'not_found' });
    }
  }

  return provider;
}

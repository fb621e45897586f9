/**
 * The local development OpenID provider: a real OpenID Connect provider (`oidc-provider`) with demo accounts, so that
 * `npm start` without any identity configuration lets a person sign in through exactly the code path production uses
 * with Feide (discovery, Authorization Code + PKCE, a confidential client, ID token, userinfo, end-session).
 *
 * - It refuses to start when APP_ENV=production.
 * - Its pages say, on every screen, that this is a development sign-in and not Feide.
 * - The person picks a demo account on every sign-in (no silent single sign-on), so switching accounts is one click.
 * - Its accounts release Feide's claims (name, e-mail, `https://n.feide.no/claims/eduPersonPrincipalName`), so the
 *   organisation is derived from the realm the same way as in production. No personal names: role titles only.
 * - Keys, client secret and cookie keys are made per process: nothing to configure, nothing to leak.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Account, Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type { AppEnv, Config } from '../config.js';
import type { Db } from '../db/prisma.js';
import { realmOf } from '../domain/identity.js';
import { organisationForRealm } from '../services/sign-in.js';
import { loadWebAssets, preferredEncoding, type WebAssets } from '../web/assets.js';
import {
  DEV_SIGN_IN_LABEL,
  DEV_STYLESHEET_PATH,
  renderDevAccountPicker,
  renderDevLogout,
  renderDevMessage,
} from '../web/pages/dev-sign-in.js';
import { generateRsaKeyPair } from './keys.js';

/** A demo person at the development provider. */
export interface DevAccount {
  /** The provider's `sub`. */
  subject: string;
  displayName: string;
  /** Feide-style user id; its realm picks the organisation. */
  principalName: string;
  email: string;
  /** Made an administrator when the accounts are seeded. */
  isAdmin: boolean;
  /** Channel (slug) in which this account is made a publisher when the accounts are seeded. */
  publisherOf?: string;
  /** Shown on the sign-in page: what this account is for. */
  purpose: string;
}

export const DEV_ACCOUNTS: readonly DevAccount[] = Object.freeze([
  {
    subject: 'dev-admin',
    displayName: 'Administrator (utvikling)',
    principalName: 'admin@uio.no',
    email: 'admin@uio.no',
    isAdmin: true,
    purpose: 'Administrator: styrer kanaler og organisasjoner',
  },
  {
    subject: 'dev-publisher-bott-sa',
    displayName: 'Publisist for BOTT-SA',
    principalName: 'publisist@ntnu.no',
    email: 'publisist@ntnu.no',
    isAdmin: false,
    publisherOf: 'bott-sa',
    purpose: 'Publiserer i kanalen BOTT saksbehandling og arkiv',
  },
  {
    subject: 'dev-employee-uib',
    displayName: 'Ansatt ved UiB',
    principalName: 'ansatt@uib.no',
    email: 'ansatt@uib.no',
    isAdmin: false,
    purpose: 'Ansatt ved Universitetet i Bergen',
  },
  {
    subject: 'dev-employee-uio',
    displayName: 'Ansatt ved UiO',
    principalName: 'ansatt@uio.no',
    email: 'ansatt@uio.no',
    isAdmin: false,
    purpose: 'Ansatt ved Universitetet i Oslo',
  },
  {
    subject: 'dev-employee-uit',
    displayName: 'Ansatt ved UiT',
    principalName: 'ansatt@uit.no',
    email: 'ansatt@uit.no',
    isAdmin: false,
    purpose: 'Ansatt ved UiT Norges arktiske universitet',
  },
  {
    subject: 'dev-employee-ntnu',
    displayName: 'Ansatt ved NTNU',
    principalName: 'ansatt@ntnu.no',
    email: 'ansatt@ntnu.no',
    isAdmin: false,
    purpose: 'Ansatt ved NTNU',
  },
  {
    subject: 'dev-guest',
    displayName: 'Gjest utenfor medlemsinstitusjonene',
    principalName: 'gjest@example.org',
    email: 'gjest@example.org',
    isAdmin: false,
    purpose: 'Bruker fra et annet domene: ser bare det anonyme ser, og kan styre egne abonnementer',
  },
]);

export const DEV_CLIENT_ID = 'meldingskanal-dev';

/** Every page of the provider says this, so nobody mistakes it for Feide (its pages: src/web/pages/dev-sign-in.tsx). */
export { DEV_SIGN_IN_LABEL };

export interface DevProviderOptions {
  appEnv: AppEnv;
  /** 0 picks a free port (tests). */
  port: number;
  /** The app's redirect URL (config.oidc.redirectUrl). */
  redirectUrl: string;
  /** Where the provider may send the browser after sign-out (config.oidc.postLogoutRedirectUrl). */
  postLogoutRedirectUrl: string;
  /** Interface to listen on; loopback by default, since this provider lets anyone be anyone. */
  host?: string;
  /** Receives the provider's internal errors (they are answered with a plain error page). */
  onError?: (error: unknown) => void;
}

export interface DevProvider {
  /** `http://localhost:<port>` */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly accounts: readonly DevAccount[];
  close(): Promise<void>;
}

/** Whether this configuration asks for the development provider: development, and no issuer configured. */
export function needsDevSignIn(config: Config): boolean {
  return config.appEnv === 'development' && !config.oidc.issuer;
}

/**
 * The configuration the API runs with once the development provider is up: the same settings, with the provider as
 * issuer and client. A new frozen object; the original is not touched.
 */
export function withDevSignIn(config: Config, provider: Pick<DevProvider, 'issuer' | 'clientId' | 'clientSecret'>) {
  const oidc = Object.freeze({
    ...config.oidc,
    issuer: provider.issuer,
    clientId: provider.clientId,
    clientSecret: provider.clientSecret,
  });
  return Object.freeze({ ...config, oidc }) as Config;
}

/** The account picker: one button per demo account, each a complete sign-in; plus a way to cancel. */
export function renderAccountPicker(uid: string): string {
  return renderDevAccountPicker(uid, DEV_ACCOUNTS);
}

async function readForm(req: IncomingMessage, limit = 4096): Promise<URLSearchParams> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('form body too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** Its own pages' policy: its own style sheet, forms to itself and back to the app on localhost, nothing else. */
const PAGE_CSP =
  "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self' http://localhost:* http://127.0.0.1:*; " +
  "frame-ancestors 'none'; base-uri 'none'";

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': PAGE_CSP,
  });
  res.end(html);
}

/** The site's style sheet for these pages, as built (dist/web), from memory; pre-compressed where the browser takes it. */
function sendStylesheet(req: IncomingMessage, res: ServerResponse, assets: WebAssets): void {
  const file = assets.entry('app.css');
  const encoding = preferredEncoding(req.headers['accept-encoding']);
  res.writeHead(200, {
    'content-type': file.contentType,
    'cache-control': 'no-cache',
    etag: file.etag,
    vary: 'Accept-Encoding',
    ...(encoding !== 'identity' ? { 'content-encoding': encoding } : {}),
  });
  res.end(file.bodies[encoding]);
}

function accountBySubject(subject: string): DevAccount | undefined {
  return DEV_ACCOUNTS.find((account) => account.subject === subject);
}

function findAccount(_ctx: KoaContextWithOIDC, sub: string): Account | undefined {
  const account = accountBySubject(sub);
  if (!account) return undefined;
  return {
    accountId: account.subject,
    claims: () => ({
      sub: account.subject,
      name: account.displayName,
      email: account.email,
      // As Feide: addresses come from the institutions' directories and are never verified.
      email_verified: false,
      'https://n.feide.no/claims/eduPersonPrincipalName': account.principalName,
      'https://n.feide.no/claims/userid_sec': [`feide:${account.principalName}`],
    }),
  };
}

type OidcProviderModule = typeof import('oidc-provider');

/** The default interaction policy, plus: always ask which account, even when the provider remembers a session. */
function alwaysChooseAccountPolicy({ interactionPolicy }: OidcProviderModule) {
  const policy = interactionPolicy.base();
  const login = policy.get('login');
  if (!login) throw new Error('oidc-provider has no login prompt in its base policy');
  login.checks.push(
    new interactionPolicy.Check(
      'dev_choose_account',
      'The development sign-in asks which demo account to use at every sign-in',
      (ctx) =>
        ctx.oidc.result?.login ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT,
    ),
  );
  return policy;
}

async function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}

/** Starts the development provider. Throws when APP_ENV is production. */
export async function startDevProvider(options: DevProviderOptions): Promise<DevProvider> {
  if (options.appEnv !== 'development') {
    throw new Error(
      `The development sign-in cannot run when APP_ENV=${options.appEnv}: configure OIDC_ISSUER (Feide: https://auth.dataporten.no)`,
    );
  }
  // Loaded here, not at the top: production never loads the development provider's code.
  const oidcProvider = await import('oidc-provider');
  // Its pages wear the site's style sheet (the built assets: npm start builds them first).
  const assets = loadWebAssets();
  let handle: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.writeHead(503).end();
  };
  const server = createServer((req, res) => handle(req, res));
  const host = options.host ?? '127.0.0.1';
  const address = await listen(server, options.port, host).catch((error: unknown) => {
    throw new Error(
      `The development sign-in cannot listen on ${host}:${options.port} (DEV_OIDC_PORT): ${(error as Error).message}`,
      { cause: error },
    );
  });
  const issuer = `http://localhost:${address.port}`;

  const { privateKey } = generateRsaKeyPair();
  const signingKey = {
    ...privateKey.export({ format: 'jwk' }),
    kid: randomBytes(8).toString('hex'),
    alg: 'RS256',
    use: 'sig',
  };
  const clientSecret = randomBytes(32).toString('base64url');

  const configuration: Configuration = {
    clients: [
      {
        client_id: DEV_CLIENT_ID,
        client_secret: clientSecret,
        client_name: 'Meldingskanal (utvikling)',
        redirect_uris: [options.redirectUrl],
        post_logout_redirect_uris: [options.postLogoutRedirectUrl],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        // As with Feide: a confidential client, so the development path also exercises client authentication.
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes: ['openid', 'profile', 'email', 'userid-feide'],
    claims: {
      openid: ['sub'],
      profile: ['name'],
      email: ['email', 'email_verified'],
      'userid-feide': ['https://n.feide.no/claims/eduPersonPrincipalName', 'https://n.feide.no/claims/userid_sec'],
    },
    findAccount,
    pkce: { required: () => true },
    // Short-lived, like a real provider's; an explicit value also keeps oidc-provider from nagging about defaults.
    ttl: {
      Interaction: 10 * 60,
      Session: 8 * 60 * 60,
      Grant: 8 * 60 * 60,
      AuthorizationCode: 60,
      AccessToken: 10 * 60,
      IdToken: 60 * 60,
    },
    interactions: {
      policy: alwaysChooseAccountPolicy(oidcProvider),
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        // The library's own form markup is not used: the page rebuilds it from the two values it carries.
        logoutSource(ctx) {
          ctx.body = renderDevLogout({
            action: ctx.oidc.urlFor('end_session_confirm'),
            xsrf: String(ctx.oidc.session?.state?.secret ?? ''),
          });
        },
        postLogoutSuccessSource(ctx) {
          ctx.body = renderDevMessage('devSignIn.loggedOut.title', 'devSignIn.loggedOut.heading');
        },
      },
    },
    renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = renderDevMessage('devSignIn.error.title', 'devSignIn.error.heading', {
        code: String(out.error ?? 'error'),
        description: String(out.error_description ?? ''),
      });
    },
  };
  const provider = new oidcProvider.Provider(issuer, configuration);
  if (options.onError) {
    const report = options.onError;
    provider.on('server_error', (_ctx, error) => report(error));
  }
  const providerHandler = provider.callback();

  async function interaction(req: IncomingMessage, res: ServerResponse, uid: string, action: string | undefined) {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) {
      sendHtml(res, 400, renderDevMessage('devSignIn.error.title', 'devSignIn.unknown.heading'));
      return;
    }
    if (details.prompt.name === 'consent') {
      // The app is the only client and first-party: grant what it asked for without a consent screen.
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session?.accountId, clientId: String(details.params.client_id) });
      if (!grant) throw new Error('the interaction refers to a grant that does not exist');
      const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return;
    }
    if (req.method === 'GET' && action === undefined) {
      sendHtml(res, 200, renderAccountPicker(uid));
      return;
    }
    if (req.method === 'POST' && action === 'login') {
      const chosen = accountBySubject((await readForm(req)).get('account') ?? '');
      if (!chosen) {
        sendHtml(res, 400, renderAccountPicker(uid));
        return;
      }
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: chosen.subject, remember: false } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    if (req.method === 'POST' && action === 'abort') {
      await provider.interactionFinished(
        req,
        res,
        { error: 'access_denied', error_description: 'The person cancelled the sign-in' },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    res.writeHead(405).end();
  }

  handle = (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === DEV_STYLESHEET_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
      sendStylesheet(req, res, assets);
      return;
    }
    const match = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|abort))?$/.exec(path);
    if (!match) {
      providerHandler(req, res);
      return;
    }
    interaction(req, res, match[1] as string, match[2]).catch((error: unknown) => {
      options.onError?.(error);
      // An expired or unknown interaction (its cookie is gone) is the usual cause: start again from the app.
      if (!res.headersSent) {
        sendHtml(
          res,
          400,
          renderDevMessage('devSignIn.error.title', 'devSignIn.expired.heading', { text: 'devSignIn.expired.text' }),
        );
      }
    });
  };

  return {
    issuer,
    clientId: DEV_CLIENT_ID,
    clientSecret,
    accounts: DEV_ACCOUNTS,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/**
 * Makes the demo accounts' rights exist before anyone signs in: the accounts (keyed, like every signed-in account, on
 * this provider's issuer and the account's `sub`), the admin flag, and the publisher role in BOTT-SA when that channel
 * exists (the demo content creates it). Idempotent. Attributes such as the e-mail address arrive at sign-in.
 */
export async function seedDevAccounts(db: Db, issuer: string): Promise<{ accounts: number; publisherRoles: number }> {
  let publisherRoles = 0;
  for (const account of DEV_ACCOUNTS) {
    const realm = realmOf(account.principalName);
    const organisation = realm ? await organisationForRealm(db, realm) : null;
    const attributes = {
      displayName: account.displayName,
      principalName: account.principalName,
      organisationId: organisation?.id ?? null,
      isAdmin: account.isAdmin,
    };
    const user = await db.user.upsert({
      where: { oidcIssuer_oidcSubject: { oidcIssuer: issuer, oidcSubject: account.subject } },
      create: { ...attributes, oidcIssuer: issuer, oidcSubject: account.subject },
      update: attributes,
      select: { id: true },
    });
    if (account.publisherOf) {
      const channel = await db.channel.findUnique({ where: { slug: account.publisherOf }, select: { id: true } });
      if (channel) {
        const key = { channelId_userId: { channelId: channel.id, userId: user.id } };
        await db.channelRole.upsert({
          where: key,
          create: { channelId: channel.id, userId: user.id, role: 'publisher' },
          // An owner role given by hand stays; only absence is repaired.
          update: {},
        });
        publisherRoles++;
      }
    }
  }
  return { accounts: DEV_ACCOUNTS.length, publisherRoles };
}

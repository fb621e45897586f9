/**
 * The OpenID Connect relying party: Authorization Code flow with PKCE (S256), `state` and `nonce`, on `openid-client`
 * (certified; it validates the ID token's `alg`, `iss`, `aud`, `exp`, `iat`, `nonce` and `azp`, and — because we
 * enable it — its signature against the provider's published keys).
 *
 * - Discovery runs once, lazily and shared: a provider that is down when the API starts makes sign-in answer 503
 *   until it is back; the API itself starts and serves everything else. A failed discovery is retried by the next
 *   caller, never cached.
 * - Client authentication: `client_secret_basic` when a secret is configured, else a public client (`none`) relying
 *   on PKCE.
 * - Plain-http issuers are allowed only in development (the local development provider, tests); production refuses
 *   them here as well as in the configuration.
 * - Userinfo: Feide's ID token carries little more than `sub`; name, e-mail and the Feide user id come from the
 *   userinfo endpoint, so it is read whenever the provider has one (and its `sub` must equal the ID token's).
 *
 * The storage of state, nonce and verifier between the two legs lives in the sign-in use case
 * (src/services/sign-in.ts); this module holds no per-user state.
 */
import * as oidc from 'openid-client';
import type { Config } from '../config.js';
import { AppError } from '../domain/errors.js';

export interface OidcClientSettings {
  issuer: string;
  clientId: string;
  /** Undefined for a public client (PKCE only). */
  clientSecret: string | undefined;
  /** Space-separated; includes `openid`. */
  scopes: string;
  redirectUrl: string;
  postLogoutRedirectUrl: string;
  /** Permit http:// provider endpoints (development only). */
  allowInsecureRequests: boolean;
  /** Per-request timeout towards the provider, seconds. */
  timeoutSeconds: number;
}

/** What the second leg must match: values the first leg made and stored. */
export interface AuthorizationChecks {
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface ValidatedSignIn {
  /** The validated ID token's claims merged with the userinfo response (userinfo wins for profile claims). */
  claims: Record<string, unknown>;
  /** Kept with the session for the provider's end-session endpoint (`id_token_hint`). */
  idToken: string;
}

/** Why a sign-in's second leg failed, in words safe to log (never a token, code or claim value). */
export class OidcValidationError extends Error {
  constructor(
    /** A short machine-readable reason: the provider's error code or the library's check that failed. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`OpenID Connect sign-in failed: ${reason}`, options);
    this.name = 'OidcValidationError';
  }
}

export interface OidcClient {
  readonly issuer: string;
  /** Runs discovery now (the API does this at start so the first sign-in is fast). Rejects with service_unavailable. */
  discover(): Promise<void>;
  /** The provider's authorisation URL for a new sign-in. */
  authorizationUrl(input: { state: string; nonce: string; codeChallenge: string }): Promise<URL>;
  /** Validates the authorisation response at `callbackUrl` and exchanges its code. Throws OidcValidationError. */
  completeAuthorization(callbackUrl: URL, checks: AuthorizationChecks): Promise<ValidatedSignIn>;
  /** The provider's end-session URL for this ID token, or null when the provider has no end-session endpoint. */
  endSessionUrl(idToken: string | null): Promise<URL | null>;
}

export const DEFAULT_PROVIDER_TIMEOUT_SECONDS = 10;

/**
 * The relying-party settings of a configuration. Throws when sign-in cannot be configured safely: no issuer or
 * client id, or an http:// issuer outside development.
 */
export function oidcClientSettings(config: Config): OidcClientSettings {
  const { issuer, clientId } = config.oidc;
  if (!issuer || !clientId) {
    throw new Error('OpenID Connect sign-in needs OIDC_ISSUER and OIDC_CLIENT_ID');
  }
  const insecure = new URL(issuer).protocol === 'http:';
  if (insecure && config.appEnv !== 'development') {
    throw new Error(`OIDC_ISSUER must be https:// when APP_ENV=${config.appEnv} (got ${issuer})`);
  }
  return {
    issuer,
    clientId,
    clientSecret: config.oidc.clientSecret,
    scopes: config.oidc.scopes,
    redirectUrl: config.oidc.redirectUrl,
    postLogoutRedirectUrl: config.oidc.postLogoutRedirectUrl,
    allowInsecureRequests: insecure,
    timeoutSeconds: DEFAULT_PROVIDER_TIMEOUT_SECONDS,
  };
}

/** True when an error means the provider could not be reached (refused, reset, timed out), not that it said no. */
export function isProviderUnreachable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 6; depth++) {
    const e = current as { name?: string; message?: string; code?: string; cause?: unknown };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return true;
    if (e.name === 'TypeError' && e.message === 'fetch failed') return true;
    if (
      typeof e.code === 'string' &&
      /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|UND_ERR_)/.test(e.code)
    ) {
      return true;
    }
    current = e.cause;
  }
  return false;
}

function providerUnavailable(cause: unknown): AppError {
  return new AppError('service_unavailable', 'The sign-in provider cannot be reached; try again shortly', {
    cause: cause instanceof Error ? cause.message : String(cause),
  });
}

/** The reason to record for a failed second leg: the provider's error code, or the library's check. */
function failureReason(error: unknown): string {
  if (error instanceof oidc.AuthorizationResponseError) return `provider_error:${error.error}`;
  if (error instanceof oidc.ResponseBodyError) return `token_error:${error.error}`;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return 'invalid_response';
  // For a claim that did not match (iss, aud, nonce…), its name — never its value — says which check failed.
  for (let cause = (error as { cause?: unknown }).cause, depth = 0; cause && depth < 4; depth++) {
    const claim = (cause as { claim?: unknown }).claim;
    if (typeof claim === 'string' && /^[a-z_]{1,32}$/.test(claim)) return `${code}:${claim}`;
    cause = (cause as { cause?: unknown }).cause;
  }
  return code;
}

export function createOidcClient(settings: OidcClientSettings): OidcClient {
  let discovered: Promise<oidc.Configuration> | undefined;

  function configuration(): Promise<oidc.Configuration> {
    discovered ??= oidc
      .discovery(
        new URL(settings.issuer),
        settings.clientId,
        {
          redirect_uris: [settings.redirectUrl],
          ...(settings.clientSecret ? { client_secret: settings.clientSecret } : {}),
        },
        settings.clientSecret ? oidc.ClientSecretBasic(settings.clientSecret) : oidc.None(),
        {
          timeout: settings.timeoutSeconds,
          execute: [
            // openid-client trusts an ID token from the token endpoint on the strength of TLS alone (OIDC Core
            // 3.1.3.7 allows it). We verify its signature against the provider's JWKS as well: a token signed by
            // an unknown key is refused even if the transport was subverted (or, in development, plain http).
            oidc.enableNonRepudiationChecks,
            // openid-client refuses http:// unless told otherwise; only the development provider and tests use it.
            ...(settings.allowInsecureRequests ? [oidc.allowInsecureRequests] : []),
          ],
        },
      )
      .catch((error: unknown) => {
        // Not cached: the next sign-in tries again.
        discovered = undefined;
        throw providerUnavailable(error);
      });
    return discovered;
  }

  return {
    issuer: settings.issuer,

    async discover() {
      await configuration();
    },

    async authorizationUrl({ state, nonce, codeChallenge }) {
      return oidc.buildAuthorizationUrl(await configuration(), {
        redirect_uri: settings.redirectUrl,
        scope: settings.scopes,
        state,
        nonce,
        code_challenge: codeChallenge,
        code_challenge_method: 'S256',
      });
    },

    async completeAuthorization(callbackUrl, checks) {
      const config = await configuration();
      try {
        const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: checks.codeVerifier,
          expectedState: checks.state,
          expectedNonce: checks.nonce,
          idTokenExpected: true,
        });
        const idClaims = tokens.claims();
        if (!idClaims || !tokens.id_token) throw new OidcValidationError('id_token_missing');
        let userinfo: Record<string, unknown> = {};
        if (config.serverMetadata().userinfo_endpoint && tokens.access_token) {
          userinfo = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub);
        }
        // The ID token's protocol claims (iss, sub, aud, nonce…) were validated; userinfo cannot override them.
        return { claims: { ...userinfo, ...idClaims }, idToken: tokens.id_token };
      } catch (error) {
        if (error instanceof OidcValidationError) throw error;
        if (isProviderUnreachable(error)) throw providerUnavailable(error);
        throw new OidcValidationError(failureReason(error), { cause: error });
      }
    },

    async endSessionUrl(idToken) {
      const config = await configuration();
      if (!config.serverMetadata().end_session_endpoint) return null;
      return oidc.buildEndSessionUrl(config, {
        post_logout_redirect_uri: settings.postLogoutRedirectUrl,
        ...(idToken ? { id_token_hint: idToken } : {}),
      });
    },
  };
}

/** PKCE, state and nonce for one sign-in, from openid-client's CSPRNG helpers. */
export async function newAuthorizationSecrets(): Promise<AuthorizationChecks & { codeChallenge: string }> {
  const codeVerifier = oidc.randomPKCECodeVerifier();
  return {
    state: oidc.randomState(),
    nonce: oidc.randomNonce(),
    codeVerifier,
    codeChallenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
  };
}

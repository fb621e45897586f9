/**
 * What a sign-in tells us about a person, read from OpenID Connect claims. Pure: the sign-in use case
 * (src/services/sign-in.ts) stores the result.
 *
 * The account key is the provider's (issuer, sub) pair and nothing else. Everything here is an attribute, refreshed
 * at each sign-in: the Feide user id (eduPersonPrincipalName, e.g. `ola@uio.no`) can change for the same person, and
 * Feide's `email` is never verified (`email_verified` is always false), so neither may ever pick an account.
 */

/**
 * Claims that carry a Feide-style user id (`local@realm`), best first:
 * - Feide's own claim (userid-feide attribute group), in the userinfo response and sometimes the ID token;
 * - the plain attribute name, as providers that release eduPerson attributes under their LDAP names do;
 * - `upn`: Entra ID's user principal name, whose suffix must be a domain the tenant has verified.
 * `preferred_username` is deliberately absent: providers let people choose or edit it, so its realm proves nothing.
 */
export const PRINCIPAL_NAME_CLAIMS = [
  'https://n.feide.no/claims/eduPersonPrincipalName',
  'eduPersonPrincipalName',
  'upn',
] as const;

/** Feide's list of namespaced secondary user ids (`feide:ola@uio.no`), consulted when no claim above is present. */
export const SECONDARY_USER_ID_CLAIMS = ['https://n.feide.no/claims/userid_sec', 'dataporten-userid_sec'] as const;

const MAX_PRINCIPAL_NAME_LENGTH = 256;
const MAX_DISPLAY_NAME_LENGTH = 200;
const MAX_EMAIL_LENGTH = 254;
/** One `@`, a non-empty local part without blanks, and a DNS-style realm. */
const PRINCIPAL_NAME_PATTERN = /^[^\s@]+@((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63})$/i;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export interface SignInIdentity {
  /** The issuer and subject: together, the account key. */
  issuer: string;
  subject: string;
  /** The name to show; undefined when the provider sent none (an existing account keeps its name). */
  displayName: string | undefined;
  /** Feide user id, lower-cased; null when the provider sent none (guest, social and other accounts). */
  principalName: string | null;
  /** Lower-cased; undefined when the provider sent none. Never used to find an account. */
  email: string | undefined;
}

/** `ola@uio.no` → `uio.no`; null for anything that is not `local@realm`. */
export function realmOf(principalName: string): string | null {
  const match = PRINCIPAL_NAME_PATTERN.exec(principalName);
  return match?.[1]?.toLowerCase() ?? null;
}

function normalisePrincipalName(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  // Feide has shown the id both bare and namespaced (`feide:ola@uio.no`) in this claim.
  const bare = value.trim().replace(/^feide:/i, '');
  if (bare.length > MAX_PRINCIPAL_NAME_LENGTH || realmOf(bare) === null) return null;
  return bare.toLowerCase();
}

/** The Feide user id among the claims, or null. A malformed value counts as none rather than failing the sign-in. */
export function principalNameFrom(claims: Readonly<Record<string, unknown>>): string | null {
  for (const name of PRINCIPAL_NAME_CLAIMS) {
    const found = normalisePrincipalName(claims[name]);
    if (found) return found;
  }
  for (const name of SECONDARY_USER_ID_CLAIMS) {
    const ids = claims[name];
    if (!Array.isArray(ids)) continue;
    for (const id of ids) {
      if (typeof id === 'string' && /^feide:/i.test(id)) {
        const found = normalisePrincipalName(id);
        if (found) return found;
      }
    }
  }
  return null;
}

function oneLine(value: unknown, maxLength: number): string | undefined {
  if (typeof value !== 'string') return undefined;
  // Names end up in e-mail headers and pages: no control characters, no line breaks, collapsed blanks.
  const cleaned = value
    .replace(/\p{Cc}/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return cleaned ? cleaned.slice(0, maxLength) : undefined;
}

/** `name`, else given and family name joined. */
export function displayNameFrom(claims: Readonly<Record<string, unknown>>): string | undefined {
  return (
    oneLine(claims.name, MAX_DISPLAY_NAME_LENGTH) ??
    oneLine(
      [claims.given_name, claims.family_name].filter((p) => typeof p === 'string').join(' '),
      MAX_DISPLAY_NAME_LENGTH,
    )
  );
}

/** The `email` claim, lower-cased, when it looks like an address. Verified or not, it is an attribute only. */
export function emailFrom(claims: Readonly<Record<string, unknown>>): string | undefined {
  const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : '';
  return email && email.length <= MAX_EMAIL_LENGTH && EMAIL_PATTERN.test(email) ? email : undefined;
}

/**
 * The identity in a validated sign-in's claims (ID token claims merged with the userinfo response). `iss` and `sub`
 * must be there: the client library has already checked them against the provider and the ID token.
 */
export function identityFromClaims(claims: Readonly<Record<string, unknown>>): SignInIdentity {
  const { iss, sub } = claims;
  if (typeof iss !== 'string' || !iss || typeof sub !== 'string' || !sub) {
    throw new Error('The validated claims lack "iss" or "sub"');
  }
  return {
    issuer: iss,
    subject: sub,
    displayName: displayNameFrom(claims),
    principalName: principalNameFrom(claims),
    email: emailFrom(claims),
  };
}

/** Where a sign-in may send the browser back to: a path on this site (`/kanaler?x=1`), else `/`. */
export function safeReturnTo(raw: unknown): string {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 2000) return '/';
  // Only a single leading slash: `//evil.example` and `/\evil.example` are protocol-relative to browsers.
  if (!raw.startsWith('/') || raw.startsWith('//') || raw.includes('\\')) return '/';
  // Control characters (a tab or newline inside `/\t/evil.example`) are dropped by URL parsers, changing the meaning.
  if (/\p{Cc}/u.test(raw)) return '/';
  const base = 'http://return-to.invalid';
  let parsed: URL;
  try {
    parsed = new URL(raw, base);
  } catch {
    return '/';
  }
  if (parsed.origin !== base) return '/';
  // Back into the sign-in machinery would only loop or fail.
  if (parsed.pathname === '/auth' || parsed.pathname.startsWith('/auth/')) return '/';
  return `${parsed.pathname}${parsed.search}${parsed.hash}`;
}

/**
 * The browser's half of a push subscription (W3C Push API `PushSubscription.toJSON()`): the push service's endpoint
 * and the keys RFC 8291 encrypts for. Checked here once, so the API refuses what could never be sent to (a key of the
 * wrong length would only fail later, in the worker, for every announcement).
 */

/** P-256 public key, uncompressed point (0x04 ‖ X ‖ Y): 65 bytes (RFC 8291 §3.2). */
export const P256DH_BYTES = 65;
/** The authentication secret: 16 bytes (RFC 8291 §3.2). */
export const AUTH_SECRET_BYTES = 16;
/** Long enough for every push service seen (FCM endpoints are about 200 characters), short enough to index. */
export const ENDPOINT_MAX_LENGTH = 2048;

const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

/** The bytes of a base64url string (padding tolerated: some browsers send it), or null when it is not base64url. */
export function decodeBase64url(value: string): Buffer | null {
  if (!BASE64URL.test(value)) return null;
  return Buffer.from(value.replace(/=+$/, ''), 'base64url');
}

/** What is wrong with a p256dh key, or undefined when it is a 65-byte uncompressed point. */
export function p256dhProblem(value: string): string | undefined {
  const bytes = decodeBase64url(value);
  if (!bytes) return 'keys.p256dh must be base64url';
  if (bytes.length !== P256DH_BYTES || bytes[0] !== 0x04) {
    return `keys.p256dh must be an uncompressed P-256 point (${P256DH_BYTES} bytes starting with 0x04)`;
  }
  return undefined;
}

/** What is wrong with an auth secret, or undefined when it is 16 bytes of base64url. */
export function authProblem(value: string): string | undefined {
  const bytes = decodeBase64url(value);
  if (!bytes) return 'keys.auth must be base64url';
  if (bytes.length !== AUTH_SECRET_BYTES) return `keys.auth must be ${AUTH_SECRET_BYTES} bytes`;
  return undefined;
}

/**
 * What is wrong with an endpoint, or undefined. Push services are reached over https only (RFC 8030 §5 requires
 * TLS); no credentials in the address, which would end up in logs.
 */
export function endpointProblem(value: string): string | undefined {
  if (value.length > ENDPOINT_MAX_LENGTH) return `endpoint must be at most ${ENDPOINT_MAX_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'endpoint must be an absolute URL';
  }
  if (url.protocol !== 'https:') return 'endpoint must be an https:// URL';
  if (url.username || url.password) return 'endpoint must not contain credentials';
  return undefined;
}

/** Keys in their canonical form (base64url without padding), as stored. */
export function canonicalKey(value: string): string {
  return decodeBase64url(value)!.toString('base64url');
}

/**
 * Whether the endpoint's host is one of the allowed push services (PUSH_SERVICE_HOSTS) or a subdomain of one. The
 * worker POSTs to whatever endpoint a user registered, so this keeps it from being pointed at internal hosts.
 */
export function isAllowedPushHost(endpoint: string, allowedHosts: readonly string[]): boolean {
  let host: string;
  try {
    host = new URL(endpoint).hostname.toLowerCase().replace(/^\[|\]$/g, '');
  } catch {
    return false;
  }
  return allowedHosts.some((allowed) => host === allowed || host.endsWith(`.${allowed}`));
}

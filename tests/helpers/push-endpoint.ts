/**
 * A local web push service (RFC 8030) for tests: an HTTPS server on 127.0.0.1 that does what a real push service does
 * with a message, with real cryptography and no mock of `web-push`:
 *
 * - checks the VAPID `Authorization: vapid t=<JWT>, k=<public key>` header (RFC 8292): the JWT's ES256 signature with
 *   the key in `k`, that `k` is the application server key the subscription was made for, and the claims (`aud` is
 *   this service's origin, `exp` within 24 hours, `sub` present). A bad one is answered 403, as push services do.
 * - decrypts the aes128gcm body (RFC 8188 record, RFC 8291 key derivation) with the private key and auth secret of the
 *   "browser" that `createSubscription()` made (node:crypto ECDH on P-256 and HKDF-SHA-256).
 * - keeps what arrived (headers, TTL, Urgency, Topic, the decrypted payload) and answers 201, or what the test asked
 *   for (404, 410, 429 with Retry-After, 5xx) for a given subscription.
 *
 * `web-push` sends over HTTPS only (it calls https.request whatever the URL says), so the server has a certificate
 * made for this run with the openssl command line (self-signed, for 127.0.0.1). `agent` is an https.Agent that
 * trusts exactly that certificate; tests give it to the push sender (`createPushSender({ agent })`, `startWorkers({
 * pushAgent })`). Nothing else in the process trusts it.
 */
import { execFileSync } from 'node:child_process';
import {
  createDecipheriv,
  createECDH,
  createPublicKey,
  type ECDH,
  hkdfSync,
  randomBytes,
  randomUUID,
  verify,
} from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait.js';

export interface BrowserSubscription {
  endpoint: string;
  expirationTime: null;
  keys: { p256dh: string; auth: string };
}

export interface ReceivedPush {
  /** The subscription's endpoint the message was sent to. */
  endpoint: string;
  /** What this service answered. */
  status: number;
  headers: Record<string, string | string[] | undefined>;
  ttl: number;
  urgency: string | undefined;
  topic: string | undefined;
  /** The VAPID JWT's claims (checked before anything else). */
  vapid: { aud: string; sub: string; exp: number };
  /** The decrypted payload, or null when the answer was chosen before decrypting (a queued error status). */
  plaintext: string | null;
}

export interface TestPushEndpoint {
  /** `https://127.0.0.1:<port>` */
  origin: string;
  /** Trusts this service's self-signed certificate (and nothing else beyond Node's defaults). */
  agent: Agent;
  /** Messages received so far, in arrival order (refused ones too, with their status). */
  readonly received: ReceivedPush[];
  /** Messages refused 403 because their VAPID header did not check out, with the reason. */
  readonly refused: { endpoint: string; reason: string }[];
  /** A new "browser": a subscription at this service with fresh P-256 keys and auth secret. */
  createSubscription(): BrowserSubscription;
  /**
   * Answers the next messages for this subscription with these statuses, in order (then 201 again). 429 and 503 carry
   * `Retry-After: <retryAfterSeconds>` when given.
   */
  respondWith(endpoint: string, statuses: number[], options?: { retryAfterSeconds?: number }): void;
  /** Messages that reached this subscription, accepted or not. */
  receivedBy(endpoint: string): ReceivedPush[];
  /** Waits until at least `count` messages have arrived. */
  waitForMessages(count: number, what?: string): Promise<ReceivedPush[]>;
  close(): Promise<void>;
}

interface Browser {
  ecdh: ECDH;
  publicKey: Buffer;
  auth: Buffer;
  pending: { status: number; retryAfterSeconds?: number }[];
}

/** A self-signed certificate and key for 127.0.0.1, made with the openssl command line (in a temporary directory). */
function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'push-endpoint-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'pipe' },
    );
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The P-256 public key of a raw uncompressed point, as a KeyObject. */
function p256PublicKey(point: Buffer) {
  if (point.length !== 65 || point[0] !== 0x04) throw new Error('not an uncompressed P-256 point');
  return createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33, 65).toString('base64url'),
    },
    format: 'jwk',
  });
}

/**
 * RFC 8292 §3: `vapid t=<JWT>, k=<key>`. Verifies the ES256 signature with `k` and returns the claims; throws with a
 * reason when anything is off.
 */
export function verifyVapid(
  authorization: string | undefined,
  options: { expectedPublicKey: string; audience: string; now: number },
): { aud: string; sub: string; exp: number } {
  const match = /^vapid t=([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+), k=([A-Za-z0-9_-]+)$/.exec(
    authorization ?? '',
  );
  if (!match) throw new Error(`not a VAPID Authorization header: ${authorization}`);
  const [, token, key] = match as unknown as [string, string, string];
  if (key !== options.expectedPublicKey) throw new Error('k is not the application server key of the subscription');
  const [header, claims, signature] = token.split('.') as [string, string, string];
  const headerJson = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
  if (headerJson.alg !== 'ES256') throw new Error(`JWT alg is ${headerJson.alg}, not ES256`);
  const valid = verify(
    'sha256',
    Buffer.from(`${header}.${claims}`),
    { key: p256PublicKey(Buffer.from(key, 'base64url')), dsaEncoding: 'ieee-p1363' },
    Buffer.from(signature, 'base64url'),
  );
  if (!valid) throw new Error('JWT signature does not verify with k');
  const body = JSON.parse(Buffer.from(claims, 'base64url').toString('utf8'));
  if (body.aud !== options.audience) throw new Error(`aud is ${body.aud}, not ${options.audience}`);
  const nowSeconds = Math.floor(options.now / 1000);
  if (typeof body.exp !== 'number' || body.exp <= nowSeconds || body.exp > nowSeconds + 24 * 3600) {
    throw new Error(`exp ${body.exp} is not within the next 24 hours`);
  }
  if (typeof body.sub !== 'string' || !/^(mailto:|https:)/.test(body.sub)) throw new Error('sub is missing');
  return { aud: body.aud, sub: body.sub, exp: body.exp };
}

/**
 * Decrypts an aes128gcm message body (RFC 8188 §2 framing; RFC 8291 §3.3–3.4 keys) for the browser with ECDH key
 * `ecdh` and `auth` secret. Returns the plaintext without its padding delimiter.
 */
export function decryptAes128gcm(body: Buffer, browser: { ecdh: ECDH; publicKey: Buffer; auth: Buffer }): Buffer {
  // Header: salt (16) ‖ rs (uint32) ‖ idlen (1) ‖ keyid (idlen) — the keyid is the sender's ephemeral public key.
  const salt = body.subarray(0, 16);
  const recordSize = body.readUInt32BE(16);
  const idLength = body[20]!;
  const senderPublicKey = body.subarray(21, 21 + idLength);
  const records = body.subarray(21 + idLength);
  if (idLength !== 65) throw new Error(`keyid is ${idLength} bytes, not a P-256 point`);
  if (records.length > recordSize) throw new Error('more than one record (web-push sends one)');

  const ecdhSecret = browser.ecdh.computeSecret(senderPublicKey);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), browser.publicKey, senderPublicKey]);
  const ikm = Buffer.from(hkdfSync('sha256', ecdhSecret, browser.auth, keyInfo, 32));
  const contentKey = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));

  const decipher = createDecipheriv('aes-128-gcm', contentKey, nonce);
  decipher.setAuthTag(records.subarray(records.length - 16));
  const padded = Buffer.concat([decipher.update(records.subarray(0, records.length - 16)), decipher.final()]);
  // The last record ends with the delimiter 0x02 followed by zero padding (RFC 8188 §2).
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end -= 1;
  if (padded[end] !== 0x02) throw new Error('no last-record delimiter');
  return padded.subarray(0, end);
}

export async function startPushEndpoint(options: { vapidPublicKey: string }): Promise<TestPushEndpoint> {
  const { key, cert } = selfSignedCertificate();
  const browsers = new Map<string, Browser>();
  const received: ReceivedPush[] = [];
  const refused: { endpoint: string; reason: string }[] = [];
  let origin = '';

  const server: Server = createServer({ key, cert }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const endpoint = `${origin}${request.url}`;
      const browser = browsers.get(endpoint);
      const answer = (status: number, headers: Record<string, string> = {}) => {
        response.writeHead(status, headers);
        response.end();
      };
      if (request.method !== 'POST' || !browser) return answer(404);
      let vapid: ReceivedPush['vapid'];
      try {
        vapid = verifyVapid(request.headers.authorization, {
          expectedPublicKey: options.vapidPublicKey,
          audience: origin,
          now: Date.now(),
        });
      } catch (error) {
        refused.push({ endpoint, reason: (error as Error).message });
        response.writeHead(403, { 'content-type': 'text/plain' });
        return response.end(String((error as Error).message));
      }
      const record = {
        endpoint,
        headers: request.headers,
        ttl: Number(request.headers.ttl),
        urgency: request.headers.urgency as string | undefined,
        topic: request.headers.topic as string | undefined,
        vapid,
      };
      const planned = browser.pending.shift();
      if (planned) {
        received.push({ ...record, status: planned.status, plaintext: null });
        const retryAfter: Record<string, string> =
          planned.retryAfterSeconds !== undefined ? { 'retry-after': String(planned.retryAfterSeconds) } : {};
        return answer(planned.status, retryAfter);
      }
      if (request.headers['content-encoding'] !== 'aes128gcm') {
        received.push({ ...record, status: 400, plaintext: null });
        return answer(400);
      }
      let plaintext: string;
      try {
        plaintext = decryptAes128gcm(Buffer.concat(chunks), browser).toString('utf8');
      } catch {
        received.push({ ...record, status: 400, plaintext: null });
        return answer(400);
      }
      received.push({ ...record, status: 201, plaintext });
      answer(201, { location: `${endpoint}/messages/${randomUUID()}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agent = new Agent({ ca: cert, keepAlive: false });

  return {
    origin,
    agent,
    received,
    refused,
    createSubscription() {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const browser: Browser = { ecdh, publicKey: ecdh.getPublicKey(), auth: randomBytes(16), pending: [] };
      const endpoint = `${origin}/push/${randomUUID()}`;
      browsers.set(endpoint, browser);
      return {
        endpoint,
        expirationTime: null,
        keys: { p256dh: browser.publicKey.toString('base64url'), auth: browser.auth.toString('base64url') },
      };
    },
    respondWith(endpoint, statuses, { retryAfterSeconds } = {}) {
      const browser = browsers.get(endpoint);
      if (!browser) throw new Error(`no subscription ${endpoint}`);
      browser.pending.push(
        ...statuses.map((status) => ({
          status,
          ...(retryAfterSeconds !== undefined && (status === 429 || status === 503) ? { retryAfterSeconds } : {}),
        })),
      );
    },
    receivedBy(endpoint) {
      return received.filter((message) => message.endpoint === endpoint);
    },
    waitForMessages(count, what = `${count} push messages`) {
      return waitFor(() => received.length >= count && received, { what });
    },
    async close() {
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

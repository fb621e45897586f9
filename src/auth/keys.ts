/**
 * RSA signing keys made in-process (the development OpenID provider; the tests' hand-made provider).
 *
 * Why not simply `generateKeyPairSync('rsa')` and `key.export({ format: 'jwk' })`: on Node 20 that can deadlock the
 * process for good. The key-generation job object shares the key's mutex; when the garbage collector finalises that
 * job while the same key is being exported to JWK (the export holds the mutex and allocates, which can trigger the
 * collection), the job's destructor waits for the mutex forever. Seen here as a test worker hung in `futex_wait` with
 * `~KeyGenJob` under `ExportJWK` on its stack. Asking the job for PEM (encoded while the job is still alive) and
 * building fresh, independent KeyObjects from it leaves nothing shared for the collector to trip over.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

export interface RsaKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function generateRsaKeyPair(modulusLength = 2048): RsaKeyPair {
  const pem = generateKeyPairSync('rsa', {
    modulusLength,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKey: createPrivateKey(pem.privateKey), publicKey: createPublicKey(pem.publicKey) };
}

/**
 * Web push configuration: the three VAPID settings are all-or-none and must be a matching pair; PUSH_SERVICE_HOSTS;
 * and `npm run cli -- vapid-keys`, whose output (run as a separate process, without a database) is a pair the
 * configuration accepts.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import { generateVapidKeys } from '../../src/push/sender.js';

const keys = generateVapidKeys();
const vapid = {
  VAPID_PUBLIC_KEY: keys.publicKey,
  VAPID_PRIVATE_KEY: keys.privateKey,
  VAPID_SUBJECT: 'mailto:drift@uio.no',
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return [...error.problems];
  }
}

describe('VAPID settings', () => {
  it('push is off without them, on with all three', () => {
    expect(loadConfig({}).push.vapid).toBeUndefined();
    expect(loadConfig(vapid).push).toMatchObject({
      vapid: { publicKey: keys.publicKey, privateKey: keys.privateKey, subject: 'mailto:drift@uio.no' },
      maxAttempts: 8,
      concurrency: 4,
      subscriptionMaxAgeDays: 90,
      serviceHosts: ['fcm.googleapis.com', 'push.services.mozilla.com', 'push.apple.com', 'notify.windows.com'],
    });
    expect(loadConfig({ ...vapid, VAPID_SUBJECT: 'https://meldingskanal.uio.no/kontakt' }).push.vapid?.subject).toBe(
      'https://meldingskanal.uio.no/kontakt',
    );
  });

  it('refuses some but not all of them, naming the missing ones', () => {
    expect(problemsOf({ VAPID_PUBLIC_KEY: keys.publicKey })).toEqual([
      'VAPID_PRIVATE_KEY, VAPID_SUBJECT must be set too: web push needs all three VAPID settings, or none of them',
    ]);
    expect(problemsOf({ ...vapid, VAPID_SUBJECT: ' ' })).toEqual([
      'VAPID_SUBJECT must be set too: web push needs all three VAPID settings, or none of them',
    ]);
  });

  it('refuses a public key that is not the private key’s', () => {
    const other = generateVapidKeys();
    expect(problemsOf({ ...vapid, VAPID_PUBLIC_KEY: other.publicKey })).toEqual([
      'VAPID_PUBLIC_KEY is not the public key of VAPID_PRIVATE_KEY (make a pair: npm run cli -- vapid-keys)',
    ]);
  });

  it('refuses malformed keys and subjects', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ VAPID_PUBLIC_KEY: keys.publicKey.slice(0, 40) }, /^VAPID_PUBLIC_KEY must be 65 bytes/],
      [{ VAPID_PUBLIC_KEY: `A${keys.publicKey.slice(1)}` }, /^VAPID_PUBLIC_KEY must be an uncompressed P-256 point/],
      [{ VAPID_PUBLIC_KEY: keys.publicKey.replace(/.$/, '+') }, /^VAPID_PUBLIC_KEY must be base64url/],
      [{ VAPID_PRIVATE_KEY: `${keys.privateKey}AAAA` }, /^VAPID_PRIVATE_KEY must be 32 bytes/],
      [{ VAPID_SUBJECT: 'drift@uio.no' }, /^VAPID_SUBJECT must be a mailto: address or an https:\/\/ URL/],
      [{ VAPID_SUBJECT: 'http://uio.no' }, /^VAPID_SUBJECT must be a mailto: address or an https:\/\/ URL/],
      [{ VAPID_SUBJECT: 'mailto:nobody' }, /^VAPID_SUBJECT must be a mailto: address or an https:\/\/ URL/],
    ];
    for (const [override, message] of cases) {
      const problems = problemsOf({ ...vapid, ...override });
      expect(
        problems.some((p) => message.test(p)),
        `${JSON.stringify(override)}: ${problems.join(' | ')}`,
      ).toBe(true);
    }
  });

  it('never shows the private key in the README table (it is a secret without default)', async () => {
    const { configTableMarkdown } = await import('../../src/config.js');
    expect(configTableMarkdown()).toContain('| `VAPID_PRIVATE_KEY` | _(secret, no default)_ |');
  });
});

describe('PUSH_SERVICE_HOSTS and the other push settings', () => {
  it('takes host names and addresses, lower-cased', () => {
    expect(loadConfig({ PUSH_SERVICE_HOSTS: 'FCM.googleapis.com, 127.0.0.1,,::1' }).push.serviceHosts).toEqual([
      'fcm.googleapis.com',
      '127.0.0.1',
      '::1',
    ]);
    expect(problemsOf({ PUSH_SERVICE_HOSTS: 'https://fcm.googleapis.com' })).toEqual([
      'PUSH_SERVICE_HOSTS has "https://fcm.googleapis.com", which is not a host name',
    ]);
    expect(problemsOf({ PUSH_MAX_ATTEMPTS: '0', PUSH_SUBSCRIPTION_MAX_AGE_DAYS: 'x' })).toHaveLength(2);
  });
});

describe('npm run cli -- vapid-keys', () => {
  it('prints a fresh pair the configuration accepts, without needing a database or configuration', async () => {
    const run = () =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', join(PROJECT_ROOT, 'src/cli/main.ts'), 'vapid-keys'],
          // A DATABASE_URL no database answers and an invalid setting: the command must touch neither.
          {
            cwd: PROJECT_ROOT,
            env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATABASE_URL: 'x', PORT: 'y' },
            timeout: 20_000,
          },
          (error, stdout, stderr) => {
            if (error && typeof error.code !== 'number') return reject(error);
            resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
          },
        );
      });
    const [first, second] = await Promise.all([run(), run()]);
    expect(first.code, first.stderr).toBe(0);
    const lines = first.stdout.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^VAPID_PUBLIC_KEY=[\w-]{87}$/),
      expect.stringMatching(/^VAPID_PRIVATE_KEY=[\w-]{43}$/),
    ]);
    const env = Object.fromEntries(lines.map((line) => line.split('=') as [string, string]));
    expect(loadConfig({ ...env, VAPID_SUBJECT: 'mailto:drift@uio.no' }).push.vapid?.publicKey).toBe(
      env.VAPID_PUBLIC_KEY,
    );
    expect(second.stdout).not.toBe(first.stdout);
  });
});

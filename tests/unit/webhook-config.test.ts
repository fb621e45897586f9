/** The webhook settings (src/config.ts): defaults and the allowlist's entries. */
import { describe, expect, it } from 'vitest';
import { type ConfigError, loadConfig } from '../../src/config.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    return (error as ConfigError).problems ? [...(error as ConfigError).problems] : [String(error)];
  }
}

describe('webhook settings', () => {
  it('have defaults: no allowlist, 10 s, 8 attempts, 10 failures', () => {
    expect(loadConfig({}).webhooks).toEqual({ allowedHosts: [], timeoutMs: 10_000, maxAttempts: 8, maxFailures: 10 });
  });

  it('take host names, addresses and CIDRs in WEBHOOK_ALLOWED_HOSTS', () => {
    expect(
      loadConfig({ WEBHOOK_ALLOWED_HOSTS: ' hooks.intern.uio.no, 10.20.0.0/16 ,::1,, fd00::/8' }).webhooks.allowedHosts,
    ).toEqual(['hooks.intern.uio.no', '10.20.0.0/16', '::1', 'fd00::/8']);
  });

  it('refuse an allowlist entry that is none of these, naming it', () => {
    expect(problemsOf({ WEBHOOK_ALLOWED_HOSTS: 'ok.example,10.0.0.0/40' })).toEqual([
      'WEBHOOK_ALLOWED_HOSTS has an unusable entry: "10.0.0.0/40" has an invalid prefix length',
    ]);
    expect(problemsOf({ WEBHOOK_ALLOWED_HOSTS: 'http://x.example' })[0]).toMatch(
      /^WEBHOOK_ALLOWED_HOSTS has an unusable entry: "http:\/\/x\.example" is neither a host name, an IP address nor a CIDR$/,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const trustProxy = (value: string | undefined) => loadConfig({ TRUST_PROXY: value }).http.trustProxy;

function problemFor(value: string): string {
  try {
    loadConfig({ TRUST_PROXY: value });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.join('\n');
    throw error;
  }
  throw new Error(`TRUST_PROXY=${value} was accepted`);
}

describe('TRUST_PROXY', () => {
  it('trusts nobody by default: the socket address is the client', () => {
    expect(trustProxy(undefined)).toBe(false);
    expect(trustProxy('false')).toBe(false);
  });

  it('takes true, or a list of proxy addresses, CIDRs and proxy-addr range names', () => {
    expect(trustProxy('true')).toBe(true);
    expect(trustProxy('10.0.0.0/8, 127.0.0.1,::1,fd00::/8,loopback')).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
      '::1',
      'fd00::/8',
      'loopback',
    ]);
  });

  it('refuses a hop count, which cannot tell a proxy from a client, with a message saying what to do', () => {
    expect(problemFor('1')).toMatch(/TRUST_PROXY must list the proxies' addresses or CIDRs, not a hop count/);
  });

  it.each(['proxy.example.org', '10.0.0.0/33', '::1/129', '10.0.0.1/8/2', '10.0.0.1,', 'anywhere'])(
    'refuses %s',
    (value) => {
      expect(problemFor(value)).toMatch(/^TRUST_PROXY must be false, true, or a comma-separated list/);
    },
  );
});

/**
 * The webhook address rules (src/webhooks/addresses.ts): every special-purpose range at its edges, the IPv6 forms that
 * embed IPv4, the allowlist, and — as a property — agreement with node:net's BlockList over random addresses.
 */
import { BlockList, isIPv4 } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  classifyAddress,
  EMPTY_ALLOWLIST,
  embeddedIPv4,
  judgeAddress,
  parseAllowlist,
  parseIPv6,
} from '../../src/webhooks/addresses.js';

describe('classifyAddress: IPv4', () => {
  it.each([
    ['0.0.0.0', 'unspecified'],
    ['0.255.255.255', 'unspecified'],
    ['1.0.0.0', 'public'],
    ['9.255.255.255', 'public'],
    ['10.0.0.0', 'private'],
    ['10.255.255.255', 'private'],
    ['11.0.0.0', 'public'],
    ['100.63.255.255', 'public'],
    ['100.64.0.0', 'shared'],
    ['100.127.255.255', 'shared'],
    ['100.128.0.0', 'public'],
    ['126.255.255.255', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['128.0.0.0', 'public'],
    ['169.253.255.255', 'public'],
    ['169.254.0.0', 'link_local'],
    ['169.254.169.254', 'link_local'],
    ['169.255.0.0', 'public'],
    ['172.15.255.255', 'public'],
    ['172.16.0.0', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.0', 'public'],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.1', 'documentation'],
    ['192.88.99.1', 'reserved'],
    ['192.167.255.255', 'public'],
    ['192.168.0.0', 'private'],
    ['192.168.255.255', 'private'],
    ['192.169.0.0', 'public'],
    ['198.17.255.255', 'public'],
    ['198.18.0.0', 'reserved'],
    ['198.19.255.255', 'reserved'],
    ['198.20.0.0', 'public'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['223.255.255.255', 'public'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.255', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['8.8.8.8', 'public'],
    ['129.240.118.130', 'public'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });
});

describe('classifyAddress: IPv6', () => {
  it.each([
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::2', 'tunnel'],
    ['::127.0.0.1', 'tunnel'],
    // IPv4-mapped: judged by the IPv4 address, in every spelling.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['0:0:0:0:0:ffff:7f00:0001', 'loopback'],
    ['::FFFF:10.1.2.3', 'private'],
    ['::ffff:169.254.169.254', 'link_local'],
    ['::ffff:0.0.0.0', 'unspecified'],
    ['::ffff:8.8.8.8', 'public'],
    // NAT64 (well-known prefix) and 6to4 reach the embedded IPv4 address.
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['64:ff9b::8.8.8.8', 'public'],
    ['64:ff9b:1::1', 'tunnel'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:c0a8:101::1', 'private'],
    ['2002:808:808::1', 'public'],
    ['2001::1', 'tunnel'],
    ['2001:0:4136:e378::1', 'tunnel'],
    ['2001:db8::1', 'documentation'],
    ['100::1', 'reserved'],
    ['fc00::1', 'unique_local'],
    ['fd12:3456:789a::1', 'unique_local'],
    ['fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'unique_local'],
    ['fe80::1', 'link_local'],
    ['fe80::1%eth0', 'link_local'],
    ['febf:ffff::1', 'link_local'],
    ['fec0::1', 'reserved'],
    ['ff02::1', 'multicast'],
    ['ff05::1:3', 'multicast'],
    ['2001:4860:4860::8888', 'public'],
    ['2a00:1450:400f:80d::200e', 'public'],
    ['2001:700:100::1', 'public'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  it('calls anything that is not an IP address invalid', () => {
    for (const text of ['', 'localhost', '127.1', '1.2.3.4.5', '::g', '256.0.0.1', ' 1.2.3.4']) {
      expect(classifyAddress(text), text).toBe('invalid');
    }
  });

  it('reads every spelling of an IPv6 address to the same value', () => {
    expect(parseIPv6('2001:db8::1')).toBe(parseIPv6('2001:0db8:0000:0000:0000:0000:0000:0001'));
    expect(parseIPv6('::ffff:1.2.3.4')).toBe(parseIPv6('::ffff:102:304'));
    expect(parseIPv6('1::')).toBe(1n << 112n);
    expect(parseIPv6('1.2.3.4')).toBeNull();
  });

  it('finds the IPv4 address inside mapped, NAT64 and 6to4 addresses only', () => {
    expect(embeddedIPv4('::ffff:192.168.1.1')).toBe('192.168.1.1');
    expect(embeddedIPv4('64:ff9b::c0a8:101')).toBe('192.168.1.1');
    expect(embeddedIPv4('2002:c0a8:101:5::9')).toBe('192.168.1.1');
    expect(embeddedIPv4('2001:db8::c0a8:101')).toBeNull();
    expect(embeddedIPv4('192.168.1.1')).toBeNull();
  });
});

describe('classifyAddress agrees with node:net BlockList', () => {
  const refusedV4 = new BlockList();
  for (const [base, bits] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.0.2.0', 24],
    ['192.88.99.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['198.51.100.0', 24],
    ['203.0.113.0', 24],
    ['224.0.0.0', 3],
  ] as const) {
    refusedV4.addSubnet(base, bits, 'ipv4');
  }
  const refusedV6 = new BlockList();
  for (const [base, bits] of [
    ['::', 96],
    ['64:ff9b:1::', 48],
    ['100::', 64],
    ['2001::', 32],
    ['2001:db8::', 32],
    ['fc00::', 7],
    ['fe80::', 10],
    ['fec0::', 10],
    ['ff00::', 8],
  ] as const) {
    refusedV6.addSubnet(base, bits, 'ipv6');
  }

  it('on random IPv4 addresses', () => {
    fc.assert(
      fc.property(fc.ipV4(), (address) => {
        expect(classifyAddress(address) !== 'public').toBe(refusedV4.check(address, 'ipv4'));
      }),
      { numRuns: 5000 },
    );
  });

  it('on random IPv6 addresses outside the IPv4-embedding forms', () => {
    fc.assert(
      fc.property(fc.ipV6(), (address) => {
        fc.pre(isIPv4(address) === false && embeddedIPv4(address) === null);
        expect(classifyAddress(address) !== 'public').toBe(refusedV6.check(address, 'ipv6'));
      }),
      { numRuns: 5000 },
    );
  });

  it('on IPv4-mapped IPv6 addresses, judged as their IPv4 address', () => {
    fc.assert(
      fc.property(fc.ipV4(), (address) => {
        expect(classifyAddress(`::ffff:${address}`)).toBe(classifyAddress(address));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('allowlist', () => {
  it('allows listed host names whatever they resolve to, and listed ranges', () => {
    const allowlist = parseAllowlist(['Hooks.Intern.UiO.no.', '10.20.0.0/16', '127.0.0.1', 'fd00::/8']);
    expect(judgeAddress(allowlist, 'hooks.intern.uio.no', '10.9.9.9')).toEqual({ allowed: true });
    expect(judgeAddress(allowlist, 'other.example', '10.20.3.4')).toEqual({ allowed: true });
    expect(judgeAddress(allowlist, 'other.example', '10.21.0.1')).toEqual({
      allowed: false,
      address: '10.21.0.1',
      kind: 'private',
    });
    expect(judgeAddress(allowlist, '127.0.0.1', '127.0.0.1')).toEqual({ allowed: true });
    expect(judgeAddress(allowlist, 'x.example', '127.0.0.2')).toMatchObject({ allowed: false, kind: 'loopback' });
    // A mapped address is compared as its IPv4 address.
    expect(judgeAddress(allowlist, 'x.example', '::ffff:10.20.0.1')).toEqual({ allowed: true });
    expect(judgeAddress(allowlist, 'x.example', 'fd12::1')).toEqual({ allowed: true });
    expect(judgeAddress(allowlist, 'x.example', 'fe80::1')).toMatchObject({ allowed: false, kind: 'link_local' });
  });

  it('allows public addresses and refuses internal ones without an allowlist', () => {
    expect(judgeAddress(EMPTY_ALLOWLIST, 'example.org', '93.184.215.14')).toEqual({ allowed: true });
    expect(judgeAddress(EMPTY_ALLOWLIST, 'localhost', '::1')).toMatchObject({ allowed: false, kind: 'loopback' });
  });

  it('takes a mapped IPv6 entry as its IPv4 range', () => {
    const allowlist = parseAllowlist(['::ffff:192.168.0.0/112']);
    expect(judgeAddress(allowlist, 'x', '192.168.7.7')).toEqual({ allowed: true });
    expect(judgeAddress(allowlist, 'x', '192.169.0.1')).toEqual({ allowed: true }); // public anyway
    expect(judgeAddress(allowlist, 'x', '10.0.0.1')).toMatchObject({ allowed: false });
  });

  it('refuses entries that are none of host name, address or CIDR', () => {
    for (const entry of ['10.0.0.0/33', 'fd00::/129', 'host name', 'a/b', '10.0.0.0/8/1', 'under_score.example']) {
      expect(() => parseAllowlist([entry]), entry).toThrow(/host name|prefix length/);
    }
    expect(parseAllowlist([' ', ''])).toEqual({ hosts: new Set(), cidrs: [] });
  });
});

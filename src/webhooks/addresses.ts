/**
 * Which network addresses a webhook may be sent to. Webhook URLs are typed by channel owners, so without this rule
 * anyone who owns a channel could make the worker call internal services (metadata endpoints, databases, admin
 * consoles) — server-side request forgery. Pure: the HTTP client (http-client.ts) applies it to EVERY address a host
 * name resolves to, at connect time, and registration applies it too (to refuse early with a clear reason).
 *
 * Refused: anything not globally routable — loopback, private (RFC 1918), shared address space (CGNAT), link-local,
 * unique-local, multicast, unspecified, reserved, documentation and benchmarking ranges. Addresses that embed an IPv4
 * address (IPv4-mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by that IPv4 address, so
 * `[::ffff:127.0.0.1]` is loopback. Teredo and the deprecated IPv4-compatible and site-local forms are refused
 * outright: nobody needs them for a webhook, and they hide the address actually reached.
 *
 * An explicit allowlist (WEBHOOK_ALLOWED_HOSTS) lets an operator permit internal hosts by name or by CIDR.
 */
import { isIP } from 'node:net';

export type AddressClass =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'shared' // 100.64.0.0/10, carrier-grade NAT
  | 'link_local'
  | 'unique_local'
  | 'multicast'
  | 'reserved'
  | 'documentation'
  | 'tunnel'
  | 'invalid';

interface Range {
  base: bigint;
  bits: number;
  kind: Exclude<AddressClass, 'public' | 'invalid'>;
}

function v4(text: string): bigint {
  return BigInt(text.split('.').reduce((n, part) => n * 256 + Number(part), 0));
}

/** IPv4 ranges that are not globally reachable (IANA special-purpose registry), most specific first where nested. */
const IPV4_RANGES: readonly Range[] = (
  [
    ['0.0.0.0', 8, 'unspecified'], // "this network"; 0.0.0.0 itself reaches the local host on most systems
    ['10.0.0.0', 8, 'private'],
    ['100.64.0.0', 10, 'shared'],
    ['127.0.0.0', 8, 'loopback'],
    ['169.254.0.0', 16, 'link_local'], // includes 169.254.169.254, the cloud metadata service
    ['172.16.0.0', 12, 'private'],
    ['192.0.0.0', 24, 'reserved'], // IETF protocol assignments
    ['192.0.2.0', 24, 'documentation'],
    ['192.88.99.0', 24, 'reserved'], // former 6to4 relay anycast
    ['192.168.0.0', 16, 'private'],
    ['198.18.0.0', 15, 'reserved'], // benchmarking
    ['198.51.100.0', 24, 'documentation'],
    ['203.0.113.0', 24, 'documentation'],
    ['224.0.0.0', 4, 'multicast'],
    ['240.0.0.0', 4, 'reserved'], // includes 255.255.255.255, broadcast
  ] as const
).map(([base, bits, kind]) => ({ base: v4(base), bits, kind }));

/** IPv6 ranges refused as such (the ones that embed IPv4 are handled before these). */
const IPV6_RANGES: readonly Range[] = (
  [
    ['::', 128, 'unspecified'],
    ['::1', 128, 'loopback'],
    ['::', 96, 'tunnel'], // deprecated IPv4-compatible addresses (::a.b.c.d)
    ['64:ff9b:1::', 48, 'tunnel'], // local-use NAT64: translates into private networks
    ['100::', 64, 'reserved'], // discard-only
    ['2001::', 32, 'tunnel'], // Teredo: the IPv4 address reached is obfuscated inside
    ['2001:db8::', 32, 'documentation'],
    ['fc00::', 7, 'unique_local'],
    ['fe80::', 10, 'link_local'],
    ['fec0::', 10, 'reserved'], // deprecated site-local
    ['ff00::', 8, 'multicast'],
  ] as const
).map(([base, bits, kind]) => ({ base: parseIPv6(base)!, bits, kind }));

function inRange(value: bigint, width: 32 | 128, range: Range): boolean {
  const shift = BigInt(width - range.bits);
  return value >> shift === range.base >> shift;
}

/** The 128-bit value of an IPv6 address (with an optional trailing dotted quad), or null when it is not one. */
export function parseIPv6(text: string): bigint | null {
  if (isIP(text) !== 6) return null;
  let address = text.toLowerCase();
  // A zone index (fe80::1%eth0) names an interface, not part of the address.
  const zone = address.indexOf('%');
  if (zone >= 0) address = address.slice(0, zone);
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (dotted) {
    const n = v4(dotted[1]!);
    address = `${address.slice(0, dotted.index)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const headParts = head ? head.split(':') : [];
  const tailParts = tail ? tail.split(':') : [];
  const missing = 8 - headParts.length - tailParts.length;
  const parts = tail === undefined ? headParts : [...headParts, ...Array(missing).fill('0'), ...tailParts];
  if (parts.length !== 8) return null;
  return parts.reduce((n, part) => (n << 16n) | BigInt(Number.parseInt(part || '0', 16)), 0n);
}

function v4Text(n: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((n >> shift) & 0xffn)).join('.');
}

/**
 * The IPv4 address an IPv6 address stands for, when it embeds one a connection really reaches: IPv4-mapped
 * (::ffff:0:0/96), NAT64's well-known prefix (64:ff9b::/96) and 6to4 (2002::/16, the IPv4 address in bits 16–47).
 */
export function embeddedIPv4(address: string): string | null {
  const n = parseIPv6(address);
  if (n === null) return null;
  if (n >> 32n === 0xffffn) return v4Text(n & 0xffffffffn);
  if (n >> 32n === parseIPv6('64:ff9b::')! >> 32n) return v4Text(n & 0xffffffffn);
  if (n >> 112n === 0x2002n) return v4Text((n >> 80n) & 0xffffffffn);
  return null;
}

/** What kind of address this is (an IP address in text form, as DNS or a URL gives it). */
export function classifyAddress(address: string): AddressClass {
  const family = isIP(address);
  if (family === 4) {
    const n = v4(address);
    return IPV4_RANGES.find((range) => inRange(n, 32, range))?.kind ?? 'public';
  }
  if (family === 6) {
    const embedded = embeddedIPv4(address);
    if (embedded) return classifyAddress(embedded);
    const n = parseIPv6(address);
    if (n === null) return 'invalid';
    return IPV6_RANGES.find((range) => inRange(n, 128, range))?.kind ?? 'public';
  }
  return 'invalid';
}

/** Words for the reasons, in refusals people read (API errors, a webhook's lastError). */
export const ADDRESS_CLASS_TEXT: Record<Exclude<AddressClass, 'public'>, string> = {
  unspecified: 'an unspecified address',
  loopback: 'a loopback address',
  private: 'a private network address',
  shared: 'a shared (carrier-grade NAT) address',
  link_local: 'a link-local address',
  unique_local: 'a unique-local address',
  multicast: 'a multicast address',
  reserved: 'a reserved address',
  documentation: 'a documentation address',
  tunnel: 'a tunnelled or deprecated IPv6 form',
  invalid: 'not an IP address',
};

interface Cidr {
  family: 4 | 6;
  base: bigint;
  bits: number;
}

/** WEBHOOK_ALLOWED_HOSTS, parsed: host names allowed whatever they resolve to, and address ranges allowed. */
export interface AddressAllowlist {
  hosts: ReadonlySet<string>;
  cidrs: readonly Cidr[];
}

export const EMPTY_ALLOWLIST: AddressAllowlist = { hosts: new Set(), cidrs: [] };

const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Normalised host name: lower case, no trailing dot, no IPv6 brackets. */
export function normaliseHost(host: string): string {
  return host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
}

/**
 * Parses allowlist entries: host names (`hooks.internal.uio.no`), addresses (`10.1.2.3`, `::1`) and CIDRs
 * (`10.20.0.0/16`, `fd00::/8`). Throws an Error naming the first entry that is none of these.
 */
export function parseAllowlist(entries: readonly string[]): AddressAllowlist {
  const hosts = new Set<string>();
  const cidrs: Cidr[] = [];
  for (const raw of entries) {
    const entry = normaliseHost(raw.trim());
    if (!entry) continue;
    const [address, bitsText, extra] = entry.split('/');
    const family = isIP(address ?? '');
    if (family === 0) {
      if (bitsText !== undefined || !HOST_NAME.test(entry)) {
        throw new Error(`"${raw.trim()}" is neither a host name, an IP address nor a CIDR`);
      }
      hosts.add(entry);
      continue;
    }
    const width = family === 4 ? 32 : 128;
    const bits = bitsText === undefined ? width : Number(bitsText);
    if (extra !== undefined || !/^\d{1,3}$/.test(bitsText ?? String(width)) || bits > width) {
      throw new Error(`"${raw.trim()}" has an invalid prefix length`);
    }
    // Mapped IPv6 entries mean their IPv4 address, as the addresses they are compared with do.
    const embedded = family === 6 ? embeddedIPv4(address!) : null;
    if (embedded && bits >= 96 && parseIPv6(address!)! >> 32n === 0xffffn) {
      cidrs.push({ family: 4, base: v4(embedded), bits: bits - 96 });
    } else {
      cidrs.push({ family, base: family === 4 ? v4(address!) : parseIPv6(address!)!, bits } as Cidr);
    }
  }
  return { hosts, cidrs };
}

/** The address as it is compared: IPv4-mapped IPv6 as its IPv4 address. */
function comparable(address: string): { family: 4 | 6; value: bigint } | null {
  const family = isIP(address);
  if (family === 4) return { family: 4, value: v4(address) };
  if (family !== 6) return null;
  const n = parseIPv6(address);
  if (n === null) return null;
  if (n >> 32n === 0xffffn) return { family: 4, value: n & 0xffffffffn };
  return { family: 6, value: n };
}

export function isAllowlistedAddress(allowlist: AddressAllowlist, address: string): boolean {
  const value = comparable(address);
  if (!value) return false;
  return allowlist.cidrs.some(
    (cidr) =>
      cidr.family === value.family &&
      inRange(value.value, cidr.family === 4 ? 32 : 128, { base: cidr.base, bits: cidr.bits, kind: 'reserved' }),
  );
}

export type AddressVerdict =
  | { allowed: true }
  | { allowed: false; address: string; kind: Exclude<AddressClass, 'public'> };

/**
 * Whether a connection to `address` (one of the addresses `host` resolved to) may be made: the host is allowlisted
 * by name, the address by range, or the address is public.
 */
export function judgeAddress(allowlist: AddressAllowlist, host: string, address: string): AddressVerdict {
  if (allowlist.hosts.has(normaliseHost(host))) return { allowed: true };
  if (isAllowlistedAddress(allowlist, address)) return { allowed: true };
  const kind = classifyAddress(address);
  return kind === 'public' ? { allowed: true } : { allowed: false, address, kind };
}

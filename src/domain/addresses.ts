/**
 * Which IP addresses docsight may call out to (webhooks): public unicast only. Everything a
 * server-side request forgery aims at is refused: loopback, private, link-local (cloud metadata at
 * 169.254.169.254), CGNAT, unique-local IPv6, multicast, unspecified and reserved ranges, and IPv6
 * forms that carry one of those IPv4 addresses (IPv4-mapped, IPv4-compatible, NAT64, 6to4).
 * Pure: the caller resolves names and connects to the address it checked.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** [first octets as a 32-bit number, prefix length, why] */
const V4_BLOCKED: [string, number, string][] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared address space (CGNAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

function v4ToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function inV4(ip: number, base: string, bits: number): boolean {
  const size = 2 ** (32 - bits);
  const start = v4ToInt(base);
  return ip >= start && ip < start + size;
}

/** The 8 16-bit groups of an IPv6 address (with an embedded dotted IPv4 tail expanded). */
function v6Groups(ip: string): number[] {
  let text = ip.split('%')[0] ?? ip;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const n = v4ToInt(dotted[1]);
    text = `${text.slice(0, -dotted[1].length)}${Math.floor(n / 65536).toString(16)}:${(n % 65536).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => Number.parseInt(g, 16)));
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  return [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
}

/** Why an IPv4 address is refused, or null when it is public. */
function blockedV4(ip: string): string | null {
  const n = v4ToInt(ip);
  if (n === 0xffffffff) return 'broadcast';
  for (const [base, bits, why] of V4_BLOCKED) if (inV4(n, base, bits)) return why;
  return null;
}

const v4Of = (hi: number, lo: number) => [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');

function blockedV6(ip: string): string | null {
  const g = v6Groups(ip);
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (g.every((x) => x === 0)) return 'unspecified';
  if (zeroUpTo(7) && g[7] === 1) return 'loopback';
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d): judged as the IPv4 they carry.
  if (zeroUpTo(5) && g[5] === 0xffff) return blockedV4(v4Of(g[6] ?? 0, g[7] ?? 0));
  if (zeroUpTo(6)) return blockedV4(v4Of(g[6] ?? 0, g[7] ?? 0));
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return blockedV4(v4Of(g[6] ?? 0, g[7] ?? 0));
  // 6to4 (2002:AABB:CCDD::): the IPv4 is in the second and third groups.
  if (g[0] === 0x2002) return blockedV4(v4Of(g[1] ?? 0, g[2] ?? 0));
  const first = g[0] ?? 0;
  if ((first & 0xfe00) === 0xfc00) return 'unique-local';
  if ((first & 0xffc0) === 0xfe80) return 'link-local';
  if ((first & 0xffc0) === 0xfec0) return 'site-local';
  if ((first & 0xff00) === 0xff00) return 'multicast';
  if (first === 0x100 && g.slice(1, 4).every((x) => x === 0)) return 'discard-only';
  if (first === 0x2001 && g[1] === 0xdb8) return 'documentation';
  return null;
}

/**
 * Why `ip` may not be called (e.g. "loopback", "private"), or null when it is a public address.
 * Anything that is not an IP address is refused too.
 */
export function nonPublicReason(ip: string): string | null {
  if (isIPv4(ip)) return blockedV4(ip);
  if (isIPv6(ip)) return blockedV6(ip);
  return 'not an IP address';
}

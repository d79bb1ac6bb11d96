/** Pure IPv4 CIDR arithmetic (no dependency: the few operations the IP plan needs). */

export interface Ipv4Cidr {
  /** Network address as an unsigned 32-bit integer. */
  readonly base: number;
  readonly prefix: number;
}

const CIDR_PATTERN = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Parses `a.b.c.d/p`; returns undefined when malformed or when host bits are set. */
export function parseCidr(text: unknown): Ipv4Cidr | undefined {
  if (typeof text !== 'string') return undefined;
  const m = CIDR_PATTERN.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const base = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
  if ((base & ~maskOf(prefix)) >>> 0 !== 0) return undefined;
  return { base, prefix };
}

function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function sizeOf(cidr: Ipv4Cidr): number {
  return 2 ** (32 - cidr.prefix);
}

export function formatIp(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

export function formatCidr(cidr: Ipv4Cidr): string {
  return `${formatIp(cidr.base)}/${cidr.prefix}`;
}

export function overlaps(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  const aEnd = a.base + sizeOf(a);
  const bEnd = b.base + sizeOf(b);
  return a.base < bEnd && b.base < aEnd;
}

export function contains(outer: Ipv4Cidr, inner: Ipv4Cidr): boolean {
  return inner.prefix >= outer.prefix && inner.base >= outer.base && inner.base + sizeOf(inner) <= outer.base + sizeOf(outer);
}

/** The `index`-th subnet of `newPrefix` inside `cidr`, or undefined when it does not fit. */
export function subnet(cidr: Ipv4Cidr, newPrefix: number, index: number): Ipv4Cidr | undefined {
  if (newPrefix < cidr.prefix || newPrefix > 32 || index < 0) return undefined;
  const count = 2 ** (newPrefix - cidr.prefix);
  if (index >= count) return undefined;
  return { base: cidr.base + index * 2 ** (32 - newPrefix), prefix: newPrefix };
}

/** The address `offset` places after the network address. */
export function hostAt(cidr: Ipv4Cidr, offset: number): string {
  return formatIp(cidr.base + offset);
}

/** True for RFC 1918 private ranges (10/8, 172.16/12, 192.168/16). */
export function isPrivate(cidr: Ipv4Cidr): boolean {
  const privateRanges = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'].map((c) => parseCidr(c)!);
  return privateRanges.some((r) => contains(r, cidr));
}

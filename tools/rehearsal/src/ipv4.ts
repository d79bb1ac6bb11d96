/**
 * The little IPv4 arithmetic the test network needs. (The rehearsal reads only the synthesized JSON, so it does
 * not borrow the library's own CIDR code: it must notice when that code plans something wrong.)
 */

export interface Cidr {
  readonly base: number;
  readonly prefix: number;
}

export function parseIp(text: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text.trim());
  if (!m || m.slice(1).some((o) => Number(o) > 255)) throw new Error(`not an IPv4 address: ${text}`);
  return m.slice(1).reduce((acc, o) => ((acc << 8) | Number(o)) >>> 0, 0);
}

export function formatIp(value: number): string {
  return [24, 16, 8, 0].map((s) => (value >>> s) & 255).join('.');
}

function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function parseCidr(text: string): Cidr {
  const [ip, prefixText] = text.split('/');
  const prefix = Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new Error(`not an IPv4 CIDR: ${text}`);
  return { base: (parseIp(ip) & maskOf(prefix)) >>> 0, prefix };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr.base)}/${cidr.prefix}`;
}

export function contains(cidr: Cidr, ip: number): boolean {
  return ((ip & maskOf(cidr.prefix)) >>> 0) === cidr.base;
}

/** Host addresses of a CIDR from the top down (skipping the broadcast address), for addresses nobody planned. */
export function* hostsFromTop(cidr: Cidr): Generator<number> {
  const size = 2 ** (32 - cidr.prefix);
  for (let offset = size - 2; offset >= 1; offset--) yield (cidr.base + offset) >>> 0;
}

/** The subnet of `ip` among `subnets` (the most specific), or a /32 when none holds it. */
export function subnetOf(ipText: string, subnets: string[]): string {
  const value = parseIp(ipText);
  const holding = subnets.map(parseCidr).filter((c) => contains(c, value)).sort((a, b) => b.prefix - a.prefix);
  return holding.length ? formatCidr(holding[0]) : `${ipText}/32`;
}

/**
 * Reads the ingress a Terraform block opens, in all the forms the AWS and Google providers accept,
 * as one normalized shape: protocol, port ranges and CIDR sources. Pure; no cdktf.
 */
import { contains, isPrivate, Ipv4Cidr, parseCidr } from '../net/cidr';
import { PORTS } from '../topology/topology';

/** The ports of the fleet's database, Patroni REST API, etcd (client and peer) and Prometheus exporters. */
export const FLEET_PORTS: readonly number[] = Object.values(PORTS);

/** Google's load balancer health checkers and front ends: reachable only from Google's probers, not the internet. */
export const GCP_HEALTH_CHECK_RANGES: readonly string[] = ['35.191.0.0/16', '130.211.0.0/22', '209.85.152.0/22', '209.85.204.0/22'];

export interface PortRange {
  readonly from: number;
  readonly to: number;
}

export const ALL_PORTS: PortRange = { from: 0, to: 65535 };

/** One ingress permission: a protocol and ports opened to sources. */
export interface IngressEntry {
  /** Where in the block, e.g. `ingress[0]` or `allow[1]`. */
  readonly where: string;
  /** `all`, `tcp`, `udp`, `icmp`, ... (lower case; protocol numbers 6/17 mapped to tcp/udp). */
  readonly protocol: string;
  readonly ports: PortRange[];
  /** CIDR sources (IPv4 or IPv6) as written. */
  readonly cidrs: string[];
  /** Sources given as Terraform references (`${...}`): their value is unknown at synth. */
  readonly unknownCidrs: string[];
}

function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
}

function asStrings(value: unknown): string[] {
  return asArray(value).filter((v): v is string => typeof v === 'string' && v !== '');
}

/** True when a string is (or contains) a Terraform reference, so its value is unknown at synth. */
export function isReference(value: string): boolean {
  return /(^|[^$])\$\{/.test(value);
}

function normalizeProtocol(value: unknown): string {
  const text = String(value ?? 'all').trim().toLowerCase();
  if (text === '-1' || text === 'all' || text === '') return 'all';
  if (text === '6') return 'tcp';
  if (text === '17') return 'udp';
  return text;
}

function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return Number(value);
  return undefined;
}

/** AWS from_port/to_port: all ports for protocol all (or when absent). */
function awsPorts(protocol: string, from: unknown, to: unknown): PortRange[] {
  if (protocol === 'all') return [ALL_PORTS];
  const f = numberOf(from);
  const t = numberOf(to);
  if (f === undefined || t === undefined || f < 0 || t < 0) return [ALL_PORTS];
  return [{ from: Math.min(f, t), to: Math.max(f, t) }];
}

/** GCP `ports`: `["5432", "2379-2380"]`; absent or empty means every port. */
function gcpPorts(protocol: string, ports: unknown): PortRange[] {
  const list = asStrings(ports);
  if (protocol === 'all' || list.length === 0) return [ALL_PORTS];
  return list.map((p) => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(p.trim());
    if (!m) return ALL_PORTS;
    const from = Number(m[1]);
    return { from, to: m[2] === undefined ? from : Number(m[2]) };
  });
}

function splitCidrs(values: string[]): { cidrs: string[]; unknownCidrs: string[] } {
  return { cidrs: values.filter((v) => !isReference(v)), unknownCidrs: values.filter(isReference) };
}

/** Every ingress permission a block opens; empty for blocks that open none. */
export function ingressOf(type: string, config: Record<string, unknown>): IngressEntry[] {
  switch (type) {
    case 'aws_security_group':
      return asArray(config.ingress).flatMap((raw, i) => {
        const rule = asRecord(raw);
        if (!rule) return [];
        const protocol = normalizeProtocol(rule.protocol);
        return [{
          where: `ingress[${i}]`,
          protocol,
          ports: awsPorts(protocol, rule.from_port, rule.to_port),
          ...splitCidrs([...asStrings(rule.cidr_blocks), ...asStrings(rule.ipv6_cidr_blocks)]),
        }];
      });
    case 'aws_security_group_rule': {
      if (config.type !== 'ingress') return [];
      const protocol = normalizeProtocol(config.protocol);
      return [{
        where: 'ingress',
        protocol,
        ports: awsPorts(protocol, config.from_port, config.to_port),
        ...splitCidrs([...asStrings(config.cidr_blocks), ...asStrings(config.ipv6_cidr_blocks)]),
      }];
    }
    case 'aws_vpc_security_group_ingress_rule': {
      const protocol = normalizeProtocol(config.ip_protocol);
      return [{
        where: 'ingress',
        protocol,
        ports: awsPorts(protocol, config.from_port, config.to_port),
        ...splitCidrs([...asStrings(config.cidr_ipv4), ...asStrings(config.cidr_ipv6)]),
      }];
    }
    case 'google_compute_firewall': {
      const direction = String(config.direction ?? 'INGRESS').toUpperCase();
      if (direction !== 'INGRESS' || config.disabled === true || config.disabled === 'true') return [];
      const ranges = asStrings(config.source_ranges);
      const bySelector = asStrings(config.source_tags).length > 0 || asStrings(config.source_service_accounts).length > 0;
      // An ingress rule with no source at all applies to 0.0.0.0/0 (terraform-provider-google#6789).
      const sources = ranges.length === 0 && !bySelector ? ['0.0.0.0/0'] : ranges;
      return asArray(config.allow).flatMap((raw, i) => {
        const allow = asRecord(raw);
        if (!allow) return [];
        const protocol = normalizeProtocol(allow.protocol);
        return [{ where: `allow[${i}]`, protocol, ports: gcpPorts(protocol, allow.ports), ...splitCidrs(sources) }];
      });
    }
    default:
      return [];
  }
}

/** The types `ingressOf` reads. */
export const INGRESS_TYPES: readonly string[] = [
  'aws_security_group', 'aws_security_group_rule', 'aws_vpc_security_group_ingress_rule', 'google_compute_firewall',
];

/** Does the entry let TCP reach `port`? */
export function opensTcpPort(entry: IngressEntry, port: number): boolean {
  if (entry.protocol !== 'all' && entry.protocol !== 'tcp') return false;
  return entry.ports.some((r) => r.from <= port && port <= r.to);
}

/** The fleet ports an entry opens, sorted. */
export function fleetPortsOpened(entry: IngressEntry): number[] {
  return FLEET_PORTS.filter((p) => opensTcpPort(entry, p)).sort((a, b) => a - b);
}

/** Every port of a protocol (all protocols, or a TCP/UDP range covering 1-65535). */
export function opensEveryPort(entry: IngressEntry): boolean {
  if (entry.protocol === 'all') return true;
  if (entry.protocol !== 'tcp' && entry.protocol !== 'udp' && entry.protocol !== 'sctp') return false;
  return entry.ports.some((r) => r.from <= 1 && r.to >= 65535);
}

/** Parses an IPv4 CIDR or bare address, ignoring host bits (clouds accept `10.0.0.1/8`). */
export function parseIpv4Source(text: string): Ipv4Cidr | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(text.trim());
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = m[5] === undefined ? 32 : Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const base = (((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) & mask) >>> 0;
  return { base, prefix };
}

export function isIpv6(text: string): boolean {
  return text.includes(':');
}

/** IPv6 sources are private only inside fc00::/7 (unique local). */
function isPrivateIpv6(text: string): boolean {
  const [address, prefix] = text.trim().toLowerCase().split('/');
  const bits = prefix === undefined ? 128 : Number(prefix);
  return /^f[cd][0-9a-f]{0,2}:/.test(address) && bits >= 7;
}

/** Where a source CIDR lies. */
export type SourceClass = 'private' | 'gcp-health-check' | 'public' | 'unparsable';

export function classifySource(text: string): SourceClass {
  if (isIpv6(text)) return isPrivateIpv6(text) ? 'private' : 'public';
  const cidr = parseIpv4Source(text);
  if (!cidr) return 'unparsable';
  if (isPrivate(cidr)) return 'private';
  if (GCP_HEALTH_CHECK_RANGES.some((r) => contains(parseCidr(r)!, cidr))) return 'gcp-health-check';
  return 'public';
}

/** True when `text` (an IPv4 source) lies inside one of `ranges`. */
export function insideAny(text: string, ranges: readonly string[]): boolean {
  const cidr = parseIpv4Source(text);
  if (!cidr) return false;
  return ranges.some((r) => {
    const outer = parseIpv4Source(r);
    return outer !== undefined && contains(outer, cidr);
  });
}

/** Prefix length of an IPv4 source (undefined for IPv6 or unparsable). */
export function prefixOf(text: string): number | undefined {
  return isIpv6(text) ? undefined : parseIpv4Source(text)?.prefix;
}

export function describePorts(ports: number[]): string {
  return ports.join(', ');
}

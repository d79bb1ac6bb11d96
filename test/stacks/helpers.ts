/** Synth helpers shared by the cloud construct tests: real synth of real stacks, then plain JSON inspection. */
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { Testing, TerraformStack } from 'cdktf';
import { createHash } from 'crypto';
import { Cloud, DistributedPostgres, DistributedPostgresProps, Topology } from '../../lib';
import { encodeUserData, renderCloudConfig, ReviewableMeshDocument, ReviewableScriptsDocument, ReviewableUserData, toReviewableJson } from '../../lib/pipeline';
import { groupScriptsDocument } from '../../lib/render/cloud-config';
import { meshDocument } from '../../lib/render/mesh-document';

export type Resource = Record<string, any>;
export interface TfJson {
  resource: Record<string, Record<string, Resource>>;
  data?: Record<string, Record<string, Resource>>;
  output?: Record<string, unknown>;
  provider?: Record<string, unknown>;
}

/** Synthesizes a stack (running cdktf's validations) and parses the JSON. */
export function synthJson(stack: TerraformStack): TfJson {
  return JSON.parse(Testing.synth(stack, true));
}

/**
 * A stack built and synthesized once per test file (jest gives each file its own modules, so its own cache), shared by
 * the tests that only read it: synth is deterministic (stacks.test.ts pins it), and a whole-stack synth is the slowest
 * thing the unit tests do. `json` is parsed afresh on each call, so a test may change its copy.
 */
export function synthesizedOnce<S extends TerraformStack>(key: string, build: () => S): { stack: S; json: TfJson; text: string } {
  let entry = synthesized.get(key);
  if (entry === undefined) {
    const stack = build();
    entry = { stack, text: Testing.synth(stack, true) };
    synthesized.set(key, entry);
  }
  return { stack: entry.stack as S, json: JSON.parse(entry.text), text: entry.text };
}
const synthesized = new Map<string, { stack: TerraformStack; text: string }>();

/** A stack holding one fleet, with an aliased AWS provider per AWS region and a Google provider when needed. */
export function fleetStack(props: DistributedPostgresProps, id = 'fleet'): { stack: TerraformStack; fleet: DistributedPostgres } {
  const stack = new TerraformStack(Testing.app(), 'test');
  const regions = [...new Set(props.nodeGroups.filter((g) => g.cloud === Cloud.AWS).map((g) => g.region))].sort();
  const awsProviders = regions.map((region) => ({ region, provider: new AwsProvider(stack, `aws-${region}`, { region, alias: region }) }));
  const googleProvider = props.nodeGroups.some((g) => g.cloud === Cloud.GCP) ? new GoogleProvider(stack, 'google', { project: 'test-project' }) : undefined;
  const fleet = new DistributedPostgres(stack, id, { ...props, awsProviders, googleProvider });
  return { stack, fleet };
}

/** Every resource of a type as [logical id, body]. */
export function resourcesOf(json: TfJson, type: string): [string, Resource][] {
  return Object.entries(json.resource[type] ?? {}).sort(([a], [b]) => a.localeCompare(b));
}

/** True when a logical id belongs to a construct of the given id (cdktf joins the construct path with `_`). */
export function ownedBy(logicalId: string, constructId: string): boolean {
  return logicalId.split('_').includes(constructId);
}

/** Every machine a stack creates (AWS and GCP instances): name, private address and node group, by name. */
export function machinesCreated(json: TfJson): { name: string; privateIp: string; group: string }[] {
  return [
    ...resourcesOf(json, 'aws_instance').map(([, r]) => ({ name: r.tags.Name, privateIp: r.private_ip, group: r.tags['distributed-postgres:node-group'] })),
    ...resourcesOf(json, 'google_compute_instance').map(([, r]) => ({ name: r.name, privateIp: r.network_interface[0].network_ip, group: r.labels['distributed-postgres-node-group'] })),
  ].sort((a, b) => a.name.localeCompare(b.name));
}

/** The user-data a machine boots with: AWS `user_data` / `user_data_base64`, GCP `metadata.user-data`. */
export function userDataOf(resource: Resource): string {
  return resource.user_data ?? resource.user_data_base64 ?? resource.metadata?.['user-data'];
}

/**
 * `toReviewableJson` with each machine's user-data checked against the renderer and shown as a short marker: it must
 * be exactly `encodeUserData(cloud, renderCloudConfig(topology, machine))`. The snapshots then pin the cloud resources
 * and the wiring once, while the renderer's own snapshots (test/render) pin the cloud-config text; a user-data that is
 * not the renderer's output shows up as a mismatch.
 */
export function rendererMarker(topology: Topology): (userData: ReviewableUserData) => string {
  return ({ address, machine, attribute, value, text }) => {
    const cloud = address.startsWith('google_') ? 'gcp' : 'aws';
    const encoding = attribute === 'user_data_base64' || text !== value ? 'gzip+base64' : 'plain';
    let expected: ReturnType<typeof encodeUserData> | undefined;
    try {
      expected = encodeUserData(cloud, renderCloudConfig(topology, machine), machine);
    } catch {
      expected = undefined;
    }
    if (expected?.encoding !== encoding || expected.value !== value) {
      return `[user-data of ${machine}: NOT the renderer's output, ${Buffer.byteLength(value)} bytes, sha256 ${createHash('sha256').update(value).digest('hex').slice(0, 16)}]`;
    }
    return `[user-data of ${machine}: renderCloudConfig, ${encoding}]`;
  };
}

/**
 * A mesh document checked against the renderer and shown as a short marker: it must be exactly
 * `meshDocument(topology, group).value` of one node group (test/render's snapshots pin the files themselves).
 */
export function meshDocumentMarker(topology: Topology): (document: ReviewableMeshDocument) => string {
  return ({ value, generation }) => {
    const group = topology.nodeGroups.find((g) => meshDocument(topology, g).value === value);
    return group === undefined
      ? `[mesh document: NOT the renderer's output, generation ${generation}]`
      : `[mesh document of node group ${group.name}: meshDocument]`;
  };
}

/**
 * A scripts document checked against the renderer and shown as a short marker: it must be exactly
 * `groupScriptsDocument(topology, group).value` of one node group (test/render's snapshots pin the files themselves).
 */
export function scriptsDocumentMarker(topology: Topology): (document: ReviewableScriptsDocument) => string {
  return ({ value, sha256 }) => {
    const group = topology.nodeGroups.find((g) => groupScriptsDocument(topology, g).value === value);
    return group === undefined
      ? `[scripts document: NOT the renderer's output, sha256 ${sha256.slice(0, 16)}]`
      : `[scripts document of node group ${group.name}: groupScriptsDocument]`;
  };
}

/** The synthesized JSON as our snapshots show it: `toReviewableJson` with the renderer's markers for user-data and documents. */
export function readable(json: TfJson, topology: Topology): Record<string, any> {
  return toReviewableJson(json, { userData: rendererMarker(topology), meshDocument: meshDocumentMarker(topology), scriptsDocument: scriptsDocumentMarker(topology) });
}

/** Leaf paths of a JSON value (`a.b.0.c`) with their values. */
function leaves(value: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (value !== null && typeof value === 'object' && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) leaves(v, prefix === '' ? k : `${prefix}.${k}`, out);
  } else {
    out.set(prefix, value);
  }
  return out;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Replaces what names one particular fleet by placeholders, so two stacks can be compared by what the library does:
 * the fleet, group, region and zone names, cdktf's hash suffixes of logical ids, and every address or range of the
 * topology by its role (`<member ip>`, `<client cidr>`...; addresses the topology does not know stay as they are).
 */
function placeholders(topology: Topology): (value: unknown) => unknown {
  const roles = new Map<string, string>();
  const role = (value: string, name: string) => { if (!roles.has(value)) roles.set(value, `<${name}>`); };
  role(topology.network.fleetCidr, 'fleet cidr');
  for (const c of topology.network.clientCidrs) role(c, 'client cidr');
  for (const g of topology.nodeGroups) {
    role(g.cidr, 'group cidr');
    for (const s of g.subnets) role(s.cidr, 'zone subnet');
    for (const m of g.members) role(m.privateIp, 'member ip');
    for (const e of g.etcd.members) role(e.privateIp, 'etcd ip');
    for (const ip of g.loadBalancerIps) role(ip, 'load balancer ip');
  }
  for (const v of topology.network.awsVpcs) role(v.egressSubnetCidr, 'egress subnet');
  for (const l of topology.network.vpnLinks) for (const t of l.tunnels) role(t.insideCidr, 'tunnel cidr');
  const names = new Map<string, string>([[topology.fleetName, '<fleet>']]);
  for (const g of topology.nodeGroups) {
    names.set(g.name, '<group>');
    names.set(g.region, '<region>');
    for (const z of g.zones) names.set(z, '<zone>');
  }
  const namePatterns = [...names.entries()].sort(([a], [b]) => b.length - a.length)
    .map(([name, placeholder]) => [new RegExp(`(?<![A-Za-z0-9])${escapeRegExp(name)}(?![A-Za-z0-9])`, 'g'), placeholder] as const);
  const text = (s: string): string => {
    let out = s.replace(/\b(\d{1,3}(?:\.\d{1,3}){3})(\/\d{1,2})?\b/g, (match, ip: string, prefix?: string) =>
      roles.get(match) ?? (prefix !== undefined && roles.has(ip) ? `${roles.get(ip)}${prefix}` : match));
    out = out.replace(/_[0-9A-F]{8}\b/g, '_<hash>');
    for (const [pattern, placeholder] of namePatterns) out = out.replace(pattern, placeholder);
    return out;
  };
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    return typeof value === 'string' ? text(value) : value;
  };
  return walk;
}

interface Block {
  readonly address: string;
  readonly type: string;
  readonly body: Record<string, any>;
  /** The body's leaves with the fleet's names replaced, without `provider` and `region` (shown apart). */
  readonly leaves: Map<string, unknown>;
}

function blocksOf(reviewable: Record<string, any>, topology: Topology): Block[] {
  const normalize = placeholders(topology);
  return (['resource', 'data'] as const).flatMap((section) => Object.entries(reviewable[section] ?? {}).flatMap(([type, byId]) =>
    Object.entries(byId as Record<string, any>).map(([id, body]) => {
      const { provider: _provider, region: _region, ...compared } = body;
      const fullType = section === 'data' ? `data.${type}` : type;
      return { address: `${fullType}.${id}`, type: fullType, body, leaves: leaves(normalize(compared)) };
    })))
    // Code-unit order, not localeCompare: the same on every machine whatever its ICU data.
    .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}

function differences(block: Block, reference: Block): string[] {
  const show = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v));
  const paths = [...new Set([...reference.leaves.keys(), ...block.leaves.keys()])];
  return paths.filter((p) => JSON.stringify(reference.leaves.get(p)) !== JSON.stringify(block.leaves.get(p)))
    .map((p) => `${p}: ${show(reference.leaves.get(p))} -> ${show(block.leaves.get(p))}`);
}

/**
 * What a stack adds to the reference stack, for a snapshot that shows only that: every resource and data source
 * address, grouped by the provider (and region) that manages it; the stack's own blocks (providers, variables,
 * outputs, terraform); and the blocks that differ from every block of the reference stack once both stacks' names
 * and addresses are replaced by placeholders (`placeholders`), each with its differences from the closest reference
 * block. A block equal to a reference block is pinned by the reference snapshot; its address is pinned here.
 */
export function differencesFrom(reference: { json: TfJson; topology: Topology }, stack: { json: TfJson; topology: Topology }): unknown {
  const mine = readable(stack.json, stack.topology);
  const ours = blocksOf(mine, stack.topology);
  const theirs = blocksOf(readable(reference.json, reference.topology), reference.topology);
  const byProvider: Record<string, string[]> = {};
  for (const b of ours) {
    const provider = b.body.provider ?? (b.type.replace(/^data\./, '').startsWith('terraform_') ? 'terraform (built in)' : `${b.type.replace(/^data\./, '').split('_')[0]} (default)`);
    (byProvider[`${provider}${b.body.region === undefined ? '' : `, region ${b.body.region}`}`] ??= []).push(b.address);
  }
  const changed = new Map<string, { resources: string[]; differences: string[]; block?: unknown }>();
  for (const b of ours) {
    const candidates = theirs.filter((t) => t.type === b.type);
    let found: string[] | undefined;
    for (const candidate of candidates) {
      const d = differences(b, candidate);
      if (found === undefined || d.length < found.length) found = d;
      if (d.length === 0) break;
    }
    if (found?.length === 0) continue;
    const lines = found ?? [`no ${b.type} in the reference stack`];
    const key = JSON.stringify([b.type, lines]);
    const entry = changed.get(key) ?? { resources: [], differences: lines, ...(found ? {} : { block: b.body }) };
    entry.resources.push(b.address);
    changed.set(key, entry);
  }
  const { resource: _resource, data: _data, ...ownBlocks } = mine;
  return {
    addresses: byProvider,
    ...ownBlocks,
    'differences from the reference stack': [...changed.values()],
  };
}

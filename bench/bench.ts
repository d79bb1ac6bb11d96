/**
 * `npm run bench`: synth wall time and peak memory of the reference stack and of generated fleets of 1, 10, 30 and 100
 * node groups, each next to the same resources written as a plain hand-written cdktf stack (bench/plain-stack.ts),
 * measured in the same run. Every case runs in its own child process (`node bench.js --child ...`), so its peak RSS
 * (process.resourceUsage().maxRSS) is its own; wall time is measured by the parent from spawn to exit and includes
 * loading node, cdktf and the provider classes, as a `cdktf synth` would.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

interface ChildResult {
  readonly resources: Record<string, number>;
  readonly maxRssMiB: number;
  readonly synthMs: number;
}

// groups-300: three fleets of 100 node groups in one stack (a fleet holds at most 100).
const CASES = ['reference', 'groups-1', 'groups-10', 'groups-30', 'groups-100', 'groups-300'] as const;
type CaseName = typeof CASES[number];
// BENCH_CASES=groups-100,groups-300 runs only those cases (comma-separated names, in CASES order).
const SELECTED: readonly CaseName[] = process.env.BENCH_CASES
  ? CASES.filter((c) => process.env.BENCH_CASES!.split(',').map((s) => s.trim()).includes(c))
  : CASES;
type Mode = 'library' | 'plain';
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);

/** Runs inside the child: builds the case's stack and synthesizes it to disk. */
function child(name: CaseName, mode: Mode, workdir: string): void {
  const started = performance.now();
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { App } = require('cdktf') as typeof import('cdktf');
  const app = new App({ outdir: path.join(workdir, `out-${name}-${mode}`) });
  if (mode === 'plain') {
    const { PlainStack } = require('./plain-stack') as typeof import('./plain-stack');
    new PlainStack(app, name, JSON.parse(fs.readFileSync(path.join(workdir, `${name}.plan.json`), 'utf8')));
  } else {
    libraryStack(app, name);
  }
  app.synth();
  const synthMs = performance.now() - started;
  const json = JSON.parse(fs.readFileSync(path.join(workdir, `out-${name}-${mode}`, 'stacks', name, 'cdk.tf.json'), 'utf8'));
  const resources: Record<string, number> = {};
  for (const section of ['resource', 'data']) {
    for (const [type, items] of Object.entries(json[section] ?? {})) resources[`${section === 'data' ? 'data.' : ''}${type}`] = Object.keys(items as object).length;
  }
  const result: ChildResult = { resources, maxRssMiB: process.resourceUsage().maxRSS / 1024, synthMs };
  process.stdout.write(JSON.stringify(result));
}

function libraryStack(app: import('cdktf').App, name: CaseName) {
  /* eslint-disable @typescript-eslint/no-require-imports */
  if (name === 'reference') {
    const { LedgerStack } = require('../stacks/ledger') as typeof import('../stacks/ledger');
    return new LedgerStack(app, name);
  }
  const { AwsProvider } = require('@cdktf/provider-aws/lib/provider') as typeof import('@cdktf/provider-aws/lib/provider');
  const { GoogleProvider } = require('@cdktf/provider-google/lib/provider') as typeof import('@cdktf/provider-google/lib/provider');
  const { TerraformStack } = require('cdktf') as typeof import('cdktf');
  const { DistributedPostgres } = require('../lib') as typeof import('../lib');
  const { generatedFleet } = require('./fleets') as typeof import('./fleets');
  const groups = Number(name.split('-')[1]);
  // A fleet holds at most 100 node groups (their numbers are 1..100): larger cases are fleets of 100 side by side.
  const fleets = groups <= 100 ? [generatedFleet(groups)]
    : Array.from({ length: Math.ceil(groups / 100) }, (_, i) => ({ ...generatedFleet(Math.min(100, groups - i * 100)), name: `bench${groups}-${i + 1}` }));
  const stack = new TerraformStack(app, name);
  const all = fleets.flatMap((f) => f.nodeGroups);
  const regions = [...new Set(all.filter((g) => g.cloud === 'aws').map((g) => g.region))].sort();
  const awsProviders = regions.map((region) => ({ region, provider: new AwsProvider(stack, `aws-${region}`, { region, alias: region }) }));
  const googleProvider = all.some((g) => g.cloud === 'gcp') ? new GoogleProvider(stack, 'google', { project: 'bench' }) : undefined;
  const made = fleets.map((props, i) => new DistributedPostgres(stack, fleets.length === 1 ? 'fleet' : `fleet-${i + 1}`, {
    ...props, awsProviders: awsProviders.filter((p) => props.nodeGroups.some((g) => g.cloud === 'aws' && g.region === p.region)), googleProvider,
  }));
  return made.length === 1 ? made[0] : made;
}

/** The plain stack's literals, taken from the library's topology and user-data (prepared outside the timed runs). */
function writePlan(name: CaseName, workdir: string, libraryJson: any): void {
  const { Testing } = require('cdktf') as typeof import('cdktf');
  const stack = libraryStack(Testing.app(), name);
  const fleets: import('../lib').DistributedPostgres[] = Array.isArray(stack) ? stack : ['fleet' in stack ? (stack as any).fleet : stack];
  const plans = fleets.map((fleet) => planOf(fleet, libraryJson));
  fs.writeFileSync(path.join(workdir, `${name}.plan.json`), JSON.stringify(plans.length === 1 ? plans[0] : plans));
}

function planOf(fleet: import('../lib').DistributedPostgres, libraryJson: any): import('./plain-stack').PlainPlan {
  const t = fleet.topology;
  const { summarizeCidrs } = require('../lib/pipeline') as typeof import('../lib/pipeline');
  const { meshDocument } = require('../lib/render/mesh-document') as typeof import('../lib/render/mesh-document');
  const { groupScriptsDocument } = require('../lib/render/cloud-config') as typeof import('../lib/render/cloud-config');
  const userData = new Map<string, string>();
  for (const type of ['aws_instance', 'google_compute_instance']) {
    for (const r of Object.values(libraryJson.resource[type] ?? {}) as any[]) {
      userData.set(r.tags?.Name ?? r.name, r.user_data ?? r.user_data_base64 ?? r.metadata['user-data']);
    }
  }
  return {
    fleet: t.fleetName,
    dnsZone: t.network.privateDnsZone,
    secrets: t.secrets.all,
    passwords: t.secrets.all.filter((s) => s !== t.secrets.tlsCa),
    tlsCa: t.secrets.tlsCaSource === 'terraform' ? t.secrets.tlsCa : undefined,
    documents: t.nodeGroups.flatMap((g) => [
      { group: g.name, name: g.meshDocument, value: meshDocument(t, g).value },
      { group: g.name, name: g.scriptsDocument, value: groupScriptsDocument(t, g).value },
    ]),
    postgresSources: summarizeCidrs([...t.network.fleetCidrs, ...t.network.clientCidrs]),
    patroniSources: summarizeCidrs(t.network.fleetCidrs),
    ...(t.monitoring.enabled ? { scrapeSources: summarizeCidrs([...t.network.fleetCidrs, ...t.monitoring.scrapeCidrs]) } : {}),
    scrapeCidrs: t.monitoring.scrapeCidrs,
    fleetCidrs: t.network.fleetCidrs,
    clientCidrs: t.network.clientCidrs,
    awsVpcs: t.network.awsVpcs.map((v) => ({ region: v.region, cidrs: v.cidrs, groups: v.nodeGroups, egressSubnet: v.egressSubnetCidr })),
    groups: t.nodeGroups.map((g) => ({
      name: g.name, cloud: g.cloud, region: g.region, cidr: g.cidr, machineType: g.machineType, etcdMachineType: g.etcd.machineType,
      disk: g.dataDisk, subnets: g.subnets, lbIps: g.loadBalancerIps, endpoint: g.endpointFqdn,
      machines: [
        ...g.members.map((m) => ({ name: m.name, zone: m.zone, ip: m.privateIp, fqdn: m.fqdn, data: true, userData: userData.get(m.name)! })),
        ...g.etcd.members.filter((e) => e.hostMember === '').map((e) => ({
          name: e.name, zone: e.zone, ip: e.privateIp, fqdn: `${e.name}.${t.network.privateDnsZone}`, data: false, userData: userData.get(e.name)!,
        })),
      ],
    })),
    buckets: t.backupBuckets.map((b) => ({ cloud: b.cloud, region: b.region, name: b.name })),
    repositories: t.nodeGroups.filter((g) => g.backup).map((g) => ({ group: g.name, bucket: g.backup!.bucket, prefix: g.backup!.path.replace(/^\/+|\/+$/g, '') })),
    peerings: t.network.awsPeerings.map((p) => ({ requester: p.requesterRegion, accepter: p.accepterRegion })),
    vpns: t.network.vpnLinks.map((l) => ({
      awsRegion: l.awsRegion, gcpRegion: l.gcpRegion, awsAsn: l.awsAsn, gcpAsn: l.gcpAsn,
      tunnels: l.tunnels.map((x) => ({ c: x.awsConnection, t: x.awsTunnel, gcpIf: x.gcpInterface, inside: x.insideCidr })),
    })),
  };
}

function runChild(name: CaseName, mode: Mode, workdir: string): ChildResult & { wallMs: number } {
  const started = process.hrtime.bigint();
  const out = execFileSync(process.execPath, [__filename, '--child', name, mode, workdir],
    { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  return { ...(JSON.parse(out) as ChildResult), wallMs };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function main(): void {
  // BENCH_WORKDIR=DIR keeps the cases' plans and outputs there (to profile one child: README "Benchmark").
  const kept = process.env.BENCH_WORKDIR;
  const workdir = kept ? (fs.mkdirSync(kept, { recursive: true }), kept) : fs.mkdtempSync(path.join(os.tmpdir(), 'dpg-bench-'));
  const rows: string[][] = [];
  const sizes: string[][] = [];
  let mismatch = false;
  try {
    for (const name of SELECTED) {
      const library = Array.from({ length: REPEATS }, () => runChild(name, 'library', workdir));
      const libraryJson = JSON.parse(fs.readFileSync(path.join(workdir, `out-${name}-library`, 'stacks', name, 'cdk.tf.json'), 'utf8'));
      writePlan(name, workdir, libraryJson);
      sizes.push([name, ...userDataSizes(libraryJson)]);
      const plain = Array.from({ length: REPEATS }, () => runChild(name, 'plain', workdir));
      const a = library[0].resources;
      const b = plain[0].resources;
      const types = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
      const differing = types.filter((k) => a[k] !== b[k]);
      if (differing.length > 0) {
        mismatch = true;
        console.error(`${name}: resource counts differ: ${differing.map((k) => `${k} ${a[k] ?? 0} vs ${b[k] ?? 0}`).join(', ')}`);
      }
      const total = (r: Record<string, number>) => Object.values(r).reduce((n, v) => n + v, 0);
      const lw = median(library.map((r) => r.wallMs));
      const pw = median(plain.map((r) => r.wallMs));
      const lm = median(library.map((r) => r.maxRssMiB));
      const pm = median(plain.map((r) => r.maxRssMiB));
      rows.push([name, String(total(a)), `${(lw / 1000).toFixed(2)} s`, `${(pw / 1000).toFixed(2)} s`, `${(lw / pw).toFixed(2)}x`,
        `${lm.toFixed(0)} MiB`, `${pm.toFixed(0)} MiB`, `${(lm / pm).toFixed(2)}x`]);
    }
  } finally {
    if (!kept) fs.rmSync(workdir, { recursive: true, force: true });
  }
  const header = ['case', 'resources', 'library wall', 'plain wall', 'ratio', 'library peak RSS', 'plain peak RSS', 'ratio'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(`synth of each case in its own process, median of ${REPEATS} runs (node ${process.version}, ${os.cpus().length} CPUs)`);
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(r));
  const sizeHeader = ['case', 'largest AWS user-data (gzipped, of 16384 B)', 'largest mesh document (of 65536 B)', 'largest scripts document (of 65536 B)'];
  const sizeWidths = sizeHeader.map((h, i) => Math.max(h.length, ...sizes.map((r) => r[i].length)));
  const sizeLine = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(sizeWidths[i])).join(' | ')} |`;
  console.log('');
  console.log(sizeLine(sizeHeader));
  console.log(sizeLine(sizeWidths.map((w) => '-'.repeat(w))));
  for (const r of sizes) console.log(sizeLine(r));
  if (mismatch) process.exitCode = 1;
}

/**
 * The largest AWS member's user-data gzipped (what issue 13's 8 KB target counts; AWS takes it as it is up to 16384
 * bytes, gzipped above), the largest mesh document and the largest scripts document, in bytes.
 */
function userDataSizes(json: any): [string, string, string] {
  const { gzipDeterministic } = require('../lib/render/gzip') as typeof import('../lib/render/gzip');
  const { meshDocumentFiles, scriptsDocumentFiles } = require('../lib/policy/secrets') as typeof import('../lib/policy/secrets');
  const gzipped = Object.values(json.resource.aws_instance ?? {}).map((r: any) =>
    r.user_data_base64 !== undefined ? Buffer.from(r.user_data_base64, 'base64').length : gzipDeterministic(Buffer.from(r.user_data)).length);
  const values: string[] = [...Object.values(json.resource.aws_secretsmanager_secret_version ?? {}).map((v: any) => v.secret_string),
    ...Object.values(json.resource.google_secret_manager_secret_version ?? {}).map((v: any) => v.secret_data)];
  const sizes = (is: (v: string) => boolean) => values.filter(is).map((v) => Buffer.byteLength(v));
  const largest = (found: number[]) => (found.length === 0 ? '-' : `${Math.max(...found)} B`);
  return [largest(gzipped), largest(sizes((v) => meshDocumentFiles(v) !== undefined)), largest(sizes((v) => scriptsDocumentFiles(v) !== undefined))];
}

if (process.argv[2] === '--child') child(process.argv[3] as CaseName, process.argv[4] as Mode, process.argv[5]);
else main();

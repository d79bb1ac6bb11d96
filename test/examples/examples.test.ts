/**
 * Every example synthesizes and is runnable on its own (cdktf.json points at its compiled main). Its snapshot shows
 * what it adds to the ledger reference stack (test/stacks), whose snapshot pins everything they share.
 */
import { Testing } from 'cdktf';
import * as fs from 'fs';
import * as path from 'path';
import { BackupsStack } from '../../examples/backups/main';
import { ExistingNetworkStack } from '../../examples/existing-network/main';
import { GoldenImageStack } from '../../examples/golden-image/main';
import { MultiCloudGeoshardStack } from '../../examples/multi-cloud-geoshard/main';
import { SingleRegionStack } from '../../examples/single-region/main';
import { TwoRegionAwsStack } from '../../examples/two-region-aws/main';
import { machinesOf } from '../../lib/pipeline';
import { LedgerStack } from '../../stacks/ledger';
import { annotationsOf } from '../policy/helpers';
import { differencesFrom, machinesCreated, resourcesOf, synthesizedOnce, synthJson } from '../stacks/helpers';

const EXAMPLES = {
  'single-region': (app: ReturnType<typeof Testing.app>) => new SingleRegionStack(app, 'single-region'),
  'two-region-aws': (app: ReturnType<typeof Testing.app>) => new TwoRegionAwsStack(app, 'two-region-aws'),
  'multi-cloud-geoshard': (app: ReturnType<typeof Testing.app>) => new MultiCloudGeoshardStack(app, 'multi-cloud-geoshard'),
  'golden-image': (app: ReturnType<typeof Testing.app>) => new GoldenImageStack(app, 'golden-image'),
  'existing-network': (app: ReturnType<typeof Testing.app>) => new ExistingNetworkStack(app, 'existing-network'),
  backups: (app: ReturnType<typeof Testing.app>) => new BackupsStack(app, 'backups'),
};

const reference = (() => {
  const stack = new LedgerStack(Testing.app(), 'ledger');
  return { json: synthJson(stack), topology: stack.fleet.topology };
})();

/** Each example synthesized once for the tests that only read it. */
const example = <K extends keyof typeof EXAMPLES>(name: K) => synthesizedOnce(name, () => EXAMPLES[name](Testing.app()) as ReturnType<typeof EXAMPLES[K]>);

describe.each(Object.keys(EXAMPLES) as (keyof typeof EXAMPLES)[])('%s', (name) => {
  test('what it adds to the ledger reference stack (snapshot)', () => {
    const { stack, json } = example(name);
    expect(differencesFrom(reference, { json, topology: stack.fleet.topology })).toMatchSnapshot();
  });

  test("every machine of the renderer's list exists once, with its address and node group", () => {
    const { stack, json } = example(name);
    const expected = machinesOf(stack.fleet.topology).map((m) => ({ name: m.name, privateIp: m.privateIp, group: m.nodeGroup }))
      .sort((a, b) => a.name.localeCompare(b.name));
    expect(machinesCreated(json)).toEqual(expected);
  });

  test('has a README and a cdktf.json that runs its compiled main', () => {
    const dir = path.resolve(__dirname, '../../examples', name);
    expect(fs.readFileSync(path.join(dir, 'README.md'), 'utf8')).toMatch(/^# /);
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'cdktf.json'), 'utf8'));
    expect(config.app).toBe(`node ../../dist/examples/${name}/main.js`);
    expect(fs.existsSync(path.join(dir, 'main.ts'))).toBe(true);
  });
});

test('the two-region example serves both regions with one provider, resources carrying their region', () => {
  const { json } = example('two-region-aws');
  expect(new Set(resourcesOf(json, 'aws_instance').map(([, r]) => r.provider))).toEqual(new Set(['aws']));
  expect(resourcesOf(json, 'aws_instance').map(([, r]) => r.region).sort()).toEqual(['us-east-1', 'us-east-1', 'us-east-1', 'us-west-2', 'us-west-2', 'us-west-2']);
});

test('the multi-cloud example keeps EU orders inside the EU groups', () => {
  const { stack, json } = example('multi-cloud-geoshard');
  const subscriptions = stack.fleet.topology.subscriptions;
  for (const s of subscriptions) {
    const eu = s.replicationSets.includes('geo_eu');
    expect(eu).toBe(['euc1', 'euw4'].includes(s.subscriber) && ['euc1', 'euw4'].includes(s.provider));
  }
  expect(resourcesOf(json, 'google_compute_vpn_tunnel')).toHaveLength(8);
});

test('the golden-image example boots its own images and installs nothing', () => {
  const { json } = example('golden-image');
  expect(Object.values(json.data!.aws_ami).map((ami: any) => [ami.owners, ami.filter[0].values])).toEqual([[['123456789012'], ['dpg-spock-pg17-*']]]);
  for (const [, r] of resourcesOf(json, 'google_compute_instance')) {
    expect(r.boot_disk.initialize_params.image).toBe('projects/acme-images/global/images/family/dpg-spock-pg17');
    expect(r.labels).toEqual(expect.objectContaining({ 'distributed-postgres-package-source': 'image', 'distributed-postgres-engine': 'spock' }));
  }
  for (const [, r] of resourcesOf(json, 'aws_instance')) expect(r.tags['distributed-postgres:package-source']).toBe('image');
});

test('the existing-network example creates no network, peering, VPN or zone of its own, and the policy pack finds nothing', () => {
  const { stack, json } = example('existing-network');
  const created = Object.keys(json.resource);
  for (const type of ['aws_vpc', 'aws_subnet', 'aws_route_table', 'aws_route', 'aws_nat_gateway', 'aws_internet_gateway', 'aws_vpc_peering_connection',
    'aws_vpn_gateway', 'aws_vpn_connection', 'aws_route53_zone', 'google_compute_network', 'google_compute_subnetwork', 'google_compute_router',
    'google_compute_router_nat', 'google_compute_ha_vpn_gateway', 'google_dns_managed_zone']) {
    expect({ type, created: created.includes(type) }).toEqual({ type, created: false });
  }
  expect(annotationsOf(stack).filter((a) => a.text.startsWith('[DPG-P'))).toEqual([]);
  // Every planned address is reserved in its subnet: AWS explicit reservations, GCP internal addresses.
  const topology = stack.fleet.topology;
  const awsPlanned = topology.nodeGroups.filter((g) => g.cloud === 'aws').flatMap((g) => [...g.members.map((m) => m.privateIp), ...g.loadBalancerIps]);
  expect(resourcesOf(json, 'aws_ec2_subnet_cidr_reservation').map(([, r]) => [r.cidr_block, r.reservation_type]).sort())
    .toEqual(awsPlanned.map((ip) => [`${ip}/32`, 'explicit']).sort());
  const gcp = topology.nodeGroups.find((g) => g.cloud === 'gcp')!;
  expect(resourcesOf(json, 'google_compute_address').map(([, r]) => r.address).sort())
    .toEqual([...gcp.members.map((m) => m.privateIp), ...gcp.loadBalancerIps].sort());
  // Machines are in the given subnets, at planned addresses inside their ranges; the firewall rules in the host project.
  expect(gcp.members.map((m) => m.privateIp)).toEqual(['10.40.0.10', '10.40.0.138', '10.40.1.10']);
  expect(topology.nodeGroups[0].members.map((m) => [m.zone, m.privateIp])).toEqual([['us-east-1a', '10.20.1.10'], ['us-east-1b', '10.20.2.10'], ['us-east-1c', '10.20.3.10']]);
  expect(topology.network.fleetCidrs).toEqual(['10.20.1.0/24', '10.20.2.0/24', '10.20.3.0/24', '10.30.1.0/24', '10.30.2.0/24', '10.30.3.0/24', '10.40.0.0/22']);
  for (const [, r] of resourcesOf(json, 'google_compute_firewall')) {
    expect([r.project, r.network]).toEqual(['network-host-prod', 'projects/network-host-prod/global/networks/shared']);
  }
  for (const [, r] of Object.entries(json.data!.aws_subnet)) expect((r as any).lifecycle.postcondition[0].condition).toMatch(/cidr_block == "10\.[23]0\.[123]\.0\/24"/);
});

test('the backups example keeps each group\'s backups in its own region, on its schedule', () => {
  const { stack, json } = example('backups');
  expect(resourcesOf(json, 'aws_s3_bucket').map(([, r]) => [r.bucket, r.region]).sort()).toEqual([
    ['acme-orders-backup-eu-central-1', 'eu-central-1'], ['acme-orders-backup-eu-west-1', 'eu-west-1'],
  ]);
  const byName = Object.fromEntries(stack.fleet.topology.nodeGroups.map((g) => [g.name, g.backup]));
  expect(byName.euw1).toMatchObject({ fullCalendar: 'Sat *-*-* 02:00:00 UTC', differentialCalendar: 'Mon,Tue,Wed,Thu,Fri,Sun *-*-* 02:00:00 UTC',
    incrementalCalendar: '*-*-* 00/2:30:00 UTC', retentionFull: 6, archiveTimeoutSeconds: 120, path: '/orders/euw1' });
  expect(byName.euc1?.incrementalCalendar).toBeUndefined();
});

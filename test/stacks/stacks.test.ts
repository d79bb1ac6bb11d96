/**
 * The reference stacks: the one whole-stack snapshot (the ledger: every resource as synthesized, user-data checked
 * against the renderer), what the rehearsal stack adds to it, determinism, the rehearsal's contract, the topology
 * picture.
 */
import { App, Testing } from 'cdktf';
import * as fs from 'fs';
import * as path from 'path';
import { LedgerStack } from '../../stacks/ledger';
import { RehearsalStack, rehearsalFleet, rehearsalNextFleet, withoutLastGroup } from '../../stacks/rehearsal';
import { fleetLockOf, formatFleetLock } from '../../lib/topology/lock';
import { rehearsalNativeFleet } from '../../stacks/rehearsal-native';
import { rehearsalSpockFleet } from '../../stacks/rehearsal-spock';
import { parse } from 'yaml';
import { buildApp } from '../../stacks/main';
import { gunzipSync } from 'zlib';
import { machinesOf, renderCloudConfig } from '../../lib/pipeline';
import { differencesFrom, machinesCreated, readable, resourcesOf, synthesizedOnce, synthJson, userDataOf } from './helpers';

function ledger() {
  return new LedgerStack(Testing.app(), 'ledger');
}

function rehearsal() {
  return new RehearsalStack(Testing.app(), 'rehearsal');
}

function rehearsalNative() {
  return new RehearsalStack(Testing.app(), 'rehearsal-native', rehearsalNativeFleet());
}

function rehearsalSpock() {
  return new RehearsalStack(Testing.app(), 'rehearsal-spock', rehearsalSpockFleet());
}

/** Each reference stack synthesized once for the tests that only read it. */
const BUILDERS = { ledger, rehearsal, 'rehearsal-native': rehearsalNative, 'rehearsal-spock': rehearsalSpock };
const once = <K extends keyof typeof BUILDERS>(name: K) => synthesizedOnce(name, BUILDERS[name] as () => ReturnType<typeof BUILDERS[K]>);

test('rehearsal-next (one more global table) changes the node groups\' mesh documents and nothing else: no machine', () => {
  const strip = (json: Record<string, any>) => JSON.parse(JSON.stringify(json, (key, value) => (key === '//' ? undefined : value)));
  const before = strip(once('rehearsal').json);
  const after = strip(synthJson(new RehearsalStack(Testing.app(), 'rehearsal', rehearsalNextFleet())));
  const changed: string[] = [];
  for (const type of new Set([...Object.keys(before.resource), ...Object.keys(after.resource)])) {
    for (const id of new Set([...Object.keys(before.resource[type] ?? {}), ...Object.keys(after.resource[type] ?? {})])) {
      if (JSON.stringify(before.resource[type]?.[id]) !== JSON.stringify(after.resource[type]?.[id])) changed.push(`${type}.${id}`);
    }
  }
  expect(changed.map((c) => c.replace(/_[0-9A-F]{8}$/, ''))).toEqual([
    'aws_secretsmanager_secret_version.rehearse_aws-us-east-1_secrets_rehearse-mesh-a-value',
    'aws_secretsmanager_secret_version.rehearse_aws-us-east-2_secrets_rehearse-mesh-b-value',
  ]);
  expect(JSON.stringify(before.data)).toBe(JSON.stringify(after.data));
});

test('rehearsal-shrunk (node group b removed) leaves every machine of a as it was and changes a\'s mesh document only', () => {
  const strip = (json: Record<string, any>) => JSON.parse(JSON.stringify(json, (key, value) => (key === '//' ? undefined : value)));
  const before = strip(once('rehearsal').json);
  const after = strip(synthJson(new RehearsalStack(Testing.app(), 'rehearsal', withoutLastGroup(rehearsalFleet()))));
  const changed: string[] = [];
  for (const type of Object.keys(after.resource)) {
    for (const id of Object.keys(after.resource[type])) {
      if (JSON.stringify(before.resource[type]?.[id]) !== JSON.stringify(after.resource[type][id])) changed.push(`${type}.${id}`);
    }
  }
  // What stays is unchanged but for group a's mesh document, the private zone (b's VPC leaves it) and a's firewall
  // rules (the fleet's ranges, summarized, no longer hold b's: Postgres, Patroni and the exporters).
  expect(changed.map((c) => c.replace(/_[0-9A-F]{8}$/, ''))).toEqual([
    'aws_route53_zone.rehearse_aws-private-zone',
    'aws_secretsmanager_secret_version.rehearse_aws-us-east-1_secrets_rehearse-mesh-a-value',
    'aws_vpc_security_group_ingress_rule.rehearse_group-a_node-exporter-from-10-64-0-0-20',
    'aws_vpc_security_group_ingress_rule.rehearse_group-a_patroni-from-10-64-0-0-20',
    'aws_vpc_security_group_ingress_rule.rehearse_group-a_postgres-exporter-from-10-64-0-0-20',
    'aws_vpc_security_group_ingress_rule.rehearse_group-a_postgres-from-10-64-0-0-20',
  ]);
  const machines = (json: Record<string, any>) => Object.values(json.resource.aws_instance as Record<string, any>).map((m) => m.tags.Name).sort();
  expect(machines(after)).toEqual(['rehearse-a-pg1', 'rehearse-a-pg2', 'rehearse-a-pg3']);
  expect(machines(before)).toHaveLength(6);
});

test('the ledger stack\'s committed lock is what its declaration records (npm run synth writes it after an accepted change)', () => {
  const { stack } = once('ledger');
  expect(fs.readFileSync(path.join(__dirname, '../../stacks/ledger.lock.json'), 'utf8')).toBe(formatFleetLock(fleetLockOf(stack.fleet.topology)));
});

test('ledger stack snapshot', () => {
  const { stack, json } = once('ledger');
  expect(readable(json, stack.fleet.topology)).toMatchSnapshot();
});

test('rehearsal stack: what it adds to the ledger snapshot', () => {
  const reference = once('ledger');
  const stack = once('rehearsal');
  expect(differencesFrom(
    { json: reference.json, topology: reference.stack.fleet.topology },
    { json: stack.json, topology: stack.stack.fleet.topology },
  )).toMatchSnapshot();
});

test.each([
  ['rehearsal-native' as const],
  ['rehearsal-spock' as const],
])('%s stack: what it adds to the rehearsal snapshot', (name) => {
  const reference = once('rehearsal');
  const stack = once(name);
  expect(differencesFrom(
    { json: reference.json, topology: reference.stack.fleet.topology },
    { json: stack.json, topology: stack.stack.fleet.topology },
  )).toMatchSnapshot();
});

test('synth is deterministic: same declaration, byte-identical JSON (what lets the other tests share one synth)', () => {
  for (const name of Object.keys(BUILDERS) as (keyof typeof BUILDERS)[]) {
    expect(Testing.synth(BUILDERS[name]())).toEqual(once(name).text);
  }
});

/** The cloud-config a rehearsal machine boots with. */
function cloudConfigOf(instance: Record<string, any>): Record<string, any> {
  return parse(instance.user_data ?? gunzipSync(Buffer.from(instance.user_data_base64, 'base64')).toString('utf8'));
}

test.each([
  ['rehearsal' as const, { image: 'debian-12', 'package-source': 'distro', postgres: '15', engine: 'pglogical' }],
  ['rehearsal-native' as const, { image: 'debian-13', 'package-source': 'distro', postgres: '17', engine: 'native' }],
  ['rehearsal-spock' as const, { image: 'debian-12', 'package-source': 'image', postgres: '15', engine: 'spock' }],
])('%s: 6 machines, each tagged with what it runs (the inventory contract the rehearsal reads)', (name, expected) => {
  const { stack, json } = once(name);
  const instances = resourcesOf(json, 'aws_instance');
  expect(instances).toHaveLength(6);
  for (const [, r] of instances) {
    expect(r.tags).toEqual(expect.objectContaining({
      'distributed-postgres:image': expected.image,
      'distributed-postgres:package-source': expected['package-source'],
      'distributed-postgres:postgres': expected.postgres,
      'distributed-postgres:engine': expected.engine,
    }));
    const text = r.user_data ?? gunzipSync(Buffer.from(r.user_data_base64, 'base64')).toString('utf8');
    expect(text).toEqual(renderCloudConfig(stack.fleet.topology, r.tags.Name));
  }
});

test('rehearsal-native: Debian 13 machines install PostgreSQL 17, Patroni, etcd, python3-etcd and pgBackRest (2.55.1, PostgreSQL 17 support) from the distro', () => {
  const { json } = once('rehearsal-native');
  expect(Object.values(json.data!.aws_ami).map((ami: any) => ({ owners: ami.owners, name: ami.filter[0].values[0] })))
    .toEqual([{ owners: ['136693071363'], name: 'debian-13-amd64-*' }, { owners: ['136693071363'], name: 'debian-13-amd64-*' }]);
  const config = cloudConfigOf(resourcesOf(json, 'aws_instance')[0][1]);
  expect(config.packages).toEqual(['curl', 'etcd-client', 'etcd-server', 'openssl', 'patroni', 'pgbackrest', 'postgresql-17',
    'prometheus-node-exporter', 'prometheus-postgres-exporter', 'python3-boto3', 'python3-etcd', 'python3-yaml']);
  expect(config.package_update).toBe(true);
  // Patroni 4: ttl >= 20 and loop_wait + 2 * retry_timeout <= ttl (FAST: 20 / 2 / 9).
  const patroni = parse(config.write_files.find((f: any) => f.path === '/etc/distributed-postgres/patroni.yml.template').content);
  expect([patroni.bootstrap.dcs.ttl, patroni.bootstrap.dcs.loop_wait, patroni.bootstrap.dcs.retry_timeout]).toEqual([20, 2, 9]);
  expect(patroni.postgresql.bin_dir).toBe('/usr/lib/postgresql/17/bin');
});

test('rehearsal-spock: the golden image is the newest dpg-spock-pg15-* AMI of the account, and cloud-init installs nothing', () => {
  const { stack, json } = once('rehearsal-spock');
  const amis = Object.entries(json.data!.aws_ami);
  expect(amis.map(([, ami]: [string, any]) => ({ owners: ami.owners, most_recent: ami.most_recent, filter: ami.filter, region: ami.region })))
    .toEqual(['us-east-1', 'us-east-2'].map((region) => ({
      owners: ['self'],
      most_recent: true,
      filter: [{ name: 'name', values: ['dpg-spock-pg15-*'] }, { name: 'architecture', values: ['x86_64'] }],
      region,
    })));
  for (const [, r] of resourcesOf(json, 'aws_instance')) {
    expect(r.ami).toMatch(/^\$\{data\.aws_ami\.[^.]+\.id\}$/);
    expect(r.lifecycle.ignore_changes).toContain('ami');
    const config = cloudConfigOf(r);
    expect(config.packages).toBeUndefined();
    expect(config.apt).toBeUndefined();
    expect(config.bootcmd).toBeUndefined();
    expect(config.package_update).toBe(false);
    expect(config.package_upgrade).toBe(false);
  }
  const topology = stack.fleet.topology;
  expect(topology.replication.snowflakeIds).toBe(true);
  expect(topology.replication.deltaApplyColumns).toEqual([{ table: 'public.accounts', column: 'balance' }]);
  expect(topology.geoshards.map((g) => ({ name: g.name, nodeGroups: g.nodeGroups }))).toEqual([{ name: 'eu', nodeGroups: ['b'] }]);
});

test('the rehearsal stack: 2 AWS groups x 3 members, each aws_instance named by its machine and carrying user-data', () => {
  const { stack, json } = once('rehearsal');
  const instances = resourcesOf(json, 'aws_instance');
  const machines = stack.fleet.topology.nodeGroups.flatMap((g) => g.members.map((m) => ({ name: m.name, ip: m.privateIp })));
  expect(machines).toHaveLength(6);
  expect(instances.map(([, r]) => ({ name: r.tags.Name, ip: r.private_ip })).sort((a, b) => a.name.localeCompare(b.name))).toEqual(machines);
  // Each machine boots with exactly the renderer's cloud-config for it (gzip+base64 when above AWS's 16 KB).
  for (const [, r] of instances) {
    expect(userDataOf(r)).toEqual(expect.any(String));
    const text = r.user_data ?? gunzipSync(Buffer.from(r.user_data_base64, 'base64')).toString('utf8');
    expect(text).toEqual(renderCloudConfig(stack.fleet.topology, r.tags.Name));
  }
  expect(stack.fleet.topology.replication.engine).toBe('pglogical');
  expect(stack.fleet.topology.nodeGroups.map((g) => g.image)).toEqual(['debian-12', 'debian-12']);
});

test('the app holds the ledger and rehearsal stacks, and synth writes the topology picture and the alert rules next to each stack', () => {
  const outdir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'dpg-synth-'));
  try {
    const app: App = buildApp(outdir);
    app.synth();
    for (const stack of ['ledger', 'rehearsal', 'rehearsal-next', 'rehearsal-shrunk', 'rehearsal-native', 'rehearsal-native-shrunk', 'rehearsal-spock']) {
      const dir = path.join(outdir, 'stacks', stack);
      expect(fs.existsSync(path.join(dir, 'cdk.tf.json'))).toBe(true);
      const picture = fs.readFileSync(path.join(dir, 'topology.mmd'), 'utf8');
      expect(picture).toMatch(/^%% .*\nflowchart LR\n/m);
      expect(fs.readFileSync(path.join(dir, 'alerts.rules.yml'), 'utf8')).toMatch(/^# .*\n.*\n\ngroups:\n  - name: [a-z0-9-]+-distributed-postgres\n/);
    }
    const ledgerPicture = fs.readFileSync(path.join(outdir, 'stacks', 'ledger', 'topology.mmd'), 'utf8');
    expect(ledgerPicture).toContain('geoshard eu');
    expect(ledgerPicture).toContain('ledger-euw3-pg3');
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});

test("the snapshot marker flags user-data that is not the renderer's output", () => {
  const { stack, json } = once('rehearsal');
  const [id, instance] = resourcesOf(json, 'aws_instance')[0];
  json.resource.aws_instance[id] = { ...instance, user_data: '#cloud-config\n{}\n', user_data_base64: undefined };
  const shown = (readable(json, stack.fleet.topology) as any).resource.aws_instance[id].user_data;
  expect(shown).toMatch(new RegExp(`^\\[user-data of ${instance.tags.Name}: NOT the renderer's output, 17 bytes, sha256 [0-9a-f]{16}\\]$`));
});

test("every machine of the renderer's list exists once, with its address and zone, and nothing else", () => {
  for (const name of Object.keys(BUILDERS) as (keyof typeof BUILDERS)[]) {
    const { stack, json } = once(name);
    const expected = machinesOf(stack.fleet.topology).map((m) => ({ name: m.name, privateIp: m.privateIp, group: m.nodeGroup }))
      .sort((a, b) => a.name.localeCompare(b.name));
    expect(machinesCreated(json)).toEqual(expected);
  }
});

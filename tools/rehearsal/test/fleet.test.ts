/**
 * What the rehearsal reads from a synthesized stack (and only from it) must agree with what the library planned:
 * machines, addresses, node groups, the database, secrets, engine, global tables and geoshards. The test imports the
 * library and the reference stacks as the oracle; the tool's src/ never does.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { gzipSync } from 'zlib';
import { resolveFleet } from '../../../lib/pipeline';
import { readFleet } from '../src/fleet';
import { decodeUserData, readSynthesizedStack } from '../src/stack';
import { caSecretOf } from '../src/secrets';
import { App } from 'cdktf';
import { LedgerStack } from '../../../stacks/ledger';
import { RehearsalStack, rehearsalFleet } from '../../../stacks/rehearsal';

const out = mkdtempSync(path.join(tmpdir(), 'rehearsal-synth-'));
beforeAll(() => {
  // The two stacks these tests read, synthesized to disk as `cdktf synth` writes them (stacks/main.ts holds them too).
  const app = new App({ outdir: out });
  new LedgerStack(app, 'ledger');
  new RehearsalStack(app, 'rehearsal');
  app.synth();
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

test('the rehearsal stack: machines, addresses and groups as the topology planned them', () => {
  const stack = readSynthesizedStack(path.join(out, 'stacks', 'rehearsal'));
  const fleet = readFleet(stack);
  const { topology } = resolveFleet(rehearsalFleet(), 'rehearsal/rehearse', 'rehearse');
  expect(fleet.name).toBe(topology.fleetName);
  expect(fleet.groups.map((g) => g.name)).toEqual(topology.nodeGroups.map((g) => g.name));
  for (const planned of topology.nodeGroups) {
    const group = fleet.groups.find((g) => g.name === planned.name)!;
    expect(group.members.map((m) => [m.machine.name, m.machine.privateIp]))
      .toEqual(planned.members.map((m) => [m.name, m.privateIp]));
    expect(group.members.every((m) => m.runsEtcd)).toBe(true);
    expect(group.members.map((m) => m.patroni!.scope)).toEqual(planned.members.map(() => planned.patroniScope));
    // The client's address lies in the group's first subnet and is nobody's planned address.
    expect(group.subnets).toContain(group.clientSubnet);
    expect(stack.addressesInUse.has(group.clientIp)).toBe(false);
  }
  expect(fleet.database).toBe(topology.postgres.database);
  expect(fleet.superuser).toBe(topology.postgres.superuser);
  expect(fleet.superuserSecret).toBe(topology.secrets.superuserPassword);
  expect(fleet.restSecret).toBe(topology.secrets.restApiPassword);
  const documents = topology.nodeGroups.flatMap((g) => [g.meshDocument, g.scriptsDocument]).sort();
  expect(fleet.secretNames).toEqual([...topology.secrets.all, ...documents].sort());
  // The mesh and scripts documents are stored as the stack holds them; the global tables below are read from them.
  expect(Object.keys(fleet.literalSecretValues).sort()).toEqual(documents);
  // Each machine's files include its part of its group's scripts document (what load-scripts writes).
  for (const m of fleet.machines) expect(m.config.writeFiles.map((f) => f.path)).toContain('/usr/local/sbin/distributed-postgres-bootstrap');
  expect(fleet.caSecret).toBe(topology.secrets.tlsCa);
  expect(fleet.engine).toBe('pglogical');
  expect(fleet.globalTables).toEqual(topology.replication.globalTables);
  expect(fleet.geoshards).toEqual([]);
  expect(fleet.timing).toEqual({ ttl: topology.patroni.ttl, loopWait: topology.patroni.loopWait, retryTimeout: topology.patroni.retryTimeout });
  expect(fleet.restTls).toBe(true);
  // The user-data is the exact text the cloud gets: the JSON's gzip+base64 decodes to a #cloud-config.
  for (const m of stack.machines) expect(m.userData.startsWith('#cloud-config\n')).toBe(true);
});

test('the ledger stack (AWS + GCP, spock, eu geoshard): geoshard residency is read from the user-data', () => {
  const fleet = readFleet(readSynthesizedStack(path.join(out, 'stacks', 'ledger', 'cdk.tf.json')));
  expect(fleet.engine).toBe('spock');
  expect(fleet.machines.some((m) => m.machine.cloud === 'gcp')).toBe(true);
  expect(fleet.geoshards).toEqual([
    { table: 'ledger.entries', partition: 'ledger.entries_eu', values: ['eu'], groups: ['euw1', 'euw3'] },
  ]);
  expect(fleet.globalTables).toEqual(['ledger.accounts', 'ledger.currencies']);
  // Delta-apply columns as the library declared them; the writers use the first table that is not a balance table.
  expect(fleet.deltaApplyColumns).toEqual([{ table: 'ledger.accounts', column: 'balance' }]);
  expect(fleet.writerTable).toBe('ledger.currencies');
});

test('pglogical stack: no delta-apply columns, no snowflake ids, the writers use the first global table', () => {
  const fleet = readFleet(readSynthesizedStack(path.join(out, 'stacks', 'rehearsal')));
  expect(fleet.deltaApplyColumns).toEqual([]);
  expect(fleet.snowflakeIds).toBe(false);
  expect(fleet.writerTable).toBe(fleet.globalTables[0]);
});

test('user-data decoding: plain, base64 and gzip+base64', () => {
  const text = '#cloud-config\nwrite_files: []\n';
  expect(decodeUserData(text, false)).toEqual({ text, encoding: 'plain' });
  expect(decodeUserData(Buffer.from(text).toString('base64'), true)).toEqual({ text, encoding: 'base64' });
  expect(decodeUserData(gzipSync(text).toString('base64'), true)).toEqual({ text, encoding: 'gzip+base64' });
});

test('a user-data that depends on apply-time values is refused with the reason', () => {
  const file = path.join(out, 'stacks', 'rehearsal', 'cdk.tf.json');
  const json = JSON.parse(readFileSync(file, 'utf8'));
  const first = Object.values(json.resource.aws_instance)[0] as Record<string, unknown>;
  first.private_ip = '${aws_network_interface.x.private_ip}';
  const broken = path.join(out, 'broken.tf.json');
  writeFileSync(broken, JSON.stringify(json));
  expect(() => readSynthesizedStack(broken)).toThrow(/Terraform expression .* known only after apply/);
});

test('the CA secret: the one named like it, else the only one Terraform leaves empty', () => {
  expect(caSecretOf(['x-postgres-superuser', 'x-tls-ca'], ['x-postgres-superuser'])).toBe('x-tls-ca');
  expect(caSecretOf(['a', 'b', 'c'], ['a', 'b'])).toBe('c');
  expect(() => caSecretOf(['a', 'b'], [])).toThrow(/cannot tell which secret/);
});

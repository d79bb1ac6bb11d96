/**
 * The reference stacks: the one whole-stack snapshot (the ledger: every resource as synthesized, user-data checked
 * against the renderer), what the rehearsal stack adds to it, determinism, the rehearsal's contract, the topology
 * picture.
 */
import { App, Testing } from 'cdktf';
import * as fs from 'fs';
import * as path from 'path';
import { LedgerStack } from '../../stacks/ledger';
import { RehearsalStack } from '../../stacks/rehearsal';
import { buildApp } from '../../stacks/main';
import { gunzipSync } from 'zlib';
import { machinesOf, renderCloudConfig } from '../../lib/pipeline';
import { differencesFrom, machinesCreated, readable, resourcesOf, synthJson, userDataOf } from './helpers';

function ledger() {
  return new LedgerStack(Testing.app(), 'ledger');
}

function rehearsal() {
  return new RehearsalStack(Testing.app(), 'rehearsal');
}

test('ledger stack snapshot', () => {
  const stack = ledger();
  expect(readable(synthJson(stack), stack.fleet.topology)).toMatchSnapshot();
});

test('rehearsal stack: what it adds to the ledger snapshot', () => {
  const reference = ledger();
  const stack = rehearsal();
  expect(differencesFrom(
    { json: synthJson(reference), topology: reference.fleet.topology },
    { json: synthJson(stack), topology: stack.fleet.topology },
  )).toMatchSnapshot();
});

test('synth is deterministic: same declaration, byte-identical JSON', () => {
  expect(Testing.synth(ledger())).toEqual(Testing.synth(ledger()));
  expect(Testing.synth(rehearsal())).toEqual(Testing.synth(rehearsal()));
});

test('the rehearsal stack: 2 AWS groups x 3 members, each aws_instance named by its machine and carrying user-data', () => {
  const stack = rehearsal();
  const json = synthJson(stack);
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

test('the app holds the ledger and rehearsal stacks, and synth writes the topology picture next to each stack', () => {
  const outdir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'dpg-synth-'));
  try {
    const app: App = buildApp(outdir);
    app.synth();
    for (const stack of ['ledger', 'rehearsal']) {
      const dir = path.join(outdir, 'stacks', stack);
      expect(fs.existsSync(path.join(dir, 'cdk.tf.json'))).toBe(true);
      const picture = fs.readFileSync(path.join(dir, 'topology.mmd'), 'utf8');
      expect(picture).toMatch(/^%% .*\nflowchart LR\n/m);
    }
    const ledgerPicture = fs.readFileSync(path.join(outdir, 'stacks', 'ledger', 'topology.mmd'), 'utf8');
    expect(ledgerPicture).toContain('geoshard eu');
    expect(ledgerPicture).toContain('ledger-euw3-pg3');
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});

test("the snapshot marker flags user-data that is not the renderer's output", () => {
  const stack = rehearsal();
  const json = synthJson(stack);
  const [id, instance] = resourcesOf(json, 'aws_instance')[0];
  json.resource.aws_instance[id] = { ...instance, user_data: '#cloud-config\n{}\n', user_data_base64: undefined };
  const shown = (readable(json, stack.fleet.topology) as any).resource.aws_instance[id].user_data;
  expect(shown).toMatch(new RegExp(`^\\[user-data of ${instance.tags.Name}: NOT the renderer's output, 17 bytes, sha256 [0-9a-f]{16}\\]$`));
});

test("every machine of the renderer's list exists once, with its address and zone, and nothing else", () => {
  for (const stack of [ledger(), rehearsal()]) {
    const expected = machinesOf(stack.fleet.topology).map((m) => ({ name: m.name, privateIp: m.privateIp, group: m.nodeGroup }))
      .sort((a, b) => a.name.localeCompare(b.name));
    expect(machinesCreated(synthJson(stack))).toEqual(expected);
  }
});

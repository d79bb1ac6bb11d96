/**
 * Stable identities: changing one prop of one node group changes only that group's resources, and growing the fleet
 * never renames (so never replaces) an existing machine, disk, secret or address, nor changes its user-data.
 */
import { Cloud, DistributedPostgresProps } from '../../lib';
import { ledgerFleet } from '../fixtures/fleets';
import { fleetStack, ownedBy, synthesizedOnce, synthJson, TfJson } from './helpers';

/** The ledger fleet as declared, synthesized once: the base each test compares a changed declaration with. */
const ledger = (): TfJson => synthesizedOnce('ledger', () => fleetStack(ledgerFleet()).stack).json;

function flatten(json: TfJson): Map<string, string> {
  const out = new Map<string, string>();
  for (const section of ['resource', 'data'] as const) {
    for (const [type, items] of Object.entries(json[section] ?? {})) {
      for (const [id, body] of Object.entries(items)) out.set(`${section}.${type}.${id}`, JSON.stringify(body));
    }
  }
  return out;
}

/** What a changed declaration of the ledger fleet changes, adds and removes in the synthesized JSON. */
function changedKeys(after: DistributedPostgresProps): { changed: string[]; added: string[]; removed: string[] } {
  const a = flatten(ledger());
  const b = flatten(synthJson(fleetStack(after).stack));
  return {
    changed: [...a.keys()].filter((k) => b.has(k) && a.get(k) !== b.get(k)).sort(),
    added: [...b.keys()].filter((k) => !a.has(k)).sort(),
    removed: [...a.keys()].filter((k) => !b.has(k)).sort(),
  };
}

test("changing one node group's machine type changes only that group's machines", () => {
  const after = ledgerFleet();
  after.nodeGroups[1] = { ...after.nodeGroups[1], machineType: 'r6i.xlarge' };
  const diff = changedKeys(after);
  expect(diff.added).toEqual([]);
  expect(diff.removed).toEqual([]);
  expect(diff.changed.map((k) => k.replace(/_[0-9A-F]{8}$/, ''))).toEqual([
    'resource.aws_instance.fleet_group-euw1_ledger-euw1-pg1_machine',
    'resource.aws_instance.fleet_group-euw1_ledger-euw1-pg2_machine',
    'resource.aws_instance.fleet_group-euw1_ledger-euw1-pg3_machine',
  ]);
  for (const k of diff.changed) expect(ownedBy(k.split('.')[2], 'group-euw1')).toBe(true);
});

test("changing one GCP group's data disk changes only that group's disks", () => {
  const after = ledgerFleet();
  after.nodeGroups[2] = { ...after.nodeGroups[2], dataDisk: { sizeGiB: 500 } };
  const diff = changedKeys(after);
  expect(diff.added).toEqual([]);
  expect(diff.removed).toEqual([]);
  expect(diff.changed).toHaveLength(3);
  for (const k of diff.changed) {
    expect(k).toMatch(/^resource\.google_compute_disk\./);
    expect(ownedBy(k.split('.')[2], 'group-euw3')).toBe(true);
  }
});

// The mesh (subscriptions, Patroni's pg_hba and slots) is in the mesh documents and the capacity is sized for
// replication.maxNodeGroups, so even the user-data of every existing machine stays byte for byte the same.
test('adding a node group keeps every existing machine, disk, secret and address, user-data included', () => {
  const grown = { ...ledgerFleet(), nodeGroups: [...ledgerFleet().nodeGroups, { name: 'apse1', cloud: Cloud.AWS, region: 'ap-southeast-1' }] };
  const before = ledger();
  const after = synthJson(fleetStack(grown).stack);
  const stateful = ['aws_instance', 'aws_ebs_volume', 'aws_volume_attachment', 'aws_secretsmanager_secret', 'google_compute_instance',
    'google_compute_disk', 'google_compute_address', 'google_secret_manager_secret', 'terraform_data', 'aws_vpc', 'google_compute_network'];
  const b = before;
  const a = after;
  for (const type of stateful) {
    for (const [id, body] of Object.entries(b.resource[type] ?? {})) {
      expect(a.resource[type]?.[id]).toBeDefined();
      expect(a.resource[type][id]).toEqual(body);
    }
  }
});

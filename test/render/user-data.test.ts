/** Deterministic rendering and encoding; the clouds' user-data limits. */
import { randomBytes } from 'crypto';
import { gzipSync } from 'fflate';
import { gunzipSync } from 'zlib';
import { Cloud, DistributedPostgresProps, EtcdPlacement, ImageFlavour, PackageSource, ReplicationEngine } from '../../lib';
import { encodeUserData, machinesOf, renderCloudConfig } from '../../lib/render';
import { groupScriptsDocument } from '../../lib/render/cloud-config';
import { gzipDeterministic } from '../../lib/render/gzip';
import { ScriptsDocumentTooLargeError, scriptsDocumentOf } from '../../lib/render/scripts-document';
import { ledgerFleet, pglogicalFleet, singleGroupDedicatedEtcd } from '../fixtures/fleets';
import { run, topologyOf } from './helpers';

test('rendering is byte-identical twice (from two separately resolved topologies)', () => {
  for (const props of [ledgerFleet(), pglogicalFleet(), singleGroupDedicatedEtcd()]) {
    const a = topologyOf(props);
    const b = topologyOf(props);
    for (const m of machinesOf(a)) expect(renderCloudConfig(b, m.name)).toBe(renderCloudConfig(a, m.name));
  }
});

test('machinesOf lists every machine once, in a fixed order; an unknown host is a clear error', () => {
  const topology = topologyOf(singleGroupDedicatedEtcd());
  expect(machinesOf(topology)).toEqual([
    ...topology.nodeGroups[0].members.map((m) => ({ name: m.name, nodeGroup: 'main', role: 'postgres', zone: m.zone, privateIp: m.privateIp })),
    ...topology.nodeGroups[0].etcd.members.map((e) => ({ name: e.name, nodeGroup: 'main', role: 'etcd', zone: e.zone, privateIp: e.privateIp })),
  ]);
  const ledger = topologyOf(ledgerFleet());
  expect(machinesOf(ledger).map((m) => m.name)).toEqual(ledger.nodeGroups.flatMap((g) => g.members.map((m) => m.name)));
  expect(() => renderCloudConfig(ledger, 'ledger-nowhere-pg1')).toThrow(/no machine named 'ledger-nowhere-pg1'.*ledger-use1-pg1/);
});

test('no rendered text holds a Terraform template sequence (GCP user-data is a plain Terraform string)', () => {
  // `${...}` would be interpolated and `%{...}` taken as a directive: a shell `${VAR:-x}` breaks `terraform plan`.
  for (const props of [ledgerFleet(), pglogicalFleet(), singleGroupDedicatedEtcd()]) {
    const topology = topologyOf(props);
    for (const m of machinesOf(topology)) {
      const text = renderCloudConfig(topology, m.name);
      expect({ machine: m.name, found: text.match(/.{0,40}[$%]\{.{0,20}/g) }).toEqual({ machine: m.name, found: null });
    }
  }
});

describe('gzip', () => {
  const samples = [
    Buffer.alloc(0), Buffer.from('a'), Buffer.from('abcabcabcabcabcabcabc'), Buffer.alloc(70_000, 'x'), randomBytes(5000),
    Buffer.from(renderCloudConfig(topologyOf(ledgerFleet()), 'ledger-use1-pg1')),
    Buffer.concat([randomBytes(40_000), randomBytes(40_000).toString('hex').length ? Buffer.from('tail'.repeat(9000)) : Buffer.alloc(0)]),
  ];

  test.each(samples.map((s, i) => [i, s] as const))('sample %i inflates back with zlib', (_i, sample) => {
    const gz = gzipDeterministic(sample);
    expect(gunzipSync(gz).equals(sample)).toBe(true);
    // Fixed header: deflate, no flags, mtime 0, extra flags 2 (maximum compression), OS Unix.
    expect(gz.subarray(0, 10).toString('hex')).toBe('1f8b0800000000000203');
  });

  test('random inputs of every shape inflate back (200 seeded samples: tiny alphabets, no matches, long runs)', () => {
    let seed = 42;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let k = 0; k < 200; k++) {
      const alphabet = 1 + Math.floor(next() * 256);
      const length = Math.floor(next() ** 2 * 20_000);
      const sample = Buffer.from(Array.from({ length }, () => Math.floor(next() * alphabet)));
      expect(gunzipSync(gzipDeterministic(sample)).equals(sample)).toBe(true);
    }
  });

  test('GNU gzip, another inflater, accepts it too', () => {
    const text = renderCloudConfig(topologyOf(pglogicalFleet()), 'rehearse-a-pg1');
    const out = run('gzip', ['-dc'], { input: gzipDeterministic(Buffer.from(text)) });
    expect(out.code).toBe(0);
    expect(out.stdout).toBe(text);
  });

  test('a repeated input gets the same bytes as fflate gives afresh, in a buffer of its own (the memo of outputs)', () => {
    const text = Buffer.from(renderCloudConfig(topologyOf(pglogicalFleet()), 'rehearse-a-pg1'));
    expect(text.length).toBeGreaterThan(4096);
    const fresh = Buffer.from(gzipSync(text, { level: 9, mem: 2, mtime: 0 }));
    const first = gzipDeterministic(text);
    expect(first.equals(fresh)).toBe(true);
    first.fill(0);
    const again = gzipDeterministic(Buffer.from(text));
    expect(again).not.toBe(first);
    expect(again.equals(fresh)).toBe(true);
    expect(gzipDeterministic(text.toString('utf8')).equals(fresh)).toBe(true);
  });

  test('compresses a cloud-config to about a third', () => {
    const text = Buffer.from(renderCloudConfig(topologyOf(ledgerFleet()), 'ledger-use1-pg1'));
    expect(gzipDeterministic(text).length).toBeLessThan(text.length * 0.4);
  });
});

describe('encodeUserData', () => {
  const ledger = topologyOf(ledgerFleet());

  test('AWS: gzip + base64 above 16384 bytes, deterministic, and what cloud-init gets back is the text', () => {
    // A member's cloud-config with a user's long comment block: more than AWS takes as it is.
    const text = `${renderCloudConfig(ledger, 'ledger-use1-pg1')}${Array.from({ length: 400 }, (_, i) => `# note ${i}: kept for the operators\n`).join('')}`;
    expect(Buffer.byteLength(text)).toBeGreaterThan(16384);
    const a = encodeUserData('aws', text, 'ledger-use1-pg1');
    const b = encodeUserData('aws', text, 'ledger-use1-pg1');
    expect(a).toEqual(b);
    expect(a.encoding).toBe('gzip+base64');
    const raw = Buffer.from(a.value, 'base64');
    expect(raw.length).toBeLessThanOrEqual(16384);
    expect(gunzipSync(raw).toString()).toBe(text);
  });

  test('AWS: plain when it fits (up to exactly 16384 bytes), gzipped from one byte more', () => {
    const solo = topologyOf({ ...singleGroupDedicatedEtcd(), nodeGroups: [{ name: 'main', cloud: Cloud.AWS, region: 'us-east-1', etcd: { placement: EtcdPlacement.DEDICATED } }] });
    const machine = renderCloudConfig(solo, 'solo-main-etcd1');
    const padded = (size: number) => `${machine.slice(0, 8000)}\n# ${'x'.repeat(size - 8003)}`;
    expect(Buffer.byteLength(padded(16384))).toBe(16384);
    expect(encodeUserData('aws', padded(16384), 'solo-main-etcd1')).toEqual({ encoding: 'plain', value: padded(16384) });
    expect(encodeUserData('aws', padded(16385), 'solo-main-etcd1').encoding).toBe('gzip+base64');
  });

  test('GCP: plain up to 256 KiB', () => {
    const text = renderCloudConfig(ledger, 'ledger-euw3-pg1');
    expect(encodeUserData('gcp', text, 'ledger-euw3-pg1')).toEqual({ encoding: 'plain', value: text });
  });

  test('too large even gzipped: a clear error naming the host and the sizes', () => {
    const noise = `#cloud-config\n# ${randomBytes(20_000).toString('base64')}\n`;
    expect(() => encodeUserData('aws', noise, 'big-host-pg1')).toThrow(/'big-host-pg1' is \d+ bytes \(\d+ gzipped\).*16384/);
    expect(() => encodeUserData('gcp', noise.repeat(10), 'big-host-pg1')).toThrow(/'big-host-pg1' is \d+ bytes.*262144/);
  });

  test('the largest realistic member stays within 8 KB gzipped: 8 node groups of 5, PGDG, 12 global tables, 4 geoshards', () => {
    const names = ['use1', 'use2', 'usw2', 'euw1', 'euc1', 'euw2', 'aps1', 'apne1'];
    const regions = ['us-east-1', 'us-east-2', 'us-west-2', 'eu-west-1', 'eu-central-1', 'eu-west-2', 'ap-south-1', 'ap-northeast-1'];
    const props: DistributedPostgresProps = {
      name: 'largest-fleet-x',
      nodeGroups: names.map((name, i) => ({ name, cloud: Cloud.AWS, region: regions[i], members: 5, image: ImageFlavour.UBUNTU_24_04 })),
      etcd: { size: 5 },
      postgres: { packageSource: PackageSource.PGDG, version: 17, parameters: { work_mem: '64MB', max_connections: '500', shared_buffers: '4GB' } },
      replication: { engine: ReplicationEngine.PGLOGICAL, globalTables: Array.from({ length: 12 }, (_, i) => `core.table_${i}`) },
      geoshards: ['us', 'eu', 'ap', 'uk'].map((geo, g) => ({
        name: geo,
        nodeGroups: names.slice(g * 2, g * 2 + 2),
        tables: ['orders', 'payments', 'events'].map((t) => ({ table: `shard.${t}`, partition: `shard.${t}_${geo}`, values: [geo, `${geo}-2`] })),
      })),
      network: { clientCidrs: ['10.200.0.0/16', '10.201.0.0/16', '172.20.0.0/16'] },
    };
    const topology = topologyOf(props);
    let largest = { name: '', raw: 0, gzipped: 0 };
    for (const m of machinesOf(topology)) {
      const text = renderCloudConfig(topology, m.name);
      const encoded = encodeUserData('aws', text, m.name);
      const gzipped = encoded.encoding === 'plain' ? Buffer.byteLength(text) : Buffer.from(encoded.value, 'base64').length;
      if (Buffer.byteLength(text) > largest.raw) largest = { name: m.name, raw: Buffer.byteLength(text), gzipped };
    }
    // The scripts are in the group's scripts document: what is left is the machine's own (identity, etcd, Patroni).
    expect(largest.raw).toBeGreaterThan(10_000);
    expect(largest.raw).toBeLessThanOrEqual(16384);
    expect(gzipDeterministic(Buffer.from(renderCloudConfig(topology, largest.name))).length).toBeLessThanOrEqual(8192);
    for (const group of topology.nodeGroups) expect(Buffer.byteLength(groupScriptsDocument(topology, group).value)).toBeLessThan(64 * 1024);
  });

  test('issue 13: the largest AWS member of the reference stack is at most 8 KB gzipped, and within 1 KB of that at 100 node groups', () => {
    const largestGzipped = (topology: ReturnType<typeof topologyOf>) => Math.max(...machinesOf(topology)
      .filter((m) => topology.nodeGroups.find((g) => g.name === m.nodeGroup)!.cloud === 'aws')
      .map((m) => gzipDeterministic(Buffer.from(renderCloudConfig(topology, m.name))).length));
    const reference = largestGzipped(ledger);
    const hundred = largestGzipped(topologyOf({
      name: 'hundred',
      nodeGroups: Array.from({ length: 100 }, (_, i) => ({ name: `g${i + 1}`, cloud: Cloud.AWS, region: ['us-east-1', 'eu-west-1', 'ap-south-1'][i % 3] })),
      replication: { engine: ReplicationEngine.PGLOGICAL, globalTables: ['public.items', 'app.accounts'], maxNodeGroups: 100 },
    }));
    expect(reference).toBeLessThanOrEqual(8192);
    expect(Math.abs(hundred - reference)).toBeLessThanOrEqual(1024);
  });
});

test('no cloud-config holds "${": GCP takes the text as it is, and Terraform would read it as an expression', () => {
  const topology = topologyOf(ledgerFleet());
  const offending = machinesOf(topology).map((m) => m.name).filter((name) => renderCloudConfig(topology, name).includes('${'));
  expect(offending).toEqual([]);
});

test('a scripts document above the secret stores\' 64 KiB is its own error, naming the document and its size', () => {
  const files = [{ path: '/usr/local/lib/x', permissions: '0644', when: 'always' as const, content: randomBytes(70000).toString('base64') }];
  let thrown: unknown;
  try {
    scriptsDocumentOf(files, 'fleet-scripts-g');
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(ScriptsDocumentTooLargeError);
  expect((thrown as ScriptsDocumentTooLargeError).documentName).toBe('fleet-scripts-g');
  expect((thrown as Error).message).toMatch(/^the scripts document fleet-scripts-g is \d+ bytes, above the secret stores' limit of 65536 bytes$/);
});

import { parseCidr, contains, overlaps } from '../../lib/net/cidr';
import { Topology } from '../../lib';
import { resolveFleet } from '../../lib/pipeline';
import { ledgerFleet, pglogicalFleet, singleGroupDedicatedEtcd } from '../fixtures/fleets';

function topologyOf(props = ledgerFleet()): Topology {
  return resolveFleet(props, 'test', 'fleet').topology;
}

test('resolving twice gives deep-equal, JSON-identical topologies', () => {
  const a = topologyOf();
  const b = topologyOf();
  expect(a).toEqual(b);
  expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  // Plain data: survives a JSON round trip unchanged.
  expect(JSON.parse(JSON.stringify(a))).toEqual(a);
});

test('the 3-group, 2-cloud ledger topology', () => {
  expect(topologyOf()).toMatchSnapshot();
});

describe('placement and addresses', () => {
  const topology = topologyOf();

  test('members spread over the zones and every IP is unique, inside its zone subnet', () => {
    const ips = new Set<string>();
    for (const g of topology.nodeGroups) {
      expect(new Set(g.members.map((m) => m.zone)).size).toBe(3);
      for (const m of g.members) {
        const subnet = g.subnets.find((s) => s.zone === m.zone)!;
        expect(contains(parseCidr(subnet.cidr)!, parseCidr(`${m.privateIp}/32`)!)).toBe(true);
        expect(ips.has(m.privateIp)).toBe(false);
        ips.add(m.privateIp);
      }
    }
  });

  test('group CIDRs never overlap', () => {
    const cidrs = topology.nodeGroups.map((g) => parseCidr(g.cidr)!);
    cidrs.forEach((a, i) => cidrs.slice(i + 1).forEach((b) => expect(overlaps(a, b)).toBe(false)));
  });

  test('etcd quorum: one member per zone, initial cluster and client hosts agree', () => {
    for (const g of topology.nodeGroups) {
      expect(g.etcd.members).toHaveLength(3);
      expect(new Set(g.etcd.members.map((e) => e.zone)).size).toBe(3);
      expect(g.etcd.initialCluster).toBe(g.etcd.members.map((e) => `${e.name}=https://${e.privateIp}:2380`).join(','));
      expect(g.etcd.clientHosts).toEqual(g.etcd.members.map((e) => `${e.privateIp}:2379`));
      expect(g.etcd.clusterToken).toBe(`ledger-${g.name}-etcd`);
    }
  });

  test('snowflake ids are unique across the fleet', () => {
    const ids = topology.nodeGroups.flatMap((g) => g.members.map((m) => m.snowflakeNodeId));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => id >= 1 && id <= 1023)).toBe(true);
  });
});

describe('the mesh', () => {
  const topology = topologyOf();

  test('every group subscribes to every other, never to itself, without forwarding', () => {
    const pairs = topology.subscriptions.map((s) => `${s.subscriber}<-${s.provider}`).sort();
    expect(pairs).toEqual(['euw1<-euw3', 'euw1<-use1', 'euw3<-euw1', 'euw3<-use1', 'use1<-euw1', 'use1<-euw3']);
    expect(topology.subscriptions.every((s) => s.forwardOrigins.length === 0)).toBe(true);
  });

  test('geoshard sets flow only between groups inside the geography', () => {
    for (const s of topology.subscriptions) {
      const inEu = ['euw1', 'euw3'];
      const both = inEu.includes(s.subscriber) && inEu.includes(s.provider);
      expect(s.replicationSets).toEqual(both ? ['default', 'geo_eu'] : ['default']);
    }
  });

  test('the provider DSN follows the remote leader over all its members', () => {
    const sub = topology.subscriptions.find((s) => s.subscriber === 'use1' && s.provider === 'euw3')!;
    const euw3 = topology.nodeGroups.find((g) => g.name === 'euw3')!;
    expect(sub.providerDsn).toContain(`host=${euw3.members.map((m) => m.privateIp).join(',')} `);
    expect(sub.providerDsn).toContain('target_session_attrs=read-write');
    expect(sub.providerDsn).toContain('sslmode=verify-full');
    expect(sub.providerDsn).not.toMatch(/password/);
  });
});

describe('network', () => {
  test('AWS peering between the AWS regions and an HA VPN per AWS region when both clouds are used', () => {
    const { network } = topologyOf();
    expect(network.awsPeerings).toEqual([{ requesterRegion: 'eu-west-1', accepterRegion: 'us-east-1' }]);
    expect(network.vpnLinks.map((l) => `${l.awsRegion}->${l.gcpRegion}`)).toEqual(['eu-west-1->europe-west3', 'us-east-1->europe-west3']);
    const inside = network.vpnLinks.flatMap((l) => l.tunnels.map((t) => t.insideCidr));
    expect(new Set(inside).size).toBe(8);
  });

  test('a single-cloud fleet has no interconnect', () => {
    expect(topologyOf(pglogicalFleet()).network).toMatchObject({ interconnect: 'none', vpnLinks: [] });
    expect(topologyOf(singleGroupDedicatedEtcd()).network.awsPeerings).toEqual([]);
  });
});

test('growing the fleet keeps every existing member where it was', () => {
  const before = topologyOf();
  const grown = ledgerFleet();
  (grown.nodeGroups as any[]).push({ name: 'aps1', cloud: 'aws', region: 'ap-south-1' });
  const after = topologyOf(grown);
  for (const g of before.nodeGroups) {
    const same = after.nodeGroups.find((x) => x.name === g.name)!;
    expect(same.members).toEqual(g.members);
    expect(same.cidr).toBe(g.cidr);
  }
});

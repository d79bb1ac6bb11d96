/** The topology picture: pure, deterministic, and it shows every region, group, member, etcd, mesh edge and geoshard. */
import { resolveFleet } from '../../lib/pipeline';
import { topologyToMermaid } from '../../lib/diagram/mermaid';
import { ledgerFleet, singleGroupDedicatedEtcd } from '../fixtures/fleets';

const ledger = () => resolveFleet(ledgerFleet(), 'x', 'ledger').topology;

test('the ledger picture', () => {
  expect(topologyToMermaid(ledger())).toMatchSnapshot();
});

test('every cloud, region, node group and member appears, with address, zone and role', () => {
  const topology = ledger();
  const text = topologyToMermaid(topology);
  expect(text).toContain('subgraph cloud_aws["AWS"]');
  expect(text).toContain('subgraph cloud_gcp["Google Cloud"]');
  for (const g of topology.nodeGroups) {
    expect(text).toContain(`subgraph region_${g.cloud}_${g.region.replace(/-/g, '_')}["${g.region}"]`);
    expect(text).toContain(`subgraph group_${g.name}["node group ${g.name} · Patroni ${g.patroniScope} · ${g.cidr}"]`);
    for (const m of g.members) expect(text).toContain(`["${m.name}<br/>${m.privateIp} · ${m.zone}<br/>postgres + etcd"]`);
    expect(text).toContain(g.endpointFqdn);
  }
});

test('one mesh edge per pair of groups, labelled with the sets they exchange; geoshards link their groups', () => {
  const text = topologyToMermaid(ledger());
  const edges = text.split('\n').filter((l) => l.includes('<-->'));
  expect(edges).toEqual([
    '  group_euw1 <-->|"default, geo_eu"| group_euw3',
    '  group_euw1 <-->|"default"| group_use1',
    '  group_euw3 <-->|"default"| group_use1',
  ]);
  expect(text).toContain('geo_eu{{"geoshard eu · set geo_eu<br/>ledger.entries_eu (eu)"}}');
  expect(text.split('\n').filter((l) => l.startsWith('  geo_eu -.- '))).toEqual(['  geo_eu -.- group_euw1', '  geo_eu -.- group_euw3']);
});

test('dedicated etcd machines are drawn apart from the Postgres members', () => {
  const topology = resolveFleet(singleGroupDedicatedEtcd(), 'x', 'solo').topology;
  const text = topologyToMermaid(topology);
  for (const e of topology.nodeGroups[0].etcd.members) expect(text).toContain(`m_${e.name.replace(/-/g, '_')}(["${e.name}<br/>${e.privateIp} · ${e.zone}<br/>etcd"])`);
  for (const m of topology.nodeGroups[0].members) expect(text).toContain(`["${m.name}<br/>${m.privateIp} · ${m.zone}<br/>postgres"]`);
  expect(text).not.toContain('<-->');
});

test('labels cannot break out of their quotes', () => {
  const topology = ledger();
  const hostile = { ...topology, geoshards: [{ ...topology.geoshards[0], tables: [{ table: 't', partition: 'p"]; click x', values: ['<b>'] }] }] };
  const text = topologyToMermaid(hostile);
  expect(text).toContain('p#quot;]; click x (#lt;b#gt;)');
  expect(text).not.toContain('p"]');
});

test('deterministic', () => {
  expect(topologyToMermaid(ledger())).toEqual(topologyToMermaid(ledger()));
});

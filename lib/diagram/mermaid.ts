/**
 * A Mermaid picture of a topology, so a reviewer sees the fleet at a glance: clouds > regions > node groups > members
 * (with their etcd role and address), dedicated etcd machines, the leader endpoints, the replication mesh (one edge per
 * pair of groups, labelled with the replication sets they exchange) and the geoshards. Pure and deterministic.
 */
import { CloudName, NodeGroup, Topology } from '../topology/topology';

const CLOUD_TITLES: Record<CloudName, string> = { aws: 'AWS', gcp: 'Google Cloud' };

function id(...parts: string[]): string {
  return parts.join('_').replace(/[^A-Za-z0-9_]/g, '_');
}

/** Mermaid labels are quoted: quotes and angle brackets inside become entities. */
function label(text: string): string {
  return `"${text.replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;').replace(/\n/g, '<br/>')}"`;
}

function groupLines(topology: Topology, g: NodeGroup, indent: string): string[] {
  const etcdOn = new Set(g.etcd.members.map((m) => m.hostMember).filter((h) => h !== ''));
  const lines = [`${indent}subgraph ${id('group', g.name)}[${label(`node group ${g.name} · Patroni ${g.patroniScope} · ${g.cidr}`)}]`];
  for (const m of g.members) {
    const roles = etcdOn.has(m.name) ? 'postgres + etcd' : 'postgres';
    lines.push(`${indent}  ${id('m', m.name)}[${label(`${m.name}\n${m.privateIp} · ${m.zone}\n${roles}`)}]`);
  }
  for (const e of g.etcd.members.filter((m) => m.hostMember === '')) {
    lines.push(`${indent}  ${id('m', e.name)}([${label(`${e.name}\n${e.privateIp} · ${e.zone}\netcd`)}])`);
  }
  const endpoint = topology.replication.leaderEndpoint === 'load-balancer' ? 'leader endpoint (subscribers use it)' : 'leader endpoint';
  lines.push(`${indent}  ${id('lb', g.name)}[/${label(`${endpoint}\n${g.endpointFqdn}\n${g.loadBalancerIps.join(', ')}`)}/]`);
  lines.push(`${indent}end`);
  return lines;
}

export function topologyToMermaid(topology: Topology): string {
  const lines = [
    `%% ${topology.fleetName}: distributed-postgres topology (generated at synth; do not edit)`,
    `%% engine ${topology.replication.engine}, PostgreSQL ${topology.postgres.version}, ${topology.nodeGroups.length} node group(s)`,
    'flowchart LR',
  ];
  const clouds = [...new Set(topology.nodeGroups.map((g) => g.cloud))].sort();
  for (const cloud of clouds) {
    lines.push(`  subgraph ${id('cloud', cloud)}[${label(CLOUD_TITLES[cloud])}]`);
    const regions = [...new Set(topology.nodeGroups.filter((g) => g.cloud === cloud).map((g) => g.region))].sort();
    for (const region of regions) {
      lines.push(`    subgraph ${id('region', cloud, region)}[${label(region)}]`);
      for (const g of topology.nodeGroups.filter((n) => n.cloud === cloud && n.region === region)) {
        lines.push(...groupLines(topology, g, '      '));
      }
      lines.push('    end');
    }
    lines.push('  end');
  }

  // The mesh: subscriptions come in pairs (a subscribes to b and b to a); draw one edge per pair.
  const pairs = new Map<string, string[]>();
  for (const s of topology.subscriptions) {
    const [a, b] = [s.subscriber, s.provider].sort();
    pairs.set(`${a} ${b}`, [...new Set([...(pairs.get(`${a} ${b}`) ?? []), ...s.replicationSets])].sort());
  }
  for (const [pair, sets] of [...pairs.entries()].sort(([x], [y]) => x.localeCompare(y))) {
    const [a, b] = pair.split(' ');
    lines.push(`  ${id('group', a)} <-->|${label(sets.join(', '))}| ${id('group', b)}`);
  }

  for (const shard of topology.geoshards) {
    const partitions = shard.tables.map((t) => `${t.partition} (${t.values.join(', ')})`).join('\n');
    lines.push(`  ${id('geo', shard.name)}{{${label(`geoshard ${shard.name} · set ${shard.replicationSet}\n${partitions}`)}}}`);
    for (const g of shard.nodeGroups) lines.push(`  ${id('geo', shard.name)} -.- ${id('group', g)}`);
  }
  return `${lines.join('\n')}\n`;
}

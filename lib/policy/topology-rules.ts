/**
 * Rules over a resolved Topology: pure functions of the Topology, so they check what the resolver
 * actually decided (placement, settings, the subscription mesh), not what the declaration asked for.
 * They run for every construct that exposes a `topology` (schemaVersion 1).
 */
import { PolicyFinding, PolicyLevel, ITopologyRule } from './types';
import { Topology } from '../topology/topology';

function finding(message: string): PolicyFinding {
  return { message };
}

function countBy<T>(items: T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

/** True for a value that looks like a resolved Topology (duck-typed: any construct can expose one). */
export function isTopology(value: unknown): value is Topology {
  const t = value as Partial<Topology> | undefined;
  return typeof t === 'object' && t !== null && t.schemaVersion === 1 && Array.isArray(t.nodeGroups) && Array.isArray(t.subscriptions);
}

export const QUORUM_ZONE_SPREAD: ITopologyRule = {
  kind: 'topology',
  id: 'DPG-P010',
  level: PolicyLevel.ERROR,
  title: 'Node group not spread over enough zones',
  explanation: 'An etcd quorum of n members survives floor((n-1)/2) losses; if one zone holds more than that, losing the zone ' +
    'loses the quorum and Patroni demotes the primary. Postgres members all in one zone lose the whole group with the zone.',
  fix: 'spread the node group over at least 3 zones (one etcd member per zone)',
  check: (t) => t.nodeGroups.flatMap((g) => {
    const out: PolicyFinding[] = [];
    const tolerated = Math.floor((g.etcd.members.length - 1) / 2);
    for (const [zone, count] of countBy(g.etcd.members, (m) => m.zone)) {
      if (count > tolerated) {
        out.push(finding(`node group '${g.name}': ${count} of ${g.etcd.members.length} etcd members are in ${zone}; the quorum tolerates ${tolerated} lost member(s), so losing ${zone} loses it`));
      }
    }
    const zones = new Set(g.members.map((m) => m.zone));
    if (g.members.length > 1 && zones.size < 2) {
      out.push(finding(`node group '${g.name}': all ${g.members.length} Postgres members are in ${[...zones][0]}`));
    }
    return out;
  }),
};

export const SYNC_BLOCKS_COMMITS: ITopologyRule = {
  kind: 'topology',
  id: 'DPG-P011',
  level: PolicyLevel.ERROR,
  title: 'Synchronous replication blocks commits when one standby is lost',
  explanation: 'With synchronous_node_count equal to the number of standbys, losing any one standby leaves commits waiting ' +
    '(strict mode) or the group degraded until Patroni reacts. One standby must always be spare.',
  fix: 'keep synchronous_node_count <= members - 2 (e.g. 3 members, 1 synchronous standby), or turn synchronous mode off',
  check: (t) => {
    const { synchronousMode, synchronousNodeCount } = t.patroni;
    if (synchronousMode === 'off') return [];
    if (!Number.isInteger(synchronousNodeCount) || synchronousNodeCount < 1) {
      return [finding(`synchronous_mode is ${synchronousMode} but synchronous_node_count is ${synchronousNodeCount}`)];
    }
    return t.nodeGroups
      .filter((g) => synchronousNodeCount > g.members.length - 2)
      .map((g) => finding(`node group '${g.name}': synchronous_node_count ${synchronousNodeCount} with ${g.members.length - 1} standby(s) ` +
        `(synchronous_mode ${synchronousMode}): losing one standby ${synchronousMode === 'strict' ? 'blocks commits' : 'blocks or degrades commits'}`));
  },
};

export const PATRONI_TIMING: ITopologyRule = {
  kind: 'topology',
  id: 'DPG-P012',
  level: PolicyLevel.ERROR,
  title: 'Patroni timing outside the safe rule',
  explanation: 'Patroni needs loop_wait + 2 x retry_timeout <= ttl, ttl >= 20, loop_wait >= 1 and retry_timeout >= 3: otherwise the ' +
    'leader key can expire while a healthy leader is still retrying, and the cluster fails over for nothing (newer Patroni ' +
    'silently rewrites such values).',
  fix: 'use ttl 30 / loop_wait 10 / retry_timeout 10 (default) or 20 / 2 / 9 (fast)',
  check: (t) => {
    const { ttl, loopWait, retryTimeout } = t.patroni;
    const out: PolicyFinding[] = [];
    if (!(ttl >= 20)) out.push(finding(`ttl ${ttl} is below Patroni's minimum of 20`));
    if (!(loopWait >= 1)) out.push(finding(`loop_wait ${loopWait} is below 1`));
    if (!(retryTimeout >= 3)) out.push(finding(`retry_timeout ${retryTimeout} is below Patroni's minimum of 3`));
    if (!(loopWait + 2 * retryTimeout <= ttl)) {
      out.push(finding(`loop_wait ${loopWait} + 2 x retry_timeout ${retryTimeout} = ${loopWait + 2 * retryTimeout} exceeds ttl ${ttl}`));
    }
    return out;
  },
};

export const GEOSHARD_RESIDENCY: ITopologyRule = {
  kind: 'topology',
  id: 'DPG-P013',
  level: PolicyLevel.ERROR,
  title: 'Geoshard partitions replicate outside their geography',
  explanation: "A geoshard's replication set (geo_<name>) may be published and subscribed only by node groups inside the " +
    'geography, and its tables must not also be global; otherwise resident rows leave the geography.',
  fix: "subscribe a geoshard's set only between its own node groups, and keep its tables out of the global tables",
  check: (t) => {
    const out: PolicyFinding[] = [];
    const bySet = new Map(t.geoshards.map((s) => [s.replicationSet, s]));
    const isGeoSet = (set: string): boolean => bySet.has(set) || set.startsWith('geo_');
    for (const sub of t.subscriptions) {
      for (const set of sub.replicationSets.filter(isGeoSet)) {
        const shard = bySet.get(set);
        if (!shard) {
          out.push(finding(`subscription ${sub.name} carries set '${set}', which belongs to no declared geoshard`));
          continue;
        }
        for (const group of [sub.subscriber, sub.provider].filter((g) => !shard.nodeGroups.includes(g))) {
          out.push(finding(`subscription ${sub.name} (${sub.provider} -> ${sub.subscriber}) carries '${set}', but '${group}' is outside geoshard '${shard.name}' (${shard.nodeGroups.join(', ')})`));
        }
      }
    }
    for (const g of t.nodeGroups) {
      for (const set of g.replicationSets.filter(isGeoSet)) {
        const shard = bySet.get(set);
        if (shard && !shard.nodeGroups.includes(g.name)) {
          out.push(finding(`node group '${g.name}' publishes '${set}' but is outside geoshard '${shard.name}'`));
        }
      }
    }
    const global = new Set(t.replication.globalTables);
    for (const s of t.geoshards) {
      for (const table of s.tables) {
        for (const name of [table.table, table.partition].filter((n) => global.has(n))) {
          out.push(finding(`'${name}' of geoshard '${s.name}' is also a global table, so it replicates to every node group`));
        }
      }
    }
    return out;
  },
};

const VERIFYING_SSLMODES = ['verify-full', 'verify-ca'];

function sslmodeOf(dsn: string): string | undefined {
  return /(?:^|\s)sslmode=(\S+)/.exec(dsn)?.[1];
}

export const TOPOLOGY_TLS: ITopologyRule = {
  kind: 'topology',
  id: 'DPG-P014',
  level: PolicyLevel.ERROR,
  title: 'Plain-text or unverified channel in the topology',
  explanation: 'Every etcd peer and client URL must be https, and every replication connection string must verify the ' +
    "server's certificate (sslmode verify-full or verify-ca): links between regions and clouds cross networks we do not own.",
  fix: 'use https etcd URLs and sslmode=verify-full with the fleet CA (sslrootcert)',
  check: (t) => {
    const out: PolicyFinding[] = [];
    for (const g of t.nodeGroups) {
      for (const m of g.etcd.members) {
        for (const url of [m.peerUrl, m.clientUrl].filter((u) => !u.startsWith('https://'))) {
          out.push(finding(`node group '${g.name}': etcd member ${m.name} uses ${url}`));
        }
      }
      if (/http:\/\//.test(g.etcd.initialCluster)) out.push(finding(`node group '${g.name}': etcd initial cluster has http:// peer URLs`));
      const mode = sslmodeOf(g.leaderDsn);
      if (!mode || !VERIFYING_SSLMODES.includes(mode)) out.push(finding(`node group '${g.name}': leader DSN has sslmode=${mode ?? '(unset, i.e. prefer)'}`));
    }
    for (const s of t.subscriptions) {
      const mode = sslmodeOf(s.providerDsn);
      if (!mode || !VERIFYING_SSLMODES.includes(mode)) out.push(finding(`subscription ${s.name}: provider DSN has sslmode=${mode ?? '(unset, i.e. prefer)'}`));
    }
    return out;
  },
};

export const BACKUP_RESIDENCY: ITopologyRule = {
  kind: 'topology',
  id: 'DPG-P018',
  level: PolicyLevel.ERROR,
  title: "Backups outside their node group's region",
  explanation: "A node group's backups hold all its rows, a geoshard's resident rows included: they must go to the bucket of the " +
    "group's own cloud and region, and a bucket must hold only groups of its region. Otherwise a backup carries the rows out of " +
    'their region (and out of their geography), which replication is careful never to do.',
  fix: "keep each node group's repository in the bucket of its own cloud and region (the construct resolves it so: report a hand-built topology)",
  check: (t) => {
    const out: PolicyFinding[] = [];
    const buckets = t.backupBuckets ?? [];
    const shardsOf = (group: string) => t.geoshards.filter((s) => s.nodeGroups.includes(group)).map((s) => s.name);
    const residency = (group: string) => {
      const shards = shardsOf(group);
      return shards.length === 0 ? '' : ` (rows of geoshard ${shards.map((s) => `'${s}'`).join(', ')} would leave its geography)`;
    };
    for (const g of t.nodeGroups) {
      if (!g.backup) continue;
      const bucket = buckets.find((b) => b.name === g.backup!.bucket);
      if (!bucket) {
        out.push(finding(`node group '${g.name}' backs up to bucket ${g.backup.bucket}, which is not one of the fleet's backup buckets`));
      } else if (bucket.cloud !== g.cloud || bucket.region !== g.region) {
        out.push(finding(`node group '${g.name}' (${g.cloud} ${g.region}) backs up to bucket ${bucket.name} in ${bucket.cloud} ${bucket.region}${residency(g.name)}`));
      }
    }
    for (const b of buckets) {
      for (const name of b.nodeGroups) {
        const g = t.nodeGroups.find((x) => x.name === name);
        if (g && (g.cloud !== b.cloud || g.region !== b.region)) {
          out.push(finding(`bucket ${b.name} (${b.cloud} ${b.region}) holds node group '${name}' of ${g.cloud} ${g.region}${residency(name)}`));
        }
      }
    }
    return out;
  },
};

export const BACKUPS_OFF: ITopologyRule = {
  kind: 'topology',
  id: 'DPG-P020',
  level: PolicyLevel.WARNING,
  title: 'Backups off',
  explanation: 'Multi-master replication is not a backup: a bad DELETE or DROP reaches every node group in seconds, and only a ' +
    'backup with its archived WAL brings the rows back (point-in-time recovery). A node group without backups cannot be rebuilt ' +
    'from its own history.',
  fix: "turn backups on (backup.enabled, the default), or suppress this warning with the reason (e.g. a throw-away test fleet)",
  check: (t) => {
    // A restored group archives nothing by design (it reads its source's backups).
    const off = t.nodeGroups.filter((g) => !g.backup && !g.restore).map((g) => g.name);
    if (off.length === 0) return [];
    if (off.length === t.nodeGroups.filter((g) => !g.restore).length) return [finding(`backups are off for the whole fleet '${t.fleetName}' (${off.join(', ')})`)];
    return off.map((name) => finding(`node group '${name}' has backups off`));
  },
};

/** Every rule over a Topology, in id order. */
export const TOPOLOGY_RULES: readonly ITopologyRule[] = [
  QUORUM_ZONE_SPREAD, SYNC_BLOCKS_COMMITS, PATRONI_TIMING, GEOSHARD_RESIDENCY, TOPOLOGY_TLS, BACKUP_RESIDENCY, BACKUPS_OFF,
];

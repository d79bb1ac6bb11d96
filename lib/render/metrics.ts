/**
 * Metrics on every Postgres member (`monitoring`): Debian's `prometheus-postgres-exporter` and
 * `prometheus-node-exporter`, each serving HTTPS only (exporter-toolkit's `--web.config.file`, with the member's
 * certificate from the fleet's CA and a copy of its key that only the `prometheus` user reads) on the member's
 * private address (`--web.listen-address`, from member.env at start). The packages' own units stay; drop-ins replace
 * their `ExecStart` and environment (the `/etc/default` files are not read). postgres_exporter connects over the
 * Unix socket as the `prometheus` role (peer authentication: the package's system user of the same name; no password
 * anywhere), a member of `pg_monitor`, and runs the `dpg_*` queries rendered here for the member's node group and
 * engine (see "Metrics" in the README for the contract). node_exporter keeps a modest set of collectors and reads
 * mesh-keeper's `dpg_mesh.prom` through its textfile collector.
 */
import { NodeGroup, Topology } from '../topology/topology';
import { replicationEngine } from './mesh';
import { resumeSlotName, subscribersOf, subscriptionsOf } from './mesh/engine';
import { pglogicalShortenHash } from './mesh/slot-names';
import { FILES } from './paths';
import { checked, oneLine, sqlLiteral } from './quote';

/** Whether members run the exporters. */
export function metricsEnabled(topology: Topology): boolean {
  return topology.monitoring.enabled;
}

/** The Debian packages (golden images must hold them when `packageSource` is `image`). */
export const EXPORTER_PACKAGES = ['prometheus-node-exporter', 'prometheus-postgres-exporter'] as const;

/** Debian's unit names (the packages' own units; this library adds drop-ins). */
export const EXPORTER_UNITS = { postgres: 'prometheus-postgres-exporter.service', node: 'prometheus-node-exporter.service' } as const;

/** node_exporter's collectors besides `textfile` (everything else is off: `--collector.disable-defaults`). */
export const NODE_COLLECTORS = ['cpu', 'diskstats', 'filesystem', 'loadavg', 'meminfo', 'netdev', 'pressure', 'stat', 'time', 'uname', 'vmstat'];

/** How long postgres_exporter keeps a query's result (seconds): several scrapers then cost one query. */
export const QUERY_CACHE_SECONDS = 10;

/** Where the drop-in of a Debian exporter unit goes (from the scripts document). */
export function exporterDropInPath(unit: string): string {
  return `/etc/systemd/system/${unit}.d/distributed-postgres.conf`;
}

/** Where the user-data's hold drop-in of a Debian exporter unit goes (written before the packages install). */
export function exporterHoldPath(unit: string): string {
  return `/etc/systemd/system/${unit}.d/00-distributed-postgres-hold.conf`;
}

/**
 * The user-data's drop-in of each exporter unit: the packages start their units on install, with their defaults (every
 * address, plain HTTP); until the bootstrap has issued the member's certificate (and written the full drop-in) the
 * unit does not start. Small: the user-data must stay within AWS's 16 KB.
 */
export function exporterHoldDropIn(): string {
  return `# distributed-postgres: not started before the bootstrap issued this member's certificate (never plain HTTP).
[Unit]
ConditionPathExists=${FILES.prometheusKey}
`;
}

/** The path unit that restarts postgres_exporter when its queries change (they come with the mesh document). */
export const QUERIES_PATH_UNIT = 'distributed-postgres-exporter-queries.path';
const QUERIES_RESTART_UNIT = 'distributed-postgres-exporter-queries.service';
export const QUERIES_UNIT_FILES = { path: `/etc/systemd/system/${QUERIES_PATH_UNIT}`, service: `/etc/systemd/system/${QUERIES_RESTART_UNIT}` };

/** postgres_exporter reads its queries at start only: a new mesh document's (a node group added or removed) restarts it. */
export function queriesPathUnit(): string {
  return `[Unit]
Description=distributed-postgres: restart postgres_exporter when its queries change (mesh document)

[Path]
PathChanged=${FILES.postgresExporterQueries}
Unit=${QUERIES_RESTART_UNIT}

[Install]
WantedBy=multi-user.target
`;
}

export function queriesRestartUnit(): string {
  return `[Unit]
Description=distributed-postgres: restart postgres_exporter (its queries changed)

[Service]
Type=oneshot
ExecStart=/bin/systemctl try-restart ${EXPORTER_UNITS.postgres}
`;
}

/** exporter-toolkit's web configuration: TLS 1.2+ with the member's certificate (the fleet's CA signed it). */
export function exporterWebConfig(): string {
  return [
    '# TLS for the Prometheus exporters of this member (exporter-toolkit --web.config.file). Rendered by',
    '# cdktf-distributed-postgres: do not edit. The key is the member\'s, in a copy only the prometheus user reads.',
    'tls_server_config:',
    `  cert_file: ${FILES.memberCert}`,
    `  key_file: ${FILES.prometheusKey}`,
    '  min_version: TLS12',
    '',
  ].join('\n');
}

/** libpq's connection string of postgres_exporter: the Unix socket, peer authentication, the application database. */
export function postgresExporterDsn(topology: Topology): string {
  const role = checked('a role name', topology.monitoring.exporterRole);
  return `host=${FILES.socketDir} port=${topology.postgres.port} dbname=${libpqValue(topology.postgres.database)} user=${role}`;
}

/** A libpq connection-string value: as it is when plain, else single-quoted with `\` and `'` escaped. */
function libpqValue(value: string): string {
  return /^[A-Za-z0-9_.-]+$/.test(value) ? value : `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** What one exporter's drop-in says of it; the rest of the drop-in is the same for both. */
export interface ExporterDropInSpec {
  /** The program's name, for the header. */
  readonly name: string;
  /** Its binary (the Debian package's). */
  readonly binary: string;
  /** The member.env variable holding its `--web.listen-address` flag (`exporterListenVars`). */
  readonly listenVar: string;
  /** Its flags after `--web.config.file`. */
  readonly args: string[];
  /** `[Unit]` lines after the conditions (ordering). */
  readonly unitLines?: string[];
  /** `[Service]` lines after the environment file (its own environment). */
  readonly environment?: string[];
}

/**
 * The drop-in of a Debian exporter unit (from the scripts document; `exporterHoldDropIn` holds the unit until then).
 * Until the bootstrap has issued the member's certificate its conditions keep the unit from starting (never on every
 * address over plain HTTP, as the package's defaults would). The empty `EnvironmentFile=` and `ExecStart=` clear the
 * package's own.
 */
export function exporterDropIn(spec: ExporterDropInSpec): string {
  return [
    `# ${spec.name}: distributed-postgres settings over the Debian unit (the package's /etc/default file is not read).`,
    '# Rendered by cdktf-distributed-postgres: do not edit. HTTPS only, on this member\'s private address (member.env',
    '# says --web.listen-address: a whole word, as systemd splits an unbraced variable).',
    '[Unit]',
    `ConditionPathExists=${FILES.prometheusKey}`,
    `ConditionPathExists=${FILES.exporterWebConfig}`,
    ...(spec.unitLines ?? []),
    '',
    '[Service]',
    'EnvironmentFile=',
    `EnvironmentFile=${FILES.memberEnv}`,
    ...(spec.environment ?? []),
    'ExecStart=',
    `ExecStart=${spec.binary} $${spec.listenVar} \\`,
    `  ${[`--web.config.file=${FILES.exporterWebConfig}`, ...spec.args].join(' ')}`,
    'RestartSec=5',
    '',
  ].join('\n');
}

/** The drop-in of `prometheus-postgres-exporter.service`: after Patroni, the DSN and the `dpg_*` queries. */
export function postgresExporterDropIn(topology: Topology): string {
  return exporterDropIn({
    name: 'postgres_exporter',
    binary: '/usr/bin/prometheus-postgres-exporter',
    listenVar: 'DPG_POSTGRES_EXPORTER_LISTEN',
    args: [`--extend.query-path=${FILES.postgresExporterQueries}`],
    unitLines: ['After=patroni.service'],
    environment: [`Environment=${JSON.stringify(`DATA_SOURCE_NAME=${postgresExporterDsn(topology)}`)}`],
  });
}

/** The drop-in of `prometheus-node-exporter.service`: its collectors. */
export function nodeExporterDropIn(): string {
  return exporterDropIn({
    name: 'node_exporter',
    binary: '/usr/bin/prometheus-node-exporter',
    listenVar: 'DPG_NODE_EXPORTER_LISTEN',
    args: nodeExporterCollectorArgs(),
  });
}

/** member.env's listen flags of the exporters (this machine's private address; a whole word each, for systemd). */
export function exporterListenVars(topology: Topology, privateIp: string): Record<string, string> {
  const ip = checked('an IPv4 address', privateIp);
  return {
    DPG_POSTGRES_EXPORTER_LISTEN: `--web.listen-address=${ip}:${topology.monitoring.postgresExporterPort}`,
    DPG_NODE_EXPORTER_LISTEN: `--web.listen-address=${ip}:${topology.monitoring.nodeExporterPort}`,
  };
}

/** node_exporter's collector flags: the modest set, and the textfile collector on Debian's directory. */
export function nodeExporterCollectorArgs(): string[] {
  return [
    '--collector.disable-defaults',
    ...NODE_COLLECTORS.map((c) => `--collector.${c}`),
    '--collector.textfile',
    `--collector.textfile.directory=${FILES.textfileDir}`,
  ];
}

/** One namespace of postgres_exporter's queries file: its query and columns (labels first). */
interface QueryNamespace {
  readonly name: string;
  readonly query: string;
  readonly labels: [string, string][];
  readonly metrics: [string, 'GAUGE' | 'COUNTER', string][];
}

/** A `VALUES` list (or an empty relation of the same columns), for mapping names to node groups. */
function valuesRelation(alias: string, columns: string[], rows: string[][]): string {
  if (rows.length === 0) {
    return `(SELECT ${columns.map((c) => `NULL::text AS ${c}`).join(', ')} WHERE false) ${alias}`;
  }
  return `(VALUES ${rows.map((r) => `(${r.map(sqlLiteral).join(', ')})`).join(', ')}) ${alias}(${columns.join(', ')})`;
}

/**
 * The logical slots at this (provider) group and the subscriber group each serves: the subscriptions' slots, their
 * resume slots, and (Spock, whose slot names this library does not set) the name Spock derives, `spk_<db>_<provider
 * node>_<subscription>` shortened as pglogical does (from Spock's sources; not run here: Spock needs its patched server).
 */
function providerSlotPeers(topology: Topology, group: NodeGroup): { slot: string; peer: string; resume: boolean }[] {
  const engine = replicationEngine(topology.replication.engine);
  const out: { slot: string; peer: string; resume: boolean }[] = [];
  for (const sub of subscribersOf(topology, group)) {
    const slot = engine.subscriberSlot
      ? engine.subscriberSlot(topology, group, sub)
      : spockSlotName(topology.postgres.database, group.replicationNodeName, sub.name);
    out.push({ slot, peer: sub.subscriber, resume: false });
    if (engine.resumeSlots) out.push({ slot: resumeSlotName(slot), peer: sub.subscriber, resume: true });
  }
  return out;
}

function spockSlotName(database: string, providerNode: string, subscription: string): string {
  const part = (text: string) => pglogicalShortenHash(Buffer.from(text, 'utf8').subarray(0, 63).toString('utf8'), 16);
  return `spk_${part(database)}_${part(providerNode)}_${part(subscription)}`.slice(0, 63).replace(/[^a-z0-9_]/g, '_');
}

/** The WAL position slots are measured against: the current one on the leader, the replayed one on a standby. */
const HERE_LSN = 'CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END';

function queryNamespaces(topology: Topology, group: NodeGroup): QueryNamespace[] {
  const engine = topology.replication.engine;
  const ng = sqlLiteral(group.name);
  const peers = providerSlotPeers(topology, group);
  const slotPeers = valuesRelation('peers', ['slot_name', 'peer_group', 'resume'], peers.map((p) => [p.slot, p.peer, String(p.resume)]));
  const subs = subscriptionsOf(topology, group);
  const expected = valuesRelation('expected', ['subscription', 'provider_group'], subs.map((s) => [s.name, s.provider]));
  const slotLabels: [string, string][] = [
    ['node_group', 'The member\'s node group'],
    ['slot', 'Replication slot name'],
    ['kind', 'physical or logical'],
    ['peer_group', 'The node group the slot serves (empty for the group\'s own physical slots)'],
  ];
  const slotsHere = `FROM pg_replication_slots s LEFT JOIN ${slotPeers} ON peers.slot_name = s.slot_name::text\n` +
    '  WHERE s.slot_type = \'physical\' OR NOT pg_is_in_recovery()';
  const pairLabels: [string, string][] = [
    ['node_group', 'The member\'s node group (the provider)'],
    ['peer_group', 'The subscriber node group'],
    ['slot', 'The slot the subscriber streams from'],
  ];
  const subLabels: [string, string][] = [
    ['node_group', 'The member\'s node group (the subscriber)'],
    ['subscription', 'Subscription name'],
    ['provider_group', 'The node group it subscribes to'],
  ];
  const namespaces: QueryNamespace[] = [
    {
      name: 'dpg_postgres',
      query: `SELECT ${ng} AS node_group, CASE WHEN pg_is_in_recovery() THEN 0 ELSE 1 END AS primary,\n` +
        '  CASE WHEN pg_is_in_recovery()\n' +
        '    THEN coalesce((SELECT received_tli FROM pg_stat_wal_receiver), (SELECT timeline_id FROM pg_control_checkpoint()))\n' +
        '    ELSE (\'x\' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END AS timeline',
      labels: [['node_group', 'The member\'s node group']],
      metrics: [
        ['primary', 'GAUGE', '1 on the node group\'s leader (Patroni\'s primary: not in recovery), 0 on a standby'],
        ['timeline', 'GAUGE', 'The member\'s timeline (a new one at every promotion)'],
      ],
    },
    {
      name: 'dpg_slot',
      query: `SELECT ${ng} AS node_group, s.slot_name AS slot, s.slot_type AS kind, coalesce(peers.peer_group, '') AS peer_group,\n` +
        `  coalesce(pg_wal_lsn_diff(${HERE_LSN}, s.restart_lsn), 0) AS retained_bytes\n  ${slotsHere}`,
      labels: slotLabels,
      metrics: [['retained_bytes', 'GAUGE', 'WAL the slot keeps in pg_wal (current position - restart_lsn; 0 once lost)']],
    },
    {
      // dpg_slot_info: a namespace of its own (its labels are not dpg_slot's), so `dpg` + `slot_info`.
      name: 'dpg',
      query: `SELECT ${ng} AS node_group, s.slot_name AS slot, s.slot_type AS kind, coalesce(peers.peer_group, '') AS peer_group,\n` +
        '  coalesce(s.wal_status, \'\') AS wal_status, s.active::text AS active, 1 AS slot_info\n' +
        `  ${slotsHere}`,
      labels: [...slotLabels,
        ['wal_status', 'reserved, extended, unreserved or lost (pg_replication_slots)'],
        ['active', 'true while a process streams from the slot']],
      metrics: [['slot_info', 'GAUGE', 'Always 1: the slot\'s state in its labels']],
    },
    {
      name: 'dpg_slot_wal_keep',
      query: `SELECT ${ng} AS node_group,\n` +
        '  CASE WHEN setting::bigint < 0 THEN -1 ELSE setting::bigint * 1024 * 1024 END AS budget_bytes\n' +
        '  FROM pg_settings WHERE name = \'max_slot_wal_keep_size\'',
      labels: [['node_group', 'The member\'s node group']],
      metrics: [['budget_bytes', 'GAUGE', 'max_slot_wal_keep_size in bytes: the WAL a slot may keep before it is lost (-1: unlimited)']],
    },
    {
      name: 'dpg_replication_lag',
      query: `SELECT ${ng} AS node_group, peers.peer_group, s.slot_name AS slot,\n` +
        '  coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn), 0) AS bytes,\n' +
        '  CASE WHEN s.active_pid IS NULL THEN NULL ELSE coalesce(extract(epoch FROM r.replay_lag), 0) END AS seconds\n' +
        `  FROM pg_replication_slots s JOIN ${slotPeers} ON peers.slot_name = s.slot_name::text AND peers.resume = 'false'\n` +
        '  LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid\n' +
        '  WHERE s.slot_type = \'logical\' AND NOT pg_is_in_recovery()',
      labels: pairLabels,
      metrics: [
        ['bytes', 'GAUGE', 'WAL the subscriber group has not confirmed (current position - confirmed_flush_lsn of its slot)'],
        ['seconds', 'GAUGE', 'The subscriber\'s replay lag (pg_stat_replication; 0 when caught up and idle; NaN while no sender streams)'],
      ],
    },
    subscriptionNamespace(topology, ng, expected, subLabels),
  ];
  if (engine === 'spock') {
    // Spock 5's spock.lag_tracker (on the receiver): origin_name, receiver_name, replication_lag_bytes, replication_lag.
    const nodes = valuesRelation('nodes', ['node_name', 'node_group'],
      topology.nodeGroups.map((g) => [g.replicationNodeName, g.name]));
    namespaces.push({
      name: 'dpg_spock_lag',
      query: `SELECT ${ng} AS node_group, coalesce(nodes.node_group, l.origin_name::text) AS provider_group,\n` +
        '  coalesce(l.replication_lag_bytes, 0) AS bytes, coalesce(extract(epoch FROM l.replication_lag), 0) AS seconds\n' +
        `  FROM spock.lag_tracker l LEFT JOIN ${nodes} ON nodes.node_name = l.origin_name::text\n` +
        `  WHERE l.receiver_name::text = ${sqlLiteral(group.replicationNodeName)} AND NOT pg_is_in_recovery()`,
      labels: [['node_group', 'The member\'s node group (the receiver)'], ['provider_group', 'The origin node group']],
      metrics: [
        ['bytes', 'GAUGE', 'spock.lag_tracker replication_lag_bytes'],
        ['seconds', 'GAUGE', 'spock.lag_tracker replication_lag, in seconds'],
      ],
    });
  }
  return namespaces;
}

/** dpg_subscription_*: driven by the subscriptions the group should have, so a missing one reports 0. */
function subscriptionNamespace(topology: Topology, ng: string, expected: string, labels: [string, string][]): QueryNamespace {
  const engine = topology.replication.engine;
  const select = `SELECT ${ng} AS node_group, expected.subscription, expected.provider_group`;
  const leaderOnly = 'WHERE NOT pg_is_in_recovery()';
  const up: [string, 'GAUGE', string] = ['up', 'GAUGE', '1 when the subscription is enabled and its apply worker streams, else 0'];
  if (engine === 'native') {
    const pg18 = topology.postgres.version >= 18;
    return {
      name: 'dpg_subscription',
      query: `${select},\n` +
        '  CASE WHEN s.subenabled AND w.pid IS NOT NULL THEN 1 ELSE 0 END AS up,\n' +
        '  coalesce(st.apply_error_count, 0) AS apply_errors_total' +
        (pg18 ? ',\n  coalesce(st.confl_insert_exists + st.confl_update_origin_differs + st.confl_update_exists + st.confl_update_missing\n' +
          '    + st.confl_delete_origin_differs + st.confl_delete_missing + st.confl_multiple_unique_conflicts, 0) AS conflicts_total' : '') +
        `\n  FROM ${expected}\n` +
        '  LEFT JOIN pg_subscription s ON s.subname = expected.subscription\n' +
        '    AND s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())\n' +
        '  LEFT JOIN pg_stat_subscription w ON w.subid = s.oid AND w.relid IS NULL\n' +
        '  LEFT JOIN pg_stat_subscription_stats st ON st.subid = s.oid\n' +
        `  ${leaderOnly}`,
      labels,
      metrics: [
        up,
        ['apply_errors_total', 'COUNTER', 'Errors the apply worker hit (pg_stat_subscription_stats.apply_error_count)'],
        ...(pg18 ? [['conflicts_total', 'COUNTER', 'Conflicts the apply worker resolved (the confl_* counters of pg_stat_subscription_stats, PostgreSQL 18+)'] as [string, 'COUNTER', string]] : []),
      ],
    };
  }
  // pglogical and Spock: the extension's status function (pglogical.show_subscription_status, spock.sub_show_status).
  const status = engine === 'pglogical' ? 'pglogical.show_subscription_status()' : 'spock.sub_show_status()';
  return {
    name: 'dpg_subscription',
    query: `${select},\n` +
      '  CASE WHEN st.status = \'replicating\' THEN 1 ELSE 0 END AS up\n' +
      `  FROM ${expected}\n` +
      `  LEFT JOIN ${status} st ON st.subscription_name = expected.subscription\n` +
      `  ${leaderOnly}`,
    labels,
    metrics: [up],
  };
}

/** YAML double-quoted string (JSON's escapes are YAML's). */
const yamlString = (text: string) => JSON.stringify(text);

/**
 * postgres_exporter's custom queries (`--extend.query-path`, which 0.11.1 on Debian 12 has and later releases keep,
 * deprecated since 0.13): each namespace's metrics are `<namespace>_<column>`, its LABEL columns the labels.
 */
export function postgresExporterQueries(topology: Topology, group: NodeGroup): string {
  const lines = [
    `# postgres_exporter queries of node group ${oneLine(group.name)} (${topology.replication.engine}, PostgreSQL ${topology.postgres.version}).`,
    '# Rendered by cdktf-distributed-postgres: do not edit. Run as the prometheus role (pg_monitor) over the socket.',
  ];
  for (const ns of queryNamespaces(topology, group)) {
    lines.push(`${ns.name}:`, '  query: |');
    lines.push(...ns.query.split('\n').map((l) => `    ${l}`));
    lines.push(`  cache_seconds: ${QUERY_CACHE_SECONDS}`, '  metrics:');
    for (const [column, description] of ns.labels) {
      lines.push(`    - ${column}:`, '        usage: "LABEL"', `        description: ${yamlString(description)}`);
    }
    for (const [column, usage, description] of ns.metrics) {
      lines.push(`    - ${column}:`, `        usage: "${usage}"`, `        description: ${yamlString(description)}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** The SQL post_bootstrap runs (as the superuser, once per cluster): the exporter's role, with no password. */
export function exporterRoleSql(topology: Topology): string {
  const role = checked('a role name', topology.monitoring.exporterRole);
  return `SELECT 'CREATE ROLE ${role} LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') \\gexec\n` +
    `GRANT pg_monitor TO ${role};\n`;
}

/**
 * pg_hba: the exporter's role, over the socket, with peer authentication (only the prometheus system user). Any
 * database: the role can read nothing but what pg_monitor shows, and the exporter connects to the application's.
 */
export function exporterPgHba(topology: Topology): string[] {
  if (!metricsEnabled(topology)) return [];
  return [`local all ${checked('a role name', topology.monitoring.exporterRole)} peer`];
}

/**
 * mesh-keeper's shell function `write_mesh_metrics`: translates mesh.status and anti-entropy.status into
 * `dpg_mesh.prom` for node_exporter's textfile collector, atomically (a temporary file in the same directory, then
 * mv). Anti-entropy series only where a check ran (the leader); `dpg_mesh_resync_needed` once per `resync-needed=`
 * line. Nothing when the directory does not exist (monitoring off, or the package missing).
 */
export function meshMetricsShell(): string {
  return `# node_exporter's textfile collector: mesh.status and anti-entropy.status as dpg_mesh.prom (tmp + mv).
write_mesh_metrics() {
  local dir=${FILES.textfileDir} tmp state ae_state
  [ -d "$dir" ] || return 0
  tmp=$(mktemp "$dir/.dpg_mesh.prom.XXXXXX") || return 0
  state=$(sed -n 's/^state=//p' ${FILES.meshStatus} 2>/dev/null | head -n 1)
  ae_state=$(sed -n 's/^state=//p' ${FILES.antiEntropyStatus} 2>/dev/null | head -n 1)
  {
    if [ -n "$state" ]; then
      echo '# HELP dpg_mesh_state The state of this node group in mesh-keeper status (1 for the current one).'
      echo '# TYPE dpg_mesh_state gauge'
      printf 'dpg_mesh_state{node_group="%s",state="%s"} 1\\n' "$DPG_GROUP" "$(printf '%s' "$state" | tr -cd 'a-z-')"
      echo '# HELP dpg_mesh_problems Problems mesh-keeper reports (problem= lines of mesh.status).'
      echo '# TYPE dpg_mesh_problems gauge'
      printf 'dpg_mesh_problems{node_group="%s"} %s\\n' "$DPG_GROUP" "$(grep -c '^problem=' ${FILES.meshStatus} 2>/dev/null)"
      if grep -q '^resync-needed=' ${FILES.meshStatus} 2>/dev/null; then
        echo '# HELP dpg_mesh_resync_needed 1 per provider group whose slot this group lost: the group must be re-synced.'
        echo '# TYPE dpg_mesh_resync_needed gauge'
        sed -n 's/^resync-needed=//p' ${FILES.meshStatus} | grep -E '^[a-z][a-z0-9-]*$' | sort -u \\
          | while read -r provider; do printf 'dpg_mesh_resync_needed{node_group="%s",provider_group="%s"} 1\\n' "$DPG_GROUP" "$provider"; done
      fi
    fi
    case "$ae_state" in
      clean|dirty|incomplete)
        echo '# HELP dpg_anti_entropy_divergent_keys Keys found differing at the last anti-entropy check.'
        echo '# TYPE dpg_anti_entropy_divergent_keys gauge'
        printf 'dpg_anti_entropy_divergent_keys{node_group="%s"} %s\\n' "$DPG_GROUP" \\
          "$(sed -n 's/^finding=.*: \\([0-9][0-9]*\\) key(s) differ.*/\\1/p' ${FILES.antiEntropyStatus} | awk '{n += $1} END {print n + 0}')"
        echo '# HELP dpg_anti_entropy_last_check_timestamp_seconds When the last anti-entropy check ended (Unix time).'
        echo '# TYPE dpg_anti_entropy_last_check_timestamp_seconds gauge'
        printf 'dpg_anti_entropy_last_check_timestamp_seconds{node_group="%s"} %s\\n' "$DPG_GROUP" \\
          "$(date -u -d "$(sed -n 's/^updated=//p' ${FILES.antiEntropyStatus} | tail -n 1)" +%s 2>/dev/null || echo 0)" ;;
    esac
  } > "$tmp" && chmod 0644 "$tmp" && mv -f "$tmp" "$dir/dpg_mesh.prom" || rm -f "$tmp"
}
`;
}

/**
 * The bootstrap's metrics step (Postgres members, after Patroni started): the exporter's role exists (created on the
 * leader; a standby sees it once replicated), then both exporters start with the configuration above. Never fatal:
 * the database serves without its metrics, and the log says what is missing.
 */
export function metricsBootstrapStep(topology: Topology): string {
  const units = [EXPORTER_UNITS.postgres, EXPORTER_UNITS.node].join(' ');
  const path = QUERIES_PATH_UNIT;
  return `  step "metrics exporters"
  # The exporter's role: created on the leader (idempotent), replicated to the standbys.
  exporter_role() {
    local psql=("$DPG_PG_BIN/psql" -X -q -h ${FILES.socketDir} -p "$DPG_PG_PORT" -d postgres -tA)
    [ "$(runuser -u postgres -- "\${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = '${checked('a role name', topology.monitoring.exporterRole)}'" 2>/dev/null)" = 1 ] && return 0
    [ "$(runuser -u postgres -- "\${psql[@]}" -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ] || return 1
    runuser -u postgres -- "\${psql[@]}" -v ON_ERROR_STOP=1 -f ${FILES.exporterRoleSql} >/dev/null
  }
  wait_for 300 "postgres_exporter's role ${topology.monitoring.exporterRole}" exporter_role || log "continuing: postgres_exporter reports errors until the role exists"
  if [ -e /lib/systemd/system/${EXPORTER_UNITS.postgres} ] && [ -e /lib/systemd/system/${EXPORTER_UNITS.node} ]; then
    systemctl daemon-reload 2>/dev/null || true
    systemctl enable ${units} ${path} 2>/dev/null || true
    systemctl start ${path} 2>/dev/null || true
    systemctl restart ${units} || log "could not start the exporters (see journalctl -u prometheus-postgres-exporter -u prometheus-node-exporter)"
  else
    log "the exporters are not installed (${EXPORTER_PACKAGES.join(', ')}; a golden image must hold them): no metrics"
  fi
`;
}

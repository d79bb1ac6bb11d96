/**
 * The fleet's Prometheus alerting rules, generated from the topology (synth writes them next to the stack's Terraform
 * JSON as `alerts.rules.yml`, like `topology.mmd`). Pure and deterministic: the same topology gives the same bytes.
 *
 * The rules read only the metrics contract (`CONTRACT_METRICS`): the series every member's `prometheus-postgres-exporter`
 * and `prometheus-node-exporter` export (on the ports of `topology.monitoring`), plus node_exporter's own filesystem
 * metrics and Prometheus's `up`. They are scoped to this fleet: the custom metrics by a `node_group=~"..."` matcher of the fleet's
 * node groups, `up` and the filesystem metrics by the members' addresses (a recording rule, `dpg:exporter_up`, gives
 * each exporter target its node group), so two fleets scraped by one Prometheus do not mix (as long as their node
 * group names differ). No rule depends on a scrape job's name.
 */
import { Document } from 'yaml';
import { FILES } from '../render/paths';
import { postgresDataDir } from '../render/patroni';
import { Monitoring, NodeGroup, Topology } from '../topology/topology';

/** The data disk's mount point (node_exporter's `mountpoint` label). */
export const DATA_MOUNTPOINT = FILES.postgresHome;

/**
 * Every metric of the metrics contract the exporters provide (postgres_exporter's custom queries and the textfile
 * collector that mesh-keeper writes). A rule may name only these, node_exporter's `node_*`, Prometheus's `up` and the
 * series this file records.
 */
export const CONTRACT_METRICS: readonly string[] = [
  'dpg_postgres_primary',
  'dpg_postgres_timeline',
  'dpg_slot_retained_bytes',
  'dpg_slot_info',
  'dpg_slot_wal_keep_budget_bytes',
  'dpg_replication_lag_bytes',
  'dpg_replication_lag_seconds',
  'dpg_subscription_up',
  'dpg_subscription_apply_errors_total',
  'dpg_subscription_conflicts_total',
  'dpg_mesh_state',
  'dpg_mesh_problems',
  'dpg_anti_entropy_divergent_keys',
  'dpg_anti_entropy_last_check_timestamp_seconds',
  'dpg_mesh_resync_needed',
];

/** The series the rules file records itself: each exporter target's `up`, labelled with its node group and fleet. */
export const EXPORTER_UP_RECORD = 'dpg:exporter_up';

/**
 * The alerts' thresholds. Constants for now (the same for every fleet); README "Alerts" lists each with its alert.
 */
export const ALERT_THRESHOLDS = {
  /** A subscriber group's replay lag behind a provider (seconds): warning above this for 5 minutes. */
  replicationLagWarningSeconds: 60,
  /** ... critical above this for 5 minutes. */
  replicationLagCriticalSeconds: 600,
  /** WAL a subscriber group's slot is behind a provider: warning above this many bytes (1 GiB) for 10 minutes. */
  replicationLagWarningBytes: 1024 ** 3,
  /** A slot keeps more than this share of the retention budget (`max_slot_wal_keep_size`): warning, for 5 minutes. */
  slotRetentionWarningRatio: 0.8,
  /** Free share of a member's data disk: warning below this for 5 minutes. */
  diskFreeWarningRatio: 0.15,
  /** ... critical below this for 1 minute. */
  diskFreeCriticalRatio: 0.05,
  /** The data disk's free space, extrapolated over the last `diskTrendHours`, reaches 0 within this many hours... */
  diskFillingWarningHours: 24,
  /** ... while less than this share is free: warning, for 1 hour. */
  diskFillingWarningFreeRatio: 0.4,
  /** The same within this many hours... */
  diskFillingCriticalHours: 4,
  /** ... while less than this share is free: critical, for 30 minutes. */
  diskFillingCriticalFreeRatio: 0.2,
  /** The window `predict_linear` extrapolates the free space from. */
  diskTrendHours: 6,
  /** An exporter target down for this many minutes: warning. */
  exporterDownMinutes: 5,
  /** A subscription not streaming for this many minutes: critical (mesh-keeper restarts a stopped one within seconds). */
  subscriptionDownMinutes: 10,
  /** A node group's mesh incomplete for this many minutes: warning. */
  meshIncompleteMinutes: 15,
  /**
   * The anti-entropy check is overdue when its last run is older than this many times `replication.antiEntropyMinutes`
   * plus `antiEntropyOverdueGraceMinutes` (a run reads every replicated table here and at each peer).
   */
  antiEntropyOverdueFactor: 2,
  antiEntropyOverdueGraceMinutes: 30,
} as const;

/** Severity of an alert: `critical` pages (availability lost, or data about to need a re-sync); `warning` waits for working hours. */
export type AlertSeverity = 'critical' | 'warning';

/** One alerting rule as Prometheus reads it. */
export interface AlertingRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: { readonly severity: AlertSeverity; readonly fleet: string };
  readonly annotations: { readonly summary: string; readonly description: string; readonly runbook: string };
}

/** One recording rule. */
export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly labels: { readonly fleet: string };
}

/** A Prometheus rules file: one group per fleet. */
export interface AlertRulesFile {
  readonly groups: { readonly name: string; readonly rules: (RecordingRule | AlertingRule)[] }[];
}

/** The README section of an alert (its runbook points there). */
export function alertAnchor(alert: string): string {
  return `README.md#${alert.toLowerCase()}`;
}

/** A regular expression matching exactly one of `values` (RE2, as Prometheus anchors it). */
function anyOf(values: string[]): string {
  return values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
}

/** A PromQL string literal (Go's escapes, which JSON's are for these characters). */
function str(value: string): string {
  return JSON.stringify(value);
}

/**
 * The exporters of a node group's members: their `instance` label, by private address or DNS name, either port. The
 * ports are the topology's (what the members listen on and the firewall opens), so the rules cannot match other ones.
 */
function instanceRegex(monitoring: Monitoring, group: NodeGroup): string {
  const hosts = [...group.members.map((m) => m.privateIp), ...group.members.map((m) => m.fqdn)];
  return `(${anyOf(hosts)}):(${monitoring.nodeExporterPort}|${monitoring.postgresExporterPort})`;
}

/**
 * The fleet's Prometheus rules as data (one group, `<fleet>-distributed-postgres`); no group when the fleet's
 * monitoring is off (`monitoring.enabled` false): no member runs an exporter for a rule to read.
 */
export function alertRules(topology: Topology): AlertRulesFile {
  if (!topology.monitoring.enabled) return { groups: [] };
  const fleet = topology.fleetName;
  const T = ALERT_THRESHOLDS;
  const all = topology.nodeGroups;
  // A restored group (restoreFrom) stands apart from the mesh: no mesh-keeper state, subscriptions or anti-entropy to watch.
  const mesh = all.filter((g) => !g.restore);
  const groupsOf = (groups: NodeGroup[]) => `node_group=~${str(anyOf(groups.map((g) => g.name)))}`;
  const inFleet = groupsOf(all);
  const inMesh = groupsOf(mesh);
  const sel = (metric: string, scope: string, extra = '') => `${metric}{${scope}${extra ? `,${extra}` : ''}}`;
  const up = `${EXPORTER_UP_RECORD}{fleet=${str(fleet)}}`;
  const primaryOf = `(${sel('dpg_postgres_primary', inFleet)} == 1)`;
  // node_exporter's series carry no node group: take it from the target's recorded `up`.
  const withGroup = (expr: string) => `${expr}\n  * on(instance) group_left(node_group)\n    max by (instance, node_group) (${up} == 1)`;
  const disk = (metric: string) => sel(metric, `mountpoint=${str(DATA_MOUNTPOINT)}`);
  const freeRatio = withGroup(`(${disk('node_filesystem_avail_bytes')} / ${disk('node_filesystem_size_bytes')})`);
  const filling = (hours: number) => withGroup(`predict_linear(${disk('node_filesystem_avail_bytes')}[${T.diskTrendHours}h], ${hours} * 3600)`);
  const minutes = (n: number) => `${n}m`;
  const percent = (ratio: number) => `${Math.round(ratio * 100)} %`;

  const alert = (name: string, severity: AlertSeverity, expr: string, forDuration: string, summary: string, description: string, runbook: string): AlertingRule => ({
    alert: name,
    expr,
    for: forDuration,
    labels: { severity, fleet },
    annotations: { summary, description, runbook: `${runbook} See ${alertAnchor(name)}.` },
  });

  const rules: (RecordingRule | AlertingRule)[] = [{
    record: EXPORTER_UP_RECORD,
    expr: all.map((g) => `label_replace(up{instance=~${str(instanceRegex(topology.monitoring, g))}}, "node_group", ${str(g.name)}, "", "")`).join('\nor\n'),
    labels: { fleet },
  }];

  // A node group's leadership.
  rules.push(alert('DpgNoLeader', 'critical',
    `count by (node_group) (${up})\nunless on(node_group)\n${primaryOf}`, '1m',
    'Node group {{ $labels.node_group }} has no leader',
    'No member of node group {{ $labels.node_group }} reports being the primary ({{ $value }} exporter targets known): the group takes no writes.',
    `Check the members' Patroni (\`patronictl -c ${FILES.patroniConfig} list\`) and the group's etcd quorum (\`etcdctl endpoint health\`); a group that lost most members needs them back, or a member promoted by hand.`));
  rules.push(alert('DpgSplitBrain', 'critical',
    `count by (node_group) (${primaryOf}) > 1`, '1m',
    'Node group {{ $labels.node_group }} has {{ $value }} primaries',
    'More than one member of node group {{ $labels.node_group }} is out of recovery: writes to the old primary are lost when it rejoins.',
    'Find the member that is not Patroni\'s leader (`patronictl list`), stop its Postgres (or its machine) and let Patroni rewind or re-create it; then check anti-entropy for rows written to it.'));
  rules.push(alert('DpgExporterDown', 'warning',
    `${up} == 0`, minutes(T.exporterDownMinutes),
    'Exporter {{ $labels.instance }} of node group {{ $labels.node_group }} is down',
    'Prometheus cannot scrape {{ $labels.instance }} (node group {{ $labels.node_group }}): the machine, the exporter or the network to it is down, and the other alerts are blind to it.',
    `On the member: \`systemctl status prometheus-postgres-exporter prometheus-node-exporter\` (ports ${topology.monitoring.postgresExporterPort} and ${topology.monitoring.nodeExporterPort}, TLS, the member's private address); if the machine is gone, Patroni fails over (a leader's) and DpgNoLeader fires if no member of the group is left to lead.`));

  // Replication between node groups (on each provider's leader, per subscriber group).
  if (topology.subscriptions.length > 0) {
    const lagSeconds = `max by (node_group, peer_group, slot) (${sel('dpg_replication_lag_seconds', inMesh)})`;
    rules.push(alert('DpgReplicationLagHigh', 'warning',
      `${lagSeconds} > ${T.replicationLagWarningSeconds}`, '5m',
      'Node group {{ $labels.peer_group }} lags behind {{ $labels.node_group }}',
      'Node group {{ $labels.peer_group }} replays the changes of {{ $labels.node_group }} {{ $value | humanizeDuration }} late (slot {{ $labels.slot }}).',
      'Look at the subscriber group\'s leader (its load, its apply worker in `pg_stat_activity`, the network between the regions); long transactions on the provider show as lag too.'));
    rules.push(alert('DpgReplicationLagCritical', 'critical',
      `${lagSeconds} > ${T.replicationLagCriticalSeconds}`, '5m',
      'Node group {{ $labels.peer_group }} is far behind {{ $labels.node_group }}',
      'Node group {{ $labels.peer_group }} replays the changes of {{ $labels.node_group }} {{ $value | humanizeDuration }} late (slot {{ $labels.slot }}): its readers see old rows, and the slot\'s WAL grows toward the retention budget.',
      'As for DpgReplicationLagHigh, now: if the subscriber cannot catch up before DpgSlotRetentionHigh turns into DpgSlotLost, it will need a re-sync.'));
    rules.push(alert('DpgReplicationLagBytes', 'warning',
      `max by (node_group, peer_group, slot) (${sel('dpg_replication_lag_bytes', inMesh)}) > ${T.replicationLagWarningBytes}`, '10m',
      'Node group {{ $labels.peer_group }} is {{ $value | humanize1024 }}B behind {{ $labels.node_group }}',
      'The slot {{ $labels.slot }} of node group {{ $labels.peer_group }} on {{ $labels.node_group }} is {{ $value | humanize1024 }}B of WAL behind.',
      'As for DpgReplicationLagHigh; a large batch on the provider shows here briefly, a growing value does not.'));
    rules.push(alert('DpgSubscriptionDown', 'critical',
      `max by (node_group, subscription, provider_group) (${sel('dpg_subscription_up', inMesh)}) == 0`, minutes(T.subscriptionDownMinutes),
      'Subscription {{ $labels.subscription }} of {{ $labels.node_group }} is down',
      'Node group {{ $labels.node_group }} receives nothing from {{ $labels.provider_group }}: its subscription {{ $labels.subscription }} is disabled or not streaming, while the provider keeps WAL for it.',
      'mesh-keeper restarts a stopped subscription within seconds, so something stops it again: read `journalctl -u distributed-postgres-mesh` (mesh-keeper) and the Postgres log on the subscriber\'s leader (apply errors, an unreachable provider, authentication).'));
    if (mesh.length > 0) {
      rules.push(alert('DpgSubscriptionApplyErrors', 'warning',
        `sum by (node_group, subscription, provider_group) (increase(${sel('dpg_subscription_apply_errors_total', inMesh)}[15m])) > 0`, '5m',
        'Subscription {{ $labels.subscription }} of {{ $labels.node_group }} fails to apply changes',
        'The apply worker of {{ $labels.subscription }} (from {{ $labels.provider_group }}) failed {{ $value | humanize }} time(s) in 15 minutes: it retries the same transaction and falls behind.',
        'Read the error in the subscriber leader\'s Postgres log (a conflict the engine cannot resolve, a missing table or column); fix the row or schema on the subscriber.'));
    }
    rules.push(alert('DpgMeshResyncNeeded', 'critical',
      `max by (node_group, provider_group) (${sel('dpg_mesh_resync_needed', inMesh)}) == 1`, '1m',
      'Node group {{ $labels.node_group }} must be re-synced from {{ $labels.provider_group }}',
      'Node group {{ $labels.provider_group }} lost the slot {{ $labels.node_group }} streams from: the changes between are gone from its WAL, and {{ $labels.node_group }} serves stale rows of it until it is re-synced.',
      'The group re-syncs by itself a minute after the detection and the alert clears (mesh-keeper logs `re-sync from ... started` and `join: copied ... (re-sync)`). If it stays, its mesh.status has a problem= line saying why (both directions lost changes, or no automatic re-sync for the engine): re-sync by hand (README: Re-sync).'));
  }

  // Slots (on each group's leader): the mesh's logical slots and the group's own physical slots.
  const onLeader = (expr: string) => `${expr}\n  and on(instance) ${primaryOf}`;
  rules.push(alert('DpgSlotRetentionHigh', 'warning',
    `max by (node_group, slot, kind, peer_group) (\n  ${onLeader(`${sel('dpg_slot_retained_bytes', inFleet)}\n  / ignoring(slot, kind, peer_group) group_left() (${sel('dpg_slot_wal_keep_budget_bytes', inFleet)} > 0)`)}\n) > ${T.slotRetentionWarningRatio}`, '5m',
    'Slot {{ $labels.slot }} on {{ $labels.node_group }} keeps {{ $value | humanizePercentage }} of the WAL budget',
    'The {{ $labels.kind }} slot {{ $labels.slot }} on node group {{ $labels.node_group }} (for {{ if $labels.peer_group }}node group {{ $labels.peer_group }}{{ else }}a standby of the group{{ end }}) keeps {{ $value | humanizePercentage }} of max_slot_wal_keep_size: at 100 % Postgres drops the WAL and the slot is lost.',
    `Bring the slot's consumer back (the peer group's leader and its subscription, or the standby); a slot whose consumer is gone for good goes once the declaration no longer names it. The budget is replication.walRetentionPercent of the data disk (warning at ${percent(T.slotRetentionWarningRatio)}).`));
  rules.push(alert('DpgSlotWalUnreserved', 'critical',
    `max by (node_group, slot, kind, peer_group) (\n  ${onLeader(sel('dpg_slot_info', inFleet, 'wal_status="unreserved"'))}\n) == 1`, '1m',
    'Slot {{ $labels.slot }} on {{ $labels.node_group }} is past its WAL budget',
    'The {{ $labels.kind }} slot {{ $labels.slot }} on node group {{ $labels.node_group }} keeps more than max_slot_wal_keep_size: the next checkpoint removes WAL it needs, and it is lost.',
    'As for DpgSlotRetentionHigh, at once; prepare the re-sync of its consumer.'));
  rules.push(alert('DpgSlotLost', 'critical',
    `max by (node_group, slot, kind, peer_group) (\n  ${onLeader(sel('dpg_slot_info', inFleet, 'wal_status="lost"'))}\n) == 1`, '1m',
    'Slot {{ $labels.slot }} on {{ $labels.node_group }} is lost',
    'The {{ $labels.kind }} slot {{ $labels.slot }} on node group {{ $labels.node_group }} lost WAL it needed: {{ if $labels.peer_group }}node group {{ $labels.peer_group }} misses changes and must be re-synced{{ else }}its standby must be re-created{{ end }}.',
    'A peer group: re-sync it (README: the runbook for rebuilding a lost node group). A standby: `patronictl reinit` it.'));

  // The mesh as mesh-keeper sees it (node_exporter's textfile collector).
  if (mesh.length > 0) {
    rules.push(alert('DpgMeshIncomplete', 'warning',
      `max by (node_group) (${sel('dpg_mesh_state', inMesh, 'state="incomplete"')}) == 1`, minutes(T.meshIncompleteMinutes),
      'The mesh of node group {{ $labels.node_group }} is incomplete',
      'mesh-keeper on the leader of node group {{ $labels.node_group }} has not been able to create every subscription, slot or replication set of its mesh document.',
      'Usually a provider group that is not up (see DpgNoLeader) or not reachable; `journalctl -u distributed-postgres-mesh` (mesh-keeper) on the leader names what is missing.'));
    rules.push(alert('DpgMeshProblems', 'warning',
      `max by (node_group) (${sel('dpg_mesh_problems', inMesh)}) > 0`, '5m',
      'Node group {{ $labels.node_group }} has {{ $value }} mesh problem(s) mesh-keeper cannot fix',
      'mesh-keeper on node group {{ $labels.node_group }} reports {{ $value }} problem(s) that need a person (for example a delta-apply column that is nullable).',
      `Read the \`problem=\` lines of ${FILES.meshStatus} (or the mesh-keeper journal) on the leader and fix each in the schema or the declaration.`));
    rules.push(alert('DpgAntiEntropyDivergence', 'warning',
      `max by (node_group) (\n  ${sel('dpg_anti_entropy_divergent_keys', inMesh)}\n  unless on(instance) (${sel('dpg_mesh_state', inMesh, 'state="not-leader"')} == 1)\n) > 0`, '1m',
      'Node group {{ $labels.node_group }} holds {{ $value }} key(s) that differ from its peers',
      'The last anti-entropy check of node group {{ $labels.node_group }} found {{ $value }} key(s) whose rows differ from another group\'s, each read several times: the groups hold different data.',
      'The mesh-keeper journal on the leader names each table, peer and key (`anti-entropy: divergence:`); decide which row is right and write it again on that group, so it replicates.'));
    if (topology.replication.antiEntropyMinutes > 0) {
      const overdueSeconds = (T.antiEntropyOverdueFactor * topology.replication.antiEntropyMinutes + T.antiEntropyOverdueGraceMinutes) * 60;
      rules.push(alert('DpgAntiEntropyOverdue', 'warning',
        `time() - max by (node_group) (${sel('dpg_anti_entropy_last_check_timestamp_seconds', inMesh)}) > ${overdueSeconds}`, '10m',
        'The anti-entropy check of node group {{ $labels.node_group }} has not run for {{ $value | humanizeDuration }}',
        `Node group {{ $labels.node_group }} last checked its rows against its peers {{ $value | humanizeDuration }} ago; it should every ${topology.replication.antiEntropyMinutes} minute(s).`,
        'See why in the mesh-keeper journal on the leader (`anti-entropy: not run:`): usually a peer leader that does not answer, or a check that takes longer than its period (raise replication.antiEntropyMinutes).'));
    }
  }

  // The data disk (node_exporter).
  rules.push(alert('DpgDataDiskLow', 'warning',
    `${freeRatio}\n< ${T.diskFreeWarningRatio}`, '5m',
    'Data disk of {{ $labels.instance }} ({{ $labels.node_group }}) is {{ $value | humanizePercentage }} free',
    `The data disk (${DATA_MOUNTPOINT}) of {{ $labels.instance }} in node group {{ $labels.node_group }} has {{ $value | humanizePercentage }} free (warning below ${percent(T.diskFreeWarningRatio)}).`,
    `Find what grows (\`du -sh ${postgresDataDir(topology)}/{base,pg_wal}\`): WAL kept for slots (see DpgSlotRetentionHigh), or data: grow the disk (nodeGroups[].dataDisk) before it fills.`));
  rules.push(alert('DpgDataDiskCritical', 'critical',
    `${freeRatio}\n< ${T.diskFreeCriticalRatio}`, '1m',
    'Data disk of {{ $labels.instance }} ({{ $labels.node_group }}) is almost full',
    `The data disk (${DATA_MOUNTPOINT}) of {{ $labels.instance }} in node group {{ $labels.node_group }} has {{ $value | humanizePercentage }} free: Postgres stops when it is full.`,
    'As for DpgDataDiskLow, at once: drop a slot that no longer has a consumer, or grow the disk.'));
  rules.push(alert('DpgDataDiskFillingUp', 'warning',
    `${freeRatio}\n< ${T.diskFillingWarningFreeRatio}\nand\n${filling(T.diskFillingWarningHours)}\n< 0`, '1h',
    'Data disk of {{ $labels.instance }} ({{ $labels.node_group }}) fills within a day',
    `At the rate of the last ${T.diskTrendHours} hours the data disk of {{ $labels.instance }} in node group {{ $labels.node_group }} is full within ${T.diskFillingWarningHours} hours ({{ $value | humanizePercentage }} free now).`,
    'As for DpgDataDiskLow.'));
  rules.push(alert('DpgDataDiskFillingFast', 'critical',
    `${freeRatio}\n< ${T.diskFillingCriticalFreeRatio}\nand\n${filling(T.diskFillingCriticalHours)}\n< 0`, '30m',
    'Data disk of {{ $labels.instance }} ({{ $labels.node_group }}) fills within hours',
    `At the rate of the last ${T.diskTrendHours} hours the data disk of {{ $labels.instance }} in node group {{ $labels.node_group }} is full within ${T.diskFillingCriticalHours} hours ({{ $value | humanizePercentage }} free now).`,
    'As for DpgDataDiskCritical.'));

  return { groups: [{ name: `${fleet}-distributed-postgres`, rules }] };
}

/**
 * The fleet's Prometheus rules file (YAML), as synth writes it to `alerts.rules.yml`; load it with `rule_files`. The
 * empty string when the fleet's monitoring is off: there are no exporters to alert on, and synth writes no file.
 */
export function renderAlertRules(topology: Topology): string {
  if (!topology.monitoring.enabled) return '';
  const doc = new Document(alertRules(topology), { version: '1.1' });
  doc.commentBefore = ` ${topology.fleetName}: Prometheus alerting rules of the distributed-postgres fleet (generated at synth; do not edit).\n` +
    ' Load with rule_files in prometheus.yml; the alerts are described in the README, section "Alerts".';
  return doc.toString({ lineWidth: 0 });
}

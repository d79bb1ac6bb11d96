/**
 * `promtool test rules` cases for a fleet's alerts (written for a fleet of at least three node groups in the mesh,
 * the ledger): for each alert, input series that make it fire and series where it must not (another group, a standby,
 * a value under the threshold, a condition shorter than its `for`, another fleet's series), so a wrong expression,
 * threshold, scope or duration fails the test.
 *
 * promtool compares an alert's annotations exactly, so the expression cases run on the rules without annotations
 * (`withoutAnnotations`); `ANNOTATION_CASES` run on the file as synth writes it and check the templates' text.
 */
import { ALERT_THRESHOLDS, AlertRulesFile } from '../../lib/pipeline';
import { Member, Topology } from '../../lib';

interface Series { series: string; values: string }
interface ExpectedAlert { exp_labels: Record<string, string>; exp_annotations?: Record<string, string> }
interface AlertTest { eval_time: string; alertname: string; exp_alerts: ExpectedAlert[] }
interface TestGroup { name: string; interval: string; input_series: Series[]; alert_rule_test: AlertTest[] }

/** A series in promtool's notation: `name{labels}`. */
function s(name: string, labels: Record<string, string>, values: string): Series {
  return { series: `${name}{${Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`, values };
}

const JOB_PG = 'dpg-postgres';
const JOB_NODE = 'dpg-node';

/** The rules file with every alert's annotations removed. */
export function withoutAnnotations(file: AlertRulesFile): AlertRulesFile {
  return { groups: file.groups.map((g) => ({ ...g, rules: g.rules.map((r) => { const { annotations, ...rest } = r as any; return rest; }) })) };
}

/** The expression cases (run on `withoutAnnotations`). */
export function expressionCases(topology: Topology): TestGroup[] {
  const fleet = topology.fleetName;
  const mesh = topology.nodeGroups.filter((g) => !g.restore);
  if (mesh.length < 3) throw new Error('the cases need three node groups in the mesh');
  const [a, b, c] = mesh;
  const [a1, a2, a3] = a.members;
  const [b1] = b.members;
  const pg = (m: Member) => `${m.privateIp}:9187`;
  const node = (m: Member) => `${m.privateIp}:9100`;
  const T = ALERT_THRESHOLDS;
  const crit = (labels: Record<string, string>) => ({ exp_labels: { ...labels, severity: 'critical', fleet } });
  const warn = (labels: Record<string, string>) => ({ exp_labels: { ...labels, severity: 'warning', fleet } });
  const upOf = (m: Member, value: string) => [s('up', { instance: pg(m), job: JOB_PG }, value), s('up', { instance: node(m), job: JOB_NODE }, value)];
  const primary = (group: string, m: Member, values: string) => s('dpg_postgres_primary', { node_group: group, instance: pg(m), job: JOB_PG }, values);
  // Another fleet's member, scraped by the same Prometheus: nothing of it may alert here.
  const foreign = { instance: '10.250.0.10:9187', job: JOB_PG };

  return [
    {
      name: 'DpgNoLeader: a group whose members are all standbys, or all unreachable; not a group with a primary, nor another fleet',
      interval: '1m',
      input_series: [
        ...a.members.flatMap((m) => upOf(m, '1x10')),
        ...a.members.map((m) => primary(a.name, m, '0x10')),
        ...upOf(b1, '1x10'), primary(b.name, b1, '1x10'),
        ...c.members.flatMap((m) => upOf(m, '0x10')),
        s('up', foreign, '1x10'), s('dpg_postgres_primary', { ...foreign, node_group: 'other' }, '0x10'),
      ],
      alert_rule_test: [
        { eval_time: '0m', alertname: 'DpgNoLeader', exp_alerts: [] }, // pending for 1m
        { eval_time: '5m', alertname: 'DpgNoLeader', exp_alerts: [crit({ node_group: a.name }), crit({ node_group: c.name })] },
      ],
    },
    {
      name: 'DpgNoLeader: a failover shorter than a minute does not fire',
      interval: '15s',
      input_series: [...a.members.flatMap((m) => upOf(m, '1x40')), primary(a.name, a1, '1x10 0x3 0x26'), primary(a.name, a2, '0x10 0x3 1x26')],
      // Evaluated once a minute: at 3m no member is primary (pending), at 4m the new one is.
      alert_rule_test: [{ eval_time: '3m', alertname: 'DpgNoLeader', exp_alerts: [] }, { eval_time: '4m', alertname: 'DpgNoLeader', exp_alerts: [] }],
    },
    {
      name: 'DpgSplitBrain: two primaries in one group; one primary is fine',
      interval: '1m',
      input_series: [primary(a.name, a1, '1x10'), primary(a.name, a2, '1x10'), primary(a.name, a3, '0x10'), primary(b.name, b1, '1x10'),
        s('dpg_postgres_primary', { ...foreign, node_group: 'other' }, '1x10'), s('dpg_postgres_primary', { instance: '10.250.0.11:9187', job: JOB_PG, node_group: 'other' }, '1x10')],
      alert_rule_test: [{ eval_time: '5m', alertname: 'DpgSplitBrain', exp_alerts: [crit({ node_group: a.name })] }],
    },
    {
      name: 'DpgExporterDown: a member\'s exporter down for 5 minutes, scraped by address or DNS name; not a short outage nor another fleet\'s',
      interval: '1m',
      input_series: [
        s('up', { instance: `${a1.fqdn}:9100`, job: JOB_NODE }, '0x10'),
        s('up', { instance: pg(b1), job: JOB_PG }, '0x3 1x7'),
        s('up', foreign, '0x10'),
      ],
      alert_rule_test: [
        { eval_time: '3m', alertname: 'DpgExporterDown', exp_alerts: [] },
        { eval_time: '8m', alertname: 'DpgExporterDown', exp_alerts: [warn({ node_group: a.name, instance: `${a1.fqdn}:9100`, job: JOB_NODE })] },
      ],
    },
    {
      name: 'replication lag: seconds and bytes per pair of groups, over the thresholds only',
      interval: '1m',
      input_series: [
        s('dpg_replication_lag_seconds', { node_group: a.name, peer_group: b.name, slot: 'slot_ab', instance: pg(a1), job: JOB_PG }, `${T.replicationLagWarningSeconds * 2}x20`),
        s('dpg_replication_lag_seconds', { node_group: a.name, peer_group: c.name, slot: 'slot_ac', instance: pg(a1), job: JOB_PG }, `${T.replicationLagCriticalSeconds + 100}x20`),
        s('dpg_replication_lag_seconds', { node_group: b.name, peer_group: a.name, slot: 'slot_ba', instance: pg(b1), job: JOB_PG }, `${T.replicationLagWarningSeconds / 2}x20`),
        s('dpg_replication_lag_seconds', { ...foreign, node_group: 'other', peer_group: 'x', slot: 's' }, '100000x20'),
        s('dpg_replication_lag_bytes', { node_group: a.name, peer_group: b.name, slot: 'slot_ab', instance: pg(a1), job: JOB_PG }, `${T.replicationLagWarningBytes * 2}x20`),
        s('dpg_replication_lag_bytes', { node_group: b.name, peer_group: a.name, slot: 'slot_ba', instance: pg(b1), job: JOB_PG }, `${T.replicationLagWarningBytes / 2}x20`),
      ],
      alert_rule_test: [
        { eval_time: '3m', alertname: 'DpgReplicationLagHigh', exp_alerts: [] },
        { eval_time: '10m', alertname: 'DpgReplicationLagHigh', exp_alerts: [
          warn({ node_group: a.name, peer_group: b.name, slot: 'slot_ab' }), warn({ node_group: a.name, peer_group: c.name, slot: 'slot_ac' })] },
        { eval_time: '10m', alertname: 'DpgReplicationLagCritical', exp_alerts: [crit({ node_group: a.name, peer_group: c.name, slot: 'slot_ac' })] },
        { eval_time: '8m', alertname: 'DpgReplicationLagBytes', exp_alerts: [] },
        { eval_time: '15m', alertname: 'DpgReplicationLagBytes', exp_alerts: [warn({ node_group: a.name, peer_group: b.name, slot: 'slot_ab' })] },
      ],
    },
    {
      name: 'DpgSubscriptionDown and DpgSubscriptionApplyErrors',
      interval: '1m',
      input_series: [
        s('dpg_subscription_up', { node_group: a.name, subscription: `sub_${a.name}_${b.name}`, provider_group: b.name, instance: pg(a1), job: JOB_PG }, '0x30'),
        s('dpg_subscription_up', { node_group: a.name, subscription: `sub_${a.name}_${c.name}`, provider_group: c.name, instance: pg(a1), job: JOB_PG }, '1x30'),
        s('dpg_subscription_up', { node_group: b.name, subscription: `sub_${b.name}_${a.name}`, provider_group: a.name, instance: pg(b1), job: JOB_PG }, '0x5 1x25'),
        s('dpg_subscription_up', { ...foreign, node_group: 'other', subscription: 's', provider_group: 'x' }, '0x30'),
        s('dpg_subscription_apply_errors_total', { node_group: a.name, subscription: `sub_${a.name}_${b.name}`, provider_group: b.name, instance: pg(a1), job: JOB_PG }, '0+1x30'),
        s('dpg_subscription_apply_errors_total', { node_group: b.name, subscription: `sub_${b.name}_${a.name}`, provider_group: a.name, instance: pg(b1), job: JOB_PG }, '7x30'),
      ],
      alert_rule_test: [
        { eval_time: '8m', alertname: 'DpgSubscriptionDown', exp_alerts: [] },
        { eval_time: '15m', alertname: 'DpgSubscriptionDown', exp_alerts: [crit({ node_group: a.name, subscription: `sub_${a.name}_${b.name}`, provider_group: b.name })] },
        { eval_time: '20m', alertname: 'DpgSubscriptionApplyErrors', exp_alerts: [warn({ node_group: a.name, subscription: `sub_${a.name}_${b.name}`, provider_group: b.name })] },
      ],
    },
    {
      name: 'DpgMeshResyncNeeded: the flag of one pair, on any member',
      interval: '1m',
      input_series: [
        s('dpg_mesh_resync_needed', { node_group: a.name, provider_group: b.name, instance: node(a1), job: JOB_NODE }, '1x10'),
        s('dpg_mesh_resync_needed', { node_group: a.name, provider_group: b.name, instance: node(a2), job: JOB_NODE }, '1x10'),
        s('dpg_mesh_resync_needed', { node_group: a.name, provider_group: c.name, instance: node(a1), job: JOB_NODE }, '0x10'),
      ],
      alert_rule_test: [{ eval_time: '5m', alertname: 'DpgMeshResyncNeeded', exp_alerts: [crit({ node_group: a.name, provider_group: b.name })] }],
    },
    {
      name: 'slots: retention over 80 % of the budget, past it, lost; on the leader only',
      interval: '1m',
      input_series: [
        primary(a.name, a1, '1x20'), primary(a.name, a2, '0x20'), primary(b.name, b1, '1x20'),
        s('dpg_slot_wal_keep_budget_bytes', { node_group: a.name, instance: pg(a1), job: JOB_PG }, '1000x20'),
        s('dpg_slot_wal_keep_budget_bytes', { node_group: a.name, instance: pg(a2), job: JOB_PG }, '1000x20'),
        s('dpg_slot_wal_keep_budget_bytes', { node_group: b.name, instance: pg(b1), job: JOB_PG }, '1000x20'),
        s('dpg_slot_retained_bytes', { node_group: a.name, slot: 'slot_ab', kind: 'logical', peer_group: b.name, instance: pg(a1), job: JOB_PG }, '900x20'),
        s('dpg_slot_retained_bytes', { node_group: a.name, slot: 'slot_ac', kind: 'logical', peer_group: c.name, instance: pg(a1), job: JOB_PG }, '500x20'),
        s('dpg_slot_retained_bytes', { node_group: a.name, slot: 'slot_ab', kind: 'logical', peer_group: b.name, instance: pg(a2), job: JOB_PG }, '990x20'),
        s('dpg_slot_retained_bytes', { node_group: b.name, slot: 'member2', kind: 'physical', peer_group: '', instance: pg(b1), job: JOB_PG }, '850x20'),
        s('dpg_slot_info', { node_group: a.name, slot: 'slot_ab', kind: 'logical', peer_group: b.name, wal_status: 'extended', active: 'true', instance: pg(a1), job: JOB_PG }, '1x20'),
        s('dpg_slot_info', { node_group: a.name, slot: 'slot_ac', kind: 'logical', peer_group: c.name, wal_status: 'lost', active: 'false', instance: pg(a1), job: JOB_PG }, '1x20'),
        s('dpg_slot_info', { node_group: a.name, slot: 'slot_ab', kind: 'logical', peer_group: b.name, wal_status: 'lost', active: 'false', instance: pg(a2), job: JOB_PG }, '1x20'),
        s('dpg_slot_info', { node_group: b.name, slot: 'member2', kind: 'physical', peer_group: '', wal_status: 'unreserved', active: 'false', instance: pg(b1), job: JOB_PG }, '1x20'),
      ],
      alert_rule_test: [
        { eval_time: '3m', alertname: 'DpgSlotRetentionHigh', exp_alerts: [] },
        { eval_time: '10m', alertname: 'DpgSlotRetentionHigh', exp_alerts: [
          warn({ node_group: a.name, slot: 'slot_ab', kind: 'logical', peer_group: b.name }), warn({ node_group: b.name, slot: 'member2', kind: 'physical' })] },
        { eval_time: '10m', alertname: 'DpgSlotWalUnreserved', exp_alerts: [crit({ node_group: b.name, slot: 'member2', kind: 'physical' })] },
        { eval_time: '10m', alertname: 'DpgSlotLost', exp_alerts: [crit({ node_group: a.name, slot: 'slot_ac', kind: 'logical', peer_group: c.name })] },
      ],
    },
    {
      name: 'the mesh: incomplete for 15 minutes, problems; divergence on the leader, not a standby\'s stale file; the anti-entropy check overdue',
      interval: '1m',
      input_series: [
        s('dpg_mesh_state', { node_group: a.name, state: 'incomplete', instance: node(a1), job: JOB_NODE }, '1x30'),
        s('dpg_mesh_state', { node_group: b.name, state: 'incomplete', instance: node(b1), job: JOB_NODE }, '1x10 0x20'),
        s('dpg_mesh_state', { node_group: a.name, state: 'not-leader', instance: node(a2), job: JOB_NODE }, '1x30'),
        s('dpg_mesh_state', { node_group: c.name, state: 'complete', instance: node(c.members[0]), job: JOB_NODE }, '1x30'),
        s('dpg_mesh_state', { node_group: c.name, state: 'not-leader', instance: node(c.members[1]), job: JOB_NODE }, '1x30'),
        s('dpg_mesh_problems', { node_group: a.name, instance: node(a1), job: JOB_NODE }, '2x30'),
        s('dpg_mesh_problems', { node_group: b.name, instance: node(b1), job: JOB_NODE }, '0x30'),
        s('dpg_anti_entropy_divergent_keys', { node_group: a.name, instance: node(a2), job: JOB_NODE }, '5x30'),
        s('dpg_anti_entropy_divergent_keys', { node_group: c.name, instance: node(c.members[0]), job: JOB_NODE }, '3x30'),
        s('dpg_anti_entropy_divergent_keys', { node_group: c.name, instance: node(c.members[1]), job: JOB_NODE }, '9x30'),
        s('dpg_anti_entropy_divergent_keys', { node_group: b.name, instance: node(b1), job: JOB_NODE }, '0x30'),
      ],
      alert_rule_test: [
        { eval_time: '12m', alertname: 'DpgMeshIncomplete', exp_alerts: [] },
        { eval_time: '20m', alertname: 'DpgMeshIncomplete', exp_alerts: [warn({ node_group: a.name })] },
        { eval_time: '10m', alertname: 'DpgMeshProblems', exp_alerts: [warn({ node_group: a.name })] },
        { eval_time: '10m', alertname: 'DpgAntiEntropyDivergence', exp_alerts: [warn({ node_group: c.name })] },
      ],
    },
    {
      name: 'DpgAntiEntropyOverdue: a group whose last check is older than the limit; not one that checks',
      interval: '1m',
      input_series: [
        // Seconds since the epoch: promtool's clock starts at 0, so `0x400` is a check at t=0 and never again.
        s('dpg_anti_entropy_last_check_timestamp_seconds', { node_group: a.name, instance: node(a1), job: JOB_NODE }, '0x400'),
        // Checked at t=0 by the old leader (its file stays), then all the time by the new one.
        s('dpg_anti_entropy_last_check_timestamp_seconds', { node_group: b.name, instance: node(b1), job: JOB_NODE }, '0x400'),
        s('dpg_anti_entropy_last_check_timestamp_seconds', { node_group: b.name, instance: node(b.members[1]), job: JOB_NODE }, '0+60x400'),
      ],
      alert_rule_test: [
        { eval_time: `${overdueMinutes(topology) - 10}m`, alertname: 'DpgAntiEntropyOverdue', exp_alerts: [] },
        { eval_time: `${overdueMinutes(topology) + 20}m`, alertname: 'DpgAntiEntropyOverdue', exp_alerts: [warn({ node_group: a.name })] },
      ],
    },
    {
      name: 'the data disk: little free, almost full, filling within a day or within hours; not another mount point, another fleet or a steady disk',
      interval: '1m',
      input_series: [
        ...[a1, a2, a3, b1].map((m) => s('up', { instance: node(m), job: JOB_NODE }, '1x300')),
        s('up', { instance: '10.250.0.10:9100', job: JOB_NODE }, '1x300'),
        ...disk(a1, '100x300', '1000'), // 10 % free, steady
        ...disk(a2, '30x300', '1000'), // 3 % free
        ...disk(a3, '350-1x300', '1000'), // 35 % free, losing 1 a minute: empty within 6 hours
        ...disk(b1, '190-1x300', '1000'), // 19 % free, losing 1 a minute: empty within 4 hours
        s('node_filesystem_avail_bytes', { instance: node(b1), job: JOB_NODE, mountpoint: '/', fstype: 'ext4', device: '/dev/root' }, '1x300'),
        s('node_filesystem_size_bytes', { instance: node(b1), job: JOB_NODE, mountpoint: '/', fstype: 'ext4', device: '/dev/root' }, '1000x300'),
        ...disk({ privateIp: '10.250.0.10' } as Member, '1x300', '1000'),
      ],
      alert_rule_test: [
        { eval_time: '10m', alertname: 'DpgDataDiskLow', exp_alerts: [warn(diskLabels(a.name, a1)), warn(diskLabels(a.name, a2))] },
        { eval_time: '10m', alertname: 'DpgDataDiskCritical', exp_alerts: [crit(diskLabels(a.name, a2))] },
        { eval_time: '30m', alertname: 'DpgDataDiskFillingUp', exp_alerts: [] }, // pending for 1h
        { eval_time: '90m', alertname: 'DpgDataDiskFillingUp', exp_alerts: [warn(diskLabels(a.name, a3)), warn(diskLabels(b.name, b1))] },
        { eval_time: '90m', alertname: 'DpgDataDiskFillingFast', exp_alerts: [crit(diskLabels(b.name, b1))] },
      ],
    },
  ];

  function disk(m: Member, avail: string, size: string): Series[] {
    const labels = { instance: node(m), job: JOB_NODE, mountpoint: '/var/lib/postgresql', fstype: 'ext4', device: '/dev/nvme1n1' };
    return [s('node_filesystem_avail_bytes', labels, avail), s('node_filesystem_size_bytes', labels, `${size}x300`)];
  }
  function diskLabels(group: string, m: Member): Record<string, string> {
    return { node_group: group, instance: node(m), job: JOB_NODE, mountpoint: '/var/lib/postgresql', fstype: 'ext4', device: '/dev/nvme1n1' };
  }
}

/** Minutes after which the check is overdue. */
function overdueMinutes(topology: Topology): number {
  return ALERT_THRESHOLDS.antiEntropyOverdueFactor * topology.replication.antiEntropyMinutes + ALERT_THRESHOLDS.antiEntropyOverdueGraceMinutes;
}

/** Cases on the rules as synth writes them: the annotations' templates rendered by Prometheus, text checked. */
export function annotationCases(topology: Topology): TestGroup[] {
  const fleet = topology.fleetName;
  const [a, b] = topology.nodeGroups.filter((g) => !g.restore);
  const [a1, a2] = a.members;
  const pg = (m: Member) => `${m.privateIp}:9187`;
  const slotLabels = (m: Member, slot: string, kind: string, peer: string) =>
    ({ node_group: a.name, slot, kind, peer_group: peer, wal_status: 'lost', active: 'false', instance: pg(m), job: JOB_PG });
  const runbook = 'A peer group: re-sync it (README: the runbook for rebuilding a lost node group). A standby: `patronictl reinit` it. See README.md#dpgslotlost.';
  return [{
    name: 'annotations: DpgSlotLost for a peer group\'s slot and for a standby\'s; DpgSplitBrain with its count',
    interval: '1m',
    input_series: [
      s('dpg_postgres_primary', { node_group: a.name, instance: pg(a1), job: JOB_PG }, '1x10'),
      s('dpg_postgres_primary', { node_group: a.name, instance: pg(a2), job: JOB_PG }, '1x10'),
      s('dpg_slot_info', slotLabels(a1, 'slot_ab', 'logical', b.name), '1x10'),
      s('dpg_slot_info', slotLabels(a1, 'member2', 'physical', ''), '1x10'),
    ],
    alert_rule_test: [
      {
        eval_time: '5m', alertname: 'DpgSlotLost', exp_alerts: [
          {
            // An empty label is no label in Prometheus: the group's own physical slot has no peer_group.
            exp_labels: { node_group: a.name, slot: 'member2', kind: 'physical', severity: 'critical', fleet },
            exp_annotations: {
              summary: `Slot member2 on ${a.name} is lost`,
              description: `The physical slot member2 on node group ${a.name} lost WAL it needed: its standby must be re-created.`,
              runbook,
            },
          },
          {
            exp_labels: { node_group: a.name, slot: 'slot_ab', kind: 'logical', peer_group: b.name, severity: 'critical', fleet },
            exp_annotations: {
              summary: `Slot slot_ab on ${a.name} is lost`,
              description: `The logical slot slot_ab on node group ${a.name} lost WAL it needed: node group ${b.name} misses changes and must be re-synced.`,
              runbook,
            },
          },
        ],
      },
      {
        eval_time: '5m', alertname: 'DpgSplitBrain', exp_alerts: [{
          exp_labels: { node_group: a.name, severity: 'critical', fleet },
          exp_annotations: {
            summary: `Node group ${a.name} has 2 primaries`,
            description: `More than one member of node group ${a.name} is out of recovery: writes to the old primary are lost when it rejoins.`,
            runbook: 'Find the member that is not Patroni\'s leader (`patronictl list`), stop its Postgres (or its machine) and let Patroni rewind or re-create it; then check anti-entropy for rows written to it. See README.md#dpgsplitbrain.',
          },
        }],
      },
    ],
  }];
}

/** A promtool test file over `ruleFile`. */
export function promtoolTestFile(ruleFile: string, groups: TestGroup[]): object {
  return { rule_files: [ruleFile], evaluation_interval: '1m', tests: groups.map(({ name, ...rest }) => rest) };
}

/**
 * The fleet's Prometheus rules (lib/monitoring/alerts.ts): pinned for the reference ledger, deterministic, reading only
 * the metrics contract, scoped to the fleet, and each alert documented in the README. promtool checks and runs them
 * for real in promtool.system.test.ts.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { ALERT_THRESHOLDS, alertRules, AlertingRule, CONTRACT_METRICS, EXPORTER_UP_RECORD, RecordingRule, renderAlertRules } from '../../lib/pipeline';
import { Topology } from '../../lib';
import { rehearsalNativeFleet } from '../../stacks/rehearsal-native';
import { rehearsalSpockFleet } from '../../stacks/rehearsal-spock';
import { ledgerFleet, pglogicalFleet, singleGroupDedicatedEtcd } from '../fixtures/fleets';
import { topologyOf } from '../render/helpers';
import { metricNames, selectors } from './promql';

const ledger = () => topologyOf(ledgerFleet());
const REFERENCE: [string, () => Topology][] = [
  ['ledger', ledger],
  ['rehearsal', () => topologyOf(pglogicalFleet())],
  ['rehearsal-native', () => topologyOf(rehearsalNativeFleet())],
  ['rehearsal-spock', () => topologyOf(rehearsalSpockFleet())],
  ['solo', () => topologyOf(singleGroupDedicatedEtcd())],
];
const alertsOf = (topology: Topology) => alertRules(topology).groups[0].rules.filter((r): r is AlertingRule => 'alert' in r);
const recordsOf = (topology: Topology) => alertRules(topology).groups[0].rules.filter((r): r is RecordingRule => 'record' in r);

/** A fleet with a restored node group (restoreFrom): it stands apart from the mesh. */
function withRestoredGroup(): Topology {
  const props: any = pglogicalFleet();
  const source = props.nodeGroups[0];
  props.nodeGroups.push({ name: `${source.name}-copy`, cloud: source.cloud, region: source.region, image: source.image,
    restoreFrom: { nodeGroup: source.name, targetTime: '2026-11-27T10:14:59Z' } });
  return topologyOf(props);
}

test('the ledger rules file', () => {
  expect(renderAlertRules(ledger())).toMatchSnapshot();
});

test('byte-identical from two separately resolved topologies', () => {
  expect(renderAlertRules(ledger())).toBe(renderAlertRules(ledger()));
});

test('the YAML is the rules as data: one group per fleet, named after it', () => {
  for (const [, topology] of REFERENCE) {
    const t = topology();
    expect(parse(renderAlertRules(t))).toEqual(JSON.parse(JSON.stringify(alertRules(t))));
    expect(alertRules(t).groups.map((g) => g.name)).toEqual([`${t.fleetName}-distributed-postgres`]);
  }
});

test('every alert has a duration, a severity, the fleet, and a summary, description and runbook pointing to the README', () => {
  const readme = fs.readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
  const headings = new Set([...readme.matchAll(/^#{2,6} (.+)$/gm)].map((m) => m[1].trim().toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
  for (const [, topology] of REFERENCE) {
    const t = topology();
    for (const rule of alertsOf(t)) {
      expect(rule.alert).toMatch(/^Dpg[A-Z][A-Za-z]+$/);
      expect(rule.for).toMatch(/^\d+[mh]$/);
      expect(['critical', 'warning']).toContain(rule.labels.severity);
      expect(rule.labels.fleet).toBe(t.fleetName);
      expect(Object.keys(rule.annotations)).toEqual(['summary', 'description', 'runbook']);
      for (const text of Object.values(rule.annotations)) expect(text.length).toBeGreaterThan(20);
      const anchor = `README.md#${rule.alert.toLowerCase()}`;
      expect(rule.annotations.runbook.endsWith(`See ${anchor}.`)).toBe(true);
      // The anchor is a heading of the README (GitHub's anchors: lower case, punctuation dropped, spaces to '-').
      expect(headings.has(rule.alert.toLowerCase())).toBe(true);
    }
  }
});

test('the README lists every alert the ledger gets, with its severity', () => {
  const readme = fs.readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Alerts\n'));
  expect(section.length).toBeGreaterThan(1000);
  for (const rule of alertsOf(ledger())) expect(section).toContain(`| \`${rule.alert}\` | ${rule.labels.severity} |`);
});

describe('metric names', () => {
  const allowed = (name: string, recorded: string[]) => CONTRACT_METRICS.includes(name) || recorded.includes(name) || name === 'up' || /^node_[a-z_]+$/.test(name);

  test('every expression reads only the metrics contract, node_exporter\'s node_* and up, and what the file records', () => {
    for (const [, topology] of REFERENCE) {
      const t = topology();
      const recorded = recordsOf(t).map((r) => r.record);
      const unknown = alertRules(t).groups[0].rules.flatMap((r) => metricNames(r.expr).filter((n) => !allowed(n, recorded)).map((n) => `${'alert' in r ? r.alert : r.record}: ${n}`));
      expect(unknown).toEqual([]);
    }
  });

  test('a misspelt metric name is caught', () => {
    const rule = alertsOf(ledger()).find((r) => r.alert === 'DpgSplitBrain')!;
    const misspelt = rule.expr.replace('dpg_postgres_primary', 'dpg_postgres_primery');
    expect(metricNames(misspelt).filter((n) => !allowed(n, [EXPORTER_UP_RECORD]))).toEqual(['dpg_postgres_primery']);
    // And a recorded name nobody records.
    expect(metricNames('dpg:exporter_upp{fleet="x"} == 0').filter((n) => !allowed(n, [EXPORTER_UP_RECORD]))).toEqual(['dpg:exporter_upp']);
  });

  test('the reader sees through functions, aggregations, label lists and strings', () => {
    expect(metricNames('max by (node_group, slot) (a{x="b"} / ignoring(slot) group_left() (c > 0) and on(instance) (d == 1)) > 0.8')).toEqual(['a', 'c', 'd']);
    expect(metricNames('label_replace(up{instance=~"(a|b):(9100)"}, "node_group", "x", "", "") or time() - e[5m] > 1e9')).toEqual(['e', 'up']);
  });

  test('the ledger reads these metrics of the contract', () => {
    const used = new Set(alertsOf(ledger()).flatMap((r) => metricNames(r.expr)));
    expect(CONTRACT_METRICS.filter((m) => !used.has(m))).toEqual(['dpg_postgres_timeline', 'dpg_subscription_conflicts_total']);
  });
});

describe('scope', () => {
  test('every dpg_ selector names exactly the fleet\'s node groups (the mesh\'s for mesh metrics); node_ and up go through the recorded targets', () => {
    for (const [, topology] of REFERENCE) {
      const t = topology();
      const all = t.nodeGroups.map((g) => g.name).join('|');
      const mesh = t.nodeGroups.filter((g) => !g.restore).map((g) => g.name).join('|');
      for (const rule of alertsOf(t)) {
        for (const [metric, matchers] of selectors(rule.expr)) {
          if (metric.startsWith('dpg_')) expect([`node_group=~"${all}"`, `node_group=~"${mesh}"`]).toContain(matchers.split(',')[0]);
          else if (metric === EXPORTER_UP_RECORD) expect(matchers).toBe(`fleet="${t.fleetName}"`);
          else expect(metric).toMatch(/^node_filesystem_(avail|size)_bytes$/);
        }
        // Every dpg_ name is a selector with matchers (none bare).
        expect(rule.expr).not.toMatch(/dpg_[a-z_]+(?![a-z_{])/);
        if (/node_filesystem/.test(rule.expr)) expect(rule.expr).toContain(`group_left(node_group)\n    max by (instance, node_group) (${EXPORTER_UP_RECORD}{fleet="${t.fleetName}"} == 1)`);
      }
    }
  });

  test('each node group\'s exporter targets are its members\' addresses and DNS names, on both exporter ports', () => {
    const t = ledger();
    const [record] = recordsOf(t);
    expect(record.labels).toEqual({ fleet: 'ledger' });
    const terms = record.expr.split('\nor\n');
    expect(terms).toHaveLength(t.nodeGroups.length);
    t.nodeGroups.forEach((g, i) => {
      const hosts = [...g.members.map((m) => m.privateIp), ...g.members.map((m) => m.fqdn)].map((h) => h.replace(/\./g, '\\\\.'));
      expect(terms[i]).toBe(`label_replace(up{instance=~"(${hosts.join('|')}):(9100|9187)"}, "node_group", "${g.name}", "", "")`);
    });
  });

  test('the exporter ports are the topology\'s, not a copy of them', () => {
    const t = ledger();
    const moved: Topology = { ...t, monitoring: { ...t.monitoring, postgresExporterPort: 19187, nodeExporterPort: 19100 } };
    const [record] = recordsOf(moved);
    for (const term of record.expr.split('\nor\n')) expect(term).toMatch(/\):\(19100\|19187\)"\}/);
    const down = alertsOf(moved).find((r) => r.alert === 'DpgExporterDown')!;
    expect(down.annotations.runbook).toContain('ports 19187 and 19100');
    expect(renderAlertRules(moved)).not.toMatch(/\b(9187|9100)\b/);
  });

  test('a restored group is watched for its leader, slots and disk, not for a mesh it stands apart from', () => {
    const t = withRestoredGroup();
    const copy = t.nodeGroups.find((g) => g.restore)!.name;
    const byName = new Map(alertsOf(t).map((r) => [r.alert, r.expr]));
    for (const name of ['DpgNoLeader', 'DpgSplitBrain', 'DpgSlotLost']) expect(byName.get(name)).toMatch(new RegExp(`node_group=~"[^"]*\\b${copy}\\b`));
    for (const name of ['DpgReplicationLagHigh', 'DpgSubscriptionDown', 'DpgMeshIncomplete', 'DpgAntiEntropyDivergence', 'DpgAntiEntropyOverdue']) {
      expect(byName.get(name)).toBeDefined();
      expect(byName.get(name)).not.toContain(copy);
    }
    expect(recordsOf(t)[0].expr).toContain(`"node_group", "${copy}"`);
  });
});

describe('which alerts a fleet gets', () => {
  const names = (t: Topology) => alertsOf(t).map((r) => r.alert);

  test('a fleet without monitoring gets no rules: no exporters to read', () => {
    const t = ledger();
    const off: Topology = { ...t, monitoring: { ...t.monitoring, enabled: false } };
    expect(alertRules(off)).toEqual({ groups: [] });
    expect(renderAlertRules(off)).toBe('');
  });

  test('the ledger gets every alert', () => {
    expect(names(ledger())).toEqual([
      'DpgNoLeader', 'DpgSplitBrain', 'DpgExporterDown',
      'DpgReplicationLagHigh', 'DpgReplicationLagCritical', 'DpgReplicationLagBytes', 'DpgSubscriptionDown', 'DpgSubscriptionApplyErrors', 'DpgMeshResyncNeeded',
      'DpgSlotRetentionHigh', 'DpgSlotWalUnreserved', 'DpgSlotLost',
      'DpgMeshIncomplete', 'DpgMeshProblems', 'DpgAntiEntropyDivergence', 'DpgAntiEntropyOverdue',
      'DpgDataDiskLow', 'DpgDataDiskCritical', 'DpgDataDiskFillingUp', 'DpgDataDiskFillingFast',
    ]);
  });

  test('a single node group has no pair of groups to watch (lag, subscriptions, re-sync)', () => {
    const single = names(topologyOf(singleGroupDedicatedEtcd()));
    for (const name of ['DpgReplicationLagHigh', 'DpgReplicationLagCritical', 'DpgReplicationLagBytes', 'DpgSubscriptionDown', 'DpgSubscriptionApplyErrors', 'DpgMeshResyncNeeded']) {
      expect(single).not.toContain(name);
    }
    expect(single).toContain('DpgNoLeader');
    expect(single).toContain('DpgMeshIncomplete');
  });

  test('the anti-entropy check is overdue after 2 periods and 30 minutes; with antiEntropyMinutes 0 it has no period', () => {
    const overdue = (minutes: number) => {
      const props = ledgerFleet();
      const t = topologyOf({ ...props, replication: { ...props.replication, antiEntropyMinutes: minutes } });
      return alertsOf(t).find((r) => r.alert === 'DpgAntiEntropyOverdue')?.expr;
    };
    expect(overdue(60)).toMatch(/ > 9000$/);
    expect(overdue(1)).toMatch(/ > 1920$/);
    expect(overdue(0)).toBeUndefined();
    expect((ALERT_THRESHOLDS.antiEntropyOverdueFactor * 60 + ALERT_THRESHOLDS.antiEntropyOverdueGraceMinutes) * 60).toBe(9000);
  });
});

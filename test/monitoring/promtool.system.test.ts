/**
 * The fleet's Prometheus rules checked and run by the real promtool (Debian's `prometheus` package): `promtool check
 * rules` on the rules of every reference stack (what `npm run synth` writes next to each), and `promtool test rules`
 * with series that make each alert fire and series where it must not (promtool-cases.ts).
 */
import { stringify } from 'yaml';
import { DistributedPostgresProps, Topology } from '../../lib';
import { alertRules, renderAlertRules } from '../../lib/pipeline';
import { ledgerFleet } from '../../stacks/ledger';
import { rehearsalFleet, rehearsalNextFleet, withoutLastGroup } from '../../stacks/rehearsal';
import { rehearsalNativeFleet } from '../../stacks/rehearsal-native';
import { rehearsalSpockFleet } from '../../stacks/rehearsal-spock';
import { singleGroupDedicatedEtcd } from '../fixtures/fleets';
import { run, tempDir, topologyOf, writeTemp } from '../render/helpers';
import { annotationCases, expressionCases, promtoolTestFile, withoutAnnotations } from './promtool-cases';

const PROMTOOL = '/usr/bin/promtool';

/** The stacks `npm run synth` builds (stacks/main.ts), and two more shapes: a single group, a restored group. */
const FLEETS: [string, () => DistributedPostgresProps][] = [
  ['ledger', ledgerFleet],
  ['rehearsal', rehearsalFleet],
  ['rehearsal-next', rehearsalNextFleet],
  ['rehearsal-shrunk', () => withoutLastGroup(rehearsalFleet())],
  ['rehearsal-native', rehearsalNativeFleet],
  ['rehearsal-native-shrunk', () => withoutLastGroup(rehearsalNativeFleet())],
  ['rehearsal-spock', rehearsalSpockFleet],
  ['single group', singleGroupDedicatedEtcd],
  ['with a restored group', () => {
    const props: any = rehearsalFleet();
    const source = props.nodeGroups[0];
    props.nodeGroups.push({ name: `${source.name}-copy`, cloud: source.cloud, region: source.region, image: source.image,
      restoreFrom: { nodeGroup: source.name, targetTime: '2026-11-27T10:14:59Z' } });
    return props;
  }],
];

function checkRules(text: string): { code: number; out: string } {
  const file = writeTemp(tempDir('promtool'), 'alerts.rules.yml', text);
  const { code, stdout, stderr } = run(PROMTOOL, ['check', 'rules', file]);
  return { code, out: stdout + stderr };
}

function testRules(rules: string, cases: object[], topology: Topology): { code: number; out: string } {
  const dir = tempDir('promtool-test');
  writeTemp(dir, 'alerts.rules.yml', rules);
  const file = writeTemp(dir, 'alerts.test.yml', stringify(promtoolTestFile('alerts.rules.yml', cases as any), { lineWidth: 0 }));
  const { code, stdout, stderr } = run(PROMTOOL, ['test', 'rules', file]);
  return { code, out: `${topology.fleetName}: ${stdout}${stderr}` };
}

test.each(FLEETS)('promtool check rules accepts the rules of %s', (_name, props) => {
  const topology = topologyOf(props());
  const { code, out } = checkRules(renderAlertRules(topology));
  expect(out).toContain(`SUCCESS: ${alertRules(topology).groups[0].rules.length} rules found`);
  expect(code).toBe(0);
});

test('promtool check rules rejects a rule it cannot parse and a template it cannot expand (the check is real)', () => {
  const text = renderAlertRules(topologyOf(ledgerFleet()));
  const badExpr = checkRules(text.replace('count by (node_group) (dpg:exporter_up', 'count by (node_group (dpg:exporter_up'));
  expect(badExpr.code).not.toBe(0);
  expect(badExpr.out).toMatch(/DpgNoLeader.*parse error/);
  const badTemplate = checkRules(text.replace('summary: Node group {{ $labels.node_group }} has no leader', 'summary: Node group {{ $labels.node_group } has no leader'));
  expect(badTemplate.code).not.toBe(0);
  expect(badTemplate.out).toMatch(/DpgNoLeader/);
});

describe('promtool test rules on the ledger', () => {
  const topology = topologyOf(ledgerFleet());
  const bare = () => stringify(withoutAnnotations(alertRules(topology)), { lineWidth: 0 });

  test('each alert fires on the series that must fire it, and not on the others', () => {
    const { code, out } = testRules(bare(), expressionCases(topology), topology);
    expect(out).toContain('SUCCESS');
    expect(code).toBe(0);
  });

  test('the annotations render as written (templates, labels, values, the if on peer_group)', () => {
    const { code, out } = testRules(renderAlertRules(topology), annotationCases(topology), topology);
    expect(out).toContain('SUCCESS');
    expect(code).toBe(0);
  });

  test('every alert has a case that fails when it never fires', () => {
    const file = withoutAnnotations(alertRules(topology));
    const alerts = file.groups[0].rules.filter((r) => 'alert' in r).map((r) => (r as { alert: string }).alert);
    const uncovered = alerts.filter((name) => {
      const silenced = { groups: file.groups.map((g) => ({ ...g, rules: g.rules.map((r) => ('alert' in r && r.alert === name ? { ...r, expr: 'vector(1) == 0' } : r)) })) };
      // Only the cases that expect something of this alert (promtool runs every case of a file).
      const cases = expressionCases(topology).filter((c) => c.alert_rule_test.some((t) => t.alertname === name));
      const { code, out } = testRules(stringify(silenced, { lineWidth: 0 }), cases, topology);
      return code === 0 || !out.includes(`alertname: ${name}`);
    });
    expect(uncovered).toEqual([]);
  });

  test('the cases catch a wrong threshold, a wrong duration and a wrong scope', () => {
    const wrong = (from: RegExp, to: string) => {
      const text = bare();
      expect(text).toMatch(from);
      return testRules(text.replace(from, to), expressionCases(topology), topology);
    };
    // Split brain at three primaries instead of two.
    const threshold = wrong(/(count by \(node_group\) \(\(dpg_postgres_primary\{[^}]*\} == 1\)\)) > 1/, '$1 > 2');
    expect(threshold.code).not.toBe(0);
    expect(threshold.out).toMatch(/alertname: DpgSplitBrain/);
    // No leader without waiting a minute: a failover would page.
    const duration = wrong(/(alert: DpgNoLeader\n(?:.*\n)*?\s+for:) 1m/, '$1 0m');
    expect(duration.code).not.toBe(0);
    expect(duration.out).toMatch(/alertname: DpgNoLeader/);
    // Slots of standbys as well as the leader's.
    const scope = wrong(/(wal_status="lost"\})\n\s+and on\(instance\) \([^\n]*\)/, '$1');
    expect(scope.code).not.toBe(0);
    expect(scope.out).toMatch(/alertname: DpgSlotLost/);
  });
});

/**
 * The parameters the library manages are exactly those the renderer sets (plus those Patroni sets from the rendered
 * configuration), and a user's `postgres.parameters` can override none of them.
 */
import { DistributedPostgresProps, Topology } from '../../lib';
import {
  MANAGED_PARAMETERS, RENDERED_PARAMETERS, SET_FROM_RENDERED_CONFIG,
} from '../../lib/declaration/managed-parameters';
import { checkDeclaration } from '../../lib/pipeline';
import { machineNamed } from '../../lib/render/machine';
import { patroniConfig } from '../../lib/render/patroni';
import { ledgerFleet } from '../fixtures/fleets';
import { topologyOf } from './helpers';
import { matrixCases } from './matrix';

/** The parameters Patroni gets for one member: cluster-wide (bootstrap.dcs) and member-local. */
function renderedParameters(topology: Topology, member: string): { cluster: Record<string, unknown>; local: Record<string, unknown> } {
  const config = patroniConfig(machineNamed(topology, member)) as any;
  return { cluster: config.bootstrap.dcs.postgresql.parameters, local: config.postgresql.parameters };
}

function withParameters(parameters: Record<string, string>): DistributedPostgresProps {
  const props = ledgerFleet();
  return { ...props, postgres: { ...props.postgres, parameters } };
}

test('the managed list is exactly what the renderer sets, over every engine, image and placement, plus what Patroni sets', () => {
  const rendered = new Set<string>();
  for (const c of matrixCases()) {
    for (const group of c.topology.nodeGroups) {
      const { cluster, local } = renderedParameters(c.topology, group.members[0].name);
      for (const name of [...Object.keys(cluster), ...Object.keys(local)]) rendered.add(name);
    }
  }
  // Nothing rendered is missing from the list (a user could override it), and nothing listed is stale.
  expect([...rendered].sort()).toEqual([...RENDERED_PARAMETERS].sort());
  expect(SET_FROM_RENDERED_CONFIG.filter((name) => rendered.has(name))).toEqual([]);
  expect(MANAGED_PARAMETERS).toEqual([...RENDERED_PARAMETERS, ...SET_FROM_RENDERED_CONFIG].sort());
  // The two the list had missed.
  expect(MANAGED_PARAMETERS).toEqual(expect.arrayContaining(['wal_sender_timeout', 'max_logical_replication_workers']));
});

test.each(MANAGED_PARAMETERS.map((name) => [name]))('postgres.parameters.%s is rejected: the library manages it', (name) => {
  const findings = checkDeclaration(withParameters({ [name]: '1' }), 'ledger').findings;
  expect(findings).toEqual([{
    rule: 'DPG-POSTGRES',
    path: `postgres.parameters.${name}`,
    message: `'${name}' is managed by the library for Patroni and replication. Fix: remove it from postgres.parameters.`,
  }]);
});

test("a user's own parameter is rendered next to the managed ones", () => {
  const topology = topologyOf(withParameters({ work_mem: '64MB' }));
  const { cluster } = renderedParameters(topology, topology.nodeGroups[0].members[0].name);
  expect(cluster).toMatchObject({ work_mem: '64MB', wal_sender_timeout: '10s', wal_level: 'logical' });
});

test('a topology built without validation still cannot override a managed parameter', () => {
  const topology = topologyOf(ledgerFleet());
  const name = topology.nodeGroups[0].members[0].name;
  const before = renderedParameters(topology, name);
  const tampered: Topology = {
    ...topology,
    postgres: { ...topology.postgres, parameters: { wal_sender_timeout: '0', wal_level: 'replica', synchronous_commit: 'off', work_mem: '8MB' } },
  };
  const after = renderedParameters(tampered, name);
  expect(after.cluster).toEqual({ ...before.cluster, work_mem: '8MB' });
  expect(after.local).toEqual(before.local);
});

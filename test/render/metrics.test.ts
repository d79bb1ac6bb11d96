/**
 * Metrics as rendered (the system test runs them with the real exporters): the contract's metric names per engine,
 * the exporters' units (Debian's, with drop-ins), TLS, the listen address, the role and pg_hba, and nothing of it when
 * monitoring is off.
 */
import { parse } from 'yaml';
import { DistributedPostgresProps, PackageSource } from '../../lib';
import { machinesOf } from '../../lib/pipeline';
import { EXPORTER_UNITS, exporterDropInPath, exporterHoldPath, meshMetricsShell, QUERIES_UNIT_FILES } from '../../lib/render/metrics';
import { MESH_QUERIES_FILE } from '../../lib/render/mesh-document';
import { FILES } from '../../lib/render/paths';
import { MESH_QUERIES_FILE as POLICY_MESH_QUERIES_FILE } from '../../lib/policy/secrets';
import { rehearsalNativeFleet } from '../../stacks/rehearsal-native';
import { rehearsalSpockFleet } from '../../stacks/rehearsal-spock';
import { ledgerFleet, pglogicalFleet } from '../fixtures/fleets';
import { bootFilesOf, meshFileOf, parseCloudConfig, patroniWithMeshOf, renderAll, topologyOf } from './helpers';

const QUERIES = FILES.postgresExporterQueries.slice(FILES.meshDir.length + 1);

/** The metric names a queries file gives: `<namespace>_<column>` of each column that is not a label. */
function metricNames(text: string): string[] {
  const namespaces = parse(text) as Record<string, { metrics: Record<string, { usage: string }>[] }>;
  return Object.entries(namespaces).flatMap(([ns, { metrics }]) => metrics.flatMap((m) => Object.entries(m)
    .filter(([, spec]) => spec.usage !== 'LABEL').map(([column]) => `${ns}_${column}`))).sort();
}

/** The labels of one metric in a queries file. */
function labelsOf(text: string, metric: string): string[] {
  const namespaces = parse(text) as Record<string, { metrics: Record<string, { usage: string }>[] }>;
  for (const [ns, { metrics }] of Object.entries(namespaces)) {
    const columns = metrics.map((m) => Object.entries(m)[0]);
    if (columns.some(([column, spec]) => spec.usage !== 'LABEL' && `${ns}_${column}` === metric)) {
      return columns.filter(([, spec]) => spec.usage === 'LABEL').map(([column]) => column).sort();
    }
  }
  throw new Error(`no ${metric}`);
}

const COMMON = ['dpg_postgres_primary', 'dpg_postgres_timeline', 'dpg_replication_lag_bytes', 'dpg_replication_lag_seconds', 'dpg_slot_info',
  'dpg_slot_retained_bytes', 'dpg_slot_wal_keep_budget_bytes', 'dpg_subscription_up'];

describe.each<[string, () => DistributedPostgresProps, string[]]>([
  ['pglogical', pglogicalFleet, []],
  ['native (PostgreSQL 17)', rehearsalNativeFleet, ['dpg_subscription_apply_errors_total']],
  ['native (PostgreSQL 18, PGDG)', () => ({ ...rehearsalNativeFleet(), postgres: { packageSource: PackageSource.PGDG, version: 18 } }),
    ['dpg_subscription_apply_errors_total', 'dpg_subscription_conflicts_total']],
  ['Spock', ledgerFleet, ['dpg_spock_lag_bytes', 'dpg_spock_lag_seconds']],
])('%s', (_name, props, extra) => {
  const topology = topologyOf(props());
  const member = topology.nodeGroups[0].members[0].name;
  const queries = meshFileOf(topology, member, QUERIES);

  test('the queries give the contract\'s metrics with its labels (and the engine\'s own counters where it has them)', () => {
    expect(metricNames(queries)).toEqual([...COMMON, ...extra].sort());
    expect(labelsOf(queries, 'dpg_postgres_primary')).toEqual(['node_group']);
    expect(labelsOf(queries, 'dpg_slot_retained_bytes')).toEqual(['kind', 'node_group', 'peer_group', 'slot']);
    expect(labelsOf(queries, 'dpg_slot_info')).toEqual(['active', 'kind', 'node_group', 'peer_group', 'slot', 'wal_status']);
    expect(labelsOf(queries, 'dpg_slot_wal_keep_budget_bytes')).toEqual(['node_group']);
    expect(labelsOf(queries, 'dpg_replication_lag_seconds')).toEqual(['node_group', 'peer_group', 'slot']);
    expect(labelsOf(queries, 'dpg_subscription_up')).toEqual(['node_group', 'provider_group', 'subscription']);
    // Every series names the member's node group, a literal of the file.
    expect(queries.match(/SELECT '([^']+)' AS node_group/g)!.every((s) => s.includes(`'${topology.nodeGroups[0].name}'`))).toBe(true);
  });

  test('every subscription the group makes is expected, with its provider group', () => {
    const group = topology.nodeGroups[0];
    for (const sub of topology.subscriptions.filter((s) => s.subscriber === group.name)) {
      expect(queries).toContain(`('${sub.name}', '${sub.provider}')`);
    }
  });
});

describe('a Postgres member with monitoring on (the default)', () => {
  const topology = topologyOf(pglogicalFleet());
  const machine = machinesOf(topology).find((m) => m.role === 'postgres')!;
  const files = bootFilesOf(topology, machine.name);
  const cloudConfig = parseCloudConfig(renderAll(topology).find((m) => m.name === machine.name)!.text);

  test('installs Debian\'s exporters, and holds their units until the bootstrap configured TLS (user-data, before the packages)', () => {
    expect(cloudConfig.packages).toEqual(expect.arrayContaining(['prometheus-node-exporter', 'prometheus-postgres-exporter']));
    const userData = cloudConfig.write_files.map((f: { path: string }) => f.path);
    for (const unit of Object.values(EXPORTER_UNITS)) {
      expect(userData).toContain(exporterHoldPath(unit));
      expect(files[exporterHoldPath(unit)]).toMatch(new RegExp(`^ConditionPathExists=${FILES.prometheusKey}$`, 'm'));
      // The full drop-in comes with the scripts document, not the user-data (AWS's 16 KB).
      expect(userData).not.toContain(exporterDropInPath(unit));
    }
  });

  test('drop-ins over Debian\'s units: their /etc/default file ignored, HTTPS on the private address only', () => {
    const memberEnv = files[FILES.memberEnv];
    expect(memberEnv).toContain(`DPG_POSTGRES_EXPORTER_LISTEN='--web.listen-address=${machine.privateIp}:9187'`);
    expect(memberEnv).toContain(`DPG_NODE_EXPORTER_LISTEN='--web.listen-address=${machine.privateIp}:9100'`);
    for (const [unit, variable, binary] of [[EXPORTER_UNITS.postgres, 'DPG_POSTGRES_EXPORTER_LISTEN', 'prometheus-postgres-exporter'],
      [EXPORTER_UNITS.node, 'DPG_NODE_EXPORTER_LISTEN', 'prometheus-node-exporter']]) {
      const dropIn = files[exporterDropInPath(unit)];
      const lines = dropIn.replace(/\\\n\s*/g, '').split('\n');
      expect(lines.filter((l) => l.startsWith('EnvironmentFile='))).toEqual(['EnvironmentFile=', `EnvironmentFile=${FILES.memberEnv}`]);
      const exec = lines.filter((l) => l.startsWith('ExecStart='));
      expect(exec[0]).toBe('ExecStart=');
      expect(exec).toHaveLength(2);
      expect(exec[1]).toMatch(new RegExp(`^ExecStart=/usr/bin/${binary} \\$${variable} --web\\.config\\.file=${FILES.exporterWebConfig}( |$)`));
      // No dollar-brace: GCP's user-data and systemd's unbraced variables (a whole word each).
      expect(dropIn).not.toContain('${');
    }
    expect(files[exporterDropInPath(EXPORTER_UNITS.postgres)]).toContain(`--extend.query-path=${FILES.postgresExporterQueries}`);
    expect(files[exporterDropInPath(EXPORTER_UNITS.postgres)])
      .toContain(`Environment="DATA_SOURCE_NAME=host=${FILES.socketDir} port=5432 dbname=${topology.postgres.database} user=prometheus"`);
    const node = files[exporterDropInPath(EXPORTER_UNITS.node)];
    expect(node).toContain('--collector.disable-defaults');
    expect(node).toContain(`--collector.textfile --collector.textfile.directory=${FILES.textfileDir}`);
    expect(node).toContain('--collector.filesystem');
    expect(parse(files[FILES.exporterWebConfig])).toEqual({
      tls_server_config: { cert_file: FILES.memberCert, key_file: FILES.prometheusKey, min_version: 'TLS12' },
    });
  });

  test('the exporters\' key is a copy only the prometheus user reads', () => {
    expect(files[FILES.issueCertificate]).toContain(
      `if id -u prometheus >/dev/null 2>&1; then install -o prometheus -g prometheus -m 0600 ${FILES.memberKey} ${FILES.prometheusKey}; fi`);
  });

  test('the exporter\'s role: pg_monitor, no password; peer over the socket only', () => {
    expect(files[FILES.exporterRoleSql]).toBe(
      "SELECT 'CREATE ROLE prometheus LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'prometheus') \\gexec\nGRANT pg_monitor TO prometheus;\n");
    const hba: string[] = patroniWithMeshOf(topology, machine.name).bootstrap.dcs.postgresql.pg_hba;
    expect(hba.filter((l) => l.includes('prometheus'))).toEqual(['local all prometheus peer']);
    expect(meshFileOf(topology, machine.name, 'setup.sql')).toContain('GRANT USAGE ON SCHEMA pglogical TO pg_monitor;');
  });

  test('the bootstrap starts both exporters and the queries\' path unit after Patroni', () => {
    const bootstrap = files[FILES.bootstrapScript];
    expect(bootstrap).toContain('step "metrics exporters"');
    expect(bootstrap.indexOf('step "metrics exporters"')).toBeGreaterThan(bootstrap.indexOf('systemctl start patroni.service'));
    expect(bootstrap).toContain('systemctl restart prometheus-postgres-exporter.service prometheus-node-exporter.service');
    expect(files[QUERIES_UNIT_FILES.path]).toContain(`PathChanged=${FILES.postgresExporterQueries}`);
  });

  test('mesh-keeper writes dpg_mesh.prom whenever it writes a status file', () => {
    const keeper = files[FILES.meshKeeper];
    expect(keeper).toContain('write_mesh_metrics() {');
    expect(keeper.match(/^ {2}write_mesh_metrics$/gm)).toHaveLength(2);
    expect(meshMetricsShell()).toContain('mv -f "$tmp" "$dir/dpg_mesh.prom"');
  });
});

describe('monitoring off', () => {
  const topology = topologyOf({ ...pglogicalFleet(), monitoring: { enabled: false } });
  const machine = machinesOf(topology).find((m) => m.role === 'postgres')!;
  const files = bootFilesOf(topology, machine.name);

  test('no exporter, no drop-in, no key copy used, no role, no pg_hba line, no queries', () => {
    const cloudConfig = parseCloudConfig(renderAll(topology).find((m) => m.name === machine.name)!.text);
    expect(cloudConfig.packages.filter((p: string) => p.startsWith('prometheus-'))).toEqual([]);
    expect(Object.keys(files).filter((p) => /prometheus|metrics|exporter/.test(p))).toEqual([]);
    expect(files[FILES.memberEnv]).not.toContain('EXPORTER');
    expect(files[FILES.bootstrapScript]).not.toContain('metrics exporters');
    expect(patroniWithMeshOf(topology, machine.name).bootstrap.dcs.postgresql.pg_hba.join('\n')).not.toContain('prometheus');
    expect(() => meshFileOf(topology, machine.name, QUERIES)).toThrow(/no postgres-exporter-queries\.yaml/);
    expect(meshFileOf(topology, machine.name, 'setup.sql')).not.toContain('pg_monitor');
  });
});

test('a golden image installs nothing: the exporters must be in it (the bootstrap says so when they are not)', () => {
  const topology = topologyOf(rehearsalSpockFleet());
  expect(topology.postgres.packageSource).toBe('image');
  const machine = machinesOf(topology).find((m) => m.role === 'postgres')!;
  expect(parseCloudConfig(renderAll(topology).find((m) => m.name === machine.name)!.text).packages).toBeUndefined();
  expect(bootFilesOf(topology, machine.name)[FILES.bootstrapScript]).toContain('a golden image must hold them');
});

test('the policy pack reads the metrics part of a mesh document under the name mesh-sync writes it', () => {
  expect(POLICY_MESH_QUERIES_FILE).toBe(MESH_QUERIES_FILE);
  expect(MESH_QUERIES_FILE).toBe('postgres-exporter-queries.yaml');
});

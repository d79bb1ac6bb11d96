/**
 * Metrics, run for real (system tests): Debian's prometheus-postgres-exporter and prometheus-node-exporter started as
 * the rendered drop-ins start them (their ExecStart and environment, as the prometheus user), with the rendered web
 * configuration (TLS with a certificate from a test CA, made with openssl), the queries file of node group `a` of
 * the pglogical fleet (from its mesh document) and mesh-keeper's rendered `write_mesh_metrics`. A real PostgreSQL 15 with pglogical:
 * the exporter's role from the rendered SQL, the rendered pg_hba line for it (peer over the socket, no password), the
 * rendered grant of the mesh setup; a pglogical subscription `sub_a_b` (its provider node `b` in a second database of
 * the same server) and the logical slot group `b`'s subscription would stream from at `a`. Scraped over HTTPS with
 * the CA, the contract's series are there with the right values; plain HTTP gets no metrics.
 *
 * What is not the machine's: the addresses (127.0.0.1 and free ports instead of the member's private address), and
 * the paths of the socket, web configuration, queries, key and textfile directory, moved under a temporary root.
 */
import { ChildProcess, spawn } from 'child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { EXPORTER_UNITS, exporterDropInPath, exporterPgHba, meshMetricsShell } from '../../lib/render/metrics';
import { pglogicalSlotName } from '../../lib/render/mesh/slot-names';
import { FILES } from '../../lib/render/paths';
import { parse } from 'yaml';
import { rehearsalNativeFleet } from '../../stacks/rehearsal-native';
import { pglogicalFleet } from '../fixtures/fleets';
import { machineFile, meshFileOf, PG15_BIN, run, throwawayPostgres, topologyOf } from './helpers';

const topology = topologyOf(pglogicalFleet());
const [a, b] = topology.nodeGroups;
const member = a.members[0].name;
const database = topology.postgres.database;
const pg = throwawayPostgres('metrics', 31000, ['shared_preload_libraries=pglogical', 'wal_level=logical', 'max_replication_slots=10',
  'max_wal_senders=10', 'max_worker_processes=16', 'track_commit_timestamp=on', 'max_slot_wal_keep_size=1GB',
  'output_plugin_libraries=pglogical_output']);
const root = join(pg.root, 'metrics');
const base = 32000 + (process.pid % 1000) * 2;
const ports = { postgres: base, node: base + 1 };
const paths = {
  web: join(root, 'web-config.yml'),
  queries: join(root, 'queries.yaml'),
  textfile: join(root, 'textfile'),
  state: join(root, 'state'),
  key: join(root, 'prometheus.key'),
  cert: join(root, 'member.crt'),
  ca: join(root, 'ca.crt'),
};
const children: ChildProcess[] = [];
const logs: Record<string, string> = { postgres: '', node: '' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A rendered drop-in's ExecStart (continuation lines joined) and its Environment= values. */
function dropIn(unit: string): { argv: string[]; env: Record<string, string> } {
  const text = machineFile(topology, member, exporterDropInPath(unit)).replace(/\\\n\s*/g, '');
  const exec = text.split('\n').filter((l) => l.startsWith('ExecStart=') && l !== 'ExecStart=');
  expect(exec).toHaveLength(1);
  const env = Object.fromEntries(text.split('\n').filter((l) => l.startsWith('Environment='))
    .map((l) => JSON.parse(l.slice('Environment='.length)) as string).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  return { argv: exec[0].slice('ExecStart='.length).trim().split(/\s+/), env };
}

/** The drop-in's command with the machine's addresses and paths moved under the test's root. */
function localArgv(argv: string[], port: number): string[] {
  const memberEnv = machineFile(topology, member, FILES.memberEnv);
  return argv.map((arg) => {
    const variable = /^\$([A-Z_]+)$/.exec(arg);
    if (variable) {
      // The member.env value is this member's private address; here the same flag on 127.0.0.1.
      const line = memberEnv.split('\n').find((l) => l.startsWith(`${variable[1]}=`));
      expect(line).toMatch(new RegExp(`^${variable[1]}='--web.listen-address=${a.members[0].privateIp.replace(/\./g, '\\.')}:\\d+'$`));
      return `--web.listen-address=127.0.0.1:${port}`;
    }
    return arg
      .replace(FILES.exporterWebConfig, paths.web)
      .replace(FILES.postgresExporterQueries, paths.queries)
      .replace(FILES.textfileDir, paths.textfile);
  });
}

/**
 * `DPG_EXPORTERS_BIN=DIR` runs the exporters from DIR instead of /usr/bin (e.g. Debian 13's, unpacked from their
 * packages with `dpkg-deb -x`: static Go binaries that run here).
 */
const BIN = process.env.DPG_EXPORTERS_BIN;

function start(name: 'postgres' | 'node', argv: string[], env: Record<string, string>): void {
  if (BIN) argv = [argv[0].replace(/^\/usr\/bin\//, `${BIN}/`), ...argv.slice(1)];
  const child = spawn('runuser', ['-u', 'prometheus', '--', 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => { logs[name] += d; });
  child.stderr!.on('data', (d) => { logs[name] += d; });
  children.push(child);
}

/** GET over HTTPS, trusting the test CA only. */
function scrape(port: number): string {
  const out = run('curl', ['-sS', '--fail', '--max-time', '20', '--cacert', paths.ca, `https://127.0.0.1:${port}/metrics`]);
  if (out.code !== 0) throw new Error(`scrape of ${port} failed: ${out.stderr}\n${logs.postgres}\n${logs.node}`);
  return out.stdout;
}

/** The value of the one series `name{labels...}` whose labels include `labels`, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `)).filter((l) =>
    Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  if (found.length === 0) return undefined;
  if (found.length > 1) throw new Error(`${found.length} series of ${name} ${JSON.stringify(labels)}:\n${found.join('\n')}`);
  return Number(found[0].slice(found[0].lastIndexOf(' ') + 1));
}

async function until<T>(what: string, check: () => T | undefined, seconds: number): Promise<T> {
  let last: unknown;
  for (let i = 0; i < seconds * 4; i++) {
    try {
      const value = check();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    await sleep(250);
  }
  throw new Error(`${what}: not after ${seconds} s (${String(last)})\n${logs.postgres.slice(-3000)}\n${logs.node.slice(-2000)}`);
}

beforeAll(async () => {
  pg.start();
  // pg_hba as a member has it for the exporter: the superuser and the rendered exporter line, nothing else.
  const hba = join(pg.root, 'data', 'pg_hba.conf');
  writeFileSync(hba, ['local all postgres peer', ...exporterPgHba(topology)].join('\n') + '\n');
  pg.value('postgres', 'SELECT pg_reload_conf()');
  pg.value('postgres', `CREATE DATABASE ${database}`);
  pg.value('postgres', 'CREATE DATABASE peer_b');
  // The exporter's role as the bootstrap creates it (the rendered SQL).
  const role = pg.psql('postgres', ['-v', 'ON_ERROR_STOP=1'], machineFile(topology, member, FILES.exporterRoleSql));
  expect(role.stderr).toBe('');
  // pglogical: node `a` in the application database (with the mesh setup's grant for the exporter), node `b` in a
  // second database providing the global set; `a`'s subscription `sub_a_b` as the mesh names it.
  const setup = meshFileOf(topology, member, 'setup.sql');
  const grant = setup.split('\n').filter((l) => l.includes('pg_monitor'));
  expect(grant).toEqual(['GRANT USAGE ON SCHEMA pglogical TO pg_monitor;']);
  const sql = (db: string, text: string) => {
    const out = pg.psql(db, ['-v', 'ON_ERROR_STOP=1'], text);
    if (out.code !== 0) throw new Error(`${text}: ${out.stderr}`);
    return out.stdout.trim();
  };
  sql(database, `CREATE EXTENSION pglogical;\n${grant.join('\n')}\n` +
    `SELECT pglogical.create_node(node_name := '${a.replicationNodeName}', dsn := '${pg.dsn(database)}');\n` +
    'CREATE TABLE items (id bigint PRIMARY KEY, v text);');
  sql('peer_b', 'CREATE EXTENSION pglogical;\n' +
    `SELECT pglogical.create_node(node_name := '${b.replicationNodeName}', dsn := '${pg.dsn('peer_b')}');\n` +
    'CREATE TABLE items (id bigint PRIMARY KEY, v text);\n' +
    "SELECT pglogical.replication_set_add_table('default', 'items');");
  const sub = topology.subscriptions.find((s) => s.subscriber === a.name && s.provider === b.name)!;
  sql(database, `SELECT pglogical.create_subscription(subscription_name := '${sub.name}', provider_dsn := '${pg.dsn('peer_b')}', ` +
    'synchronize_structure := false, synchronize_data := false);');
  // The slot group b's subscription to a streams from at a (Patroni's permanent slot there): nobody streams from it.
  const serves = topology.subscriptions.find((s) => s.subscriber === b.name && s.provider === a.name)!;
  sql(database, `SELECT pg_create_logical_replication_slot('${pglogicalSlotName(database, a.replicationNodeName, serves.name)}', 'pglogical_output')`);
  sql(database, "INSERT INTO items SELECT g, repeat('x', 200) FROM generate_series(1, 2000) g");

  // TLS: a test CA and the member's certificate for 127.0.0.1; the exporters' key readable by prometheus only.
  mkdirSync(paths.textfile, { recursive: true });
  mkdirSync(paths.state, { recursive: true });
  chmodSync(root, 0o755);
  const ssl = (...args: string[]) => expect(run('openssl', args).stderr).not.toMatch(/error/i);
  ssl('req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=metrics test CA',
    '-keyout', join(root, 'ca.key'), '-out', paths.ca);
  ssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost',
    '-keyout', paths.key, '-out', join(root, 'member.csr'));
  writeFileSync(join(root, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  ssl('x509', '-req', '-days', '2', '-in', join(root, 'member.csr'), '-CA', paths.ca, '-CAkey', join(root, 'ca.key'), '-CAcreateserial',
    '-extfile', join(root, 'ext.cnf'), '-out', paths.cert);
  run('chown', ['prometheus:prometheus', paths.key]);
  chmodSync(paths.key, 0o600);
  chmodSync(paths.cert, 0o644);
  writeFileSync(paths.web, machineFile(topology, member, FILES.exporterWebConfig)
    .replace(FILES.memberCert, paths.cert).replace(FILES.prometheusKey, paths.key));
  writeFileSync(paths.queries, meshFileOf(topology, member, FILES.postgresExporterQueries.slice(FILES.meshDir.length + 1)));

  // The exporters as the drop-ins start them.
  const postgresUnit = dropIn(EXPORTER_UNITS.postgres);
  const dsn = postgresUnit.env.DATA_SOURCE_NAME;
  expect(dsn).toBe(`host=${FILES.socketDir} port=${topology.postgres.port} dbname=${database} user=prometheus`);
  start('postgres', localArgv(postgresUnit.argv, ports.postgres),
    { DATA_SOURCE_NAME: dsn.replace(FILES.socketDir, pg.root).replace(`port=${topology.postgres.port}`, `port=${pg.port}`) });
  start('node', localArgv(dropIn(EXPORTER_UNITS.node).argv, ports.node), {});
}, 120_000);

afterAll(() => {
  for (const child of children) {
    child.kill('SIGTERM');
    child.stdout?.destroy();
    child.stderr?.destroy();
  }
  pg.stop();
});

test('the exporters serve HTTPS only, with the member certificate', async () => {
  await until('postgres_exporter over HTTPS', () => (scrape(ports.postgres).includes('pg_up 1') ? true : undefined), 30);
  await until('node_exporter over HTTPS', () => (scrape(ports.node).includes('node_') ? true : undefined), 30);
  for (const port of [ports.postgres, ports.node]) {
    const plain = run('curl', ['-sS', '--max-time', '10', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${port}/metrics`]);
    // exporter-toolkit answers a plain HTTP request with 400 (an HTTP request to an HTTPS server), never the metrics.
    expect(plain.stdout).toBe('400');
    const plainBody = run('curl', ['-sS', '--max-time', '10', `http://127.0.0.1:${port}/metrics`]);
    expect(plainBody.stdout).not.toMatch(/^# HELP/m);
    // A client that does not trust the fleet's CA refuses the certificate.
    expect(run('curl', ['-sS', '--max-time', '10', `https://127.0.0.1:${port}/metrics`]).code).not.toBe(0);
  }
}, 90_000);

test('postgres_exporter: role, timeline, slots, retention budget, lag and subscriptions of the contract', async () => {
  const text = await until('the dpg_* series', () => {
    const t = scrape(ports.postgres);
    return t.includes('dpg_subscription_up{') && t.includes('dpg_replication_lag_bytes{') ? t : undefined;
  }, 60);
  const ng = { node_group: a.name };
  expect(sample(text, 'dpg_postgres_primary', ng)).toBe(1);
  expect(sample(text, 'dpg_postgres_timeline', ng)).toBe(1);
  expect(sample(text, 'dpg_slot_wal_keep_budget_bytes', ng)).toBe(1024 * 1024 * 1024);
  // The slot b streams from at a: its peer group, retained WAL (2000 rows were written after it), its state.
  const serves = topology.subscriptions.find((s) => s.subscriber === b.name && s.provider === a.name)!;
  const slot = pglogicalSlotName(database, a.replicationNodeName, serves.name);
  const labels = { ...ng, slot, kind: 'logical', peer_group: b.name };
  expect(sample(text, 'dpg_slot_retained_bytes', labels)).toBeGreaterThan(100_000);
  expect(sample(text, 'dpg_slot_info', { ...labels, wal_status: 'reserved', active: 'false' })).toBe(1);
  expect(sample(text, 'dpg_replication_lag_bytes', { ...ng, peer_group: b.name, slot })).toBeGreaterThan(100_000);
  // No sender streams from it: the lag in seconds is unknown (NaN), not 0.
  expect(sample(text, 'dpg_replication_lag_seconds', { ...ng, peer_group: b.name, slot })).toBeNaN();
  // a's own subscription to b's provider node (a slot at the provider, which is this same server here).
  const sub = topology.subscriptions.find((s) => s.subscriber === a.name && s.provider === b.name)!;
  const subscriptionSlot = pglogicalSlotName(database, b.replicationNodeName, sub.name);
  expect(sample(text, 'dpg_slot_info', { ...ng, slot: subscriptionSlot, kind: 'logical', wal_status: 'reserved' })).toBe(1);
  expect(text).toMatch(/^# TYPE dpg_slot_retained_bytes gauge$/m);
  // pglogical counts no apply errors or conflicts: no such series.
  expect(text).not.toMatch(/dpg_subscription_(apply_errors|conflicts)_total/);
  // The subscription streams once its apply worker connected.
  const up = await until('sub_a_b streaming', () => (sample(scrape(ports.postgres), 'dpg_subscription_up',
    { ...ng, subscription: sub.name, provider_group: b.name }) === 1 ? 1 : undefined), 60);
  expect(up).toBe(1);
  // Disabled: 0.
  expect(pg.value(database, `SELECT pglogical.alter_subscription_disable('${sub.name}', true)`)).toBe('t');
  await until('sub_a_b down', () => (sample(scrape(ports.postgres), 'dpg_subscription_up',
    { ...ng, subscription: sub.name, provider_group: b.name }) === 0 ? 0 : undefined), 40);
  // No query of the file failed (postgres_exporter 0.11 logs each failing namespace).
  // (0.13+ also warns that --extend.query-path is deprecated, and 0.12+ that it found no postgres_exporter.yml, the
  // optional file of its multi-target auth modules, which these members do not use.)
  const complaints = logs.postgres.split('\n').filter((l) => /level=(error|warn)/i.test(l))
    .filter((l) => !/extended queries\.yaml config is DEPRECATED|Error loading config.*postgres_exporter\.yml/.test(l));
  expect(complaints).toEqual([]);
  expect(logs.postgres).toMatch(/level=info/i);
}, 180_000);

test('node_exporter: the mesh and anti-entropy textfile as mesh-keeper writes it, and the data disk', async () => {
  const meshStatus = join(paths.state, 'mesh.status');
  const antiEntropy = join(paths.state, 'anti-entropy.status');
  writeFileSync(meshStatus, ['state=incomplete', 'missing=1', 'problem=public.items: balance is nullable', 'problem=another',
    'resync-needed=b', 'resync-needed=c', 'repairs=0', 'updated=2026-01-01T00:00:00Z'].join('\n') + '\n');
  writeFileSync(antiEntropy, ['finding=public.items b: 3 key(s) differ: 1 differs, 2 missing here, 3 differs',
    'finding=public.other b: 2 key(s) differ: 7 differs, 8 differs', 'compared=2', 'state=dirty', 'updated=2026-01-02T03:04:05Z'].join('\n') + '\n');
  const shell = meshMetricsShell().split(FILES.textfileDir).join(paths.textfile)
    .split(FILES.meshStatus).join(meshStatus).split(FILES.antiEntropyStatus).join(antiEntropy);
  const write = run('bash', ['-euc', `${shell}\nDPG_GROUP=${a.name} write_mesh_metrics`]);
  expect(write.stderr).toBe('');
  expect(readFileSync(join(paths.textfile, 'dpg_mesh.prom'), 'utf8')).toMatch(/^dpg_mesh_state\{node_group="a",state="incomplete"\} 1$/m);
  const text = await until('dpg_mesh_* from the textfile', () => {
    const t = scrape(ports.node);
    return t.includes('dpg_mesh_state{') ? t : undefined;
  }, 30);
  const ng = { node_group: a.name };
  expect(sample(text, 'dpg_mesh_state', { ...ng, state: 'incomplete' })).toBe(1);
  expect(sample(text, 'dpg_mesh_problems', ng)).toBe(2);
  expect(sample(text, 'dpg_mesh_resync_needed', { ...ng, provider_group: 'b' })).toBe(1);
  expect(sample(text, 'dpg_mesh_resync_needed', { ...ng, provider_group: 'c' })).toBe(1);
  expect(sample(text, 'dpg_anti_entropy_divergent_keys', ng)).toBe(5);
  expect(sample(text, 'dpg_anti_entropy_last_check_timestamp_seconds', ng)).toBe(Date.parse('2026-01-02T03:04:05Z') / 1000);
  expect(text).toMatch(/^node_filesystem_avail_bytes\{/m);
  expect(text).toMatch(/^node_filesystem_size_bytes\{/m);
  expect(text).toMatch(/^node_textfile_scrape_error 0$/m);

  // A standby's status: no resync lines, no check ran here: no such series.
  writeFileSync(meshStatus, 'state=not-leader\nmissing=0\nrepairs=0\nupdated=2026-01-01T00:00:00Z\n');
  writeFileSync(antiEntropy, 'state=not-leader\nupdated=2026-01-01T00:00:00Z\n');
  expect(run('bash', ['-euc', `${shell}\nDPG_GROUP=${a.name} write_mesh_metrics`]).code).toBe(0);
  const standby = scrape(ports.node);
  expect(sample(standby, 'dpg_mesh_state', { ...ng, state: 'not-leader' })).toBe(1);
  expect(sample(standby, 'dpg_mesh_problems', ng)).toBe(0);
  expect(standby).not.toMatch(/^dpg_mesh_resync_needed/m);
  expect(standby).not.toMatch(/^dpg_anti_entropy_/m);
  // Written atomically: no temporary file is left in the directory.
  expect(run('ls', ['-A', paths.textfile]).stdout.trim()).toBe('dpg_mesh.prom');
}, 90_000);

test('the native engine\'s queries run as the exporter role on a real server (PostgreSQL 15\'s catalog)', () => {
  // Native replication needs PostgreSQL 16+ on a member; the views these queries read (pg_subscription,
  // pg_stat_subscription, pg_stat_subscription_stats, pg_replication_slots, pg_stat_replication) are 15's too.
  const native = topologyOf(rehearsalNativeFleet());
  const group = native.nodeGroups[0];
  const nativeMember = group.members[0].name;
  const text = meshFileOf(native, nativeMember, FILES.postgresExporterQueries.slice(FILES.meshDir.length + 1));
  const namespaces = parse(text) as Record<string, { query: string; metrics: Record<string, { usage: string }>[] }>;
  expect(Object.keys(namespaces)).toEqual(['dpg_postgres', 'dpg_slot', 'dpg', 'dpg_slot_wal_keep', 'dpg_replication_lag', 'dpg_subscription']);
  for (const [name, ns] of Object.entries(namespaces)) {
    const out = run('runuser', ['-u', 'prometheus', '--', `${PG15_BIN}/psql`, '-X', '-q', '-h', pg.root, '-p', pg.port, '-d', database,
      '-v', 'ON_ERROR_STOP=1', '-tA', '-F', '|', '-c', ns.query]);
    expect({ name, stderr: out.stderr }).toEqual({ name, stderr: '' });
    const columns = ns.metrics.map((m) => Object.keys(m)[0]);
    for (const row of out.stdout.trim().split('\n').filter(Boolean)) expect(row.split('|')).toHaveLength(columns.length);
    if (name === 'dpg_subscription') {
      // The group's expected subscriptions, none of them here: each reported down, with no errors counted.
      const expected = native.subscriptions.filter((s) => s.subscriber === group.name);
      expect(out.stdout.trim().split('\n').sort()).toEqual(expected.map((s) => `${group.name}|${s.name}|${s.provider}|0|0`).sort());
    }
  }
});

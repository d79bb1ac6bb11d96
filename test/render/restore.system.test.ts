/**
 * A node group built from another group's backup (restoreFrom), run for real (system test): Debian's PostgreSQL 15
 * runs the SOURCE group's member (the rendered cluster parameters: pglogical preloaded, archiving through the source's
 * rendered pgbackrest.conf), holding a live logical subscription; pgBackRest 2.45 takes a full backup; rows, a target
 * time, more rows. Then Debian's Patroni 3.0.2 bootstraps the RESTORED group's member with its rendered configuration:
 * the custom bootstrap method (`bootstrap.method` and its `command`, the rendered `restore-bootstrap` script, which
 * Patroni calls with `--scope` and `--datadir`), the dynamic configuration's parameters as rendered for the restored
 * group, and the restored group's rendered pgbackrest.conf (the source's stanza). The restored group holds the rows
 * before the target and none after, it leads (writable), and neither the engine's library nor any logical worker runs:
 * the source's subscription, copied with the data, stays without a worker, and the source's slot is never taken.
 *
 * What is not the machines': the repository is a directory (`PGBACKREST_REPO1_TYPE=posix`, `PGBACKREST_REPO1_PATH`,
 * as in backup.system.test.ts), etcd is one plain-HTTP member, the machine paths (data directories, sockets, ports,
 * the script's path) are moved under a temporary root, and Patroni's own plumbing (REST API, authentication, local
 * pg_hba) is the test's. The source runs under pg_ctl rather than Patroni (backup.system.test.ts runs a group's
 * archiving under Patroni).
 */
import { ChildProcess, spawn } from 'child_process';
import { chmodSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { stringify } from 'yaml';
import { FILES } from '../../lib/render/paths';
import { postgresDataDir } from '../../lib/render/patroni';
import { pglogicalFleet } from '../fixtures/fleets';
import { bootCloudConfig, machineFile, PG15_BIN, run, tempDir, topologyOf, yamlFileOf } from './helpers';

const TARGET_PLACEHOLDER = '2000-01-01T00:00:00Z';
const fleet = pglogicalFleet();
const sourceName = fleet.nodeGroups[0].name;
const copyName = `${sourceName}-copy`;
/** The declaration with the restored group; its target time is set once the test knows it (see `restoredTopology`). */
const declaration = (targetTime: string) => ({
  ...fleet,
  nodeGroups: [...fleet.nodeGroups, { ...fleet.nodeGroups[0], name: copyName, number: 9, restoreFrom: { nodeGroup: sourceName, targetTime } }],
});
const base = topologyOf(declaration(TARGET_PLACEHOLDER));
const source = base.nodeGroups.find((g) => g.name === sourceName)!;
const stanza = source.backup!.stanza;

const root = tempDir('restore');
const portBase = 17000 + (process.pid % 1000) * 8;
const [etcdClient, etcdPeer, rest, sourcePort, copyPort] = [portBase, portBase + 1, portBase + 2, portBase + 3, portBase + 4];
const dirs = {
  sourceData: join(root, 'source-data'), sourceSock: join(root, 'source-sock'), pg: join(root, 'pg'), copySock: join(root, 'copy-sock'),
  log: join(root, 'log'), lock: join(root, 'lock'), home: join(root, 'home'), repo: join(root, 'repo'),
};
const copyData = join(dirs.pg, 'data');
const repoPath = join(dirs.repo, source.backup!.path);

const envOf = (config: string) => [`PGBACKREST_CONFIG=${config}`, `PGBACKREST_CONFIG_INCLUDE_PATH=${join(root, 'conf.d')}`,
  'PGBACKREST_REPO1_TYPE=posix', `PGBACKREST_REPO1_PATH=${repoPath}`, `PGBACKREST_LOG_PATH=${dirs.log}`, `PGBACKREST_LOCK_PATH=${dirs.lock}`];
const sourceEnv = envOf(join(root, 'source-pgbackrest.conf'));
const copyEnv = envOf(join(root, 'copy-pgbackrest.conf'));

const asPostgres = (env: string[], args: string[]) => run('runuser', ['-u', 'postgres', '--', 'env', ...env, ...args]);
const psql = (sql: string, port: number, sock: string, db = 'postgres') =>
  asPostgres([], [`${PG15_BIN}/psql`, '-X', '-q', '-tA', '-v', 'ON_ERROR_STOP=1', '-h', sock, '-p', String(port), '-d', db, '-c', sql]);
const value = (sql: string, port: number, sock: string, db = 'postgres') => {
  const out = psql(sql, port, sock, db);
  if (out.code !== 0) throw new Error(`${sql}: ${out.stderr}`);
  return out.stdout.trim();
};
const atSource = (sql: string, db = 'postgres') => value(sql, sourcePort, dirs.sourceSock, db);
const atCopy = (sql: string, db = 'postgres') => value(sql, copyPort, dirs.copySock, db);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let etcd: ChildProcess | undefined;
let patroni: ChildProcess | undefined;

async function until(what: string, check: () => boolean, seconds: number): Promise<void> {
  for (let i = 0; i < seconds * 5; i++) {
    try { if (check()) return; } catch { /* not yet */ }
    if (patroni && patroni.exitCode !== null) break;
    await sleep(200);
  }
  const copyLogs = run('sh', ['-c', `cat ${copyData}/log/* 2>/dev/null | tail -n 40`]).stdout;
  const probe = [psql('SELECT pg_is_in_recovery()', copyPort, dirs.copySock)].map((r) => `${r.code} ${r.stdout} ${r.stderr}`).join('');
  throw new Error(`${what}: not after ${seconds} s\nprobe: ${probe}\n${head(join(root, 'patroni.log'))}\n${copyLogs}\n${tail(join(dirs.log, 'source.log'))}`);
}
function head(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').slice(0, 40).join('\n') : '';
}
function tail(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').slice(-40).join('\n') : '';
}

/** The rendered pgbackrest.conf of a member, its machine paths under the root. */
function conf(topologyText: string, data: string, port: number, sock: string): string {
  return topologyText
    .replace(`pg1-path=${postgresDataDir(base)}`, `pg1-path=${data}`)
    .replace(`pg1-port=${base.postgres.port}`, `pg1-port=${port}`)
    .replace(`pg1-socket-path=${FILES.socketDir}`, `pg1-socket-path=${sock}`);
}

beforeAll(() => {
  chmodSync(root, 0o755);
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  mkdirSync(join(root, 'conf.d'));
  run('chown', ['-R', 'postgres:postgres', ...Object.values(dirs), join(root, 'conf.d')]);
  writeFileSync(join(root, 'source-pgbackrest.conf'), conf(machineFile(base, source.members[0].name, FILES.pgbackrestConfig), dirs.sourceData, sourcePort, dirs.sourceSock));
  // The source: the group's rendered cluster parameters (pglogical preloaded, archiving to its stanza), under pg_ctl.
  const parameters = yamlFileOf(bootCloudConfig(base, source.members[0].name), FILES.patroniTemplate).bootstrap.dcs.postgresql.parameters;
  expect(parameters.shared_preload_libraries).toBe('pglogical');
  const init = asPostgres([], [`${PG15_BIN}/initdb`, '-D', dirs.sourceData, '-A', 'peer', '-U', 'postgres']);
  expect(init.code).toBe(0);
  // The parameters in a configuration file outside the data directory (Patroni's postgresql.conf is rewritten at the
  // restored member's bootstrap anyway), the data directory's own included.
  const settings = Object.entries(parameters).map(([k, v]) => `${k} = '${String(v).replace(/'/g, "''")}'`);
  writeFileSync(join(root, 'source.conf'), [`include '${dirs.sourceData}/postgresql.conf'`, ...settings,
    "listen_addresses = ''", `unix_socket_directories = '${dirs.sourceSock}'`, `port = ${sourcePort}`,
    `hba_file = '${dirs.sourceData}/pg_hba.conf'`, `ident_file = '${dirs.sourceData}/pg_ident.conf'`].join('\n') + '\n');
  const up = asPostgres(sourceEnv, [`${PG15_BIN}/pg_ctl`, '-D', dirs.sourceData, '-o', `-c config_file=${join(root, 'source.conf')}`, '-l', join(dirs.log, 'source.log'), '-w', 'start']);
  if (up.code !== 0) throw new Error(`source: ${up.stderr}\n${tail(join(dirs.log, 'source.log'))}`);
}, 120_000);

afterAll(async () => {
  if (patroni?.pid) {
    patroni.kill('SIGTERM');
    for (let i = 0; i < 100 && patroni.exitCode === null; i++) await sleep(200);
  }
  for (const data of [copyData, dirs.sourceData]) {
    if (existsSync(join(data, 'postmaster.pid'))) asPostgres([], [`${PG15_BIN}/pg_ctl`, '-D', data, '-m', 'immediate', 'stop']);
  }
  etcd?.kill('SIGKILL');
}, 60_000);

test('a restored group: Patroni\'s custom bootstrap restores the source to the target time; standalone, no logical worker', async () => {
  // The source: a live logical subscription (to a publication of its own application database) with its slot, rows.
  expect(atSource('SHOW shared_preload_libraries')).toBe('pglogical');
  atSource('CREATE DATABASE app');
  atSource('CREATE TABLE drill (id int PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())', 'app');
  atSource('CREATE PUBLICATION pub FOR TABLE drill', 'app');
  atSource("SELECT 1 FROM pg_create_logical_replication_slot('live_slot', 'pgoutput')", 'app');
  atSource('CREATE TABLE drill (id int PRIMARY KEY, at timestamptz)');
  atSource(`CREATE SUBSCRIPTION live_sub CONNECTION 'host=${dirs.sourceSock} port=${sourcePort} dbname=app user=postgres' PUBLICATION pub ` +
    "WITH (create_slot = false, slot_name = 'live_slot', copy_data = false)");
  await until('the source\'s subscription streams', () => atSource("SELECT count(*) FROM pg_stat_subscription WHERE subname = 'live_sub' AND pid IS NOT NULL") === '1', 30);

  // An operator's ALTER SYSTEM on the source (postgresql.auto.conf, in the backup) would win over Patroni's settings.
  atSource("ALTER SYSTEM SET shared_preload_libraries = 'pglogical'");
  atSource('ALTER SYSTEM SET max_logical_replication_workers = 8');
  // A full backup of the source (its stanza, its rendered configuration), then rows, a target time, more rows.
  expect(asPostgres(sourceEnv, ['pgbackrest', `--stanza=${stanza}`, 'stanza-create'])).toEqual(expect.objectContaining({ code: 0 }));
  const full = asPostgres(sourceEnv, ['pgbackrest', `--stanza=${stanza}`, '--type=full', 'backup']);
  expect(full).toEqual(expect.objectContaining({ code: 0 }));
  atSource('INSERT INTO drill (id) SELECT generate_series(1, 100)', 'app');
  await sleep(1100);
  const targetTime = atSource("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || 'Z'");
  await sleep(1100);
  atSource('INSERT INTO drill (id) SELECT generate_series(101, 200)', 'app');
  const segment = atSource('SELECT pg_walfile_name(pg_switch_wal())');
  await until('the segment archived', () => atSource('SELECT last_archived_wal FROM pg_stat_archiver') >= segment, 60);
  await until('the subscription applied the rows', () => atSource('SELECT count(*) FROM drill') === '200', 30);

  // The restored group, rendered with that target time.
  const topology = topologyOf(declaration(targetTime));
  const copy = topology.nodeGroups.find((g) => g.name === copyName)!;
  const member = copy.members[0].name;
  const rendered = yamlFileOf(bootCloudConfig(topology, member), FILES.patroniTemplate);
  const script = machineFile(topology, member, FILES.restoreBootstrap);
  const scriptPath = join(root, 'restore-bootstrap');
  writeFileSync(scriptPath, script, { mode: 0o755 });
  writeFileSync(join(root, 'copy-pgbackrest.conf'), conf(machineFile(topology, member, FILES.pgbackrestConfig), copyData, copyPort, dirs.copySock));
  const method = rendered.bootstrap.method;
  expect(method).toBe('pgbackrest_restore');
  expect(rendered.bootstrap[method].command).toBe(FILES.restoreBootstrap);
  const parameters = rendered.bootstrap.dcs.postgresql.parameters;
  expect(parameters.shared_preload_libraries).toBe('');
  expect(parameters.max_logical_replication_workers).toBe(0);

  etcd = spawn('/usr/bin/etcd', ['--name', 'restore-test', '--data-dir', join(root, 'etcd-data'),
    '--listen-client-urls', `http://127.0.0.1:${etcdClient}`, '--advertise-client-urls', `http://127.0.0.1:${etcdClient}`,
    '--listen-peer-urls', `http://127.0.0.1:${etcdPeer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${etcdPeer}`,
    '--initial-cluster', `restore-test=http://127.0.0.1:${etcdPeer}`], { stdio: 'ignore' });
  const config = {
    scope: copy.patroniScope,
    namespace: '/service/',
    name: member,
    restapi: { listen: `127.0.0.1:${rest}`, connect_address: `127.0.0.1:${rest}` },
    etcd3: { hosts: `127.0.0.1:${etcdClient}`, protocol: 'http' },
    bootstrap: {
      dcs: { ttl: 30, loop_wait: 2, retry_timeout: 10, postgresql: { use_pg_rewind: false, parameters } },
      initdb: rendered.bootstrap.initdb,
      // The rendered method, its command at the test's path.
      method,
      [method]: { ...rendered.bootstrap[method], command: scriptPath },
    },
    postgresql: {
      listen: `127.0.0.1:${copyPort}`,
      connect_address: `127.0.0.1:${copyPort}`,
      data_dir: copyData,
      bin_dir: PG15_BIN,
      pgpass: join(dirs.home, 'pgpass'),
      authentication: { superuser: { username: 'postgres', password: 'test-only' }, replication: { username: 'replicator', password: 'test-only' } },
      parameters: { unix_socket_directories: dirs.copySock },
      pg_hba: ['local all all trust', 'host all all 127.0.0.1/32 trust', 'host replication all 127.0.0.1/32 trust'],
    },
  };
  writeFileSync(join(root, 'patroni.yml'), stringify(config), { mode: 0o644 });
  const logFd = openSync(join(root, 'patroni.log'), 'a');
  patroni = spawn('setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', 'env', `HOME=${dirs.home}`, ...copyEnv,
    '/usr/bin/patroni', join(root, 'patroni.yml')], { stdio: ['ignore', logFd, logFd] });
  await until('the restored group leads, writable', () =>
    run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${rest}/primary`]).stdout === '200'
    && atCopy('SELECT pg_is_in_recovery()') === 'f', 120);

  // Rows before the target, none after.
  expect(atCopy('SELECT count(*), min(id), max(id) FROM drill', 'app')).toBe('100|1|100');
  expect(atCopy(`SELECT count(*) FROM drill WHERE at > '${targetTime}'`, 'app')).toBe('0');
  expect(readFileSync(join(root, 'patroni.log'), 'utf8')).toMatch(/Running custom bootstrap script: .*restore-bootstrap/);
  // Writable, on a new timeline of its own.
  atCopy('INSERT INTO drill (id) VALUES (1000)', 'app');
  // Standalone: no engine library, no logical worker, the copied subscription idle; the source's slot is its own.
  expect(atCopy('SHOW shared_preload_libraries')).toBe('');
  expect(atCopy('SHOW max_logical_replication_workers')).toBe('0');
  expect(atCopy("SELECT subname || ':' || subenabled FROM pg_subscription")).toBe('live_sub:true');
  await sleep(3000);
  expect(atCopy('SELECT count(*) FROM pg_stat_subscription WHERE pid IS NOT NULL')).toBe('0');
  expect(atCopy("SELECT count(*) FROM pg_stat_activity WHERE backend_type ~ 'logical replication|pglogical'")).toBe('0');
  // No archiving of its own, and the source's repository got no new timeline from it.
  expect(atCopy('SHOW archive_mode')).toBe('off');
  // (A copy archiving into it would push its timeline 2: a 00000002.history and segments 00000002...)
  await sleep(1000);
  expect(run('find', [join(repoPath, 'archive'), '-name', '00000002*']).stdout.trim()).toBe('');
  expect(run('find', [join(repoPath, 'archive'), '-name', '00000001*']).stdout.trim()).not.toBe('');
  // The source is untouched: its subscription still streams from its slot, and it holds all 200 rows.
  expect(atSource("SELECT count(*) FROM pg_stat_subscription WHERE subname = 'live_sub' AND pid IS NOT NULL")).toBe('1');
  expect(atSource('SELECT count(*) FROM drill', 'app')).toBe('200');
}, 420_000);

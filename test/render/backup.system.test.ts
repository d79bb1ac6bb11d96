/**
 * Backups, run for real (system tests): Debian's Patroni 3.0.2 runs a one-member group on PostgreSQL 15 with the
 * dynamic configuration's parameters as a member's rendered Patroni template has them (so `archive_mode`,
 * `archive_command` and `archive_timeout` are ours and Patroni applies them), its REST API over TLS (a test CA), and
 * Debian's pgBackRest reads the rendered `pgbackrest.conf`; the rendered `backup` script asks that Patroni whether its
 * member leads. Then: a full backup, rows, a target time, more rows, a point-in-time restore into an empty directory
 * (`--type=time`), and the restored server holds the rows before the time and none after it.
 *
 * What is not the machine's: no object store is here, so the repository is a directory. The repository's storage
 * options alone are overridden, through pgBackRest's environment (`PGBACKREST_REPO1_TYPE=posix`,
 * `PGBACKREST_REPO1_PATH`, which win over the file): Patroni passes its environment to Postgres, so `archive_command`
 * as rendered archives there. Everything else comes from the rendered file (the stanza section, retention, bundling,
 * compression, start-fast), with the machine's absolute paths (data directory, socket, port) moved under a
 * temporary root, as are the script's (CA, status, log, lock, Patroni's REST port).
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { stringify } from 'yaml';
import { FILES } from '../../lib/render/paths';
import { postgresDataDir } from '../../lib/render/patroni';
import { pglogicalFleet } from '../fixtures/fleets';
import { bootCloudConfig, machineFile, PG15_BIN, run, tempDir, topologyOf, yamlFileOf } from './helpers';

const topology = topologyOf({ ...pglogicalFleet(), backup: { retentionFullBackups: 1 } });
const group = topology.nodeGroups[0];
const member = group.members[0].name;
const stanza = group.backup!.stanza;

const root = tempDir('backup');
const base = 16000 + (process.pid % 1000) * 4;
const [etcdClient, etcdPeer, rest, pgPort] = [base, base + 1, base + 2, base + 3];
const dirs = { data: join(root, 'data'), sock: join(root, 'sock'), state: join(root, 'state'), run: join(root, 'run'), log: join(root, 'log'), lock: join(root, 'lock'), home: join(root, 'home') };
const repo = join(root, 'repo');
const repoPath = join(repo, group.backup!.path);

/** pgBackRest's environment: the rendered file, with the repository's storage a directory (see the header). */
const pgbackrestEnv: Record<string, string> = {
  PGBACKREST_CONFIG: join(root, 'pgbackrest.conf'),
  PGBACKREST_CONFIG_INCLUDE_PATH: join(root, 'conf.d'),
  PGBACKREST_REPO1_TYPE: 'posix',
  PGBACKREST_REPO1_PATH: repoPath,
  PGBACKREST_LOG_PATH: dirs.log,
  PGBACKREST_LOCK_PATH: dirs.lock,
};
const envArgs = Object.entries(pgbackrestEnv).map(([k, v]) => `${k}=${v}`);

const renderedConf = machineFile(topology, member, FILES.pgbackrestConfig);
const renderedScript = machineFile(topology, member, FILES.backup);

/** The backup script with its paths under the root, asking Patroni at `url`, trusting `ca`. */
function script(url = `https://127.0.0.1:${rest}/primary`, ca = join(root, 'ca.crt')): string {
  const text = renderedScript
    .replace(`PRIMARY_URL=https://127.0.0.1:${topology.patroni.restApiPort}/primary`, `PRIMARY_URL=${url}`)
    .replace(`CA=${FILES.caCert}`, `CA=${ca}`)
    .replace(`STATUS=${FILES.backupStatus}`, `STATUS=${dirs.state}/backup.status`)
    .replace(`LOG=${FILES.backupLog}`, `LOG=${root}/backup.log`)
    .replace(`LOCK=${FILES.runDir}/backup.lock`, `LOCK=${dirs.run}/backup.lock`);
  const path = join(root, `backup-${Math.abs(hash(url + ca))}`);
  writeFileSync(path, text, { mode: 0o700 });
  return path;
}
function hash(s: string): number {
  return [...s].reduce((h, c) => (h * 31 + c.charCodeAt(0)) | 0, 7);
}

/** Runs the backup script as the timers do (root), with pgBackRest's environment. */
function backup(kind: string, path = script()): { code: number; stdout: string; stderr: string } {
  return run('env', [...envArgs, path, kind]);
}

const asPostgres = (args: string[]) => run('runuser', ['-u', 'postgres', '--', 'env', ...envArgs, ...args]);
const psql = (sql: string, port = pgPort, sock = dirs.sock) =>
  asPostgres([`${PG15_BIN}/psql`, '-X', '-q', '-tA', '-v', 'ON_ERROR_STOP=1', '-h', sock, '-p', String(port), '-d', 'postgres', '-c', sql]);
const value = (sql: string, port?: number, sock?: string) => {
  const out = psql(sql, port, sock);
  if (out.code !== 0) throw new Error(`${sql}: ${out.stderr}`);
  return out.stdout.trim();
};
const statusOf = (): Record<string, string> => Object.fromEntries(readFileSync(join(dirs.state, 'backup.status'), 'utf8').trim().split('\n')
  .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
const info = (): any => JSON.parse(asPostgres(['pgbackrest', `--stanza=${stanza}`, '--output=json', 'info']).stdout)[0];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let etcd: ChildProcess | undefined;
let patroni: ChildProcess | undefined;
/** The restored server's postmaster (stopped by PID: the temporary root may be gone by the time afterAll runs). */
let restoredPid = 0;

async function until(what: string, check: () => boolean, seconds: number): Promise<void> {
  for (let i = 0; i < seconds * 5; i++) {
    if (check()) return;
    if (patroni && patroni.exitCode !== null) break;
    await sleep(200);
  }
  throw new Error(`${what}: not after ${seconds} s\n${readLog()}`);
}
function readLog(): string {
  const log = join(root, 'patroni.log');
  return existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-30).join('\n') : '';
}

beforeAll(async () => {
  run('chmod', ['0755', root]);
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  mkdirSync(join(root, 'conf.d'));
  mkdirSync(repo);
  run('chown', ['-R', 'postgres:postgres', dirs.data, dirs.home, dirs.sock, dirs.log, dirs.lock, join(root, 'conf.d'), repo]);
  run('chmod', ['0700', dirs.data]);
  // The rendered configuration, its machine paths under the root.
  const conf = renderedConf
    .replace(`pg1-path=${postgresDataDir(topology)}`, `pg1-path=${dirs.data}`)
    .replace(`pg1-port=${topology.postgres.port}`, `pg1-port=${pgPort}`)
    .replace(`pg1-socket-path=${FILES.socketDir}`, `pg1-socket-path=${dirs.sock}`);
  writeFileSync(pgbackrestEnv.PGBACKREST_CONFIG, conf, { mode: 0o644 });
  // A test CA and Patroni's REST certificate for 127.0.0.1 (as the member's has it among its SANs).
  const ssl = (...args: string[]) => expect(run('openssl', args).code).toBe(0);
  ssl('req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=backup test CA',
    '-keyout', join(root, 'ca.key'), '-out', join(root, 'ca.crt'));
  ssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost',
    '-keyout', join(root, 'rest.key'), '-out', join(root, 'rest.csr'));
  writeFileSync(join(root, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  ssl('x509', '-req', '-in', join(root, 'rest.csr'), '-CA', join(root, 'ca.crt'), '-CAkey', join(root, 'ca.key'), '-CAcreateserial',
    '-days', '2', '-extfile', join(root, 'ext.cnf'), '-out', join(root, 'rest.crt'));
  run('chown', ['postgres:postgres', join(root, 'rest.key')]);
  // A wrong CA, for the TLS check.
  ssl('req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=other CA',
    '-keyout', join(root, 'other.key'), '-out', join(root, 'other.crt'));

  etcd = spawn('/usr/bin/etcd', ['--name', 'backup-test', '--data-dir', join(root, 'etcd-data'),
    '--listen-client-urls', `http://127.0.0.1:${etcdClient}`, '--advertise-client-urls', `http://127.0.0.1:${etcdClient}`,
    '--listen-peer-urls', `http://127.0.0.1:${etcdPeer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${etcdPeer}`,
    '--initial-cluster', `backup-test=http://127.0.0.1:${etcdPeer}`], { stdio: 'ignore' });

  // The member's rendered dynamic configuration parameters (with the archive ones), Patroni's own plumbing for a test.
  const rendered = yamlFileOf(bootCloudConfig(topology, member), FILES.patroniTemplate);
  const parameters = rendered.bootstrap.dcs.postgresql.parameters;
  const config = {
    scope: group.patroniScope,
    namespace: '/service/',
    name: member,
    restapi: { listen: `127.0.0.1:${rest}`, connect_address: `127.0.0.1:${rest}`, certfile: join(root, 'rest.crt'), keyfile: join(root, 'rest.key') },
    etcd3: { hosts: `127.0.0.1:${etcdClient}`, protocol: 'http' },
    bootstrap: {
      dcs: { ttl: 30, loop_wait: 2, retry_timeout: 10, postgresql: { use_pg_rewind: false, parameters } },
      initdb: rendered.bootstrap.initdb,
    },
    postgresql: {
      listen: `127.0.0.1:${pgPort}`,
      connect_address: `127.0.0.1:${pgPort}`,
      data_dir: dirs.data,
      bin_dir: PG15_BIN,
      pgpass: join(dirs.home, 'pgpass'),
      authentication: { superuser: { username: 'postgres', password: 'test-only' }, replication: { username: 'replicator', password: 'test-only' } },
      parameters: { unix_socket_directories: dirs.sock },
      pg_hba: ['local all all trust', 'host all all 127.0.0.1/32 trust', 'host replication all 127.0.0.1/32 trust'],
    },
  };
  writeFileSync(join(root, 'patroni.yml'), stringify(config), { mode: 0o644 });
  const logFd = require('fs').openSync(join(root, 'patroni.log'), 'a');
  // setpriv keeps the PID (Patroni's), so afterAll stops Patroni itself, and Patroni its Postgres.
  patroni = spawn('setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', 'env', `HOME=${dirs.home}`, ...envArgs,
    '/usr/bin/patroni', join(root, 'patroni.yml')], { stdio: ['ignore', logFd, logFd] });
  await until('Patroni leads its group', () =>
    run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', join(root, 'ca.crt'), `https://127.0.0.1:${rest}/primary`]).stdout === '200', 90);
}, 120_000);

afterAll(async () => {
  if (patroni?.pid) {
    patroni.kill('SIGTERM');
    for (let i = 0; i < 100 && patroni.exitCode === null; i++) await sleep(200);
  }
  if (existsSync(join(dirs.data, 'postmaster.pid'))) asPostgres([`${PG15_BIN}/pg_ctl`, '-D', dirs.data, '-m', 'immediate', 'stop']);
  if (restoredPid > 0) {
    try { process.kill(restoredPid, 'SIGQUIT'); } catch { /* already stopped */ }
  }
  etcd?.kill('SIGKILL');
}, 60_000);

test('the rendered configuration: the group\'s stanza, its S3 repository by the machine\'s identity, no credentials', () => {
  expect(renderedConf).toContain(`[${stanza}]\npg1-path=${postgresDataDir(topology)}\npg1-port=5432\npg1-socket-path=/var/run/postgresql\npg1-user=postgres\n`);
  expect(renderedConf).toMatch(new RegExp(`^repo1-type=s3\nrepo1-s3-bucket=${group.backup!.bucket}\nrepo1-s3-endpoint=s3\\.${group.region}\\.amazonaws\\.com\n` +
    `repo1-s3-region=${group.region}\n`, 'm'));
  expect(renderedConf).toMatch(/^repo1-s3-key-type=auto$/m);
  expect(renderedConf).toMatch(/^repo1-retention-full=1$/m);
  expect(renderedConf).not.toMatch(/^repo1-(s3-key|s3-key-secret|s3-token|cipher-pass|storage-verify-tls)=/m);
  // pgBackRest reads it as we mean it (the environment overrides only the storage).
  const shown = asPostgres(['pgbackrest', `--stanza=${stanza}`, 'help', 'backup', 'repo-retention-full']).stdout;
  expect(shown).toMatch(/current: 1/);
});

test('Patroni runs Postgres with the rendered archive parameters', () => {
  expect(value('SHOW archive_mode')).toBe('on');
  expect(value('SHOW archive_command')).toBe(`pgbackrest --stanza=${stanza} archive-push %p`);
  expect(value("SELECT setting || unit FROM pg_settings WHERE name = 'archive_timeout'")).toBe(`${group.backup!.archiveTimeoutSeconds}s`);
});

test('on a member Patroni does not report as leader, or without a verified TLS answer, the script does nothing', () => {
  // A real Patroni answer other than 200: its /replica endpoint answers 503 on the leader, as /primary does on a replica.
  const replica = backup('full', script(`https://127.0.0.1:${rest}/replica`));
  expect(replica).toEqual({ code: 0, stdout: `backup full: this member is not the leader of node group ${stanza} (Patroni /primary: 503): nothing to do\n`, stderr: '' });
  // Patroni's certificate signed by another CA than the one trusted: not taken for an answer.
  expect(backup('full', script(undefined, join(root, 'other.crt'))).stdout).toMatch(/not the leader .*\(Patroni \/primary: 000\): nothing to do/);
  // No Patroni at all.
  expect(backup('incr', script(`https://127.0.0.1:${pgPort + 100}/primary`)).stdout).toMatch(/nothing to do/);
  expect(existsSync(join(dirs.state, 'backup.status'))).toBe(false);
});

test('a failing repository: the check fails, saying why in the status file, and Postgres serves on', () => {
  // A repository postgres may not write to (root's, 0700), as an object store that refuses the machine would be.
  const forbidden = join(root, 'forbidden');
  mkdirSync(forbidden, { mode: 0o700 });
  const blocked = run('env', [...envArgs.filter((e) => !e.startsWith('PGBACKREST_REPO1_PATH=')), `PGBACKREST_REPO1_PATH=${forbidden}/repo`, script(), 'check']);
  expect(blocked.code).toBe(1);
  expect(blocked.stdout).toMatch(/^backup check: failed: stanza-create: .*ERROR/);
  expect(statusOf()).toMatchObject({ kind: 'check', result: 'failed', label: '', message: expect.stringMatching(/^stanza-create: .*ERROR: \[\d+\]/) });
  expect(value('SELECT 1')).toBe('1');
});

test('the leader\'s check creates the stanza and sees WAL archived through Patroni\'s archive_command; again changes nothing', () => {
  const first = backup('check');
  expect(first).toEqual(expect.objectContaining({ code: 0, stdout: 'backup check: ok\n' }));
  expect(statusOf()).toMatchObject({ kind: 'check', result: 'ok', label: '', message: '' });
  // The stanza exists (a missing one is 'missing stanza path'), with no backup yet.
  expect(info().status).toEqual(expect.objectContaining({ code: 2, message: 'no valid backups' }));
  expect(backup('check').stdout).toBe('backup check: ok\n');
  // (Pushes before the stanza existed failed; Postgres retried them.)
  expect(Number(value('SELECT archived_count FROM pg_stat_archiver'))).toBeGreaterThan(0);
}, 120_000);

test('one backup at a time: a run while another holds the lock is skipped', () => {
  const held = spawnSync('flock', ['-n', join(dirs.run, 'backup.lock'), 'env', ...envArgs, script(), 'full'], { encoding: 'utf8' });
  expect(held.status).toBe(0);
  expect(held.stdout).toBe('backup full: another backup or check is running on this member: skipped\n');
});

describe('a full backup, then a point-in-time restore', () => {
  let target = '';
  let fullLabel = '';

  test('full backup on the leader: label, status, log line; a differential after it', () => {
    const full = backup('full');
    expect(full.code).toBe(0);
    fullLabel = statusOf().label;
    expect(fullLabel).toMatch(/^\d{8}-\d{6}F$/);
    expect(full.stdout).toBe(`backup full: ok (${fullLabel})\n`);
    expect(statusOf()).toMatchObject({ kind: 'full', result: 'ok', message: '' });
    expect(statusOf().started <= statusOf().ended).toBe(true);
    expect(info().backup.map((b: any) => b.label)).toEqual([fullLabel]);
    expect(readFileSync(join(root, 'backup.log'), 'utf8').trim().split('\n').pop()).toMatch(new RegExp(` full ok ${fullLabel}$`));
    const diff = backup('diff');
    expect(diff.stdout).toMatch(new RegExp(`^backup diff: ok \\(${fullLabel}_\\d{8}-\\d{6}D\\)\n$`));
  }, 120_000);

  test('rows, a target time, more rows; restored to that time it has the rows before and none after', async () => {
    value('CREATE TABLE drill (id int PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())');
    value('INSERT INTO drill (id) SELECT generate_series(1, 100)');
    await sleep(1100);
    target = value("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'");
    await sleep(1100);
    value('INSERT INTO drill (id) SELECT generate_series(101, 200)');
    // The segment holding the later rows reaches the archive (archive_timeout would, in a minute).
    const segment = value('SELECT pg_walfile_name(pg_switch_wal())');
    await until('the segment archived', () => value('SELECT last_archived_wal FROM pg_stat_archiver') >= segment, 60);

    const restored = join(root, 'restored');
    mkdirSync(restored, { mode: 0o700 });
    run('chown', ['postgres:postgres', restored]);
    const restore = asPostgres(['pgbackrest', `--stanza=${stanza}`, `--pg1-path=${restored}`, '--type=time', `--target=${target}`,
      '--target-action=promote', 'restore']);
    expect(restore).toEqual(expect.objectContaining({ code: 0 }));
    // Started as the README's runbook starts it: its own port and socket, no archiving into the group's repository, and
    // neither the engine's library nor logical workers (the data holds the group's subscriptions).
    const sock = join(root, 'sock-restored');
    mkdirSync(sock);
    run('chown', ['postgres:postgres', sock]);
    expect(value('SHOW shared_preload_libraries')).toBe('pglogical');
    const options = [`port=${pgPort + 200}`, "listen_addresses=''", `unix_socket_directories=${sock}`, 'archive_mode=off',
      "shared_preload_libraries=''", 'max_logical_replication_workers=0',
      `hba_file=${restored}/pg_hba.conf`, `ident_file=${restored}/pg_ident.conf`].map((o) => `-c ${o}`).join(' ');
    const start = asPostgres([`${PG15_BIN}/pg_ctl`, '-D', restored, '-o', options, '-l', join(dirs.home, 'restored.log'), '-w', '-t', '120', 'start']);
    expect(start).toEqual(expect.objectContaining({ code: 0 }));
    restoredPid = Number(readFileSync(join(restored, 'postmaster.pid'), 'utf8').split('\n')[0]);
    await until('the restored server promoted', () => psql('SELECT pg_is_in_recovery()', pgPort + 200, sock).stdout.trim() === 'f', 60);
    expect(value('SELECT count(*), min(id), max(id) FROM drill', pgPort + 200, sock)).toBe('100|1|100');
    expect(value('SHOW shared_preload_libraries', pgPort + 200, sock)).toBe('');
    expect(value(`SELECT count(*) FROM drill WHERE at > '${target}'`, pgPort + 200, sock)).toBe('0');
    // The group itself has them all.
    expect(value('SELECT count(*) FROM drill')).toBe('200');
    expect(asPostgres([`${PG15_BIN}/pg_ctl`, '-D', restored, '-m', 'fast', 'stop'])).toEqual(expect.objectContaining({ code: 0 }));
    restoredPid = 0;
  }, 240_000);

  test('retention: the next full backup expires the one before it (retentionFullBackups: 1)', () => {
    const next = backup('full');
    expect(next.code).toBe(0);
    const label = statusOf().label;
    expect(label).not.toBe(fullLabel);
    expect(info().backup.map((b: any) => b.label)).toEqual([label]);
  }, 120_000);
});

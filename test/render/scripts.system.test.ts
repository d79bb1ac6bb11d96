/**
 * The scripts in the user-data, run for real (system tests): the Python helpers compile; certificate issuance with
 * openssl against a test CA; etcd with the rendered TLS; secret materialisation (Patroni YAML, .pgpass, SCRAM
 * verifier); and the mesh SQL against a throwaway PostgreSQL 15 with Debian's pglogical.
 */
import { ChildProcess, spawn } from 'child_process';
import { createHash, createHmac, pbkdf2Sync } from 'crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statfsSync, statSync } from 'fs';
import { join } from 'path';
import { parse, stringify } from 'yaml';
import { DistributedPostgresProps, ReplicationEngine } from '../../lib';
import { ETCDCTL } from '../../lib/render/bootstrap';
import { meshDocumentPatroni } from '../../lib/render/mesh-document';
import { RETAINED_WAL_REPORT_BYTES } from '../../lib/render/mesh';
import { ledgerFleet, pglogicalFleet, singleGroupDedicatedEtcd } from '../fixtures/fleets';
import { rehearsalSpockFleet } from '../../stacks/rehearsal-spock';
import { rehearsalNativeFleet } from '../../stacks/rehearsal-native';
import { fileOf, meshFileOf, run, tempDir, throwawayPostgres, topologyOf, writeTemp, writtenFiles, bootCloudConfig } from './helpers';

const PYTHON = '/usr/bin/python3';

test('Python helpers compile (Debian\'s python3, as the machines run them)', () => {
  const python = [...writtenFiles([ledgerFleet(), pglogicalFleet(), singleGroupDedicatedEtcd()])]
    .filter(([, c]) => c.startsWith('#!/usr/bin/python3'));
  const dir = tempDir('syntax');
  expect(python.length).toBeGreaterThan(10);
  const failures = python.map(([name, content], i) => {
    const path = writeTemp(dir, `helper${i}.py`, content);
    const out = run(PYTHON, ['-m', 'py_compile', path]);
    return out.code === 0 ? '' : `${name}: ${out.stderr}`;
  }).filter(Boolean);
  expect(failures).toEqual([]);
});

function relocate(content: string, root: string): string {
  return content
    .split('/usr/local/sbin/dpg-secret').join(`${root}/dpg-secret`)
    .split('/etc/distributed-postgres').join(`${root}/etc`)
    .split('/var/lib/distributed-postgres').join(`${root}/state`)
    .split('/run/dpg-tls').join(`${root}/run/dpg-tls`)
    .split('. /etc/').join(`. ${root}/etc/`);
}

/** A stand-in for dpg-secret that prints fixed values from a JSON file (like the rehearsal's backend). */
function fakeSecretCommand(root: string, values: Record<string, string>): void {
  writeTemp(root, 'secrets.json', JSON.stringify(values));
  writeTemp(root, 'dpg-secret', `#!/usr/bin/python3\nimport json, sys\nsys.stdout.write(json.load(open(${JSON.stringify(`${root}/secrets.json`)}))[sys.argv[1]])\n`, 0o700);
}


describe('issue-certificate with a test CA', () => {
  const topology = topologyOf(pglogicalFleet());
  const text = bootCloudConfig(topology, 'rehearse-a-pg1');
  const root = tempDir('tls');
  mkdirSync(join(root, 'etc/tls'), { recursive: true });
  mkdirSync(join(root, 'run'), { recursive: true });
  const env = fileOf(text, '/etc/distributed-postgres/member.env');
  writeTemp(root, 'etc/member.env', env);
  const script = writeTemp(root, 'issue-certificate', relocate(fileOf(text, '/usr/local/lib/distributed-postgres/issue-certificate'), root), 0o700);
  // The fleet CA, as the secret store would hold it.
  const caKey = join(root, 'ca.key');
  const caCert = join(root, 'ca.crt');
  run('openssl', ['req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '30',
    '-subj', '/CN=test fleet CA', '-keyout', caKey, '-out', caCert]);
  fakeSecretCommand(root, { [topology.secrets.tlsCa]: JSON.stringify({ cert: readFileSync(caCert, 'utf8'), key: readFileSync(caKey, 'utf8') }) });
  const first = run('bash', [script]);
  const cert = join(root, 'etc/tls/member.crt');

  test('issues a certificate the CA verifies, with the member\'s SANs and both TLS usages', () => {
    expect(first).toEqual(expect.objectContaining({ code: 0 }));
    expect(first.stdout).toMatch(/issued certificate for rehearse-a-pg1\.rehearse\.db\.internal/);
    expect(run('openssl', ['verify', '-CAfile', caCert, cert]).code).toBe(0);
    const details = run('openssl', ['x509', '-in', cert, '-noout', '-text']).stdout;
    for (const san of ['IP Address:10.64.0.10', 'DNS:rehearse-a-pg1.rehearse.db.internal', 'DNS:a.rehearse.db.internal', 'IP Address:10.64.0.5']) {
      expect(details).toContain(san);
    }
    expect(details).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/);
    expect(details).toMatch(/CA:FALSE/);
  });

  test('keys are private to their owners; the CA key is not left behind', () => {
    expect(statSync(join(root, 'etc/tls/member.key')).mode & 0o777).toBe(0o600);
    const postgresKey = statSync(join(root, 'etc/tls/postgres.key'));
    expect(postgresKey.mode & 0o777).toBe(0o600);
    expect(postgresKey.uid).toBe(Number(run('id', ['-u', 'postgres']).stdout.trim()));
    const caKeyText = readFileSync(caKey, 'utf8').trim();
    const leftovers = readdirSync(join(root, 'etc/tls')).filter((f) => readFileSync(join(root, 'etc/tls', f), 'utf8').includes(caKeyText));
    expect(leftovers).toEqual([]);
    expect(readdirSync(join(root, 'run'))).toEqual([]);
  });

  test('running it again keeps the certificate (idempotent)', () => {
    const before = readFileSync(cert, 'utf8');
    const again = run('bash', [script]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/is current/);
    expect(readFileSync(cert, 'utf8')).toBe(before);
  });

  describe('etcd with the rendered TLS settings', () => {
    // Below Linux's ephemeral range (32768-60999) and apart from etcd-join.test.ts's members (20000-25999).
    const base = 26000 + (process.pid % 1000) * 4;
    const [client, peer, joinerClient, joinerPeer] = [base, base + 1, base + 2, base + 3];
    const etcdctl = relocate(ETCDCTL, root);
    let etcd: ChildProcess | undefined;

    beforeAll(async () => {
      const config = parse(fileOf(text, '/etc/distributed-postgres/etcd.yaml'));
      Object.assign(config, {
        'data-dir': join(root, 'etcd-data'),
        'listen-client-urls': `https://127.0.0.1:${client}`, 'advertise-client-urls': `https://127.0.0.1:${client}`,
        'listen-peer-urls': `https://127.0.0.1:${peer}`, 'initial-advertise-peer-urls': `https://127.0.0.1:${peer}`,
        'initial-cluster': `rehearse-a-pg1=https://127.0.0.1:${peer}`,
      });
      const path = writeTemp(root, 'etcd-test.yaml', relocate(stringify(config), root));
      etcd = spawn('/usr/bin/etcd', ['--config-file', path], { stdio: 'ignore' });
      for (let i = 0; i < 100; i++) {
        if (run('bash', ['-c', `${etcdctl} --endpoints=https://127.0.0.1:${client} endpoint health`]).code === 0) break;
        await new Promise((r) => setTimeout(r, 200));
      }
    }, 30_000);

    afterAll(() => etcd?.kill('SIGKILL'));

    test('a client with the member certificate is served; one without it is refused (client-cert auth)', () => {
      // Exactly as the bootstrap's wait_for runs it: the words of ETCDCTL as a command line.
      const asWaitFor = run('bash', ['-c', `poll() { "$@"; }; poll ${etcdctl} --endpoints=https://127.0.0.1:${client} endpoint health`]);
      expect(asWaitFor).toEqual(expect.objectContaining({ code: 0 }));
      const anonymous = run('etcdctl', [`--cacert=${join(root, 'etc/tls/ca.crt')}`, `--endpoints=https://127.0.0.1:${client}`,
        '--dial-timeout=2s', '--command-timeout=3s', 'endpoint', 'health']);
      expect(anonymous.code).not.toBe(0);
      expect(fileOf(text, '/usr/local/sbin/distributed-postgres-bootstrap')).toContain(`wait_for 900 "etcd quorum" ${ETCDCTL} --endpoints=`);
    });

    test('the gRPC gateway Patroni\'s etcd3 client uses (/v3 over HTTPS with the member certificate) answers', () => {
      const tls = join(root, 'etc/tls');
      const out = run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', join(tls, 'ca.crt'), '--cert', join(tls, 'member.crt'),
        '--key', join(tls, 'member.key'), '-X', 'POST', '-d', '{}', `https://127.0.0.1:${client}/v3/cluster/member/list`]);
      expect(out.stdout).toBe('200');
    });

    test('etcd-join: `new` while no peer answers, `existing` (after member add) once one runs (every case: etcd-join.test.ts)', () => {
      const joinEnv = (endpoints: string) => writeTemp(root, 'etc/member.env', [
        fileOf(text, '/etc/distributed-postgres/member.env'),
        `DPG_ETCD_NAME='joiner'`, `DPG_ETCD_PEER_URL='https://127.0.0.1:${joinerPeer}'`,
        `DPG_ETCD_CLIENT_URL='https://127.0.0.1:${joinerClient}'`, `DPG_ETCD_DATA_DIR='${join(root, 'joiner-data')}'`,
        `DPG_ETCD_ENDPOINTS='${endpoints}'`, ''].join('\n'));
      const config = writeTemp(root, 'etc/etcd.yaml', fileOf(text, '/etc/distributed-postgres/etcd.yaml'));
      const script = writeTemp(root, 'etcd-join', relocate(fileOf(text, '/usr/local/lib/distributed-postgres/etcd-join'), root), 0o700);
      mkdirSync(join(root, 'state'), { recursive: true });
      joinEnv(`https://127.0.0.1:${joinerClient},https://127.0.0.1:${joinerPeer + 1000}`); // ourselves + a dead peer
      const alone = run('bash', [script]);
      expect(alone.stdout).toMatch(/no peer has joined a quorum yet/);
      expect(readFileSync(config, 'utf8')).toMatch(/^initial-cluster-state: new$/m);
      joinEnv(`https://127.0.0.1:${client},https://127.0.0.1:${joinerClient}`);
      const joined = run('bash', [script]);
      expect(joined).toEqual(expect.objectContaining({ code: 0 }));
      expect(joined.stdout).toMatch(/joining the running quorum as a new member \(initial-cluster-state existing\)/);
      expect(readFileSync(config, 'utf8')).toMatch(/^initial-cluster-state: existing$/m);
      // etcdctl's own report of the member add (the quorum now waits for the joiner, so nothing more is asked of it).
      expect(joined.stdout).toMatch(/Member +[0-9a-f]+ added to cluster/);
      expect(joined.stdout).toContain(`joiner=https://127.0.0.1:${joinerPeer}`);
      expect(joined.stdout).toContain('ETCD_INITIAL_CLUSTER_STATE="existing"');
    });
  });
});

describe('materialize-secrets', () => {
  const topology = topologyOf(ledgerFleet());
  const text = bootCloudConfig(topology, 'ledger-euw3-pg2');
  const root = tempDir('secrets');
  const s = topology.secrets;
  const tricky = 'p:a\\ss\'w"o rd #1';
  fakeSecretCommand(root, {
    [s.superuserPassword]: 'super-123', [s.replicationPassword]: 'repl-456', [s.rewindPassword]: 'rewind-789',
    [s.restApiPassword]: 'rest-000', [s.meshPassword]: tricky,
  });
  const tool = writeTemp(root, 'materialize-secrets', relocate(fileOf(text, '/usr/local/lib/distributed-postgres/materialize-secrets'), root), 0o700);
  const template = writeTemp(root, 'patroni.yml.template', fileOf(text, '/etc/distributed-postgres/patroni.yml.template'));

  test('without the mesh document\'s Patroni part it fails, saying what to run first, and writes nothing', () => {
    const out = join(root, 'patroni-early.yml');
    const failed = run(PYTHON, [tool, 'yaml', template, out, 'postgres']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`materialize-secrets: ${root}/etc/mesh/patroni.json has no `);
    expect(failed.stderr).toContain('run mesh-sync first');
    expect(readdirSync(root)).not.toContain('patroni-early.yml');
  });

  test('fills the Patroni template: every placeholder replaced, nothing else changed, 0600 for postgres', () => {
    const out = join(root, 'patroni.yml');
    // What mesh-sync writes from the group's mesh document (test/render/mesh-document.system.test.ts runs it).
    const group = topology.nodeGroups.find((g) => g.members.some((m) => m.name === 'ledger-euw3-pg2'))!;
    const part = meshDocumentPatroni(topology, group);
    mkdirSync(join(root, 'etc', 'mesh'), { recursive: true });
    writeTemp(join(root, 'etc', 'mesh'), 'patroni.json', JSON.stringify(part, null, 1));
    expect(run(PYTHON, [tool, 'yaml', template, out, 'postgres'])).toEqual(expect.objectContaining({ code: 0 }));
    const filled = parse(readFileSync(out, 'utf8'));
    const original = parse(readFileSync(template, 'utf8'));
    expect(filled.postgresql.authentication.superuser.password).toBe('super-123');
    expect(filled.postgresql.authentication.replication.password).toBe('repl-456');
    expect(filled.postgresql.authentication.rewind.password).toBe('rewind-789');
    expect(filled.restapi.authentication.password).toBe('rest-000');
    // The WAL retention budget: the declared share of the file system that holds the data directory (here the test
    // machine's: /var/lib/postgresql exists where the postgres package is installed).
    const fsOfData = statfsSync('/var/lib/postgresql');
    // less what pg_wal holds besides the slots (the placeholder's MINUS), at least one segment.
    const [, percent, minus] = /:(\d+)-(\d+)\}\}$/.exec(original.postgresql.parameters.max_slot_wal_keep_size)!.map(Number);
    expect(minus).toBe(1184);
    expect(filled.postgresql.parameters.max_slot_wal_keep_size)
      .toBe(`${Math.max(16, Math.floor((fsOfData.blocks * fsOfData.bsize * percent) / 100 / 1048576) - minus)}MB`);
    delete original.postgresql.parameters.max_slot_wal_keep_size;
    delete filled.postgresql.parameters.max_slot_wal_keep_size;
    for (const user of ['superuser', 'replication', 'rewind']) delete original.postgresql.authentication[user].password;
    for (const user of ['superuser', 'replication', 'rewind']) delete filled.postgresql.authentication[user].password;
    delete original.restapi.authentication.password;
    delete filled.restapi.authentication.password;
    expect(original.bootstrap.dcs.postgresql.pg_hba).toBe('{{mesh:pg_hba}}');
    expect(original.bootstrap.dcs.slots).toBe('{{mesh:slots}}');
    expect(filled.bootstrap.dcs.postgresql.pg_hba).toEqual(part.pg_hba);
    expect(filled.bootstrap.dcs.slots).toEqual(part.slots);
    for (const p of [original, filled]) {
      delete p.bootstrap.dcs.postgresql.pg_hba;
      delete p.bootstrap.dcs.slots;
    }
    expect(filled).toEqual(original);
    expect(readFileSync(out, 'utf8')).not.toContain('{{secret:');
    const st = statSync(out);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.uid).toBe(Number(run('id', ['-u', 'postgres']).stdout.trim()));
  });

  test('writes the mesh user\'s .pgpass with : and \\ escaped', () => {
    const out = join(root, 'pgpass');
    expect(run(PYTHON, [tool, 'pgpass', out, 'postgres', 'mesh', s.meshPassword]).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('*:*:*:mesh:p\\:a\\\\ss\'w"o rd #1\n');
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });

  test('prints role SQL with a SCRAM-SHA-256 verifier of the password (never the password)', () => {
    const out = run(PYTHON, [tool, 'role-sql', 'mesh', s.meshPassword, 'LOGIN', 'SUPERUSER', 'REPLICATION', 'bad;attr']);
    expect(out.code).toBe(0);
    expect(out.stdout).not.toContain(tricky);
    const m = /ALTER ROLE "mesh" WITH LOGIN SUPERUSER REPLICATION PASSWORD 'SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):([^']+)';/.exec(out.stdout);
    expect(m).not.toBeNull();
    const [, iterations, salt, storedKey, serverKey] = m!;
    const salted = pbkdf2Sync(tricky, Buffer.from(salt, 'base64'), Number(iterations), 32, 'sha256');
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    expect(createHash('sha256').update(clientKey).digest('base64')).toBe(storedKey);
    expect(createHmac('sha256', salted).update('Server Key').digest('base64')).toBe(serverKey);
    expect(out.stdout).toMatch(/^SELECT 'CREATE ROLE "mesh"' WHERE NOT EXISTS \(SELECT 1 FROM pg_roles WHERE rolname = 'mesh'\) \\gexec$/m);
  });
});


/** pglogical on Debian 12 with an eu geoshard that group b holds. */
function geoPglogicalFleet(): DistributedPostgresProps {
  return {
    ...pglogicalFleet(),
    geoshards: [{ name: 'eu', nodeGroups: ['b'], tables: [{ table: 'app.entries', partition: 'app.entries_eu', values: ['eu', 'uk west'] }] }],
    replication: { engine: ReplicationEngine.PGLOGICAL, globalTables: ['public.items', 'app.accounts'] },
  };
}

describe('the mesh SQL on PostgreSQL 15 + pglogical 2 (throwaway cluster)', () => {
  const pg = throwawayPostgres('pg', 20000, ['shared_preload_libraries=pglogical', 'wal_level=logical', 'track_commit_timestamp=on']);
  const { root, psql } = pg;

  beforeAll(() => {
    pg.start();
  }, 60_000);

  afterAll(() => pg.stop());

  const topology = topologyOf(geoPglogicalFleet());
  const text = bootCloudConfig(topology, 'rehearse-b-pg1');
  const sqlFile = (name: string) => {
    const path = writeTemp(root, name, meshFileOf(topology, 'rehearse-b-pg1', name));
    chmodSync(path, 0o644);
    return path;
  };

  test('post-bootstrap SQL creates the database once; the output-plugin step is a no-op where the setting does not exist', () => {
    const bootstrap = fileOf(text, '/usr/local/lib/distributed-postgres/post-bootstrap');
    const createDb = bootstrap.slice(bootstrap.indexOf("<<'SQL'\n") + 7, bootstrap.lastIndexOf('SQL\n'));
    for (let i = 0; i < 2; i++) expect(psql('postgres', ['-v', 'ON_ERROR_STOP=1', '-v', 'db=app'], createDb).code).toBe(0);
    expect(psql('postgres', ['-c', "SELECT count(*) FROM pg_database WHERE datname = 'app'"]).stdout.trim()).toBe('1');
    const allow = psql('postgres', ['-v', 'ON_ERROR_STOP=1', '-v', 'plugin=pglogical_output', '-f', sqlFile('allow-output-plugin.sql')]);
    expect(allow.code).toBe(0);
  });

  test('setup.sql is idempotent and picks up tables and partitions once the application creates them', () => {
    const setup = sqlFile('setup.sql');
    for (let i = 0; i < 2; i++) expect(psql('app', ['-f', setup])).toEqual(expect.objectContaining({ code: 0 }));
    expect(psql('app', ['-c', 'SELECT node_name FROM pglogical.node']).stdout.trim()).toBe('b');
    expect(psql('app', ['-c', 'SELECT set_name FROM pglogical.replication_set ORDER BY 1']).stdout.trim().split('\n'))
      .toEqual(['ddl_sql', 'default', 'default_insert_only', 'geo_eu']);
    // The application's schema arrives later.
    expect(psql('app', ['-v', 'ON_ERROR_STOP=1'], [
      'CREATE TABLE public.items (id bigint PRIMARY KEY, v text);',
      'CREATE SCHEMA app;',
      'CREATE TABLE app.accounts (id bigint PRIMARY KEY, balance numeric);',
      'CREATE TABLE app.entries (id bigint, region text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);',
    ].join('\n')).code).toBe(0);
    for (let i = 0; i < 2; i++) expect(psql('app', ['-f', setup]).code).toBe(0);
    const members = psql('app', ['-c', "SELECT s.set_name || ' ' || t.set_reloid::text FROM pglogical.replication_set_table t " +
      'JOIN pglogical.replication_set s USING (set_id) ORDER BY 1']).stdout.trim().split('\n');
    expect(members).toEqual(['default app.accounts', 'default items', 'geo_eu app.entries_eu']);
    expect(psql('app', ['-c', "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE oid = 'app.entries_eu'::regclass"]).stdout.trim())
      .toBe("FOR VALUES IN ('eu', 'uk west')");
  });

  test('a declared table the application creates after setup joins its set in the same transaction (event trigger)', () => {
    // Found by the rehearsal: a row written right after CREATE TABLE, before the next setup run, never replicated.
    const setup = sqlFile('setup.sql');
    expect(psql('app', ['-f', setup]).code).toBe(0);
    const inSet = (table: string) => "SELECT coalesce(string_agg(s.set_name, ','), '-') FROM pglogical.replication_set_table t " +
      `JOIN pglogical.replication_set s USING (set_id) WHERE t.set_reloid = to_regclass('${table}')`;
    const created = psql('app', ['-v', 'ON_ERROR_STOP=1'], [
      // CASCADE: pglogical ties a table in a set to the set.
      'DROP TABLE IF EXISTS public.items CASCADE;',
      'BEGIN;',
      'CREATE TABLE public.items (id bigint PRIMARY KEY, v text);',
      inSet('public.items') + ';',
      'CREATE TABLE public.undeclared (id bigint PRIMARY KEY);',
      inSet('public.undeclared') + ';',
      'COMMIT;',
    ].join('\n'));
    expect(created.stderr).not.toMatch(/ERROR/);
    expect(created.stdout.trim().split('\n')).toEqual(['default', '-']);
    // A geoshard parent the application creates gets this group's partition in the same transaction, in its set:
    // rows of the geography can be written (and replicate) at once, not only after the next setup run.
    const geo = psql('app', ['-v', 'ON_ERROR_STOP=1'], [
      'DROP TABLE app.entries CASCADE;',
      'BEGIN;',
      'CREATE TABLE app.entries (id bigint, region text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);',
      inSet('app.entries_eu') + ';',
      "INSERT INTO app.entries VALUES (1, 'uk west');",
      'COMMIT;',
    ].join('\n'));
    expect(geo.stderr).not.toMatch(/ERROR/);
    expect(geo.stdout.trim()).toBe('geo_eu');
    expect(psql('app', ['-c', "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE oid = 'app.entries_eu'::regclass"]).stdout.trim())
      .toBe("FOR VALUES IN ('eu', 'uk west')");
    // Setup stays idempotent with the trigger in place.
    for (let i = 0; i < 2; i++) expect(psql('app', ['-f', setup]).code).toBe(0);
  });

  test('subscriptions.sql is valid SQL: it fails only on reaching the provider, and verify/down queries run', () => {
    const subs = psql('app', ['-f', sqlFile('subscriptions.sql')]);
    expect(subs.stderr).not.toMatch(/syntax error|does not exist/);
    expect(subs.stderr).toMatch(/could not connect to the postgresql server/);
    expect(psql('app', ['-v', 'ON_ERROR_STOP=1', '-f', sqlFile('verify.sql')]).stdout.trim()).toBe('1');
    expect(psql('app', ['-v', 'ON_ERROR_STOP=1', '-f', sqlFile('down-subscriptions.sql')]).code).toBe(0);
    // The restart statements resolve against pglogical's API (no such subscription here, so pglogical says so).
    const restart = psql('app', ['-v', 'ON_ERROR_STOP=1', '-v', 'sub=sub_b_a', '-f', sqlFile('restart-subscription.sql')]);
    expect(restart.stderr).toMatch(/subscriber sub_b_a not found/);
  });

  test('subscriptions.sql drops this group\'s subscriptions to node groups no longer declared, and only those', async () => {
    // A second database of the same server plays a node group removed from the declaration ('gone').
    expect(psql('postgres', ['-c', 'CREATE DATABASE gone']).code).toBe(0);
    expect(psql('gone', ['-v', 'ON_ERROR_STOP=1', '-c', 'CREATE EXTENSION pglogical',
      '-c', `SELECT pglogical.create_node(node_name := 'gone', dsn := '${pg.dsn('gone')}')`]).code).toBe(0);
    expect(psql('gone', ['-v', 'ON_ERROR_STOP=1', '-c', "SELECT pglogical.create_replication_set('reporting')"]).code).toBe(0);
    const subscribe = (name: string, set = 'default') => psql('app', ['-v', 'ON_ERROR_STOP=1', '-c', `SELECT pglogical.create_subscription(subscription_name := '${name}', ` +
      `provider_dsn := '${pg.dsn('gone')}', replication_sets := ARRAY['${set}'], synchronize_structure := false, synchronize_data := false)`]);
    // pglogical connects to the subscriber's own node DSN too: here the rendered one (a fleet address) is the socket.
    expect(psql('app', ['-v', 'ON_ERROR_STOP=1', '-c', `UPDATE pglogical.node_interface SET if_dsn = '${pg.dsn('app')}'`]).code).toBe(0);
    const made = subscribe('sub_b_gone');
    expect(made).toEqual(expect.objectContaining({ code: 0 }));
    // Not the mesh's (another prefix): left alone.
    expect(subscribe('reporting_feed', 'reporting')).toEqual(expect.objectContaining({ code: 0 }));
    const slotsAtGone = () => pg.value('postgres', "SELECT count(*) FROM pg_replication_slots WHERE database = 'gone'");
    for (let i = 0; i < 100 && slotsAtGone() !== '2'; i++) await new Promise((r) => setTimeout(r, 200));
    expect(slotsAtGone()).toBe('2');
    // verify.sql counts it (so mesh-keeper applies at once): 1 missing (sub_b_a) + 1 undeclared.
    expect(psql('app', ['-v', 'ON_ERROR_STOP=1', '-f', sqlFile('verify.sql')]).stdout.trim()).toBe('2');
    const subs = psql('app', ['-f', sqlFile('subscriptions.sql')]);
    expect(subs.stderr).not.toMatch(/syntax error|does not exist/);
    expect(pg.value('app', 'SELECT string_agg(sub_name, \',\' ORDER BY sub_name) FROM pglogical.subscription')).toBe('reporting_feed');
    // Its slot at the provider (which still answers) and its replication origin went with it.
    expect(slotsAtGone()).toBe('1');
    expect(pg.value('app', "SELECT count(*) FROM pg_replication_origin WHERE roname LIKE '%sub_b_gone%'")).toBe('0');
    expect(psql('app', ['-v', 'ON_ERROR_STOP=1', '-f', sqlFile('verify.sql')]).stdout.trim()).toBe('1');
    expect(psql('app', ['-v', 'ON_ERROR_STOP=1', '-c', "SELECT pglogical.drop_subscription('reporting_feed')"]).code).toBe(0);
  }, 60_000);

  test('problems.sql reports a subscriber slot no one streams from that keeps much WAL, naming its group and what to do', () => {
    expect(pg.value('app', "SELECT count(*) FROM pg_create_logical_replication_slot('pgl_app_b_sub_a_b', 'test_decoding')")).toBe('1');
    const problems = meshFileOf(topology, 'rehearse-b-pg1', 'problems.sql');
    expect(problems).toContain(`> ${RETAINED_WAL_REPORT_BYTES})`);
    // Under the threshold (a fresh slot keeps next to nothing): silent.
    expect(psql('app', ['-v', 'ON_ERROR_STOP=1'], problems)).toEqual(expect.objectContaining({ code: 0, stdout: '' }));
    // Over it (the threshold taken down to -1 byte here rather than writing 256 MB of WAL): one line.
    const out = psql('app', ['-v', 'ON_ERROR_STOP=1'], problems.replace(`> ${RETAINED_WAL_REPORT_BYTES})`, '> -1)'));
    expect(out.stderr).toBe('');
    expect(out.stdout.trim()).toMatch(/^node group a is not streaming from slot pgl_app_b_sub_a_b, which keeps \d+ bytes of WAL here \(wal_status reserved, max_slot_wal_keep_size -1\)\. Gone for good: remove it from the declaration/);
    expect(pg.value('app', "SELECT count(*) FROM (SELECT pg_drop_replication_slot('pgl_app_b_sub_a_b')) d")).toBe('1');
  });

  test('the mesh role SQL from materialize-secrets creates a SCRAM role', () => {
    const secretRoot = tempDir('role');
    fakeSecretCommand(secretRoot, { [topology.secrets.meshPassword]: 'mesh-secret' });
    const tool = writeTemp(secretRoot, 'materialize-secrets', relocate(fileOf(text, '/usr/local/lib/distributed-postgres/materialize-secrets'), secretRoot), 0o700);
    const sql = run(PYTHON, [tool, 'role-sql', 'mesh', topology.secrets.meshPassword, 'LOGIN', 'SUPERUSER', 'REPLICATION']).stdout;
    for (let i = 0; i < 2; i++) expect(psql('postgres', ['-v', 'ON_ERROR_STOP=1'], sql).code).toBe(0);
    expect(psql('postgres', ['-c', "SELECT rolsuper, rolreplication, left(rolpassword, 14) FROM pg_authid WHERE rolname = 'mesh'"]).stdout.trim())
      .toBe('t|t|SCRAM-SHA-256$');
  });
});

describe('the native mesh SQL on PostgreSQL 15 (throwaway cluster)', () => {
  const pg = throwawayPostgres('native', 21000, ['wal_level=logical']);
  beforeAll(() => pg.start(), 60_000);
  afterAll(() => pg.stop());
  const topology = topologyOf(rehearsalNativeFleet());
  const member = topology.nodeGroups[1].members[0].name;

  test('subscriptions.sql drops this group\'s subscriptions to node groups no longer declared without reaching them, and only those', () => {
    const subscriptions = meshFileOf(topology, member, 'subscriptions.sql');
    // The statement that prunes comes before the ones that create (which would try to reach the other group here).
    const prune = subscriptions.slice(0, subscriptions.indexOf('\\gexec') + '\\gexec'.length) + '\n';
    expect(prune).toContain('DROP SUBSCRIPTION');
    expect(pg.psql('postgres', ['-c', 'CREATE DATABASE app']).code).toBe(0);
    // Created without connecting: 'gone' names a node group no longer declared, whose machines no longer answer.
    for (const name of ['sub_b_gone', 'sub_b_a', 'reporting_feed']) {
      expect(pg.psql('app', ['-v', 'ON_ERROR_STOP=1', '-c', `CREATE SUBSCRIPTION ${name} CONNECTION 'host=192.0.2.1 dbname=app connect_timeout=2' ` +
        'PUBLICATION p WITH (connect = false)'])).toEqual(expect.objectContaining({ code: 0 }));
    }
    const out = pg.psql('app', ['-v', 'ON_ERROR_STOP=1'], prune);
    expect(out).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
    expect(pg.value('app', "SELECT string_agg(subname, ',' ORDER BY subname) FROM pg_subscription")).toBe('reporting_feed,sub_b_a');
    for (const name of ['sub_b_a', 'reporting_feed']) {
      expect(pg.psql('app', ['-c', `ALTER SUBSCRIPTION ${name} SET (slot_name = NONE)`, '-c', `DROP SUBSCRIPTION ${name}`]).code).toBe(0);
    }
  });
});

/**
 * Spock is not installed here (it needs PostgreSQL built with its patches), so its catalog is stood in for by plain
 * tables and a `repset_add_table` that records the call: enough to run the rendered event trigger, delta-apply setup
 * and problems query on a real PostgreSQL 15. Stock PostgreSQL rejects Spock's column options (`log_old_value`), so a
 * NOT NULL column shows that the trigger sets them in the creating transaction by that very error.
 */
describe('the Spock delta-apply SQL on PostgreSQL 15 with a stand-in spock catalog', () => {
  const pg = throwawayPostgres('pg-spock', 30000);
  const psql = (args: string[], input?: string) => pg.psql('postgres', args, input);
  const spock = topologyOf(rehearsalSpockFleet());
  const setup = meshFileOf(spock, 'rh-spock-a-pg1', 'setup.sql');
  // From the event trigger on: the extension and node statements need the real Spock. (Shipped SQL has no comment lines.)
  const triggerAndDelta = setup.slice(setup.indexOf('CREATE SCHEMA IF NOT EXISTS distributed_postgres;'));
  const problems = meshFileOf(spock, 'rh-spock-a-pg1', 'problems.sql');

  beforeAll(() => {
    pg.start();
    expect(psql(['-v', 'ON_ERROR_STOP=1'], [
      'CREATE SCHEMA spock;',
      'CREATE TABLE spock.local_node (node_id int);',
      'INSERT INTO spock.local_node VALUES (1);',
      'CREATE TABLE spock.replication_set (set_id int, set_nodeid int, set_name name);',
      "INSERT INTO spock.replication_set VALUES (10, 1, 'default'), (11, 1, 'geo_eu');",
      'CREATE TABLE spock.replication_set_table (set_id int, set_reloid regclass);',
      'CREATE FUNCTION spock.repset_add_table(set_name name, relation regclass, synchronize_data boolean) RETURNS boolean LANGUAGE sql AS',
      "  $$ INSERT INTO spock.replication_set_table SELECT set_id, relation FROM spock.replication_set WHERE replication_set.set_name = $1 RETURNING true $$;",
    ].join('\n')).code).toBe(0);
    expect(psql(['-v', 'ON_ERROR_STOP=1'], triggerAndDelta)).toEqual(expect.objectContaining({ code: 0 }));
  }, 60_000);

  afterAll(() => pg.stop());

  test('a nullable delta-apply column: the table still joins its set, with a warning naming the fix; problems.sql reports it', () => {
    const created = psql(['-v', 'ON_ERROR_STOP=1'], 'CREATE TABLE public.accounts (id bigint PRIMARY KEY, balance numeric);');
    expect(created.code).toBe(0);
    expect(created.stderr).toContain('WARNING:  distributed-postgres: delta-apply column public.accounts.balance is nullable; ' +
      'Spock applies deltas only to NOT NULL columns');
    expect(created.stderr).toContain('Fix: ALTER TABLE public.accounts ALTER COLUMN balance SET NOT NULL');
    expect(psql(['-c', "SELECT count(*) FROM spock.replication_set_table WHERE set_reloid = 'public.accounts'::regclass"]).stdout.trim()).toBe('1');
    expect(psql(['-v', 'ON_ERROR_STOP=1'], problems).stdout.trim())
      .toBe('delta-apply column "public"."accounts".balance is nullable; Spock applies deltas only to NOT NULL columns, ' +
        'so conflicting updates of it resolve as last-update-wins. Fix: ALTER TABLE "public"."accounts" ALTER COLUMN balance SET NOT NULL ' +
        '(the next mesh run, or the next CREATE TABLE, sets delta apply)');
    // The setup's own delta-apply statement warns the same way and leaves the column alone.
    const again = psql(['-v', 'ON_ERROR_STOP=1'], setup.slice(setup.indexOf('DO $dpg$ BEGIN\n  IF EXISTS (SELECT 1 FROM pg_attribute')));
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('delta-apply column accounts.balance is nullable');
  });

  test('a NOT NULL delta-apply column gets Spock\'s options in the transaction that creates its table', () => {
    psql(['-c', 'DROP TABLE public.accounts']);
    const created = psql(['-v', 'ON_ERROR_STOP=1'], 'CREATE TABLE public.accounts (id bigint PRIMARY KEY, balance numeric NOT NULL);');
    // Stock PostgreSQL does not know Spock's column option: the error proves the trigger ran the ALTER in that transaction.
    expect(created.stderr).toMatch(/unrecognized parameter "log_old_value"/);
    expect(psql(['-c', "SELECT to_regclass('public.accounts') IS NULL"]).stdout.trim()).toBe('t');
    // A table that is not declared is left alone.
    expect(psql(['-v', 'ON_ERROR_STOP=1'], 'CREATE TABLE public.ledger_notes (id bigint PRIMARY KEY, balance numeric NOT NULL);').code).toBe(0);
  });
});


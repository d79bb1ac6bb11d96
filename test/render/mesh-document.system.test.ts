/**
 * mesh-sync, the Python each member runs to take its group's mesh document from the secret store, run for real with a
 * stand-in secret backend (system test: Debian's python3).
 */
import { createHash } from 'crypto';
import { ChildProcess, spawn } from 'child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { join } from 'path';
import { MESH_QUERIES_FILE, meshDocument, meshDocumentFiles, meshDocumentMetrics, meshDocumentPatroni } from '../../lib/render/mesh-document';
import { FILES } from '../../lib/render/paths';
import { gzipDeterministic } from '../../lib/render/gzip';
import { pglogicalFleet } from '../fixtures/fleets';
import { fileOf, meshDocumentFilesOf, run, tempDir, topologyOf, writeTemp, bootCloudConfig } from './helpers';

const PYTHON = '/usr/bin/python3';

describe('mesh-sync with a stand-in secret backend', () => {
  const topology = topologyOf(pglogicalFleet());
  const group = topology.nodeGroups[1];
  const root = tempDir('mesh-sync');
  const mesh = join(root, 'mesh');
  const stored = join(root, 'stored');
  const backend = writeTemp(root, 'secret-backend', `#!/bin/bash\n[ "$1" = ${JSON.stringify(group.meshDocument)} ] || exit 3\n` +
    `[ -f ${stored} ] || exit 1\ncat ${stored}\n`, 0o755);
  const script = writeTemp(root, 'mesh-sync', fileOf(bootCloudConfig(topology, group.members[0].name), FILES.meshSync)
    .split(JSON.stringify(FILES.meshDir)).join(JSON.stringify(mesh))
    .split(JSON.stringify(FILES.secretBackend)).join(JSON.stringify(backend)), 0o755);
  const sync = () => run(PYTHON, [script]);
  const listing = () => readdirSync(mesh).filter((f) => !f.startsWith('.')).sort();

  test('writes the files and the generation once; a second run changes nothing', () => {
    const doc = meshDocument(topology, group);
    writeFileSync(stored, doc.value);
    const first = sync();
    expect(first).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
    expect(first.stdout).toContain(`generation ${doc.generation}`);
    const files = meshDocumentFiles(topology, group);
    for (const [name, text] of Object.entries(files)) expect(readFileSync(join(mesh, name), 'utf8')).toBe(text);
    // Patroni's part as the file materialize-secrets and `mesh-sync dcs` read (and the policy pack shows).
    expect(readFileSync(join(mesh, 'patroni.json'), 'utf8')).toBe(meshDocumentFilesOf(doc.value)['patroni.json']);
    expect(JSON.parse(readFileSync(join(mesh, 'patroni.json'), 'utf8'))).toEqual(meshDocumentPatroni(topology, group));
    expect(readFileSync(join(mesh, 'generation'), 'utf8').trim()).toBe(doc.generation);
    expect(sync()).toEqual(expect.objectContaining({ code: 0, stdout: '' }));
  });

  test('a new generation replaces the files and removes the ones it no longer has; files not its own stay', () => {
    // A file an earlier generation had (here the one native's documents carry), which this one no longer has.
    writeFileSync(join(mesh, 'failover-slots.sql'), 'SELECT 1;\n');
    writeFileSync(join(mesh, 'document-files'), 'down-subscriptions.sql\nfailover-slots.sql\nproblems.sql\nsetup.sql\nsubscriptions.sql\nverify.sql\n');
    writeFileSync(join(mesh, 'resume-marks.sql'), 'kept\n');
    const props = pglogicalFleet();
    const changed = topologyOf({ ...props, replication: { ...props.replication!, globalTables: [...props.replication!.globalTables!, 'app.more'] } });
    const doc = meshDocument(changed, changed.nodeGroups[1]);
    writeFileSync(stored, doc.value);
    expect(sync().stdout).toContain(`generation ${doc.generation}`);
    expect(listing()).toEqual(['anti-entropy.sql', 'document-files', 'down-subscriptions.sql', 'generation', 'join-copy-1.sql', 'join.sql', 'patroni.json',
      MESH_QUERIES_FILE, 'problems.sql', 'resume-marks.sql', 'resync-prepare.sql', 'resync-record.sql', 'resync.sql', 'setup.sql', 'subscriptions.sql', 'verify.sql']);
    expect(readFileSync(join(mesh, 'setup.sql'), 'utf8')).toContain('"app"."more"');
  });

  test('a document that does not check out, or no document, leaves the files as they are and fails', () => {
    const before = Object.fromEntries(listing().map((f) => [f, readFileSync(join(mesh, f), 'utf8')]));
    const good = JSON.parse(meshDocument(topology, group).value) as Record<string, string>;
    for (const bad of [
      JSON.stringify({ ...good, generation: '0000000000000000' }),
      JSON.stringify({ ...good, format: 'dpg-mesh/99' }),
      JSON.stringify({ ...good, gzip: 'not base64!' }),
      '[1, 2]',
      'not json',
    ]) {
      writeFileSync(stored, bad);
      const out = sync();
      expect(out.code).toBe(1);
      expect(out.stderr).toMatch(new RegExp(`^mesh-sync: ${group.meshDocument}: `));
    }
    writeFileSync(stored, '');
    run('rm', ['-f', stored]);
    expect(sync()).toEqual(expect.objectContaining({ code: 1, stderr: `mesh-sync: ${group.meshDocument}: not readable (CalledProcessError)\n` }));
    expect(Object.fromEntries(listing().map((f) => [f, readFileSync(join(mesh, f), 'utf8')]))).toEqual(before);
  });

  test('a document without Patroni\'s part (written by an earlier version) is taken, and patroni.json goes with the rest', () => {
    const body = gzipDeterministic(JSON.stringify({ files: meshDocumentFiles(topology, group) }));
    const generation = createHash('sha256').update(body).digest('hex').slice(0, 16);
    writeFileSync(stored, JSON.stringify({ format: 'dpg-mesh/1', generation, gzip: body.toString('base64') }));
    expect(sync()).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
    expect(listing()).not.toContain('patroni.json');
    // And `mesh-sync dcs` then has nothing to keep: it leaves Patroni alone.
    expect(run(PYTHON, [script, 'dcs'])).toEqual(expect.objectContaining({ code: 0, stdout: '', stderr: '' }));
  });

  test('the metrics part: postgres_exporter\'s queries written with the rest; a document without it (monitoring off) removes them', () => {
    const doc = meshDocument(topology, group);
    writeFileSync(stored, doc.value);
    expect(sync()).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
    expect(readFileSync(join(mesh, MESH_QUERIES_FILE), 'utf8')).toBe(meshDocumentMetrics(topology, group)!.postgres_exporter_queries);
    const off = topologyOf({ ...pglogicalFleet(), monitoring: { enabled: false } });
    expect(meshDocumentMetrics(off, off.nodeGroups[1])).toBeUndefined();
    writeFileSync(stored, meshDocument(off, off.nodeGroups[1]).value);
    expect(sync()).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
    expect(listing()).not.toContain(MESH_QUERIES_FILE);
  });

  test('a member whose mesh-sync predates the metrics part takes a document that has it (the rest of it; no queries)', () => {
    // mesh-sync as it was before the metrics part: it reads `files` and `patroni` only.
    const before = readFileSync(script, 'utf8')
      .replace('files, patroni, metrics = content["files"], content.get("patroni"), content.get("metrics")', 'files, patroni = content["files"], content.get("patroni")')
      .split('\n').filter((l) => !/metrics|postgres-exporter-queries/.test(l)).join('\n');
    expect(before).not.toContain('metrics');
    const old = writeTemp(root, 'mesh-sync-before-metrics', before, 0o755);
    const other = topologyOf({ ...pglogicalFleet(), replication: { ...pglogicalFleet().replication!, globalTables: ['public.items', 'app.older'] } });
    writeFileSync(stored, meshDocument(other, other.nodeGroups[1]).value);
    rmSync(join(mesh, MESH_QUERIES_FILE), { force: true });
    expect(run(PYTHON, [old])).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
    expect(readFileSync(join(mesh, 'setup.sql'), 'utf8')).toContain('"app"."older"');
    expect(listing()).not.toContain(MESH_QUERIES_FILE);
  });

  test('a file name outside the mesh directory is refused', () => {
    const body = gzipDeterministic(JSON.stringify({ files: { '../escape.sql': 'x' } }));
    const generation = createHash('sha256').update(body).digest('hex').slice(0, 16);
    writeFileSync(stored, JSON.stringify({ format: 'dpg-mesh/1', generation, gzip: body.toString('base64') }));
    const out = sync();
    expect(out.code).toBe(1);
    expect(out.stderr).toContain("unexpected file name '../escape.sql'");
    expect(existsSync(join(root, 'escape.sql'))).toBe(false);
  });
});

/**
 * `mesh-sync dcs` against Debian's real patronictl and etcd (plain HTTP here: the TLS between Patroni and etcd is
 * checked in scripts.system.test.ts and by the rehearsal). The group's dynamic configuration is seeded as Patroni
 * stores it (JSON at /service/<scope>/config); no Patroni daemon is needed for patronictl's show-config/edit-config.
 */
describe('mesh-sync dcs with patronictl and etcd', () => {
  const topology = topologyOf(pglogicalFleet());
  const group = topology.nodeGroups[0];
  const root = tempDir('mesh-dcs');
  const mesh = join(root, 'mesh');
  // Below Linux's ephemeral range and apart from the etcd-join (20000-25999) and scripts (26000-29999) tests.
  const client = 30000 + (process.pid % 1000) * 2;
  const peer = client + 1;
  const key = `/service/${group.patroniScope}/config`;
  const etcdctl = (...args: string[]) => run('etcdctl', [`--endpoints=http://127.0.0.1:${client}`, '--dial-timeout=2s', '--command-timeout=5s', ...args],
    { env: { ...process.env, ETCDCTL_API: '3' } });
  const patroniConfig = writeTemp(root, 'patroni.yml', [
    `scope: ${group.patroniScope}`, 'namespace: /service/', `name: ${group.members[0].name}`,
    'etcd3:', `  hosts: 127.0.0.1:${client}`, '  protocol: http', '',
  ].join('\n'));
  const script = writeTemp(root, 'mesh-sync', fileOf(bootCloudConfig(topology, group.members[0].name), FILES.meshSync)
    .split(JSON.stringify(FILES.meshDir)).join(JSON.stringify(mesh))
    .split(JSON.stringify(FILES.patroniConfig)).join(JSON.stringify(patroniConfig)), 0o755);
  const dcs = () => run(PYTHON, [script, 'dcs']);
  const stored = (): Record<string, any> => JSON.parse(etcdctl('get', key, '--print-value-only').stdout);
  const revision = (): number => Number(JSON.parse(etcdctl('get', key, '-w', 'json').stdout).kvs[0].mod_revision);
  const want = meshDocumentPatroni(topology, group);
  let etcd: ChildProcess | undefined;

  beforeAll(async () => {
    etcd = spawn('/usr/bin/etcd', ['--name', 'dcs-test', '--data-dir', join(root, 'etcd-data'),
      '--listen-client-urls', `http://127.0.0.1:${client}`, '--advertise-client-urls', `http://127.0.0.1:${client}`,
      '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
      '--initial-cluster', `dcs-test=http://127.0.0.1:${peer}`], { stdio: 'ignore' });
    for (let i = 0; i < 100 && etcdctl('endpoint', 'health').code !== 0; i++) await new Promise((r) => setTimeout(r, 200));
    mkdirSync(mesh, { recursive: true });
    writeFileSync(join(mesh, 'patroni.json'), JSON.stringify(want, null, 1));
  }, 30_000);

  afterAll(() => etcd?.kill('SIGKILL'));

  test('brings slots, pg_hba and the archive parameters to the document\'s, keeps every other setting, and writes nothing when they agree', () => {
    expect(Object.keys(want.slots).length).toBeGreaterThan(0);
    expect(want.parameters).toEqual({ archive_mode: 'on', archive_command: `pgbackrest --stanza=${group.name} archive-push %p`, archive_timeout: 60 });
    const before = {
      ttl: 30, loop_wait: 10, synchronous_mode: true,
      postgresql: { use_slots: true, parameters: { wal_level: 'logical' }, pg_hba: ['local all postgres peer'] },
      slots: { gone_group_slot: { type: 'logical', database: 'app', plugin: 'pglogical_output' } },
    };
    expect(etcdctl('put', key, JSON.stringify(before)).code).toBe(0);
    const first = dcs();
    expect(first).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
    expect(first.stdout.trim()).toBe('Patroni\'s dynamic configuration: slots and postgresql.pg_hba and postgresql.parameters.archive_command and ' +
      'postgresql.parameters.archive_mode and postgresql.parameters.archive_timeout as in the mesh document; archive_mode takes effect when the members restart (patronictl restart)');
    const after = stored();
    expect(after.slots).toEqual(want.slots);
    expect(after.postgresql.pg_hba).toEqual(want.pg_hba);
    expect(after.postgresql.parameters).toEqual({ wal_level: 'logical', ...want.parameters });
    expect({ ...after, slots: undefined, postgresql: { ...after.postgresql, pg_hba: undefined, parameters: undefined } })
      .toEqual({ ...before, slots: undefined, postgresql: { ...before.postgresql, pg_hba: undefined, parameters: undefined } });
    const at = revision();
    expect(dcs()).toEqual(expect.objectContaining({ code: 0, stdout: '', stderr: '' }));
    expect(revision()).toBe(at);
  });

  test('a group no one subscribes to any more: its slots leave the configuration', () => {
    writeFileSync(join(mesh, 'patroni.json'), JSON.stringify({ ...want, slots: {} }, null, 1));
    expect(dcs().stdout.trim()).toBe('Patroni\'s dynamic configuration: slots as in the mesh document');
    expect(stored()).not.toHaveProperty('slots');
    expect(stored().postgresql.pg_hba).toEqual(want.pg_hba);
    writeFileSync(join(mesh, 'patroni.json'), JSON.stringify(want, null, 1));
  });

  test('a new archive timeout reaches the running group alone; backups turned off set archive_mode off', () => {
    expect(dcs().code).toBe(0); // back to the document after the test before
    writeFileSync(join(mesh, 'patroni.json'), JSON.stringify({ ...want, parameters: { ...want.parameters, archive_timeout: 300 } }, null, 1));
    expect(dcs().stdout.trim()).toBe('Patroni\'s dynamic configuration: postgresql.parameters.archive_timeout as in the mesh document');
    expect(stored().postgresql.parameters.archive_timeout).toBe(300);
    writeFileSync(join(mesh, 'patroni.json'), JSON.stringify({ ...want, parameters: { archive_mode: 'off' } }, null, 1));
    expect(dcs().stdout.trim()).toMatch(/^Patroni's dynamic configuration: postgresql\.parameters\.archive_mode as in the mesh document; archive_mode takes effect/);
    expect(stored().postgresql.parameters.archive_mode).toBe('off');
    writeFileSync(join(mesh, 'patroni.json'), JSON.stringify(want, null, 1));
    expect(dcs().stdout.trim()).toBe('Patroni\'s dynamic configuration: postgresql.parameters.archive_mode and postgresql.parameters.archive_timeout as in the mesh document; ' +
      'archive_mode takes effect when the members restart (patronictl restart)');
  });

  test('no DCS to read: fails saying so, and changes nothing', () => {
    etcd?.kill('SIGKILL');
    const out = dcs();
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`mesh-sync: ${group.meshDocument}: Patroni's dynamic configuration not readable`);
  }, 120_000);
});

/**
 * The mesh document (a group's mesh SQL outside the user-data) and `mesh-sync`, the real script run with Python
 * against a stand-in secret backend (a shell script printing the stored value), in a temp directory.
 */
import { createHash } from 'crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { Cloud, DistributedPostgresProps, ReplicationEngine } from '../../lib';
import { renderCloudConfig } from '../../lib/render';
import { meshDocument, meshDocumentFiles } from '../../lib/render/mesh-document';
import { FILES } from '../../lib/render/paths';
import { gzipDeterministic } from '../../lib/render/gzip';
import { ledgerFleet, pglogicalFleet } from '../fixtures/fleets';
import { rehearsalNativeFleet } from '../../stacks/rehearsal-native';
import { fileOf, meshDocumentFilesOf, parseCloudConfig, run, tempDir, topologyOf, writeTemp } from './helpers';

const PYTHON = '/usr/bin/python3';
const hasPython = existsSync(PYTHON);

/** `count` AWS node groups over four regions, pglogical: a big mesh. */
function manyGroups(count: number): DistributedPostgresProps {
  const regions = ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-1'];
  return {
    name: 'big',
    nodeGroups: Array.from({ length: count }, (_, i) => ({ name: `g${i + 1}`, cloud: Cloud.AWS, region: regions[i % regions.length] })),
    replication: { engine: ReplicationEngine.PGLOGICAL, globalTables: ['public.items', 'app.accounts'] },
  };
}

describe('the mesh document', () => {
  const topology = topologyOf(ledgerFleet());
  const group = topology.nodeGroups[0];

  test('holds the group\'s mesh SQL, which the user-data no longer carries; the user-data names the document', () => {
    const member = group.members[0].name;
    const text = renderCloudConfig(topology, member);
    const paths = parseCloudConfig(text).write_files.map((f) => f.path);
    for (const name of ['setup.sql', 'subscriptions.sql', 'verify.sql']) {
      expect(paths).not.toContain(`${FILES.meshDir}/${name}`);
      expect(meshDocumentFilesOf(meshDocument(topology, group).value)[name]).toBe(meshDocumentFiles(topology, group)[name]);
    }
    expect(fileOf(text, FILES.meshSync)).toContain(`NAME, DIR, BACKEND = ${JSON.stringify(group.meshDocument)}, `);
    expect(group.meshDocument).toBe(`${topology.fleetName}-mesh-${group.name}`);
  });

  test('native on PostgreSQL 17: it names the subscribers\' slots whose failover flag mesh-keeper keeps set', () => {
    const native = topologyOf(rehearsalNativeFleet());
    const a = native.nodeGroups.find((g) => g.name === 'a')!;
    const sql = meshDocumentFilesOf(meshDocument(native, a).value)['failover-slots.sql'];
    expect(sql).toContain("NOT s.failover AND s.slot_name = ANY (ARRAY['sub_b_a']::text[])");
    expect(meshDocumentFiles(topologyOf(pglogicalFleet()), topologyOf(pglogicalFleet()).nodeGroups[0])['failover-slots.sql']).toBeUndefined();
    // The replication-protocol command runs over the local socket as the superuser.
    expect(fileOf(renderCloudConfig(native, a.members[0].name), FILES.patroniTemplate)).toContain('local replication postgres peer');
  });

  test('is deterministic, and its generation changes when the group\'s mesh does', () => {
    expect(meshDocument(topologyOf(ledgerFleet()), group).value).toBe(meshDocument(topology, group).value);
    const props = ledgerFleet();
    const more = topologyOf({ ...props, replication: { ...props.replication, globalTables: [...(props.replication?.globalTables ?? []), 'app.more'] } });
    expect(meshDocument(more, more.nodeGroups[0]).generation).not.toBe(meshDocument(topology, group).generation);
  });

  test('stays within the secret stores\' 64 KiB at 100 node groups, and no mesh SQL in the user-data grows with the mesh', () => {
    const big = topologyOf(manyGroups(100));
    const two = topologyOf(manyGroups(2));
    const largest = Math.max(...big.nodeGroups.map((g) => Buffer.byteLength(meshDocument(big, g).value)));
    expect(largest).toBeLessThan(64 * 1024);
    const files = (t: typeof big) => Object.fromEntries(parseCloudConfig(renderCloudConfig(t, t.nodeGroups[1].members[0].name)).write_files
      .map((f) => [f.path, f.content.length]));
    const grown = Object.entries(files(big)).filter(([path, length]) => length !== files(two)[path]).map(([path]) => path);
    // Still in the user-data and growing with the mesh: Patroni's permanent slots (one per subscriber group), which
    // Patroni takes from its bootstrap configuration (moving them to the document is the next step).
    expect(grown).toEqual([FILES.patroniTemplate]);
  });
});

(hasPython ? describe : describe.skip)('mesh-sync with a stand-in secret backend', () => {
  const topology = topologyOf(pglogicalFleet());
  const group = topology.nodeGroups[1];
  const root = tempDir('mesh-sync');
  const mesh = join(root, 'mesh');
  const stored = join(root, 'stored');
  const backend = writeTemp(root, 'secret-backend', `#!/bin/bash\n[ "$1" = ${JSON.stringify(group.meshDocument)} ] || exit 3\n` +
    `[ -f ${stored} ] || exit 1\ncat ${stored}\n`, 0o755);
  const script = writeTemp(root, 'mesh-sync', fileOf(renderCloudConfig(topology, group.members[0].name), FILES.meshSync)
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
    expect(readFileSync(join(mesh, 'generation'), 'utf8').trim()).toBe(doc.generation);
    expect(sync()).toEqual(expect.objectContaining({ code: 0, stdout: '' }));
  });

  test('a new generation replaces the files and removes the ones it no longer has; files not its own stay', () => {
    writeFileSync(join(mesh, 'problems.sql'), 'SELECT 1;\n');
    writeFileSync(join(mesh, 'document-files'), 'down-subscriptions.sql\nproblems.sql\nsetup.sql\nsubscriptions.sql\nverify.sql\n');
    writeFileSync(join(mesh, 'resume-marks.sql'), 'kept\n');
    const props = pglogicalFleet();
    const changed = topologyOf({ ...props, replication: { ...props.replication!, globalTables: [...props.replication!.globalTables!, 'app.more'] } });
    const doc = meshDocument(changed, changed.nodeGroups[1]);
    writeFileSync(stored, doc.value);
    expect(sync().stdout).toContain(`generation ${doc.generation}`);
    expect(listing()).toEqual(['document-files', 'down-subscriptions.sql', 'generation', 'resume-marks.sql', 'setup.sql', 'subscriptions.sql', 'verify.sql']);
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

/**
 * mesh-sync, the Python each member runs to take its group's mesh document from the secret store, run for real with a
 * stand-in secret backend (system test: Debian's python3).
 */
import { createHash } from 'crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { renderCloudConfig } from '../../lib/render';
import { meshDocument, meshDocumentFiles } from '../../lib/render/mesh-document';
import { FILES } from '../../lib/render/paths';
import { gzipDeterministic } from '../../lib/render/gzip';
import { pglogicalFleet } from '../fixtures/fleets';
import { fileOf, run, tempDir, topologyOf, writeTemp } from './helpers';

const PYTHON = '/usr/bin/python3';

describe('mesh-sync with a stand-in secret backend', () => {
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

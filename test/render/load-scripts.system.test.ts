/**
 * load-scripts, run for real with Debian's python3 (system tests): it writes a machine's part of its group's scripts
 * document (by `when`, with each file's permissions) once the stored document holds the SHA-256 the user-data pins,
 * records the stamp and is then done at every later run, and waits (writing nothing) while the store holds other
 * scripts, e.g. a deploy that has not stored them yet. The loader and the document are the renderer's; only their
 * absolute paths are moved under a temporary root.
 */
import { spawnSync } from 'child_process';
import { existsSync, readFileSync, statSync } from 'fs';
import { join } from 'path';
import { groupScriptsDocument, scriptsDocumentFiles } from '../../lib/render/cloud-config';
import { machineNamed } from '../../lib/render/machine';
import { FILES } from '../../lib/render/paths';
import { loadScriptsScript, SCRIPTS_STAMP, ScriptsFile, scriptsDocumentOf } from '../../lib/render/scripts-document';
import { ledgerFleet } from '../fixtures/fleets';
import { EtcdPlacement } from '../../lib';
import { machinesOf, renderCloudConfig } from '../../lib/render';
import { fileOf, tempDir, topologyOf, writeTemp } from './helpers';

const topology = topologyOf({ ...ledgerFleet(), etcd: { placement: EtcdPlacement.DEDICATED } });
const group = topology.nodeGroups[0];

/** The loader of `machine` with its paths under `root`, reading the store through a backend that prints `stored`. */
function loaderUnder(root: string, machineName: string, sha256: string, stored: string): string {
  writeTemp(root, 'stored.json', stored);
  writeTemp(root, 'backend', `#!/bin/sh\ncat ${root}/stored.json\n`, 0o700);
  const text = loadScriptsScript(machineNamed(topology, machineName), group, sha256)
    .split(JSON.stringify(FILES.secretBackend)).join(JSON.stringify(`${root}/backend`))
    .split(FILES.stateDir).join(`${root}/state`)
    .split(FILES.bootstrapLog).join(`${root}/bootstrap.log`)
    .split('["systemctl", "daemon-reload"]').join('["true"]');
  return writeTemp(root, 'load-scripts', text, 0o700);
}

/** The group's files with their paths under `root` (what the document would write there). */
function filesUnder(root: string): ScriptsFile[] {
  return scriptsDocumentFiles(topology, group).map((f) => ({ ...f, path: `${root}/fs${f.path}` }));
}

function runLoader(path: string, timeoutMs = 30_000): { code: number | null; out: string } {
  const r = spawnSync('/usr/bin/python3', [path], { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

test('writes the machine\'s part of the pinned document with its permissions, once', () => {
  for (const [machine, wanted] of [['ledger-use1-pg1', ['always', 'postgres']], ['ledger-use1-etcd1', ['always', 'etcd']]] as const) {
    const root = tempDir('load-scripts');
    const files = filesUnder(root);
    const document = scriptsDocumentOf(files, group.scriptsDocument);
    const loader = loaderUnder(root, machine, document.sha256, document.value);
    const first = runLoader(loader);
    expect(first).toEqual({ code: 0, out: expect.stringMatching(/the scripts document ledger-scripts-use1: \d+ files written/) });
    for (const f of files) {
      expect({ path: f.path, written: existsSync(f.path) }).toEqual({ path: f.path, written: wanted.includes(f.when as never) });
      if (!existsSync(f.path)) continue;
      expect(readFileSync(f.path, 'utf8')).toBe(f.content);
      expect((statSync(f.path).mode & 0o777).toString(8)).toBe(f.permissions.slice(1));
    }
    expect(readFileSync(`${root}/state/${SCRIPTS_STAMP.split('/').pop()}`, 'utf8')).toBe(`${document.sha256}\n`);
    // Every later run (a reboot, a retried bootstrap) finds the stamp and reads nothing: not even a broken store.
    writeTemp(root, 'backend', '#!/bin/sh\nexit 1\n', 0o700);
    expect(runLoader(loader)).toEqual({ code: 0, out: '' });
  }
});

test('waits, writing nothing, while the store holds other scripts than the user-data pins', () => {
  const root = tempDir('load-scripts');
  const files = filesUnder(root);
  const stored = scriptsDocumentOf(files.slice(1), group.scriptsDocument);
  const pinned = scriptsDocumentOf(files, group.scriptsDocument);
  const loader = loaderUnder(root, 'ledger-use1-pg1', pinned.sha256, stored.value);
  const r = runLoader(loader, 4000);
  expect(r.code).toBeNull();
  expect(readFileSync(join(root, 'bootstrap.log'), 'utf8'))
    .toContain(`holds scripts ${stored.sha256.slice(0, 16)}, this machine's user-data pins ${pinned.sha256.slice(0, 16)}`);
  expect(readFileSync(join(root, 'state', 'bootstrap.status'), 'utf8')).toMatch(/^state=running\nstep=the scripts document ledger-scripts-use1\n/);
  expect(files.filter((f) => existsSync(f.path))).toEqual([]);
});

test('every machine\'s user-data pins its group\'s stored document and names it', () => {
  for (const m of machinesOf(topology)) {
    const g = topology.nodeGroups.find((x) => x.name === m.nodeGroup)!;
    const stored = JSON.parse(groupScriptsDocument(topology, g).value) as { sha256: string };
    const loader = fileOf(renderCloudConfig(topology, m.name), FILES.loadScripts);
    expect(loader).toMatch(new RegExp(`^NAME, SHA256, BACKEND = "${g.scriptsDocument}", "${stored.sha256}", `, 'm'));
  }
});

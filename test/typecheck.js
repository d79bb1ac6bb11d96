/**
 * `npm test`'s type check (jest only transpiles): the library's program and the rehearsal workspace's as one
 * (tsconfig.check.json), so the library files the rehearsal imports are checked once: on a fresh clone 5 s instead of
 * 7 s for the two programs side by side (13 s of CPU down to 8). Exits non-zero on any error.
 *
 * Incremental, as jest's transform cache is: the program's build info (file hashes, and the errors of each file) is
 * kept under the system temp directory, per checkout, so a run re-checks only the files that changed and those that
 * depend on them (warm and unchanged: about 2-3 s; a fresh clone checks everything). Errors found before are reported
 * again while their files stay as they are. DPG_TYPECHECK_FRESH=1 ignores the cache.
 *
 * The rehearsal's own tsconfig.json (its workspace's `typecheck`) and tsconfig.build.json (CI's build of it) still
 * check it alone, with its own options.
 */
const { spawnSync } = require('child_process');
const { createHash } = require('crypto');
const { mkdirSync, rmSync } = require('fs');
const { tmpdir } = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const cacheDir = path.join(tmpdir(), `dpg-typecheck-${createHash('sha256').update(root).digest('hex').slice(0, 12)}`);
if (process.env.DPG_TYPECHECK_FRESH === '1') rmSync(cacheDir, { recursive: true, force: true });
mkdirSync(cacheDir, { recursive: true });
const project = 'tsconfig.check.json';
const result = spawnSync(process.execPath, [tsc, '-p', project, '--incremental', '--tsBuildInfoFile', path.join(cacheDir, 'check.tsbuildinfo')],
  { cwd: root, encoding: 'utf8' });
if (result.status !== 0) process.stderr.write(`tsc -p ${project}: exit ${result.status ?? result.signal}\n${result.stdout}${result.stderr}`);
process.exitCode = result.status === 0 ? 0 : 1;

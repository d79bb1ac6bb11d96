/**
 * `npm test`'s type check (jest only transpiles): the library's program and the rehearsal workspace's, side by side
 * (two cores: about the time of the larger one instead of the sum). Exits non-zero when either finds an error.
 */
const { spawn } = require('child_process');
const path = require('path');

const root = path.resolve(__dirname, '..');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const runs = ['tsconfig.json', 'tools/rehearsal/tsconfig.json'].map((project) => new Promise((resolve) => {
  const child = spawn(process.execPath, [tsc, '-p', project, '--noEmit'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  child.on('close', (code) => resolve({ project, code, out }));
}));
Promise.all(runs).then((results) => {
  for (const r of results) if (r.code !== 0) process.stderr.write(`tsc -p ${r.project} --noEmit: exit ${r.code}\n${r.out}`);
  process.exitCode = results.some((r) => r.code !== 0) ? 1 : 0;
});

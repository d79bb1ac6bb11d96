/**
 * What `npm pack` ships: the compiled library (dist/lib, without the rehearsal), README, LICENSE and package.json;
 * never tests, benchmarks, stacks, examples, sources or the rehearsal harness.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../..');
const TOP_LEVEL = ['LICENSE', 'README.md', 'package.json'];

/** The file list `npm pack --dry-run` reports for the package in `dir` (scripts off: no build runs). */
function packedFiles(dir: string): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  return (JSON.parse(out)[0].files as { path: string }[]).map((f) => f.path).sort();
}

function isShipped(file: string): boolean {
  return TOP_LEVEL.includes(file) || (/^dist\/lib\/.+\.(js|d\.ts)$/.test(file) && !file.startsWith('dist/lib/rehearsal/'));
}

test('package.json exports the root and ./pipeline, both built from lib/', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  expect(pkg.exports).toEqual({
    '.': { types: './dist/lib/index.d.ts', default: './dist/lib/index.js' },
    './pipeline': { types: './dist/lib/pipeline/index.d.ts', default: './dist/lib/pipeline/index.js' },
    './package.json': './package.json',
  });
  expect(fs.existsSync(path.join(ROOT, 'lib/index.ts'))).toBe(true);
  expect(fs.existsSync(path.join(ROOT, 'lib/pipeline/index.ts'))).toBe(true);
  // The rehearsal harness is not the package's program.
  expect(pkg.bin).toBeUndefined();
  expect(fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0/);
});

test('npm pack of this checkout lists only dist/lib (no rehearsal), README, LICENSE and package.json', () => {
  const files = packedFiles(ROOT);
  expect(files.filter((f) => !isShipped(f))).toEqual([]);
  expect(files).toEqual(expect.arrayContaining(TOP_LEVEL));
});

test('the files rules keep every other kind of file out, whatever the build left in dist/', () => {
  // A copy of the package with one file of each kind a checkout can hold, built or not.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpg-pack-'));
  try {
    for (const file of TOP_LEVEL) fs.copyFileSync(path.join(ROOT, file), path.join(dir, file));
    const decoys = [
      'dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/pipeline/index.js', 'dist/lib/pipeline/index.d.ts',
      'dist/lib/render/patroni.js', 'dist/lib/render/patroni.d.ts',
      'dist/lib/rehearsal/drills.js', 'dist/lib/rehearsal/drills.d.ts', 'dist/lib/rehearsal/standin/systemd.py',
      'dist/lib/render/patroni.js.map', 'dist/lib/index.ts',
      'dist/bin/cli.js', 'dist/test/render/snapshots.test.js', 'dist/bench/bench.js', 'dist/stacks/main.js',
      'dist/examples/single-region/main.js', 'dist/tools/rehearsal/cli.js',
      'lib/index.ts', 'test/setup.ts', 'bench/bench.ts', 'stacks/main.ts', 'examples/single-region/main.ts',
      'bin/fill-tls-ca', 'tools/rehearsal/package.json', 'cdktf.json', 'tsconfig.json', 'jest.config.js',
      'cdktf.out/stacks/ledger/cdk.tf.json',
      // What `npm run jsii` leaves: its copy of the package and the assembly.
      'dist/jsii/.jsii', 'dist/jsii/package.json', 'dist/jsii/lib/index.ts', 'dist/jsii/dist/lib/index.js',
      'dist/jsii/dist/lib/index.d.ts', 'tools/jsii-build.js',
    ];
    for (const file of decoys) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), file.endsWith('.json') ? '{}' : '// decoy\n');
    }
    expect(packedFiles(dir)).toEqual([
      ...TOP_LEVEL,
      'dist/lib/index.d.ts', 'dist/lib/index.js', 'dist/lib/pipeline/index.d.ts', 'dist/lib/pipeline/index.js',
      'dist/lib/render/patroni.d.ts', 'dist/lib/render/patroni.js',
    ].sort());
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

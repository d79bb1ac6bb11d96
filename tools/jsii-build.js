#!/usr/bin/env node
/**
 * `npm run jsii`: compiles lib/ with jsii (the compiler behind Python, Java, C# and Go packages of a TypeScript
 * library) and fails on any jsii error. Arguments go to jsii (e.g. `--silence-warnings=reserved-word`).
 *
 * It compiles a copy of the package in dist/jsii/ rather than the checkout itself, because jsii and the npm package
 * we ship disagree on one field: jsii requires every dependency that is not a jsii module (`yaml`, `fflate`) to be in
 * `bundledDependencies`, and npm then puts those modules inside the tarball. The shipped package lets npm install
 * them, so its `npm pack` stays dist/lib, README, LICENSE and package.json. The copy is the package.json with that
 * field added, lib/, README and LICENSE; its own tsconfig extends tsconfig.lib.json. Everything jsii writes (.jsii,
 * the compiled JavaScript) stays inside dist/jsii/, and paths in its messages (lib/...) are the checkout's.
 */
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const stage = path.join(root, 'dist', 'jsii');

const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
// The jsii modules we use (cdktf, constructs, the providers) are peer dependencies; everything else is bundled.
pkg.bundledDependencies = Object.keys(pkg.dependencies ?? {});
if (!pkg.repository) {
  // jsii requires one; the package has none until it is published.
  pkg.repository = { type: 'git', url: 'https://example.invalid/cdktf-distributed-postgres.git' };
  console.log('jsii-build: package.json has no "repository"; the assembly records a placeholder');
}

fs.rmSync(stage, { recursive: true, force: true });
fs.mkdirSync(stage, { recursive: true });
fs.cpSync(path.join(root, 'lib'), path.join(stage, 'lib'), { recursive: true });
for (const file of ['README.md', 'LICENSE']) fs.copyFileSync(path.join(root, file), path.join(stage, file));
fs.writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
fs.writeFileSync(path.join(stage, pkg.jsii.tsconfig), `${JSON.stringify({
  extends: path.relative(stage, path.join(root, 'tsconfig.lib.json')),
  // Paths in an extended tsconfig are relative to that file: name the copy's own.
  compilerOptions: { rootDir: '.', outDir: 'dist', noEmitOnError: true },
  include: ['lib/**/*.ts'],
  exclude: ['node_modules', 'dist'],
}, null, 2)}\n`);

const result = spawnSync(process.execPath, [require.resolve('jsii/bin/jsii'), stage, ...process.argv.slice(2)], {
  cwd: stage, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024,
});
process.stdout.write(result.stdout ?? '');
process.stderr.write(result.stderr ?? '');
const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
const summary = /Errors: (\d+) \| Warnings: (\d+)/.exec(output);
if (summary) {
  const assembly = summary[1] === '0' ? `; assembly ${path.relative(root, stage)}/.jsii` : '';
  console.log(`jsii: ${summary[1]} error(s), ${summary[2]} warning(s)${assembly}`);
} else {
  console.log(`jsii: stopped before compiling (exit ${result.status ?? result.signal}); see the messages above`);
}
process.exitCode = result.status === 0 && summary && summary[1] === '0' ? 0 : 1;

/**
 * cdktf, constructs and the provider packages as Node itself loads them, outside jest's module registry (jest.config.js
 * maps them here, as it maps fflate: test/native/fflate.js). jest evaluates every module again for each test file in
 * its own registry; these are about 10 MB of JavaScript (the providers' generated classes above all), which made
 * loading them for each of the 55 test files about 45 % of `npm test`'s CPU. They are loaded once per worker instead.
 *
 * jest's moduleNameMapper maps a module name to a file that exists: for each module of those packages there is a shim
 * (`module.exports = <Node's require>(name)`), written once per set of package versions under the temp directory.
 * Shared by the test files of a worker: cdktf's token map (ids only grow) and nothing a test changes. What runs there
 * sees Node's `process.env`, not the test file's copy.
 */
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..');
const PACKAGES = ['cdktf', 'constructs', '@cdktf/provider-aws', '@cdktf/provider-google', '@cdktf/provider-tls'];

function versionOf(name) {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
}

/** Every module path of a package (`cdktf`, `cdktf/lib/x`), from its .js files, without the extension. */
function modulesOf(name) {
  const base = path.join(ROOT, 'node_modules', name);
  const found = [name];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules') continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.js')) {
        const rel = path.relative(base, full).replace(/\\/g, '/').replace(/\.js$/, '');
        found.push(`${name}/${rel}`);
        if (rel.endsWith('/index')) found.push(`${name}/${rel.slice(0, -'/index'.length)}`);
      }
    }
  };
  walk(path.join(base, 'lib'));
  return found;
}

/** The shims' directory, written when missing (one per set of versions). */
function shimDirectory() {
  const key = crypto.createHash('sha256').update(ROOT).update(fs.readFileSync(__filename)).update(PACKAGES.map((p) => `${p}@${versionOf(p)}`).join(',')).digest('hex').slice(0, 16);
  const dir = path.join(os.tmpdir(), `dpg-jest-native-${key}`);
  if (fs.existsSync(path.join(dir, 'done'))) return dir;
  const temp = `${dir}.${process.pid}`;
  fs.rmSync(temp, { recursive: true, force: true });
  const loader = path.join(temp, 'node-require.js');
  fs.mkdirSync(temp, { recursive: true });
  fs.writeFileSync(loader, [
    "const jestModule = require('module');",
    'const nodeModule = Object.getPrototypeOf(jestModule);',
    "if (typeof nodeModule.createRequire !== 'function') throw new Error('test/native/modules.js: Node\\'s Module.createRequire not found behind jest\\'s');",
    `const nodeRequire = nodeModule.createRequire(${JSON.stringify(path.join(ROOT, 'package.json'))});`,
    `nodeRequire(${JSON.stringify(path.join(__dirname, 'outer-stacks.js'))});`,
    'module.exports = nodeRequire;',
    '',
  ].join('\n'));
  for (const name of PACKAGES) {
    for (const mod of modulesOf(name)) {
      const file = path.join(temp, 'm', `${mod}.js`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      if (!fs.existsSync(file)) fs.writeFileSync(file, `module.exports = require(${JSON.stringify(path.relative(path.dirname(file), loader).replace(/\\/g, '/').replace(/^(?!\.)/, './'))})(${JSON.stringify(mod)});\n`);
    }
  }
  fs.writeFileSync(path.join(temp, 'done'), '');
  try {
    fs.renameSync(temp, dir);
  } catch {
    fs.rmSync(temp, { recursive: true, force: true }); // another process wrote it first
  }
  return dir;
}

/** jest moduleNameMapper entries sending those packages' modules to their shims. */
function nativeModuleMapper() {
  const dir = shimDirectory().replace(/\\/g, '/');
  return {
    '^(cdktf|constructs)((/.*)?)$': `${dir}/m/$1$2.js`,
    '^@cdktf/(provider-(aws|google|tls))((/.*)?)$': `${dir}/m/@cdktf/$1$3.js`,
  };
}

module.exports = { nativeModuleMapper };

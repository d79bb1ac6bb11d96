/** `npm test`'s first line: what it runs, and what it leaves to `npm run test:system` (and whether this machine can run it). */
const { readdirSync } = require('fs');
const { join, relative } = require('path');
const { missingRequirements } = require('./requirements');

const root = join(__dirname, '..', '..');
const systemFiles = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
  const p = join(dir, e.name);
  if (e.isDirectory()) return e.name === 'node_modules' || e.name === '__snapshots__' ? [] : systemFiles(p);
  return e.name.endsWith('.system.test.ts') ? [relative(root, p)] : [];
});
const files = [...systemFiles(join(root, 'test')), ...systemFiles(join(root, 'tools', 'rehearsal', 'test'))].sort();
const missing = missingRequirements();
console.log(`npm test: unit and snapshot tests (library, rehearsal). Left to \`npm run test:system\` (Debian packages, root, ` +
  `namespaces, the npm registry): ${files.length} suites: ${files.join(', ')}.`);
console.log(missing.length === 0 ? 'This machine has what test:system needs.'
  : `This machine cannot run test:system: it lacks ${missing.map((m) => m.split(':')[0]).join(', ')} (.ci/run installs them).`);

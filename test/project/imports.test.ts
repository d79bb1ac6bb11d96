/** Providers are imported by deep path only: the package barrel costs ~10x synth time and memory. */
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../..');
const DIRS = ['lib', 'stacks', 'examples', 'test', 'bench', 'bin'];
const BARREL = /(from\s+|require\(\s*|import\(\s*)['"]@cdktf\/provider-(aws|google)['"]/;

function sources(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'cdktf.out' ? [] : sources(full);
    return /\.(ts|js)$/.test(entry.name) ? [full] : [];
  });
}

test('no source imports a provider package barrel', () => {
  const offenders = DIRS.flatMap((d) => sources(path.join(ROOT, d)))
    .filter((file) => file !== __filename && BARREL.test(fs.readFileSync(file, 'utf8')))
    .map((file) => path.relative(ROOT, file));
  expect(offenders).toEqual([]);
});

test('the barrel pattern does catch a barrel import', () => {
  // Assembled, so this file itself never contains a barrel import for a grep to find.
  const barrelLine = ['import { Instance } from ', "'@cdktf/", "provider-aws';"].join('');
  expect(BARREL.test(barrelLine)).toBe(true);
  expect(BARREL.test("import { Instance } from '@cdktf/provider-aws/lib/instance';")).toBe(false);
});

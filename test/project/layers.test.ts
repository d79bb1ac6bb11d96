/**
 * lib/ is layered in pipeline order (README "Layout"): a folder imports only folders below it, and the pure stages
 * load no cdktf at run time (type-only imports are erased).
 */
import * as fs from 'fs';
import * as path from 'path';

const LIB = path.resolve(__dirname, '../../lib');
/** Top to bottom. */
const LAYERS = ['index', 'pipeline', 'distributed-postgres', 'cloud', 'monitoring', 'render', 'policy', 'diagram', 'topology', 'declaration', 'net', 'memo'];
const PURE = ['monitoring', 'render', 'diagram', 'topology', 'declaration', 'net', 'memo'];

function layerOf(file: string): string {
  return path.relative(LIB, file).split(path.sep)[0].replace(/\.ts$/, '');
}

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

function imports(file: string): { module: string; typeOnly: boolean }[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/^(import|export)(\s+type)?\s[^;]*?from\s+'([^']+)'/gms)].map((m) => ({ module: m[3], typeOnly: m[2] !== undefined }));
}

test('every lib/ folder imports only the folders below it', () => {
  const upward: string[] = [];
  for (const file of sources(LIB)) {
    const from = layerOf(file);
    expect(LAYERS).toContain(from);
    for (const { module } of imports(file).filter((i) => i.module.startsWith('.'))) {
      const to = layerOf(path.resolve(path.dirname(file), module));
      if (LAYERS.indexOf(to) < LAYERS.indexOf(from)) upward.push(`${path.relative(LIB, file)} -> ${module}`);
    }
  }
  expect(upward).toEqual([]);
});

test('the pure stages load no cdktf, constructs or provider module', () => {
  const offenders = sources(LIB)
    .filter((file) => PURE.includes(layerOf(file)))
    .flatMap((file) => imports(file)
      .filter((i) => !i.typeOnly && /^(cdktf|constructs|@cdktf\/)/.test(i.module))
      .map((i) => `${path.relative(LIB, file)} -> ${i.module}`));
  expect(offenders).toEqual([]);
});

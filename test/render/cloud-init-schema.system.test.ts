/**
 * Every machine of every fleet in the matrix passes cloud-init's own schema validator (Debian's cloud-init
 * package): the CLI `cloud-init schema --config-file` for one machine of each role per engine/image/source,
 * and the CLI's own function (validate_cloudconfig_file) in one Python process for all of them.
 */
import { execFile } from 'child_process';
import { existsSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { promisify } from 'util';
import { renderAll, run, tempDir } from './helpers';
import { matrixCases } from './matrix';

const execFileAsync = promisify(execFile);
const CLOUD_INIT = '/usr/bin/cloud-init';
const hasCloudInit = existsSync(CLOUD_INIT);
/** The Python that runs cloud-init (its shebang), not whatever `python3` is first on PATH. */
const PYTHON = hasCloudInit ? readFileSync(CLOUD_INIT, 'utf8').split('\n')[0].replace(/^#!\s*/, '').split(' ')[0] : 'python3';

/** Validates files with cloud-init's validate_cloudconfig_file and also rejects unknown top-level keys (the schema lets them through). */
const VALIDATOR = `
import json, sys
from cloudinit.config.schema import get_schema, validate_cloudconfig_file
from cloudinit import safeyaml
schema = get_schema()
known = set(schema.get("properties", {}))
for definition in schema.get("$defs", {}).values():
    known.update(definition.get("properties", {}))
results = {}
for path in sys.argv[1:]:
    problems = []
    try:
        validate_cloudconfig_file(path, schema)
    except Exception as e:
        problems.append("%s: %s" % (type(e).__name__, e))
    with open(path, "rb") as f:
        unknown = sorted(set(safeyaml.load(f.read()) or {}) - known)
    if unknown:
        problems.append("unknown top-level keys: %s" % unknown)
    results[path] = problems
print(json.dumps(results))
`;

describe('cloud-init schema', () => {
  const cases = matrixCases();
  const dir = tempDir('schema');
  const files: { label: string; machine: string; role: string; path: string }[] = [];
  for (const c of cases) {
    renderAll(c.topology).forEach((m, i) => {
      const path = join(dir, `${files.length}-${m.name}.yaml`);
      writeFileSync(path, m.text);
      files.push({ label: c.label, machine: m.name, role: i === 0 ? 'first' : m.role, path });
    });
  }

  test('the matrix covers every engine, image and package source', () => {
    const seen = (f: (c: (typeof cases)[number]) => string) => [...new Set(cases.map(f))].sort();
    expect(seen((c) => c.engine)).toEqual(['native', 'pglogical', 'spock']);
    expect(seen((c) => c.image)).toEqual(['debian-12', 'debian-13', 'ubuntu-24.04']);
    expect(seen((c) => c.packageSource)).toEqual(['distro', 'image', 'pgdg', 'pgedge']);
    expect(cases.length).toBeGreaterThanOrEqual(40);
    expect(files.length).toBeGreaterThan(300);
  });

  test('a broken cloud-config is rejected (the validator is strict enough to fail)', () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, '#cloud-config\nwrite_files:\n  - path: /x\n    contents: y\n');
    expect(run(CLOUD_INIT, ['schema', '--config-file', bad]).code).not.toBe(0);
    writeFileSync(bad, '#cloud-config\npackges: [etcd-server]\n');
    const out = JSON.parse(run(PYTHON, ['-c', VALIDATOR, bad]).stdout);
    expect(out[bad].join()).toMatch(/unknown top-level keys/);
  });

  test('every machine passes validate_cloudconfig_file (the function behind the CLI)', async () => {
    // Two Python processes (two cores), each validating half of the files.
    const halves = [files.filter((_, i) => i % 2 === 0), files.filter((_, i) => i % 2 === 1)];
    const outputs = await Promise.all(halves.map((half) =>
      execFileAsync(PYTHON, ['-c', VALIDATOR, ...half.map((f) => f.path)], { maxBuffer: 64 * 1024 * 1024 })));
    const results: Record<string, string[]> = Object.assign({}, ...outputs.map((o) => JSON.parse(o.stdout)));
    const failures = files.filter((f) => results[f.path].length > 0).map((f) => `${f.label} ${f.machine}: ${results[f.path].join('; ')}`);
    expect(failures).toEqual([]);
    expect(Object.keys(results)).toHaveLength(files.length);
  }, 180_000);

  test('`cloud-init schema --config-file` exits 0 for each role of each engine/image/source', async () => {
    // One Postgres+etcd member, one Postgres-only member and one dedicated etcd machine per engine/image/source.
    const picked = new Map<string, string>();
    for (const f of files) {
      const [engine, image, source, placement] = f.label.split('/');
      const role = placement === 'dedicated' ? (f.role === 'etcd' ? 'etcd' : 'postgres') : 'postgres+etcd';
      const key = `${engine}/${image}/${source}/${role}`;
      if (!picked.has(key)) picked.set(key, f.path);
    }
    expect(picked.size).toBe(11 * 3);
    const queue = [...picked.entries()];
    const failures: string[] = [];
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const [key, path] = next;
        try {
          await execFileAsync(CLOUD_INIT, ['schema', '--config-file', path]);
        } catch (e: any) {
          failures.push(`${key}: exit ${e.code}: ${e.stderr}`);
        }
      }
    };
    await Promise.all([worker(), worker()]);
    expect(failures).toEqual([]);
  }, 180_000);
});

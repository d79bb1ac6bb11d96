/**
 * Hostile strings at the render boundary. Validation keeps them out of a declaration; these tests bypass it
 * (a Topology edited by hand, as a bug upstream or a hand-built Topology would) and check that what the
 * renderer writes still holds: the cloud-config parses to the same keys and files, the YAML files keep
 * their shape with the hostile value as a plain value, sourced shell files assign it without running it,
 * scripts stay syntactically valid, and SQL keeps it inside literals or quoted identifiers.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse as parseYaml } from 'yaml';
import { Topology } from '../../lib';
import { resolveFleet } from '../../lib/pipeline';
import { renderCloudConfig } from '../../lib/render';
import { replicationEngine } from '../../lib/render/mesh';
import { meshDocument } from '../../lib/render/mesh-document';
import { meshDocumentFilesOf, shellSyntaxErrors } from '../render/helpers';
import { ledgerFleet, pglogicalFleet } from '../fixtures/fleets';

const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), 'render-boundary-'));
afterAll(() => fs.rmSync(sandbox, { recursive: true, force: true }));
/** Any of these files appearing means a hostile string was executed. */
const PWNED = path.join(sandbox, 'pwned');

const HOSTILE = {
  sql: "a'; DROP TABLE victim; --",
  sqlIdent: 'b"; DROP TABLE victim; --',
  shell: `c$(touch ${PWNED}-1)\`touch ${PWNED}-2\`'"$HOME`,
  yaml: 'd\nssl: off\nlisten: 0.0.0.0:1\n- x: [',
  newlineSql: 'e\nDROP TABLE victim; --',
};

function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value));
}

function clean(props = ledgerFleet()): Topology {
  return copy(resolveFleet(props, 'stack/Fleet', 'fleet').topology);
}

/** The ledger topology with hostile strings in every name and value a declaration could carry. */
function hostile(base: Topology): Topology {
  const t: any = copy(base);
  t.postgres.database = HOSTILE.sql;
  t.postgres.parameters = { work_mem: HOSTILE.yaml, search_path: HOSTILE.shell, statement_timeout: HOSTILE.sql };
  for (const g of t.nodeGroups) g.patroniTags = { rack: HOSTILE.shell, row: HOSTILE.yaml };
  t.replication.globalTables = [`ledger.${HOSTILE.sqlIdent}`];
  for (const s of t.geoshards) for (const table of s.tables) table.values = [HOSTILE.sql, HOSTILE.shell];
  return t;
}

/** A topology with one name or value changed to `value` (and every reference to a group name kept consistent). */
function withName(base: Topology, field: 'fleet' | 'group' | 'database' | 'partition value', value: string): Topology {
  const t: any = copy(base);
  if (field === 'fleet') t.fleetName = value;
  if (field === 'database') t.postgres.database = value;
  if (field === 'partition value') for (const s of t.geoshards) for (const table of s.tables) table.values = [value];
  if (field === 'group') {
    const old = t.nodeGroups[1].name;
    const rename = (n: string): string => (n === old ? value : n);
    t.nodeGroups[1].name = value;
    for (const sub of t.subscriptions) Object.assign(sub, { subscriber: rename(sub.subscriber), provider: rename(sub.provider) });
    for (const shard of t.geoshards) shard.nodeGroups = shard.nodeGroups.map(rename);
  }
  return t;
}

const MEMBER = 'ledger-use1-pg1';

function files(text: string): Map<string, string> {
  const config = parseYaml(text) as { write_files: { path: string; content: string }[] };
  return new Map(config.write_files.map((f) => [f.path, f.content]));
}

/** Every key path of a YAML/JSON value (`a.b[].c`), to compare shapes. */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return [prefix + '[]', ...value.flatMap((v) => keyPaths(v, `${prefix}[]`))];
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => [`${prefix}.${k}`, ...keyPaths(v, `${prefix}.${k}`)]);
  }
  return [];
}

/** SQL with string literals, quoted identifiers, dollar-quoted bodies and comments removed. */
function sqlOutsideQuotes(sql: string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const rest = sql.slice(i);
    const dollar = /^\$([A-Za-z_]*)\$/.exec(rest);
    if (rest.startsWith('--')) {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end;
    } else if (rest.startsWith("'") || rest.startsWith('"')) {
      const q = rest[0];
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) throw new Error(`unterminated ${q} quote at ${i}`);
        if (sql[j] === q && sql[j + 1] === q) j += 2;
        else if (sql[j] === q) break;
        else j++;
      }
      out += ' ';
      i = j + 1;
    } else if (dollar) {
      const end = sql.indexOf(dollar[0], i + dollar[0].length);
      if (end < 0) throw new Error(`unterminated ${dollar[0]} at ${i}`);
      // The body of a DO block or function is SQL too: check it as well.
      out += ` ${sqlOutsideQuotes(sql.slice(i + dollar[0].length, end))} `;
      i = end + dollar[0].length;
    } else {
      out += sql[i];
      i++;
    }
  }
  return out;
}

function bash(args: string[], input?: string): string {
  return execFileSync('bash', args, { cwd: sandbox, input, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: sandbox } });
}

function pwned(): string[] {
  return fs.readdirSync(sandbox).filter((f) => f.startsWith('pwned'));
}

/** The first member of every node group (the ledger's euw1 holds the eu geoshard's partitions). */
const MEMBERS = [
  ...clean(ledgerFleet()).nodeGroups.map((g) => ['ledger (Spock)', g.members[0].name, ledgerFleet()] as const),
  ...clean(pglogicalFleet()).nodeGroups.map((g) => ['pglogical', g.members[0].name, pglogicalFleet()] as const),
];

describe.each(MEMBERS)('%s %s: hostile values', (_name, member, props) => {
  const base = clean(props);
  const cleanText = renderCloudConfig(base, member);
  const text = renderCloudConfig(hostile(base), member);
  // The machine's files and its group's mesh document (the SQL it runs), as mesh-sync writes them.
  const withDocument = (topology: Topology, own: Map<string, string>) => {
    const group = topology.nodeGroups.find((g) => g.members.some((m) => m.name === member))!;
    const document = meshDocumentFilesOf(meshDocument(topology, group).value);
    return new Map([...own, ...Object.entries(document).map(([name, content]) => [`/etc/distributed-postgres/mesh/${name}`, content] as [string, string])]);
  };
  const cleanFiles = withDocument(base, files(cleanText));
  const hostileFiles = withDocument(hostile(base), files(text));

  test('the cloud-config parses to the same keys, files and commands', () => {
    const a = parseYaml(cleanText);
    const b = parseYaml(text);
    expect(Object.keys(b)).toEqual(Object.keys(a));
    expect([...hostileFiles.keys()]).toEqual([...cleanFiles.keys()]);
    for (const key of ['runcmd', 'bootcmd', 'packages', 'apt']) expect(b[key]).toEqual(a[key]);
  });

  test('YAML files keep their shape; hostile values stay plain values', () => {
    for (const [file, content] of hostileFiles) {
      if (!/\.(ya?ml|template)$/.test(file)) continue;
      const parsedClean = parseYaml(cleanFiles.get(file)!);
      const parsed = parseYaml(content);
      // Slot names derive from the database name (sanitized by the renderer): compare their number, not their keys.
      const shape = (v: unknown): string[] => keyPaths(v).map((k) => k.replace(/\.slots\.[^.]+/, '.slots.<slot>'));
      const extra = shape(parsed).filter((k) => !shape(parsedClean).includes(k) && !/\.(work_mem|search_path|statement_timeout|rack|row)$/.test(k));
      expect({ file, extra }).toEqual({ file, extra: [] });
      expect(Object.keys(parsed.bootstrap?.dcs?.slots ?? {}).length).toBe(Object.keys(parsedClean.bootstrap?.dcs?.slots ?? {}).length);
    }
    const patroni = parseYaml([...hostileFiles].find(([f]) => /patroni\.ya?ml/.test(f))![1]);
    const parameters = { ...patroni.bootstrap?.dcs?.postgresql?.parameters, ...patroni.postgresql?.parameters };
    expect(parameters.work_mem).toBe(HOSTILE.yaml);
    expect(parameters.search_path).toBe(HOSTILE.shell);
    expect(String(parameters.ssl)).toBe(String(parseYaml([...cleanFiles].find(([f]) => /patroni\.ya?ml/.test(f))![1]).postgresql.parameters.ssl));
    expect(patroni.tags.rack).toBe(HOSTILE.shell);
  });

  test('sourced shell files assign hostile values without running them; scripts still parse', () => {
    const env = hostileFiles.get('/etc/distributed-postgres/member.env')!;
    const envFile = path.join(sandbox, 'member.env');
    fs.writeFileSync(envFile, env);
    const database = bash(['-c', `set -eu; . ${envFile}; printf %s "$DPG_DATABASE"`]);
    expect(database).toBe(HOSTILE.sql);
    expect(shellSyntaxErrors([...hostileFiles].filter(([, c]) => c.startsWith('#!/bin/bash') || c.startsWith('#!/bin/sh')))).toBe('');
    expect(pwned()).toEqual([]);
  });

  test('SQL keeps hostile values inside literals and quoted identifiers', () => {
    for (const [file, content] of hostileFiles) {
      if (!file.endsWith('.sql')) continue;
      const outside = sqlOutsideQuotes(content);
      expect({ file, injected: /DROP\s+TABLE\s+victim/i.test(outside) }).toEqual({ file, injected: false });
    }
    const group = base.nodeGroups.find((g) => g.members.some((m) => m.name === member))!;
    if (base.geoshards.some((s) => s.nodeGroups.includes(group.name))) {
      const all = [...hostileFiles].filter(([f]) => f.endsWith('.sql')).map(([, c]) => c).join('\n');
      // The partition value is a literal inside the literal EXECUTE runs: quotes doubled twice.
      expect(all).toContain("'a''''; DROP TABLE victim; --'");
    }
  });
});

/**
 * Names also reach comments (the cloud-config header, SQL file headers, partition comments): a line break
 * there would end the comment and turn the rest into YAML keys or SQL. Validation rejects newlines in every
 * name; the renderer also flattens comment text to one line (`oneLine`).
 */
describe('newlines in names that reach comments', () => {
  const base = clean();
  const euMember = base.nodeGroups[1].members[0].name;

  test('cloud-config header: a fleet name with line breaks stays inside the YAML comment', () => {
    const text = renderCloudConfig(withName(base, 'fleet', `f\nruncmd: [[touch, ${PWNED}-3]]\n#`), MEMBER);
    expect(Object.keys(parseYaml(text))).toEqual(Object.keys(parseYaml(renderCloudConfig(base, MEMBER))));
  });

  test.each(['group', 'database', 'partition value'] as const)(
    'SQL comments: a %s with line breaks stays inside the -- comment', (field) => {
      const t = withName(base, field, HOSTILE.newlineSql);
      const group = t.nodeGroups[1];
      const sql = replicationEngine(t.replication.engine).sql(t, group);
      for (const [file, content] of Object.entries(sql)) {
        expect({ file, injected: /DROP\s+TABLE\s+victim/i.test(sqlOutsideQuotes(content)) }).toEqual({ file, injected: false });
      }
    });

  test('the same names without newlines stay inside their comments and literals', () => {
    for (const field of ['group', 'database', 'partition value'] as const) {
      const t = withName(base, field, HOSTILE.sql);
      const sql = replicationEngine(t.replication.engine).sql(t, t.nodeGroups[1]);
      for (const [file, content] of Object.entries(sql)) {
        expect({ field, file, injected: /DROP\s+TABLE\s+victim/i.test(sqlOutsideQuotes(content)) }).toEqual({ field, file, injected: false });
      }
    }
    expect(() => parseYaml(renderCloudConfig(withName(base, 'fleet', HOSTILE.sql), euMember))).not.toThrow();
  });
});

/** Shared by the render tests: fleets, rendered machines, and reading files back out of a cloud-config. */
import { spawnSync } from 'child_process';
import { gunzipSync } from 'zlib';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parse, stringify as stringifyYaml } from 'yaml';
import { DistributedPostgresProps, FleetValidationError, Topology } from '../../lib';
import { machinesOf, renderCloudConfig, resolveFleet } from '../../lib/pipeline';
import { meshDocumentFiles } from '../../lib/policy/secrets';
import { groupScriptsDocument } from '../../lib/render/cloud-config';
import { meshDocument, meshDocumentPatroni } from '../../lib/render/mesh-document';
import { FILES } from '../../lib/render/paths';

export function topologyOf(props: DistributedPostgresProps): Topology {
  return resolveFleet(props, 'test', 'fleet').topology;
}

/** The topology, or undefined when validation rejects the declaration. */
export function topologyIfValid(props: DistributedPostgresProps): Topology | undefined {
  try {
    return topologyOf(props);
  } catch (e) {
    if (e instanceof FleetValidationError) return undefined;
    throw e;
  }
}

export interface RenderedMachine {
  readonly name: string;
  readonly role: 'postgres' | 'etcd';
  readonly nodeGroup: string;
  readonly text: string;
}

export function renderAll(topology: Topology): RenderedMachine[] {
  return machinesOf(topology).map((m) => ({ name: m.name, role: m.role, nodeGroup: m.nodeGroup, text: renderedText(topology, m.name) }));
}

const RENDERED = new WeakMap<Topology, Map<string, string>>();

/**
 * `renderCloudConfig`, once per topology object and machine in a test file: `renderAll` and the readers of a machine's
 * files (`bootFilesOf`, `bootText`, ...) share it. Rendering is deterministic (user-data.test.ts renders twice from two
 * separately resolved topologies and compares).
 */
export function renderedText(topology: Topology, machineName: string): string {
  let byName = RENDERED.get(topology);
  if (!byName) RENDERED.set(topology, byName = new Map());
  let text = byName.get(machineName);
  if (text === undefined) byName.set(machineName, text = renderCloudConfig(topology, machineName));
  return text;
}

const USER_DATA_FILES = new Map<string, readonly (readonly [string, string])[]>();

/** The [path, content] of each file of a cloud-config text's write_files, parsed once per distinct text. */
function userDataFilesOf(text: string): readonly (readonly [string, string])[] {
  let files = USER_DATA_FILES.get(text);
  if (!files) USER_DATA_FILES.set(text, files = parseCloudConfig(text).write_files.map((f) => [f.path, f.content] as const));
  return files;
}

/**
 * Every file every machine of the fleets holds once booted (its user-data's and its part of its group's scripts
 * document, decoded from the stored value as load-scripts decodes it), keyed `machine:path` (the scripts tests read them).
 */
export function writtenFiles(fleets: DistributedPostgresProps[]): Map<string, string> {
  const files = new Map<string, string>();
  for (const props of fleets) {
    const topology = topologyOf(props);
    for (const m of renderAll(topology)) {
      for (const [path, content] of Object.entries(bootFilesOf(topology, m.name))) files.set(`${m.name}:${path}`, content);
    }
  }
  return files;
}

/** The group's scripts document as stored: decoded from the value Terraform stores, with each file's `when`. */
export function scriptsDocumentOfGroup(topology: Topology, groupName: string): { sha256: string; files: { path: string; permissions: string; when: string; content: string }[] } {
  const group = topology.nodeGroups.find((g) => g.name === groupName);
  if (!group) throw new Error(`no node group ${groupName}`);
  const value = groupScriptsDocument(topology, group).value;
  let decoded = DECODED_DOCUMENTS.get(value);
  if (!decoded) {
    const stored = JSON.parse(value) as { format: string; sha256: string; gzip: string };
    if (stored.format !== 'dpg-scripts/1') throw new Error(`scripts document format ${stored.format}`);
    decoded = { sha256: stored.sha256, files: JSON.parse(gunzipSync(Buffer.from(stored.gzip, 'base64')).toString('utf8')).files };
    DECODED_DOCUMENTS.set(value, decoded);
  }
  // Each caller gets file objects of its own.
  return { sha256: decoded.sha256, files: decoded.files.map((f) => ({ ...f })) };
}
/** Each stored scripts document decoded once (every machine of a group reads the same one). */
const DECODED_DOCUMENTS = new Map<string, ReturnType<typeof scriptsDocumentOfGroup>>();

/**
 * Every file a machine holds once its bootstrap began, by path: its user-data's files, then the files of its group's
 * scripts document that it writes (by `when`, as load-scripts picks them), decoded from the stored value.
 */
export function bootFilesOf(topology: Topology, machineName: string): Record<string, string> {
  const machine = machinesOf(topology).find((m) => m.name === machineName);
  if (!machine) throw new Error(`no machine ${machineName}`);
  const files: Record<string, string> = Object.fromEntries(userDataFilesOf(renderedText(topology, machineName)));
  const loader = files[FILES.loadScripts] ?? '';
  const when = JSON.parse(/^MACHINE, WHEN, STAMP = "[^"]*", (\[[^\]]*\])/m.exec(loader)?.[1] ?? '[]') as string[];
  const document = scriptsDocumentOfGroup(topology, machine.nodeGroup);
  if (!loader.includes(document.sha256)) throw new Error(`${machineName}'s load-scripts does not pin its group's scripts document`);
  for (const f of document.files) if (when.includes(f.when)) files[f.path] = f.content;
  return files;
}

/**
 * The machine's cloud-config with its part of its group's scripts document added to write_files: every file it holds
 * once its bootstrap began, for tests that read files out of a cloud-config text (`fileOf`). Not what the cloud gets.
 */
export function bootCloudConfig(topology: Topology, machineName: string): string {
  const doc = parseCloudConfig(renderedText(topology, machineName));
  const inUserData = new Set(doc.write_files.map((f) => f.path));
  const machine = machinesOf(topology).find((m) => m.name === machineName)!;
  // Each file with the mode the loader gives it (the document's own), as a machine would hold it.
  const modes = new Map(scriptsDocumentOfGroup(topology, machine.nodeGroup).files.map((f) => [f.path, f.permissions]));
  const extra = Object.entries(bootFilesOf(topology, machineName)).filter(([path]) => !inUserData.has(path))
    .map(([path, content]) => ({ path, owner: 'root:root', permissions: modes.get(path) ?? '0600', content }));
  return `#cloud-config\n${stringifyYaml({ ...doc, write_files: [...doc.write_files, ...extra] }, { version: '1.1' })}`;
}

/** One file a machine holds once booted (from its user-data or its group's scripts document). */
export function machineFile(topology: Topology, machineName: string, path: string): string {
  const found = bootFilesOf(topology, machineName)[path];
  if (found === undefined) throw new Error(`${machineName} holds no ${path}`);
  return found;
}

/**
 * What a machine boots with as one text for snapshots: its cloud-config, then each file of its group's scripts document
 * that it writes, under a `# == scripts document: PATH (PERMISSIONS)` line.
 */
export function bootText(topology: Topology, machineName: string): string {
  const machine = machinesOf(topology).find((m) => m.name === machineName)!;
  const text = renderedText(topology, machineName);
  const inUserData = new Set(parseCloudConfig(text).write_files.map((f) => f.path));
  const files = bootFilesOf(topology, machineName);
  const document = scriptsDocumentOfGroup(topology, machine.nodeGroup).files.filter((f) => !inUserData.has(f.path) && files[f.path] === f.content);
  return [text, ...document.map((f) => `# == scripts document: ${f.path} (${f.permissions})\n${f.content}`)].join('\n');
}

export interface CloudConfig {
  write_files: { path: string; owner: string; permissions: string; content: string }[];
  packages: string[];
  runcmd: string[][];
  apt?: { sources: Record<string, { source: string }> };
  bootcmd?: string[][];
  package_update?: boolean;
}

/** The cloud-config parsed as its readers do (YAML 1.1, like PyYAML in cloud-init). */
export function parseCloudConfig(text: string): CloudConfig {
  return parse(text, { version: '1.1' }) as CloudConfig;
}

export function fileOf(text: string, path: string): string {
  const found = parseCloudConfig(text).write_files.find((f) => f.path === path);
  if (!found) throw new Error(`no ${path} in the cloud-config`);
  return found.content;
}

export function yamlFileOf<T = Record<string, any>>(text: string, path: string): T {
  return parse(fileOf(text, path), { version: '1.1' }) as T;
}

/**
 * A member's Patroni template with its `{{mesh:KEY}}` values filled from its group's mesh document, as materialize-secrets
 * fills them at boot (test/render/scripts.system.test.ts runs the real one).
 */
export function patroniWithMeshOf(topology: Topology, machineName: string, text = renderCloudConfig(topology, machineName)): Record<string, any> {
  const group = topology.nodeGroups.find((g) => g.members.some((m) => m.name === machineName));
  if (!group) throw new Error(`${machineName} is no Postgres member`);
  const part = meshDocumentPatroni(topology, group) as unknown as Record<string, unknown>;
  const fill = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(fill);
    if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, fill(v)]));
    const key = typeof node === 'string' ? /^\{\{mesh:([a-z_]+)\}\}$/.exec(node)?.[1] : undefined;
    return key === undefined ? node : part[key];
  };
  return fill(yamlFileOf(text, FILES.patroniTemplate)) as Record<string, any>;
}

const tempDirs: string[] = [];

/** A fresh directory under the system temp dir, removed when the test file ends. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `dpg-render-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Runs a command; returns its exit code and both outputs instead of throwing. */
export function run(command: string, args: string[], options: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}):
{ code: number; stdout: string; stderr: string } {
  const out = spawnSync(command, args, { input: options.input, env: options.env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: out.status ?? 1, stdout: out.stdout ?? '', stderr: (out.stderr ?? '') + (out.error ? String(out.error) : '') };
}

/**
 * Shell syntax errors (`bash -n`, or `sh -n` for `#!/bin/sh` scripts) of scripts given as [name, content], '' when all
 * parse. Each distinct script is checked once, all by one shell: one process from here instead of one per script
 * (spawning from jest's large process cost seconds per suite).
 */
export function shellSyntaxErrors(scripts: Iterable<[string, string]>): string {
  const dir = tempDir('syntax');
  const distinct = new Map<string, string>();
  for (const [name, content] of scripts) if (!distinct.has(content)) distinct.set(content, name);
  const paths = [...distinct].map(([content, name], i) => writeTemp(dir, `${i}-${name.replace(/[^A-Za-z0-9.-]/g, '_')}`, content));
  const out = run('bash', ['-c', 'for f; do if head -c 9 "$f" | grep -q "^#!/bin/sh"; then i=sh; else i=bash; fi; $i -n "$f" 2>&1 || echo "FAILED $f"; done', 'check', ...paths]);
  return out.code === 0 ? out.stdout + out.stderr : `exit ${out.code}: ${out.stdout}${out.stderr}`;
}

export function writeTemp(dir: string, name: string, content: string, mode = 0o644): string {
  const path = join(dir, name);
  writeFileSync(path, content, { mode });
  return path;
}

/**
 * The lines that turn `base` into `variant`, as hunks `@@ -<base line> +<variant line> @@` of `-` (only in base), `+`
 * (only in variant) and ` ` (context) lines. Snapshots of a variant as a diff from a base show only what the variant
 * changes; `applyLineDiff` rebuilds the variant exactly, so the diff pins it as fully as its whole text would.
 */
export function lineDiff(base: string, variant: string, context = 2): string {
  const a = base.split('\n');
  const b = variant.split('\n');
  // Longest common subsequence table, from the ends (lengths fit 16 bits: cloud-configs are far below 65536 lines).
  const width = b.length + 1;
  const lcs = new Uint16Array((a.length + 1) * width);
  // No global (Math.max) in the inner loop: under jest each global lookup goes through the test context's global
  // object, which made this table 20 times slower than under plain Node (1.5 s of the snapshot tests).
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      const down = lcs[(i + 1) * width + j];
      const right = lcs[i * width + j + 1];
      lcs[i * width + j] = a[i] === b[j] ? lcs[(i + 1) * width + j + 1] + 1 : (down >= right ? down : right);
    }
  }
  const ops: { kind: ' ' | '-' | '+'; line: string; i: number; j: number }[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) ops.push({ kind: ' ', line: a[i], i: i++, j: j++ });
    else if (i < a.length && (j === b.length || lcs[(i + 1) * width + j] >= lcs[i * width + j + 1])) ops.push({ kind: '-', line: a[i], i: i++, j });
    else ops.push({ kind: '+', line: b[j], i, j: j++ });
  }
  const shown = ops.map((op, k) => op.kind !== ' ' || ops.slice(Math.max(0, k - context), k + context + 1).some((o) => o.kind !== ' '));
  const out: string[] = [];
  ops.forEach((op, k) => {
    if (!shown[k]) return;
    if (k === 0 || !shown[k - 1]) out.push(`@@ -${op.i + 1} +${op.j + 1} @@`);
    out.push(`${op.kind}${op.line}`);
  });
  return out.join('\n');
}

/** The variant a `lineDiff` describes, rebuilt from its base. */
export function applyLineDiff(base: string, diff: string): string {
  const a = base.split('\n');
  const out: string[] = [];
  let i = 0;
  for (const line of diff === '' ? [] : diff.split('\n')) {
    const hunk = /^@@ -(\d+) \+\d+ @@$/.exec(line);
    if (hunk) {
      const start = Number(hunk[1]) - 1;
      while (i < start) out.push(a[i++]);
    } else if (line[0] === ' ') {
      if (a[i] !== line.slice(1)) throw new Error(`context line ${i + 1} does not match the base`);
      out.push(a[i++]);
    } else if (line[0] === '-') {
      if (a[i] !== line.slice(1)) throw new Error(`removed line ${i + 1} does not match the base`);
      i++;
    } else {
      out.push(line.slice(1));
    }
  }
  while (i < a.length) out.push(a[i++]);
  return out.join('\n');
}

/** Debian's PostgreSQL 15 server binaries, as the integration tests use them. */
export const PG15_BIN = '/usr/lib/postgresql/15/bin';

export interface ThrowawayPostgres {
  /** The socket directory (also the cluster's parent directory and where its log is). */
  readonly root: string;
  readonly port: string;
  /** Runs psql on `db` as the postgres user, unaligned tuples only; returns code and outputs. */
  psql(db: string, args: string[], input?: string): { code: number; stdout: string; stderr: string };
  /** One statement's trimmed result; throws with the server's message when it fails. */
  value(db: string, sql: string): string;
  /** A libpq connection string to `db` over the socket. */
  dsn(db: string): string;
  /** The last lines of the server log (for messages of failed waits). */
  logTail(lines?: number): string;
  /** Starts the server (initdb first); call in beforeAll. */
  start(): void;
  /** Stops the server at once; call in afterAll (does nothing if it never started). */
  stop(): void;
}

/**
 * A real PostgreSQL 15 server in a temp directory, reached only over its Unix socket (no TCP listener), run as the
 * postgres user: the render tests run the shipped SQL on it. `settings` are extra `-c` options.
 */
export function throwawayPostgres(prefix: string, portBase: number, settings: string[] = []): ThrowawayPostgres {
  const root = tempDir(prefix);
  chmodSync(root, 0o755);
  const data = join(root, 'data');
  const port = String(portBase + (process.pid % 10000));
  const asPostgres = (args: string[], input?: string) => run('runuser', ['-u', 'postgres', '--', ...args], { input });
  let started = false;
  const server: ThrowawayPostgres = {
    root,
    port,
    psql: (db, args, input) => asPostgres([`${PG15_BIN}/psql`, '-X', '-q', '-h', root, '-p', port, '-d', db, '-tA', ...args], input),
    value: (db, sql) => {
      const out = server.psql(db, ['-v', 'ON_ERROR_STOP=1', '-c', sql]);
      if (out.code !== 0) throw new Error(`${sql}: ${out.stderr}`);
      return out.stdout.trim();
    },
    dsn: (db) => `host=${root} port=${port} dbname=${db} user=postgres`,
    logTail: (lines = 15) => run('tail', ['-n', String(lines), join(root, 'log')]).stdout,
    start: () => {
      run('chown', ['postgres:postgres', root]);
      const init = asPostgres([`${PG15_BIN}/initdb`, '-D', data, '-A', 'peer', '-U', 'postgres']);
      if (init.code !== 0) throw new Error(`initdb failed: ${init.stderr}`);
      const options = [`listen_addresses=''`, `unix_socket_directories=${root}`, `port=${port}`, ...settings].map((s) => `-c ${s}`).join(' ');
      const up = asPostgres([`${PG15_BIN}/pg_ctl`, '-D', data, '-o', options, '-l', join(root, 'log'), '-w', 'start']);
      if (up.code !== 0) throw new Error(`pg_ctl start failed: ${up.stderr}\n${server.logTail()}`);
      started = true;
    },
    stop: () => {
      if (started) asPostgres([`${PG15_BIN}/pg_ctl`, '-D', data, '-m', 'immediate', 'stop']);
      started = false;
    },
  };
  return server;
}

/**
 * A file of a machine's mesh directory as the machine has it: from its user-data or its group's scripts document, or
 * else from its group's mesh document, decoded from the stored value as `mesh-sync` decodes it (what Terraform stores is what is tested).
 */
export function meshFileOf(topology: Topology, machineName: string, name: string): string {
  const inBootFiles = bootFilesOf(topology, machineName)[`/etc/distributed-postgres/mesh/${name}`];
  if (inBootFiles !== undefined) return inBootFiles;
  const machine = machinesOf(topology).find((m) => m.name === machineName);
  const group = topology.nodeGroups.find((g) => g.name === machine?.nodeGroup);
  if (!group) throw new Error(`no machine ${machineName}`);
  const files = meshDocumentFilesOf(meshDocument(topology, group).value);
  if (files[name] === undefined) throw new Error(`no ${name} in ${machineName}'s user-data or mesh document`);
  return files[name];
}

/** The files of a stored mesh document value (decoded as the policy pack decodes it). */
export function meshDocumentFilesOf(value: string): Record<string, string> {
  const files = meshDocumentFiles(value);
  if (files === undefined) throw new Error('not a mesh document');
  return files;
}

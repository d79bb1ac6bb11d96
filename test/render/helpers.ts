/** Shared by the render tests: fleets, rendered machines, and reading files back out of a cloud-config. */
import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parse } from 'yaml';
import { DistributedPostgresProps, FleetValidationError, Topology } from '../../lib';
import { machinesOf, renderCloudConfig, resolveFleet } from '../../lib/pipeline';

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
  return machinesOf(topology).map((m) => ({ name: m.name, role: m.role, nodeGroup: m.nodeGroup, text: renderCloudConfig(topology, m.name) }));
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

export function writeTemp(dir: string, name: string, content: string, mode = 0o644): string {
  const path = join(dir, name);
  writeFileSync(path, content, { mode });
  return path;
}

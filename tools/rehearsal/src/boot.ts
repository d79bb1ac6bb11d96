/**
 * Applying a machine's user-data on its test host with the real cloud-init, as the cloud would: `write_files` (and
 * `write_files_deferred`, `bootcmd` when used) through `cloud-init single`, then the secret backend is swapped for
 * the local stand-in, then `cloud-init single --name runcmd` renders the runcmd script, which the rehearsal runs
 * (cloud-init's scripts-user module would, at the end of the final stage). That script only starts the bootstrap
 * unit, so the rehearsal then waits for the bootstrap's status file to say `complete`.
 */
import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { FleetMachine } from './fleet';
import { TestHosts } from './hosts';
import { run } from './shell';

/** The one file of the user-data the rehearsal replaces (the renderer's cloud secret backend). */
export const SECRET_BACKEND = '/usr/local/lib/distributed-postgres/secret-backend';
/** Where the renderer's bootstrap logs each step. */
export const BOOTSTRAP_LOG = '/var/log/distributed-postgres-bootstrap.log';
/** The bootstrap's status file: `state=running|complete|failed`, `step=`, `attempt=`, `updated=` lines. */
export const BOOTSTRAP_STATUS = '/var/lib/distributed-postgres/bootstrap.status';

export interface BootstrapStatus {
  readonly state: string;
  readonly step: string;
  readonly attempt: number;
}

/** The bootstrap's last recorded state on a host (undefined before it wrote one). */
export async function bootstrapStatus(hosts: TestHosts, name: string): Promise<BootstrapStatus | undefined> {
  const r = await hosts.exec(name, ['cat', BOOTSTRAP_STATUS], { allowFail: true, timeoutMs: 10_000 });
  if (r.code !== 0) return undefined;
  const fields = Object.fromEntries(r.stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  return { state: fields.state ?? '', step: fields.step ?? '', attempt: Number(fields.attempt ?? 0) };
}

/** `cloud-init schema` on the exact user-data: a machine would silently skip what the schema rejects. */
export async function validateUserData(hosts: TestHosts, m: FleetMachine): Promise<string | undefined> {
  const file = userDataFile(hosts, m);
  const r = await run('cloud-init', ['schema', '--config-file', file], { allowFail: true, timeoutMs: 60_000 });
  return r.code === 0 ? undefined : `${m.machine.name}: cloud-init schema rejects the user-data: ${(r.stderr + r.stdout).trim()}`;
}

export function userDataFile(hosts: TestHosts, m: FleetMachine): string {
  const dir = path.join(hosts.sharedDir, 'user-data');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${m.machine.name}.yaml`);
  writeFileSync(file, m.config.text, { mode: 0o644 });
  return file;
}

/**
 * `--file` is a global option up to cloud-init 23 (Debian 12 has 22.4) and an option of `single` since 24 (Debian 13
 * has 25.1): the image's cloud-init says which in its top-level help.
 */
async function singleModuleArgv(hosts: TestHosts, name: string, module: string, file: string): Promise<string[]> {
  const help = await hosts.exec(name, ['cloud-init', '--help'], { allowFail: true, timeoutMs: 60_000 });
  const globalFile = /--file\b/.test(help.stdout);
  return globalFile
    ? ['cloud-init', '--file', file, 'single', '--name', module, '--frequency', 'always']
    : ['cloud-init', 'single', '--name', module, '--frequency', 'always', '--file', file];
}

async function cloudInitModule(hosts: TestHosts, m: FleetMachine, module: string, file: string): Promise<void> {
  const r = await hosts.exec(m.machine.name, await singleModuleArgv(hosts, m.machine.name, module, file), { allowFail: true, timeoutMs: 120_000 });
  const output = `${r.stdout}\n${r.stderr}`;
  if (r.code !== 0 || /Traceback|failed|WARNING/i.test(output.replace(/running 'single'.*$/m, ''))) {
    throw new Error(`${m.machine.name}: cloud-init ${module} failed (exit ${r.code}):\n${output.trim().slice(-3000)}`);
  }
}

export interface AppliedUserData {
  /** Wall time from runcmd to the bootstrap's `complete`, s. */
  readonly runcmdS: number;
  /** Bootstrap runs it took (1 unless a run failed and its unit retried). */
  readonly attempts: number;
}

/** Applies the user-data on a booted host, runs the rendered runcmd script and waits for the bootstrap to complete. */
export async function applyUserData(hosts: TestHosts, m: FleetMachine, backend: string, runcmdTimeoutMs: number): Promise<AppliedUserData> {
  const started = await startUserData(hosts, m, backend);
  if (started === undefined) return { runcmdS: 0, attempts: 0 };
  const status = await awaitBootstrap(hosts, m.machine.name, started, runcmdTimeoutMs);
  return { runcmdS: (Date.now() - started) / 1000, attempts: status.attempt };
}

/** The bootstrap unit's unit file (its ExecStart is the bootstrap script). */
export const BOOTSTRAP_UNIT = '/etc/systemd/system/distributed-postgres-bootstrap.service';
/** The unit that runs mesh-keeper on every Postgres member. */
export const MESH_KEEPER_SERVICE = 'distributed-postgres-mesh.service';

/**
 * Applies the user-data and runs the runcmd script, which starts the bootstrap unit without waiting for it. Returns
 * when runcmd ran (ms since the epoch), or undefined when the user-data has no runcmd.
 */
export async function startUserData(hosts: TestHosts, m: FleetMachine, backend: string): Promise<number | undefined> {
  const name = m.machine.name;
  const file = userDataFile(hosts, m);
  if (m.config.doc.bootcmd !== undefined) await cloudInitModule(hosts, m, 'bootcmd', file);
  await cloudInitModule(hosts, m, 'write_files', file);
  if (m.config.writeFiles.some((f) => f.defer)) await cloudInitModule(hosts, m, 'write_files_deferred', file);
  const present = await hosts.exec(name, ['test', '-f', SECRET_BACKEND], { allowFail: true });
  if (present.code !== 0) {
    throw new Error(`${name}: the user-data wrote no ${SECRET_BACKEND}; the rehearsal replaces exactly that file with its secret store stand-in`);
  }
  await hosts.exec(name, ['sh', '-c', `cat > ${SECRET_BACKEND} && chmod 0755 ${SECRET_BACKEND}`], { input: backend });
  if (m.config.doc.runcmd === undefined) return undefined;
  await cloudInitModule(hosts, m, 'runcmd', file);
  const script = (await hosts.exec(name, ['sh', '-c', 'ls /var/lib/cloud/instances/*/scripts/runcmd'])).stdout.trim();
  const started = Date.now();
  // As cloud-init's scripts-user does: run it, output to cloud-init-output.log. It enables and starts the bootstrap
  // unit without waiting; the unit retries a failed bootstrap, so the rehearsal then waits for its status to say complete.
  const r = await hosts.exec(name, ['sh', '-c', `${script} >> /var/log/cloud-init-output.log 2>&1`], {
    allowFail: true, timeoutMs: 120_000,
  });
  if (r.code !== 0) throw await bootstrapFailure(hosts, name, started, `the runcmd script failed (exit ${r.code})`);
  return started;
}

async function bootstrapFailure(hosts: TestHosts, name: string, since: number, what: string): Promise<Error> {
  const tail = await hosts.exec(name, ['sh', '-c', `tail -n 40 /var/log/cloud-init-output.log; echo ---; tail -n 40 ${BOOTSTRAP_LOG} 2>/dev/null; echo ---; cat ${BOOTSTRAP_STATUS} 2>/dev/null`], { allowFail: true });
  return new Error(`${name}: ${what} after ${((Date.now() - since) / 1000).toFixed(1)} s:\n${tail.stdout.trim()}`);
}

/** Waits until the host's bootstrap status satisfies `done` (default: complete); returns that status. */
export async function awaitBootstrap(hosts: TestHosts, name: string, since: number, timeoutMs: number,
  done: (s: BootstrapStatus) => boolean = (s) => s.state === 'complete', what = 'the bootstrap did not complete'): Promise<BootstrapStatus> {
  for (;;) {
    const status = hosts.isUp(name) ? await bootstrapStatus(hosts, name) : undefined;
    if (status && done(status)) return status;
    if (Date.now() - since > timeoutMs) {
      throw await bootstrapFailure(hosts, name, since, `${what} (last: ${status ? `${status.state} in step ${status.step}, attempt ${status.attempt}` : 'no status'})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

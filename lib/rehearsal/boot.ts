/**
 * Applying a machine's user-data on its test host with the real cloud-init, as the cloud would: `write_files` (and
 * `write_files_deferred`, `bootcmd` when used) through `cloud-init single`, then the secret backend is swapped for
 * the local stand-in, then `cloud-init single --name runcmd` renders the runcmd script, which the rehearsal runs
 * (cloud-init's scripts-user module would, at the end of the final stage).
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

async function cloudInitModule(hosts: TestHosts, m: FleetMachine, module: string, file: string): Promise<void> {
  const r = await hosts.exec(m.machine.name, ['cloud-init', '--file', file, 'single', '--name', module, '--frequency', 'always'],
    { allowFail: true, timeoutMs: 120_000 });
  const output = `${r.stdout}\n${r.stderr}`;
  if (r.code !== 0 || /Traceback|failed|WARNING/i.test(output.replace(/running 'single'.*$/m, ''))) {
    throw new Error(`${m.machine.name}: cloud-init ${module} failed (exit ${r.code}):\n${output.trim().slice(-3000)}`);
  }
}

export interface AppliedUserData {
  /** Wall time of the runcmd script (the bootstrap), s. */
  readonly runcmdS: number;
}

/** Applies the user-data on a booted host and runs the rendered runcmd script (which blocks until the bootstrap ends). */
export async function applyUserData(hosts: TestHosts, m: FleetMachine, backend: string, runcmdTimeoutMs: number): Promise<AppliedUserData> {
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
  if (m.config.doc.runcmd === undefined) return { runcmdS: 0 };
  await cloudInitModule(hosts, m, 'runcmd', file);
  const script = (await hosts.exec(name, ['sh', '-c', 'ls /var/lib/cloud/instances/*/scripts/runcmd'])).stdout.trim();
  const started = Date.now();
  // As cloud-init's scripts-user does: run it, output to cloud-init-output.log.
  const r = await hosts.exec(name, ['sh', '-c', `${script} >> /var/log/cloud-init-output.log 2>&1`], {
    allowFail: true, timeoutMs: runcmdTimeoutMs,
  });
  const runcmdS = (Date.now() - started) / 1000;
  if (r.code !== 0) {
    const tail = await hosts.exec(name, ['sh', '-c', `tail -n 40 /var/log/cloud-init-output.log; echo ---; tail -n 40 ${BOOTSTRAP_LOG} 2>/dev/null`], { allowFail: true });
    throw new Error(`${name}: the runcmd script failed (exit ${r.code}) after ${runcmdS.toFixed(1)} s:\n${tail.stdout.trim()}`);
  }
  return { runcmdS };
}

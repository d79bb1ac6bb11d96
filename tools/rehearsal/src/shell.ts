/** Running the commands that build and drive the test hosts (ip, nsenter, psql, cloud-init, ...). */
import { spawn, SpawnOptions } from 'child_process';

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Written to stdin, then stdin is closed. */
  readonly input?: string;
  /** Kill the command (SIGKILL) after this long. @default 120000 */
  readonly timeoutMs?: number;
  /** Replaces the environment entirely when given. */
  readonly env?: NodeJS.ProcessEnv;
  /** Resolve instead of reject on a non-zero exit. @default false */
  readonly allowFail?: boolean;
}

/** A clean environment for everything run inside a test host: what a cloud machine's root would have. */
export const HOST_ENV: NodeJS.ProcessEnv = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C.UTF-8',
  HOME: '/root',
};

export class CommandError extends Error {
  constructor(readonly command: string, readonly result: RunResult) {
    super(`command failed (exit ${result.code}): ${command}\n${(result.stderr || result.stdout).trim().slice(-2000)}`);
  }
}

export function formatCommand(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** Runs a command to completion, capturing its output. */
export function run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const spawnOptions: SpawnOptions = { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env };
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args as string[], spawnOptions);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code: code ?? (signal ? 128 : 1), stdout, stderr: signal ? `${stderr}\nkilled by ${signal}` : stderr };
      if (result.code !== 0 && !options.allowFail) reject(new CommandError(formatCommand(cmd, args), result));
      else resolve(result);
    });
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(options.input ?? '');
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `probe` until it returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, intervalMs = 500,
  signal?: AbortSignal): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    // A wait its caller has given up on stops at once (it must not act on a fleet torn down or booted anew).
    if (signal?.aborted) throw new Error(`stopped waiting for ${what}`);
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${detail}`);
    }
    await sleep(intervalMs);
  }
}

/** iproute2, bounded in time. */
export function ip(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return run('ip', args, { timeoutMs: 20_000, ...options });
}

export function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** PIDs of the processes in a network namespace. */
export async function nsPids(ns: string): Promise<number[]> {
  const r = await ip(['netns', 'pids', ns], { allowFail: true });
  return r.stdout.split(/\s+/).filter(Boolean).map(Number);
}

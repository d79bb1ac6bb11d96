/**
 * A rehearsal's workspace: the directory holding its state and the prefix of its namespaces and links. One rehearsal
 * per workspace at a time (a lock file holding the owner's PID); cleanup removes what a rehearsal, also a crashed
 * one, left behind.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import { ip, killQuietly, nsPids, run, sleep } from './shell';

/** Where a rehearsal keeps its state and how its namespaces are named; one rehearsal per workspace at a time. */
export interface Workspace {
  /** Directory outside the overlaid trees, so hosts see it read-only (and, of it, only the secrets). */
  readonly root: string;
  /** Every network namespace the rehearsal creates starts with this; its temporary links with `<prefix>v`. */
  readonly prefix: string;
}

export const DEFAULT_WORKSPACE: Workspace = { root: '/srv/dpg-rehearsal', prefix: 'dpgr-' };

/** Prefix of the veth links a rehearsal creates (they live briefly in the root namespace). */
export function linkPrefix(w: Workspace): string {
  return `${w.prefix.replace(/-$/, '')}v`;
}

function lockOwner(w: Workspace): number | undefined {
  const lock = path.join(w.root, 'lock');
  if (!existsSync(lock)) return undefined;
  const pid = Number(readFileSync(lock, 'utf8').trim());
  return pid && existsSync(`/proc/${pid}`) ? pid : undefined;
}

export function claimLock(w: Workspace): void {
  mkdirSync(w.root, { recursive: true });
  const owner = lockOwner(w);
  if (owner !== undefined && owner !== process.pid) {
    throw new Error(`another rehearsal is running (pid ${owner}); wait for it or stop it, then run \`dpg-rehearse cleanup\``);
  }
  writeFileSync(path.join(w.root, 'lock'), `${process.pid}\n`);
}

/**
 * Removes whatever a rehearsal left behind (also one that crashed): every process in one of its network namespaces,
 * the namespaces, stray veth links, and the mounts under its directory. Refuses while another live rehearsal holds
 * the workspace's lock.
 */
export async function cleanupLeftovers(log: (line: string) => void = () => undefined, w: Workspace = DEFAULT_WORKSPACE): Promise<string[]> {
  const owner = lockOwner(w);
  if (owner !== undefined && owner !== process.pid) {
    throw new Error(`rehearsal pid ${owner} is still running; stop it first`);
  }
  const removed: string[] = [];
  const list = await ip(['netns', 'list'], { allowFail: true });
  const namespaces = list.stdout.split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(w.prefix));
  for (let round = 0; round < 3; round++) {
    let alive = 0;
    for (const ns of namespaces) {
      for (const pid of await nsPids(ns)) {
        alive++;
        killQuietly(pid, 'SIGKILL');
      }
    }
    if (alive === 0) break;
    await sleep(300);
  }
  for (const ns of namespaces) {
    await ip(['netns', 'delete', ns], { allowFail: true });
    removed.push(`netns ${ns}`);
  }
  const links = await ip(['-o', 'link', 'show'], { allowFail: true });
  for (const m of links.stdout.matchAll(new RegExp(`^\\d+: (${linkPrefix(w)}[0-9a-z]+)[@:]`, 'gm'))) {
    await ip(['link', 'delete', m[1]], { allowFail: true });
    removed.push(`link ${m[1]}`);
  }
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p) => p !== undefined && (p === w.root || p.startsWith(`${w.root}/`)))
    .sort((a, b) => b.length - a.length);
  for (const mountPoint of mounts) {
    const r = await run('umount', [mountPoint], { allowFail: true });
    if (r.code !== 0) await run('umount', ['-l', mountPoint], { allowFail: true });
    removed.push(`mount ${mountPoint}`);
  }
  if (existsSync(w.root)) rmSync(w.root, { recursive: true, force: true });
  if (removed.length) log(`cleanup: removed ${removed.length} leftovers`);
  return removed;
}

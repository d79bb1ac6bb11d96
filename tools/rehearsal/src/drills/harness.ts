/**
 * What every drill shares: the drill's environment, a writer (and leader watch) per node group, waiting for a leader
 * or for writes again, and the end of a drill: convergence, the row accounting, lag, the verdict, fleet health.
 */
import { AppliedUserData } from '../boot';
import { FleetAccess, literal } from '../db';
import { FleetGroup, FleetMachine, RehearsalFleet } from '../fleet';
import type { LateBoot } from '../fleet-boot';
import { TestHosts } from '../hosts';
import { WriterRun } from '../load';
import type { ObjectStorePlan } from '../object-store';
import { DrillResult, GroupRows, judge } from '../report';
import { sleep, waitFor } from '../shell';

export interface DrillEnv {
  readonly hosts: TestHosts;
  readonly access: FleetAccess;
  readonly fleet: RehearsalFleet;
  /** Table the writers insert into (created by the rehearsal as the application would). */
  readonly table: string;
  readonly log: (line: string) => void;
  /** Rows per second per writer. */
  readonly rate: number;
  /** Longest wait for all groups to hold the same rows after a drill. */
  readonly convergeTimeoutS: number;
  /** e.g. `fast (ttl 20, loop_wait 2, retry_timeout 9)`. */
  profile: string;
  /** Unique per run: writer names are `<run>-<drill number>-<drill>-<profile>-<group>`. */
  readonly runId: string;
  /** Number of the drill running (a drill may run more than once in a rehearsal). */
  drillNumber: number;
  /** Writers still running (stopped when a drill ends in an error). */
  readonly active: Set<WriterRun>;
  /** Boots a new machine on a destroyed host and applies its user-data, as the cloud does for a replaced machine. */
  readonly provision: (host: string) => Promise<AppliedUserData>;
  /** The same, without waiting for the bootstrap: returns when runcmd started it (ms since the epoch). */
  readonly provisionStart: (host: string) => Promise<number>;
  /** The rehearsal's seed (--seed): drills that pick random moments derive them from it. */
  readonly seed: number;
  /** Crashes of failover-campaign (--repeat). */
  readonly repeat: number;
  /**
   * --tolerate-orphans: rows never acknowledged that some groups kept and others lost (the provider-side window, open
   * on engines without a gate on their logical senders: README) are counted and named, not failed. Acknowledged rows
   * still must be everywhere.
   */
  readonly tolerateOrphans?: boolean;
  /** --next: the synthesized stack the fleet is updated to (mesh-update). */
  readonly nextStack?: string;
  /** --shrunk: the synthesized stack without some node groups, which the fleet shrinks to (remove-group). */
  readonly shrunkStack?: string;
  /** The node group the boot held back (late-group), to be started by that drill. */
  readonly lateBoot?: LateBoot;
  /** The object store stand-in (S3 and IMDS), when the stack backs up to S3. */
  readonly objectStore?: ObjectStorePlan;
  /** A spare test host (the fleet's image, outside its mesh, not booted yet) for the restore drills. */
  readonly spareHost?: string;
  /** The synthesized stack's directory (its cdk.tf.json, and the alerts.rules.yml synth writes beside it). */
  readonly stackDir?: string;
}

export function profileLabel(name: string, t: { ttl: number; loopWait: number; retryTimeout: number }): string {
  return `${name} (ttl ${t.ttl}, loop_wait ${t.loopWait}, retry_timeout ${t.retryTimeout})`;
}

export function now(): number {
  return Date.now() / 1000;
}

export function newResult(drill: string, env: DrillEnv): DrillResult {
  return {
    drill, profile: env.profile, status: 'pass', startedAt: new Date().toISOString(), durationS: 0, steps: [],
    writeGapS: {}, rows: {}, lostRows: 0, duplicatedRows: 0, splitBrain: false, converged: false, notes: [],
  };
}

export function machineByIp(env: DrillEnv, ip: string): FleetMachine {
  const m = env.fleet.machines.find((x) => x.machine.privateIp === ip);
  if (!m) throw new Error(`no machine with IP ${ip}`);
  return m;
}

/** Ends a drill that cannot apply to this fleet (e.g. one node group), saying why. */
export async function notApplicable(r: DrillResult, started: number, why: string): Promise<DrillResult> {
  r.status = 'n/a';
  r.notes.push(why);
  return finish(r, started);
}

export function step(env: DrillEnv, r: DrillResult, text: string): void {
  const line = `${r.drill}: ${text}`;
  r.steps.push(`${new Date().toISOString()} ${text}`);
  env.log(line);
}

/** One writer (and leader watch) per node group. */
export function startLoad(env: DrillEnv, drill: string, durationS: number, groups: FleetGroup[] = env.fleet.groups): WriterRun[] {
  const profile = env.profile.split(' ')[0];
  const writers = groups.map((g) => new WriterRun({
    group: g.name,
    writer: `${env.runId}-${env.drillNumber}-${drill}-${profile}-${g.name}`,
    enter: env.hosts.clientCommand(g.name, []),
    dsn: env.access.dsn(g.name),
    password: env.access.superuserPassword,
    table: env.table,
    rate: env.rate,
    durationS,
    maxRows: Math.ceil(env.rate * durationS) + 10,
    members: env.access.memberIps(g.name),
    restPort: env.fleet.restPort,
    restTls: env.fleet.restTls,
    caFile: env.access.caFile,
  }));
  writers.forEach((w) => env.active.add(w));
  return writers;
}

/** A leader watch only (no writes) on one group: what awaitNewLeader and leaderAfter need when its writer waits. */
export function startWatch(env: DrillEnv, drill: string, durationS: number, group: FleetGroup): WriterRun {
  const w = new WriterRun({
    group: group.name,
    writer: `${env.runId}-${env.drillNumber}-${drill}-watch-${group.name}`,
    enter: env.hosts.clientCommand(group.name, []),
    dsn: env.access.dsn(group.name),
    password: env.access.superuserPassword,
    table: env.table,
    rate: 1,
    durationS,
    maxRows: 0,
    members: env.access.memberIps(group.name),
    restPort: env.fleet.restPort,
    restTls: env.fleet.restTls,
    caFile: env.access.caFile,
    watchOnly: true,
  });
  env.active.add(w);
  return w;
}

export async function waitForLeader(env: DrillEnv, group: string, timeoutS = 90): Promise<string> {
  return waitFor(`a leader in node group ${group}`, timeoutS * 1000, () => env.access.leaderOf(group), 500);
}

/**
 * After the leader's machine died at `t0`: waits for another member to lead and take writes; records the time to a
 * leader and the new leader in `r`.
 */
export async function awaitNewLeader(env: DrillEnv, r: DrillResult, group: string, watch: WriterRun, leader: string, t0: number): Promise<void> {
  await waitFor(`a new leader in ${group}`, 180_000, async () => watch.leaderAfter(t0, leader), 250);
  const elected = watch.leaderAfter(t0, leader)!;
  r.timeToLeaderS = Number((elected.t - t0).toFixed(1));
  r.leaderAfter = elected.member;
  await waitWritable([watch], elected.t, 120);
  step(env, r, `new leader ${elected.member} after ${r.timeToLeaderS} s; writes acknowledged after ${(watch.firstAckAfter(t0)! - t0).toFixed(1)} s`);
}

/** Waits until every writer has acknowledged rows again after `t` (the group takes writes again). */
export async function waitWritable(writers: WriterRun[], t: number, timeoutS: number): Promise<void> {
  await waitFor('writes to be acknowledged again', timeoutS * 1000, async () => (writers.every((w) => w.firstAckAfter(t) !== undefined) ? true : undefined), 250);
}

/**
 * The end of a drill that brought a held-back node group in: that group writes for 15 s too, then every writer
 * settles (gaps and convergence from `from`); the group's own write gap counts only from when it began writing.
 */
export async function joinedGroupWrites(env: DrillEnv, r: DrillResult, group: FleetGroup, writers: WriterRun[], from: number): Promise<void> {
  const ownFrom = now();
  const own = startLoad(env, r.drill, 900, [group]);
  await sleep(15_000);
  const stopAt = now();
  await settle(env, r, [...writers, ...own], from);
  r.writeGapS[group.name] = Number(own[0].writeGap(ownFrom, stopAt).toFixed(2));
}

/** Stops the writers and checks rows at every group until they converge (or the timeout): fills r.rows etc. */
export async function settle(env: DrillEnv, r: DrillResult, writers: WriterRun[], from: number, convergenceFrom?: number): Promise<void> {
  await Promise.all(writers.map((w) => w.stop()));
  writers.forEach((w) => env.active.delete(w));
  const to = now();
  for (const w of writers) {
    r.writeGapS[w.spec.group] = Number(w.writeGap(from, to).toFixed(2));
    if (w.splitBrains.length) {
      r.splitBrain = true;
      r.notes.push(`split brain in ${w.spec.group}: ${w.splitBrains.map((s) => s.leaders.join('+')).join('; ')}`);
    }
    if (w.acked.length === 0) r.notes.push(`writer in ${w.spec.group} got no write acknowledged (${w.errors.slice(-1)[0]?.msg ?? w.diagnostics})`);
  }
  const names = writers.map((w) => w.spec.writer);
  const sql = `SELECT writer, seq, count(*) FROM ${env.table} WHERE writer IN (${names.map(literal).join(', ')}) GROUP BY 1, 2`;
  const settleStart = now();
  let last: Map<string, Map<string, number>> = new Map();
  const ackedKeys = writers.flatMap((w) => w.acked.map((s) => `${w.spec.writer}:${s}`));
  for (;;) {
    const snapshot = new Map<string, Map<string, number>>();
    for (const g of env.fleet.groups) {
      const rows = await env.access.query(g.name, sql, { timeoutMs: 15_000 }).catch(() => undefined);
      if (rows) snapshot.set(g.name, new Map(rows.map(([w, s, c]) => [`${w}:${s}`, Number(c)])));
    }
    if (snapshot.size === env.fleet.groups.length) last = snapshot;
    const sets = [...snapshot.values()].map((m) => [...m.keys()].sort().join(','));
    const complete = snapshot.size === env.fleet.groups.length && ackedKeys.every((k) => [...snapshot.values()].every((m) => m.has(k)));
    if (complete && sets.every((s) => s === sets[0])) {
      r.converged = true;
      r.convergenceS = Number((now() - (convergenceFrom ?? settleStart)).toFixed(1));
      break;
    }
    // With --tolerate-orphans, differences made only of rows no client saw acknowledged (orphans) end the wait.
    if (complete && env.tolerateOrphans && snapshot.size > 0 && now() - settleStart > 20) {
      const union = new Set([...snapshot.values()].flatMap((m) => [...m.keys()]));
      const ackedSet = new Set(ackedKeys);
      if ([...union].every((k) => ackedSet.has(k) ? [...snapshot.values()].every((m) => m.has(k)) : true)) {
        r.converged = true;
        r.convergenceS = Number((now() - (convergenceFrom ?? settleStart)).toFixed(1));
        break;
      }
    }
    if (now() - settleStart > env.convergeTimeoutS) {
      r.notes.push(`groups did not converge within ${env.convergeTimeoutS} s`);
      break;
    }
    await sleep(1000);
  }
  const lostKeys = new Set<string>();
  // Rows some groups hold and others lack (acknowledged or not): a divergence, named row by row in the notes.
  const held = [...last.values()];
  const allKeys = new Set(held.flatMap((m) => [...m.keys()]));
  const partial = last.size === env.fleet.groups.length ? [...allKeys].filter((k) => !held.every((m) => m.has(k))) : [];
  r.partialRows = partial.length;
  const byHolders = new Map<string, string[]>();
  for (const k of partial) {
    const holders = env.fleet.groups.filter((g) => last.get(g.name)!.has(k)).map((g) => g.name).join('+');
    byHolders.set(holders, [...(byHolders.get(holders) ?? []), k]);
  }
  const outcome = (k: string) => {
    const w = writers.find((x) => k.startsWith(`${x.spec.writer}:`));
    const seq = Number(k.slice(k.lastIndexOf(':') + 1));
    if (!w) return 'unknown';
    return w.acked.includes(seq) ? 'acknowledged' : w.doubts.includes(seq) ? 'in doubt' : w.errors.some((e) => e.seq === seq) ? 'failed' : 'written by the drill';
  };
  const orphans = partial.filter((k) => outcome(k) !== 'acknowledged');
  r.orphanRows = orphans.length;
  if (env.tolerateOrphans) r.orphansTolerated = true;
  for (const [holders, keys] of byHolders) {
    const counts = new Map<string, number>();
    for (const k of keys) counts.set(outcome(k), (counts.get(outcome(k)) ?? 0) + 1);
    r.notes.push(`${keys.length} rows only at ${holders} (${[...counts].map(([o, n]) => `${n} ${o}`).join(', ')}), e.g. ${keys.sort(bySeq).slice(0, 4).join(' ')}`);
  }
  for (const g of env.fleet.groups) {
    const present = last.get(g.name) ?? new Map<string, number>();
    const writer = writers.find((w) => w.spec.group === g.name);
    const missing = ackedKeys.filter((k) => !present.has(k));
    missing.forEach((k) => lostKeys.add(k));
    const perWriter: Record<string, number> = {};
    for (const w of writers) perWriter[w.spec.group] = [...present.keys()].filter((k) => k.startsWith(`${w.spec.writer}:`)).length;
    const rows: GroupRows = {
      acknowledged: writer?.acked.length ?? 0,
      inDoubt: writer?.doubts.length ?? 0,
      present: perWriter,
      lost: missing.length,
      duplicated: [...present.values()].reduce((n, c) => n + (c - 1), 0),
      lacking: last.has(g.name) ? [...allKeys].filter((k) => !present.has(k)).length : undefined,
    };
    r.rows[g.name] = rows;
    if (missing.length) r.notes.push(`${g.name} lacks ${missing.length} acknowledged rows, e.g. ${missing.sort(bySeq).slice(0, 3).join(' ')}`);
  }
  r.lostRows = lostKeys.size;
  r.duplicatedRows = Object.values(r.rows).reduce((n, g) => n + g.duplicated, 0);
  await measureLag(env, r, writers);
}

/** Orders `writer:seq` keys by writer, then by seq as a number. */
function bySeq(x: string, y: string): number {
  const [wx, sx] = [x.slice(0, x.lastIndexOf(':')), Number(x.slice(x.lastIndexOf(':') + 1))];
  const [wy, sy] = [y.slice(0, y.lastIndexOf(':')), Number(y.slice(y.lastIndexOf(':') + 1))];
  return wx === wy ? sx - sy : wx < wy ? -1 : 1;
}

/** Replication lag of the drill's rows: arrival at each group minus creation at the origin group (ms). */
async function measureLag(env: DrillEnv, r: DrillResult, writers: WriterRun[]): Promise<void> {
  let p50 = 0;
  let max = 0;
  let samples = 0;
  for (const g of env.fleet.groups) {
    const others = writers.filter((w) => w.spec.group !== g.name).map((w) => literal(w.spec.writer));
    if (others.length === 0) continue;
    const rows = await env.access.query(g.name,
      'SELECT coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY l), 0)::int, coalesce(max(l), 0)::int, count(*) FROM ' +
      `(SELECT extract(epoch FROM arrived_at - created_at) * 1000 AS l FROM ${env.table} WHERE writer IN (${others.join(', ')})) x`,
    ).catch(() => undefined);
    if (!rows?.[0]) continue;
    p50 = Math.max(p50, Number(rows[0][0]));
    max = Math.max(max, Number(rows[0][1]));
    samples += Number(rows[0][2]);
  }
  if (samples > 0) r.lagMs = { p50, max, samples };
}

export async function finish(r: DrillResult, started: number): Promise<DrillResult> {
  r.durationS = Number((now() - started).toFixed(1));
  r.status = judge(r);
  return r;
}

/**
 * Fleet health between drills: in every group one leader, every member running, and (in synchronous mode) a
 * synchronous standby assigned. Drills are independent faults: the next one starts only from a healthy fleet.
 */
export async function waitHealthy(env: Pick<DrillEnv, 'access' | 'fleet'>, timeoutS = 120): Promise<void> {
  for (const g of env.fleet.groups) {
    const needSync = env.fleet.synchronousMode && g.members.length > 1;
    await waitFor(`node group ${g.name} to be healthy (one leader, every member running${needSync ? ', a synchronous standby' : ''})`, timeoutS * 1000, async () => {
      const view = await env.access.cluster(g.name);
      if (!view) return undefined;
      const leaders = view.members.filter((m) => m.role === 'leader' || m.role === 'master');
      const running = view.members.filter((m) => ['running', 'streaming'].includes(m.state));
      const sync = view.members.filter((m) => m.role === 'sync_standby');
      return leaders.length === 1 && running.length === g.members.length && (!needSync || sync.length > 0) ? true : undefined;
    }, 1000);
  }
}

/** The member to replace as "the synchronous standby" of a group: the listed one, else any member but the leader. */
export async function standbyOf(env: DrillEnv, group: string, leader: string): Promise<string | undefined> {
  const view = await env.access.cluster(group);
  return (view?.members.find((m) => m.role === 'sync_standby') ?? view?.members.find((m) => m.host !== leader))?.host;
}

/**
 * Waits up to 180 s for the member at `ip` to be running (or streaming): Patroni may restart a new replica (it copies
 * logical slots from the primary that way) right after it first streams, so a single look can catch it starting.
 */
export async function awaitMemberRunning(env: DrillEnv, group: string, ip: string, host: string): Promise<{ role: string; state: string } | undefined> {
  return waitFor(`${host} running as a member of ${group}`, 180_000, async () => {
    const member = (await env.access.cluster(group))?.members.find((m) => m.host === ip);
    return member && ['running', 'streaming'].includes(member.state) ? member : undefined;
  }, 1000).catch(() => undefined);
}

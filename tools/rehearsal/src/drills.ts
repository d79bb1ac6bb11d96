/**
 * The drills: each runs a bounded writer load in every node group, injects one fault, recovers, and then checks
 * that every acknowledged row is present at every node group (none lost, none duplicated), that no group ever had
 * two leaders, and that all groups converged to the same rows.
 */
import { FleetAccess, literal } from './db';
import { FleetGroup, FleetMachine, RehearsalFleet } from './fleet';
import { TestHosts } from './hosts';
import { WriterRun } from './load';
import { DrillResult, GroupRows, judge } from './report';
import { sleep, waitFor } from './shell';

export const DRILLS = ['baseline', 'kill-postgres', 'kill-leader-member', 'lose-etcd', 'partition', 'conflict', 'geoshard'] as const;
export type DrillName = (typeof DRILLS)[number];
/** Drills whose figures depend on Patroni's timing: repeated for each timing profile rehearsed. */
export const FAILOVER_DRILLS: DrillName[] = ['kill-postgres', 'kill-leader-member'];

/** Patroni's documented defaults (what a fleet without a timing profile runs). */
export const PATRONI_DEFAULT_TIMING = { ttl: 30, loopWait: 10, retryTimeout: 10 };

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
}

export function profileLabel(name: string, t: { ttl: number; loopWait: number; retryTimeout: number }): string {
  return `${name} (ttl ${t.ttl}, loop_wait ${t.loopWait}, retry_timeout ${t.retryTimeout})`;
}

function now(): number {
  return Date.now() / 1000;
}

function newResult(drill: string, env: DrillEnv): DrillResult {
  return {
    drill, profile: env.profile, status: 'pass', startedAt: new Date().toISOString(), durationS: 0, steps: [],
    writeGapS: {}, rows: {}, lostRows: 0, duplicatedRows: 0, splitBrain: false, converged: false, notes: [],
  };
}

function machineByIp(env: DrillEnv, ip: string): FleetMachine {
  const m = env.fleet.machines.find((x) => x.machine.privateIp === ip);
  if (!m) throw new Error(`no machine with IP ${ip}`);
  return m;
}

function step(env: DrillEnv, r: DrillResult, text: string): void {
  const line = `${r.drill}: ${text}`;
  r.steps.push(`${new Date().toISOString()} ${text}`);
  env.log(line);
}

/** One writer (and leader watch) per node group. */
function startLoad(env: DrillEnv, drill: string, durationS: number, groups: FleetGroup[] = env.fleet.groups): WriterRun[] {
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

async function waitForLeader(env: DrillEnv, group: string, timeoutS = 90): Promise<string> {
  return waitFor(`a leader in node group ${group}`, timeoutS * 1000, () => env.access.leaderOf(group), 500);
}

/** Waits until every writer has acknowledged rows again after `t` (the group takes writes again). */
async function waitWritable(writers: WriterRun[], t: number, timeoutS: number): Promise<void> {
  await waitFor('writes to be acknowledged again', timeoutS * 1000, async () => (writers.every((w) => w.firstAckAfter(t) !== undefined) ? true : undefined), 250);
}

/** Stops the writers and checks rows at every group until they converge (or the timeout): fills r.rows etc. */
async function settle(env: DrillEnv, r: DrillResult, writers: WriterRun[], from: number, convergenceFrom?: number): Promise<void> {
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
    if (now() - settleStart > env.convergeTimeoutS) {
      r.notes.push(`groups did not converge within ${env.convergeTimeoutS} s`);
      break;
    }
    await sleep(1000);
  }
  const lostKeys = new Set<string>();
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
    };
    r.rows[g.name] = rows;
    if (missing.length) r.notes.push(`${g.name} lacks ${missing.length} acknowledged rows, e.g. ${missing.slice(0, 3).join(' ')}`);
  }
  r.lostRows = lostKeys.size;
  r.duplicatedRows = Object.values(r.rows).reduce((n, g) => n + g.duplicated, 0);
  await measureLag(env, r, writers);
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

async function finish(r: DrillResult, started: number): Promise<DrillResult> {
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

// ---------------------------------------------------------------------------------------------------------------

async function baseline(env: DrillEnv): Promise<DrillResult> {
  const r = newResult('baseline', env);
  const started = now();
  const seconds = 15;
  step(env, r, `steady load: ${env.rate} rows/s in every group for ${seconds} s`);
  const writers = startLoad(env, r.drill, seconds);
  await Promise.all(writers.map((w) => w.done()));
  await settle(env, r, writers, started + 1);
  return finish(r, started);
}

async function killPostgres(env: DrillEnv): Promise<DrillResult> {
  const r = newResult('kill-postgres', env);
  const started = now();
  const group = env.fleet.groups[0];
  const leader = await waitForLeader(env, group.name);
  r.leaderBefore = leader;
  const host = machineByIp(env, leader).machine.name;
  const writers = startLoad(env, r.drill, 120);
  await sleep(3000);
  const pid = (await env.hosts.exec(host, ['pgrep', '-o', '-x', '-u', 'postgres', 'postgres'])).stdout.trim();
  const t0 = now();
  await env.hosts.exec(host, ['kill', '-9', pid]);
  step(env, r, `kill -9 of the postmaster (pid ${pid}) on ${host}, the leader of ${group.name}`);
  await waitWritable(writers.filter((w) => w.spec.group === group.name), t0 + 0.5, 180);
  const after = await waitForLeader(env, group.name);
  r.leaderAfter = after;
  const watch = writers.find((w) => w.spec.group === group.name)!;
  const back = watch.leaders.find((l) => l.t > t0 && l.member !== null && watch.leaders.some((x) => x.t > t0 && x.t < l.t && x.member === null));
  if (back) r.timeToLeaderS = Number((back.t - t0).toFixed(1));
  else r.notes.push('the leader kept answering on /primary (Patroni restarted Postgres in place between two polls)');
  step(env, r, `writes acknowledged again after ${(watch.firstAckAfter(t0 + 0.5)! - t0).toFixed(1)} s; leader ${after === leader ? 'unchanged (Postgres restarted in place)' : `moved to ${after}`}`);
  await sleep(5000);
  await settle(env, r, writers, t0);
  await waitHealthy(env);
  return finish(r, started);
}

async function killLeaderMember(env: DrillEnv): Promise<DrillResult> {
  const r = newResult('kill-leader-member', env);
  const started = now();
  const group = env.fleet.groups[0];
  const leader = await waitForLeader(env, group.name);
  r.leaderBefore = leader;
  const host = machineByIp(env, leader).machine.name;
  const writers = startLoad(env, r.drill, 240);
  await sleep(3000);
  const t0 = now();
  await env.hosts.crash(host);
  step(env, r, `crashed ${host} (leader of ${group.name}): Patroni, Postgres${machineByIp(env, leader).runsEtcd ? ' and etcd' : ''} gone at once`);
  const watch = writers.find((w) => w.spec.group === group.name)!;
  await waitFor(`a new leader in ${group.name}`, 180_000, async () => watch.leaderAfter(t0, leader), 250);
  const elected = watch.leaderAfter(t0, leader)!;
  r.timeToLeaderS = Number((elected.t - t0).toFixed(1));
  r.leaderAfter = elected.member;
  await waitWritable([watch], elected.t, 120);
  step(env, r, `new leader ${elected.member} after ${r.timeToLeaderS} s; writes acknowledged after ${(watch.firstAckAfter(t0)! - t0).toFixed(1)} s`);
  await sleep(3000);
  const rebootAt = now();
  await env.hosts.boot(host, true);
  step(env, r, `powered ${host} on again (enabled units start, as on a reboot)`);
  await waitHealthy(env, 180);
  step(env, r, `${host} rejoined ${group.name} after ${(now() - rebootAt).toFixed(1)} s`);
  await settle(env, r, writers, t0);
  return finish(r, started);
}

async function loseEtcd(env: DrillEnv): Promise<DrillResult> {
  const r = newResult('lose-etcd', env);
  const started = now();
  const group = env.fleet.groups[0];
  const leader = await waitForLeader(env, group.name);
  r.leaderBefore = leader;
  const etcdHosts = group.machines.filter((m) => m.runsEtcd);
  // The hardest member to lose: the one on the Postgres leader's machine (Patroni must use the others).
  const victim = etcdHosts.find((m) => m.machine.privateIp === leader) ?? etcdHosts[0];
  if (!victim) {
    r.status = 'n/a';
    r.notes.push(`node group ${group.name} runs no etcd on its machines`);
    return finish(r, started);
  }
  const host = victim.machine.name;
  const writers = startLoad(env, r.drill, 120);
  await sleep(3000);
  const t0 = now();
  await env.hosts.exec(host, ['sh', '-c', 'systemctl kill --signal=SIGKILL etcd.service; systemctl stop etcd.service']);
  step(env, r, `etcd member on ${host} killed (SIGKILL) and kept down`);
  await sleep(15_000);
  const during = await env.access.leaderOf(group.name);
  await env.hosts.exec(host, ['systemctl', 'start', 'etcd.service'], { timeoutMs: 120_000 });
  step(env, r, `etcd on ${host} started again; leader during the loss: ${during ?? 'none'}`);
  r.leaderAfter = await waitForLeader(env, group.name);
  if (r.leaderAfter !== leader) r.notes.push(`losing one etcd member moved the leader ${leader} -> ${r.leaderAfter}`);
  await sleep(5000);
  await settle(env, r, writers, t0);
  await waitHealthy(env);
  return finish(r, started);
}

async function partition(env: DrillEnv): Promise<DrillResult> {
  const r = newResult('partition', env);
  const started = now();
  if (env.fleet.groups.length < 2) {
    r.status = 'n/a';
    r.notes.push('one node group: nothing to cut off');
    return finish(r, started);
  }
  const side = env.fleet.groups[env.fleet.groups.length - 1];
  const leaders = new Map<string, string>();
  for (const g of env.fleet.groups) leaders.set(g.name, await waitForLeader(env, g.name));
  const writers = startLoad(env, r.drill, 240);
  await sleep(3000);
  const t0 = now();
  await env.hosts.partition(side.name);
  step(env, r, `cut node group ${side.name} off from the others (blackhole routes both ways); both sides keep writing`);
  await sleep(20_000);
  const t1 = now();
  await env.hosts.heal();
  step(env, r, `healed after ${(t1 - t0).toFixed(1)} s`);
  await sleep(5000);
  for (const g of env.fleet.groups) {
    const after = await waitForLeader(env, g.name);
    if (after !== leaders.get(g.name)) r.notes.push(`${g.name}: leader moved ${leaders.get(g.name)} -> ${after}`);
  }
  await settle(env, r, writers, t0, t1);
  await waitHealthy(env);
  return finish(r, started);
}

async function conflict(env: DrillEnv): Promise<DrillResult> {
  const r = newResult('conflict', env);
  const started = now();
  if (env.fleet.groups.length < 2) {
    r.status = 'n/a';
    r.notes.push('one node group: no conflicts possible');
    return finish(r, started);
  }
  const writer = `${env.runId}-${env.drillNumber}-conflict-${env.profile.split(' ')[0]}`;
  const first = env.fleet.groups[0].name;
  const count = 20;
  await env.access.query(first, `INSERT INTO ${env.table} (writer, seq, grp) SELECT ${literal(writer)}, g, ${literal(first)} FROM generate_series(1, ${count}) g`);
  step(env, r, `seeded ${count} rows in ${first}`);
  await waitFor('the seed rows at every group', 120_000, async () => {
    for (const g of env.fleet.groups) {
      const rows = await env.access.query(g.name, `SELECT count(*) FROM ${env.table} WHERE writer = ${literal(writer)}`);
      if (Number(rows[0][0]) !== count) return undefined;
    }
    return true;
  }, 500);
  const rounds = 5;
  for (let round = 1; round <= rounds; round++) {
    await Promise.all(env.fleet.groups.map((g, i) => env.access.query(g.name,
      `UPDATE ${env.table} SET val = ${round * 100 + i}, grp = ${literal(g.name)} WHERE writer = ${literal(writer)}`)));
    await sleep(150);
  }
  const t1 = now();
  step(env, r, `${rounds} rounds of concurrent UPDATEs of the same ${count} rows in ${env.fleet.groups.map((g) => g.name).join(', ')}`);
  const sql = `SELECT string_agg(seq || '=' || val || '@' || grp, ',' ORDER BY seq) FROM ${env.table} WHERE writer = ${literal(writer)}`;
  let states: string[] = [];
  const deadline = now() + env.convergeTimeoutS;
  while (now() < deadline) {
    states = [];
    for (const g of env.fleet.groups) {
      const rows = await env.access.query(g.name, sql).catch(() => undefined);
      states.push(rows?.[0]?.[0] ?? '');
    }
    if (states[0] && states.every((s) => s === states[0])) {
      r.converged = true;
      r.convergenceS = Number((now() - t1).toFixed(1));
      break;
    }
    await sleep(1000);
  }
  for (const [i, g] of env.fleet.groups.entries()) {
    const present = states[i] ? states[i].split(',').length : 0;
    r.rows[g.name] = { acknowledged: i === 0 ? count : 0, inDoubt: 0, present: { seed: present }, lost: count - present, duplicated: 0 };
  }
  r.lostRows = Math.max(...Object.values(r.rows).map((x) => x.lost));
  if (r.converged) {
    const winners = new Map<string, number>();
    for (const item of states[0].split(',')) {
      const grp = item.split('@')[1];
      winners.set(grp, (winners.get(grp) ?? 0) + 1);
    }
    r.notes.push(`converged; last writes won: ${[...winners].map(([g, n]) => `${n} rows from ${g}`).join(', ')}`);
  } else {
    r.notes.push(`diverged: ${env.fleet.groups.map((g, i) => `${g.name}=${states[i].slice(0, 60)}`).join(' | ')}`);
  }
  return finish(r, started);
}

async function geoshard(env: DrillEnv): Promise<DrillResult> {
  const r = newResult('geoshard', env);
  const started = now();
  if (env.fleet.geoshards.length === 0) {
    r.status = 'n/a';
    r.notes.push('the stack declares no geoshard');
    return finish(r, started);
  }
  const writer = `${env.runId}-${env.drillNumber}-geoshard`;
  const count = 20;
  for (const shard of env.fleet.geoshards) {
    const home = shard.groups[0];
    const value = shard.values[0];
    await waitFor(`partition ${shard.partition} in ${shard.groups.join(', ')}`, 120_000, async () => {
      for (const g of shard.groups) {
        const rows = await env.access.query(g, `SELECT to_regclass(${literal(shard.partition)}) IS NOT NULL`);
        if (rows[0]?.[0] !== 't') return undefined;
      }
      return true;
    }, 1000);
    await env.access.query(home, `INSERT INTO ${shard.table} (region, writer, seq, grp) ` +
      `SELECT ${literal(value)}, ${literal(writer)}, g, ${literal(home)} FROM generate_series(1, ${count}) g`);
    step(env, r, `wrote ${count} rows with ${literal(value)} into ${shard.table} in ${home}`);
    const t1 = now();
    const countAt = async (g: string) => {
      const exists = await env.access.query(g, `SELECT to_regclass(${literal(shard.table)}) IS NOT NULL`);
      if (exists[0]?.[0] !== 't') return 0;
      return Number((await env.access.query(g, `SELECT count(*) FROM ${shard.table} WHERE writer = ${literal(writer)} AND region = ${literal(value)}`))[0][0]);
    };
    while (now() - t1 < env.convergeTimeoutS) {
      const inside = await Promise.all(shard.groups.map(countAt));
      if (inside.every((n) => n === count)) {
        r.converged = true;
        r.convergenceS = Number((now() - t1).toFixed(1));
        break;
      }
      await sleep(1000);
    }
    await sleep(3000);
    for (const g of env.fleet.groups) {
      const n = await countAt(g.name);
      const inside = shard.groups.includes(g.name);
      r.rows[g.name] = { acknowledged: g.name === home ? count : 0, inDoubt: 0, present: { [shard.partition]: n }, lost: inside ? count - n : 0, duplicated: 0 };
      if (!inside && n > 0) {
        r.converged = false;
        r.notes.push(`residency violated: ${n} rows of ${shard.partition} reached ${g.name}, outside the geography`);
      }
    }
  }
  r.lostRows = Math.max(...Object.values(r.rows).map((x) => x.lost));
  return finish(r, started);
}

const RUNNERS: Record<DrillName, (env: DrillEnv) => Promise<DrillResult>> = {
  baseline,
  'kill-postgres': killPostgres,
  'kill-leader-member': killLeaderMember,
  'lose-etcd': loseEtcd,
  partition,
  conflict,
  geoshard,
};

export async function runDrill(name: DrillName, env: DrillEnv): Promise<DrillResult> {
  const started = now();
  env.drillNumber++;
  try {
    return await RUNNERS[name](env);
  } catch (e) {
    await Promise.all([...env.active].map((w) => w.stop()));
    env.active.clear();
    const r = newResult(name, env);
    r.status = 'error';
    r.durationS = Number((now() - started).toFixed(1));
    r.notes.push((e as Error).message.split('\n').slice(0, 8).join(' | '));
    return r;
  }
}

export type { RehearsalFleet };

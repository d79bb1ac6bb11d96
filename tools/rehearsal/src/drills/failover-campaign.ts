/**
 * failover-campaign: `--repeat N` leader-machine crashes, alternating between the node groups (so each is hit as a
 * provider and, through the others' subscriptions to it, as a subscriber), each at a random moment (seeded from
 * --seed) while every group writes at --rate rows/s. After each crash: a new leader, the old machine rebooted, the
 * fleet healthy, then that round's rows are accounted (lost, missing per group, in some groups only) and the repairs
 * the members logged in /var/lib/distributed-postgres/repairs.log are counted.
 */
import { seededRandom } from '../boot-plan';
import { CrashResult, DrillResult, GroupRows } from '../report';
import { sleep } from '../shell';
import { awaitNewLeader, DrillEnv, finish, machineByIp, newResult, now, settle, startLoad, step, waitForLeader, waitHealthy } from './harness';

export const REPAIRS_LOG = '/var/lib/distributed-postgres/repairs.log';

/** Lines of repairs.log per running member (a member without the file is left out). */
export async function countRepairs(env: DrillEnv): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of env.fleet.machines) {
    const name = m.machine.name;
    if (!env.hosts.isUp(name)) continue;
    const r = await env.hosts.exec(name, ['cat', REPAIRS_LOG], { allowFail: true, timeoutMs: 15_000 }).catch(() => undefined);
    if (r && r.code === 0) out[name] = r.stdout.split('\n').filter((l) => l.trim().length > 0).length;
  }
  return out;
}

function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((n, c) => n + c, 0);
}

/** Seconds the writers run before crash i: 4 to 16 s, from the rehearsal's seed. */
export function crashMoments(seed: number, repeat: number): number[] {
  const random = seededRandom(seed ^ 0x5f3759df);
  return Array.from({ length: repeat }, () => Math.round((4 + random() * 12) * 10) / 10);
}

/** Rows per second per group the campaign writes at least (issue 12): the windows are milliseconds wide. */
export const CAMPAIGN_MIN_RATE = 200;

export async function failoverCampaign(env: DrillEnv): Promise<DrillResult> {
  if (env.rate < CAMPAIGN_MIN_RATE) return failoverCampaign(Object.assign(Object.create(env) as DrillEnv, { rate: CAMPAIGN_MIN_RATE }));
  const r = newResult('failover-campaign', env);
  const started = now();
  const crashes: CrashResult[] = [];
  r.crashes = crashes;
  const moments = crashMoments(env.seed, env.repeat);
  step(env, r, `${env.repeat} crashes, seed ${env.seed}, writers at ${env.rate} rows/s per group, crash moments ${moments.join(', ')} s`);
  const sums = new Map<string, { acknowledged: number; inDoubt: number; lost: number; duplicated: number; lacking: number }>();
  r.converged = true;
  for (let i = 0; i < env.repeat; i++) {
    const group = env.fleet.groups[i % env.fleet.groups.length];
    const sub = newResult(`${r.drill} #${i + 1}`, env);
    const leader = await waitForLeader(env, group.name);
    const host = machineByIp(env, leader).machine.name;
    const repairsBefore = await countRepairs(env);
    const writers = startLoad(env, `${r.drill}-${i + 1}`, 600);
    await sleep(moments[i] * 1000);
    const t0 = now();
    await env.hosts.crash(host);
    step(env, r, `crash ${i + 1}: ${host} (leader of ${group.name}) after ${moments[i]} s of writes`);
    const watch = writers.find((w) => w.spec.group === group.name)!;
    let error: string | undefined;
    try {
      await awaitNewLeader(env, sub, group.name, watch, leader, t0);
      await sleep(2000);
      await env.hosts.boot(host, true);
      await waitHealthy(env, 180);
      step(env, r, `crash ${i + 1}: new leader ${sub.leaderAfter} after ${sub.timeToLeaderS} s; ${host} rebooted and rejoined`);
    } catch (e) {
      error = (e as Error).message.split('\n')[0];
      if (!env.hosts.isUp(host)) await env.hosts.boot(host, true).catch(() => undefined);
    }
    await settle(env, sub, writers, t0);
    await finish(sub, t0);
    if (error) {
      sub.status = 'error';
      sub.notes.unshift(error);
    }
    const repairsAfter = await countRepairs(env);
    const repairs = Math.max(0, total(repairsAfter) - total(repairsBefore));
    const lostByGroup = Object.fromEntries(Object.entries(sub.rows).map(([g, x]) => [g, x.lost]));
    const lackingByGroup = Object.fromEntries(Object.entries(sub.rows).map(([g, x]) => [g, x.lacking ?? 0]));
    const c: CrashResult = {
      n: i + 1, group: group.name, host, afterS: moments[i], status: sub.status, timeToLeaderS: sub.timeToLeaderS,
      lostRows: sub.lostRows, lostByGroup, lackingByGroup, partialRows: sub.partialRows ?? 0, duplicatedRows: sub.duplicatedRows,
      orphanRows: sub.orphanRows ?? 0, repairs, notes: sub.notes,
    };
    crashes.push(c);
    step(env, r, `crash ${i + 1}: ${c.status}: lost ${c.lostRows}, in some groups only ${c.partialRows} (never acknowledged: ${c.orphanRows}), repairs ${repairs}`);
    r.lostRows += sub.lostRows;
    r.duplicatedRows += sub.duplicatedRows;
    r.partialRows = (r.partialRows ?? 0) + (sub.partialRows ?? 0);
    r.orphanRows = (r.orphanRows ?? 0) + (sub.orphanRows ?? 0);
    r.orphansTolerated = sub.orphansTolerated;
    r.splitBrain ||= sub.splitBrain;
    r.converged &&= sub.converged;
    r.timeToLeaderS = Math.max(r.timeToLeaderS ?? 0, sub.timeToLeaderS ?? 0);
    for (const [g, gap] of Object.entries(sub.writeGapS)) r.writeGapS[g] = Math.max(r.writeGapS[g] ?? 0, gap);
    for (const [g, x] of Object.entries(sub.rows)) {
      const s = sums.get(g) ?? { acknowledged: 0, inDoubt: 0, lost: 0, duplicated: 0, lacking: 0 };
      s.acknowledged += x.acknowledged;
      s.inDoubt += x.inDoubt;
      s.lost += x.lost;
      s.duplicated += x.duplicated;
      s.lacking += x.lacking ?? 0;
      sums.set(g, s);
    }
    for (const n of sub.notes) r.notes.push(`crash ${i + 1}: ${n}`);
    if (error) {
      r.status = 'error';
      break;
    }
  }
  for (const [g, s] of sums) {
    const rows: GroupRows = { ...s, present: {} };
    r.rows[g] = rows;
  }
  r.repairs = await countRepairs(env);
  const status = r.status;
  await finish(r, started);
  if (status === 'error') r.status = 'error';
  return r;
}

/** kill -9 of the postmaster on the first group's leader: Patroni restarts it in place or fails over. */
import { DrillResult } from '../report';
import { sleep } from '../shell';
import { DrillEnv, finish, machineByIp, newResult, now, settle, startLoad, step, waitForLeader, waitHealthy, waitWritable } from './harness';

export async function killPostgres(env: DrillEnv): Promise<DrillResult> {
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

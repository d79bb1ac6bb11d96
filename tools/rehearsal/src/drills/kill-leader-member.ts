/** The first group's leader machine crashes (everything on it stops at once), then reboots and must rejoin. */
import { DrillResult } from '../report';
import { sleep } from '../shell';
import { awaitNewLeader, DrillEnv, finish, machineByIp, newResult, now, settle, startLoad, step, waitForLeader, waitHealthy } from './harness';

export async function killLeaderMember(env: DrillEnv): Promise<DrillResult> {
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
  await awaitNewLeader(env, r, group.name, watch, leader, t0);
  await sleep(3000);
  const rebootAt = now();
  await env.hosts.boot(host, true);
  step(env, r, `powered ${host} on again (enabled units start, as on a reboot)`);
  await waitHealthy(env, 180);
  step(env, r, `${host} rejoined ${group.name} after ${(now() - rebootAt).toFixed(1)} s`);
  await settle(env, r, writers, t0);
  return finish(r, started);
}

/** One etcd member of the first group (the one on the leader's machine) killed and kept down for 15 s. */
import { DrillResult } from '../report';
import { sleep } from '../shell';
import { DrillEnv, finish, newResult, now, settle, startLoad, step, waitForLeader, waitHealthy } from './harness';

export async function loseEtcd(env: DrillEnv): Promise<DrillResult> {
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

/**
 * `terraform apply -replace` of one member of the first node group: its machine and data disk are destroyed and a new
 * machine boots from the same user-data with an empty disk, while every group takes writes. It must rejoin etcd (its
 * old entry is removed and it is added again), clone from the leader as a Patroni replica and stream, and the group
 * must have a synchronous standby again. `replace-member` replaces the synchronous standby; `replace-leader-member`
 * replaces the leader (a failover first).
 */
import { DrillResult } from '../report';
import { sleep } from '../shell';
import {
  awaitMemberRunning, awaitNewLeader, DrillEnv, finish, machineByIp, newResult, now, settle, standbyOf, startLoad, step, waitForLeader, waitHealthy,
} from './harness';

async function replaceMember(env: DrillEnv, drill: string, target: 'sync-standby' | 'leader'): Promise<DrillResult> {
  const r = newResult(drill, env);
  const started = now();
  const group = env.fleet.groups[0];
  const leader = await waitForLeader(env, group.name);
  r.leaderBefore = leader;
  let victimIp = leader;
  if (target === 'sync-standby') {
    const standby = await standbyOf(env, group.name, leader);
    if (!standby) {
      r.status = 'n/a';
      r.notes.push(`node group ${group.name} has no standby to replace`);
      return finish(r, started);
    }
    victimIp = standby;
  }
  const victim = machineByIp(env, victimIp);
  const host = victim.machine.name;
  const writers = startLoad(env, r.drill, 300);
  const watch = writers.find((w) => w.spec.group === group.name)!;
  await sleep(3000);
  const t0 = now();
  await env.hosts.destroyMachine(host);
  step(env, r, `destroyed ${host} (${target === 'leader' ? 'the leader' : 'the synchronous standby'} of ${group.name}) and its data disk`);
  if (target === 'leader') {
    await awaitNewLeader(env, r, group.name, watch, leader, t0);
  }
  await sleep(5000);
  const bootAt = now();
  const applied = await env.provision(host);
  step(env, r, `a new ${host} booted from the same user-data with an empty disk: bootstrap complete after ${applied.runcmdS.toFixed(1)} s` +
    (applied.attempts > 1 ? ` (attempt ${applied.attempts})` : ''));
  await waitHealthy(env, 300);
  const again = await awaitMemberRunning(env, group.name, victimIp, host);
  const view = await env.access.cluster(group.name);
  step(env, r, `${host} is ${again?.role ?? 'missing'} (${again?.state ?? '-'}) ${(now() - bootAt).toFixed(1)} s after it booted; ` +
    `synchronous standby: ${view?.members.find((m) => m.role === 'sync_standby')?.name ?? 'none'}`);
  if (!again) r.notes.push(`${host} did not rejoin as a running member within 180 s`);
  r.leaderAfter = r.leaderAfter ?? (await waitForLeader(env, group.name));
  await settle(env, r, writers, t0);
  if (!again) r.converged = false;
  return finish(r, started);
}

export function replaceSyncStandby(env: DrillEnv): Promise<DrillResult> {
  return replaceMember(env, 'replace-member', 'sync-standby');
}

export function replaceLeaderMember(env: DrillEnv): Promise<DrillResult> {
  return replaceMember(env, 'replace-leader-member', 'leader');
}

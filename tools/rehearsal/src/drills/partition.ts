/** The last node group cut off from the others for 20 s, both sides writing, then healed. */
import { DrillResult } from '../report';
import { sleep } from '../shell';
import { DrillEnv, finish, newResult, notApplicable, now, settle, startLoad, step, waitForLeader, waitHealthy } from './harness';

export async function partition(env: DrillEnv): Promise<DrillResult> {
  const r = newResult('partition', env);
  const started = now();
  if (env.fleet.groups.length < 2) return notApplicable(r, started, 'one node group: nothing to cut off');
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

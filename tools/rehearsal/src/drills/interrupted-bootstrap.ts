/**
 * A bootstrap that heals itself: a replaced member's bootstrap is killed in whatever step it is (the unit must run
 * it again), and then its machine crashes during that second run (the unit must run it again at the next boot:
 * cloud-init's runcmd runs once per instance, so only the unit carries the bootstrap over a reboot). Nobody logs in;
 * the member must end up a running replica of its group, with writes going on and no acknowledged row lost.
 */
import { awaitBootstrap, BOOTSTRAP_UNIT } from '../boot';
import { DrillResult } from '../report';
import { sleep } from '../shell';
import {
  awaitMemberRunning, DrillEnv, finish, machineByIp, newResult, now, settle, standbyOf, startLoad, step, waitForLeader, waitHealthy,
} from './harness';

export async function interruptedBootstrap(env: DrillEnv): Promise<DrillResult> {
  const r = newResult('interrupted-bootstrap', env);
  const started = now();
  const group = env.fleet.groups[0];
  const leader = await waitForLeader(env, group.name);
  r.leaderBefore = leader;
  const standby = await standbyOf(env, group.name, leader);
  if (!standby) {
    r.status = 'n/a';
    r.notes.push(`node group ${group.name} has no standby to replace`);
    return finish(r, started);
  }
  const host = machineByIp(env, standby).machine.name;
  const writers = startLoad(env, r.drill, 300);
  await sleep(3000);
  const t0 = now();
  await env.hosts.destroyMachine(host);
  step(env, r, `destroyed ${host} (synchronous standby of ${group.name}) and its data disk`);
  await sleep(5000);
  const since = await env.provisionStart(host);
  // Whatever step it is in: each step must be safe to run again from any point.
  const first = await awaitBootstrap(env.hosts, host, since, 300_000, (s) => s.state === 'running', 'the bootstrap never started');
  // The unit's main process, as systemd would see it die (SIGKILL: no trap runs, the status still says running).
  const script = (await env.hosts.exec(host, ['sed', '-n', 's/^ExecStart=//p', BOOTSTRAP_UNIT])).stdout.trim().split(/\s+/)[0];
  await env.hosts.exec(host, ['pkill', '-KILL', '-f', `(^| )${script}$`]);
  step(env, r, `killed ${host}'s bootstrap (attempt ${first.attempt}) in step "${first.step}"`);
  const second = await awaitBootstrap(env.hosts, host, Date.now(), 120_000, (s) => s.attempt > first.attempt && s.state === 'running',
    'the bootstrap unit did not run the bootstrap again after it was killed');
  step(env, r, `the unit ran the bootstrap again (attempt ${second.attempt}, step "${second.step}")`);
  await env.hosts.crash(host);
  step(env, r, `crashed ${host} during bootstrap attempt ${second.attempt}`);
  await sleep(3000);
  const rebootAt = Date.now();
  await env.hosts.boot(host, true);
  const done = await awaitBootstrap(env.hosts, host, rebootAt, 600_000, (s) => s.state === 'complete' && s.attempt > second.attempt,
    'the bootstrap did not run to completion after the reboot');
  step(env, r, `after the reboot the unit completed the bootstrap (attempt ${done.attempt}) in ${((Date.now() - rebootAt) / 1000).toFixed(1)} s`);
  await waitHealthy(env, 300);
  const again = await awaitMemberRunning(env, group.name, standby, host);
  step(env, r, `${host} is ${again?.role ?? 'missing'} (${again?.state ?? '-'})`);
  if (!again) r.notes.push(`${host} did not rejoin as a running member within 180 s`);
  r.leaderAfter = await waitForLeader(env, group.name);
  await settle(env, r, writers, t0);
  if (!again) r.converged = false;
  return finish(r, started);
}

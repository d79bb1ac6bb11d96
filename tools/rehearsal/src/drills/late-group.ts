/**
 * A node group that boots minutes after the others, as on a cloud where one region's machines come up late: the
 * other groups form their mesh and take writes; the held-back group boots `LATE_AFTER_S` after the fleet's first
 * machine (its hosts at their planned offsets) and must receive every row acknowledged before and while it joined,
 * then take writes of its own that reach the others. Runs first (the rehearsal holds the fleet's last group back when
 * it is asked for).
 */
import { DrillResult } from '../report';
import { sleep } from '../shell';
import { DrillEnv, finish, joinedGroupWrites, newResult, notApplicable, now, startLoad, step } from './harness';

/** When the late group's first machine starts, after the fleet's first machine (s). */
export const LATE_AFTER_S = 180;
/** Least time the other groups write before the late group starts (s). */
const WRITES_BEFORE_S = 30;

export async function lateGroup(env: DrillEnv): Promise<DrillResult> {
  const r = newResult('late-group', env);
  const started = now();
  const late = env.lateBoot;
  if (!late) return notApplicable(r, started, 'the fleet booted without a held-back group (late-group must run first in its rehearsal)');
  const others = env.fleet.groups.filter((g) => g !== late.group);
  const writers = startLoad(env, r.drill, 900, others);
  const wait = Math.max(WRITES_BEFORE_S, LATE_AFTER_S - late.sinceFirstStartS());
  step(env, r, `${others.map((g) => g.name).join(', ')} take writes; node group ${late.group.name} boots in ${wait.toFixed(0)} s ` +
    `(${(late.sinceFirstStartS() + wait).toFixed(0)} s after the fleet's first machine)`);
  await sleep(wait * 1000);
  const t0 = now();
  const joined = await late.start();
  step(env, r, `node group ${late.group.name}: writable, replicating mesh ${joined.afterLastStartS} s after its last machine's start ` +
    `(${(now() - t0).toFixed(1)} s after its first)`);
  // Its own writes must reach the others too (the others' gap counts from the late boot, its own from its first write).
  await joinedGroupWrites(env, r, late.group, writers, t0);
  return finish(r, started);
}

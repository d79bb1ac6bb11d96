/** Steady load in every node group, no fault: the figures every other drill is read against. */
import { DrillResult } from '../report';
import { DrillEnv, finish, newResult, now, settle, startLoad, step } from './harness';

export async function baseline(env: DrillEnv): Promise<DrillResult> {
  const r = newResult('baseline', env);
  const started = now();
  const seconds = 15;
  step(env, r, `steady load: ${env.rate} rows/s in every group for ${seconds} s`);
  const writers = startLoad(env, r.drill, seconds);
  await Promise.all(writers.map((w) => w.done()));
  await settle(env, r, writers, started + 1);
  return finish(r, started);
}

/**
 * A node group is added to a running fleet, with the fleet's rows. The rehearsal boots the fleet as the `--shrunk`
 * stack has it (the stack without its last node group): the other groups' mesh documents are the shrunk stack's, and
 * the last group's machines are held back. The groups write; then the drill does what `cdktf deploy` of the full stack
 * does: it stores the groups' new mesh documents (they name the added group: subscriptions, slots, pg_hba) and boots
 * the added group's machines, every other group still writing. It fails if the full stack changes any machine the
 * fleet already runs, and on any acknowledged row missing anywhere: the rows written before the deploy reach the added
 * group only through its join (the copy), the later ones through its subscriptions. Runs first.
 */
import { writeFileSync } from 'fs';
import * as path from 'path';
import { MESH_KEEPER_SERVICE } from '../boot';
import { DrillResult } from '../report';
import { sleep } from '../shell';
import { readSynthesizedStack } from '../stack';
import { DrillEnv, finish, joinedGroupWrites, newResult, notApplicable, now, startLoad, step } from './harness';

/** How long the other groups write before the deploy (s): rows only the added group's copy can bring it. */
const WRITES_BEFORE_S = 45;

/** The shrunk stack's mesh documents that differ from the full stack's: what the fleet runs before the addition. */
export function documentsBeforeAddition(full: Record<string, string>, shrunk: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(shrunk).filter(([name, value]) => name in full && full[name] !== value));
}

export async function addGroup(env: DrillEnv): Promise<DrillResult> {
  const r = newResult('add-group', env);
  const started = now();
  const added = env.lateBoot;
  if (!added || !env.shrunkStack) {
    return notApplicable(r, started, 'add-group needs --shrunk STACK (the fleet without its last node group) and runs first');
  }
  const before = readSynthesizedStack(env.shrunkStack);
  const running = env.fleet.machines.filter((m) => !added.group.machines.includes(m));
  const changed = running.filter((m) => before.machines.find((x) => x.name === m.machine.name)?.userData !== m.machine.userData).map((m) => m.machine.name);
  const foreign = before.machines.filter((x) => added.group.machines.some((m) => m.machine.name === x.name)).map((x) => x.name);
  if (changed.length > 0 || foreign.length > 0) {
    r.status = 'fail';
    r.notes.push(`the stacks must differ by the added node group's machines only: ${[...changed, ...foreign].join(', ')} differ`);
    return finish(r, started);
  }
  const deployed = Object.entries(documentsBeforeAddition(env.fleet.literalSecretValues, before.literalSecretValues))
    .map(([name]) => [name, env.fleet.literalSecretValues[name]] as const);
  if (deployed.length === 0) return notApplicable(r, started, 'the shrunk stack\'s mesh documents are the full stack\'s: nothing is added');

  const others = env.fleet.groups.filter((g) => g !== added.group);
  const writers = startLoad(env, r.drill, 900, others);
  step(env, r, `${others.map((g) => g.name).join(', ')} run the shrunk stack's mesh documents and write for ${WRITES_BEFORE_S} s before the deploy`);
  await sleep(WRITES_BEFORE_S * 1000);
  // What cdktf deploy of the full stack does: new versions of the documents, and the added group's machines.
  const t0 = now();
  for (const [name, value] of deployed) writeFileSync(path.join(env.hosts.secretsDir, name), value, { mode: 0o644 });
  step(env, r, `deploy: stored the mesh documents ${deployed.map(([n]) => n).join(', ')}; node group ${added.group.name}'s machines boot`);
  const joined = await added.start();
  step(env, r, `node group ${added.group.name}: writable, replicating mesh ${joined.afterLastStartS} s after its last machine's start ` +
    `(${(now() - t0).toFixed(1)} s after the deploy)`);
  for (const m of added.group.members) {
    const log = await env.hosts.exec(m.machine.name, ['sh', '-c', `grep -h "mesh-keeper: join: copied" /var/log/standin/${MESH_KEEPER_SERVICE}.log 2>/dev/null | tail -n 1`], { allowFail: true });
    if (log.stdout.trim()) step(env, r, `${m.machine.name}: ${log.stdout.trim().replace(/^.*mesh-keeper: /, '')}`);
  }
  // Its own writes must reach the others too.
  await joinedGroupWrites(env, r, added.group, writers, t0);
  return finish(r, started);
}

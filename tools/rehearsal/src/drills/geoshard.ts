/** Rows of a geoshard partition must reach every group inside its geography and none outside. */
import { literal } from '../db';
import { DrillResult } from '../report';
import { sleep, waitFor } from '../shell';
import { DrillEnv, finish, newResult, now, step } from './harness';

export async function geoshard(env: DrillEnv): Promise<DrillResult> {
  const r = newResult('geoshard', env);
  const started = now();
  if (env.fleet.geoshards.length === 0) {
    r.status = 'n/a';
    r.notes.push('the stack declares no geoshard');
    return finish(r, started);
  }
  const writer = `${env.runId}-${env.drillNumber}-geoshard`;
  const count = 20;
  for (const shard of env.fleet.geoshards) {
    const home = shard.groups[0];
    const value = shard.values[0];
    await waitFor(`partition ${shard.partition} in ${shard.groups.join(', ')}`, 120_000, async () => {
      for (const g of shard.groups) {
        const rows = await env.access.query(g, `SELECT to_regclass(${literal(shard.partition)}) IS NOT NULL`);
        if (rows[0]?.[0] !== 't') return undefined;
      }
      return true;
    }, 1000);
    await env.access.query(home, `INSERT INTO ${shard.table} (region, writer, seq, grp) ` +
      `SELECT ${literal(value)}, ${literal(writer)}, g, ${literal(home)} FROM generate_series(1, ${count}) g`);
    step(env, r, `wrote ${count} rows with ${literal(value)} into ${shard.table} in ${home}`);
    const t1 = now();
    const countAt = async (g: string) => {
      const exists = await env.access.query(g, `SELECT to_regclass(${literal(shard.table)}) IS NOT NULL`);
      if (exists[0]?.[0] !== 't') return 0;
      return Number((await env.access.query(g, `SELECT count(*) FROM ${shard.table} WHERE writer = ${literal(writer)} AND region = ${literal(value)}`))[0][0]);
    };
    while (now() - t1 < env.convergeTimeoutS) {
      const inside = await Promise.all(shard.groups.map(countAt));
      if (inside.every((n) => n === count)) {
        r.converged = true;
        r.convergenceS = Number((now() - t1).toFixed(1));
        break;
      }
      await sleep(1000);
    }
    await sleep(3000);
    for (const g of env.fleet.groups) {
      const n = await countAt(g.name);
      const inside = shard.groups.includes(g.name);
      r.rows[g.name] = { acknowledged: g.name === home ? count : 0, inDoubt: 0, present: { [shard.partition]: n }, lost: inside ? count - n : 0, duplicated: 0 };
      if (!inside && n > 0) {
        r.converged = false;
        r.notes.push(`residency violated: ${n} rows of ${shard.partition} reached ${g.name}, outside the geography`);
      }
    }
  }
  r.lostRows = Math.max(...Object.values(r.rows).map((x) => x.lost));
  return finish(r, started);
}

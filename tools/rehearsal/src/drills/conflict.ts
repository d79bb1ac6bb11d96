/** Concurrent UPDATEs of the same rows in every group: all groups must converge to the same values. */
import { literal } from '../db';
import { DrillResult } from '../report';
import { sleep, waitFor } from '../shell';
import { DrillEnv, finish, newResult, now, step } from './harness';

export async function conflict(env: DrillEnv): Promise<DrillResult> {
  const r = newResult('conflict', env);
  const started = now();
  if (env.fleet.engine === 'native') {
    r.status = 'n/a';
    r.notes.push('native logical replication has no conflict resolution: each group applies the other\'s concurrent update of a row, ' +
      'so they can end up swapped (diverged); with native, write each row in one node group only');
    return finish(r, started);
  }
  if (env.fleet.groups.length < 2) {
    r.status = 'n/a';
    r.notes.push('one node group: no conflicts possible');
    return finish(r, started);
  }
  const writer = `${env.runId}-${env.drillNumber}-conflict-${env.profile.split(' ')[0]}`;
  const first = env.fleet.groups[0].name;
  const count = 20;
  await env.access.query(first, `INSERT INTO ${env.table} (writer, seq, grp) SELECT ${literal(writer)}, g, ${literal(first)} FROM generate_series(1, ${count}) g`);
  step(env, r, `seeded ${count} rows in ${first}`);
  await waitFor('the seed rows at every group', 120_000, async () => {
    for (const g of env.fleet.groups) {
      const rows = await env.access.query(g.name, `SELECT count(*) FROM ${env.table} WHERE writer = ${literal(writer)}`);
      if (Number(rows[0][0]) !== count) return undefined;
    }
    return true;
  }, 500);
  const rounds = 5;
  for (let round = 1; round <= rounds; round++) {
    await Promise.all(env.fleet.groups.map((g, i) => env.access.query(g.name,
      `UPDATE ${env.table} SET val = ${round * 100 + i}, grp = ${literal(g.name)} WHERE writer = ${literal(writer)}`)));
    await sleep(150);
  }
  const t1 = now();
  step(env, r, `${rounds} rounds of concurrent UPDATEs of the same ${count} rows in ${env.fleet.groups.map((g) => g.name).join(', ')}`);
  const sql = `SELECT string_agg(seq || '=' || val || '@' || grp, ',' ORDER BY seq) FROM ${env.table} WHERE writer = ${literal(writer)}`;
  let states: string[] = [];
  const deadline = now() + env.convergeTimeoutS;
  while (now() < deadline) {
    states = [];
    for (const g of env.fleet.groups) {
      const rows = await env.access.query(g.name, sql).catch(() => undefined);
      states.push(rows?.[0]?.[0] ?? '');
    }
    if (states[0] && states.every((s) => s === states[0])) {
      r.converged = true;
      r.convergenceS = Number((now() - t1).toFixed(1));
      break;
    }
    await sleep(1000);
  }
  for (const [i, g] of env.fleet.groups.entries()) {
    const present = states[i] ? states[i].split(',').length : 0;
    r.rows[g.name] = { acknowledged: i === 0 ? count : 0, inDoubt: 0, present: { seed: present }, lost: count - present, duplicated: 0 };
  }
  r.lostRows = Math.max(...Object.values(r.rows).map((x) => x.lost));
  if (r.converged) {
    const winners = new Map<string, number>();
    for (const item of states[0].split(',')) {
      const grp = item.split('@')[1];
      winners.set(grp, (winners.get(grp) ?? 0) + 1);
    }
    r.notes.push(`converged; last writes won: ${[...winners].map(([g, n]) => `${n} rows from ${g}`).join(', ')}`);
  } else {
    r.notes.push(`diverged: ${env.fleet.groups.map((g, i) => `${g.name}=${states[i].slice(0, 60)}`).join(' | ')}`);
  }
  return finish(r, started);
}

/**
 * Concurrent decrements of the same balance in every node group: with a delta-apply column every group must end at
 * exactly the start minus the sum of every acknowledged decrement. Each decrement is a distinct power of two, so the
 * difference between the balance found and the one expected tells exactly which decrements were lost (or applied
 * twice), not only that the sum is wrong.
 */
import { literal } from '../db';
import { DrillResult } from '../report';
import { sleep, waitFor } from '../shell';
import { DrillEnv, finish, newResult, now, step } from './harness';

/** Decrements in all (each 2^k with k unique, so the sum fits a bigint below the start). */
const DECREMENTS = 60;
const START = 1n << 62n;

function bits(n: bigint): number[] {
  const out: number[] = [];
  for (let k = 0; n > 0n; k++, n >>= 1n) if (n & 1n) out.push(k);
  return out;
}

export async function deltaApply(env: DrillEnv): Promise<DrillResult> {
  const r = newResult('delta-apply', env);
  const started = now();
  const column = env.fleet.deltaApplyColumns[0];
  if (env.fleet.engine !== 'spock') {
    r.status = 'n/a';
    r.notes.push(`delta-apply columns are a Spock feature; ${env.fleet.engine} resolves concurrent updates of a row by ` +
      `${env.fleet.engine === 'native' ? 'applying the last one to arrive (no conflict resolution)' : 'last-update-wins'}`);
    return finish(r, started);
  }
  if (!column || env.fleet.groups.length < 2) {
    r.status = 'n/a';
    r.notes.push(column ? 'one node group: no concurrent updates across groups' : 'the stack declares no delta-apply column');
    return finish(r, started);
  }
  const { table } = column;
  const col = column.column;
  const groups = env.fleet.groups.map((g) => g.name);
  const id = Date.now() * 100 + env.drillNumber;
  await env.access.query(groups[0], `INSERT INTO ${table} (id, ${col}) VALUES (${id}, ${START})`);
  step(env, r, `seeded ${table} id ${id} with ${col} = 2^62 in ${groups[0]}`);
  await waitFor(`the seeded balance at every group`, 120_000, async () => {
    for (const g of groups) {
      const rows = await env.access.query(g, `SELECT count(*) FROM ${table} WHERE id = ${id}`);
      if (rows[0]?.[0] !== '1') return undefined;
    }
    return true;
  }, 500);
  // Each round decrements the same row in every group at the same moment: every round is a conflict.
  const rounds = Math.floor(DECREMENTS / groups.length);
  const acked = new Map<string, bigint[]>(groups.map((g) => [g, []]));
  let inDoubt = 0n;
  const t0 = now();
  for (let round = 0; round < rounds; round++) {
    await Promise.all(groups.map(async (g, i) => {
      const amount = 1n << BigInt(round * groups.length + i);
      const res = await env.access.psql(g, `UPDATE ${table} SET ${col} = ${col} - ${amount} WHERE id = ${id}`, { timeoutMs: 15_000 });
      if (res.code === 0) acked.get(g)!.push(amount);
      else inDoubt |= amount;
    }));
  }
  const sum = [...acked.values()].flat().reduce((a, b) => a + b, 0n);
  const expected = START - sum;
  step(env, r, `${rounds} rounds of concurrent decrements in ${groups.join(', ')} (${[...acked.values()].flat().length} acknowledged) in ` +
    `${(now() - t0).toFixed(1)} s; expected ${col} = 2^62 - ${sum}`);
  const t1 = now();
  let values: string[] = [];
  while (now() - t1 < env.convergeTimeoutS) {
    values = await Promise.all(groups.map(async (g) =>
      (await env.access.query(g, `SELECT ${col} FROM ${table} WHERE id = ${id}`).catch(() => [['']]))[0]?.[0] ?? ''));
    if (values[0] && values.every((v) => v === values[0])) {
      r.converged = true;
      r.convergenceS = Number((now() - t1).toFixed(1));
      break;
    }
    await sleep(1000);
  }
  const setting = await env.access.query(groups[0], `SELECT coalesce(array_to_string(attoptions, ','), '') FROM pg_attribute ` +
    `WHERE attrelid = ${literal(table)}::regclass AND attname = ${literal(col)}`).catch(() => [['?']]);
  r.notes.push(`column options in ${groups[0]}: ${setting[0]?.[0] || '(none)'}`);
  for (const [i, g] of groups.entries()) {
    const found = values[i] ? BigInt(values[i]) : undefined;
    // Missing decrements leave the balance too high; decrements applied twice leave it too low. In-doubt ones may
    // or may not have committed, so they count as neither.
    const diff = found === undefined ? 0n : found - expected;
    const lost = diff > 0n ? bits(diff & ~inDoubt).length : 0;
    const duplicated = diff < 0n ? bits(-diff).length : 0;
    r.rows[g] = {
      acknowledged: acked.get(g)!.length, inDoubt: bits(inDoubt).length, present: { [`${table}.${col}`]: found === undefined ? 0 : 1 },
      lost, duplicated,
    };
    if (diff !== 0n) r.notes.push(`${g}: ${col} = 2^62 - ${START - (found ?? START)}, expected 2^62 - ${sum}: ${lost} decrement(s) lost, ${duplicated} applied twice`);
  }
  r.lostRows = Math.max(0, ...Object.values(r.rows).map((x) => x.lost));
  r.duplicatedRows = Math.max(0, ...Object.values(r.rows).map((x) => x.duplicated));
  if (r.converged && r.lostRows === 0 && r.duplicatedRows === 0) {
    r.notes.push(`every group holds 2^62 - ${sum}: each of the ${[...acked.values()].flat().length} concurrent decrements applied once`);
  }
  return finish(r, started);
}

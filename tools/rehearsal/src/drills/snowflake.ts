/**
 * Conflict-free ids: every node group generates snowflake ids at the same time and inserts them as rows of the
 * writers' table. After replication every group must hold every row, no id twice, and each id must decode
 * (`snowflake.get_node`) to the member that generated it.
 */
import { literal } from '../db';
import { DrillResult } from '../report';
import { sleep } from '../shell';
import { DrillEnv, finish, newResult, now, step } from './harness';

const ROUNDS = 10;
const PER_ROUND = 50;

export async function snowflake(env: DrillEnv): Promise<DrillResult> {
  const r = newResult('snowflake', env);
  const started = now();
  if (env.fleet.engine !== 'spock' || !env.fleet.snowflakeIds) {
    r.status = 'n/a';
    r.notes.push(env.fleet.engine !== 'spock'
      ? `snowflake ids come with Spock (pgEdge's snowflake extension); the ${env.fleet.engine} stack has none`
      : 'the stack does not turn snowflake ids on (replication.snowflakeIds)');
    return finish(r, started);
  }
  const groups = env.fleet.groups.map((g) => g.name);
  const writer = (g: string) => `${env.runId}-${env.drillNumber}-snowflake-${g}`;
  // The node id each group's leader stamps into its ids, as the leader reports it.
  const nodeOf = new Map<string, string>();
  const acked = new Map<string, number>(groups.map((g) => [g, 0]));
  for (let round = 0; round < ROUNDS; round++) {
    await Promise.all(groups.map(async (g) => {
      const from = round * PER_ROUND + 1;
      const rows = await env.access.query(g, `WITH ins AS (INSERT INTO ${env.table} (writer, seq, grp, val) ` +
        `SELECT ${literal(writer(g))}, s, ${literal(g)}, snowflake.nextval() FROM generate_series(${from}, ${from + PER_ROUND - 1}) s RETURNING val) ` +
        `SELECT count(*), current_setting('snowflake.node') FROM ins`);
      acked.set(g, acked.get(g)! + Number(rows[0][0]));
      const node = rows[0][1];
      if (nodeOf.has(g) && nodeOf.get(g) !== node) r.notes.push(`${g}: ids came from snowflake nodes ${nodeOf.get(g)} and ${node} (leader changed)`);
      nodeOf.set(g, node);
    }));
  }
  const total = [...acked.values()].reduce((a, b) => a + b, 0);
  step(env, r, `${ROUNDS} rounds of ${PER_ROUND} snowflake ids at once in each of ${groups.join(', ')} ` +
    `(leaders' snowflake nodes ${groups.map((g) => `${g}=${nodeOf.get(g)}`).join(', ')})`);
  const nodes = [...nodeOf.values()];
  if (new Set(nodes).size !== nodes.length) r.notes.push(`two groups' leaders share a snowflake node id: ${nodes.join(', ')}`);
  const writers = groups.map((g) => literal(writer(g))).join(', ');
  const t1 = now();
  let counts: number[] = [];
  while (now() - t1 < env.convergeTimeoutS) {
    counts = await Promise.all(groups.map(async (g) =>
      Number((await env.access.query(g, `SELECT count(*) FROM ${env.table} WHERE writer IN (${writers})`).catch(() => [['0']]))[0][0])));
    if (counts.every((n) => n === total)) {
      r.converged = true;
      r.convergenceS = Number((now() - t1).toFixed(1));
      break;
    }
    await sleep(1000);
  }
  let sameId = 0;
  let wrongNode = 0;
  const expectedNode = `CASE grp ${groups.map((x) => `WHEN ${literal(x)} THEN ${literal(nodeOf.get(x)!)}`).join(' ')} END`;
  for (const [i, g] of groups.entries()) {
    const [row] = await env.access.query(g, `SELECT count(*) - count(DISTINCT val), count(*) - count(DISTINCT (writer, seq)), ` +
      `count(*) FILTER (WHERE snowflake.get_node(val)::text <> ${expectedNode}) FROM ${env.table} WHERE writer IN (${writers})`);
    sameId = Math.max(sameId, Number(row[0]));
    wrongNode = Math.max(wrongNode, Number(row[2]));
    r.rows[g] = {
      acknowledged: acked.get(g)!, inDoubt: 0, present: { snowflake: counts[i] ?? 0 },
      lost: Math.max(0, total - (counts[i] ?? 0)), duplicated: Number(row[1]),
    };
  }
  r.lostRows = Math.max(...Object.values(r.rows).map((x) => x.lost));
  r.duplicatedRows = Math.max(...Object.values(r.rows).map((x) => x.duplicated));
  r.wrongValues = sameId + wrongNode;
  if (sameId > 0) r.notes.push(`${sameId} id(s) generated twice`);
  if (wrongNode > 0) r.notes.push(`${wrongNode} id(s) decode to another node than the member that generated them`);
  if (r.wrongValues === 0) {
    r.notes.push(`${total} ids generated concurrently in ${groups.length} groups: all unique, each decodes to its generating member's node id`);
  }
  return finish(r, started);
}

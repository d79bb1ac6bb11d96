/**
 * A changed declaration reaches the running fleet without touching a machine: the next stack (`--next`, e.g.
 * `rehearsal-next`: one more global table) must give every machine the very same user-data, and differ in the node
 * groups' mesh documents only. The drill stores the next stack's documents in the stand-in secret store (what
 * `cdktf deploy` of it does), waits until every member has taken the new generation (mesh-sync), then creates the new
 * tables in every group as the application would, writes rows in each group and checks that each group ends with
 * every group's rows.
 */
import { writeFileSync } from 'fs';
import * as path from 'path';
import { literal } from '../db';
import { readFleet } from '../fleet';
import { DrillResult } from '../report';
import { sleep, waitFor } from '../shell';
import { readSynthesizedStack } from '../stack';
import { DrillEnv, finish, newResult, notApplicable, now, step } from './harness';

const MESH_DIR = '/etc/distributed-postgres/mesh';

export async function meshUpdate(env: DrillEnv): Promise<DrillResult> {
  const r = newResult('mesh-update', env);
  const started = now();
  if (!env.nextStack) return notApplicable(r, started, 'no --next stack: nothing to update the fleet to');
  const next = readSynthesizedStack(env.nextStack);
  const nextFleet = readFleet(next);
  // Not a machine changes: same machines, byte-identical user-data.
  const changedMachines = env.fleet.machines.filter((m) => {
    const other = next.machines.find((x) => x.name === m.machine.name);
    return other === undefined || other.userData !== m.machine.userData;
  }).map((m) => m.machine.name);
  const added = next.machines.filter((x) => !env.fleet.machines.some((m) => m.machine.name === x.name)).map((x) => x.name);
  if (changedMachines.length > 0 || added.length > 0) {
    r.status = 'fail';
    r.notes.push(`the next stack changes machines: ${[...changedMachines, ...added].join(', ')} (a declaration change must reach the fleet through its mesh documents)`);
    return finish(r, started);
  }
  const documents = Object.entries(next.literalSecretValues).filter(([name, value]) => env.fleet.literalSecretValues[name] !== value);
  const tables = nextFleet.globalTables.filter((t) => !env.fleet.globalTables.includes(t));
  if (documents.length === 0 || tables.length === 0) {
    return notApplicable(r, started, 'the next stack declares no new global table in a changed mesh document');
  }
  // What cdktf deploy does: a new version of each changed document in the secret store.
  const t0 = now();
  for (const [name, value] of documents) writeFileSync(path.join(env.hosts.secretsDir, name), value, { mode: 0o644 });
  const generations = new Set(documents.map(([, value]) => String((JSON.parse(value) as { generation: string }).generation)));
  step(env, r, `stored the next stack's mesh documents ${documents.map(([n]) => n).join(', ')} (generations ${[...generations].join(', ')}); user-data of all ${env.fleet.machines.length} machines unchanged`);
  const members = env.fleet.groups.flatMap((g) => g.members.map((m) => m.machine.name));
  await waitFor('every member to take the new mesh document', 180_000, async () => {
    for (const host of members) {
      const out = await env.hosts.exec(host, ['cat', `${MESH_DIR}/generation`], { allowFail: true });
      if (!generations.has(out.stdout.trim())) return undefined;
    }
    return true;
  }, 2000);
  step(env, r, `every member holds the new generation after ${(now() - t0).toFixed(1)} s (mesh-sync runs every 60 s)`);
  // Each group's leader applies it at once: its mesh.status says complete, updated since its mesh-sync took them.
  await waitFor('each group\'s leader to apply the new mesh document', 120_000, async () => {
    for (const g of env.fleet.groups) {
      let applied = false;
      for (const m of g.members) {
        const status = (await env.hosts.exec(m.machine.name, ['sh', '-c',
          `cat /var/lib/distributed-postgres/mesh.status; echo "synced=$(stat -c %Y ${MESH_DIR}/generation)"`], { allowFail: true })).stdout;
        const updated = Date.parse(/^updated=(.*)$/m.exec(status)?.[1] ?? '') / 1000;
        const synced = Number(/^synced=(\d+)$/m.exec(status)?.[1] ?? Infinity);
        if (/^state=complete$/m.test(status) && updated >= synced) applied = true;
      }
      if (!applied) return undefined;
    }
    return true;
  }, 2000);
  step(env, r, `each group's leader applied it after ${(now() - t0).toFixed(1)} s`);
  // The application creates the new tables in every group, then writes in each.
  for (const table of tables) {
    for (const g of env.fleet.groups) {
      await env.access.query(g.name, `CREATE TABLE IF NOT EXISTS ${table} (writer text NOT NULL, seq bigint NOT NULL, grp text NOT NULL, PRIMARY KEY (writer, seq))`);
    }
  }
  step(env, r, `created ${tables.join(', ')} in every group`);
  const writer = `${env.runId}-${env.drillNumber}-mesh-update`;
  const count = 50;
  // The table joins its replication set in the transaction that creates it (event trigger) or at the leader's next
  // mesh check (10 s): write in rounds, so rows written before then are seen missing rather than passed over.
  const t1 = now();
  for (const table of tables) {
    for (const g of env.fleet.groups) {
      await env.access.query(g.name, `INSERT INTO ${table} (writer, seq, grp) SELECT ${literal(`${writer}-${g.name}`)}, s, ${literal(g.name)} ` +
        `FROM generate_series(1, ${count}) s ON CONFLICT DO NOTHING`);
    }
  }
  const expected = env.fleet.groups.length * count;
  const counts = async () => Object.fromEntries(await Promise.all(env.fleet.groups.map(async (g) => [g.name,
    Number((await env.access.query(g.name, `SELECT count(*) FROM ${tables[0]} WHERE writer LIKE ${literal(`${writer}-%`)}`))[0][0])] as const)));
  let seen: Record<string, number> = {};
  while (now() - t1 < env.convergeTimeoutS) {
    seen = await counts();
    if (Object.values(seen).every((n) => n === expected)) {
      r.converged = true;
      r.convergenceS = Number((now() - t1).toFixed(1));
      break;
    }
    await sleep(1000);
  }
  for (const g of env.fleet.groups) {
    r.rows[g.name] = { acknowledged: count, inDoubt: 0, present: { [tables[0]]: seen[g.name] ?? 0 }, lost: expected - (seen[g.name] ?? 0), duplicated: 0 };
  }
  r.lostRows = Math.max(0, ...Object.values(r.rows).map((x) => x.lost));
  step(env, r, r.converged
    ? `${tables[0]}: every group holds all ${expected} rows after ${r.convergenceS} s`
    : `${tables[0]}: rows per group ${JSON.stringify(seen)}, ${expected} expected`);
  return finish(r, started);
}

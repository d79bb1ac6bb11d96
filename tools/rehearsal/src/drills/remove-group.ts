/**
 * A node group leaves the declaration (`--shrunk`, e.g. `rehearsal-shrunk`: the fleet without its last group), and the
 * rest of the fleet lets go of it cleanly. The drill checks that the shrunk stack keeps every remaining machine's
 * user-data byte for byte, then does what `cdktf deploy` of it does: stores the remaining groups' new mesh documents,
 * deletes the removed group's document and destroys its machines. Then, on every remaining group: no subscription to
 * the removed group is left (the leader's mesh-keeper drops it), no logical slot outside its document's permanent slots
 * is left on any member (Patroni drops the removed group's slots once the leader wrote the document's slots to the
 * DCS, so no WAL is kept for a group that no longer exists), pg_hba.conf on every member no longer admits the removed
 * group's addresses, and the group still takes writes (and, with two groups left or more, replicates them).
 * It destroys machines, so it runs last.
 */
import { rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import { literal } from '../db';
import { decodeMeshDocument, MeshDocumentContent, meshDocumentTexts } from '../fleet';
import { DrillResult } from '../report';
import { sleep, waitFor } from '../shell';
import { readSynthesizedStack } from '../stack';
import { DrillEnv, finish, newResult, notApplicable, now, step } from './harness';

const MESH_DIR = '/etc/distributed-postgres/mesh';

type PatroniPart = NonNullable<MeshDocumentContent['patroni']>;

/** Patroni's part of a stored mesh document (undefined for a value that is no mesh document or has none). */
function patroniPartOf(value: string | undefined): PatroniPart | undefined {
  try {
    return decodeMeshDocument(value)?.patroni;
  } catch {
    return undefined;
  }
}

/** Waits until `left()` finds nothing (up to `timeoutMs`) and returns what it found last: empty when it cleared. */
async function waitUntilNone(what: string, timeoutMs: number, left: () => Promise<string[]>): Promise<string[]> {
  let found: string[] = [];
  await waitFor(what, timeoutMs, async () => {
    found = await left();
    return found.length === 0 ? true : undefined;
  }, 2000).catch(() => undefined);
  return found;
}

export async function removeGroup(env: DrillEnv): Promise<DrillResult> {
  const r = newResult('remove-group', env);
  const started = now();
  if (!env.shrunkStack) return notApplicable(r, started, 'no --shrunk stack: nothing to shrink the fleet to');
  const next = readSynthesizedStack(env.shrunkStack);
  const kept = env.fleet.groups.filter((g) => g.machines.every((m) => next.machines.some((x) => x.name === m.machine.name)));
  const removed = env.fleet.groups.filter((g) => !kept.includes(g));
  const foreign = next.machines.filter((x) => !env.fleet.machines.some((m) => m.machine.name === x.name)).map((x) => x.name);
  const changed = kept.flatMap((g) => g.machines).filter((m) => next.machines.find((x) => x.name === m.machine.name)!.userData !== m.machine.userData)
    .map((m) => m.machine.name);
  if (removed.length === 0 || kept.length === 0 || foreign.length > 0) {
    return notApplicable(r, started, `the shrunk stack must keep some node groups' machines and drop every machine of the others (kept ${kept.length}, removed ${removed.length}, new machines ${foreign.length})`);
  }
  if (changed.length > 0) {
    r.status = 'fail';
    r.notes.push(`the shrunk stack changes the user-data of ${changed.join(', ')} (removing a node group must reach the others through their mesh documents)`);
    return finish(r, started);
  }
  const documents = Object.entries(next.literalSecretValues).filter(([name, value]) => env.fleet.literalSecretValues[name] !== value);
  const gone = Object.keys(env.fleet.literalSecretValues).filter((name) => !(name in next.literalSecretValues) && patroniPartOf(env.fleet.literalSecretValues[name]));
  const parts = Object.fromEntries(documents.map(([name, value]) => [name, patroniPartOf(value)] as const));
  if (documents.length === 0 || Object.values(parts).some((p) => p === undefined)) {
    return notApplicable(r, started, 'the shrunk stack changes no mesh document with a Patroni part');
  }
  // The pg_hba lines that admitted the removed groups: in the documents before, in none after.
  const before = Object.values(env.fleet.literalSecretValues).map(patroniPartOf).filter((p): p is PatroniPart => p !== undefined);
  const after = Object.values(parts) as PatroniPart[];
  const refused = [...new Set(before.flatMap((p) => p.pg_hba))].filter((line) => !after.some((p) => p.pg_hba.includes(line)));
  const removedMachines = removed.flatMap((g) => g.machines.map((m) => m.machine.name));

  // What cdktf deploy of the shrunk stack does: new document versions, the removed group's document and machines gone.
  const t0 = now();
  for (const [name, value] of documents) writeFileSync(path.join(env.hosts.secretsDir, name), value, { mode: 0o644 });
  for (const name of gone) rmSync(path.join(env.hosts.secretsDir, name), { force: true });
  for (const host of removedMachines) await env.hosts.destroyMachine(host);
  step(env, r, `stored the shrunk stack's mesh documents ${documents.map(([n]) => n).join(', ')}, deleted ${gone.join(', ') || 'none'}, ` +
    `destroyed ${removedMachines.join(', ')} (node group ${removed.map((g) => g.name).join(', ')}); user-data of the other machines unchanged`);

  const generations = new Set(documents.map(([, value]) => String((JSON.parse(value) as { generation: string }).generation)));
  const members = kept.flatMap((g) => g.members.map((m) => m.machine));
  await waitFor('every remaining member to take its new mesh document', 180_000, async () => {
    for (const m of members) {
      const out = await env.hosts.exec(m.name, ['cat', `${MESH_DIR}/generation`], { allowFail: true });
      if (!generations.has(out.stdout.trim())) return undefined;
    }
    return true;
  }, 2000);
  step(env, r, `every remaining member holds its new generation after ${(now() - t0).toFixed(1)} s (mesh-sync runs every 60 s)`);

  const subscriptionsSql = env.fleet.engine === 'native' ? 'SELECT subname FROM pg_subscription ORDER BY 1'
    : `SELECT sub_name FROM ${env.fleet.engine}.subscription ORDER BY 1`;
  // A subscription to the removed group: one the group's document named before and no longer names.
  const textsBefore = meshDocumentTexts(env.fleet.literalSecretValues);
  const textsAfter = meshDocumentTexts(next.literalSecretValues);
  const dropped = (name: string) => Object.keys(textsAfter).some((doc) => textsBefore[doc]?.includes(`'${name}'`) && !textsAfter[doc].includes(`'${name}'`));
  const subscriptionsLeft = async () => (await Promise.all(kept.map(async (g) =>
    (await env.access.query(g.name, subscriptionsSql)).filter((row) => dropped(row[0])).map((row) => `${g.name}: ${row[0]}`)))).flat();
  const left = await waitUntilNone('no subscription to the removed node group', 180_000, subscriptionsLeft);
  if (left.length > 0) {
    r.status = 'fail';
    r.notes.push(`subscriptions to the removed node group still there: ${left.join(', ')}`);
    return finish(r, started);
  }
  step(env, r, `no subscription to ${removed.map((g) => g.name).join(', ')} after ${(now() - t0).toFixed(1)} s`);

  // Spock's slots are its own (Patroni ignores them): only the engines whose mesh slots are Patroni's are checked.
  const documentOf = (group: string) => parts[documents.find(([name]) => name.endsWith(`mesh-${group}`))?.[0] ?? ''];
  if (env.fleet.engine !== 'spock') {
    const extraSlots = async () => (await Promise.all(kept.flatMap((g) => g.members.map(async (m) => {
      const wanted = Object.keys(documentOf(g.name)?.slots ?? {});
      const rows = await env.access.query(g.name, "SELECT slot_name FROM pg_replication_slots WHERE slot_type = 'logical' ORDER BY 1",
        { member: m.machine.privateIp }).catch(() => [['?']]);
      return rows.map((row) => row[0]).filter((slot) => !wanted.includes(slot)).map((slot) => `${m.machine.name}: ${slot}`);
    })))).flat();
    const extra = await waitUntilNone('no slot for the removed node group on any remaining member', 180_000, extraSlots);
    if (extra.length > 0) {
      r.status = 'fail';
      r.notes.push(`logical slots no document asks for (they keep WAL for a group that is gone): ${extra.join(', ')}`);
      return finish(r, started);
    }
    step(env, r, `every remaining member holds only its document's logical slots after ${(now() - t0).toFixed(1)} s`);
  } else {
    r.notes.push('slots not checked: Spock keeps its own slots (Patroni ignores spock_output slots)');
  }

  const admitted = await waitUntilNone('pg_hba.conf without the removed node group\'s addresses on every remaining member', 120_000, async () =>
    (await Promise.all(members.map(async (m) => {
      const hba = (await env.hosts.exec(m.name, ['sh', '-c', 'cat /var/lib/postgresql/*/data/pg_hba.conf'], { allowFail: true })).stdout;
      const lines = hba.split('\n').map((l) => l.trim().replace(/\s+/g, ' '));
      return refused.filter((line) => lines.includes(line.replace(/\s+/g, ' '))).map((line) => `${m.name}: ${line}`);
    }))).flat());
  if (admitted.length > 0 || refused.length === 0) {
    r.status = 'fail';
    r.notes.push(refused.length === 0 ? 'the documents admitted no address of the removed group (nothing to check)' : `pg_hba still admits: ${admitted.join('; ')}`);
    return finish(r, started);
  }
  step(env, r, `pg_hba.conf on every remaining member refuses the removed group's ${refused.length} lines after ${(now() - t0).toFixed(1)} s`);

  // The rest of the fleet still takes writes and (with two groups or more) replicates them.
  const writer = `${env.runId}-${env.drillNumber}-remove-group`;
  const count = 50;
  for (const g of kept) {
    await env.access.query(g.name, `INSERT INTO ${env.table} (writer, seq, grp) SELECT ${literal(`${writer}-${g.name}`)}, s, ${literal(g.name)} ` +
      `FROM generate_series(1, ${count}) s ON CONFLICT DO NOTHING`);
  }
  const expected = kept.length * count;
  const t1 = now();
  let seen: Record<string, number> = {};
  while (now() - t1 < env.convergeTimeoutS) {
    seen = Object.fromEntries(await Promise.all(kept.map(async (g) => [g.name,
      Number((await env.access.query(g.name, `SELECT count(*) FROM ${env.table} WHERE writer LIKE ${literal(`${writer}-%`)}`))[0][0])] as const)));
    if (Object.values(seen).every((n) => n === expected)) {
      r.converged = true;
      r.convergenceS = Number((now() - t1).toFixed(1));
      break;
    }
    await sleep(1000);
  }
  for (const g of kept) {
    r.rows[g.name] = { acknowledged: count, inDoubt: 0, present: { [env.table]: seen[g.name] ?? 0 }, lost: expected - (seen[g.name] ?? 0), duplicated: 0 };
  }
  r.lostRows = Math.max(0, ...Object.values(r.rows).map((x) => x.lost));
  step(env, r, r.converged ? `every remaining group holds all ${expected} rows written after the removal` : `rows per group ${JSON.stringify(seen)}, ${expected} expected`);
  return finish(r, started);
}

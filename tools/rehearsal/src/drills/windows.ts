/**
 * Issue 12's failover windows, opened on purpose rather than hoped for by random crashes. Both cut a leader off from
 * its own standbys for a few seconds (blackhole routes: WAL stops before it reaches them; the cut is far shorter than
 * ttl 20 / retry_timeout 9, so Patroni keeps the leader in place), let logical replication move a row past the point
 * a failover can take back, then crash that leader's machine:
 *
 * - subscriber-window: the subscriber group's leader applies a row from the provider group, flushes it locally and
 *   confirms it to the provider's logical slot; its standbys never received it; it crashes and a standby is promoted
 *   without the row; the provider's slot has moved past it, so it is never sent again: the row is lost there.
 * - provider-window: the provider group's leader commits a row (its client waits for the synchronous standby, so it is
 *   never acknowledged) and its walsender sends it to the subscriber group; the leader crashes and a standby without
 *   the row is promoted: the subscriber holds a row its provider lacks, and its replication origin points past the
 *   new leader's WAL, so the promoted provider's next commits in that range may be skipped (the drill's transaction
 *   carries 128 kB of WAL to make that range a few hundred rows wide).
 *
 * The other group's writer starts only after the crash: during the cut its rows would open the opposite window as
 * well (its leader is a provider too), and each drill is meant to name one window.
 */
import { FleetGroup } from '../fleet';
import { literal } from '../db';
import { DrillResult } from '../report';
import { sleep, waitFor } from '../shell';
import {
  awaitNewLeader, DrillEnv, finish, machineByIp, newResult, notApplicable, now, settle, startLoad, startWatch, step, waitForLeader, waitHealthy, waitWritable,
} from './harness';

/**
 * How long a cut may last at most before the drill crashes the leader anyway (under retry_timeout 9): the wait
 * for the window ends at the cut plus WINDOW_WAIT_S, the evidence (queries of 2 s at most, in parallel) follows.
 */
const MAX_CUT_S = 8;
const WINDOW_WAIT_S = 5;

/** waitFor bounded by an absolute deadline (epoch s), also when one probe is slow: undefined when it passed. */
async function waitUntil<T>(deadline: number, probe: () => Promise<T | undefined>): Promise<T | undefined> {
  while (now() < deadline) {
    const left = (deadline - now()) * 1000;
    const value = await Promise.race([probe().catch(() => undefined), sleep(Math.max(0, left)).then(() => undefined)]);
    if (value !== undefined) return value;
    await sleep(150);
  }
  return undefined;
}
/** Seq of the provider-window's own row (the writers' seqs count from 1 and never get near). */
const MARKER_SEQ = 1_000_000;
/** Size of the provider-window's transaction (bytes of WAL a logical message adds): a few hundred writer rows' worth. */
const WIDEN_BYTES = 131_072;

/** A pg_lsn text (`16/B374D848`) as a number to compare; an empty one (no WAL received) as -1. */
export function lsnValue(lsn: string | undefined): number {
  const m = /^([0-9A-Fa-f]+)\/([0-9A-Fa-f]+)$/.exec(lsn ?? '');
  return m ? parseInt(m[1], 16) * 2 ** 32 + parseInt(m[2], 16) : -1;
}

function standbyNames(g: FleetGroup, leaderIp: string): string[] {
  return g.members.filter((m) => m.machine.privateIp !== leaderIp).map((m) => m.machine.name);
}

/** `SELECT count(*)` of one (writer, seq) row, at one member (any role) of a group. */
async function rowCount(env: DrillEnv, group: string, member: string, writer: string, seq: number): Promise<number | undefined> {
  const rows = await env.access.query(group, `SELECT count(*) FROM ${env.table} WHERE writer = ${literal(writer)} AND seq = ${seq}`,
    { member, timeoutMs: 3000 }).catch(() => undefined);
  return rows?.[0] ? Number(rows[0][0]) : undefined;
}

/** Where one row is after the drill, per group (through each group's leader). */
async function rowWhere(env: DrillEnv, writer: string, seq: number): Promise<Record<string, boolean | undefined>> {
  const out: Record<string, boolean | undefined> = {};
  for (const g of env.fleet.groups) {
    const rows = await env.access.query(g.name, `SELECT count(*) FROM ${env.table} WHERE writer = ${literal(writer)} AND seq = ${seq}`,
      { timeoutMs: 10_000 }).catch(() => undefined);
    out[g.name] = rows?.[0] ? Number(rows[0][0]) > 0 : undefined;
  }
  return out;
}

function describeWhere(where: Record<string, boolean | undefined>): string {
  return Object.entries(where).map(([g, v]) => `${g}: ${v === undefined ? '?' : v ? 'yes' : 'no'}`).join(', ');
}

/**
 * Evidence that WAL did not reach the standbys: the leader's flushed WAL position against each standby's received
 * position, and whether the row is at each standby. Recorded in r.window and the steps; returns whether every standby
 * lacks the row and is behind the leader.
 */
async function standbyEvidence(env: DrillEnv, r: DrillResult, g: FleetGroup, leaderIp: string, writer: string, seq: number): Promise<boolean> {
  const window = r.window!;
  const standbys = g.members.filter((x) => x.machine.privateIp !== leaderIp);
  let behind = true;
  const parts: string[] = [];
  // All at once, 2 s at most: the cut must stay short.
  const [leaderLsn, ...answers] = await Promise.all([
    env.access.query(g.name, 'SELECT pg_current_wal_flush_lsn()', { member: leaderIp, timeoutMs: 2000 }).then((x) => x[0]?.[0], () => undefined),
    ...standbys.map(async (m) => (await env.access.query(g.name,
      `SELECT pg_last_wal_receive_lsn(), (SELECT count(*) FROM ${env.table} WHERE writer = ${literal(writer)} AND seq = ${seq})`,
      { member: m.machine.privateIp, timeoutMs: 2000 }).catch(() => []))[0]),
  ]) as [string | undefined, ...(string[] | undefined)[]];
  window.leaderFlushLsn = leaderLsn ?? '?';
  for (const [i, m] of standbys.entries()) {
    const got = answers[i];
    const lsn = got?.[0] ?? '?';
    const rowThere = got ? Number(got[1]) > 0 : undefined;
    window[`standby ${m.machine.name} receiveLsn`] = lsn;
    window[`standby ${m.machine.name} hasRow`] = rowThere === undefined ? '?' : rowThere;
    if (!got || !leaderLsn || !(lsnValue(got[0]) < lsnValue(leaderLsn)) || rowThere !== false) behind = false;
    parts.push(`${m.machine.name} received ${lsn}, row ${rowThere === undefined ? '?' : rowThere ? 'present' : 'absent'}`);
  }
  step(env, r, `leader ${leaderIp} flushed WAL to ${leaderLsn ?? '?'}; standbys: ${parts.join('; ')}`);
  const unanswered = !leaderLsn || answers.some((a) => !a);
  if (!behind) {
    r.notes.push(unanswered
      ? `window not verified: not every member answered within 2 s (leader ${leaderLsn ?? '?'}; ${parts.join('; ')})`
      : `window not open: a standby has the row or the leader's WAL (${parts.join('; ')})`);
  }
  return behind;
}

/** Crashes the cut-off leader's machine, records how long the cut lasted, and heals the cut; returns the crash time. */
async function crashAndHeal(env: DrillEnv, r: DrillResult, host: string, t0: number): Promise<number> {
  const t1 = now();
  await env.hosts.crash(host);
  const cutS = t1 - t0;
  r.window = { ...r.window, cutS: Number(cutS.toFixed(1)) };
  step(env, r, `crashed ${host} ${cutS.toFixed(1)} s after the cut (window ${r.window.opened ? 'open' : 'NOT open'})`);
  if (cutS > MAX_CUT_S) r.notes.push(`the cut lasted ${cutS.toFixed(1)} s (more than ${MAX_CUT_S} s: Patroni may have demoted the leader itself)`);
  await env.hosts.heal();
  return t1;
}

export async function subscriberWindow(env: DrillEnv): Promise<DrillResult> {
  const r = newResult('subscriber-window', env);
  const started = now();
  if (env.fleet.groups.length < 2) return notApplicable(r, started, 'one node group: no subscriber');
  const [provider, subscriber] = env.fleet.groups;
  await waitForLeader(env, provider.name);
  const leader = await waitForLeader(env, subscriber.name);
  r.leaderBefore = leader;
  const host = machineByIp(env, leader).machine.name;
  const standbys = standbyNames(subscriber, leader);
  const [pWriter] = startLoad(env, r.drill, 240, [provider]);
  const watch = startWatch(env, r.drill, 300, subscriber);
  await waitWritable([pWriter], now(), 60);
  await sleep(2000);
  const t0 = now();
  await env.hosts.cutHosts(host, standbys);
  step(env, r, `cut ${host} (leader of ${subscriber.name}) off from its standbys ${standbys.join(', ')}; ${provider.name} keeps writing`);
  await sleep(800);
  // A row of the provider acknowledged during the cut, and the provider's WAL position after it.
  const seq = pWriter.acked[pWriter.acked.length - 1];
  const key = `${pWriter.spec.writer}:${seq}`;
  const lsn = (await env.access.query(provider.name, 'SELECT pg_current_wal_lsn()', { timeoutMs: 2000 }))[0][0];
  r.window = { row: key, providerLsn: lsn, opened: false };
  let lastSeen = 'nothing answered';
  const opened = await waitUntil(t0 + WINDOW_WAIT_S, async () => {
    const [count, slots] = await Promise.all([
      rowCount(env, subscriber.name, leader, pWriter.spec.writer, seq),
      env.access.query(provider.name,
        `SELECT count(*), count(*) FILTER (WHERE confirmed_flush_lsn >= ${literal(lsn)}::pg_lsn), string_agg(slot_name || ' ' || confirmed_flush_lsn, ', ') ` +
        "FROM pg_replication_slots WHERE slot_type = 'logical' AND active", { timeoutMs: 2000 }).then((x) => x[0], () => undefined),
    ]);
    lastSeen = `(${(now() - t0).toFixed(1)} s after the cut) row at ${host}: ${count ?? '?'}; active logical slots: ${slots ? `${slots[1]} of ${slots[0]} confirmed past it (${slots[2]})` : '?'}`;
    return count === 1 && slots && Number(slots[0]) > 0 && slots[0] === slots[1] ? slots[2] : undefined;
  });
  r.window.lastSeen = lastSeen;
  if (!opened) r.notes.push(`window not confirmed open within ${WINDOW_WAIT_S} s of the cut (row ${key}, ${provider.name} LSN ${lsn}): last seen ${lastSeen}`);
  if (opened) {
    r.window.confirmedSlots = opened;
    step(env, r, `row ${key} applied at ${host}; ${provider.name}'s logical slots confirmed past ${lsn}: ${opened}`);
  }
  const behind = await standbyEvidence(env, r, subscriber, leader, pWriter.spec.writer, seq);
  r.window.opened = !!opened && behind;
  const t1 = await crashAndHeal(env, r, host, t0);
  await waitFor(`a new leader in ${subscriber.name}`, 180_000, async () => watch.leaderAfter(t1, leader), 250);
  const elected = watch.leaderAfter(t1, leader)!;
  r.timeToLeaderS = Number((elected.t - t1).toFixed(1));
  r.leaderAfter = elected.member;
  step(env, r, `new leader ${elected.member} in ${subscriber.name} after ${r.timeToLeaderS} s`);
  // Writes at the promoted subscriber too, from now on (its rows must reach the provider).
  const [sWriter] = startLoad(env, r.drill, 200, [subscriber]);
  await waitWritable([sWriter], now(), 120);
  await sleep(2000);
  const rebootAt = now();
  await env.hosts.boot(host, true);
  step(env, r, `powered ${host} on again`);
  await waitHealthy(env, 180);
  step(env, r, `${host} rejoined ${subscriber.name} after ${(now() - rebootAt).toFixed(1)} s`);
  await sleep(3000);
  await watch.stop();
  env.active.delete(watch);
  await settle(env, r, [pWriter, sWriter], t0);
  const where = await rowWhere(env, pWriter.spec.writer, seq);
  r.notes.push(`row ${key} (acknowledged at ${provider.name}, ${opened ? 'applied and confirmed' : 'written during the cut, its confirmation not seen'} ` +
    `at ${subscriber.name}'s old leader ${host}, which then crashed) is at ${describeWhere(where)}`);
  return finish(r, started);
}

export async function providerWindow(env: DrillEnv): Promise<DrillResult> {
  const r = newResult('provider-window', env);
  const started = now();
  if (env.fleet.groups.length < 2) return notApplicable(r, started, 'one node group: no subscriber');
  const [provider, subscriber] = env.fleet.groups;
  await waitForLeader(env, subscriber.name);
  const leader = await waitForLeader(env, provider.name);
  r.leaderBefore = leader;
  const host = machineByIp(env, leader).machine.name;
  const standbys = standbyNames(provider, leader);
  const [pWriter] = startLoad(env, r.drill, 300, [provider]);
  await waitWritable([pWriter], now(), 60);
  await sleep(2000);
  const writer = pWriter.spec.writer;
  const key = `${writer}:${MARKER_SEQ}`;
  const t0 = now();
  await env.hosts.cutHosts(host, standbys);
  step(env, r, `cut ${host} (leader of ${provider.name}) off from its standbys ${standbys.join(', ')}`);
  // The drill's own row: committed at the leader, whose COMMIT then waits for the synchronous standby (never
  // acknowledged). Not awaited: the client hangs until the crash cuts it off. Its transaction is a large one (a
  // transactional logical message no subscriber applies): it ends WIDEN_BYTES past what the standbys received, so the
  // subscriber's replication origin points that far past the WAL the promoted standby continues, and the promoted
  // provider's first commits (the writer's acknowledged rows) fall into the range a resumed subscription skips.
  const pending = env.access.psql(provider.name,
    `BEGIN; SELECT pg_logical_emit_message(true, 'dpg-rehearsal-window', repeat('x', ${WIDEN_BYTES})); ` +
    `INSERT INTO ${env.table} (writer, seq, grp) VALUES (${literal(writer)}, ${MARKER_SEQ}, ${literal(provider.name)}); COMMIT;`,
    { member: leader, timeoutMs: 120_000 });
  r.window = { row: key, opened: false };
  const seen = (await waitUntil(t0 + WINDOW_WAIT_S, async () => {
    const rows = await env.access.query(subscriber.name,
      `SELECT count(*) FROM ${env.table} WHERE writer = ${literal(writer)} AND seq = ${MARKER_SEQ}`, { timeoutMs: 2000 });
    return Number(rows[0][0]) === 1 ? true : undefined;
  })) ?? false;
  if (!seen) r.notes.push(`window not confirmed open: row ${key} not seen at ${subscriber.name} within ${WINDOW_WAIT_S} s of the cut`);
  if (seen) step(env, r, `row ${key} committed at ${host} (its client still waits) and applied at ${subscriber.name}`);
  const behind = await standbyEvidence(env, r, provider, leader, writer, MARKER_SEQ);
  r.window.opened = seen && behind;
  const t1 = await crashAndHeal(env, r, host, t0);
  await awaitNewLeader(env, r, provider.name, pWriter, leader, t1);
  const inserted = await pending;
  step(env, r, `the client of row ${key} ended: ${inserted.code === 0 ? 'COMMIT returned' : `no acknowledgement (${(inserted.stderr.trim().split('\n')[0] ?? '').slice(0, 120)})`}`);
  if (inserted.code === 0) r.notes.push(`row ${key}'s COMMIT returned although the standbys were cut off`);
  const [sWriter] = startLoad(env, r.drill, 200, [subscriber]);
  await waitWritable([sWriter], now(), 120);
  const rebootAt = now();
  await env.hosts.boot(host, true);
  step(env, r, `powered ${host} on again`);
  await waitHealthy(env, 180);
  step(env, r, `${host} rejoined ${provider.name} after ${(now() - rebootAt).toFixed(1)} s; ${provider.name}'s promoted leader keeps writing`);
  await sleep(5000);
  await settle(env, r, [pWriter, sWriter], t0);
  const where = await rowWhere(env, writer, MARKER_SEQ);
  const holders = Object.entries(where).filter(([, v]) => v).map(([g]) => g);
  if (holders.length > 0 && holders.length < env.fleet.groups.length) {
    r.notes.push(`row ${key} (committed at ${provider.name}'s old leader ${host}, never acknowledged) is only at ${holders.join(', ')} ` +
      `(${describeWhere(where)}): ${provider.name} lost it in the failover, ${subscriber.name} kept it`);
  } else {
    r.notes.push(`row ${key} (committed at ${provider.name}'s old leader ${host}, never acknowledged) is at ${describeWhere(where)}`);
  }
  return finish(r, started);
}

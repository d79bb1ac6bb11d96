/**
 * A node group cut off for longer than the others' retention budget (issue 17): the last node group is cut off while
 * every group's writer keeps writing and the other groups (its providers) write WAL well past their
 * `max_slot_wal_keep_size` (bulk inserts into a scratch table no one replicates). Checked:
 *  - bounded: each provider member's pg_wal, sampled every second during the cut, stays under its WAL budget (the
 *    declared share of its data disk, which the library's max_slot_wal_keep_size leaves room in for max_wal_size,
 *    wal_keep_size and two segments) and under max_slot_wal_keep_size + the max_wal_size of the cut + wal_keep_size +
 *    2 segments (both less the segments still waiting to be archived at that sample, which pgBackRest's own queue
 *    bound caps); the report has the maximum next to each term;
 *  - serving: every group keeps taking writes (no gap over MAX_GAP_S), the cut group too;
 *  - invalidated: the providers' slots for the cut group go to wal_status `lost`;
 *  - detected: after the heal, the cut group's mesh.status lists `resync-needed=<provider>` for each of them within
 *    DETECT_TIMEOUT_S, mesh-keeper logged it once and disabled the subscription, and the group's leader still serves;
 *  - monitoring: the exporters show it and the stack's alert rules fire on what they serve (the real promtool);
 *  - re-synced: RESYNC_SETTLE_S after the detection the cut group re-syncs by itself (mesh-keeper, through the join
 *    path), its status is complete without resync-needed again, and the series and alerts clear;
 *  - rows: at the end every group holds every acknowledged row of every writer (the cut group's gap is 0), none twice;
 *  - clean: the fleet's anti-entropy check on the cut group's leader finds nothing after the re-sync.
 *
 * The budget must be small (a minute of bulk writes, not hours): the rehearsal gives every host a small data disk
 * (`--data-disk-mb`, LONG_PARTITION_DISK_MB by default with this drill), from which each member computes its
 * max_slot_wal_keep_size at boot, as on a cloud disk; and for the cut the drill lowers max_wal_size on the providers
 * through Patroni's dynamic configuration, as an operator would (a 1 GB max_wal_size would outgrow such a disk),
 * and resets it afterwards. Opt-in (the small data disks are for the whole run).
 */
import { literal } from '../db';
import { FleetGroup } from '../fleet';
import { DrillResult, LongPartitionFigures, LongPartitionProvider } from '../report';
import { sleep, waitFor } from '../shell';
import { firingAlerts, Scraped } from './alert-check';
import { EXPORTER_PORTS, find, scrapeExporter } from './metrics';
import { DrillEnv, finish, machineByIp, newResult, notApplicable, now, startLoad, step, waitForLeader, waitHealthy } from './harness';

/**
 * Each host's data disk with this drill (MB): the WAL budget is 20 % of it by default (1331 MB), and
 * max_slot_wal_keep_size what that leaves after max_wal_size (1 GB as the library assumes it), wal_keep_size (128 MB)
 * and two segments: 147 MB.
 */
export const LONG_PARTITION_DISK_MB = 6656;
/** max_wal_size on the providers during the cut (Patroni's dynamic configuration; reset afterwards). */
export const LONG_PARTITION_MAX_WAL_SIZE_MB = 128;
/** WAL each provider writes during the cut, in multiples of its budget + max_wal_size ("well past the budget"). */
const WAL_FACTOR = 3;
/** Longest write gap a group may have during the drill (s): longer, and it stopped serving. */
const MAX_GAP_S = 30;
/** Longest wait for the providers' slots to be lost (s). */
const LOSS_TIMEOUT_S = 600;
/** Longest wait after the heal for the cut group's status to say it needs a re-sync (s). */
const DETECT_TIMEOUT_S = 120;
/** The library's RESYNC_SETTLE_SECONDS (the rehearsal reads stacks, never the library): a re-sync starts this long after the detection. */
const RESYNC_SETTLE_S = 60;
/** Longest wait from the detection until the cut group re-synced (s): the settle time and the re-sync itself. */
const RESYNC_TIMEOUT_S = RESYNC_SETTLE_S + 300;
/** Margin of the pg_wal bound, in WAL segments (the segment being written and the next one, preallocated). */
const MARGIN_SEGMENTS = 2;
const SCRATCH = 'public.dpg_long_partition_scratch';
const STATUS_FILE = '/var/lib/distributed-postgres/mesh.status';
const PATRONI_TEMPLATE = '/etc/distributed-postgres/patroni.yml.template';
const KEEPER_LOG = '/var/log/standin/distributed-postgres-mesh.service.log';
const ARCHIVE_QUEUE_CONF = '/etc/pgbackrest/conf.d/archive-queue.conf';
const ANTI_ENTROPY = '/usr/local/lib/distributed-postgres/anti-entropy';
const MB = 1024 * 1024;

interface Provider {
  readonly group: FleetGroup;
  readonly leaderIp: string;
  readonly dataDir: string;
  readonly figures: LongPartitionProvider;
  /** pg_current_wal_lsn() on its leader when the cut began. */
  startLsn?: string;
  done?: boolean;
}

function mb(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`;
}

export async function longPartition(env: DrillEnv): Promise<DrillResult> {
  const r = newResult('long-partition', env);
  const started = now();
  if (env.fleet.groups.length < 2) return notApplicable(r, started, 'one node group: nothing to cut off');
  const cut = env.fleet.groups[env.fleet.groups.length - 1];
  const violations: string[] = [];
  const hostOf = (ip: string) => machineByIp(env, ip).machine.name;

  // The budget each provider computed at boot, and what else keeps WAL there.
  const providers: Provider[] = [];
  for (const g of env.fleet.groups.filter((x) => x !== cut)) {
    const leaderIp = await waitForLeader(env, g.name);
    const [[budget, walKeep, segment, dataDir]] = await env.access.query(g.name,
      "SELECT pg_size_bytes(current_setting('max_slot_wal_keep_size')), pg_size_bytes(current_setting('wal_keep_size')), " +
      "pg_size_bytes(current_setting('wal_segment_size')), " +
      "current_setting('data_directory')");
    const queue = await env.hosts.exec(hostOf(leaderIp), ['cat', ARCHIVE_QUEUE_CONF], { allowFail: true });
    // The WAL budget as the member computed it at boot: the template's share of the data directory's file system.
    const share = await env.hosts.exec(hostOf(leaderIp), ['sh', '-c', `grep -o 'disk-share:[^}]*' ${PATRONI_TEMPLATE}; stat -f -c '%S %b' ${dataDir}`], { allowFail: true });
    const [, percent] = /disk-share:[^:]*:(\d+)/.exec(share.stdout) ?? [];
    const [, blockSize, blocks] = /^(\d+) (\d+)$/m.exec(share.stdout) ?? [];
    const walBudgetBytes = percent && blocks ? Math.floor((Number(blockSize) * Number(blocks) * Number(percent)) / 100 / MB) * MB : undefined;
    const queueMb = /archive-push-queue-max=(\d+)MB/.exec(queue.stdout)?.[1];
    providers.push({
      group: g, leaderIp, dataDir,
      figures: {
        group: g.name, budgetBytes: Number(budget), maxWalSizeBytes: LONG_PARTITION_MAX_WAL_SIZE_MB * MB, walKeepSizeBytes: Number(walKeep),
        segmentBytes: Number(segment), archiveQueueMaxBytes: queueMb ? Number(queueMb) * MB : undefined,
        boundBytes: 0, walBudgetBytes, walWrittenBytes: 0, members: [], slots: [],
      },
    });
  }
  for (const p of providers) {
    const f = p.figures;
    f.boundBytes = f.budgetBytes + f.maxWalSizeBytes + f.walKeepSizeBytes + MARGIN_SEGMENTS * f.segmentBytes;
    step(env, r, `${p.group.name}: WAL budget ${f.walBudgetBytes === undefined ? 'unknown' : mb(f.walBudgetBytes)} (its share of the data disk), ` +
      `max_slot_wal_keep_size ${mb(f.budgetBytes)} (computed at boot from it), wal_keep_size ${mb(f.walKeepSizeBytes)}, ` +
      `segments ${mb(f.segmentBytes)}, archive queue max ${f.archiveQueueMaxBytes === undefined ? '-' : mb(f.archiveQueueMaxBytes)}`);
    if (f.budgetBytes <= 0 || f.budgetBytes > 1024 * MB) {
      violations.push(`${p.group.name}: max_slot_wal_keep_size is ${f.budgetBytes} bytes: this drill needs a small budget (run with --data-disk-mb ${LONG_PARTITION_DISK_MB})`);
    }
  }
  if (violations.length) return failWith(r, started, violations);

  // The slots the cut group streams from (the same name at each provider), and their resume slots where the engine has them.
  const slotSql = env.fleet.engine === 'native' ? 'SELECT subslotname FROM pg_subscription WHERE subslotname IS NOT NULL'
    : `SELECT sub_slot_name FROM ${env.fleet.engine === 'spock' ? 'spock' : 'pglogical'}.subscription`;
  const cutSlots = (await env.access.query(cut.name, slotSql)).map(([s]) => s);
  const cutLeaderIp = await waitForLeader(env, cut.name);

  // max_wal_size through Patroni's dynamic configuration (the providers only), as an operator would.
  for (const p of providers) await setMaxWalSize(env, p, `${LONG_PARTITION_MAX_WAL_SIZE_MB}MB`);
  step(env, r, `max_wal_size ${LONG_PARTITION_MAX_WAL_SIZE_MB}MB on ${providers.map((p) => p.group.name).join(', ')} (Patroni's dynamic configuration)`);
  for (const p of providers) {
    await env.access.query(p.group.name, `CREATE TABLE IF NOT EXISTS ${SCRATCH} (id bigint, filler text)`);
  }

  const writers = startLoad(env, r.drill, 1800);
  let sampling = true;
  let generating = true;
  const samplers: Promise<void>[] = [];
  let t0 = 0;
  let t1 = 0;
  let detectedAfterS: number | undefined;
  let monitoring: LongPartitionFigures['monitoring'];
  let monitoringAfterResync: LongPartitionFigures['monitoringAfterResync'];
  let resync: LongPartitionFigures['resync'];
  try {
    await sleep(3000);
    for (const p of providers) [[p.startLsn]] = await env.access.query(p.group.name, 'SELECT pg_current_wal_lsn()');
    t0 = now();
    await env.hosts.partition(cut.name);
    step(env, r, `cut node group ${cut.name} off from ${providers.map((p) => p.group.name).join(', ')}; every group keeps writing, ` +
      `the providers write WAL until their slots for ${cut.name} (${cutSlots.join(', ')}) are lost and ${WAL_FACTOR} x (budget + max_wal_size) is written`);

    // Every second: pg_wal on each provider member (and what waits to be archived), the slots on each provider's leader.
    for (const p of providers) {
      for (const m of p.group.members) {
        const host = m.machine.name;
        const member = { host, maxPgWalBytes: 0, readyAtMax: 0, samples: 0, overBound: 0 };
        p.figures.members.push(member);
        samplers.push((async () => {
          while (sampling) {
            const out = await env.hosts.exec(host, ['sh', '-c',
              `du -sb ${p.dataDir}/pg_wal | cut -f1; ls ${p.dataDir}/pg_wal/archive_status 2>/dev/null | grep -c '\\.ready$'`], { allowFail: true, timeoutMs: 10_000 });
            const [size, ready] = out.stdout.trim().split('\n').map(Number);
            if (Number.isFinite(size) && size > 0) {
              member.samples++;
              if (size > member.maxPgWalBytes) { member.maxPgWalBytes = size; member.readyAtMax = ready || 0; }
              if (size - (ready || 0) * p.figures.segmentBytes > p.figures.boundBytes) member.overBound++;
            }
            await sleep(1000);
          }
        })());
      }
      samplers.push((async () => {
        while (sampling) {
          const rows = await env.access.query(p.group.name,
            "SELECT slot_name, coalesce(wal_status, '-'), coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0)::bigint, " +
            `pg_wal_lsn_diff(pg_current_wal_lsn(), ${literal(p.startLsn!)})::bigint FROM pg_replication_slots WHERE slot_type = 'logical'`,
          { timeoutMs: 10_000 }).catch(() => []);
          for (const [slot, status, held, written] of rows) {
            p.figures.walWrittenBytes = Math.max(p.figures.walWrittenBytes, Number(written));
            let s = p.figures.slots.find((x) => x.slot === slot);
            if (!s) { s = { slot, forCutGroup: cutSlots.some((c) => slot === c || slot === `${c}_r`), maxRetainedBytes: 0, lastStatus: status }; p.figures.slots.push(s); }
            s.lastStatus = status;
            if (status !== 'lost') s.maxRetainedBytes = Math.max(s.maxRetainedBytes, Number(held));
            if (status === 'lost' && s.lostAfterS === undefined) s.lostAfterS = Number((now() - t0).toFixed(1));
          }
          await sleep(1000);
        }
      })());
    }

    // Bulk writes into the scratch table (about 50 MB of WAL a round), each provider until its cut slots are lost and
    // it wrote WAL_FACTOR x (budget + max_wal_size).
    const generators = providers.map(async (p) => {
      const target = WAL_FACTOR * (p.figures.budgetBytes + p.figures.maxWalSizeBytes);
      while (generating) {
        const lost = cutSlots.every((c) => p.figures.slots.find((s) => s.slot === c)?.lastStatus === 'lost');
        if (lost && p.figures.walWrittenBytes >= target) { p.done = true; return; }
        if (now() - t0 > LOSS_TIMEOUT_S) return;
        await env.access.query(p.group.name,
          `INSERT INTO ${SCRATCH} SELECT g, repeat('x', 400) FROM generate_series(1, 100000) g; TRUNCATE ${SCRATCH}`, { timeoutMs: 120_000 })
          .catch((e) => step(env, r, `${p.group.name}: bulk write failed: ${(e as Error).message.split('\n')[0]}`));
      }
    });
    await Promise.all(generators);
    generating = false;
    for (const p of providers) {
      const f = p.figures;
      const lostAfter = cutSlots.map((c) => f.slots.find((s) => s.slot === c)?.lostAfterS);
      f.lostAfterS = lostAfter.every((x) => x !== undefined) ? Math.max(...(lostAfter as number[])) : undefined;
      step(env, r, `${p.group.name}: ${mb(f.walWrittenBytes)} of WAL written since the cut; slot(s) for ${cut.name} ` +
        `${f.lostAfterS === undefined ? 'NOT lost' : `lost ${f.lostAfterS} s after the cut`}`);
      if (!p.done) violations.push(`${p.group.name}: its slots for ${cut.name} were not lost (or ${WAL_FACTOR} x the budget not written) within ${LOSS_TIMEOUT_S} s`);
    }
    // A few more samples after the last checkpoint removed what the lost slots held.
    await sleep(10_000);
    sampling = false;
    await Promise.all(samplers);
    t1 = now();
    await env.hosts.heal();
    step(env, r, `healed after ${(t1 - t0).toFixed(1)} s`);
    for (const p of providers) {
      const f = p.figures;
      f.maxPgWalBytes = Math.max(...f.members.map((m) => m.maxPgWalBytes));
      f.maxSlotRetainedBytes = Math.max(0, ...f.slots.map((s) => s.maxRetainedBytes));
      for (const m of f.members) {
        step(env, r, `${m.host}: pg_wal at most ${mb(m.maxPgWalBytes)} (${m.readyAtMax} segments waiting to be archived then; ${m.samples} samples) ` +
          `against a bound of ${mb(f.boundBytes)} = max_slot_wal_keep_size ${mb(f.budgetBytes)} + max_wal_size ${mb(f.maxWalSizeBytes)} + ` +
          `wal_keep_size ${mb(f.walKeepSizeBytes)} + ${MARGIN_SEGMENTS} segments (+ segments waiting to be archived), and a WAL budget of ` +
          `${f.walBudgetBytes === undefined ? 'unknown' : mb(f.walBudgetBytes)}`);
        if (m.samples === 0) violations.push(`${m.host}: pg_wal could not be sampled`);
        if (m.overBound > 0) violations.push(`${m.host}: pg_wal over its bound in ${m.overBound} of ${m.samples} samples (max ${mb(m.maxPgWalBytes)}, bound ${mb(f.boundBytes)})`);
        if (f.walBudgetBytes === undefined) violations.push(`${m.host}: its WAL budget could not be read (${PATRONI_TEMPLATE}, the data disk)`);
        else if (m.maxPgWalBytes - m.readyAtMax * f.segmentBytes > f.walBudgetBytes) {
          violations.push(`${m.host}: pg_wal reached ${mb(m.maxPgWalBytes)} (${m.readyAtMax} segments waiting to be archived), over its WAL budget of ${mb(f.walBudgetBytes)}`);
        }
      }
    }

    // Detection: the cut group's status names each provider that lost its slot, within DETECT_TIMEOUT_S of the heal.
    const leaderHost = hostOf(cutLeaderIp);
    const expected = providers.filter((p) => p.figures.lostAfterS !== undefined).map((p) => p.group.name);
    let status = '';
    const detectedAt = await waitFor(`resync-needed for ${expected.join(', ')} in ${cut.name}'s mesh.status`, DETECT_TIMEOUT_S * 1000, async () => {
      status = (await env.hosts.exec(leaderHost, ['cat', STATUS_FILE], { allowFail: true })).stdout;
      return expected.every((g) => status.split('\n').includes(`resync-needed=${g}`)) ? now() : undefined;
    }, 1000).catch(() => undefined);
    if (detectedAt === undefined) {
      violations.push(`${cut.name}: mesh.status did not list resync-needed for ${expected.join(', ')} within ${DETECT_TIMEOUT_S} s of the heal (it says: ${status.trim().split('\n').join('; ')})`);
    } else {
      detectedAfterS = Number((detectedAt - t1).toFixed(1));
      step(env, r, `${cut.name} (${leaderHost}): mesh.status lists ${expected.map((g) => `resync-needed=${g}`).join(', ')} ${(detectedAt - t1).toFixed(1)} s after the heal`);
    }
    // The cut group keeps serving meanwhile: a few seconds more of writes everywhere, then what the keeper did (all
    // inside the re-sync's settle time, as is the monitoring check below).
    await sleep(5_000);
    const subsSql = env.fleet.engine === 'native' ? 'SELECT subname, subenabled FROM pg_subscription ORDER BY 1'
      : `SELECT sub_name, sub_enabled FROM ${env.fleet.engine === 'spock' ? 'spock' : 'pglogical'}.subscription ORDER BY 1`;
    const subs = await env.access.query(cut.name, subsSql).catch(() => []);
    const recorded = await env.access.query(cut.name, 'SELECT provider, coalesce(applied_up_to::text, \'-\'), detected_at FROM distributed_postgres.resync_needed ORDER BY 1')
      .catch(() => []);
    const logged = (await env.hosts.exec(leaderHost, ['grep', '-c', ' lost slot ', KEEPER_LOG], { allowFail: true })).stdout.trim();
    step(env, r, `${cut.name}: subscriptions ${subs.map(([s, e]) => `${s} ${e === 't' ? 'enabled' : 'disabled'}`).join(', ')}; ` +
      `recorded: ${recorded.map(([p, lsn, at]) => `${p} (applied up to ${lsn}, at ${at})`).join(', ') || 'nothing'}; mesh-keeper logged a lost slot ${logged || 0} time(s)`);
    if (detectedAt !== undefined && Number(logged || 0) !== expected.length) {
      violations.push(`${cut.name}: mesh-keeper logged a lost slot ${logged || 0} time(s), expected once per provider (${expected.length})`);
    }
    monitoring = await monitoringAfterHeal(env, r, cut, providers.filter((p) => expected.includes(p.group.name)), violations);

    // The re-sync, by itself: RESYNC_SETTLE_S after the detection the cut group copies its rows anew from its source
    // (writers keep writing everywhere, the cut group's too), then subscribes again.
    if (detectedAt !== undefined) {
      const resyncAt = await waitFor(`${cut.name}'s re-sync (mesh.status without resync-needed, state=complete)`, RESYNC_TIMEOUT_S * 1000, async () => {
        status = (await env.hosts.exec(hostOf(await waitForLeader(env, cut.name)), ['cat', STATUS_FILE], { allowFail: true })).stdout;
        const lines = status.split('\n');
        return lines.includes('state=complete') && !lines.some((l) => l.startsWith('resync-needed=')) ? now() : undefined;
      }, 2000).catch(() => undefined);
      const copied = (await env.hosts.exec(leaderHost, ['sh', '-c', `grep -o 'copied [0-9]* rows from .* (re-sync)' ${KEEPER_LOG} | tail -n 1`], { allowFail: true })).stdout.trim();
      resync = { afterDetectionS: resyncAt === undefined ? undefined : Number((resyncAt - detectedAt).toFixed(1)), copied: copied || undefined };
      if (resyncAt === undefined) {
        violations.push(`${cut.name}: not re-synced within ${RESYNC_TIMEOUT_S} s of the detection (mesh.status: ${status.trim().split('\n').join('; ')})`);
      } else {
        step(env, r, `${cut.name}: re-synced by itself ${resync.afterDetectionS} s after the detection (settle ${RESYNC_SETTLE_S} s): ${copied || 'no copy logged'}`);
        monitoringAfterResync = await monitoringCleared(env, r, cut, providers.filter((p) => expected.includes(p.group.name)), violations);
      }
    }
  } finally {
    generating = false;
    sampling = false;
    await Promise.all(samplers);
    if (t0 > 0 && t1 === 0) await env.hosts.heal();
    for (const p of providers) await setMaxWalSize(env, p, null).catch((e) => r.notes.push(`${p.group.name}: max_wal_size not reset: ${(e as Error).message}`));
    for (const p of providers) await env.access.query(p.group.name, `DROP TABLE IF EXISTS ${SCRATCH}`).catch(() => undefined);
  }
  // Gaps up to the moment the writers are asked to stop (a writer may take seconds to exit).
  const end = now();
  await Promise.all(writers.map((w) => w.stop()));
  writers.forEach((w) => env.active.delete(w));

  // Serving: every group took writes all along.
  for (const w of writers) {
    const gap = w.writeGap(t0, end);
    r.writeGapS[w.spec.group] = Number(gap.toFixed(2));
    if (w.acked.length === 0) violations.push(`writer in ${w.spec.group} got no write acknowledged (${w.errors.slice(-1)[0]?.msg ?? w.diagnostics})`);
    if (gap > MAX_GAP_S) violations.push(`${w.spec.group} stopped taking writes for ${gap.toFixed(1)} s (more than ${MAX_GAP_S} s)`);
    if (w.splitBrains.length) {
      r.splitBrain = true;
      violations.push(`split brain in ${w.spec.group}: ${w.splitBrains.map((s) => s.leaders.join('+')).join('; ')}`);
    }
  }

  // Rows: every group holds every acknowledged row of every writer (waited for, up to the convergence timeout); what the
  // cut group still lacks of the providers' is the gap, which the re-sync must have closed.
  const cutWriter = writers.find((w) => w.spec.group === cut.name)!;
  const names = writers.map((w) => literal(w.spec.writer)).join(', ');
  const rowsAt = async (g: FleetGroup) => {
    const rows = await env.access.query(g.name, `SELECT writer, seq, count(*) FROM ${env.table} WHERE writer IN (${names}) GROUP BY 1, 2`, { timeoutMs: 30_000 });
    return { keys: new Set(rows.map(([w, s]) => `${w}:${s}`)), duplicated: rows.reduce((n, [, , c]) => n + Number(c) - 1, 0) };
  };
  const cutKeys = cutWriter.acked.map((s) => `${cutWriter.spec.writer}:${s}`);
  let held = new Map<string, { keys: Set<string>; duplicated: number }>();
  const settleStart = now();
  await waitFor(`every acknowledged row at every group (${cut.name}'s at the providers, theirs at ${cut.name})`, env.convergeTimeoutS * 1000, async () => {
    held = new Map(await Promise.all(env.fleet.groups.map(async (g) => [g.name, await rowsAt(g)] as const)));
    return env.fleet.groups.every((g) => writers.every((w) => w.acked.every((s) => held.get(g.name)!.keys.has(`${w.spec.writer}:${s}`)))) ? true : undefined;
  }, 2000).catch(() => undefined);
  const gap = { rows: 0, beforeCut: 0, duringCut: 0, afterHeal: 0 };
  for (const g of env.fleet.groups) {
    const h = held.get(g.name)!;
    const perWriter: Record<string, number> = {};
    for (const w of writers) perWriter[w.spec.group] = [...h.keys].filter((k) => k.startsWith(`${w.spec.writer}:`)).length;
    let lost = 0;
    for (const w of writers) {
      const missing = w.acked.map((s, i) => ({ key: `${w.spec.writer}:${s}`, t: w.ackTimes[i] })).filter((x) => !h.keys.has(x.key));
      if (g === cut && w !== cutWriter) {
        gap.rows += missing.length;
        for (const x of missing) {
          if (x.t < t0) gap.beforeCut++; else if (x.t <= t1) gap.duringCut++; else gap.afterHeal++;
        }
      } else if (missing.length) {
        lost += missing.length;
        violations.push(`${g.name} lacks ${missing.length} acknowledged rows of ${w.spec.group}, e.g. ${missing.slice(0, 3).map((x) => x.key).join(' ')}`);
      }
    }
    r.rows[g.name] = {
      acknowledged: writers.find((w) => w.spec.group === g.name)?.acked.length ?? 0,
      inDoubt: writers.find((w) => w.spec.group === g.name)?.doubts.length ?? 0,
      present: perWriter, lost, duplicated: h.duplicated,
    };
    r.lostRows += lost;
    r.duplicatedRows += h.duplicated;
  }
  const cutRowsReached = Object.fromEntries(providers.map((p) => [p.group.name, cutKeys.filter((k) => held.get(p.group.name)!.keys.has(k)).length]));
  step(env, r, `${cut.name}'s ${cutKeys.length} acknowledged rows reached ${Object.entries(cutRowsReached).map(([g, n]) => `${g}: ${n}`).join(', ')} ` +
    `(${(now() - settleStart).toFixed(1)} s after the writers stopped)`);
  r.converged = gap.rows === 0 && r.lostRows === 0;
  if (gap.rows > 0) {
    violations.push(`${cut.name} lacks ${gap.rows} acknowledged rows of ${providers.map((p) => p.group.name).join(', ')} after its re-sync ` +
      `(${gap.beforeCut} acknowledged before the cut, ${gap.duringCut} during it, ${gap.afterHeal} after the heal)`);
  }
  // Converged, values too: the fleet's anti-entropy check on the cut group's leader compares every replicated table
  // with each peer (rows the re-sync replaced, deleted or kept), and must find nothing.
  let antiEntropy: string | undefined;
  {
    const leaderHost = hostOf(await waitForLeader(env, cut.name));
    const ae = await env.hosts.exec(leaderHost, ['sh', '-c', '. /etc/distributed-postgres/member.env && runuser -u postgres -- env PGPASSFILE=/var/lib/postgresql/.pgpass ' +
      `${ANTI_ENTROPY} "$DPG_PG_BIN/psql" "host=/var/run/postgresql port=$DPG_PG_PORT dbname=$DPG_DATABASE" /etc/distributed-postgres/mesh/anti-entropy.sql`],
    { allowFail: true, timeoutMs: 300_000 });
    antiEntropy = /^state=(.*)$/m.exec(ae.stdout)?.[1] ?? `not run (${(ae.stderr || ae.stdout).trim().split('\n').pop()})`;
    const findings = ae.stdout.split('\n').filter((l) => l.startsWith('finding='));
    step(env, r, `anti-entropy on ${leaderHost}: ${antiEntropy}${findings.length ? `: ${findings.slice(0, 2).join('; ').slice(0, 400)}` : ''}`);
    if (antiEntropy !== 'clean') violations.push(`${cut.name}: its anti-entropy check says ${antiEntropy} after the re-sync (expected clean)`);
  }
  r.longPartition = {
    antiEntropy,
    cutGroup: cut.name, cutSeconds: Number((t1 - t0).toFixed(1)), providers: providers.map((p) => p.figures), detectedAfterS, cutRowsReached, gap, monitoring,
    resync, monitoringAfterResync,
  };
  try {
    await waitHealthy(env);
  } catch (e) {
    violations.push((e as Error).message);
  }
  return failWith(r, started, violations);
}

/** Sets (or, with null, removes) max_wal_size in a provider's dynamic configuration and waits until its leader has it. */
async function setMaxWalSize(env: DrillEnv, p: Provider, value: string | null): Promise<void> {
  const leader = await waitForLeader(env, p.group.name);
  const [code, body] = await env.access.rest(p.group.name, leader, '/config', 'PATCH', { postgresql: { parameters: { max_wal_size: value } } });
  if (code !== 200) throw new Error(`PATCH /config on ${leader} answered ${code}: ${body.slice(0, 200)}`);
  const want = value ?? '1GB';
  await waitFor(`max_wal_size ${want} on ${p.group.name}'s leader`, 60_000, async () => {
    const rows = await env.access.query(p.group.name, "SELECT current_setting('max_wal_size')").catch(() => [['']]);
    return rows[0]?.[0] === want ? true : undefined;
  }, 1000);
}

/** The verdict: any violation fails the drill (each named in the notes), as do lost or duplicated rows and a split brain. */
async function failWith(r: DrillResult, started: number, violations: string[]): Promise<DrillResult> {
  r.notes.push(...violations);
  const result = await finish(r, started);
  // finish() judges convergence over the whole drill; here the rows are judged at the end (a gap is a violation).
  result.status = violations.length > 0 || result.lostRows > 0 || result.duplicatedRows > 0 || result.splitBrain ? 'fail' : 'pass';
  return result;
}

/** The alerts a long partition must fire once its slots are lost: the cut group needs a re-sync, a provider's slot is lost. */
const EXPECTED_ALERTS = ['DpgMeshResyncNeeded', 'DpgSlotLost'];
/** How long the exporters may take to show it (mesh-keeper writes its textfile every 10 s). */
const MONITORING_WAIT_MS = 60_000;

/** What the exporters of the cut group's leader and of each provider's leader show of a lost slot, as Prometheus would. */
interface LostSlotSeries {
  /** Every exposition, labelled with its `instance`, for promtool. */
  readonly scraped: Scraped[];
  /** Providers for which the cut group's leader serves `dpg_mesh_resync_needed` 1. */
  readonly resyncNeeded: string[];
  /** Providers whose leader serves `dpg_slot_info{peer_group=<cut group>,wal_status="lost"}` 1. */
  readonly lostSlot: string[];
  /** Exporters (`host:port`) that gave no HTTPS answer. */
  readonly silent: string[];
}

async function scrapeLostSlotSeries(env: DrillEnv, cut: FleetGroup, lost: Provider[]): Promise<LostSlotSeries> {
  const scraped: Scraped[] = [];
  const silent: string[] = [];
  const scrape = async (group: string, ip: string, port: number) => {
    const text = await scrapeExporter(env, group, ip, port);
    if (text === undefined) silent.push(`${ip}:${port}`);
    else scraped.push({ instance: `${ip}:${port}`, text });
    return text;
  };
  const cutIp = await waitForLeader(env, cut.name);
  const cutNode = await scrape(cut.name, cutIp, EXPORTER_PORTS.node);
  await scrape(cut.name, cutIp, EXPORTER_PORTS.postgres);
  const resyncNeeded = cutNode === undefined ? [] : lost.map((p) => p.group.name)
    .filter((g) => find(cutNode, 'dpg_mesh_resync_needed', { node_group: cut.name, provider_group: g }).includes(1));
  const lostSlot: string[] = [];
  for (const p of lost) {
    const ip = await waitForLeader(env, p.group.name);
    const pg = await scrape(p.group.name, ip, EXPORTER_PORTS.postgres);
    await scrape(p.group.name, ip, EXPORTER_PORTS.node);
    if (pg !== undefined && find(pg, 'dpg_slot_info', { node_group: p.group.name, peer_group: cut.name, wal_status: 'lost' }).includes(1)) lostSlot.push(p.group.name);
  }
  return { scraped, resyncNeeded, lostSlot, silent };
}

/** The stack's alerts among EXPECTED_ALERTS that the real promtool fires on `scraped`; undefined (and a note) without promtool. */
async function expectedAlertsFiring(env: DrillEnv, r: DrillResult, scraped: Scraped[], violations: string[]): Promise<Map<string, string[]> | undefined> {
  const rules = env.stackDir ? `${env.stackDir}/alerts.rules.yml` : '';
  const firing = await firingAlerts(rules, scraped, EXPECTED_ALERTS).catch((e) => {
    violations.push(`alert check (promtool test rules on ${rules}): ${(e as Error).message}`);
    return new Map<string, string[]>();
  });
  if (firing === undefined) r.notes.push(`alerts not evaluated: no promtool (Debian's prometheus package) or no ${rules || 'stack directory'}`);
  return firing;
}

/**
 * Monitoring after the heal, as Prometheus would see it: the cut group's leader serves `dpg_mesh_resync_needed` 1 for
 * each provider that lost its slot, each such provider's leader serves `dpg_slot_info{wal_status="lost"}` 1 for the
 * cut group's slot, and the stack's `alerts.rules.yml` fires DpgMeshResyncNeeded and DpgSlotLost on exactly those
 * series (the real promtool). They clear with the re-sync (`monitoringCleared`).
 */
async function monitoringAfterHeal(env: DrillEnv, r: DrillResult, cut: FleetGroup, lost: Provider[],
  violations: string[]): Promise<LongPartitionFigures['monitoring']> {
  if (lost.length === 0) return undefined;
  let shown = await scrapeLostSlotSeries(env, cut, lost);
  await waitFor('the lost slot\'s series', MONITORING_WAIT_MS, async () => {
    shown = await scrapeLostSlotSeries(env, cut, lost);
    return shown.resyncNeeded.length === lost.length && shown.lostSlot.length === lost.length ? true : undefined;
  }, 2000).catch(() => undefined);
  const missing = (got: string[]) => lost.map((p) => p.group.name).filter((g) => !got.includes(g)).join(', ');
  const silent = shown.silent.length ? ` (no HTTPS answer from ${shown.silent.join(', ')})` : '';
  if (shown.resyncNeeded.length !== lost.length) violations.push(`${cut.name}: its leader's node_exporter does not serve dpg_mesh_resync_needed 1 for ${missing(shown.resyncNeeded)}${silent}`);
  if (shown.lostSlot.length !== lost.length) violations.push(`${missing(shown.lostSlot)}: the leader's postgres_exporter does not serve dpg_slot_info{peer_group="${cut.name}",wal_status="lost"} 1${silent}`);
  step(env, r, `monitoring: ${cut.name}'s leader serves dpg_mesh_resync_needed 1 for ${shown.resyncNeeded.join(', ') || 'none'}; ` +
    `dpg_slot_info{wal_status="lost"} 1 for ${cut.name}'s slot on ${shown.lostSlot.join(', ') || 'none'}`);
  const firing = await expectedAlertsFiring(env, r, shown.scraped, violations);
  if (firing === undefined) return { resyncNeededSeries: shown.resyncNeeded, lostSlotSeries: shown.lostSlot };
  for (const alert of EXPECTED_ALERTS) {
    if (!firing.has(alert)) violations.push(`${alert} did not fire on the exporters' series (promtool test rules on the stack's alerts.rules.yml)`);
  }
  step(env, r, `alerts (promtool on the stack's alerts.rules.yml and the scraped series): ${[...firing.entries()].map(([a, l]) => `${a} x${l.length}`).join(', ') || 'none'} firing`);
  return { resyncNeededSeries: shown.resyncNeeded, lostSlotSeries: shown.lostSlot, firingAlerts: [...firing.keys()].sort() };
}

/**
 * Monitoring once the re-sync finished: the cut group's leader no longer serves `dpg_mesh_resync_needed`, no provider
 * serves `dpg_slot_info{wal_status="lost"}` for the cut group (the re-sync dropped those slots; Patroni recreated them),
 * every exporter answers, and the real promtool fires neither DpgMeshResyncNeeded nor DpgSlotLost on the scraped series.
 */
async function monitoringCleared(env: DrillEnv, r: DrillResult, cut: FleetGroup, lost: Provider[],
  violations: string[]): Promise<LongPartitionFigures['monitoringAfterResync']> {
  if (lost.length === 0) return undefined;
  let shown = await scrapeLostSlotSeries(env, cut, lost);
  await waitFor('the re-sync\'s series to clear', MONITORING_WAIT_MS, async () => {
    shown = await scrapeLostSlotSeries(env, cut, lost);
    return shown.resyncNeeded.length === 0 && shown.lostSlot.length === 0 && shown.silent.length === 0 ? true : undefined;
  }, 2000).catch(() => undefined);
  if (shown.silent.length) violations.push(`no HTTPS answer after the re-sync from ${shown.silent.join(', ')}`);
  if (shown.resyncNeeded.length) violations.push(`${cut.name}: its leader still serves dpg_mesh_resync_needed 1 for ${shown.resyncNeeded.join(', ')} after the re-sync`);
  if (shown.lostSlot.length) violations.push(`still a lost slot for ${cut.name} after the re-sync on ${shown.lostSlot.join(', ')}`);
  const firing = await expectedAlertsFiring(env, r, shown.scraped, violations);
  if (firing === undefined) return { resyncNeededSeries: shown.resyncNeeded, lostSlotSeries: shown.lostSlot };
  for (const alert of firing.keys()) violations.push(`${alert} still fires after the re-sync (promtool test rules on the stack's alerts.rules.yml)`);
  step(env, r, `monitoring after the re-sync: dpg_mesh_resync_needed ${shown.resyncNeeded.length ? `still for ${shown.resyncNeeded.join(', ')}` : 'gone'}, ` +
    `lost slots ${shown.lostSlot.length ? `still on ${shown.lostSlot.join(', ')}` : 'gone'}; ${EXPECTED_ALERTS.join(' and ')} ${firing.size ? `still firing: ${[...firing.keys()].join(', ')}` : 'silent'} (promtool)`);
  return { resyncNeededSeries: shown.resyncNeeded, lostSlotSeries: shown.lostSlot, firingAlerts: [...firing.keys()].sort() };
}

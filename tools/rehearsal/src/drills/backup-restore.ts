/**
 * Backups and point-in-time recovery (issue 14), against the object store stand-in (object-store.ts):
 *   1. every node group writes (the harness's writers); the first group's leader runs its backup script (`backup
 *      full`: pgBackRest to its S3 bucket, through the rendered configuration, the role's credentials from IMDSv2);
 *   2. the writers go on; a target time is noted; they go on again; the WAL past the target is archived;
 *   3. RTO: on a spare test host (the fleet's image, outside the mesh) `pgbackrest restore --type=time --target=T`
 *      into an empty data directory, then PostgreSQL started standalone (no replication, no archiving): the seconds
 *      from the restore's start to a write it commits. Every row the group's writer saw acknowledged before T must be
 *      there, and none it sent after T;
 *   4. RPO: the leader's machine crashes between two archivings (a seeded moment after one, within archive_timeout):
 *      the acknowledged writes in no archived WAL (what the repository alone, without the standbys, would lose) in
 *      seconds and rows, bounded by archive_timeout; those rows must still be on the new leader (the standbys had
 *      them), which the drill's row accounting checks like every drill's.
 */
import { ChildProcess, spawn } from 'child_process';
import { createInterface } from 'readline';
import { literal } from '../db';
import { WriterRun } from '../load';
import { PGBACKREST_CONF, pgbackrestConfOf } from '../object-store';
import { BackupFigures, DrillResult } from '../report';
import { HOST_ENV, sleep, waitFor } from '../shell';
import { awaitNewLeader, DrillEnv, finish, machineByIp, newResult, notApplicable, now, settle, startLoad, step, waitForLeader, waitHealthy } from './harness';

/** The rendered backup script and its status file (the contract of issue 14). */
export const BACKUP_SCRIPT = '/usr/local/lib/distributed-postgres/backup';
export const BACKUP_STATUS = '/var/lib/distributed-postgres/backup.status';
/** Where the spare host's standalone server gets its own configuration (not the group's Patroni one). */
const RESTORE_ETC = '/etc/dpg-restore';

/** `YYYY-MM-DD HH:MM:SS.mmm+00`: a recovery target time PostgreSQL and pgBackRest read unambiguously (UTC). */
export function targetTimeText(epochS: number): string {
  return `${new Date(Math.floor(epochS * 1000)).toISOString().replace('T', ' ').replace('Z', '')}+00`;
}

/** The LSN (as a number of bytes) where a WAL segment file ends: `TTTTTTTTXXXXXXXXYYYYYYYY`, segments of `segmentBytes`. */
export function segmentEndLsn(walFile: string, segmentBytes: number): bigint {
  const m = /^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})$/.exec(walFile.trim().slice(0, 24));
  if (!m) throw new Error(`not a WAL segment file name: ${walFile}`);
  const perLog = 0x100000000n / BigInt(segmentBytes);
  return (BigInt(`0x${m[2]}`) * perLog + BigInt(`0x${m[3]}`) + 1n) * BigInt(segmentBytes);
}

/** `X/Y` -> bytes. */
export function parseLsn(text: string): bigint {
  const m = /^([0-9A-Fa-f]+)\/([0-9A-Fa-f]+)$/.exec(text.trim());
  if (!m) throw new Error(`not an LSN: ${text}`);
  return (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`);
}

/** What a writer's events say about each row relative to a moment (client clock, the hosts' clock too). */
export interface RowsAtTarget {
  /** Acknowledged before the target: must be in a restore to it. */
  readonly before: number[];
  /** Sent after the target (the writer's previous row had its answer after it): must not be in it. */
  readonly after: number[];
  /** Sent before and answered after (or never): either way. */
  readonly inDoubt: number[];
}

/**
 * Classifies a sequential writer's rows (seq n+1 is sent only once row n got its answer: ack, error or doubt) against
 * `target`: rows acknowledged before it, rows sent after an earlier row's answer came after it, the rest in doubt.
 */
export function rowsAtTarget(events: { acked: number[]; ackTimes: number[]; errors: { seq: number; t: number }[]; doubts: number[] },
  target: number, firstSeq: number): RowsAtTarget {
  const answered = new Map<number, number>();
  events.acked.forEach((seq, i) => answered.set(seq, events.ackTimes[i]));
  for (const e of events.errors) answered.set(e.seq, e.t);
  const seqs = [...new Set([...events.acked, ...events.errors.map((e) => e.seq), ...events.doubts])].sort((a, b) => a - b);
  const acked = new Set(events.acked);
  const before: number[] = [];
  const after: number[] = [];
  const inDoubt: number[] = [];
  // Rows are sent one after the other: once any earlier row had its answer after the target, every later one was sent after it.
  let latestAnswer = -Infinity;
  for (const seq of seqs) {
    if (acked.has(seq) && answered.get(seq)! < target) before.push(seq);
    else if (seq > firstSeq && latestAnswer > target) after.push(seq);
    else inDoubt.push(seq);
    latestAnswer = Math.max(latestAnswer, answered.get(seq) ?? -Infinity);
  }
  return { before, after, inDoubt };
}

/** Where between two archivings the leader crashes: a fraction of archive_timeout in [0.3, 0.9), from the seed. */
export function crashFraction(seed: number): number {
  return 0.3 + (Math.abs(Math.trunc(seed) * 7919) % 1000) / 1000 * 0.6;
}

interface ArchiveSample {
  readonly t: number;
  readonly lsn: bigint;
  readonly lastArchived: string;
}

/**
 * The acknowledged writes in no archived WAL when the archive ends at `archivedEnd`: the last sample whose WAL
 * position was still within it bounds what the archive holds; rows acknowledged after it (up to the crash) are counted.
 */
export function unarchived(samples: { t: number; lsn: bigint }[], archivedEnd: bigint, ackTimes: number[], crashT: number): { sinceT: number; seconds: number; rows: number } {
  const within = samples.filter((s) => s.lsn <= archivedEnd && s.t <= crashT);
  const sinceT = within.length ? within[within.length - 1].t : samples[0]?.t ?? crashT;
  return { sinceT, seconds: Number((crashT - sinceT).toFixed(1)), rows: ackTimes.filter((t) => t > sinceT && t <= crashT).length };
}

/** A sampler on the group's leader (one connection, every 100 ms): the clock, the WAL position, the last archived segment. */
function startArchiveSampler(env: DrillEnv, group: string): { samples: ArchiveSample[]; stop: () => void; child: ChildProcess } {
  const script = [
    'import json, sys, time, psycopg2',
    "c = psycopg2.connect(sys.argv[1]); c.autocommit = True; cur = c.cursor()",
    'while True:',
    "    cur.execute(\"SELECT extract(epoch FROM clock_timestamp())::float8, (pg_current_wal_lsn() - '0/0')::text, coalesce(last_archived_wal, '') FROM pg_stat_archiver\")",
    '    t, lsn, wal = cur.fetchone()',
    "    print(json.dumps({'t': t, 'lsn': lsn, 'wal': wal}), flush=True)",
    '    time.sleep(0.1)',
  ].join('\n');
  const [cmd, ...args] = env.hosts.clientCommand(group, ['/usr/bin/python3', '-c', script, env.access.dsn(group)]);
  const child = spawn(cmd, args, { env: { ...HOST_ENV, PGPASSWORD: env.access.superuserPassword }, stdio: ['ignore', 'pipe', 'ignore'] });
  const samples: ArchiveSample[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      const s = JSON.parse(line) as { t: number; lsn: string; wal: string };
      samples.push({ t: s.t, lsn: BigInt(s.lsn.split('.')[0]), lastArchived: s.wal });
    } catch {
      // a partial line at the end
    }
  });
  return { samples, child, stop: () => child.kill('SIGKILL') };
}

async function sh(env: DrillEnv, host: string, script: string, timeoutMs = 120_000, input?: string) {
  return env.hosts.exec(host, ['sh', '-c', script], { allowFail: true, timeoutMs, ...(input !== undefined ? { input } : {}) });
}

export async function backupRestore(env: DrillEnv): Promise<DrillResult> {
  const r = newResult('backup-restore', env);
  const started = now();
  if (!env.objectStore) return notApplicable(r, started, 'the stack backs up to no S3 bucket (no pgBackRest configuration, no aws_s3_bucket): nothing to restore');
  if (!env.spareHost) return notApplicable(r, started, 'no spare test host was planned for the restore');
  const group = env.fleet.groups[0];
  const conf = pgbackrestConfOf(group.members[0]);
  const confText = group.members[0].config.writeFiles.find((f) => f.path === PGBACKREST_CONF)?.content;
  if (!conf || !confText) return notApplicable(r, started, `node group ${group.name}'s machines have no ${PGBACKREST_CONF} (backups off?)`);
  const stanza = Object.keys(conf).find((s) => s !== 'global' && !s.includes(':'));
  const pgPath = stanza ? conf[stanza]['pg1-path'] : undefined;
  if (!stanza || !pgPath) {
    r.status = 'fail';
    r.notes.push(`${PGBACKREST_CONF} of ${group.name} has no stanza with pg1-path`);
    return finish(r, started);
  }
  const figures: BackupFigures = { group: group.name, stanza, bucket: conf.global?.['repo1-s3-bucket'] ?? '?', repoPath: conf.global?.['repo1-path'] ?? '?', violations: [] };
  r.backup = figures;
  const writers = startLoad(env, r.drill, 3600);
  const own = writers.find((w) => w.spec.group === group.name)!;
  try {
    await sleep(5000);
    // 1. A full backup on the leader, by the machine's own script (as its timer runs it).
    const leaderIp = await waitForLeader(env, group.name);
    const leader = machineByIp(env, leaderIp).machine.name;
    figures.leader = leader;
    const t1 = now();
    const backup = await env.hosts.exec(leader, [BACKUP_SCRIPT, 'full'], { allowFail: true, timeoutMs: 1_200_000 });
    figures.fullBackupS = Number((now() - t1).toFixed(1));
    const status = (await sh(env, leader, `cat ${BACKUP_STATUS}`)).stdout.trim();
    figures.backupStatus = status.split('\n').filter(Boolean);
    if (backup.code !== 0 || !/^result=ok$/m.test(status)) {
      throw new Error(`${BACKUP_SCRIPT} full on ${leader} failed (exit ${backup.code}, status ${status.replace(/\n/g, ' ') || 'none'}): ` +
        `${(backup.stderr + backup.stdout).trim().split('\n').slice(-8).join(' | ')}`);
    }
    const info = await sh(env, leader, `runuser -u postgres -- pgbackrest --stanza=${stanza} info --output=json`);
    const backups = (JSON.parse(info.stdout || '[]') as { backup?: { type: string; label: string }[] }[])[0]?.backup ?? [];
    figures.backupLabel = backups.filter((b) => b.type === 'full').pop()?.label;
    step(env, r, `full backup of ${group.name} on its leader ${leader} in ${figures.fullBackupS} s (${figures.backupLabel ?? 'no label'}, ` +
      `s3://${figures.bucket}${figures.repoPath})`);
    // 2. Writes go on; the target; writes go on.
    await sleep(10_000);
    const target = now();
    figures.target = targetTimeText(target);
    step(env, r, `target time ${figures.target}; writes go on`);
    await sleep(10_000);
    // The WAL past the target must be in the repository before a restore can reach it: switch and wait for its archiving.
    const [[switched]] = await env.access.query(group.name, 'SELECT pg_walfile_name(pg_switch_wal())');
    await waitFor(`${switched} to be archived`, 120_000, async () => {
      const [[last]] = await env.access.query(group.name, "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver");
      return last.slice(8) >= switched.slice(8) ? true : undefined;
    }, 500);
    step(env, r, `WAL up to ${switched} archived`);

    // 3. Restore on the spare host to the target; RTO to a writable server.
    const spare = env.spareHost;
    figures.restoreHost = spare;
    await env.hosts.boot(spare);
    await sh(env, spare, `mkdir -p "$(dirname ${PGBACKREST_CONF})" && cat > ${PGBACKREST_CONF} && chmod 0640 ${PGBACKREST_CONF} && chown root:postgres ${PGBACKREST_CONF}`, 30_000, confText);
    const bin = (await sh(env, spare, 'ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1')).stdout.trim();
    await sh(env, spare, [
      `mkdir -p ${RESTORE_ETC} "${pgPath}" /var/log/pgbackrest /var/spool/pgbackrest`,
      `chown postgres:postgres "${pgPath}" /var/log/pgbackrest /var/spool/pgbackrest && chmod 0700 "${pgPath}"`,
      `printf '%s\\n' 'local all all peer' > ${RESTORE_ETC}/pg_hba.conf && : > ${RESTORE_ETC}/pg_ident.conf`,
      // Standalone, outside the mesh: no listener but its socket, no WAL archiving into the group's repository, no
      // replication worker (pglogical/Spock not preloaded; native subscriptions get no worker), no TLS files needed.
      `printf '%s\\n' "listen_addresses = ''" "port = 5432" "unix_socket_directories = '/tmp'" "hba_file = '${RESTORE_ETC}/pg_hba.conf'" ` +
        `"ident_file = '${RESTORE_ETC}/pg_ident.conf'" "archive_mode = off" "hot_standby = off" "max_logical_replication_workers = 0" ` +
        `"shared_preload_libraries = ''" "ssl = off" > ${RESTORE_ETC}/postgresql.conf`,
      `chown -R postgres:postgres ${RESTORE_ETC}`,
    ].join(' && '));
    const t3 = now();
    const restore = await env.hosts.exec(spare, ['runuser', '-u', 'postgres', '--', 'pgbackrest', `--stanza=${stanza}`, '--type=time',
      `--target=${figures.target}`, '--target-action=promote', '--log-level-console=info', 'restore'], { allowFail: true, timeoutMs: 1_800_000 });
    figures.restoreCommandS = Number((now() - t3).toFixed(1));
    if (restore.code !== 0) throw new Error(`pgbackrest restore on ${spare} failed (exit ${restore.code}): ${(restore.stderr + restore.stdout).trim().split('\n').slice(-8).join(' | ')}`);
    const start = await env.hosts.exec(spare, ['runuser', '-u', 'postgres', '--', `${bin}/pg_ctl`, '-D', pgPath, '-l', '/var/log/pgbackrest/restored-postgres.log',
      '-o', `-c config_file=${RESTORE_ETC}/postgresql.conf`, '-t', '1200', '-w', 'start'], { allowFail: true, timeoutMs: 1_300_000 });
    if (start.code !== 0) {
      const tail = (await sh(env, spare, 'tail -n 20 /var/log/pgbackrest/restored-postgres.log')).stdout.trim();
      throw new Error(`the restored server on ${spare} did not start: ${tail.split('\n').slice(-8).join(' | ')}`);
    }
    const psql = (sql: string) => env.hosts.exec(spare, ['runuser', '-u', 'postgres', '--', `${bin}/psql`, '-h', '/tmp', '-d', env.fleet.database,
      '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', sql], { allowFail: true, timeoutMs: 60_000 });
    await waitFor(`the restored server on ${spare} to be promoted and take a write`, 1_200_000, async () => {
      const w = await psql('CREATE TABLE IF NOT EXISTS public.dpg_restore_probe (t timestamptz); INSERT INTO public.dpg_restore_probe VALUES (now())');
      return w.code === 0 ? true : undefined;
    }, 250);
    figures.rtoS = Number((now() - t3).toFixed(1));
    step(env, r, `restored ${group.name} to ${figures.target} on ${spare}: pgbackrest restore ${figures.restoreCommandS} s, writable after ${figures.rtoS} s (RTO)`);
    // The rows: every row of the group's own writer acknowledged before the target, none sent after it.
    const at = rowsAtTarget(own, target, 1);
    const present = await psql(`SELECT seq FROM ${env.table} WHERE writer = ${literal(own.spec.writer)}`);
    if (present.code !== 0) throw new Error(`reading ${env.table} on the restored server: ${present.stderr.trim()}`);
    const seqs = new Set(present.stdout.split('\n').filter(Boolean).map(Number));
    const missing = at.before.filter((s) => !seqs.has(s));
    const afterPresent = at.after.filter((s) => seqs.has(s));
    const others = await psql(`SELECT count(*) FROM ${env.table} WHERE writer IN (${writers.filter((w) => w !== own).map((w) => literal(w.spec.writer)).join(', ') || "''"})`);
    // Rows the other groups' writers sent after the target reached this group (replication) after it too: none may be there.
    let othersAfterPresent = 0;
    for (const w of writers.filter((x) => x !== own)) {
      const after = rowsAtTarget(w, target, 1).after;
      if (after.length === 0) continue;
      const n = await psql(`SELECT count(*) FROM ${env.table} WHERE writer = ${literal(w.spec.writer)} AND seq IN (${after.join(', ')})`);
      othersAfterPresent += Number(n.stdout.trim() || 0);
    }
    figures.restoredRows = {
      acknowledgedBeforeTarget: at.before.length, present: at.before.length - missing.length, missing: missing.length,
      sentAfterTarget: at.after.length, presentAfterTarget: afterPresent.length, inDoubt: at.inDoubt.length,
      inDoubtPresent: at.inDoubt.filter((s) => seqs.has(s)).length, otherGroupsRows: Number(others.stdout.trim() || 0),
      otherGroupsPresentAfterTarget: othersAfterPresent,
    };
    if (othersAfterPresent) figures.violations.push(`${othersAfterPresent} rows the other groups sent after the target are in the restore`);
    if (missing.length) figures.violations.push(`${missing.length} rows acknowledged before the target are missing from the restore (seq ${missing.slice(0, 10).join(', ')})`);
    if (afterPresent.length) figures.violations.push(`${afterPresent.length} rows sent after the target are in the restore (seq ${afterPresent.slice(0, 10).join(', ')})`);
    if (at.before.length === 0 || at.after.length === 0) figures.violations.push(`the writer had ${at.before.length} rows before and ${at.after.length} after the target: nothing to judge the restore by`);
    step(env, r, `restore holds ${figures.restoredRows.present} of ${at.before.length} rows acknowledged before the target, ` +
      `${afterPresent.length} of ${at.after.length} sent after it, ${figures.restoredRows.inDoubtPresent} of ${at.inDoubt.length} in doubt; ` +
      `${figures.restoredRows.otherGroupsRows} rows of the other groups' writers (replicated in before the target), ${othersAfterPresent} they sent after it`);
    await env.hosts.exec(spare, ['runuser', '-u', 'postgres', '--', `${bin}/pg_ctl`, '-D', pgPath, '-m', 'fast', 'stop'], { allowFail: true, timeoutMs: 120_000 });

    // 4. RPO: crash the leader between archivings.
    const [[timeout]] = await env.access.query(group.name, "SELECT setting::int FROM pg_settings WHERE name = 'archive_timeout'");
    const [[segBytes]] = await env.access.query(group.name, "SELECT setting::bigint * (CASE unit WHEN 'B' THEN 1 WHEN 'kB' THEN 1024 WHEN 'MB' THEN 1048576 ELSE 1 END) FROM pg_settings WHERE name = 'wal_segment_size'");
    const archiveTimeoutS = Number(timeout);
    figures.archiveTimeoutS = archiveTimeoutS;
    const leader2Ip = await waitForLeader(env, group.name);
    const leader2 = machineByIp(env, leader2Ip).machine.name;
    const sampler = startArchiveSampler(env, group.name);
    // Wait for an archiving (a new last_archived_wal), then crash at a seeded moment within archive_timeout after it.
    const seen = await waitFor('the sampler to start', 30_000, async () => sampler.samples[0], 200);
    const archivedAt = await waitFor('an archived WAL segment', (archiveTimeoutS + 60) * 1000, async () =>
      sampler.samples.find((s) => s.lastArchived !== seen.lastArchived)?.t, 100);
    const fraction = crashFraction(env.seed);
    await sleep(Math.max(1, fraction * archiveTimeoutS - (now() - archivedAt)) * 1000);
    const crashT = now();
    await env.hosts.crash(leader2);
    sampler.stop();
    step(env, r, `crashed ${leader2} (leader of ${group.name}) ${(crashT - sampler.samples.filter((s) => s.lastArchived === sampler.samples[sampler.samples.length - 1]?.lastArchived)[0]?.t).toFixed(1)} s after its last archiving (archive_timeout ${archiveTimeoutS} s)`);
    // What the repository holds of the crashed leader's WAL, asked right away (before a new leader archives anything).
    const repo = await sh(env, spare, `runuser -u postgres -- pgbackrest --stanza=${stanza} info --output=json`, 60_000);
    const archives = (JSON.parse(repo.stdout || '[]') as { archive?: { max?: string }[] }[])[0]?.archive ?? [];
    const maxWal = archives.map((a) => a.max ?? '').filter(Boolean).sort((a, b) => a.slice(8).localeCompare(b.slice(8))).pop();
    if (!maxWal) throw new Error(`pgbackrest info on ${spare} names no archived WAL: ${(repo.stderr + repo.stdout).trim().slice(0, 300)}`);
    const end = segmentEndLsn(maxWal, Number(segBytes));
    const lost = unarchived(sampler.samples, end, own.ackTimes, crashT);
    figures.rpo = {
      crashedLeader: leader2, archivedUpTo: maxWal, unarchivedS: lost.seconds, unarchivedRows: lost.rows,
      boundS: archiveTimeoutS,
    };
    if (lost.seconds > archiveTimeoutS + 10) figures.violations.push(`${lost.seconds} s of acknowledged writes were in no archived WAL, more than archive_timeout (${archiveTimeoutS} s) allows`);
    step(env, r, `RPO of the archive alone: ${lost.seconds} s, ${lost.rows} acknowledged rows of ${group.name}'s writer in no archived WAL (archive ends with ${maxWal}); ` +
      'the standbys hold them (checked below)');
    await awaitNewLeader(env, r, group.name, own, leader2Ip, crashT);
    r.leaderBefore = leader2Ip;
    await sleep(3000);
    await env.hosts.boot(leader2, true);
    step(env, r, `powered ${leader2} on again`);
    await waitHealthy(env, 180);
    await settle(env, r, writers, started);
    // Those rows, on the new leader (a standby when the old one crashed).
    const unarchivedSeqs = own.acked.filter((_, i) => own.ackTimes[i] > lost.sinceT && own.ackTimes[i] <= crashT);
    if (unarchivedSeqs.length) {
      const [[onLeader]] = await env.access.query(group.name, `SELECT count(*) FROM ${env.table} WHERE writer = ${literal(own.spec.writer)} ` +
        `AND seq IN (${unarchivedSeqs.join(', ')})`);
      figures.rpo.unarchivedRowsOnStandbys = Number(onLeader);
    } else figures.rpo.unarchivedRowsOnStandbys = 0;
    if (figures.rpo.unarchivedRowsOnStandbys !== unarchivedSeqs.length) {
      figures.violations.push(`only ${figures.rpo.unarchivedRowsOnStandbys} of the ${unarchivedSeqs.length} rows in no archived WAL are on the new leader`);
    }
    step(env, r, `${figures.rpo.unarchivedRowsOnStandbys} of the ${unarchivedSeqs.length} rows in no archived WAL are on the new leader ${r.leaderAfter ?? ''}`);
  } finally {
    await Promise.all(writers.map((w: WriterRun) => w.stop()));
    writers.forEach((w) => env.active.delete(w));
  }
  if (figures.violations.length) r.notes.push(...figures.violations);
  return finish(r, started);
}

/** The rehearsal's findings: one row per phase and drill, printed as a table while it runs and written as JSON. */

export type Status = 'pass' | 'fail' | 'n/a' | 'error';

export const BOOT_ORDERS = ['together', 'shuffle'] as const;
export type BootOrder = (typeof BOOT_ORDERS)[number];

/** Rows of one drill's writers, as every node group holds them afterwards. */
export interface GroupRows {
  /** Rows the group's writer had acknowledged. */
  readonly acknowledged: number;
  /** Writes whose outcome the client could not know (connection lost during COMMIT). */
  readonly inDoubt: number;
  /** Rows of all of the drill's writers present at this group. */
  readonly present: Record<string, number>;
  /** Acknowledged rows (of any writer) missing at this group. */
  readonly lost: number;
  /** (writer, seq) pairs stored more than once at this group. */
  readonly duplicated: number;
  /** Rows (acknowledged or not) another group holds and this one lacks, after convergence was waited for. */
  readonly lacking?: number;
}

/** One crash of a failover campaign (failover-campaign): what it cost. */
export interface CrashResult {
  /** 1-based. */
  readonly n: number;
  /** Node group whose leader machine crashed, and that machine. */
  readonly group: string;
  readonly host: string;
  /** Seconds the writers ran before the crash (seeded). */
  readonly afterS: number;
  readonly status: Status;
  timeToLeaderS?: number;
  /** Acknowledged rows missing in at least one group. */
  lostRows: number;
  /** Acknowledged rows missing, per group. */
  lostByGroup: Record<string, number>;
  /** Rows (acknowledged or not) other groups hold and this one lacks, per group. */
  lackingByGroup: Record<string, number>;
  /** Rows present in some groups only. */
  partialRows: number;
  duplicatedRows: number;
  /** Of those, rows never acknowledged (see DrillResult.orphanRows). */
  orphanRows: number;
  /** Lines added to /var/lib/distributed-postgres/repairs.log (all members) during this crash's round. */
  repairs: number;
  notes: string[];
}

/** backup-restore: the backup, the restore to a target time (RTO) and the archive's RPO at a leader crash. */
export interface BackupFigures {
  readonly group: string;
  readonly stanza: string;
  readonly bucket: string;
  readonly repoPath: string;
  /** The leader that took the full backup, its backup script's wall time (s), its status lines and the backup's label. */
  leader?: string;
  fullBackupS?: number;
  backupStatus?: string[];
  backupLabel?: string;
  /** The recovery target (`YYYY-MM-DD HH:MM:SS.mmm+00`). */
  target?: string;
  restoreHost?: string;
  /** `pgbackrest restore` alone, s. */
  restoreCommandS?: number;
  /** RTO: from the restore's start to a write committed on the restored server, s. */
  rtoS?: number;
  /** The group's own writer's rows against the target, in the restored server. */
  restoredRows?: {
    acknowledgedBeforeTarget: number; present: number; missing: number; sentAfterTarget: number; presentAfterTarget: number;
    inDoubt: number; inDoubtPresent: number; otherGroupsRows: number; otherGroupsPresentAfterTarget: number;
  };
  archiveTimeoutS?: number;
  /** RPO of the archive alone when the leader crashed between archivings: seconds and acknowledged rows in no archived WAL. */
  rpo?: { crashedLeader: string; archivedUpTo: string; unarchivedS: number; unarchivedRows: number; boundS: number; unarchivedRowsOnStandbys?: number };
  /** What the drill found wrong (any fails it). */
  readonly violations: string[];
}

/** long-partition: one provider member's pg_wal during the cut. */
export interface LongPartitionMember {
  readonly host: string;
  /** Largest pg_wal seen (du -sb), and how many segments were waiting to be archived at that sample. */
  maxPgWalBytes: number;
  readyAtMax: number;
  samples: number;
  /** Samples over the bound (segments waiting to be archived not counted). */
  overBound: number;
}

/** long-partition: a logical slot on a provider's leader during the cut. */
export interface LongPartitionSlot {
  readonly slot: string;
  /** One the cut group streams from (or its resume slot). */
  readonly forCutGroup: boolean;
  /** Most WAL it held (current LSN - restart_lsn) while not lost. */
  maxRetainedBytes: number;
  lastStatus: string;
  /** Seconds from the cut until its wal_status was first seen `lost`. */
  lostAfterS?: number;
}

/** long-partition: a provider group of the cut one, its budget and what its members' pg_wal reached. */
export interface LongPartitionProvider {
  readonly group: string;
  /** max_slot_wal_keep_size (computed at boot from the data disk). */
  readonly budgetBytes: number;
  /** max_wal_size during the cut (set by the drill through Patroni). */
  readonly maxWalSizeBytes: number;
  readonly walKeepSizeBytes: number;
  readonly segmentBytes: number;
  /** pgBackRest's archive-push-queue-max (written at boot from the data disk), if the group archives. */
  readonly archiveQueueMaxBytes?: number;
  /** budget + max_wal_size + wal_keep_size + 2 segments: what pg_wal may hold beyond the segments waiting to be archived. */
  boundBytes: number;
  /**
   * The WAL budget: `replication.walRetentionPercent` of the member's data disk (its template's `{{disk-share:...}}`
   * and the file system's size), which pg_wal as a whole must stay under; max_slot_wal_keep_size is what it leaves
   * after max_wal_size (as the library assumes it: 1 GB by default), wal_keep_size and two segments.
   */
  walBudgetBytes?: number;
  /** WAL written on its leader during the cut. */
  walWrittenBytes: number;
  maxPgWalBytes?: number;
  /** Most WAL a slot not lost held. */
  maxSlotRetainedBytes?: number;
  /** Seconds from the cut until every slot of the cut group there was lost. */
  lostAfterS?: number;
  readonly members: LongPartitionMember[];
  readonly slots: LongPartitionSlot[];
}

export interface LongPartitionFigures {
  readonly cutGroup: string;
  readonly cutSeconds: number;
  readonly providers: LongPartitionProvider[];
  /** Seconds from the heal until the cut group's mesh.status listed resync-needed for every provider that lost its slot. */
  readonly detectedAfterS?: number;
  /** The cut group's acknowledged rows present at each provider at the end. */
  readonly cutRowsReached: Record<string, number>;
  /** The anti-entropy check's state on the cut group's leader at the end (`dirty` while it lacks rows). */
  readonly antiEntropy?: string;
  /** Acknowledged rows of the providers the cut group lacks at the end (0 once the re-sync ran), by when they were acknowledged. */
  readonly gap: { rows: number; beforeCut: number; duringCut: number; afterHeal: number };
  /**
   * The automatic re-sync: seconds from the detection until the cut group's status listed no resync-needed and said
   * complete again, and what its mesh-keeper logged of the copy (`copied N rows from node group X (re-sync)`).
   */
  resync?: { afterDetectionS?: number; copied?: string };
  /** What monitoring showed once the re-sync finished: the alerts of `monitoring` that still fire (none expected). */
  monitoringAfterResync?: { resyncNeededSeries: string[]; lostSlotSeries: string[]; firingAlerts?: string[] };
  /**
   * What monitoring showed after the heal: the series the exporters served (`dpg_mesh_resync_needed` on the cut
   * group's leader, `dpg_slot_info{wal_status="lost"}` on each provider's), and the stack's alerts the real promtool
   * fired on them (absent when promtool or the rules file is not there).
   */
  monitoring?: { resyncNeededSeries: string[]; lostSlotSeries: string[]; firingAlerts?: string[] };
}

export interface DrillResult {
  readonly drill: string;
  /** Patroni timing profile the drill ran under, e.g. `fast (ttl 20, loop_wait 2, retry_timeout 9)`. */
  readonly profile: string;
  status: Status;
  readonly startedAt: string;
  durationS: number;
  /** What was done, in order (fault, recovery, ...). */
  readonly steps: string[];
  /** Longest time without an acknowledged write, per node group, during the drill (s). */
  writeGapS: Record<string, number>;
  /** Time from the fault to a leader again (same or new), in the faulted group (s). */
  timeToLeaderS?: number;
  /** The member that led the faulted group before and after. */
  leaderBefore?: string;
  leaderAfter?: string;
  /** Time from the end of the fault (or of the load) until every group held the same rows (s). */
  convergenceS?: number;
  /** Replication lag of the drill's rows (ms): arrival at another group minus creation at the origin; p50 and max. */
  lagMs?: { p50: number; max: number; samples: number };
  rows: Record<string, GroupRows>;
  lostRows: number;
  duplicatedRows: number;
  /** Rows (acknowledged or not) present in some groups but not in all of them (divergence). */
  partialRows?: number;
  /** Of those, rows no client saw acknowledged (in doubt, failed, or written by a drill without waiting): orphans. */
  orphanRows?: number;
  /** --tolerate-orphans: orphans are reported, not failed (the provider-side window where it is known open). */
  orphansTolerated?: boolean;
  /** What a window drill opened on purpose before its crash (LSNs, where its row was), for the record. */
  window?: Record<string, string | number | boolean>;
  /** failover-campaign: one entry per crash. */
  crashes?: CrashResult[];
  /** failover-campaign: lines of repairs.log per member at the end (absent file: not listed). */
  repairs?: Record<string, number>;
  /** Values that contradict the acknowledged writes (an id generated twice or decoding to the wrong member). */
  wrongValues?: number;
  /** long-partition's figures (pg_wal against the budget, slots lost, detection, the re-sync, the gap at the end). */
  longPartition?: LongPartitionFigures;
  /** backup-restore's figures. */
  backup?: BackupFigures;
  splitBrain: boolean;
  converged: boolean;
  notes: string[];
}

export interface RehearsalReport {
  readonly stack: string;
  readonly fleet: string;
  readonly startedAt: string;
  finishedAt?: string;
  readonly machines: { name: string; group: string; ip: string; userDataEncoding: string; userDataBytes: number }[];
  /** Stand-ins and cloud-config modules the rehearsal did not apply, per machine kind. */
  readonly standIns: string[];
  boot?: {
    status: Status;
    /** `together` (every host at once) or `shuffle` (random order at random offsets within the spread). */
    order: BootOrder;
    /** Seed of the order and offsets: `--seed` replays a run. */
    seed: number;
    /** Latest start offset a host may get (s). */
    spreadSeconds: number;
    /** Each host's start, relative to the first host's (s), in start order. */
    hosts: { name: string; group: string; startOffsetSeconds: number; bootstrapS?: number; bootstrapAttempts?: number }[];
    /** From the first host's start to a mesh where every group is writable and replicates to every other (s). */
    toWritableMeshS?: number;
    /** From the last host's start to that mesh (s): what a deploy waits for after its last machine boots. */
    afterLastStartS?: number;
    /** Slowest machine's bootstrap, from runcmd to its status `complete` (s). */
    slowestBootstrapS?: number;
    notes: string[];
  };
  /** The image the hosts booted: what its manifest says and what a booted host runs. */
  image?: ReportImage;
  readonly drills: DrillResult[];
  /**
   * The anti-entropy check (the fleet's own, as mesh-keeper runs it) on each node group's leader after the drills:
   * `dirty` fails the run (a problem names the keys), unless --tolerate-orphans and the drills named orphan rows;
   * `incomplete` is noted. `byMeshKeeper`: the state of the last
   * check mesh-keeper itself ran there (its status file), shown, not judged.
   */
  antiEntropy?: { group: string; leader: string; byMeshKeeper: string; state: string; findings: string[]; notes: string[] }[];
  /** Renderer or rehearsal problems found (each one fails the run). */
  readonly problems: string[];
  verdict?: 'pass' | 'fail';
}

export interface ReportImage {
  readonly name: string;
  /** Hash of the image's inputs (full sha256). */
  readonly hash: string;
  /** How the image was chosen: the machines' image tags, or their user-data's packages (stacks without the tags). */
  readonly selectedBy: 'tags' | 'user-data';
  readonly builtAt: string;
  readonly sizeBytes: number;
  /** Built for this run (s), or undefined when it came from the cache. */
  buildSeconds?: number;
  /** From the image's manifest (dpkg-query inside its root filesystem). */
  readonly manifest: {
    postgres?: string; patroni?: string; etcd?: string; cloudInit?: string; extension?: { name: string; version: string };
  };
  /** Read from a booted host: `SELECT version()`, `patroni --version`, `etcd --version`, `cloud-init --version`. */
  running?: { host: string; postgres?: string; patroni?: string; etcd?: string; cloudInit?: string };
}

function fmt(value: number | undefined, digits = 1): string {
  return value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits);
}

const COLUMNS: [string, number][] = [
  ['drill', 22], ['profile', 8], ['status', 6], ['time s', 7], ['gap s', 6], ['leader s', 8], ['conv s', 6],
  ['lag ms', 11], ['acked', 6], ['lost', 5], ['dup', 4], ['split', 5],
];

export function tableHeader(): string {
  const head = COLUMNS.map(([name, width]) => name.padEnd(width)).join(' ');
  return `${head}\n${'-'.repeat(head.length)}`;
}

export function tableRow(r: DrillResult): string {
  const gap = Object.values(r.writeGapS).length ? Math.max(...Object.values(r.writeGapS)) : undefined;
  const acked = Object.values(r.rows).reduce((n, g) => n + g.acknowledged, 0);
  const values = [
    r.drill, r.profile.split(' ')[0], r.status, fmt(r.durationS), fmt(gap), fmt(r.timeToLeaderS), fmt(r.convergenceS),
    r.lagMs ? `${fmt(r.lagMs.p50, 0)}/${fmt(r.lagMs.max, 0)}` : '-', String(acked), String(r.lostRows),
    String(r.duplicatedRows), r.splitBrain ? 'YES' : 'no',
  ];
  return values.map((v, i) => v.padEnd(COLUMNS[i][1])).join(' ');
}

export function summary(report: RehearsalReport): string {
  const lines = [`rehearsal of ${report.fleet} (${report.stack})`];
  if (report.image) {
    const i = report.image;
    const m = i.manifest;
    lines.push(`image: ${i.name} ${i.hash.slice(0, 12)} (chosen by ${i.selectedBy}, built ${i.builtAt}): postgres ${m.postgres ?? '-'}, ` +
      `patroni ${m.patroni ?? '-'}, etcd ${m.etcd ?? '-'}, cloud-init ${m.cloudInit ?? '-'}, ` +
      `extension ${m.extension ? `${m.extension.name} ${m.extension.version}` : '-'}`);
    if (i.running) {
      lines.push(`running on ${i.running.host}: ${[i.running.postgres, i.running.patroni, i.running.etcd, i.running.cloudInit]
        .filter(Boolean).join('; ')}`);
    }
  }
  if (report.boot) {
    const b = report.boot;
    lines.push(`boot: ${b.status}, order ${b.order}, seed ${b.seed}, spread ${b.spreadSeconds} s: writable replicating mesh after ` +
      `${fmt(b.toWritableMeshS)} s, ${fmt(b.afterLastStartS)} s after the last start (slowest bootstrap ${fmt(b.slowestBootstrapS)} s)`);
  }
  lines.push(tableHeader(), ...report.drills.map(tableRow));
  for (const d of report.drills.filter((x) => x.notes.length || x.crashes?.length)) {
    for (const c of d.crashes ?? []) lines.push(`  ${d.drill}: ${crashLine(c)}`);
    if (d.crashes?.length) lines.push(`  ${d.drill}: ${crashTotals(d.crashes)}`);
    for (const n of d.notes) lines.push(`  ${d.drill}: ${n}`);
  }
  for (const p of report.problems) lines.push(`PROBLEM: ${p}`);
  lines.push(`verdict: ${report.verdict ?? 'unfinished'}`);
  return lines.join('\n');
}

function perGroup(values: Record<string, number>): string {
  return Object.entries(values).map(([g, n]) => `${g} ${n}`).join(', ') || '-';
}

export function crashLine(c: CrashResult): string {
  return `crash ${c.n}: ${c.host} (leader of ${c.group}) after ${fmt(c.afterS)} s: ${c.status}, new leader after ${fmt(c.timeToLeaderS)} s, ` +
    `lost ${c.lostRows} (per group: ${perGroup(c.lostByGroup)}), missing per group ${perGroup(c.lackingByGroup)}, ` +
    `in some groups only ${c.partialRows}, dup ${c.duplicatedRows}, repairs ${c.repairs}`;
}

export function crashTotals(crashes: CrashResult[]): string {
  const sum = (f: (c: CrashResult) => number) => crashes.reduce((n, c) => n + f(c), 0);
  const leaders = crashes.map((c) => c.timeToLeaderS).filter((t): t is number => t !== undefined);
  const groups = [...new Set(crashes.flatMap((c) => Object.keys(c.lackingByGroup)))];
  const total = (key: 'lostByGroup' | 'lackingByGroup') => Object.fromEntries(groups.map((g) => [g, sum((c) => c[key][g] ?? 0)]));
  return `total over ${crashes.length} crashes: ${crashes.filter((c) => c.status === 'pass').length} passed, lost ${sum((c) => c.lostRows)} ` +
    `(per group: ${perGroup(total('lostByGroup'))}), missing per group ${perGroup(total('lackingByGroup'))}, ` +
    `in some groups only ${sum((c) => c.partialRows)}, dup ${sum((c) => c.duplicatedRows)}, repairs ${sum((c) => c.repairs)}, ` +
    `new leader after ${leaders.length ? `${fmt(Math.min(...leaders))}-${fmt(Math.max(...leaders))}` : '-'} s`;
}

/** A drill fails on any lost row, duplicate, split brain or divergence. */
export function judge(r: DrillResult): Status {
  if (r.status === 'error' || r.status === 'n/a') return r.status;
  const divergent = (r.partialRows ?? 0) - (r.orphansTolerated ? r.orphanRows ?? 0 : 0);
  return r.lostRows > 0 || r.duplicatedRows > 0 || (r.wrongValues ?? 0) > 0 || divergent > 0 || r.splitBrain || !r.converged ||
    (r.backup?.violations.length ?? 0) > 0
    ? 'fail' : 'pass';
}

export function verdictOf(report: RehearsalReport): 'pass' | 'fail' {
  if (report.problems.length > 0) return 'fail';
  if (!report.boot || report.boot.status !== 'pass') return 'fail';
  return report.drills.every((d) => d.status === 'pass' || d.status === 'n/a') ? 'pass' : 'fail';
}

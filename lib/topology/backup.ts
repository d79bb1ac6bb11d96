/** Backups in the topology: a node group's repository and schedules, and the buckets of the fleet's regions. */
import { BackupScheduleKind, Weekday } from '../declaration/backup-schedule';
import { restoreTargetUtc } from '../declaration/rules/restore';
import { BackupScheduleSpec, BackupSpec, RestoreSpec } from '../declaration/spec';
import { BackupBucket, GroupBackup, GroupRestore, NodeGroup } from './topology';

const WEEK: Weekday[] = [Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY, Weekday.FRIDAY, Weekday.SATURDAY, Weekday.SUNDAY];

/** A bucket's name: `<prefix>-<region>` (the rules keep it within the clouds' limits). */
export function backupBucketName(prefix: string, region: string): string {
  return `${prefix}-${region}`;
}

/** One node group's backups, or undefined when they are off. */
export function resolveGroupBackup(fleet: string, group: string, region: string, b: BackupSpec, bucketPrefix: string): GroupBackup | undefined {
  if (!b.enabled) return undefined;
  const full = calendarOf(b.full);
  // A daily differential at the full backup's time would copy nothing: skip it on the full backup's day.
  const differential = b.differential.kind === BackupScheduleKind.DAILY && b.full.kind === BackupScheduleKind.WEEKLY && sameTime(b.full, b.differential)
    ? `${WEEK.filter((d) => d !== b.full.day).join(',')} *-*-* ${timeOf(b.differential)}`
    : calendarOf(b.differential);
  const incremental = calendarOf(b.incremental);
  return {
    stanza: group,
    bucket: backupBucketName(bucketPrefix, region),
    path: `/${fleet}/${group}`,
    fullCalendar: full ?? '',
    ...(differential ? { differentialCalendar: differential } : {}),
    ...(incremental ? { incrementalCalendar: incremental } : {}),
    retentionFull: b.retentionFull,
    archiveTimeoutSeconds: b.archiveTimeoutSeconds,
  };
}

/**
 * A restored group's source: the source group's stanza and repository (DPG-RESTORE keeps the source in the restored
 * group's cloud and region, so the bucket is the region's).
 */
export function resolveGroupRestore(fleet: string, region: string, r: RestoreSpec, bucketPrefix: string): GroupRestore {
  return {
    sourceGroup: r.nodeGroup,
    stanza: r.nodeGroup,
    bucket: backupBucketName(bucketPrefix, region),
    path: `/${fleet}/${r.nodeGroup}`,
    targetTime: r.targetTime,
    targetTimeUtc: restoreTargetUtc(r.targetTime) ?? r.targetTime,
  };
}

/** The buckets: one per cloud region holding at least one group's backups, sorted by cloud and region. */
export function resolveBackupBuckets(groups: NodeGroup[]): BackupBucket[] {
  const byKey = new Map<string, BackupBucket & { nodeGroups: string[] }>();
  for (const g of groups) {
    if (!g.backup) continue;
    const key = `${g.cloud}/${g.region}`;
    const bucket = byKey.get(key) ?? { cloud: g.cloud, region: g.region, name: g.backup.bucket, nodeGroups: [] };
    bucket.nodeGroups.push(g.name);
    byKey.set(key, bucket);
  }
  return [...byKey.keys()].sort().map((k) => {
    const b = byKey.get(k)!;
    return { ...b, nodeGroups: [...b.nodeGroups].sort() };
  });
}

/** A systemd `OnCalendar` expression (UTC), or undefined for never. */
function calendarOf(s: BackupScheduleSpec): string | undefined {
  switch (s.kind) {
    case BackupScheduleKind.WEEKLY: return `${s.day} *-*-* ${timeOf(s)}`;
    case BackupScheduleKind.DAILY: return `*-*-* ${timeOf(s)}`;
    case BackupScheduleKind.EVERY_HOURS: return `*-*-* 00/${s.hours}:${two(s.minute ?? 0)}:00 UTC`;
    default: return undefined;
  }
}

function timeOf(s: BackupScheduleSpec): string {
  return `${two(s.hour ?? 0)}:${two(s.minute ?? 0)}:00 UTC`;
}

function sameTime(a: BackupScheduleSpec, b: BackupScheduleSpec): boolean {
  return (a.hour ?? 0) === (b.hour ?? 0) && (a.minute ?? 0) === (b.minute ?? 0);
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** Backups: schedules that run, a retention and archive timeout that make sense, bucket names the clouds accept. */
import { BackupScheduleKind, Weekday } from '../backup-schedule';
import { BackupScheduleSpec, Finding } from '../spec';
import { finding, isInt, Rule } from './rule';

/** Longest bucket-name prefix: `<prefix>-<region>` stays within the clouds' 63 characters for every region. */
export const MAX_BUCKET_PREFIX = 38;
const BUCKET_PREFIX = /^[a-z0-9][a-z0-9-]{1,36}[a-z0-9]$/;

export const BACKUP: Rule = {
  id: 'DPG-BACKUP',
  description: 'Backup schedules run, retention and archive timeout are in range, bucket names are valid on both clouds.',
  check: (spec) => {
    // A fleet-wide value is shared by every group that does not override it: report it once, at the path it was written.
    const out = new Map<string, Finding>();
    const add = (path: string, message: string) => out.set(`${path}\n${message}`, finding('DPG-BACKUP', path, message));
    for (const g of spec.nodeGroups) {
      const b = g.backup;
      if (!b.enabled) continue;
      if (b.full.kind === BackupScheduleKind.NEVER) {
        add(b.full.path, 'is never: differential and incremental backups need a full one, and WAL alone cannot be restored. ' +
          'Fix: give a schedule (e.g. BackupSchedule.weekly(Weekday.SUNDAY, 1)), or set enabled: false in that backup.');
      }
      for (const s of [b.full, b.differential, b.incremental]) scheduleProblems(s).forEach((m) => add(s.path, m));
      if (!isInt(b.retentionFull, 1, 100)) {
        add(b.retentionFullPath, `is ${b.retentionFull}. Fix: keep 1 to 100 full backups (whole number); 0 would expire every backup.`);
      }
      if (!isInt(b.archiveTimeoutSeconds, 30, 3600)) {
        add(b.archiveTimeoutPath, `is ${b.archiveTimeoutSeconds}. Fix: use 30 to 3600 seconds (whole number): shorter stores a segment ` +
          'per switch even when idle, longer lets an idle group lose more than an hour.');
      }
    }
    const prefix = spec.backup.bucketNamePrefix;
    if (!BUCKET_PREFIX.test(prefix) || prefix.includes('--') || /^(xn--|sthree-|goog)/.test(prefix) || prefix.includes('google')) {
      add('backup.bucketNamePrefix', `'${prefix}' cannot start a bucket name on both clouds. Fix: use 3 to ${MAX_BUCKET_PREFIX} lower-case ` +
        "letters, digits and single '-', starting and ending with a letter or digit, not starting with 'xn--', 'sthree-' or 'goog' and without 'google'.");
    }
    return [...out.values()];
  },
};

function scheduleProblems(s: BackupScheduleSpec): string[] {
  const out: string[] = [];
  const minute = s.minute ?? 0;
  if (s.kind === BackupScheduleKind.NEVER) return out;
  if (!isInt(minute, 0, 59)) out.push(`has minute ${minute}. Fix: use 0 to 59.`);
  if (s.kind === BackupScheduleKind.WEEKLY && !Object.values(Weekday).includes(s.day as Weekday)) {
    out.push(`has day ${String(s.day)}. Fix: use a Weekday.`);
  }
  if ((s.kind === BackupScheduleKind.WEEKLY || s.kind === BackupScheduleKind.DAILY) && !isInt(s.hour ?? NaN, 0, 23)) {
    out.push(`has hour ${String(s.hour)}, so it never runs. Fix: use 0 to 23 (UTC).`);
  }
  if (s.kind === BackupScheduleKind.EVERY_HOURS && !isInt(s.hours ?? NaN, 1, 12)) {
    out.push(`is every ${String(s.hours)} hours. Fix: use 1 to 12 hours (longer: BackupSchedule.daily or weekly).`);
  }
  return out;
}

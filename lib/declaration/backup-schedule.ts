/**
 * When a node group takes a backup of one kind (full, differential, incremental). A class with static factories
 * (jsii-friendly: no unions in props); the factories never throw: the declaration's rules check the values, so every
 * problem is reported together at synth. Times are UTC: the machines run on UTC and the timers say so.
 */

/** A day of the week, for `BackupSchedule.weekly`. */
export enum Weekday {
  MONDAY = 'Mon',
  TUESDAY = 'Tue',
  WEDNESDAY = 'Wed',
  THURSDAY = 'Thu',
  FRIDAY = 'Fri',
  SATURDAY = 'Sat',
  SUNDAY = 'Sun',
}

/** How a `BackupSchedule` is expressed. */
export enum BackupScheduleKind {
  /** Once a week, on one day, at a time of day. */
  WEEKLY = 'weekly',
  /** Every day at a time of day. */
  DAILY = 'daily',
  /** Every N hours from midnight (00:MM, N:MM, 2N:MM, ...). */
  EVERY_HOURS = 'every-hours',
  /** Never (for differential or incremental backups a group does not take). */
  NEVER = 'never',
}

/** When a backup of one kind runs on the node group's leader. */
export class BackupSchedule {
  /**
   * Once a week.
   * @param day the day of the week
   * @param hourUtc the hour, 0 to 23 (UTC)
   * @param minute the minute, 0 to 59
   */
  public static weekly(day: Weekday, hourUtc: number, minute?: number): BackupSchedule {
    return new BackupSchedule(BackupScheduleKind.WEEKLY, { day, hour: hourUtc, minute: minute ?? 0 });
  }

  /**
   * Every day, except on the days a weekly full backup of the same group runs at the same time (the backup script
   * takes one backup at a time, and a differential right after a full one would copy nothing).
   * @param hourUtc the hour, 0 to 23 (UTC)
   * @param minute the minute, 0 to 59
   */
  public static daily(hourUtc: number, minute?: number): BackupSchedule {
    return new BackupSchedule(BackupScheduleKind.DAILY, { hour: hourUtc, minute: minute ?? 0 });
  }

  /**
   * Every `hours` hours, counted from midnight UTC.
   * @param hours 1 to 12
   * @param minute the minute of the hour, 0 to 59
   */
  public static everyHours(hours: number, minute?: number): BackupSchedule {
    return new BackupSchedule(BackupScheduleKind.EVERY_HOURS, { hours, minute: minute ?? 0 });
  }

  /** Never: no backup of this kind. */
  public static never(): BackupSchedule {
    return new BackupSchedule(BackupScheduleKind.NEVER, {});
  }

  /** How the schedule is expressed. */
  public readonly kind: BackupScheduleKind;
  /** The day (`WEEKLY`). */
  public readonly day?: Weekday;
  /** The hour, UTC (`WEEKLY`, `DAILY`). */
  public readonly hour?: number;
  /** The interval in hours (`EVERY_HOURS`). */
  public readonly hours?: number;
  /** The minute (every kind but `NEVER`). */
  public readonly minute?: number;

  private constructor(kind: BackupScheduleKind, fields: { day?: Weekday; hour?: number; hours?: number; minute?: number }) {
    this.kind = kind;
    this.day = fields.day;
    this.hour = fields.hour;
    this.hours = fields.hours;
    this.minute = fields.minute;
  }
}

/**
 * The backup timers' schedules, read by systemd itself: every `OnCalendar` a group's members get parses, and fires
 * when the declaration says (systemd-analyze calendar from a fixed base time, UTC). The rehearsal's systemd stand-in
 * does not fire calendars (its drill runs the backup script directly), so this is where the schedules are checked.
 */
import { spawnSync } from 'child_process';
import { BackupSchedule, Topology, Weekday } from '../../lib';
import { resolveFleet } from '../../lib/pipeline';
import { ledgerFleet } from '../fixtures/fleets';
import { bootFilesOf } from './helpers';

function topologyWith(change: (p: any) => void): Topology {
  const props: any = ledgerFleet();
  change(props);
  return resolveFleet(props, 'test', 'fleet').topology;
}

/** The timers a member holds once booted: kind to OnCalendar. */
function timersOf(topology: Topology, group: string): Record<string, string> {
  const member = topology.nodeGroups.find((g) => g.name === group)!.members[0].name;
  const out: Record<string, string> = {};
  for (const [path, content] of Object.entries(bootFilesOf(topology, member))) {
    const m = /distributed-postgres-backup-(\w+)\.timer$/.exec(path);
    if (m) out[m[1]] = /^OnCalendar=(.*)$/m.exec(content)![1];
  }
  return out;
}

/** The next `n` times systemd fires a calendar after a base time. */
function elapses(calendar: string, n: number): string[] {
  const out = spawnSync('systemd-analyze', ['calendar', `--iterations=${n}`, '--base-time=2026-11-27 12:00:00 UTC', calendar], { encoding: 'utf8' });
  expect(out.stderr).toBe('');
  expect(out.status).toBe(0);
  return [...out.stdout.matchAll(/(?:Next elapse|Iter\. #\d+): (.*)$/gm)].map((m) => m[1]);
}

test('the default schedule: a full backup on Sundays at 01:00 UTC, a differential one on the other days', () => {
  const timers = timersOf(topologyWith(() => undefined), 'use1');
  expect(Object.keys(timers).sort()).toEqual(['diff', 'full']);
  expect(elapses(timers.full, 2)).toEqual(['Sun 2026-11-29 01:00:00 UTC', 'Sun 2026-12-06 01:00:00 UTC']);
  expect(elapses(timers.diff, 7)).toEqual([
    'Sat 2026-11-28 01:00:00 UTC', 'Mon 2026-11-30 01:00:00 UTC', 'Tue 2026-12-01 01:00:00 UTC', 'Wed 2026-12-02 01:00:00 UTC',
    'Thu 2026-12-03 01:00:00 UTC', 'Fri 2026-12-04 01:00:00 UTC', 'Sat 2026-12-05 01:00:00 UTC',
  ]);
});

test('declared schedules: weekly, daily at another time, every few hours; a kind never scheduled has no timer', () => {
  const t = topologyWith((p) => {
    p.backup = { fullSchedule: BackupSchedule.weekly(Weekday.WEDNESDAY, 23, 45), differentialSchedule: BackupSchedule.daily(3, 5) };
    p.nodeGroups[0].backup = { incrementalSchedule: BackupSchedule.everyHours(5, 10) };
    p.nodeGroups[1].backup = { differentialSchedule: BackupSchedule.never() };
  });
  const use1 = timersOf(t, 'use1');
  expect(elapses(use1.full, 2)).toEqual(['Wed 2026-12-02 23:45:00 UTC', 'Wed 2026-12-09 23:45:00 UTC']);
  expect(elapses(use1.diff, 2)).toEqual(['Sat 2026-11-28 03:05:00 UTC', 'Sun 2026-11-29 03:05:00 UTC']);
  // From midnight every 5 hours: 00:10, 05:10, 10:10, 15:10, 20:10, then 00:10 again.
  expect(elapses(use1.incr, 4)).toEqual(['Fri 2026-11-27 15:10:00 UTC', 'Fri 2026-11-27 20:10:00 UTC', 'Sat 2026-11-28 00:10:00 UTC', 'Sat 2026-11-28 05:10:00 UTC']);
  expect(Object.keys(timersOf(t, 'euw1')).sort()).toEqual(['full']);
  expect(Object.keys(timersOf(t, 'euw3')).sort()).toEqual(['diff', 'full']);
});

/** The drill list: its order is the run order (and the CLI's), the failover drills are among it, opt-in ones are not default. */
import { DEFAULT_DRILLS, DRILLS, FAILOVER_DRILLS, OPT_IN_DRILLS, runOrder } from '../src/drills';
import { documentsBeforeAddition } from '../src/drills/add-group';
import { crashMoments } from '../src/drills/failover-campaign';
import { lsnValue } from '../src/drills/windows';

test('every drill, in order', () => {
  expect(DRILLS).toEqual(['baseline', 'metrics', 'kill-postgres', 'kill-leader-member', 'lose-etcd', 'replace-member', 'replace-leader-member', 'interrupted-bootstrap', 'partition', 'conflict', 'delta-apply', 'snowflake', 'geoshard', 'subscriber-window', 'provider-window', 'failover-campaign', 'mesh-update', 'late-group', 'add-group', 'remove-group', 'backup-restore', 'long-partition']);
  expect(FAILOVER_DRILLS.every((d) => DRILLS.includes(d))).toBe(true);
});

test('the window drills, the failover campaign, mesh-update, late-group, add-group, remove-group, backup-restore and long-partition run only when named', () => {
  expect(OPT_IN_DRILLS).toEqual(['subscriber-window', 'provider-window', 'failover-campaign', 'mesh-update', 'late-group', 'add-group', 'remove-group', 'backup-restore', 'long-partition']);
  expect(DEFAULT_DRILLS).toEqual(['baseline', 'metrics', 'kill-postgres', 'kill-leader-member', 'lose-etcd', 'replace-member', 'replace-leader-member', 'interrupted-bootstrap', 'partition', 'conflict', 'delta-apply', 'snowflake', 'geoshard']);
});

test('drills run as named, but late-group first, long-partition (it leaves a group needing a re-sync) and remove-group last', () => {
  expect(runOrder(['long-partition', 'remove-group', 'baseline'])).toEqual(['baseline', 'long-partition', 'remove-group']);
  expect(runOrder(['remove-group', 'baseline', 'late-group', 'partition'])).toEqual(['late-group', 'baseline', 'partition', 'remove-group']);
  expect(runOrder(['partition', 'baseline'])).toEqual(['partition', 'baseline']);
  expect(runOrder(['baseline', 'remove-group', 'add-group'])).toEqual(['add-group', 'baseline', 'remove-group']);
});

test('late-group and add-group both hold the last node group back: not in one rehearsal', () => {
  expect(() => runOrder(['late-group', 'add-group'])).toThrow(/late-group and add-group both hold the fleet's last node group back/);
});

test('before an addition the fleet runs the shrunk stack\'s version of each document both stacks have', () => {
  const full = { 'mesh-a': 'a2', 'mesh-b': 'b1', ca: 'x' };
  const shrunk = { 'mesh-a': 'a1', ca: 'x', 'only-shrunk': 'y' };
  expect(documentsBeforeAddition(full, shrunk)).toEqual({ 'mesh-a': 'a1' });
});

test('the campaign\'s crash moments follow the seed', () => {
  const a = crashMoments(4711, 5);
  expect(a).toEqual(crashMoments(4711, 5));
  expect(a).not.toEqual(crashMoments(4712, 5));
  expect(a.every((s) => s >= 4 && s <= 16)).toBe(true);
});

test('pg_lsn texts compare as numbers (the window drills compare standbys with the leader)', () => {
  expect(lsnValue('0/509F8B0')).toBeLessThan(lsnValue('0/50B0000'));
  expect(lsnValue('0/FFFFFFFF')).toBeLessThan(lsnValue('1/0'));
  expect(lsnValue('')).toBe(-1);
  expect(lsnValue(undefined)).toBe(-1);
});

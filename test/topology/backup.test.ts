import { BackupSchedule, Topology, Weekday } from '../../lib';
import { resolveFleet } from '../../lib/pipeline';
import { ledgerFleet } from '../fixtures/fleets';

function topologyWith(change: (p: any) => void): Topology {
  const props: any = ledgerFleet();
  change(props);
  return resolveFleet(props, 'test', 'fleet').topology;
}

test('by default every group backs up weekly in full and daily otherwise, into its region\'s bucket under its own path', () => {
  const t = topologyWith(() => undefined);
  for (const g of t.nodeGroups) {
    expect(g.backup).toEqual({
      stanza: g.name,
      bucket: `ledger-backup-${g.region}`,
      path: `/ledger/${g.name}`,
      fullCalendar: 'Sun *-*-* 01:00:00 UTC',
      // Not on Sunday: the full backup runs then, at the same time.
      differentialCalendar: 'Mon,Tue,Wed,Thu,Fri,Sat *-*-* 01:00:00 UTC',
      retentionFull: 4,
      archiveTimeoutSeconds: 60,
    });
  }
  expect(t.backupBuckets.map((b) => `${b.cloud}/${b.region}/${b.name}/${b.nodeGroups.join('+')}`)).toEqual([
    'aws/eu-west-1/ledger-backup-eu-west-1/euw1', 'aws/us-east-1/ledger-backup-us-east-1/use1', 'gcp/europe-west3/ledger-backup-europe-west3/euw3',
  ]);
});

test('a group overrides the fleet field by field; a group with backups off has no backup and no bucket', () => {
  const t = topologyWith((p) => {
    p.backup = { bucketNamePrefix: 'acme-ledger', differentialSchedule: BackupSchedule.daily(2, 30), retentionFullBackups: 8 };
    p.nodeGroups[0].backup = { fullSchedule: BackupSchedule.weekly(Weekday.WEDNESDAY, 3), incrementalSchedule: BackupSchedule.everyHours(4, 15) };
    p.nodeGroups[2].backup = { enabled: false };
  });
  const [use1, euw1, euw3] = ['use1', 'euw1', 'euw3'].map((n) => t.nodeGroups.find((g) => g.name === n)!);
  expect(use1.backup).toMatchObject({
    bucket: 'acme-ledger-us-east-1', fullCalendar: 'Wed *-*-* 03:00:00 UTC', differentialCalendar: '*-*-* 02:30:00 UTC',
    incrementalCalendar: '*-*-* 00/4:15:00 UTC', retentionFull: 8,
  });
  expect(euw1.backup).toMatchObject({ fullCalendar: 'Sun *-*-* 01:00:00 UTC', differentialCalendar: '*-*-* 02:30:00 UTC', retentionFull: 8 });
  expect(euw1.backup?.incrementalCalendar).toBeUndefined();
  expect(euw3.backup).toBeUndefined();
  expect(t.backupBuckets.map((b) => b.name)).toEqual(['acme-ledger-eu-west-1', 'acme-ledger-us-east-1']);
});

test('backups off for the fleet: no group backs up, no bucket', () => {
  const t = topologyWith((p) => { p.backup = { enabled: false }; });
  expect(t.nodeGroups.every((g) => g.backup === undefined)).toBe(true);
  expect(t.backupBuckets).toEqual([]);
});

describe('a node group restored from another one\'s backup (restoreFrom)', () => {
  const restored = () => topologyWith((p) => {
    p.nodeGroups.push({ name: 'use1-copy', cloud: 'aws', region: 'us-east-1', restoreFrom: { nodeGroup: 'use1', targetTime: '2026-11-27T11:14:59.25+01:00' } });
  });

  test('carries the source\'s stanza, bucket and path and the target time in UTC; archives nothing of its own', () => {
    const g = restored().nodeGroups.find((x) => x.name === 'use1-copy')!;
    expect(g.restore).toEqual({
      sourceGroup: 'use1',
      stanza: 'use1',
      bucket: 'ledger-backup-us-east-1',
      path: '/ledger/use1',
      targetTime: '2026-11-27T11:14:59.25+01:00',
      targetTimeUtc: '2026-11-27 10:14:59.25+00',
    });
    expect(g.backup).toBeUndefined();
  });

  test('stands outside the mesh: no subscription to or from it, the buckets list only the groups backing up', () => {
    const t = restored();
    expect(t.subscriptions.filter((s) => s.subscriber === 'use1-copy' || s.provider === 'use1-copy')).toEqual([]);
    expect(t.subscriptions).toEqual(topologyWith(() => undefined).subscriptions);
    expect(t.backupBuckets.find((b) => b.region === 'us-east-1')!.nodeGroups).toEqual(['use1']);
  });

  test('from a group removed from the declaration: its repository in the region\'s bucket', () => {
    const t = topologyWith((p) => {
      p.nodeGroups.push({ name: 'use1-old', cloud: 'aws', region: 'us-east-1', restoreFrom: { nodeGroup: 'use0', targetTime: '2026-11-27T10:14:59Z' } });
    });
    expect(t.nodeGroups.find((x) => x.name === 'use1-old')!.restore).toMatchObject({ sourceGroup: 'use0', stanza: 'use0', bucket: 'ledger-backup-us-east-1', path: '/ledger/use0' });
  });
});

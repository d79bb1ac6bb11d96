/**
 * What a member of a group with backups holds (pgBackRest configuration, backup script, timers per scheduled kind, the
 * archive parameters in Patroni's dynamic configuration, the package), what a group without them does not, and that
 * all of it travels in the scripts document rather than the user-data. Run for real in backup.system.test.ts.
 */
import { BackupSchedule, EtcdPlacement, PackageSource, Topology, Weekday } from '../../lib';
import { renderCloudConfig } from '../../lib/render';
import { ledgerFleet, pglogicalFleet } from '../fixtures/fleets';
import { bootCloudConfig, bootFilesOf, parseCloudConfig, topologyOf, yamlFileOf } from './helpers';

const CONF = '/etc/pgbackrest/pgbackrest.conf';
const SCRIPT = '/usr/local/lib/distributed-postgres/backup';
const unit = (kind: string, suffix: string) => `/etc/systemd/system/distributed-postgres-backup-${kind}.${suffix}`;
const settings = (text: string) => text.split('\n').filter((l) => !l.startsWith('#'));

function ledgerWith(change: (p: any) => void): Topology {
  const props: any = ledgerFleet();
  change(props);
  return topologyOf(props);
}

const memberOf = (t: Topology, group: string) => t.nodeGroups.find((g) => g.name === group)!.members[0].name;
const dcsParameters = (t: Topology, member: string) =>
  yamlFileOf(bootCloudConfig(t, member), '/etc/distributed-postgres/patroni.yml.template').bootstrap.dcs.postgresql.parameters;

test('an AWS group: S3 in its region by the machine\'s identity, retention, its stanza as Patroni lays the member out', () => {
  const t = topologyOf(ledgerFleet());
  expect(settings(bootFilesOf(t, memberOf(t, 'use1'))[CONF])).toEqual([
    '[global]',
    'repo1-type=s3',
    'repo1-s3-bucket=ledger-backup-us-east-1',
    'repo1-s3-endpoint=s3.us-east-1.amazonaws.com',
    'repo1-s3-region=us-east-1',
    'repo1-s3-key-type=auto',
    'repo1-path=/ledger/use1',
    'repo1-retention-full=4',
    'repo1-retention-full-type=count',
    'repo1-bundle=y',
    'compress-type=zst',
    'process-max=2',
    'start-fast=y',
    'log-level-console=warn',
    'log-level-file=info',
    '',
    '[use1]',
    'pg1-path=/var/lib/postgresql/17/data',
    'pg1-port=5432',
    'pg1-socket-path=/var/run/postgresql',
    'pg1-user=postgres',
    '',
  ]);
});

test('a GCP group: GCS by the service account, nothing of S3', () => {
  const t = topologyOf(ledgerFleet());
  const conf = settings(bootFilesOf(t, memberOf(t, 'euw3'))[CONF]);
  expect(conf.slice(0, 5)).toEqual(['[global]', 'repo1-type=gcs', 'repo1-gcs-bucket=ledger-backup-europe-west3', 'repo1-gcs-key-type=auto', 'repo1-path=/ledger/euw3']);
  expect(conf.filter((l) => l.includes('s3'))).toEqual([]);
  expect(conf).toContain('[euw3]');
});

test('whichever member leads archives: the archive parameters are in the dynamic configuration', () => {
  const t = ledgerWith((p) => { p.nodeGroups[0].backup = { archiveTimeoutSeconds: 300 }; });
  expect(dcsParameters(t, memberOf(t, 'use1'))).toMatchObject({
    archive_mode: 'on', archive_command: 'pgbackrest --stanza=use1 archive-push %p', archive_timeout: 300,
  });
  expect(dcsParameters(t, memberOf(t, 'euw1'))).toMatchObject({ archive_command: 'pgbackrest --stanza=euw1 archive-push %p', archive_timeout: 60 });
});

test('a timer per scheduled kind, at the group\'s calendars, each starting its service (the script decides who acts)', () => {
  const t = ledgerWith((p) => {
    p.nodeGroups[0].backup = { fullSchedule: BackupSchedule.weekly(Weekday.WEDNESDAY, 3), incrementalSchedule: BackupSchedule.everyHours(4, 15) };
  });
  const files = bootFilesOf(t, memberOf(t, 'use1'));
  const timers = Object.keys(files).filter((p) => p.endsWith('.timer')).sort();
  expect(timers).toEqual([unit('diff', 'timer'), unit('full', 'timer'), unit('incr', 'timer')]);
  expect(files[unit('full', 'timer')]).toMatch(/^OnCalendar=Wed \*-\*-\* 03:00:00 UTC$/m);
  expect(files[unit('diff', 'timer')]).toMatch(/^OnCalendar=\*-\*-\* 01:00:00 UTC$/m);
  expect(files[unit('incr', 'timer')]).toMatch(/^OnCalendar=\*-\*-\* 00\/4:15:00 UTC$/m);
  for (const kind of ['full', 'diff', 'incr']) {
    expect(files[unit(kind, 'timer')]).toMatch(/^WantedBy=timers\.target$/m);
    expect(files[unit(kind, 'service')]).toMatch(new RegExp(`^ExecStart=${SCRIPT} ${kind}$`, 'm'));
  }
  // By default: full and differential, no incremental.
  const plain = bootFilesOf(t, memberOf(t, 'euw1'));
  expect(Object.keys(plain).filter((p) => p.endsWith('.timer')).sort()).toEqual([unit('diff', 'timer'), unit('full', 'timer')]);
  expect(plain[unit('diff', 'timer')]).toMatch(/^OnCalendar=Mon,Tue,Wed,Thu,Fri,Sat \*-\*-\* 01:00:00 UTC$/m);
});

test('the backup script asks the group\'s Patroni over TLS and names the group\'s stanza', () => {
  const t = topologyOf(ledgerFleet());
  const script = bootFilesOf(t, memberOf(t, 'euw1'))[SCRIPT];
  expect(script).toMatch(/^STANZA=euw1$/m);
  expect(script).toMatch(/^PRIMARY_URL=https:\/\/127\.0\.0\.1:8008\/primary$/m);
  expect(script).toMatch(/^CA=\/etc\/distributed-postgres\/tls\/ca\.crt$/m);
  expect(script).toContain('--cacert "$CA"');
  expect(script).not.toMatch(/curl[^\n]*(-k|--insecure)/);
});

test('a group with backups off: no pgBackRest files, timers, archive parameters or package', () => {
  const t = ledgerWith((p) => { p.nodeGroups[1].backup = { enabled: false }; });
  const member = memberOf(t, 'euw1');
  const files = bootFilesOf(t, member);
  expect(Object.keys(files).filter((p) => /pgbackrest|backup/.test(p))).toEqual([]);
  expect(Object.keys(dcsParameters(t, member)).filter((k) => k.startsWith('archive'))).toEqual([]);
  expect(parseCloudConfig(bootCloudConfig(t, member)).packages).not.toContain('pgbackrest');
  // The others still back up.
  expect(parseCloudConfig(bootCloudConfig(t, memberOf(t, 'use1'))).packages).toContain('pgbackrest');
});

test('pgbackrest is installed on Postgres members for each package source that installs packages, not on etcd machines', () => {
  for (const source of [PackageSource.DISTRO, PackageSource.PGDG]) {
    const t = topologyOf({ ...pglogicalFleet(), postgres: { ...pglogicalFleet().postgres, packageSource: source }, etcd: { placement: EtcdPlacement.DEDICATED } });
    const group = t.nodeGroups[0];
    expect(parseCloudConfig(bootCloudConfig(t, group.members[0].name)).packages).toContain('pgbackrest');
    expect(parseCloudConfig(bootCloudConfig(t, group.etcd.members[0].name)).packages).not.toContain('pgbackrest');
    expect(Object.keys(bootFilesOf(t, group.etcd.members[0].name)).filter((p) => /pgbackrest|backup/.test(p))).toEqual([]);
  }
  const pgedge = topologyOf(ledgerFleet());
  expect(parseCloudConfig(bootCloudConfig(pgedge, memberOf(pgedge, 'use1'))).packages).toContain('pgbackrest');
});

test('the files travel in the scripts document, not the user-data', () => {
  const t = topologyOf(ledgerFleet());
  const userData = renderCloudConfig(t, memberOf(t, 'use1'));
  const paths = (parseCloudConfig(userData).write_files as { path: string }[]).map((f) => f.path);
  expect(paths.filter((p) => /pgbackrest|backup/.test(p))).toEqual([]);
  expect(bootFilesOf(t, memberOf(t, 'use1'))[CONF]).toBeDefined();
});

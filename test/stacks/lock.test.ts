/**
 * `lockFile`: synth records what identifies the running fleet and refuses, at the next synth, a declaration that
 * changes it (a change a running fleet cannot make), naming the construct, what it was and what to do instead.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Cloud, ConflictPolicy, DistributedPostgresProps, FleetValidationError, ImageFlavour, PackageSource, ReplicationEngine } from '../../lib';
import { FLEET_LOCK_FORMAT, lockChangeFindings, parseFleetLock } from '../../lib/topology/lock';
import { pglogicalFleet } from '../fixtures/fleets';
import { Testing } from 'cdktf';
import { fleetStack } from './helpers';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpg-lock-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A whole synth (custom synthesis runs: that is where the lock is written), into a directory of its own. */
function synthWith(props: DistributedPostgresProps, lockFile: string): void {
  const outdir = Testing.fullSynth(fleetStack({ ...props, lockFile }).stack);
  fs.rmSync(outdir, { recursive: true, force: true });
}

function refusal(props: DistributedPostgresProps, lockFile: string): string {
  try {
    synthWith(props, lockFile);
  } catch (e) {
    expect(e).toBeInstanceOf(FleetValidationError);
    return (e as Error).message;
  }
  throw new Error('synth was not refused');
}

/** The warnings a declaration's construct carries, with the lock file as it is. */
function warningsWith(props: DistributedPostgresProps, lockFile: string): string[] {
  const { fleet } = fleetStack({ ...props, lockFile });
  return fleet.node.metadata.filter((m) => m.type === '@cdktf/warn').map((m) => String(m.data));
}

test('a node group added to a running fleet that copies no rows is warned about; pglogical under last_update_wins and native are not', () => {
  const grow = (props: DistributedPostgresProps, image = ImageFlavour.DEBIAN_12): DistributedPostgresProps =>
    ({ ...props, nodeGroups: [...props.nodeGroups, { name: 'c', cloud: Cloud.AWS, region: 'us-west-2', image }] });
  const added = (props: DistributedPostgresProps, lock: string) => warningsWith(props, lock).filter((w) => w.includes('DPG-ADD-WITHOUT-ROWS'));
  const pglogical = path.join(dir, 'add-pglogical.lock.json');
  synthWith(pglogicalFleet(), pglogical);
  expect(added(grow(pglogicalFleet()), pglogical)).toEqual([]);
  const native = { ...pglogicalFleet(), postgres: { ...pglogicalFleet().postgres, version: 17 },
    nodeGroups: pglogicalFleet().nodeGroups.map((g) => ({ ...g, image: ImageFlavour.DEBIAN_13 })),
    replication: { ...pglogicalFleet().replication, engine: ReplicationEngine.NATIVE, conflictPolicy: ConflictPolicy.ERROR } };
  const nativeLock = path.join(dir, 'add-native.lock.json');
  synthWith(native, nativeLock);
  expect(added(grow(native, ImageFlavour.DEBIAN_13), nativeLock)).toEqual([]);
  const keepLocal = { ...pglogicalFleet(), replication: { ...pglogicalFleet().replication, conflictPolicy: ConflictPolicy.KEEP_LOCAL } };
  const keepLocalLock = path.join(dir, 'add-keep-local.lock.json');
  synthWith(keepLocal, keepLocalLock);
  expect(added(grow(keepLocal), keepLocalLock)).toEqual([
    expect.stringMatching(/\[DPG-ADD-WITHOUT-ROWS\] node group 'c' is added to the running fleet of .*add-keep-local\.lock\.json: with engine pglogical and conflict policy keep_local it copies none of the rows .*Fix: /),
  ]);
  // For a group the lock already has, nothing is said.
  expect(added(keepLocal, keepLocalLock)).toEqual([]);
});

test('the first synth writes the lock; an unchanged declaration passes and leaves the file as it was', () => {
  const file = path.join(dir, 'first', 'fleet.lock.json');
  synthWith(pglogicalFleet(), file);
  const text = fs.readFileSync(file, 'utf8');
  const lock = parseFleetLock(text);
  expect(lock).toEqual({
    format: FLEET_LOCK_FORMAT, name: 'rehearse', fleetCidr: '10.64.0.0/12', engine: 'pglogical', postgresVersion: 15,
    nodeGroups: [
      { name: 'a', number: 1, cloud: 'aws', region: 'us-east-1', cidr: expect.any(String), backupBucket: 'rehearse-backup-us-east-1' },
      { name: 'b', number: 2, cloud: 'aws', region: 'us-east-2', cidr: expect.any(String), backupBucket: 'rehearse-backup-us-east-2' },
    ],
  });
  const mtime = fs.statSync(file).mtimeMs;
  synthWith(pglogicalFleet(), file);
  expect(fs.readFileSync(file, 'utf8')).toBe(text);
  expect(fs.statSync(file).mtimeMs).toBe(mtime);
});

test('adding and removing node groups is live: accepted, and the lock follows', () => {
  const file = path.join(dir, 'grow.lock.json');
  synthWith(pglogicalFleet(), file);
  const grown = { ...pglogicalFleet(), nodeGroups: [...pglogicalFleet().nodeGroups, { name: 'c', cloud: Cloud.AWS, region: 'us-west-2', image: ImageFlavour.DEBIAN_12 }] };
  synthWith(grown, file);
  expect((parseFleetLock(fs.readFileSync(file, 'utf8')) as { nodeGroups: { name: string }[] }).nodeGroups.map((g) => g.name)).toEqual(['a', 'b', 'c']);
  synthWith({ ...pglogicalFleet(), nodeGroups: pglogicalFleet().nodeGroups.slice(0, 1) }, file);
  expect((parseFleetLock(fs.readFileSync(file, 'utf8')) as { nodeGroups: { name: string }[] }).nodeGroups.map((g) => g.name)).toEqual(['a']);
});

test('changes a running fleet cannot make are refused together, with what to do instead, and the lock is kept', () => {
  const file = path.join(dir, 'refuse.lock.json');
  synthWith(pglogicalFleet(), file);
  const before = fs.readFileSync(file, 'utf8');
  const props = pglogicalFleet();
  const changed: DistributedPostgresProps = {
    ...props,
    postgres: { ...props.postgres, version: 16, packageSource: PackageSource.PGDG },
    replication: { ...props.replication, engine: ReplicationEngine.NATIVE },
    nodeGroups: [{ ...props.nodeGroups[0], region: 'us-west-2' }, props.nodeGroups[1]],
  };
  const message = refusal(changed, file);
  expect(message).toMatch(/^DistributedPostgres 'test\/fleet' has 3 problem\(s\) in its declaration; nothing was synthesized\./);
  expect(message).toMatch(/\[DPG-LIVE-CHANGE\] replication\.engine: was pglogical: .*Fix: keep pglogical/);
  expect(message).toMatch(/\[DPG-LIVE-CHANGE\] postgres\.version: was 15: .*Fix: keep 15/);
  expect(message).toMatch(/\[DPG-LIVE-CHANGE\] nodeGroups\[0\] \(a\)\.region: was us-east-1: .*Fix: keep us-east-1; to move the group, add a new node group/);
  expect(fs.readFileSync(file, 'utf8')).toBe(before);
});

test('a rename that reuses the removed group\'s number is refused; a damaged lock says how to recover', () => {
  const file = path.join(dir, 'rename.lock.json');
  synthWith(pglogicalFleet(), file);
  const props = pglogicalFleet();
  const renamed = { ...props, nodeGroups: [props.nodeGroups[0], { ...props.nodeGroups[1], name: 'b2', number: 2 }] };
  expect(refusal(renamed, file)).toMatch(/\[DPG-LIVE-CHANGE\] nodeGroups\[1\] \(b2\): takes the number 2 of node group 'b', removed in the same change.*Fix: deploy the removal of 'b' first/);
  fs.writeFileSync(file, '{"format": "something-else"}');
  expect(refusal(props, file)).toMatch(/\[DPG-LIVE-CHANGE\] lockFile: .*rename\.lock\.json is not a fleet lock .*Fix: restore it from version control/);
  expect(refusal({ ...props, lockFile: 42 as unknown as string }, 42 as unknown as string)).toMatch(/\[DPG-TYPE\] lockFile: 42 is not a file path/);
});

test('the rules on their own: the fleet\'s name and range', () => {
  const lock = parseFleetLock(JSON.stringify({ format: FLEET_LOCK_FORMAT, name: 'x', fleetCidr: '10.64.0.0/12', engine: 'spock', postgresVersion: 16, nodeGroups: [] }));
  if (typeof lock === 'string') throw new Error(lock);
  expect(lockChangeFindings(lock, lock)).toEqual([]);
  expect(lockChangeFindings(lock, { ...lock, name: 'y', fleetCidr: '10.80.0.0/12' }).map((f) => f.path)).toEqual(['name', 'network.fleetCidr']);
  expect(parseFleetLock('not json')).toMatch(/^is not JSON/);
  expect(parseFleetLock(JSON.stringify({ format: FLEET_LOCK_FORMAT }))).toMatch(/^lacks one of/);
});

test('the lock records each group\'s backup bucket: a new bucket prefix is refused, turning a group\'s backups off or on is not', () => {
  const file = path.join(dir, 'backup.lock.json');
  synthWith(pglogicalFleet(), file);
  const locked = parseFleetLock(fs.readFileSync(file, 'utf8'));
  if (typeof locked === 'string') throw new Error(locked);
  expect(locked.nodeGroups.map((g) => g.backupBucket)).toEqual(['rehearse-backup-us-east-1', 'rehearse-backup-us-east-2']);
  const props = pglogicalFleet();
  const message = refusal({ ...props, backup: { bucketNamePrefix: 'acme-rehearse' } }, file);
  expect(message).toMatch(/\[DPG-LIVE-CHANGE\] backup\.bucketNamePrefix: puts node group 'a' in bucket acme-rehearse-us-east-1, but its backups and WAL archive are in rehearse-backup-us-east-1.*Fix: keep the prefix/);
  expect(message).toMatch(/node group 'b' in bucket acme-rehearse-us-east-2/);
  const off = { ...props, nodeGroups: [{ ...props.nodeGroups[0], backup: { enabled: false } }, props.nodeGroups[1]] };
  synthWith(off, file);
  synthWith(props, file);
});

test('a declaration with an ordinary problem and a change a running fleet cannot make gets both, in one error', () => {
  const file = path.join(dir, 'both.lock.json');
  synthWith(pglogicalFleet(), file);
  const props = pglogicalFleet();
  const message = refusal({
    ...props,
    replication: { ...props.replication, engine: ReplicationEngine.NATIVE },
    nodeGroups: [{ ...props.nodeGroups[0], members: 0 }, props.nodeGroups[1]],
  }, file);
  expect(message).toMatch(/\[DPG-MEMBERS\] nodeGroups\[0\] \(a\)\.members: 0/);
  expect(message).toMatch(/\[DPG-LIVE-CHANGE\] replication\.engine: was pglogical/);
  // What cannot be read from the broken declaration is not reported as changed.
  expect(message).not.toMatch(/\.cidr: was/);
  // Without a change, an ordinary problem alone.
  expect(refusal({ ...props, nodeGroups: [{ ...props.nodeGroups[0], members: 0 }, props.nodeGroups[1]] }, file)).not.toMatch(/DPG-LIVE-CHANGE/);
});

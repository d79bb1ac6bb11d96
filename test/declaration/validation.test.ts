import {
  Cloud, ConflictPolicy, DistributedPostgresProps, EtcdPlacement, FleetValidationError, ImageFlavour, MachineImage, PackageSource,
  ReplicationEngine, SynchronousMode,
} from '../../lib';
import { rehearsalNativeFleet } from '../../stacks/rehearsal-native';
import { rehearsalSpockFleet } from '../../stacks/rehearsal-spock';
import { checkDeclaration, resolveFleet } from '../../lib/pipeline';
import { ledgerFleet, pglogicalFleet, singleGroupDedicatedEtcd } from '../fixtures/fleets';

/** The findings of a declaration, as `RULE path: message` lines. */
function problems(props: DistributedPostgresProps): string[] {
  return checkDeclaration(props, 'fleet').findings.map((x) => `${x.rule} ${x.path}: ${x.message}`);
}

/** The ledger fleet with a change applied. */
function ledgerWith(change: (p: any) => void): DistributedPostgresProps {
  const p: any = JSON.parse(JSON.stringify(ledgerFleet()));
  change(p);
  return p;
}

describe('valid fleets pass', () => {
  test.each([
    ['ledger (3 groups, 2 clouds, geoshard)', ledgerFleet()],
    ['pglogical on Debian 12', pglogicalFleet()],
    ['single group with dedicated etcd', singleGroupDedicatedEtcd()],
    ['native on Debian 13 (PostgreSQL 17, Patroni 4.0.7)', rehearsalNativeFleet()],
    ['Spock on a golden image (PostgreSQL 15)', rehearsalSpockFleet()],
    ['pglogical on Debian 13 from the distro', { ...rehearsalNativeFleet(), replication: { engine: ReplicationEngine.PGLOGICAL, globalTables: ['public.items'] } }],
    ['a golden image on GCP built on Debian 13', ledgerWith((p) => {
      p.postgres = { packageSource: 'image', version: 17, binDir: '/opt/postgres/17/bin' };
      p.nodeGroups.forEach((g: any) => { g.image = 'debian-13'; });
      p.nodeGroups[0].machineImage = MachineImage.awsAmiId('ami-0123456789abcdef0');
      p.nodeGroups[1].machineImage = MachineImage.awsAmiLookup('123456789012', 'dpg-spock-pg17-*');
      p.nodeGroups[2].machineImage = MachineImage.gcpImage('projects/acme-images/global/images/family/dpg-spock-pg17');
    })],
    ['monitoring scraped from two private monitoring ranges', ledgerWith((p) => { p.monitoring = { scrapeCidrs: ['10.250.0.0/24', '192.168.7.0/24'] }; })],
    ['monitoring off', ledgerWith((p) => { p.monitoring = { enabled: false, scrapeCidrs: [] }; })],
    ['a custom machine image with distro packages', { ...rehearsalNativeFleet(), nodeGroups: rehearsalNativeFleet().nodeGroups.map((g) => ({ ...g, machineImage: MachineImage.awsAmiLookup('self', 'hardened-debian-13-*') })) }],
  ])('%s', (_name, props) => {
    expect(problems(props)).toEqual([]);
  });
});

describe('each rule rejects what it guards', () => {
  const cases: [string, (p: any) => void, RegExp][] = [
    ['even etcd quorum', (p) => { p.nodeGroups[0].etcd = { size: 4 }; }, /DPG-ETCD-SIZE nodeGroups\[0\] \(use1\)\.etcd\.size: 4 etcd members is an even quorum.*Fix: use 3 or 5/],
    ['too-small etcd quorum', (p) => { p.etcd = { size: 1 }; }, /DPG-ETCD-SIZE .*1 etcd members cannot give a fault-tolerant quorum/],
    ['quorum over too few zones', (p) => { p.nodeGroups[0].zones = ['us-east-1a', 'us-east-1b']; }, /DPG-ETCD-SPREAD nodeGroups\[0\] \(use1\)\.zones: 3 etcd members over 2 zone\(s\) puts 2 in one zone.*Fix: give at least 3 zones/],
    ['co-located quorum bigger than the group', (p) => { p.nodeGroups[1].etcd = { size: 5 }; p.nodeGroups[1].members = 3; }, /DPG-ETCD-COLOCATED .*quorum of 5 needs 5 Postgres members/],
    ['duplicate node group names', (p) => { p.nodeGroups[1].name = 'use1'; }, /DPG-NAME nodeGroups: node group name 'use1' is used more than once/],
    ['duplicate node group numbers', (p) => { p.nodeGroups[1].number = 1; }, /DPG-GROUPS nodeGroups: node group number 1 is used more than once/],
    ['invalid group name', (p) => { p.nodeGroups[0].name = 'US_East'; }, /DPG-NAME nodeGroups\[0\] \(US_East\)\.name: 'US_East' is not a valid node group name/],
    ['invalid fleet name', (p) => { p.name = 'Ledger!'; }, /DPG-NAME name: 'Ledger!' is not a valid fleet name/],
    ['unknown AWS region', (p) => { p.nodeGroups[0].region = 'us-east-9'; }, /DPG-REGION nodeGroups\[0\] \(use1\)\.region: 'us-east-9' is not an AWS region.*Fix: use one of us-east-1/],
    ['GCP region on AWS', (p) => { p.nodeGroups[0].region = 'europe-west3'; }, /DPG-REGION .*'europe-west3' is not an AWS region/],
    ['zone outside region', (p) => { p.nodeGroups[0].zones = ['us-east-1a', 'us-east-1b', 'eu-west-1c']; }, /DPG-REGION .*'eu-west-1c' is not a zone of us-east-1/],
    ['overlapping explicit CIDRs', (p) => { p.nodeGroups[0].cidr = '10.1.0.0/16'; p.nodeGroups[1].cidr = '10.1.128.0/20'; }, /DPG-CIDR nodeGroups\[1\] \(euw1\)\.cidr: 10\.1\.128\.0\/20 overlaps 10\.1\.0\.0\/16/],
    ['explicit CIDR overlapping a carved one', (p) => { p.nodeGroups[2].cidr = '10.64.0.0/22'; }, /DPG-CIDR nodeGroups\[2\] \(euw3\)\.cidr: 10\.64\.0\.0\/22 overlaps 10\.64\.0\.0\/20 of nodeGroups\[0\] \(use1\)/],
    ['CIDR too small for the members', (p) => { p.nodeGroups[0].cidr = '10.1.0.0/26'; }, /DPG-CIDR .*10\.1\.0\.0\/26 is too small for the member plan.*Fix: use a \/23 or larger/],
    ['public CIDR', (p) => { p.nodeGroups[0].cidr = '54.0.0.0/20'; }, /DPG-CIDR .*54\.0\.0\.0\/20 is not a private \(RFC 1918\) range/],
    ['malformed CIDR', (p) => { p.nodeGroups[0].cidr = '10.1.0.1/20'; }, /DPG-CIDR .*'10\.1\.0\.1\/20' is not an IPv4 CIDR/],
    ['fleet CIDR too small for the numbers', (p) => { p.network.fleetCidr = '10.64.0.0/19'; }, /DPG-CIDR nodeGroups\[2\] \(euw3\)\.cidr: the fleet CIDR 10\.64\.0\.0\/19 holds only 2 node group\(s\)/],
    ['client CIDR open to the internet', (p) => { p.network.clientCidrs = ['0.0.0.0/0']; }, /DPG-CIDR network\.clientCidrs\[0\]: 0\.0\.0\.0\/0 is not a private range/],
    ['sync standbys that block commits', (p) => { p.ha = { synchronousStandbys: 2 }; }, /DPG-SYNC nodeGroups\[0\] \(use1\)\.members: 2 synchronous standby\(s\) out of 2 standby\(s\): losing one standby would block/],
    ['sync mode with two members', (p) => { p.nodeGroups[2].members = 2; p.nodeGroups[2].etcd = { placement: 'dedicated' }; }, /DPG-SYNC nodeGroups\[2\] \(euw3\)\.members: 1 synchronous standby\(s\) out of 1 standby/],
    ['Patroni timing rule', (p) => { p.ha = { ttl: 20, loopWait: 5, retryTimeout: 10 }; }, /DPG-PATRONI-TIMING ha: loop_wait 5 \+ 2 x retry_timeout 10 = 25 exceeds ttl 20/],
    ['Patroni ttl below minimum', (p) => { p.ha = { ttl: 10, loopWait: 2, retryTimeout: 4 }; }, /DPG-PATRONI-TIMING ha\.ttl: 10 is below Patroni's minimum ttl of 20/],
    ['Spock without pgEdge packages', (p) => { p.postgres = { packageSource: 'pgdg' }; }, /DPG-PACKAGES postgres: Spock needs pgEdge's patched PostgreSQL, but packageSource is 'pgdg'.*or 'image' with a golden image/],
    ['native multi-master on PG 15', (p) => { p.replication = { engine: 'native' }; p.postgres = { packageSource: 'pgdg', version: 15 }; }, /DPG-PACKAGES postgres: native multi-master replication needs PostgreSQL 16 or later/],
    ['distro Patroni too old for PG 16 on Debian 12', (p) => {
      p.replication = { engine: 'pglogical' }; p.postgres = { packageSource: 'distro', version: 16 };
      p.nodeGroups[0].image = 'debian-12';
    }, /DPG-PACKAGES postgres: debian-12 ships only PostgreSQL 15 \(and Patroni 3\.0\.2, which supports PostgreSQL <= 15\)/],
    ['distro Patroni too old for PG 17 on Ubuntu', (p) => { p.replication = { engine: 'pglogical' }; p.postgres = { packageSource: 'distro', version: 17 }; }, /ubuntu-24\.04 ships only PostgreSQL 16 \(and Patroni 3\.2\.2/],
    ['pgEdge packages for PG 15', (p) => { p.postgres = { version: 15 }; }, /DPG-PACKAGES postgres: pgEdge's Enterprise Postgres packages \(Spock 5\) support PostgreSQL 16 to 18, not 15/],
    ['pglogical from pgEdge', (p) => { p.replication = { engine: 'pglogical' }; p.postgres = { packageSource: 'pgedge' }; }, /pgEdge's repository ships Spock, not pglogical/],
    ['geoshard naming a missing node group', (p) => { p.geoshards[0].nodeGroups = ['euw1', 'fra1']; }, /DPG-GEOSHARD geoshards\[0\] \(eu\)\.nodeGroups: 'fra1' is not a node group of this fleet/],
    ['geography with no node group', (p) => { p.geoshards[0].nodeGroups = []; }, /DPG-GEOSHARD geoshards\[0\] \(eu\)\.nodeGroups: is empty: a geography with no node group/],
    ['partition in two geoshards', (p) => {
      p.geoshards.push({ name: 'us', nodeGroups: ['use1'], tables: [{ table: 'ledger.entries', partition: 'ledger.entries_eu', values: ['us'] }] });
    }, /DPG-GEOSHARD geoshards\[1\] \(us\)\.tables\[0\]: partition 'ledger\.entries_eu' is in geoshards 'eu' and 'us'/],
    ['partition value in two geoshards', (p) => {
      p.geoshards.push({ name: 'us', nodeGroups: ['use1'], tables: [{ table: 'ledger.entries', partition: 'ledger.entries_us', values: ['eu'] }] });
    }, /value 'eu' of 'ledger\.entries' belongs to geoshards 'eu' and 'us'/],
    ['geoshard table that is also global', (p) => { p.replication.globalTables.push('ledger.entries'); }, /DPG-GEOSHARD .*'ledger\.entries' is also a global table, so its rows would replicate outside 'eu'/],
    ['snowflake id out of range', (p) => { p.nodeGroups[0].snowflakeNodeIds = [1, 2, 1024]; }, /DPG-SNOWFLAKE nodeGroups\[0\] \(use1\)\.snowflakeNodeIds: member 3 gets snowflake id 1024, outside 1\.\.1023/],
    ['snowflake ids not unique', (p) => { p.nodeGroups[1].snowflakeNodeIds = [11, 12, 2]; }, /DPG-SNOWFLAKE nodeGroups\[1\] \(euw1\)\.snowflakeNodeIds: snowflake id 2 of member 3 is also used by use1 member 2/],
    ['snowflake ids of the wrong count', (p) => { p.nodeGroups[0].snowflakeNodeIds = [1]; }, /lists 1 id\(s\) for 3 member\(s\)/],
    ['GCP on an image without cloud-init', (p) => { p.nodeGroups[2].image = 'debian-12'; }, /DPG-IMAGE nodeGroups\[2\] \(euw3\)\.image: Debian 12 images on GCP do not run cloud-init/],
    ['Debian 13 on GCP without a golden image', (p) => { p.nodeGroups[2].image = 'debian-13'; }, /DPG-IMAGE nodeGroups\[2\] \(euw3\)\.image: Debian 13 images on GCP do not run cloud-init.*or a machineImage/],
    ['distro PostgreSQL 16 on Debian 13', (p) => {
      p.replication = { engine: 'pglogical' }; p.postgres = { packageSource: 'distro', version: 16 };
      p.nodeGroups.forEach((g: any) => { g.image = 'debian-13'; g.cloud = 'aws'; g.region = 'eu-west-1'; });
      p.geoshards = [];
    }, /DPG-PACKAGES postgres: debian-13 ships only PostgreSQL 17 \(and Patroni 4\.0\.7/],
    ['golden image without a machine image', (p) => { p.postgres = { packageSource: 'image' }; },
      /DPG-MACHINE-IMAGE nodeGroups\[0\] \(use1\)\.machineImage: is missing: postgres\.packageSource 'image' installs nothing at boot.*Fix: set machineImage, e\.g\. MachineImage\.awsAmiLookup/],
    ['an AWS image on a GCP node group', (p) => { p.nodeGroups[2].machineImage = MachineImage.awsAmiId('ami-0123456789abcdef0'); },
      /DPG-MACHINE-IMAGE nodeGroups\[2\] \(euw3\)\.machineImage: is an AWS image, but node group 'euw3' runs on GCP\. Fix: use MachineImage\.gcpImage/],
    ['a GCP image on an AWS node group', (p) => { p.nodeGroups[0].machineImage = MachineImage.gcpImage('dpg-pg17'); },
      /DPG-MACHINE-IMAGE nodeGroups\[0\] \(use1\)\.machineImage: is a GCP image, but node group 'use1' runs on AWS/],
    ['a malformed AMI id', (p) => { p.nodeGroups[0].machineImage = MachineImage.awsAmiId('ami-12345'); }, /DPG-MACHINE-IMAGE .*'ami-12345' is not an AMI id/],
    ['an AMI owner that is not an account', (p) => { p.nodeGroups[0].machineImage = MachineImage.awsAmiLookup('me', 'dpg-*'); }, /owner 'me' is not an AMI owner/],
    ['an AMI name pattern with a quote', (p) => { p.nodeGroups[0].machineImage = MachineImage.awsAmiLookup('self', "dpg-'x'*"); }, /name pattern 'dpg-'x'\*' is not an AMI name pattern/],
    ['a malformed GCE image', (p) => { p.nodeGroups[2].machineImage = MachineImage.gcpImage('projects/x/images/y'); }, /DPG-MACHINE-IMAGE .*'projects\/x\/images\/y' is not a GCE image/],
    ['a machine image that is not a MachineImage', (p) => { p.nodeGroups[0].machineImage = { kind: 'aws-ami-id', amiId: 'ami-0123456789abcdef0' }; },
      /DPG-TYPE nodeGroups\[0\] \(use1\)\.machineImage: is not a MachineImage/],
    ['a relative binDir', (p) => { p.postgres = { binDir: 'usr/lib/postgresql/17/bin' }; }, /DPG-MACHINE-IMAGE postgres\.binDir: 'usr\/lib\/postgresql\/17\/bin' is not an absolute directory path/],
    ['a binDir with a space', (p) => { p.postgres = { binDir: '/opt/my postgres/bin' }; }, /DPG-MACHINE-IMAGE postgres\.binDir: .* without whitespace, quotes or '\.\.'/],
    ['a binDir with ..', (p) => { p.postgres = { binDir: '/opt/../bin' }; }, /DPG-MACHINE-IMAGE postgres\.binDir/],
    ['Spock on a golden image with PostgreSQL 14', (p) => {
      p.postgres = { packageSource: 'image', version: 14 };
      p.nodeGroups[0].machineImage = MachineImage.awsAmiId('ami-0123456789abcdef0');
      p.nodeGroups[1].machineImage = MachineImage.awsAmiId('ami-0123456789abcdef0');
      p.nodeGroups[2].machineImage = MachineImage.gcpImage('dpg-pg14');
    }, /DPG-PACKAGES postgres: Spock 5 supports PostgreSQL 15 to 18, not 14/],
    ['Spock with a pglogical-only conflict policy', (p) => { p.replication.conflictPolicy = 'keep_local'; }, /DPG-CONFLICTS replication\.conflictPolicy: Spock resolves conflicts only with last_update_wins/],
    ['native with last-update-wins', (p) => { p.replication = { engine: 'native', conflictPolicy: 'last_update_wins' }; p.postgres = { packageSource: 'pgdg' }; }, /native logical replication has no conflict resolution/],
    ['delta apply outside Spock', (p) => { p.replication.engine = 'pglogical'; p.postgres = { packageSource: 'pgdg' }; }, /DPG-CONFLICTS replication\.deltaApplyColumns: delta-apply columns are a Spock feature/],
    ['wrong type through any', (p) => { p.nodeGroups[0].members = 'three'; }, /DPG-TYPE nodeGroups\[0\] \(use1\)\.members: must be a finite number, got the string "three"/],
    ['managed parameter', (p) => { p.postgres = { parameters: { wal_level: 'replica' } }; }, /DPG-POSTGRES postgres\.parameters\.wal_level: 'wal_level' is managed by the library/],
    ['injection in a parameter value', (p) => { p.postgres = { parameters: { work_mem: "64MB'; DROP TABLE x; --" } }; }, /DPG-POSTGRES postgres\.parameters\.work_mem: the value .* contains characters that are not allowed/],
  ];

  test.each(cases)('%s', (_name, change, expected) => {
    const found = problems(ledgerWith(change));
    expect(found).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });
});

describe('the aggregated error', () => {
  test('lists several problems at once, names the construct and the fixes', () => {
    const broken = ledgerWith((p) => {
      p.nodeGroups[0].etcd = { size: 2 };
      p.nodeGroups[1].region = 'mars-1';
      p.ha = { ttl: 20, loopWait: 10, retryTimeout: 10 };
    });
    let error: unknown;
    try {
      resolveFleet(broken, 'Stack/Ledger', 'ledger');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FleetValidationError);
    const message = (error as Error).message;
    expect(message).toMatch(/^DistributedPostgres 'Stack\/Ledger' has 3 problem\(s\) in its declaration; nothing was synthesized\./);
    expect(message).toMatch(/1\. \[DPG-REGION\] nodeGroups\[1\] \(euw1\)\.region: 'mars-1'/);
    expect(message).toMatch(/\[DPG-ETCD-SIZE\] nodeGroups\[0\] \(use1\)\.etcd\.size: 2 etcd members is an even quorum/);
    expect(message).toMatch(/\[DPG-PATRONI-TIMING\] ha: loop_wait 10 \+ 2 x retry_timeout 10 = 30 exceeds ttl 20/);
    expect((error as FleetValidationError).findings).toHaveLength(3);
    expect((error as Error).stack).not.toMatch(/at .*rules\.ts/);
  });

  test('golden-image problems are reported together, each with its fix', () => {
    const found = problems(ledgerWith((p) => {
      p.postgres = { packageSource: 'image', version: 17, binDir: 'bin' };
      p.nodeGroups[1].machineImage = MachineImage.gcpImage('dpg-pg17');
      p.nodeGroups[2].machineImage = MachineImage.gcpImage('dpg-pg17');
    }));
    expect(found).toEqual([
      expect.stringMatching(/^DPG-MACHINE-IMAGE nodeGroups\[0\] \(use1\)\.machineImage: is missing/),
      expect.stringMatching(/^DPG-MACHINE-IMAGE nodeGroups\[1\] \(euw1\)\.machineImage: is a GCP image, but node group 'euw1' runs on AWS/),
      expect.stringMatching(/^DPG-MACHINE-IMAGE postgres\.binDir: 'bin' is not an absolute directory path.*Fix: give the directory that holds pg_ctl and psql/),
    ]);
  });

  test('garbage input is reported, not thrown from our internals', () => {
    const found = problems({ nodeGroups: [null, 42, { name: 'x', cloud: 'azure', region: 7 }] } as any);
    expect(found).toEqual(expect.arrayContaining([
      expect.stringMatching(/DPG-TYPE nodeGroups\[0\]: must be an object, got null/),
      expect.stringMatching(/DPG-TYPE nodeGroups\[1\]: must be an object, got number 42/),
      expect.stringMatching(/DPG-TYPE nodeGroups\[2\] \(x\)\.cloud: must be one of 'aws', 'gcp', got the string "azure"/),
      expect.stringMatching(/DPG-TYPE nodeGroups\[2\] \(x\)\.region: must be a string, got number 7/),
    ]));
    expect(problems(undefined as any)).toEqual(expect.arrayContaining([expect.stringMatching(/nodeGroups: is missing/)]));
    expect(problems({ nodeGroups: [] })).toEqual([expect.stringMatching(/DPG-GROUPS nodeGroups: is empty/)]);
  });
});

describe('defaults', () => {
  test('monitoring: on, the exporters on 9187 and 9100, scraped from the fleet only; declared ranges sorted, each once', () => {
    expect(resolveFleet(ledgerFleet(), 'x', 'x').topology.monitoring).toEqual({
      enabled: true, postgresExporterPort: 9187, nodeExporterPort: 9100, scrapeCidrs: [], exporterRole: 'prometheus',
    });
    const declared = resolveFleet(ledgerWith((p) => { p.monitoring = { scrapeCidrs: ['192.168.7.0/24', '10.250.0.0/24'] }; }), 'x', 'x').topology;
    expect(declared.monitoring.scrapeCidrs).toEqual(['10.250.0.0/24', '192.168.7.0/24']);
    expect(resolveFleet(ledgerWith((p) => { p.monitoring = { enabled: false }; }), 'x', 'x').topology.monitoring.enabled).toBe(false);
  });

  test('Spock defaults to pgEdge packages and PostgreSQL 17; pglogical to the distro version', () => {
    const spock = resolveFleet(ledgerFleet(), 'x', 'x').topology;
    expect(spock.postgres).toMatchObject({ packageSource: PackageSource.PGEDGE, version: 17 });
    expect(spock.replication).toMatchObject({ engine: ReplicationEngine.SPOCK, conflictPolicy: ConflictPolicy.LAST_UPDATE_WINS, snowflakeIds: true });
    const pglogical = resolveFleet(pglogicalFleet(), 'x', 'x').topology;
    expect(pglogical.postgres).toMatchObject({ packageSource: PackageSource.DISTRO, version: 15 });
    expect(pglogical.patroni).toMatchObject({ ttl: 20, loopWait: 2, retryTimeout: 9, synchronousMode: SynchronousMode.ON, synchronousNodeCount: 1 });
  });

  test('Debian 13 defaults to its distro PostgreSQL 17; binDir defaults to the Debian layout of the version, or is the declared one', () => {
    const native = resolveFleet(rehearsalNativeFleet(), 'x', 'x').topology;
    const { version: _declared, ...withoutVersion } = rehearsalNativeFleet().postgres!;
    const defaulted = resolveFleet({ ...rehearsalNativeFleet(), postgres: withoutVersion }, 'x', 'x').topology;
    expect(defaulted.postgres).toMatchObject({ version: 17, packageSource: PackageSource.DISTRO, binDir: '/usr/lib/postgresql/17/bin' });
    expect(native.nodeGroups.map((g) => g.image)).toEqual(['debian-13', 'debian-13']);
    const golden = resolveFleet({ ...rehearsalSpockFleet(), postgres: { packageSource: PackageSource.IMAGE, version: 15, binDir: '/opt/pg15/bin' } }, 'x', 'x').topology;
    expect(golden.postgres.binDir).toBe('/opt/pg15/bin');
    expect(golden.nodeGroups[0].machineImage).toEqual({ kind: 'aws-ami-lookup', cloud: 'aws', owner: 'self', namePattern: 'dpg-spock-pg15-*' });
  });

  test('native engine defaults to error on conflict and warns about it', () => {
    const fleet = resolveFleet({
      nodeGroups: [
        { name: 'a', cloud: Cloud.GCP, region: 'us-east1', image: ImageFlavour.UBUNTU_24_04 },
        { name: 'b', cloud: Cloud.GCP, region: 'us-west1' },
      ],
      replication: { engine: ReplicationEngine.NATIVE },
    }, 'x', 'native');
    expect(fleet.topology.replication.conflictPolicy).toBe(ConflictPolicy.ERROR);
    expect(fleet.topology.postgres.version).toBe(16);
    expect(fleet.warnings).toEqual([expect.stringMatching(/no conflict resolution/)]);
  });

  test('dedicated etcd machines get their own addresses and type', () => {
    const g = resolveFleet(singleGroupDedicatedEtcd(), 'x', 'x').topology.nodeGroups[0];
    expect(g.etcd.placement).toBe(EtcdPlacement.DEDICATED);
    expect(g.etcd.machineType).toBe('e2-small');
    expect(g.members.every((m) => !m.runsEtcd)).toBe(true);
    const memberIps = new Set(g.members.map((m) => m.privateIp));
    expect(g.etcd.members.every((e) => !memberIps.has(e.privateIp) && e.hostMember === '')).toBe(true);
  });
});

/**
 * Applies every default to a declaration, tolerating anything (the declaration may come from
 * JavaScript or another jsii language with wrong types). Type problems become findings, so the
 * validation rules see well-typed values and every problem is reported together.
 */
import {
  AwsInterRegion, Cloud, ConflictPolicy, DistributedPostgresProps, EtcdPlacement, ImageFlavour, Interconnect, LatencyClass,
  LeaderEndpoint, PackageSource, ReplicationEngine, SynchronousMode, TimingProfile, TlsCa,
} from './props';
import { DEFAULT_ANTI_ENTROPY_MINUTES, DEFAULT_WAL_RETENTION_PERCENT, defaultMaxNodeGroups } from './derived';
import { BackupSchedule, Weekday } from './backup-schedule';
import { MachineImage } from './machine-image';
import { Reader } from './reader';
import { zonesOf } from './regions';
import { BackupScheduleSpec, BackupSpec, ExistingNetworkSpec, Finding, FleetSpec, GeoshardSpec, GroupSpec, MachineImageSpec, RestoreSpec } from './spec';

export const TIMING_PROFILES: Record<TimingProfile, { ttl: number; loopWait: number; retryTimeout: number }> = {
  [TimingProfile.DEFAULT]: { ttl: 30, loopWait: 10, retryTimeout: 10 },
  [TimingProfile.FAST]: { ttl: 20, loopWait: 2, retryTimeout: 9 },
};

export const DEFAULT_FLEET_CIDR = '10.64.0.0/12';

const DEFAULT_MACHINE: Record<Cloud, string> = { [Cloud.AWS]: 'm6i.large', [Cloud.GCP]: 'n2-standard-2' };
const DEFAULT_ETCD_MACHINE: Record<Cloud, string> = { [Cloud.AWS]: 't3.small', [Cloud.GCP]: 'e2-small' };
const DEFAULT_DISK_TYPE: Record<Cloud, string> = { [Cloud.AWS]: 'gp3', [Cloud.GCP]: 'pd-ssd' };

/**
 * The properties each object of the declaration may have. From JavaScript or through `any`, anything else
 * (a typo such as `memebers`) would otherwise be ignored silently and the default used instead.
 */
const PROPERTIES = {
  props: ['name', 'nodeGroups', 'etcd', 'postgres', 'ha', 'replication', 'geoshards', 'network', 'secrets', 'governance', 'encryption', 'backup', 'monitoring', 'awsProviders', 'googleProvider', 'lockFile'],
  nodeGroup: ['name', 'number', 'cloud', 'region', 'zones', 'members', 'machineType', 'dataDisk', 'image', 'machineImage', 'cidr', 'patroniTags', 'snowflakeNodeIds', 'etcd', 'extraSecurityGroupIds', 'existingNetwork', 'backup', 'restoreFrom'],
  restoreFrom: ['nodeGroup', 'targetTime'],
  existingNetwork: ['awsVpcId', 'gcpNetwork', 'subnets'],
  existingSubnet: ['id', 'cidr'],
  etcd: ['size', 'placement', 'machineType', 'latency'],
  dataDisk: ['sizeGiB', 'type'],
  postgres: ['version', 'packageSource', 'binDir', 'database', 'parameters'],
  ha: ['synchronousMode', 'synchronousStandbys', 'timingProfile', 'ttl', 'loopWait', 'retryTimeout', 'maximumLagOnFailoverBytes', 'failsafeMode'],
  replication: ['engine', 'conflictPolicy', 'deltaApplyColumns', 'snowflakeIds', 'leaderEndpoint', 'globalTables', 'walRetentionPercent', 'antiEntropyMinutes', 'antiEntropyIgnoredColumns', 'maxNodeGroups'],
  deltaApplyColumn: ['table', 'column'],
  geoshard: ['name', 'nodeGroups', 'tables'],
  geoshardTable: ['table', 'partition', 'values'],
  network: ['fleetCidr', 'interconnect', 'awsInterRegion', 'privateDnsZone', 'existingDnsZone', 'clientCidrs'],
  existingDnsZone: ['awsHostedZoneId', 'gcpManagedZone', 'gcpProject'],
  encryption: ['awsKmsKeys', 'gcpDiskKmsKeys', 'gcpSecretsKmsKeyName'],
  awsKey: ['region', 'keyArn'],
  gcpKey: ['region', 'keyName'],
  secrets: ['namePrefix', 'tlsCa'],
  governance: ['awsTags', 'gcpLabels', 'permissionsBoundaryArn', 'iamPath'],
  awsProvider: ['region', 'provider'],
  backup: ['enabled', 'fullSchedule', 'differentialSchedule', 'incrementalSchedule', 'retentionFullBackups', 'archiveTimeoutSeconds', 'bucketNamePrefix'],
  monitoring: ['enabled', 'scrapeCidrs'],
  groupBackup: ['enabled', 'fullSchedule', 'differentialSchedule', 'incrementalSchedule', 'retentionFullBackups', 'archiveTimeoutSeconds'],
} as const;

/** Fills every default. Never throws; type problems are returned as findings. */
export function normalize(input: DistributedPostgresProps, defaultName: string): { spec: FleetSpec; findings: Finding[] } {
  const r = new Reader();
  const props = r.object(input as unknown, 'props', PROPERTIES.props);
  const name = r.string(props.name, 'name', defaultName);

  const replicationIn = r.object(props.replication, 'replication', PROPERTIES.replication);
  const engine = r.enumValue(replicationIn.engine, ReplicationEngine, 'replication.engine', ReplicationEngine.SPOCK);

  // Fleet-wide etcd values are read (and their mistakes reported) once, at the path where they were written; a node
  // group's own value overrides them and is read at its own path.
  const fleetEtcdIn = r.object(props.etcd, 'etcd', PROPERTIES.etcd);
  const fleetEtcd = {
    size: fleetEtcdIn.size === undefined ? undefined : r.number(fleetEtcdIn.size, 'etcd.size', 3),
    placement: fleetEtcdIn.placement === undefined ? undefined
      : r.enumValue(fleetEtcdIn.placement, EtcdPlacement, 'etcd.placement', EtcdPlacement.CO_LOCATED),
    latency: fleetEtcdIn.latency === undefined ? undefined
      : r.enumValue(fleetEtcdIn.latency, LatencyClass, 'etcd.latency', LatencyClass.IN_REGION),
    machineType: r.optionalString(fleetEtcdIn.machineType, 'etcd.machineType'),
  };
  const fleetBackupIn = r.object(props.backup, 'backup', PROPERTIES.backup);
  const monitoringIn = r.object(props.monitoring, 'monitoring', PROPERTIES.monitoring);
  const fleetBackup = backupOf(r, fleetBackupIn, 'backup', DEFAULT_BACKUP);
  const groupsIn = props.nodeGroups === undefined ? undefined : r.array(props.nodeGroups, 'nodeGroups');
  if (groupsIn === undefined) {
    r.findings.push({ rule: 'DPG-TYPE', path: 'nodeGroups', message: 'is missing. Fix: declare at least one node group.' });
  }
  const nodeGroups: GroupSpec[] = (groupsIn ?? []).map((raw, index) => {
    const g = r.object(raw, `nodeGroups[${index}]`, PROPERTIES.nodeGroup);
    const groupName = r.string(g.name, `nodeGroups[${index}].name`, '');
    const path = `nodeGroups[${index}]${groupName ? ` (${groupName})` : ''}`;
    const cloud = r.enumValue(g.cloud, Cloud, `${path}.cloud`, Cloud.AWS);
    if (g.cloud === undefined) {
      r.findings.push({ rule: 'DPG-TYPE', path: `${path}.cloud`, message: "is missing. Fix: set cloud to 'aws' or 'gcp'." });
    }
    const region = r.string(g.region, `${path}.region`, '');
    if (g.region === undefined) {
      r.findings.push({ rule: 'DPG-TYPE', path: `${path}.region`, message: 'is missing. Fix: set the cloud region, e.g. us-east-1.' });
    }
    const zonesGiven = g.zones !== undefined;
    const zones = zonesGiven ? r.stringArray(g.zones, `${path}.zones`) : defaultZones(cloud, region);
    const disk = r.object(g.dataDisk, `${path}.dataDisk`, PROPERTIES.dataDisk);
    const etcdOwn = r.object(g.etcd, `${path}.etcd`, PROPERTIES.etcd);
    const snowflake = g.snowflakeNodeIds === undefined ? undefined
      : r.array(g.snowflakeNodeIds, `${path}.snowflakeNodeIds`).map((v, i) => r.number(v, `${path}.snowflakeNodeIds[${i}]`, NaN));
    return {
      index,
      path,
      name: groupName,
      number: r.number(g.number, `${path}.number`, index + 1),
      cloud,
      region,
      zones,
      zonesGiven,
      members: r.number(g.members, `${path}.members`, 3),
      machineType: r.string(g.machineType, `${path}.machineType`, DEFAULT_MACHINE[cloud]),
      dataDisk: {
        sizeGiB: r.number(disk.sizeGiB, `${path}.dataDisk.sizeGiB`, 100),
        type: r.string(disk.type, `${path}.dataDisk.type`, DEFAULT_DISK_TYPE[cloud]),
      },
      image: r.enumValue(g.image, ImageFlavour, `${path}.image`, ImageFlavour.UBUNTU_24_04),
      machineImage: machineImageOf(r, g.machineImage, `${path}.machineImage`),
      cidr: r.optionalString(g.cidr, `${path}.cidr`),
      patroniTags: r.stringMap(g.patroniTags, `${path}.patroniTags`),
      snowflakeNodeIds: snowflake,
      extraSecurityGroupIds: g.extraSecurityGroupIds === undefined ? [] : r.stringArray(g.extraSecurityGroupIds, `${path}.extraSecurityGroupIds`),
      existingNetwork: existingNetworkOf(r, g.existingNetwork, `${path}.existingNetwork`),
      backup: g.backup === undefined ? fleetBackup
        : backupOf(r, r.object(g.backup, `${path}.backup`, PROPERTIES.groupBackup), `${path}.backup`, fleetBackup),
      backupEnabledDeclared: g.backup !== null && typeof g.backup === 'object' && (g.backup as { enabled?: unknown }).enabled !== undefined,
      restoreFrom: restoreOf(r, g.restoreFrom, `${path}.restoreFrom`),
      etcd: {
        size: etcdOwn.size !== undefined ? r.number(etcdOwn.size, `${path}.etcd.size`, 3) : fleetEtcd.size ?? 3,
        sizePath: etcdOwn.size !== undefined || fleetEtcd.size === undefined ? `${path}.etcd.size` : 'etcd.size',
        placement: etcdOwn.placement !== undefined
          ? r.enumValue(etcdOwn.placement, EtcdPlacement, `${path}.etcd.placement`, EtcdPlacement.CO_LOCATED)
          : fleetEtcd.placement ?? EtcdPlacement.CO_LOCATED,
        machineType: etcdOwn.machineType !== undefined
          ? r.string(etcdOwn.machineType, `${path}.etcd.machineType`, DEFAULT_ETCD_MACHINE[cloud])
          : fleetEtcd.machineType || DEFAULT_ETCD_MACHINE[cloud],
        latency: etcdOwn.latency !== undefined
          ? r.enumValue(etcdOwn.latency, LatencyClass, `${path}.etcd.latency`, LatencyClass.IN_REGION)
          : fleetEtcd.latency ?? LatencyClass.IN_REGION,
      },
    };
  });

  const pgIn = r.object(props.postgres, 'postgres', PROPERTIES.postgres);
  const packageSource = r.enumValue(pgIn.packageSource, PackageSource, 'postgres.packageSource',
    engine === ReplicationEngine.SPOCK ? PackageSource.PGEDGE : PackageSource.DISTRO);
  const distroDefault = nodeGroups.some((g) => g.image === ImageFlavour.DEBIAN_12) ? 15
    : nodeGroups.some((g) => g.image === ImageFlavour.UBUNTU_24_04) || nodeGroups.length === 0 ? 16 : 17;
  const version = r.number(pgIn.version, 'postgres.version', packageSource === PackageSource.DISTRO ? distroDefault : 17);

  const haIn = r.object(props.ha, 'ha', PROPERTIES.ha);
  const profile = TIMING_PROFILES[r.enumValue(haIn.timingProfile, TimingProfile, 'ha.timingProfile', TimingProfile.DEFAULT)];

  const geoshards: GeoshardSpec[] = r.array(props.geoshards, 'geoshards').map((raw, i) => {
    const s = r.object(raw, `geoshards[${i}]`, PROPERTIES.geoshard);
    const shardName = r.string(s.name, `geoshards[${i}].name`, '');
    const path = `geoshards[${i}]${shardName ? ` (${shardName})` : ''}`;
    return {
      path,
      name: shardName,
      nodeGroups: r.stringArray(s.nodeGroups, `${path}.nodeGroups`),
      tables: r.array(s.tables, `${path}.tables`).map((t, j) => {
        const table = r.object(t, `${path}.tables[${j}]`, PROPERTIES.geoshardTable);
        return {
          table: r.string(table.table, `${path}.tables[${j}].table`, ''),
          partition: r.string(table.partition, `${path}.tables[${j}].partition`, ''),
          values: r.stringArray(table.values, `${path}.tables[${j}].values`),
        };
      }),
    };
  });

  const netIn = r.object(props.network, 'network', PROPERTIES.network);
  const secretsIn = r.object(props.secrets, 'secrets', PROPERTIES.secrets);
  const governanceIn = r.object(props.governance, 'governance', PROPERTIES.governance);
  const zoneIn = r.object(netIn.existingDnsZone, 'network.existingDnsZone', PROPERTIES.existingDnsZone);
  const encryptionIn = r.object(props.encryption, 'encryption', PROPERTIES.encryption);
  const regionKeys = (list: unknown, path: string, kind: 'awsKey' | 'gcpKey', field: 'keyArn' | 'keyName') =>
    r.array(list, path).map((raw, i) => {
      const entry = r.object(raw, `${path}[${i}]`, PROPERTIES[kind]);
      return { path: `${path}[${i}]`, region: r.string(entry.region, `${path}[${i}].region`, ''), key: r.string(entry[field], `${path}[${i}].${field}`, '') };
    });
  // Provider wiring is used by the construct, not the spec; check its shape here so a wrong type is reported with the rest.
  r.array(props.awsProviders, 'awsProviders').forEach((raw, i) => {
    const entry = r.object(raw, `awsProviders[${i}]`, PROPERTIES.awsProvider);
    r.string(entry.region, `awsProviders[${i}].region`, '');
    if (entry.region === undefined) r.findings.push({ rule: 'DPG-TYPE', path: `awsProviders[${i}].region`, message: 'is missing. Fix: give the AWS region this provider manages.' });
    if (entry.provider === undefined) r.findings.push({ rule: 'DPG-TYPE', path: `awsProviders[${i}].provider`, message: 'is missing. Fix: give the AwsProvider of that region.' });
    r.provider(entry.provider, `awsProviders[${i}].provider`, 'aws', 'an AwsProvider');
  });
  r.provider(props.googleProvider, 'googleProvider', 'google', 'a GoogleProvider');
  const spec: FleetSpec = {
    name,
    nodeGroups,
    postgres: {
      version,
      packageSource,
      binDir: r.optionalString(pgIn.binDir, 'postgres.binDir'),
      database: r.string(pgIn.database, 'postgres.database', 'app'),
      parameters: r.stringMap(pgIn.parameters, 'postgres.parameters'),
    },
    ha: {
      synchronousMode: r.enumValue(haIn.synchronousMode, SynchronousMode, 'ha.synchronousMode', SynchronousMode.ON),
      synchronousStandbys: r.number(haIn.synchronousStandbys, 'ha.synchronousStandbys', 1),
      ttl: r.number(haIn.ttl, 'ha.ttl', profile.ttl),
      loopWait: r.number(haIn.loopWait, 'ha.loopWait', profile.loopWait),
      retryTimeout: r.number(haIn.retryTimeout, 'ha.retryTimeout', profile.retryTimeout),
      maximumLagOnFailoverBytes: r.number(haIn.maximumLagOnFailoverBytes, 'ha.maximumLagOnFailoverBytes', 1048576),
      failsafeMode: r.boolean(haIn.failsafeMode, 'ha.failsafeMode', true),
    },
    replication: {
      engine,
      conflictPolicy: r.enumValue(replicationIn.conflictPolicy, ConflictPolicy, 'replication.conflictPolicy',
        engine === ReplicationEngine.NATIVE ? ConflictPolicy.ERROR : ConflictPolicy.LAST_UPDATE_WINS),
      deltaApplyColumns: r.array(replicationIn.deltaApplyColumns, 'replication.deltaApplyColumns').map((raw, i) => {
        const c = r.object(raw, `replication.deltaApplyColumns[${i}]`, PROPERTIES.deltaApplyColumn);
        return {
          table: r.string(c.table, `replication.deltaApplyColumns[${i}].table`, ''),
          column: r.string(c.column, `replication.deltaApplyColumns[${i}].column`, ''),
        };
      }),
      snowflakeIds: r.boolean(replicationIn.snowflakeIds, 'replication.snowflakeIds', engine === ReplicationEngine.SPOCK),
      leaderEndpoint: r.enumValue(replicationIn.leaderEndpoint, LeaderEndpoint, 'replication.leaderEndpoint', LeaderEndpoint.MULTI_HOST_DSN),
      globalTables: r.stringArray(replicationIn.globalTables, 'replication.globalTables'),
      walRetentionPercent: r.number(replicationIn.walRetentionPercent, 'replication.walRetentionPercent', DEFAULT_WAL_RETENTION_PERCENT),
      antiEntropyMinutes: r.number(replicationIn.antiEntropyMinutes, 'replication.antiEntropyMinutes', DEFAULT_ANTI_ENTROPY_MINUTES),
      antiEntropyIgnoredColumns: r.stringArray(replicationIn.antiEntropyIgnoredColumns, 'replication.antiEntropyIgnoredColumns'),
      maxNodeGroups: r.number(replicationIn.maxNodeGroups, 'replication.maxNodeGroups', defaultMaxNodeGroups(nodeGroups.length)),
    },
    geoshards,
    network: {
      fleetCidr: r.string(netIn.fleetCidr, 'network.fleetCidr', DEFAULT_FLEET_CIDR),
      interconnect: r.enumValue(netIn.interconnect, Interconnect, 'network.interconnect', Interconnect.HA_VPN),
      awsInterRegion: r.enumValue(netIn.awsInterRegion, AwsInterRegion, 'network.awsInterRegion', AwsInterRegion.PEERING),
      privateDnsZone: r.string(netIn.privateDnsZone, 'network.privateDnsZone', `${name}.db.internal`),
      existingDnsZone: {
        awsHostedZoneId: r.optionalString(zoneIn.awsHostedZoneId, 'network.existingDnsZone.awsHostedZoneId'),
        gcpManagedZone: r.optionalString(zoneIn.gcpManagedZone, 'network.existingDnsZone.gcpManagedZone'),
        gcpProject: r.optionalString(zoneIn.gcpProject, 'network.existingDnsZone.gcpProject'),
      },
      clientCidrs: r.stringArray(netIn.clientCidrs, 'network.clientCidrs'),
    },
    secrets: {
      namePrefix: r.string(secretsIn.namePrefix, 'secrets.namePrefix', `${name}-`),
      tlsCa: r.enumValue(secretsIn.tlsCa, TlsCa, 'secrets.tlsCa', TlsCa.TERRAFORM),
    },
    governance: {
      awsTags: r.stringMap(governanceIn.awsTags, 'governance.awsTags'),
      gcpLabels: r.stringMap(governanceIn.gcpLabels, 'governance.gcpLabels'),
      permissionsBoundaryArn: r.optionalString(governanceIn.permissionsBoundaryArn, 'governance.permissionsBoundaryArn'),
      iamPath: r.string(governanceIn.iamPath, 'governance.iamPath', '/'),
    },
    encryption: {
      awsKmsKeys: regionKeys(encryptionIn.awsKmsKeys, 'encryption.awsKmsKeys', 'awsKey', 'keyArn'),
      gcpDiskKmsKeys: regionKeys(encryptionIn.gcpDiskKmsKeys, 'encryption.gcpDiskKmsKeys', 'gcpKey', 'keyName'),
      gcpSecretsKmsKeyName: r.optionalString(encryptionIn.gcpSecretsKmsKeyName, 'encryption.gcpSecretsKmsKeyName'),
    },
    backup: { bucketNamePrefix: r.string(fleetBackupIn.bucketNamePrefix, 'backup.bucketNamePrefix', `${name}-backup`) },
    monitoring: {
      enabled: r.boolean(monitoringIn.enabled, 'monitoring.enabled', true),
      scrapeCidrs: r.stringArray(monitoringIn.scrapeCidrs, 'monitoring.scrapeCidrs'),
    },
  };
  return { spec, findings: r.findings };
}

/** What a fleet without `backup` gets: weekly full backups, daily differential ones, 4 full backups kept. */
const DEFAULT_BACKUP: BackupSpec = {
  enabled: true,
  full: { path: 'backup.fullSchedule', ...scheduleFields(BackupSchedule.weekly(Weekday.SUNDAY, 1)) },
  differential: { path: 'backup.differentialSchedule', ...scheduleFields(BackupSchedule.daily(1)) },
  incremental: { path: 'backup.incrementalSchedule', ...scheduleFields(BackupSchedule.never()) },
  retentionFull: 4,
  retentionFullPath: 'backup.retentionFullBackups',
  archiveTimeoutSeconds: 60,
  archiveTimeoutPath: 'backup.archiveTimeoutSeconds',
};

/** Backups read at `path`, each field left out taken from `base` (the defaults, or the fleet's for a node group). */
function backupOf(r: Reader, b: Record<string, unknown>, path: string, base: BackupSpec): BackupSpec {
  const schedule = (value: unknown, field: string, fallback: BackupScheduleSpec): BackupScheduleSpec => {
    if (value === undefined) return fallback;
    if (!(value instanceof BackupSchedule)) {
      r.findings.push({ rule: 'DPG-TYPE', path: `${path}.${field}`, message: 'is not a BackupSchedule. Fix: use BackupSchedule.weekly(...), daily(...), everyHours(...) or never().' });
      return fallback;
    }
    return { path: `${path}.${field}`, ...scheduleFields(value) };
  };
  return {
    enabled: r.boolean(b.enabled, `${path}.enabled`, base.enabled),
    full: schedule(b.fullSchedule, 'fullSchedule', base.full),
    differential: schedule(b.differentialSchedule, 'differentialSchedule', base.differential),
    incremental: schedule(b.incrementalSchedule, 'incrementalSchedule', base.incremental),
    retentionFull: r.number(b.retentionFullBackups, `${path}.retentionFullBackups`, base.retentionFull),
    retentionFullPath: b.retentionFullBackups === undefined ? base.retentionFullPath : `${path}.retentionFullBackups`,
    archiveTimeoutSeconds: r.number(b.archiveTimeoutSeconds, `${path}.archiveTimeoutSeconds`, base.archiveTimeoutSeconds),
    archiveTimeoutPath: b.archiveTimeoutSeconds === undefined ? base.archiveTimeoutPath : `${path}.archiveTimeoutSeconds`,
  };
}

/** A schedule's fields as plain data (values of any type: the rules check them). */
function scheduleFields(s: BackupSchedule): Omit<BackupScheduleSpec, 'path'> {
  return {
    kind: s.kind,
    ...(s.day !== undefined ? { day: s.day } : {}),
    ...(s.hour !== undefined ? { hour: s.hour } : {}),
    ...(s.hours !== undefined ? { hours: s.hours } : {}),
    ...(s.minute !== undefined ? { minute: s.minute } : {}),
  };
}

/** A declared existing network as plain data (type problems are findings). */
function existingNetworkOf(r: Reader, value: unknown, path: string): ExistingNetworkSpec | undefined {
  if (value === undefined) return undefined;
  const n = r.object(value, path, PROPERTIES.existingNetwork);
  return {
    path,
    awsVpcId: r.optionalString(n.awsVpcId, `${path}.awsVpcId`),
    gcpNetwork: r.optionalString(n.gcpNetwork, `${path}.gcpNetwork`),
    subnets: r.array(n.subnets, `${path}.subnets`).map((raw, i) => {
      const s = r.object(raw, `${path}.subnets[${i}]`, PROPERTIES.existingSubnet);
      return { id: r.string(s.id, `${path}.subnets[${i}].id`, ''), cidr: r.string(s.cidr, `${path}.subnets[${i}].cidr`, '') };
    }),
  };
}

/** A declared machine image as plain data; anything but a `MachineImage` is a type finding. */
function machineImageOf(r: Reader, value: unknown, path: string): MachineImageSpec | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof MachineImage)) {
    r.findings.push({ rule: 'DPG-TYPE', path, message: 'is not a MachineImage. Fix: use MachineImage.awsAmiId(...), MachineImage.awsAmiLookup(...) or MachineImage.gcpImage(...).' });
    return undefined;
  }
  const text = (v: unknown) => (typeof v === 'string' ? v : String(v));
  return {
    kind: value.kind,
    cloud: value.cloud,
    ...(value.amiId !== undefined ? { amiId: text(value.amiId) } : {}),
    ...(value.owner !== undefined ? { owner: text(value.owner) } : {}),
    ...(value.namePattern !== undefined ? { namePattern: text(value.namePattern) } : {}),
    ...(value.gcpImageName !== undefined ? { gcpImage: text(value.gcpImageName) } : {}),
  };
}

function defaultZones(cloud: Cloud, region: string): string[] {
  // An unknown region gets no zones here; the region rule reports it.
  return (zonesOf(cloud, region) ?? []).slice(0, 3);
}

function restoreOf(r: Reader, raw: unknown, path: string): RestoreSpec | undefined {
  if (raw === undefined) return undefined;
  const o = r.object(raw, path, PROPERTIES.restoreFrom);
  if (o.nodeGroup === undefined) {
    r.findings.push({ rule: 'DPG-TYPE', path: `${path}.nodeGroup`, message: 'is missing. Fix: name the node group whose backups to restore.' });
  }
  if (o.targetTime === undefined) {
    r.findings.push({ rule: 'DPG-TYPE', path: `${path}.targetTime`, message: "is missing. Fix: give the time to restore to, e.g. '2026-11-27T10:14:59Z'." });
  }
  return {
    path,
    nodeGroup: r.string(o.nodeGroup, `${path}.nodeGroup`, ''),
    targetTime: r.string(o.targetTime, `${path}.targetTime`, ''),
  };
}

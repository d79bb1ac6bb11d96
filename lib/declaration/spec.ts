/**
 * The normalized declaration: every default applied, every value well-typed. The rules check it and the resolver
 * turns it into the topology; `path` fields say how findings name each part.
 */
import { BackupScheduleKind, Weekday } from './backup-schedule';
import { MachineImageKind } from './machine-image';
import {
  AwsInterRegion, Cloud, ConflictPolicy, EtcdPlacement, ImageFlavour, Interconnect, LatencyClass, LeaderEndpoint, PackageSource,
  ReplicationEngine, SynchronousMode, TlsCa,
} from './props';

export interface Finding {
  /** Rule id, e.g. `DPG-ETCD-SIZE`. */
  readonly rule: string;
  /** Where in the declaration, e.g. `nodeGroups[1] (euw1).etcd.size`. */
  readonly path: string;
  /** What is wrong and how to fix it. */
  readonly message: string;
}

export interface EtcdSpec {
  readonly size: number;
  /** Where the size was written: `etcd.size` for the fleet-wide value, else the group's own path. */
  readonly sizePath: string;
  readonly placement: EtcdPlacement;
  readonly machineType: string | undefined;
  readonly latency: LatencyClass;
}

/** A declared `MachineImage` as plain data (the topology's `MachineImageRef`). */
export interface MachineImageSpec {
  readonly kind: MachineImageKind;
  readonly cloud: Cloud;
  readonly amiId?: string;
  readonly owner?: string;
  readonly namePattern?: string;
  readonly gcpImage?: string;
}

export interface GroupSpec {
  readonly index: number;
  /** `nodeGroups[i] (name)`: how findings name the group. */
  readonly path: string;
  readonly name: string;
  readonly number: number;
  readonly cloud: Cloud;
  readonly region: string;
  readonly zones: string[];
  readonly zonesGiven: boolean;
  readonly members: number;
  readonly machineType: string;
  readonly dataDisk: { sizeGiB: number; type: string };
  readonly image: ImageFlavour;
  /** The declared machine image, if any (its values are checked by DPG-MACHINE-IMAGE). */
  readonly machineImage: MachineImageSpec | undefined;
  readonly cidr: string | undefined;
  readonly patroniTags: Record<string, string>;
  readonly snowflakeNodeIds: number[] | undefined;
  readonly etcd: EtcdSpec;
  readonly extraSecurityGroupIds: string[];
  /** The network the group brings (as declared; DPG-EXISTING-NETWORK checks it). */
  readonly existingNetwork: ExistingNetworkSpec | undefined;
  /** The group's backups: the fleet's, with the group's own fields over them. */
  readonly backup: BackupSpec;
  /** Whether the group declared `backup.enabled` itself (a restored group may only turn its backups off). */
  readonly backupEnabledDeclared: boolean;
  /** The backup this group is built from (absent: it starts empty and joins the mesh). */
  readonly restoreFrom: RestoreSpec | undefined;
}

/** `NodeGroupProps.restoreFrom`, as declared (DPG-RESTORE checks it). */
export interface RestoreSpec {
  /** `nodeGroups[i] (name).restoreFrom`. */
  readonly path: string;
  readonly nodeGroup: string;
  readonly targetTime: string;
}

/** A declared `BackupSchedule` as plain data, with the declaration path where it was written. */
export interface BackupScheduleSpec {
  readonly path: string;
  readonly kind: BackupScheduleKind;
  readonly day?: Weekday;
  readonly hour?: number;
  readonly hours?: number;
  readonly minute?: number;
}

/** One node group's backups (each field's `path` says where its value was written: fleet or group). */
export interface BackupSpec {
  readonly enabled: boolean;
  readonly full: BackupScheduleSpec;
  readonly differential: BackupScheduleSpec;
  readonly incremental: BackupScheduleSpec;
  readonly retentionFull: number;
  readonly retentionFullPath: string;
  readonly archiveTimeoutSeconds: number;
  readonly archiveTimeoutPath: string;
}

export interface ExistingNetworkSpec {
  readonly path: string;
  readonly awsVpcId: string | undefined;
  readonly gcpNetwork: string | undefined;
  readonly subnets: { id: string; cidr: string }[];
}

export interface GeoshardSpec {
  readonly path: string;
  readonly name: string;
  readonly nodeGroups: string[];
  readonly tables: { table: string; partition: string; values: string[] }[];
}

export interface FleetSpec {
  readonly name: string;
  readonly nodeGroups: GroupSpec[];
  readonly postgres: {
    readonly version: number;
    readonly packageSource: PackageSource;
    /** As declared; undefined for the default (`/usr/lib/postgresql/<version>/bin`). */
    readonly binDir: string | undefined;
    readonly database: string;
    readonly parameters: Record<string, string>;
  };
  readonly ha: {
    readonly synchronousMode: SynchronousMode;
    readonly synchronousStandbys: number;
    readonly ttl: number;
    readonly loopWait: number;
    readonly retryTimeout: number;
    readonly maximumLagOnFailoverBytes: number;
    readonly failsafeMode: boolean;
  };
  readonly replication: {
    readonly engine: ReplicationEngine;
    readonly conflictPolicy: ConflictPolicy;
    readonly deltaApplyColumns: { table: string; column: string }[];
    readonly snowflakeIds: boolean;
    readonly leaderEndpoint: LeaderEndpoint;
    readonly globalTables: string[];
    readonly walRetentionPercent: number;
    readonly antiEntropyMinutes: number;
    readonly antiEntropyIgnoredColumns: string[];
    readonly maxNodeGroups: number;
  };
  readonly geoshards: GeoshardSpec[];
  readonly network: {
    readonly fleetCidr: string;
    readonly interconnect: Interconnect;
    readonly awsInterRegion: AwsInterRegion;
    readonly privateDnsZone: string;
    readonly existingDnsZone: {
      readonly awsHostedZoneId: string | undefined;
      readonly gcpManagedZone: string | undefined;
      readonly gcpProject: string | undefined;
    };
    readonly clientCidrs: string[];
  };
  readonly secrets: { readonly namePrefix: string; readonly tlsCa: TlsCa };
  readonly governance: {
    readonly awsTags: Record<string, string>;
    readonly gcpLabels: Record<string, string>;
    readonly permissionsBoundaryArn: string | undefined;
    readonly iamPath: string;
  };
  readonly encryption: {
    readonly awsKmsKeys: RegionKeySpec[];
    readonly gcpDiskKmsKeys: RegionKeySpec[];
    readonly gcpSecretsKmsKeyName: string | undefined;
  };
  readonly backup: {
    /** Start of every bucket name (`<prefix>-<region>`). */
    readonly bucketNamePrefix: string;
  };
  readonly monitoring: {
    readonly enabled: boolean;
    /** Extra ranges Prometheus may scrape from (besides the fleet's), as declared. */
    readonly scrapeCidrs: string[];
  };
}

/** A customer-managed key of one region, with the declaration path of its entry. */
export interface RegionKeySpec {
  readonly path: string;
  readonly region: string;
  readonly key: string;
}

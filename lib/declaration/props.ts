/**
 * The fleet declaration: the public, jsii-friendly props a platform team writes.
 *
 * Props are interfaces of readonly fields; choices are string enums. No field
 * carries a secret value: secrets are named, and fetched at boot by the machine's
 * own cloud identity.
 */
import type { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import type { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import type { BackupSchedule } from './backup-schedule';
import type { MachineImage } from './machine-image';

/** The cloud a node group runs in. */
export enum Cloud {
  /** Amazon Web Services. */
  AWS = 'aws',
  /** Google Cloud. */
  GCP = 'gcp',
}

/** The operating system image of a node group's machines. */
export enum ImageFlavour {
  /** Ubuntu 24.04 LTS (cloud-init built in; Patroni 3.2.2 and PostgreSQL 16 in the distro). */
  UBUNTU_24_04 = 'ubuntu-24.04',
  /** Debian 12 (AWS only: Debian's GCE images do not run cloud-init; Patroni 3.0.2 and PostgreSQL 15 in the distro). */
  DEBIAN_12 = 'debian-12',
  /**
   * Debian 13 "trixie" (AWS only: Debian's GCE images do not run cloud-init; Patroni 4.0.7, PostgreSQL 17, etcd 3.5.16
   * and pglogical 2.4.5 in the distro).
   */
  DEBIAN_13 = 'debian-13',
}

/** Where PostgreSQL, Patroni and the replication extension are installed from. */
export enum PackageSource {
  /** The image's own distribution packages (`postgresql-N`, `patroni`, `etcd-server`, `postgresql-N-pglogical`). */
  DISTRO = 'distro',
  /** The PostgreSQL Global Development Group apt repository (apt.postgresql.org). */
  PGDG = 'pgdg',
  /** pgEdge's repository: patched PostgreSQL with Spock and snowflake, and `pgedge-patroni`. One of the two sources for Spock. */
  PGEDGE = 'pgedge',
  /**
   * Nothing is installed at boot: the machine image (a "golden image" a platform team bakes, e.g. with Packer, or an
   * air-gapped site's own image) already holds PostgreSQL, Patroni, etcd (server and client), the replication engine's
   * extension, cloud-init, the tools the boot scripts use (curl, openssl, python3-yaml, and python3-boto3 on AWS) and,
   * with `monitoring` on (the default), Debian's `prometheus-postgres-exporter` and `prometheus-node-exporter`.
   * cloud-init then neither updates nor upgrades packages nor adds repositories. Every node group needs a
   * `machineImage`; its `image` flavour says which OS the image is built on.
   */
  IMAGE = 'image',
}

/** The multi-master replication engine between node groups. */
export enum ReplicationEngine {
  /** pgEdge Spock (production default; needs pgEdge's packages). */
  SPOCK = 'spock',
  /** 2ndQuadrant pglogical 2 (unpatched PostgreSQL). */
  PGLOGICAL = 'pglogical',
  /** PostgreSQL's built-in logical replication with `origin = none` (PG 16+; no conflict resolution). */
  NATIVE = 'native',
}

/** How a replication conflict (the same row changed in two node groups) is resolved. */
export enum ConflictPolicy {
  /** The change with the latest commit timestamp wins (needs `track_commit_timestamp`). */
  LAST_UPDATE_WINS = 'last_update_wins',
  /** The change with the earliest commit timestamp wins (pglogical only). */
  FIRST_UPDATE_WINS = 'first_update_wins',
  /** The incoming change always wins (pglogical only). */
  APPLY_REMOTE = 'apply_remote',
  /** The local row always wins (pglogical only). */
  KEEP_LOCAL = 'keep_local',
  /** A conflict stops the subscription until an operator resolves it (the only behaviour of native replication). */
  ERROR = 'error',
}

/** Where a node group's etcd quorum runs. */
export enum EtcdPlacement {
  /** On the Postgres members themselves (one etcd per member, up to the quorum size). */
  CO_LOCATED = 'co-located',
  /** On dedicated small machines next to the Postgres members. */
  DEDICATED = 'dedicated',
}

/** The round-trip time class between the members of one etcd quorum; it sets etcd's heartbeat and election timeout. */
export enum LatencyClass {
  /** Members inside one region (RTT up to ~10 ms): heartbeat 100 ms, election 1000 ms (etcd's defaults). */
  IN_REGION = 'in-region',
  /** Members in nearby regions (RTT up to ~150 ms): heartbeat 200 ms, election 2000 ms. */
  NEARBY_REGIONS = 'nearby-regions',
  /** Members across continents (RTT up to ~300 ms): heartbeat 300 ms, election 3000 ms. */
  INTERCONTINENTAL = 'intercontinental',
}

/** Patroni's synchronous replication mode. */
export enum SynchronousMode {
  /** Asynchronous replication inside the node group. */
  OFF = 'off',
  /** `synchronous_mode: on`: commits wait for the synchronous standbys while they are healthy. */
  ON = 'on',
  /** `synchronous_mode_strict`: commits never proceed without a synchronous standby. */
  STRICT = 'strict',
}

/** A named Patroni timing profile (ttl / loop_wait / retry_timeout, in seconds). */
export enum TimingProfile {
  /** Patroni's defaults 30 / 10 / 10: failover in about 20-40 s. */
  DEFAULT = 'default',
  /** 20 / 2 / 9, the fastest setting within Patroni's documented minimums: failover in about 20 s. */
  FAST = 'fast',
}

/** How a subscriber reaches the current leader of a remote node group. */
export enum LeaderEndpoint {
  /** A libpq multi-host connection string over all members with `target_session_attrs=read-write`. */
  MULTI_HOST_DSN = 'multi-host-dsn',
  /** The node group's internal load balancer, whose health check is Patroni's `GET :8008/primary`. */
  LOAD_BALANCER = 'load-balancer',
}

/** How AWS and Google Cloud networks are joined when a fleet spans both clouds. */
export enum Interconnect {
  /** GCP HA VPN to AWS site-to-site VPN: 4 IPsec tunnels with BGP. */
  HA_VPN = 'ha-vpn',
  /** No interconnect is created: the platform team provides routing (e.g. a dedicated interconnect). */
  EXTERNAL = 'external',
}

/** The etcd quorum of one node group. */
export interface EtcdQuorumProps {
  /**
   * Number of etcd members: 3 or 5. Spread over the node group's zones so that losing one zone keeps quorum.
   * @default 3
   */
  readonly size?: number;
  /**
   * Where the etcd members run.
   * @default EtcdPlacement.CO_LOCATED
   */
  readonly placement?: EtcdPlacement;
  /**
   * Machine type of dedicated etcd members (ignored when co-located).
   * @default `t3.small` on AWS, `e2-small` on GCP
   */
  readonly machineType?: string;
  /**
   * Round-trip class between the quorum's members; it sets etcd's heartbeat interval and election timeout.
   * @default LatencyClass.IN_REGION
   */
  readonly latency?: LatencyClass;
}

/** The data disk of every Postgres member of a node group (a separate volume, so a replaced machine keeps its data). */
export interface DataDiskProps {
  /**
   * Size in GiB (10 to 65536).
   * @default 100
   */
  readonly sizeGiB?: number;
  /**
   * Disk type: an EBS volume type on AWS (`gp3`, `io2`, ...) or a persistent disk type on GCP (`pd-ssd`, `pd-balanced`, ...).
   * @default `gp3` on AWS, `pd-ssd` on GCP
   */
  readonly type?: string;
}

/** One node group: a Patroni cluster in one region and one member of the multi-master mesh. */
export interface NodeGroupProps {
  /**
   * Name of the node group: a DNS label of lower-case letters, digits and `-`, at most 20 characters, starting with a letter.
   * It names the Patroni scope, the machines and the replication node.
   */
  readonly name: string;
  /**
   * Stable number of the node group (1-100). It picks the group's CIDR out of the fleet CIDR and its snowflake ids,
   * so give it explicitly before reordering node groups.
   * @default the group's position in `nodeGroups`, starting at 1
   */
  readonly number?: number;
  /** The cloud the node group runs in. */
  readonly cloud: Cloud;
  /** The cloud region, e.g. `us-east-1` (AWS) or `europe-west3` (GCP). */
  readonly region: string;
  /**
   * Availability zones the members spread over, in order, e.g. `['us-east-1a', 'us-east-1b', 'us-east-1c']`.
   * @default the first three zones the library knows for the region
   */
  readonly zones?: string[];
  /**
   * Number of Postgres members (a primary and standbys), 1 to 9.
   * @default 3
   */
  readonly members?: number;
  /**
   * Machine type of the Postgres members.
   * @default `m6i.large` on AWS, `n2-standard-2` on GCP
   */
  readonly machineType?: string;
  /**
   * The data disk of each Postgres member.
   * @default 100 GiB `gp3` (AWS) / `pd-ssd` (GCP)
   */
  readonly dataDisk?: DataDiskProps;
  /**
   * Operating system image.
   * @default ImageFlavour.UBUNTU_24_04
   */
  readonly image?: ImageFlavour;
  /**
   * The machine image (AMI or GCE image) the group's machines boot, instead of the official image of `image`.
   * Required with `postgres.packageSource` `PackageSource.IMAGE` (golden images), where `image` still names the OS
   * the image is built on. Must be an image of the group's cloud. Machines ignore later image changes (a new image
   * reaches a member when an operator replaces it).
   * @default the official image of `image`: Canonical's or the Debian cloud team's AMI, looked up at plan time
   *   (AWS), or Ubuntu's image family (GCP)
   */
  readonly machineImage?: MachineImage;
  /**
   * The node group's private CIDR (prefix /23 or larger), split into one block per zone.
   * @default a /20 carved out of `network.fleetCidr` by the group's `number`
   */
  readonly cidr?: string;
  /**
   * Extra Patroni tags for every member of the group (e.g. `{ nofailover: 'false' }`).
   * @default no extra tags
   */
  readonly patroniTags?: { [key: string]: string };
  /**
   * Snowflake node ids of the members, one per member, unique in the fleet, 1 to 1023 (Spock only).
   * @default (number - 1) * 10 + member ordinal (1-based)
   */
  readonly snowflakeNodeIds?: number[];
  /**
   * The group's etcd quorum.
   * @default the fleet's `etcd`
   */
  readonly etcd?: EtcdQuorumProps;
  /**
   * Security groups (ids, e.g. `sg-0123456789abcdef0`) the company requires on the group's database and etcd machines,
   * besides the group's own; AWS node groups only, at most 4 (AWS allows 5 per network interface). They may open
   * more than the construct does: the policy pack checks only what it creates.
   * @default none
   */
  readonly extraSecurityGroupIds?: string[];
  /**
   * The network the network team owns that the group's machines go into. The construct then creates no VPC, subnet,
   * route table, NAT gateway, peering or VPN for the group; it still creates the group's security group / firewall
   * rules, and reserves the machines' planned addresses in the subnets. The network must route between every pair of
   * node groups and give egress for packages at boot (or the machines boot from a golden image).
   * @default the construct creates the group's network
   */
  readonly existingNetwork?: ExistingNetworkProps;
  /**
   * This node group's backups, over the fleet's `backup` field by field (e.g. `{ enabled: false }` for a group whose
   * data is kept elsewhere, or a shorter schedule for a busy one). `bucketNamePrefix` is fleet-wide.
   * @default the fleet's `backup`
   */
  readonly backup?: BackupProps;
  /**
   * Builds this node group from a backup of another node group of the fleet, as it was at a target time, instead of
   * an empty database: its first member restores the source group's pgBackRest repository (Patroni's custom
   * bootstrap method, `pgbackrest restore --type=time`), the others clone from it. The group stands apart from the
   * mesh: no subscriptions to or from it, no slots or pg_hba entries for it in the other groups, the replication
   * engine's library and logical workers off, no archiving of its own (its machines may only read the source's
   * repository). It is how rows lost to a bad statement are recovered without rewinding the other groups; remove it
   * from the declaration when done. Same cloud and region as the source (a backup never leaves its region).
   * @default none: the group starts empty and joins the mesh
   */
  readonly restoreFrom?: RestoreProps;
}

/**
 * A node group built from a backup of another node group, to a point in time (`NodeGroupProps.restoreFrom`).
 */
export interface RestoreProps {
  /**
   * The node group whose backups are restored: a group of this declaration with backups on, in the same cloud and
   * region as the restored group; or a group removed from the declaration (lost, or destroyed), whose repository stays
   * in the bucket of its region (`/<fleet>/<group>`): the restored group must then be in that region, where a declared
   * group still backs up (so the bucket is still the fleet's).
   */
  readonly nodeGroup: string;
  /**
   * The time to restore to: every transaction committed before it is in the restored group, none committed after it.
   * ISO-8601 with seconds and an explicit UTC offset, e.g. `2026-11-27T10:14:59Z` or `2026-11-27T11:14:59+01:00`
   * (pgBackRest `--type=time --target`). It must lie inside the source's backups (after the end of a backup that is
   * still kept); a time before the oldest kept backup makes the restore fail at boot.
   */
  readonly targetTime: string;
}

/** A network that already exists, for one node group (see `NodeGroupProps.existingNetwork`). */
export interface ExistingNetworkProps {
  /**
   * AWS: the id of the VPC that holds the subnets (`vpc-...`).
   * @default required for an AWS node group
   */
  readonly awsVpcId?: string;
  /**
   * GCP: the network's self link, `projects/PROJECT/global/networks/NAME` (a Shared VPC host project's network: the
   * machines stay in the Google provider's project, the firewall rules go into PROJECT).
   * @default required for a GCP node group
   */
  readonly gcpNetwork?: string;
  /**
   * The subnets: on AWS one per zone of the group, in the order of `zones`; on GCP the one subnetwork of the group's
   * region (a subnetwork spans the region's zones).
   */
  readonly subnets: ExistingSubnetProps[];
}

/** One subnet of an existing network. */
export interface ExistingSubnetProps {
  /** AWS: the subnet id (`subnet-...`); GCP: the subnetwork's self link, `projects/PROJECT/regions/REGION/subnetworks/NAME`. */
  readonly id: string;
  /**
   * The subnet's primary IPv4 range, as written (e.g. `10.20.1.0/24`): the machines get fixed addresses in it (the
   * user-data names them, so the range must be known at synth), at the same offsets as in a network the construct
   * creates: on AWS offset 5 of each zone's subnet for the load balancer, 10 and up for Postgres members, 30 and up for
   * dedicated etcd machines; on GCP the subnetwork is split into 8 blocks, one per zone, with the same offsets.
   */
  readonly cidr: string;
}

/** PostgreSQL settings of the whole fleet (every node group runs the same major version). */
export interface PostgresProps {
  /**
   * Major version.
   * @default with distro packages the distro's own (16 on Ubuntu 24.04, 15 on Debian 12, 17 on Debian 13); 17 otherwise
   */
  readonly version?: number;
  /**
   * Where PostgreSQL and Patroni come from.
   * @default PackageSource.PGEDGE for Spock, PackageSource.DISTRO otherwise
   */
  readonly packageSource?: PackageSource;
  /**
   * Directory of the PostgreSQL server binaries (`postgres`, `pg_ctl`, `psql`, `pg_isready`...): Patroni's `bin_dir`
   * and what the boot scripts run. An absolute path without whitespace or quotes. Meant for golden images
   * (`PackageSource.IMAGE`) built with another layout (e.g. `/usr/pgsql-17/bin` or `/opt/postgres/17/bin`); allowed
   * with the other sources too, where it must match where their packages install.
   * @default `/usr/lib/postgresql/<version>/bin` (the Debian/Ubuntu layout of distro, PGDG and pgEdge packages)
   */
  readonly binDir?: string;
  /**
   * The application database that is replicated.
   * @default 'app'
   */
  readonly database?: string;
  /**
   * Extra postgresql.conf parameters (names are lower-case identifiers; values are plain strings without quotes or `;`).
   * Parameters the library manages for replication cannot be set here.
   * @default none
   */
  readonly parameters?: { [name: string]: string };
}

/** High-availability policy inside each node group (Patroni). */
export interface HaProps {
  /**
   * Synchronous replication inside the group.
   * @default SynchronousMode.ON
   */
  readonly synchronousMode?: SynchronousMode;
  /**
   * `synchronous_node_count`: how many standbys confirm each commit. Must leave one standby spare, so losing a standby never blocks commits.
   * @default 1
   */
  readonly synchronousStandbys?: number;
  /**
   * Patroni timing profile.
   * @default TimingProfile.DEFAULT
   */
  readonly timingProfile?: TimingProfile;
  /**
   * Leader key TTL in seconds (overrides the profile; at least 20, and `loopWait + 2 * retryTimeout <= ttl`).
   * @default from `timingProfile`
   */
  readonly ttl?: number;
  /**
   * Seconds between Patroni's HA loops (overrides the profile; at least 1).
   * @default from `timingProfile`
   */
  readonly loopWait?: number;
  /**
   * Seconds Patroni retries DCS and Postgres operations (overrides the profile; at least 3).
   * @default from `timingProfile`
   */
  readonly retryTimeout?: number;
  /**
   * Bytes a standby may lag and still be promoted.
   * @default 1048576 (1 MiB)
   */
  readonly maximumLagOnFailoverBytes?: number;
  /**
   * Patroni's `failsafe_mode`: keep the primary running while etcd is unreachable but all members can see each other.
   * @default true
   */
  readonly failsafeMode?: boolean;
}

/** A column whose updates are applied as deltas (`new = local + (remote_new - remote_old)`) instead of overwriting (Spock only). */
export interface DeltaApplyColumnProps {
  /** Table, optionally schema-qualified (`ledger.accounts`). */
  readonly table: string;
  /** Numeric column, e.g. `balance`. */
  readonly column: string;
}

/** Multi-master replication between node groups. */
export interface ReplicationProps {
  /**
   * The replication engine.
   * @default ReplicationEngine.SPOCK
   */
  readonly engine?: ReplicationEngine;
  /**
   * Conflict resolution.
   * @default LAST_UPDATE_WINS for Spock and pglogical; ERROR for native (it has no resolution)
   */
  readonly conflictPolicy?: ConflictPolicy;
  /**
   * Columns updated as deltas (Spock only).
   * @default none
   */
  readonly deltaApplyColumns?: DeltaApplyColumnProps[];
  /**
   * Give every member a snowflake node id for conflict-free ids (Spock only; pgEdge `snowflake` extension).
   * @default true for Spock, false otherwise
   */
  readonly snowflakeIds?: boolean;
  /**
   * How subscribers reach a remote group's leader.
   * @default LeaderEndpoint.MULTI_HOST_DSN
   */
  readonly leaderEndpoint?: LeaderEndpoint;
  /**
   * Tables replicated to every node group (schema-qualified or in `public`).
   * @default none
   */
  readonly globalTables?: string[];
  /**
   * The WAL budget: the share of each member's data disk (in percent, 5 to 50) that `pg_wal` may hold, computed at
   * the member's first boot from the disk it really has. The replication slots (the mesh's logical slots and the
   * group's own physical slots alike) may keep what the budget leaves after `max_wal_size`, `wal_keep_size` and two
   * WAL segments (Postgres `max_slot_wal_keep_size`; 1184 MB less with the defaults): a peer node group or a standby
   * away longer than that loses its slot, and the member keeps serving instead of filling its disk: one region's
   * outage never stops the others. Synth refuses a budget that leaves the slots under 1 GiB (DPG-WAL-RETENTION).
   * @default 20
   */
  readonly walRetentionPercent?: number;
  /**
   * How often (in minutes) each node group's leader compares its replicated tables with every other node group that
   * replicates them (the anti-entropy check: row counts and hashes over key ranges, narrowing to the keys that differ,
   * each rechecked before it is reported), besides once a minute after every leader change. Each run reads every
   * replicated table once on this group and once on each peer: on large tables choose a longer period. 0 keeps only
   * the check after a leader change.
   * @default 60
   */
  readonly antiEntropyMinutes?: number;
  /**
   * Columns the anti-entropy check leaves out, as `schema.table.column` of a replicated table (a global table, a
   * geoshard's table or partition): columns each node group fills itself, which differ between groups by design
   * (for example an arrival time set by a trigger enabled ALWAYS).
   * @default none
   */
  readonly antiEntropyIgnoredColumns?: string[];
  /**
   * The most node groups the fleet is planned to hold. Every member reserves replication slots, WAL senders and
   * workers for that many peer groups when its node group is created (Postgres needs a restart to change them), so a
   * node group added later to a running fleet must fit in what its members reserved; the user-data stays the same
   * while the fleet grows within it. Each reserved peer costs every member two slots, two senders and two workers
   * (a few hundred KB of shared memory in all). Raising it reaches only node groups created after the change.
   * @default the number of node groups rounded up to a multiple of 8, and at least 16 (at most 100)
   */
  readonly maxNodeGroups?: number;
}

/** One partition of a partitioned table that belongs to a geography. */
export interface GeoshardTableProps {
  /** The partitioned parent table (LIST partitioned on a geography column), e.g. `ledger.entries`. */
  readonly table: string;
  /** The partition holding this geography's rows, e.g. `ledger.entries_eu`. */
  readonly partition: string;
  /** The LIST values of the partition key owned by this geography, e.g. `['eu']`. */
  readonly values: string[];
}

/** A geography whose partitions replicate only between the node groups inside it (data residency). */
export interface GeoshardProps {
  /** Name of the geography: lower-case letters, digits and `_`, at most 20 characters, e.g. `eu`. */
  readonly name: string;
  /** Names of the node groups inside the geography (at least one). */
  readonly nodeGroups: string[];
  /** The partitions that must stay inside the geography (at least one). */
  readonly tables: GeoshardTableProps[];
}

/**
 * How the fleet's AWS regions reach each other.
 */
export enum AwsInterRegion {
  /** A VPC peering between every pair of the fleet's AWS regions, with routes in every route table. */
  PEERING = 'peering',
  /**
   * No peering is created: the network team routes between the regions (Transit Gateway, Cloud WAN). Security groups
   * still admit exactly the other node groups' CIDRs.
   */
  EXTERNAL = 'external',
}

/**
 * A private DNS zone the DNS team owns: the construct adds its records to it and creates no zone of its own in that
 * cloud. The zone's name must be `network.privateDnsZone`.
 */
export interface ExistingDnsZoneProps {
  /**
   * Id of a Route 53 private hosted zone (`Z...`). The construct associates it with every VPC of the fleet (a zone of
   * another account needs that account's association authorization first).
   * @default a private zone is created for the fleet's AWS node groups
   */
  readonly awsHostedZoneId?: string;
  /**
   * Name of a Cloud DNS private managed zone that is visible from the fleet's network (the DNS team adds the network
   * to its visibility; a zone cannot be shared by a resource of another Terraform state).
   * @default a private zone is created for the fleet's GCP node groups
   */
  readonly gcpManagedZone?: string;
  /**
   * Project of `gcpManagedZone`, e.g. a Shared VPC host project.
   * @default the Google provider's project
   */
  readonly gcpProject?: string;
}

/** Fleet networking. */
export interface NetworkProps {
  /**
   * The private range node group CIDRs are carved from (a /20 per group by its `number`).
   * @default '10.64.0.0/12'
   */
  readonly fleetCidr?: string;
  /**
   * How AWS and GCP are joined when the fleet spans both clouds.
   * @default Interconnect.HA_VPN
   */
  readonly interconnect?: Interconnect;
  /**
   * How the AWS regions of the fleet are joined.
   * @default AwsInterRegion.PEERING
   */
  readonly awsInterRegion?: AwsInterRegion;
  /**
   * Private DNS zone for member and node group records.
   * @default `<fleet name>.db.internal`
   */
  readonly privateDnsZone?: string;
  /**
   * Existing private zones (named `privateDnsZone`) to write the records to, per cloud.
   * @default the construct creates the zones
   */
  readonly existingDnsZone?: ExistingDnsZoneProps;
  /**
   * Client CIDRs (private ranges of the applications) allowed to reach Postgres on 5432. Never `0.0.0.0/0`.
   * @default none: only the fleet itself
   */
  readonly clientCidrs?: string[];
}

/** Where the fleet's secrets live. Values never pass through the declaration, user-data or Terraform JSON. */
export interface SecretsProps {
  /**
   * Prefix of every secret's name in AWS Secrets Manager and GCP Secret Manager (letters, digits, `-`, `_`).
   * @default `<fleet name>-`
   */
  readonly namePrefix?: string;
  /**
   * Who makes the fleet's TLS certificate authority (members sign their own certificates with it at boot).
   * @default TlsCa.TERRAFORM
   */
  readonly tlsCa?: TlsCa;
}

/** Who makes the fleet's TLS certificate authority. */
export enum TlsCa {
  /**
   * Terraform, with the `tls` provider (an ECDSA P-256 key and a self-signed CA certificate valid 10 years), stored in
   * the CA secret like the passwords: one `cdktf deploy` brings the fleet up. The key is in Terraform state, as the
   * passwords are: protect the state backend.
   */
  TERRAFORM = 'terraform',
  /**
   * An operator, with `bin/fill-tls-ca` beside the first deploy: the CA secret is created empty and the key never enters
   * Terraform state (for teams that keep keys out of state).
   */
  OPERATOR_FILLED = 'operator-filled',
}

/**
 * The company's own rules for the cloud resources the construct creates: tags and labels for inventory, cost and
 * access policies, and the IAM permissions boundary and path its roles must carry.
 */
export interface GovernanceProps {
  /**
   * Tags on every AWS resource of the fleet that takes tags (machines, their root and data disks, load balancers,
   * security groups, secrets, roles, networks...), next to the construct's own (`Name`, `distributed-postgres:*`), which
   * they may not replace. Keys of 1-128 characters, values of at most 256, not starting with `aws:`; at most 40.
   * The providers' `defaultTags` apply as well.
   * @default none
   */
  readonly awsTags?: { [key: string]: string };
  /**
   * Labels on every GCP resource of the fleet that takes labels (machines, their boot and data disks, secrets, the DNS
   * zone...), next to the construct's own (`name`, `distributed-postgres-*`), which they may not replace. Keys of 1-63
   * lower-case letters, digits, `_` and `-` starting with a letter; values of at most 63 of the same; at most 50.
   * @default none
   */
  readonly gcpLabels?: { [key: string]: string };
  /**
   * ARN of the IAM policy set as permissions boundary of every IAM role the construct creates (the database
   * machines' role in each AWS region), e.g. `arn:aws:iam::123456789012:policy/platform-boundary`.
   * @default no permissions boundary
   */
  readonly permissionsBoundaryArn?: string;
  /**
   * IAM path of the roles and instance profiles the construct creates, e.g. `/platform/databases/`.
   * @default `/`
   */
  readonly iamPath?: string;
}

/** A customer-managed KMS key of one AWS region. */
export interface AwsRegionKeyProps {
  /** The AWS region, e.g. `eu-west-1`; one of the fleet's AWS regions. */
  readonly region: string;
  /**
   * ARN of a symmetric KMS key in that region (`arn:aws:kms:REGION:ACCOUNT:key/ID`; not an alias: the machines' role
   * is granted `kms:Decrypt` on the key itself). A Terraform reference (e.g. a `data` source's `arn`) is taken as is.
   */
  readonly keyArn: string;
}

/** A Cloud KMS key of one GCP region. */
export interface GcpRegionKeyProps {
  /** The GCP region, e.g. `europe-west1`; one of the fleet's GCP regions. */
  readonly region: string;
  /**
   * The key: `projects/P/locations/REGION/keyRings/R/cryptoKeys/K`, in that region. A Terraform reference is taken as is.
   */
  readonly keyName: string;
}

/**
 * Customer-managed keys for what the fleet stores at rest. Without them every disk and secret is still encrypted, with
 * the clouds' default keys. The key owners grant their use: on AWS the key policy lets the deploying principal use
 * the key for EBS (`kms:CreateGrant`, `kms:GenerateDataKeyWithoutPlaintext`, `kms:ReEncrypt*`) and Secrets Manager; on
 * GCP the Compute Engine and Secret Manager service agents get `roles/cloudkms.cryptoKeyEncrypterDecrypter`.
 */
export interface EncryptionProps {
  /**
   * Per AWS region: the key of every EBS volume (root and data) and Secrets Manager secret the fleet creates there.
   * The database machines' role may decrypt with it, only through Secrets Manager.
   * @default AWS managed keys (aws/ebs, aws/secretsmanager)
   */
  readonly awsKmsKeys?: AwsRegionKeyProps[];
  /**
   * Per GCP region: the key of every boot and data disk the fleet creates there.
   * @default Google-managed keys
   */
  readonly gcpDiskKmsKeys?: GcpRegionKeyProps[];
  /**
   * The key of the fleet's Secret Manager secrets: `projects/P/locations/global/keyRings/R/cryptoKeys/K` (automatically
   * replicated secrets take only a key in the `global` location).
   * @default Google-managed keys
   */
  readonly gcpSecretsKmsKeyName?: string;
}

/**
 * Backups of a node group with pgBackRest: WAL archived continuously and full / differential / incremental backups on
 * a schedule, into an object store in the group's own region (S3 on AWS, GCS on GCP), so a group's data, and a
 * geoshard's rows, never leave its region. The machines reach the store with their own identity (instance role,
 * service account), never keys, and only under their group's prefix. Backups run on the group's current leader.
 * Multi-master replication is not a backup: a bad `DELETE` reaches every node group in seconds.
 */
export interface BackupProps {
  /**
   * Whether the node group archives its WAL and takes backups.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * When full backups run.
   * @default BackupSchedule.weekly(Weekday.SUNDAY, 1)
   */
  readonly fullSchedule?: BackupSchedule;
  /**
   * When differential backups (everything changed since the last full one) run.
   * @default BackupSchedule.daily(1) (skipped where the full backup runs at the same time)
   */
  readonly differentialSchedule?: BackupSchedule;
  /**
   * When incremental backups (everything changed since the last backup of any kind) run.
   * @default BackupSchedule.never()
   */
  readonly incrementalSchedule?: BackupSchedule;
  /**
   * Full backups kept (pgBackRest `repo1-retention-full`, by count; older ones, their differentials and the WAL only
   * they need expire). 1 to 100.
   * @default 4
   */
  readonly retentionFullBackups?: number;
  /**
   * Longest time a committed transaction may wait in a WAL segment that is not archived yet (Postgres
   * `archive_timeout`): bounds how much an idle group can lose when its leader's disk is lost. 30 to 3600 seconds;
   * every forced switch stores one (compressed) segment.
   * @default 60
   */
  readonly archiveTimeoutSeconds?: number;
  /**
   * Start of the buckets' names: one bucket per cloud region of the fleet, `<prefix>-<region>`. Bucket names are
   * global across every account and project of a cloud, so use something of your own organisation's. Lower-case
   * letters, digits and `-`, 3 to 38 characters. Fleet-wide only (a node group's own `backup` cannot change it).
   * @default `<fleet name>-backup`
   */
  readonly bucketNamePrefix?: string;
}

/**
 * Metrics on every Postgres member: Debian's `prometheus-postgres-exporter` (port 9187: the mesh's lag, slots,
 * subscriptions, conflicts, Patroni's role and timeline, as `dpg_*` series from queries rendered per member) and
 * `prometheus-node-exporter` (port 9100: disk space, and the mesh and anti-entropy status through its textfile
 * collector). Both serve HTTPS only (the member's certificate from the fleet's CA) on the member's private address;
 * the firewall admits the two ports from the fleet's ranges and `scrapeCidrs` only. See "Metrics" in the README.
 */
export interface MonitoringProps {
  /**
   * Whether every Postgres member runs the two exporters (and the firewall opens their ports to the scrapers). Off,
   * the fleet has no alerting rules either: synth writes no `alerts.rules.yml` and `DistributedPostgres.alertRules`
   * is the empty string.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Private ranges (RFC 1918) besides the fleet's own from which Prometheus may scrape the exporters, e.g. the
   * monitoring VPC's `10.250.0.0/24`. Never a public range such as `0.0.0.0/0` (DPG-MONITORING).
   * @default none: only machines inside the fleet's ranges may scrape
   */
  readonly scrapeCidrs?: string[];
}

/** The whole fleet. */
export interface DistributedPostgresProps {
  /**
   * Name of the fleet: a DNS label of lower-case letters, digits and `-`, at most 16 characters, starting with a letter.
   * It prefixes machine names, secret names and the DNS zone.
   * @default the construct id
   */
  readonly name?: string;
  /** The node groups (at least one); each is a Patroni cluster and a member of the mesh. */
  readonly nodeGroups: NodeGroupProps[];
  /**
   * Default etcd quorum of every node group.
   * @default 3 co-located members, in-region timings
   */
  readonly etcd?: EtcdQuorumProps;
  /**
   * PostgreSQL settings.
   * @default see `PostgresProps`
   */
  readonly postgres?: PostgresProps;
  /**
   * HA policy inside each node group.
   * @default see `HaProps`
   */
  readonly ha?: HaProps;
  /**
   * Multi-master replication.
   * @default see `ReplicationProps`
   */
  readonly replication?: ReplicationProps;
  /**
   * Geographies with resident partitions.
   * @default none
   */
  readonly geoshards?: GeoshardProps[];
  /**
   * Networking.
   * @default see `NetworkProps`
   */
  readonly network?: NetworkProps;
  /**
   * Secrets.
   * @default see `SecretsProps`
   */
  readonly secrets?: SecretsProps;
  /**
   * Tags, labels, IAM permissions boundary and path the company requires on what the construct creates.
   * @default see `GovernanceProps`
   */
  readonly governance?: GovernanceProps;
  /**
   * Customer-managed keys for disks and secrets.
   * @default see `EncryptionProps`
   */
  readonly encryption?: EncryptionProps;
  /**
   * Backups of every node group (pgBackRest to S3 / GCS in the group's region); a node group's own `backup` overrides
   * field by field.
   * @default see `BackupProps`: on, weekly full and daily differential backups, 4 full backups kept
   */
  readonly backup?: BackupProps;
  /**
   * Metrics: Prometheus exporters (PostgreSQL and node) on every Postgres member, TLS, private address only.
   * @default see `MonitoringProps`: on, scraped from the fleet's ranges only
   */
  readonly monitoring?: MonitoringProps;
  /**
   * Provider wiring: the AWS provider of each AWS region the fleet uses (where it deviates from the default lookup).
   * Platform teams own provider configuration (assume-role, default tags); the construct only picks providers.
   * Per region, the lookup is: the entry here; else the stack's AWS provider configured with exactly that `region`;
   * else the stack's only AWS provider (resources then carry their own `region` argument, AWS provider 6+).
   * @default looked up in the stack as described
   */
  readonly awsProviders?: AwsRegionProviderProps[];
  /**
   * Provider wiring: the Google provider (its project holds every GCP resource of the fleet).
   * @default the stack's only Google provider
   */
  readonly googleProvider?: GoogleProvider;
  /**
   * A JSON file (path relative to where synth runs) that records what identifies the fleet's running parts: its
   * name, range, engine and Postgres major version, and each node group's number, cloud, region, range and backup bucket. When the
   * file exists, synth refuses a declaration that changes one of them (`DPG-LIVE-CHANGE`, saying what to do instead:
   * a running fleet cannot make such a change, and a new user-data never reaches its machines); when the declaration
   * is accepted, synth writes the file (only when its content changes). Commit it next to the stack, like a lock file.
   * @default no lock: changes are not checked against the previous declaration
   */
  readonly lockFile?: string;
}

/** Provider wiring: the AWS provider that manages one AWS region of the fleet. */
export interface AwsRegionProviderProps {
  /** The AWS region, e.g. `eu-west-1`. */
  readonly region: string;
  /** The provider for that region (its own `region` may differ: resources carry their region explicitly). */
  readonly provider: AwsProvider;
}

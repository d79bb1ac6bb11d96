/**
 * The resolved topology: a plain, JSON-serialisable description of the whole fleet with every
 * decision made (names, placement, addresses, quorums, the replication mesh). No cdktf inside.
 * Renderers and cloud constructs read only this.
 */

export type CloudName = 'aws' | 'gcp';
export type ImageName = 'ubuntu-24.04' | 'debian-12' | 'debian-13';
export type PackageSourceName = 'distro' | 'pgdg' | 'pgedge' | 'image';
export type MachineImageKindName = 'aws-ami-id' | 'aws-ami-lookup' | 'gcp-image';
export type EngineName = 'spock' | 'pglogical' | 'native';
export type ConflictPolicyName = 'last_update_wins' | 'first_update_wins' | 'apply_remote' | 'keep_local' | 'error';
export type SynchronousModeName = 'off' | 'on' | 'strict';
export type LeaderEndpointName = 'multi-host-dsn' | 'load-balancer';

/** Well-known ports. */
export const PORTS = {
  postgres: 5432,
  patroniRest: 8008,
  etcdClient: 2379,
  etcdPeer: 2380,
  /** Debian's prometheus-postgres-exporter (HTTPS, the member's private address). */
  postgresExporter: 9187,
  /** Debian's prometheus-node-exporter (HTTPS, the member's private address). */
  nodeExporter: 9100,
} as const;

/** Where member files live on every machine; the renderer writes them, DSNs refer to them. */
export const PATHS = {
  root: '/etc/distributed-postgres',
  tlsDir: '/etc/distributed-postgres/tls',
  caCert: '/etc/distributed-postgres/tls/ca.crt',
  bootstrapScript: '/usr/local/sbin/distributed-postgres-bootstrap',
  bootstrapLog: '/var/log/distributed-postgres-bootstrap.log',
} as const;

export interface Topology {
  /** Version of this document's shape; bumped when a field changes meaning. */
  readonly schemaVersion: 1;
  readonly fleetName: string;
  readonly postgres: PostgresSettings;
  readonly patroni: PatroniSettings;
  readonly replication: ReplicationSettings;
  readonly nodeGroups: NodeGroup[];
  readonly geoshards: Geoshard[];
  /** The full mesh: every node group subscribes to every other one. Sorted by name. */
  readonly subscriptions: Subscription[];
  readonly network: FleetNetwork;
  readonly secrets: SecretNames;
  /** The company's tags, labels, IAM boundary and path (absent when the declaration sets none of them). */
  readonly governance?: Governance;
  /** Customer-managed keys (absent when the declaration names none). */
  readonly encryption?: Encryption;
  /** The buckets backups go to, sorted by cloud and region (empty when every group's backups are off). */
  readonly backupBuckets: BackupBucket[];
  /** Metrics: the exporters on every Postgres member and who may scrape them. */
  readonly monitoring: Monitoring;
}

/**
 * Metrics on every Postgres member (`MonitoringProps`): Debian's postgres_exporter and node_exporter, HTTPS with the
 * member's certificate, listening on its private address; the firewall admits their ports from the fleet's ranges
 * (`network.fleetCidrs`) and `scrapeCidrs`.
 */
export interface Monitoring {
  /** Whether the exporters run (and their ports are open to the scrapers). */
  readonly enabled: boolean;
  readonly postgresExporterPort: number;
  readonly nodeExporterPort: number;
  /** Private ranges besides the fleet's that may scrape (sorted, each once). */
  readonly scrapeCidrs: string[];
  /**
   * The Postgres role postgres_exporter connects as over the Unix socket (peer authentication: the Debian package's
   * system user of the same name, so no password anywhere); a member of `pg_monitor`, nothing more.
   */
  readonly exporterRole: string;
}

/** What every resource the construct creates must carry, beyond its own tags (see `GovernanceProps`). */
export interface Governance {
  /** Added to every AWS resource that takes tags (sorted by key). */
  readonly awsTags: Record<string, string>;
  /** Added to every GCP resource that takes labels (sorted by key). */
  readonly gcpLabels: Record<string, string>;
  /** Permissions boundary of every IAM role the construct creates. */
  readonly permissionsBoundaryArn?: string;
  /** IAM path of its roles and instance profiles. */
  readonly iamPath: string;
}

export interface PostgresSettings {
  readonly version: number;
  readonly packageSource: PackageSourceName;
  /** Directory of the server binaries (Patroni's `bin_dir`; the boot scripts' psql and pg_isready). */
  readonly binDir: string;
  readonly database: string;
  readonly port: number;
  /** User parameters (sorted by name), on top of what the renderer sets for replication. */
  readonly parameters: Record<string, string>;
  /** Roles the renderer creates; passwords come from the secret store. */
  readonly superuser: string;
  readonly replicationUser: string;
  readonly rewindUser: string;
  /** The role subscriptions of other node groups connect as (password from the secret store). */
  readonly meshUser: string;
}

export interface PatroniSettings {
  readonly ttl: number;
  readonly loopWait: number;
  readonly retryTimeout: number;
  readonly synchronousMode: SynchronousModeName;
  /** `synchronous_node_count` (0 when synchronous mode is off). */
  readonly synchronousNodeCount: number;
  readonly maximumLagOnFailover: number;
  readonly failsafeMode: boolean;
  readonly restApiPort: number;
  /** Patroni REST API user (password from the secret store). */
  readonly restApiUser: string;
}

export interface ReplicationSettings {
  readonly engine: EngineName;
  readonly conflictPolicy: ConflictPolicyName;
  readonly deltaApplyColumns: DeltaApplyColumn[];
  readonly snowflakeIds: boolean;
  readonly leaderEndpoint: LeaderEndpointName;
  /** The replication set every node group subscribes to. */
  readonly globalReplicationSet: string;
  /** Tables in the global set, schema-qualified, sorted. */
  readonly globalTables: string[];
  /** Share of each member's data disk that slots may keep in pg_wal (`max_slot_wal_keep_size`). */
  readonly walRetentionPercent: number;
  /** Minutes between the leaders' anti-entropy checks (0: only after a leader change). */
  readonly antiEntropyMinutes: number;
  /** Columns the anti-entropy check leaves out, `schema.table.column`, sorted. */
  readonly antiEntropyIgnoredColumns: string[];
  /** Node groups every member reserves replication capacity for (`replication.maxNodeGroups`). */
  readonly maxNodeGroups: number;
}

/** A Spock delta-apply column: concurrent updates add their differences instead of the last one winning. */
export interface DeltaApplyColumn {
  /** Schema-qualified table. */
  readonly table: string;
  readonly column: string;
}

export interface NodeGroup {
  readonly name: string;
  readonly number: number;
  readonly cloud: CloudName;
  readonly region: string;
  readonly zones: string[];
  /**
   * The group's private CIDR. In an existing AWS network: its first zone's subnet (every subnet's range is in
   * `subnets`; `groupCidrs` lists what the group's machines may come from).
   */
  readonly cidr: string;
  /**
   * One block per zone, in zone order (AWS: one subnet each, an existing network's given subnets; GCP: blocks of the
   * one subnetwork `cidr`).
   */
  readonly subnets: ZoneSubnet[];
  /** The network the group brings (absent: the construct creates it). */
  readonly existingNetwork?: GroupExistingNetwork;
  /** The OS the machines run (the official image's, or the one a golden image is built on). */
  readonly image: ImageName;
  /** The machine image the machines boot, when it is not the official image of `image`. */
  readonly machineImage?: MachineImageRef;
  /** Security groups the company requires on the group's machines besides its own (AWS; absent when none). */
  readonly extraSecurityGroupIds?: string[];
  readonly machineType: string;
  readonly dataDisk: DataDisk;
  /** Patroni `scope` (cluster name), unique in the fleet. */
  readonly patroniScope: string;
  /** The group's node name in the replication mesh (a Postgres identifier). */
  readonly replicationNodeName: string;
  readonly patroniTags: Record<string, string>;
  readonly members: Member[];
  readonly etcd: EtcdQuorum;
  /** Private IP of the group's internal load balancer (GCP forwarding rule; AWS NLB in the first subnet). */
  readonly loadBalancerIps: string[];
  /** DNS name of the group's leader endpoint (the load balancer), in the private zone. */
  readonly endpointFqdn: string;
  /** libpq connection string that follows this group's leader, without password (the subscriber reads it from `.pgpass`). */
  readonly leaderDsn: string;
  /** Replication sets this group's rows are published in (global + its geoshards). */
  readonly replicationSets: string[];
  /**
   * Name of the group's mesh document in the secret store of its cloud and region: the mesh this group's side must
   * have (its SQL), which Terraform updates and mesh-keeper follows; not in the user-data, and no secret in it.
   */
  readonly meshDocument: string;
  /**
   * Name of the group's scripts document in the same secret store: the boot scripts, units and SQL its machines run
   * (the same on every machine of the group), which each machine's user-data names and pins by SHA-256 instead of
   * carrying them. No secret in it.
   */
  readonly scriptsDocument: string;
  /** The group's backups (absent when they are off for this group, and always for a restored group). */
  readonly backup?: GroupBackup;
  /**
   * The backup the group is built from (`restoreFrom`): its first member restores it through Patroni's custom
   * bootstrap method. A restored group stands apart from the mesh: no subscription names it, no other group keeps a
   * slot or admits the mesh role from its range, its engine's library and logical workers are off, and it archives
   * nothing.
   */
  readonly restore?: GroupRestore;
}

/** Where a restored node group's data comes from: the source group's pgBackRest repository, read only, to a time. */
export interface GroupRestore {
  /** The source node group. */
  readonly sourceGroup: string;
  /** The source's pgBackRest stanza (its name). */
  readonly stanza: string;
  /** The source's bucket (same cloud and region as the restored group). */
  readonly bucket: string;
  /** The source's repository path in the bucket: `/<fleet>/<source>`. */
  readonly path: string;
  /** The target time as declared (ISO-8601 with its offset). */
  readonly targetTime: string;
  /** The same moment in UTC as pgBackRest's `--target` takes it: `YYYY-MM-DD HH:MM:SS[.ffffff]+00`. */
  readonly targetTimeUtc: string;
}

/**
 * One node group's pgBackRest backups: its repository is a path in the fleet's bucket of its cloud region, and every
 * permission its machines get on the bucket is limited to that path.
 */
export interface GroupBackup {
  /** pgBackRest stanza: the node group's name. */
  readonly stanza: string;
  /** The bucket (in the group's cloud and region). */
  readonly bucket: string;
  /** The repository's path in the bucket (pgBackRest `repo1-path`): `/<fleet>/<group>`. */
  readonly path: string;
  /** When full backups run: a systemd `OnCalendar` expression, UTC. */
  readonly fullCalendar: string;
  /** When differential backups run (absent: never). */
  readonly differentialCalendar?: string;
  /** When incremental backups run (absent: never). */
  readonly incrementalCalendar?: string;
  /** Full backups kept (`repo1-retention-full`). */
  readonly retentionFull: number;
  /** Postgres `archive_timeout`, seconds. */
  readonly archiveTimeoutSeconds: number;
}

/** A bucket of backups: one per cloud region with at least one node group whose backups are on. */
export interface BackupBucket {
  readonly cloud: CloudName;
  readonly region: string;
  readonly name: string;
  /** The node groups whose repositories it holds, sorted. */
  readonly nodeGroups: string[];
}

/** A machine image named in the declaration (see `MachineImage`), as plain data. */
export interface MachineImageRef {
  readonly kind: MachineImageKindName;
  readonly cloud: CloudName;
  /** `aws-ami-id`: the AMI. */
  readonly amiId?: string;
  /** `aws-ami-lookup`: the owner and name pattern of the most recent matching AMI. */
  readonly owner?: string;
  readonly namePattern?: string;
  /** `gcp-image`: the image or image family. */
  readonly gcpImage?: string;
}

/** The data disk of every member of a node group. */
export interface DataDisk {
  readonly sizeGiB: number;
  /** The cloud's disk type, e.g. `gp3` (AWS) or `pd-ssd` (GCP). */
  readonly type: string;
}

export interface ZoneSubnet {
  readonly zone: string;
  readonly cidr: string;
}

export interface Member {
  /** Machine name, unique in the fleet: `<fleet>-<group>-pg<ordinal>`. */
  readonly name: string;
  /** 1-based position in the group. */
  readonly ordinal: number;
  readonly zone: string;
  readonly privateIp: string;
  readonly fqdn: string;
  /** Snowflake node id (1..1023), or 0 when snowflake ids are off. */
  readonly snowflakeNodeId: number;
  /** True when this member also runs an etcd member of the group's quorum. */
  readonly runsEtcd: boolean;
}

export interface EtcdQuorum {
  readonly placement: 'co-located' | 'dedicated';
  readonly heartbeatIntervalMs: number;
  readonly electionTimeoutMs: number;
  /** `--initial-cluster-token`, unique per group. */
  readonly clusterToken: string;
  readonly members: EtcdMember[];
  /** `--initial-cluster` value: `name=https://ip:2380,...`. */
  readonly initialCluster: string;
  /** Client endpoints `ip:2379` Patroni's `etcd3.hosts` uses. */
  readonly clientHosts: string[];
  /** Machine type of dedicated members ('' when co-located). */
  readonly machineType: string;
}

export interface EtcdMember {
  readonly name: string;
  readonly zone: string;
  readonly privateIp: string;
  /** Name of the Postgres member this etcd runs on, or '' for a dedicated machine. */
  readonly hostMember: string;
  readonly peerUrl: string;
  readonly clientUrl: string;
}

export interface Geoshard {
  readonly name: string;
  readonly nodeGroups: string[];
  readonly replicationSet: string;
  readonly tables: GeoshardTable[];
}

/** One partition of a geoshard: the rows of `table` that `partition` holds (list partitioning on `values`). */
export interface GeoshardTable {
  /** The partitioned table, schema-qualified. */
  readonly table: string;
  /** The partition that replicates only inside the geoshard, schema-qualified. */
  readonly partition: string;
  readonly values: string[];
}

export interface Subscription {
  /** Subscription name (a Postgres identifier): `sub_<subscriber>_<provider>`. */
  readonly name: string;
  readonly subscriber: string;
  readonly provider: string;
  readonly providerDsn: string;
  /** Replication sets: the global set plus every geoshard both groups belong to. */
  readonly replicationSets: string[];
  /** Always empty: changes are never forwarded, so nothing echoes back. */
  readonly forwardOrigins: string[];
}

export interface FleetNetwork {
  readonly fleetCidr: string;
  readonly clientCidrs: string[];
  /** Every CIDR inside the fleet (the only sources allowed to the database, etcd and Patroni ports), sorted. */
  readonly fleetCidrs: string[];
  readonly privateDnsZone: string;
  readonly interconnect: 'ha-vpn' | 'external' | 'none';
  /**
   * One VPC per AWS region: `cidrs[0]` (the lowest-numbered group's) is the primary block. `egressSubnetCidr` is the small
   * public subnet holding the region's NAT gateway (machines download packages at boot; they have no public IP):
   * a /28 at the start of the last zone block of the primary group, which AWS regions (at most 6 zones) never use.
   */
  readonly awsVpcs: AwsVpc[];
  readonly gcpSubnetworks: GcpSubnetwork[];
  /**
   * One peering per pair of AWS regions (requester < accepter alphabetically); none when the network team routes
   * between them (`awsInterRegion: 'external'`).
   */
  readonly awsPeerings: AwsPeering[];
  /** Present when the AWS regions are joined by the company's own routing (Transit Gateway, Cloud WAN), not peering. */
  readonly awsInterRegion?: 'external';
  /** Zones the DNS team owns, written to instead of creating the fleet's own (per cloud; absent: created). */
  readonly existingDnsZone?: ExistingDnsZone;
  /** One HA VPN per AWS region when the fleet spans both clouds. */
  readonly vpnLinks: VpnLink[];
}

/** A network the network team owns that a node group's machines go into. */
export interface GroupExistingNetwork {
  /** AWS: the VPC. */
  readonly vpcId?: string;
  /** GCP: the network's self link, and the project that holds it (its firewall rules go there). */
  readonly network?: string;
  readonly networkProject?: string;
  /** AWS: one subnet per zone, in zone order; GCP: the subnetwork. */
  readonly subnetIds: string[];
}

/** The ranges a node group's machines have addresses in: its CIDR, or an existing AWS network's subnets. */
/**
 * The secret-store names a node group's machines read: the fleet's secrets and their own group's mesh and scripts
 * documents, never another group's (so a group's grants and its machines' dependencies do not grow with the fleet).
 */
export function secretsReadBy(topology: Topology, group: NodeGroup): ReadonlySet<string> {
  return new Set([...topology.secrets.all, group.meshDocument, group.scriptsDocument]);
}

export function groupCidrs(group: NodeGroup): string[] {
  return group.existingNetwork && group.cloud === 'aws' ? [...new Set(group.subnets.map((s) => s.cidr))] : [group.cidr];
}

/** Private zones the DNS team owns (each named `privateDnsZone`). */
export interface ExistingDnsZone {
  /** Route 53 private hosted zone id: associated with every VPC of the fleet, records written to it. */
  readonly awsHostedZoneId?: string;
  /** Cloud DNS managed zone name, and its project when not the provider's. */
  readonly gcpManagedZone?: string;
  readonly gcpProject?: string;
}

/** Customer-managed keys (absent: the clouds' default keys). */
export interface Encryption {
  /** KMS key ARN by AWS region: EBS volumes and Secrets Manager secrets there (sorted by region). */
  readonly awsKmsKeys: Record<string, string>;
  /** Cloud KMS key by GCP region: boot and data disks there (sorted by region). */
  readonly gcpDiskKmsKeys: Record<string, string>;
  /** Global Cloud KMS key of the Secret Manager secrets. */
  readonly gcpSecretsKmsKeyName?: string;
}

/** The VPC of one AWS region. */
export interface AwsVpc {
  readonly region: string;
  /** The CIDRs of the region's node groups, in group number order (`cidrs[0]` is the primary block). */
  readonly cidrs: string[];
  readonly nodeGroups: string[];
  /** The small public subnet holding the region's NAT gateway. */
  readonly egressSubnetCidr: string;
}

/** The subnetwork of one GCP node group. */
export interface GcpSubnetwork {
  readonly region: string;
  readonly nodeGroup: string;
  readonly cidr: string;
}

/** A VPC peering between two AWS regions. */
export interface AwsPeering {
  readonly requesterRegion: string;
  readonly accepterRegion: string;
}

/** One IPsec tunnel of an AWS <-> GCP HA VPN. */
export interface VpnTunnel {
  /** Interface (0 or 1) of the GCP HA VPN gateway. */
  readonly gcpInterface: number;
  /** AWS VPN connection (0 or 1). */
  readonly awsConnection: number;
  /** Tunnel (1 or 2) of that AWS connection. */
  readonly awsTunnel: number;
  /** The tunnel's /30 inside 169.254.0.0/16. */
  readonly insideCidr: string;
}

export interface VpnLink {
  readonly awsRegion: string;
  /** Region of the GCP Cloud Router and HA VPN gateway. */
  readonly gcpRegion: string;
  readonly gcpAsn: number;
  readonly awsAsn: number;
  /** 4 tunnels: GCP interface 0/1 x AWS connection tunnel 1/2, each with its own /30 inside 169.254.0.0/16. */
  readonly tunnels: VpnTunnel[];
}

export interface SecretNames {
  /** Secret names (identical in AWS Secrets Manager and GCP Secret Manager). */
  readonly superuserPassword: string;
  readonly replicationPassword: string;
  readonly rewindPassword: string;
  readonly meshPassword: string;
  readonly restApiPassword: string;
  /** PEM CA certificate and key (JSON `{ "cert": ..., "key": ... }`): members issue their own certificates at boot. */
  readonly tlsCa: string;
  /** Who fills the CA secret: Terraform (the `tls` provider) or an operator (`bin/fill-tls-ca`). */
  readonly tlsCaSource: 'terraform' | 'operator';
  /** Every secret name, sorted. */
  readonly all: string[];
}

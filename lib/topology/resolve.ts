/**
 * Resolves a validated declaration into the Topology: pure, deterministic, JSON-serialisable.
 */
import { FleetSpec, GroupSpec } from '../declaration/spec';
import { formatCidr, Ipv4Cidr, parseCidr } from '../net/cidr';
import { groupCidr, qualify, snowflakeIdsOf } from '../declaration/derived';
import { AwsInterRegion, Cloud, EtcdPlacement, Interconnect, LatencyClass, LeaderEndpoint, SynchronousMode, TlsCa } from '../declaration/props';
import { resolveBackupBuckets, resolveGroupBackup, resolveGroupRestore } from './backup';
import { GroupAddressPlan, planGroupAddresses, planInZoneBlocks } from './ip-plan';
import {
  Encryption, EtcdMember, GroupBackup, ExistingDnsZone, FleetNetwork, Geoshard, Governance, GroupExistingNetwork, groupCidrs, Member, NodeGroup, PATHS, PORTS, SecretNames, Subscription, Topology, VpnLink,
} from './topology';

const ETCD_TIMINGS: Record<LatencyClass, { heartbeat: number; election: number }> = {
  [LatencyClass.IN_REGION]: { heartbeat: 100, election: 1000 },
  [LatencyClass.NEARBY_REGIONS]: { heartbeat: 200, election: 2000 },
  [LatencyClass.INTERCONTINENTAL]: { heartbeat: 300, election: 3000 },
};

export const GLOBAL_REPLICATION_SET = 'default';
const ROLES = { superuser: 'postgres', replication: 'replicator', rewind: 'rewind_user', mesh: 'mesh', restApi: 'patroni', exporter: 'prometheus' };

/** `sub_<subscriber>_<provider>` etc: group names as Postgres identifiers. */
export function replicationNodeName(group: string): string {
  return group.replace(/-/g, '_');
}

function byNumber(a: GroupSpec, b: GroupSpec): number {
  return a.number - b.number;
}

function sortedRecord(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(record).sort().map((k) => [k, record[k]]));
}

/** libpq keyword/value string; connect and keepalive settings so a dead leader is noticed within seconds. */
export function leaderDsn(hosts: string[], database: string, user: string): string {
  return [
    `host=${hosts.join(',')}`,
    `port=${PORTS.postgres}`,
    `dbname=${database}`,
    `user=${user}`,
    'target_session_attrs=read-write',
    'sslmode=verify-full',
    `sslrootcert=${PATHS.caCert}`,
    'connect_timeout=5',
    'keepalives=1',
    'keepalives_idle=5',
    'keepalives_interval=2',
    'keepalives_count=3',
    'tcp_user_timeout=10000',
  ].join(' ');
}

/** Where a group's addresses come from: its CIDR (the fleet's plan), or the subnets of the network it brings. */
function addressPlanOf(spec: FleetSpec, g: GroupSpec): { cidr: Ipv4Cidr; plan: Omit<GroupAddressPlan, 'egressSubnet'>; existing?: GroupExistingNetwork } {
  const existing = g.existingNetwork;
  if (!existing) {
    const cidr = groupCidr(spec, g)!;
    return { cidr, plan: planGroupAddresses(cidr, g.zones.length) };
  }
  const blocks = existing.subnets.map((s) => parseCidr(s.cidr)!);
  const subnetIds = existing.subnets.map((s) => s.id);
  if (g.cloud === Cloud.AWS) return { cidr: blocks[0], plan: planInZoneBlocks(blocks), existing: { vpcId: existing.awsVpcId, subnetIds } };
  const networkProject = /^projects\/([^/]+)\//.exec(existing.gcpNetwork ?? '')?.[1];
  return {
    cidr: blocks[0],
    plan: planGroupAddresses(blocks[0], g.zones.length),
    existing: { network: existing.gcpNetwork, ...(networkProject ? { networkProject } : {}), subnetIds },
  };
}

function resolveGroup(spec: FleetSpec, g: GroupSpec, geoSets: Map<string, string[]>): NodeGroup {
  const { cidr, plan, existing } = addressPlanOf(spec, g);
  const zone = spec.network.privateDnsZone;
  const snowflake = snowflakeIdsOf(g);
  const etcdOnMembers = g.etcd.placement === EtcdPlacement.CO_LOCATED;
  const members: Member[] = Array.from({ length: g.members }, (_, i) => {
    const ordinal = i + 1;
    const name = `${spec.name}-${g.name}-pg${ordinal}`;
    return {
      name,
      ordinal,
      zone: g.zones[plan.memberZoneIndex(ordinal)],
      privateIp: plan.memberIp(ordinal),
      fqdn: `${name}.${zone}`,
      snowflakeNodeId: spec.replication.snowflakeIds ? snowflake[i] : 0,
      runsEtcd: etcdOnMembers && ordinal <= g.etcd.size,
    };
  });
  const etcdMembers: EtcdMember[] = Array.from({ length: g.etcd.size }, (_, i) => {
    const ordinal = i + 1;
    const host = etcdOnMembers ? members[i] : undefined;
    const ip = host ? host.privateIp : plan.dedicatedEtcdIp(ordinal);
    return {
      name: host ? host.name : `${spec.name}-${g.name}-etcd${ordinal}`,
      zone: host ? host.zone : g.zones[plan.memberZoneIndex(ordinal)],
      privateIp: ip,
      hostMember: host ? host.name : '',
      peerUrl: `https://${ip}:${PORTS.etcdPeer}`,
      clientUrl: `https://${ip}:${PORTS.etcdClient}`,
    };
  });
  const timing = ETCD_TIMINGS[g.etcd.latency];
  const loadBalancerIps = g.cloud === Cloud.AWS ? g.zones.map((_, i) => plan.loadBalancerIp(i)) : [plan.loadBalancerIp(0)];
  const dsnHosts = spec.replication.leaderEndpoint === LeaderEndpoint.LOAD_BALANCER ? loadBalancerIps : members.map((m) => m.privateIp);
  return {
    name: g.name,
    number: g.number,
    cloud: g.cloud,
    region: g.region,
    zones: [...g.zones],
    cidr: formatCidr(cidr),
    subnets: g.zones.map((z, i) => ({ zone: z, cidr: formatCidr(plan.zoneBlocks[i]) })),
    image: g.image,
    ...(g.machineImage ? { machineImage: { ...g.machineImage } } : {}),
    machineType: g.machineType,
    dataDisk: { ...g.dataDisk },
    patroniScope: `${spec.name}-${g.name}`,
    replicationNodeName: replicationNodeName(g.name),
    patroniTags: sortedRecord(g.patroniTags),
    members,
    etcd: {
      placement: g.etcd.placement,
      heartbeatIntervalMs: timing.heartbeat,
      electionTimeoutMs: timing.election,
      clusterToken: `${spec.name}-${g.name}-etcd`,
      members: etcdMembers,
      initialCluster: etcdMembers.map((m) => `${m.name}=${m.peerUrl}`).join(','),
      clientHosts: etcdMembers.map((m) => `${m.privateIp}:${PORTS.etcdClient}`),
      machineType: etcdOnMembers ? '' : (g.etcd.machineType ?? ''),
    },
    loadBalancerIps,
    endpointFqdn: `${g.name}.${zone}`,
    leaderDsn: leaderDsn(dsnHosts, spec.postgres.database, ROLES.mesh),
    replicationSets: [GLOBAL_REPLICATION_SET, ...(geoSets.get(g.name) ?? [])],
    meshDocument: `${spec.secrets.namePrefix}mesh-${g.name}`,
    scriptsDocument: `${spec.secrets.namePrefix}scripts-${g.name}`,
    ...(g.extraSecurityGroupIds.length === 0 ? {} : { extraSecurityGroupIds: [...g.extraSecurityGroupIds] }),
    ...(existing ? { existingNetwork: existing } : {}),
    ...(g.restoreFrom ? { restore: resolveGroupRestore(spec.name, g.region, g.restoreFrom, spec.backup.bucketNamePrefix) }
      : withBackup(resolveGroupBackup(spec.name, g.name, g.region, g.backup, spec.backup.bucketNamePrefix))),
  };
}

function withBackup(backup: GroupBackup | undefined): { backup?: GroupBackup } {
  return backup ? { backup } : {};
}

function resolveNetwork(spec: FleetSpec, groups: NodeGroup[]): FleetNetwork {
  const aws = groups.filter((g) => g.cloud === Cloud.AWS);
  const gcp = groups.filter((g) => g.cloud === Cloud.GCP);
  const awsRegions = [...new Set(aws.map((g) => g.region))].sort();
  const bothClouds = aws.length > 0 && gcp.length > 0;
  const peered = spec.network.awsInterRegion === AwsInterRegion.PEERING;
  const zones = spec.network.existingDnsZone;
  const existingDnsZone: ExistingDnsZone = {
    ...(zones.awsHostedZoneId !== undefined ? { awsHostedZoneId: zones.awsHostedZoneId } : {}),
    ...(zones.gcpManagedZone !== undefined ? { gcpManagedZone: zones.gcpManagedZone } : {}),
    ...(zones.gcpProject !== undefined ? { gcpProject: zones.gcpProject } : {}),
  };
  const interconnect = !bothClouds ? 'none' : spec.network.interconnect === Interconnect.HA_VPN ? 'ha-vpn' : 'external';
  // A link's ASN and inside addresses derive from the lowest group number in its AWS region, so adding
  // a region never renumbers (and so never replaces) the tunnels of the others.
  const vpnLinks: VpnLink[] = interconnect !== 'ha-vpn' ? [] : awsRegions.map((awsRegion) => {
    const n = Math.min(...aws.filter((g) => g.region === awsRegion).map((g) => g.number));
    return {
      awsRegion,
      gcpRegion: gcp[0].region,
      gcpAsn: 65000,
      awsAsn: 65000 + n,
      // Inside addresses 169.254.(20+n).(4t)/30 stay clear of the /30s AWS reserves (169.254.0-5.0/30, 169.254.169.252/30).
      // AWS connection c uses the customer gateway of GCP interface c; each connection has tunnels 1 and 2.
      tunnels: [0, 1, 2, 3].map((t) => ({
        gcpInterface: Math.floor(t / 2),
        awsConnection: Math.floor(t / 2),
        awsTunnel: (t % 2) + 1,
        insideCidr: `169.254.${20 + n}.${t * 4}/30`,
      })),
    };
  });
  return {
    fleetCidr: spec.network.fleetCidr,
    clientCidrs: [...spec.network.clientCidrs].sort(),
    fleetCidrs: [...new Set(groups.flatMap(groupCidrs))].sort(),
    privateDnsZone: spec.network.privateDnsZone,
    interconnect,
    // A region whose groups bring their network gets no VPC (DPG-EXISTING-NETWORK: all of a region's groups or none).
    awsVpcs: awsRegions.filter((region) => !aws.some((g) => g.region === region && g.existingNetwork)).map((region) => {
      const inRegion = aws.filter((g) => g.region === region);
      const egressSubnet = planGroupAddresses(parseCidr(inRegion[0].cidr)!, inRegion[0].zones.length).egressSubnet();
      return {
        region,
        cidrs: inRegion.map((g) => g.cidr),
        nodeGroups: inRegion.map((g) => g.name),
        egressSubnetCidr: formatCidr(egressSubnet),
      };
    }),
    gcpSubnetworks: gcp.filter((g) => !g.existingNetwork).map((g) => ({ region: g.region, nodeGroup: g.name, cidr: g.cidr })),
    awsPeerings: peered ? awsRegions.flatMap((a, i) => awsRegions.slice(i + 1).map((b) => ({ requesterRegion: a, accepterRegion: b }))) : [],
    ...(peered ? {} : { awsInterRegion: 'external' as const }),
    vpnLinks,
    ...(Object.keys(existingDnsZone).length ? { existingDnsZone } : {}),
  };
}

function resolveSecrets(prefix: string, tlsCa: TlsCa): SecretNames {
  const names = {
    superuserPassword: `${prefix}postgres-superuser`,
    replicationPassword: `${prefix}postgres-replication`,
    rewindPassword: `${prefix}postgres-rewind`,
    meshPassword: `${prefix}postgres-mesh`,
    restApiPassword: `${prefix}patroni-restapi`,
    tlsCa: `${prefix}tls-ca`,
  };
  return { ...names, tlsCaSource: tlsCa === TlsCa.TERRAFORM ? 'terraform' : 'operator', all: Object.values(names).sort() };
}

/** The topology of a validated spec. Same spec in, deep-equal topology out. */
export function resolveTopology(spec: FleetSpec): Topology {
  const geoshards: Geoshard[] = spec.geoshards.map((s) => ({
    name: s.name,
    nodeGroups: [...s.nodeGroups].sort(),
    replicationSet: `geo_${s.name}`,
    tables: s.tables.map((t) => ({ table: qualify(t.table), partition: qualify(t.partition), values: [...t.values] })),
  }));
  const geoSets = new Map<string, string[]>();
  for (const s of geoshards) {
    for (const g of s.nodeGroups) geoSets.set(g, [...(geoSets.get(g) ?? []), s.replicationSet].sort());
  }
  const groupSpecs = [...spec.nodeGroups].sort(byNumber);
  const nodeGroups = groupSpecs.map((g) => resolveGroup(spec, g, geoSets));
  // A restored group stands apart from the mesh: it neither subscribes nor is subscribed to.
  const meshGroups = nodeGroups.filter((g) => !g.restore);
  const subscriptions: Subscription[] = meshGroups.flatMap((subscriber) => meshGroups
    .filter((provider) => provider.name !== subscriber.name)
    .map((provider) => ({
      name: `sub_${subscriber.replicationNodeName}_${provider.replicationNodeName}`,
      subscriber: subscriber.name,
      provider: provider.name,
      providerDsn: provider.leaderDsn,
      replicationSets: provider.replicationSets.filter((set) => subscriber.replicationSets.includes(set)),
      forwardOrigins: [],
    })))
    .sort((a, b) => a.name.localeCompare(b.name));
  const sync = spec.ha.synchronousMode;
  return {
    schemaVersion: 1,
    fleetName: spec.name,
    postgres: {
      version: spec.postgres.version,
      packageSource: spec.postgres.packageSource,
      binDir: spec.postgres.binDir ?? `/usr/lib/postgresql/${spec.postgres.version}/bin`,
      database: spec.postgres.database,
      port: PORTS.postgres,
      parameters: sortedRecord(spec.postgres.parameters),
      superuser: ROLES.superuser,
      replicationUser: ROLES.replication,
      rewindUser: ROLES.rewind,
      meshUser: ROLES.mesh,
    },
    patroni: {
      ttl: spec.ha.ttl,
      loopWait: spec.ha.loopWait,
      retryTimeout: spec.ha.retryTimeout,
      synchronousMode: sync,
      synchronousNodeCount: sync === SynchronousMode.OFF ? 0 : spec.ha.synchronousStandbys,
      maximumLagOnFailover: spec.ha.maximumLagOnFailoverBytes,
      failsafeMode: spec.ha.failsafeMode,
      restApiPort: PORTS.patroniRest,
      restApiUser: ROLES.restApi,
    },
    replication: {
      engine: spec.replication.engine,
      conflictPolicy: spec.replication.conflictPolicy,
      deltaApplyColumns: spec.replication.deltaApplyColumns.map((c) => ({ table: qualify(c.table), column: c.column })),
      snowflakeIds: spec.replication.snowflakeIds,
      leaderEndpoint: spec.replication.leaderEndpoint,
      globalReplicationSet: GLOBAL_REPLICATION_SET,
      globalTables: spec.replication.globalTables.map(qualify).sort(),
      walRetentionPercent: spec.replication.walRetentionPercent,
      antiEntropyMinutes: spec.replication.antiEntropyMinutes,
      antiEntropyIgnoredColumns: [...spec.replication.antiEntropyIgnoredColumns].sort(),
      maxNodeGroups: spec.replication.maxNodeGroups,
    },
    nodeGroups,
    geoshards,
    subscriptions,
    network: resolveNetwork(spec, nodeGroups),
    secrets: resolveSecrets(spec.secrets.namePrefix, spec.secrets.tlsCa),
    ...resolveGovernance(spec),
    ...resolveEncryption(spec),
    backupBuckets: resolveBackupBuckets(nodeGroups),
    monitoring: {
      enabled: spec.monitoring.enabled,
      postgresExporterPort: PORTS.postgresExporter,
      nodeExporterPort: PORTS.nodeExporter,
      scrapeCidrs: [...new Set(spec.monitoring.scrapeCidrs)].sort(),
      exporterRole: ROLES.exporter,
    },
  };
}

/** Customer-managed keys, only when the declaration names any (a fleet without them keeps the same topology). */
function resolveEncryption(spec: FleetSpec): { encryption?: Encryption } {
  const { awsKmsKeys, gcpDiskKmsKeys, gcpSecretsKmsKeyName } = spec.encryption;
  if (awsKmsKeys.length === 0 && gcpDiskKmsKeys.length === 0 && gcpSecretsKmsKeyName === undefined) return {};
  const byRegion = (keys: { region: string; key: string }[]) => sortedRecord(Object.fromEntries(keys.map((k) => [k.region, k.key])));
  return {
    encryption: {
      awsKmsKeys: byRegion(awsKmsKeys),
      gcpDiskKmsKeys: byRegion(gcpDiskKmsKeys),
      ...(gcpSecretsKmsKeyName === undefined ? {} : { gcpSecretsKmsKeyName }),
    },
  };
}

/** The company's rules, only when the declaration sets any (a fleet without them keeps the same topology). */
function resolveGovernance(spec: FleetSpec): { governance?: Governance } {
  const { awsTags, gcpLabels, permissionsBoundaryArn, iamPath } = spec.governance;
  if (Object.keys(awsTags).length === 0 && Object.keys(gcpLabels).length === 0 && permissionsBoundaryArn === undefined && iamPath === '/') {
    return {};
  }
  return {
    governance: {
      awsTags: sortedRecord(awsTags),
      gcpLabels: sortedRecord(gcpLabels),
      ...(permissionsBoundaryArn === undefined ? {} : { permissionsBoundaryArn }),
      iamPath,
    },
  };
}

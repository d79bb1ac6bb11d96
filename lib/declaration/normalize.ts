/**
 * Applies every default to a declaration, tolerating anything (the declaration may come from
 * JavaScript or another jsii language with wrong types). Type problems become findings, so the
 * validation rules see well-typed values and every problem is reported together.
 */
import {
  Cloud, ConflictPolicy, DistributedPostgresProps, EtcdPlacement, ImageFlavour, Interconnect, LatencyClass,
  LeaderEndpoint, PackageSource, ReplicationEngine, SynchronousMode, TimingProfile,
} from './props';
import { zonesOf } from './regions';

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
  readonly placement: EtcdPlacement;
  readonly machineType: string | undefined;
  readonly latency: LatencyClass;
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
  readonly cidr: string | undefined;
  readonly patroniTags: Record<string, string>;
  readonly snowflakeNodeIds: number[] | undefined;
  readonly etcd: EtcdSpec;
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
  };
  readonly geoshards: GeoshardSpec[];
  readonly network: {
    readonly fleetCidr: string;
    readonly interconnect: Interconnect;
    readonly privateDnsZone: string;
    readonly clientCidrs: string[];
  };
  readonly secrets: { readonly namePrefix: string };
}

export const TIMING_PROFILES: Record<TimingProfile, { ttl: number; loopWait: number; retryTimeout: number }> = {
  [TimingProfile.DEFAULT]: { ttl: 30, loopWait: 10, retryTimeout: 10 },
  [TimingProfile.FAST]: { ttl: 20, loopWait: 2, retryTimeout: 9 },
};

export const DEFAULT_FLEET_CIDR = '10.64.0.0/12';
/** Prefix of the CIDR carved for each node group out of the fleet CIDR. */
export const GROUP_PREFIX = 20;

const DEFAULT_MACHINE: Record<Cloud, string> = { [Cloud.AWS]: 'm6i.large', [Cloud.GCP]: 'n2-standard-2' };
const DEFAULT_ETCD_MACHINE: Record<Cloud, string> = { [Cloud.AWS]: 't3.small', [Cloud.GCP]: 'e2-small' };
const DEFAULT_DISK_TYPE: Record<Cloud, string> = { [Cloud.AWS]: 'gp3', [Cloud.GCP]: 'pd-ssd' };

/**
 * The properties each object of the declaration may have. From JavaScript or through `any`, anything else
 * (a typo such as `memebers`) would otherwise be ignored silently and the default used instead.
 */
const PROPERTIES = {
  props: ['name', 'nodeGroups', 'etcd', 'postgres', 'ha', 'replication', 'geoshards', 'network', 'secrets', 'awsProviders', 'googleProvider'],
  nodeGroup: ['name', 'number', 'cloud', 'region', 'zones', 'members', 'machineType', 'dataDisk', 'image', 'cidr', 'patroniTags', 'snowflakeNodeIds', 'etcd'],
  etcd: ['size', 'placement', 'machineType', 'latency'],
  dataDisk: ['sizeGiB', 'type'],
  postgres: ['version', 'packageSource', 'database', 'parameters'],
  ha: ['synchronousMode', 'synchronousStandbys', 'timingProfile', 'ttl', 'loopWait', 'retryTimeout', 'maximumLagOnFailoverBytes', 'failsafeMode'],
  replication: ['engine', 'conflictPolicy', 'deltaApplyColumns', 'snowflakeIds', 'leaderEndpoint', 'globalTables'],
  deltaApplyColumn: ['table', 'column'],
  geoshard: ['name', 'nodeGroups', 'tables'],
  geoshardTable: ['table', 'partition', 'values'],
  network: ['fleetCidr', 'interconnect', 'privateDnsZone', 'clientCidrs'],
  secrets: ['namePrefix'],
  awsProvider: ['region', 'provider'],
} as const;

/** Edit distance, for "did you mean" hints (names are short). */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}

/** Collects type findings while reading untyped input. */
class Reader {
  readonly findings: Finding[] = [];

  private bad(path: string, expected: string, value: unknown): void {
    this.findings.push({
      rule: 'DPG-TYPE',
      path,
      message: `must be ${expected}, got ${describe(value)}. Fix: give ${expected}.`,
    });
  }

  string(value: unknown, path: string, fallback: string): string {
    if (value === undefined) return fallback;
    if (typeof value === 'string') return value;
    this.bad(path, 'a string', value);
    return fallback;
  }

  number(value: unknown, path: string, fallback: number): number {
    if (value === undefined) return fallback;
    if (typeof value === 'number' && Number.isFinite(value)) return value;
    this.bad(path, 'a finite number', value);
    return fallback;
  }

  boolean(value: unknown, path: string, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value === 'boolean') return value;
    this.bad(path, 'true or false', value);
    return fallback;
  }

  enumValue<T extends string>(value: unknown, values: Record<string, T>, path: string, fallback: T): T {
    if (value === undefined) return fallback;
    const allowed = Object.values(values);
    if (typeof value === 'string' && (allowed as string[]).includes(value)) return value as T;
    this.bad(path, `one of ${allowed.map((v) => `'${v}'`).join(', ')}`, value);
    return fallback;
  }

  array(value: unknown, path: string): unknown[] {
    if (value === undefined) return [];
    if (Array.isArray(value)) return value;
    this.bad(path, 'a list', value);
    return [];
  }

  stringArray(value: unknown, path: string): string[] {
    return this.array(value, path).flatMap((item, i) => {
      if (typeof item === 'string') return [item];
      this.bad(`${path}[${i}]`, 'a string', item);
      return [];
    });
  }

  object(value: unknown, path: string, properties?: readonly string[]): Record<string, unknown> {
    if (value === undefined) return {};
    if (isPlainObject(value)) {
      if (properties) this.unknownProperties(value, path, properties);
      return value;
    }
    this.bad(path, 'an object', value);
    return {};
  }

  private unknownProperties(value: Record<string, unknown>, path: string, properties: readonly string[]): void {
    for (const key of Object.keys(value).filter((k) => !properties.includes(k))) {
      const hint = properties.find((p) => distance(p, key.slice(0, 40)) <= 2);
      this.findings.push({
        rule: 'DPG-TYPE',
        path: path === 'props' ? key.slice(0, 40) : `${path}.${key.slice(0, 40)}`,
        message: `is not a property${path === 'props' ? '' : ` of ${path}`}. Fix: ${hint ? `did you mean '${hint}'? ` : ''}` +
          `remove it, or use one of ${properties.join(', ')}.`,
      });
    }
  }

  /** A provider object given through `any`: duck-typed, so this pure stage needs no cdktf import. */
  provider(value: unknown, path: string, type: 'aws' | 'google', expected: string): void {
    if (value === undefined) return;
    if (isPlainObject(value) && value.terraformResourceType === type) return;
    this.bad(path, expected, value);
  }

  stringMap(value: unknown, path: string): Record<string, string> {
    const result: Record<string, string> = {};
    for (const [key, item] of Object.entries(this.object(value, path))) {
      if (typeof item === 'string') result[key] = item;
      else this.bad(`${path}.${key}`, 'a string', item);
    }
    return result;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '...' : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/** Fills every default. Never throws; type problems are returned as findings. */
export function normalize(input: DistributedPostgresProps, defaultName: string): { spec: FleetSpec; findings: Finding[] } {
  const r = new Reader();
  const props = r.object(input as unknown, 'props', PROPERTIES.props);
  const name = r.string(props.name, 'name', defaultName);

  const replicationIn = r.object(props.replication, 'replication', PROPERTIES.replication);
  const engine = r.enumValue(replicationIn.engine, ReplicationEngine, 'replication.engine', ReplicationEngine.SPOCK);

  const fleetEtcd = r.object(props.etcd, 'etcd', PROPERTIES.etcd);
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
    const etcdIn = { ...fleetEtcd, ...r.object(g.etcd, `${path}.etcd`, PROPERTIES.etcd) };
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
      cidr: g.cidr === undefined ? undefined : r.string(g.cidr, `${path}.cidr`, ''),
      patroniTags: r.stringMap(g.patroniTags, `${path}.patroniTags`),
      snowflakeNodeIds: snowflake,
      etcd: {
        size: r.number(etcdIn.size, `${path}.etcd.size`, 3),
        placement: r.enumValue(etcdIn.placement, EtcdPlacement, `${path}.etcd.placement`, EtcdPlacement.CO_LOCATED),
        machineType: etcdIn.machineType === undefined ? DEFAULT_ETCD_MACHINE[cloud] : r.string(etcdIn.machineType, `${path}.etcd.machineType`, DEFAULT_ETCD_MACHINE[cloud]),
        latency: r.enumValue(etcdIn.latency, LatencyClass, `${path}.etcd.latency`, LatencyClass.IN_REGION),
      },
    };
  });

  const pgIn = r.object(props.postgres, 'postgres', PROPERTIES.postgres);
  const packageSource = r.enumValue(pgIn.packageSource, PackageSource, 'postgres.packageSource',
    engine === ReplicationEngine.SPOCK ? PackageSource.PGEDGE : PackageSource.DISTRO);
  const distroDefault = nodeGroups.some((g) => g.image === ImageFlavour.DEBIAN_12) ? 15 : 16;
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
    },
    geoshards,
    network: {
      fleetCidr: r.string(netIn.fleetCidr, 'network.fleetCidr', DEFAULT_FLEET_CIDR),
      interconnect: r.enumValue(netIn.interconnect, Interconnect, 'network.interconnect', Interconnect.HA_VPN),
      privateDnsZone: r.string(netIn.privateDnsZone, 'network.privateDnsZone', `${name}.db.internal`),
      clientCidrs: r.stringArray(netIn.clientCidrs, 'network.clientCidrs'),
    },
    secrets: { namePrefix: r.string(secretsIn.namePrefix, 'secrets.namePrefix', `${name}-`) },
  };
  return { spec, findings: r.findings };
}

function defaultZones(cloud: Cloud, region: string): string[] {
  // An unknown region gets no zones here; the region rule reports it.
  return (zonesOf(cloud, region) ?? []).slice(0, 3);
}

/**
 * The validation rule table. Each rule is a small pure function of the normalized spec that returns
 * findings; all rules run together so one error lists every problem. Messages say what is wrong and
 * how to fix it.
 */
import { Finding, FleetSpec, GROUP_PREFIX, GroupSpec } from './normalize';
import { formatCidr, isPrivate, overlaps, parseCidr, subnet, Ipv4Cidr } from '../net/cidr';
import { knownRegions, zonesOf } from './regions';
import {
  Cloud, ConflictPolicy, EtcdPlacement, ImageFlavour, PackageSource, ReplicationEngine, SynchronousMode,
} from './props';

export interface Rule {
  readonly id: string;
  /** One line: what the rule protects. */
  readonly description: string;
  readonly check: (spec: FleetSpec) => Finding[];
}

export const PATTERNS = {
  fleetName: /^[a-z]([a-z0-9-]{0,14}[a-z0-9])?$/,
  groupName: /^[a-z]([a-z0-9-]{0,18}[a-z0-9])?$/,
  geoshardName: /^[a-z][a-z0-9_]{0,19}$/,
  identifier: /^[a-z_][a-z0-9_]{0,62}$/,
  table: /^([a-z_][a-z0-9_]{0,62}\.)?[a-z_][a-z0-9_]{0,62}$/,
  parameterName: /^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/,
  parameterValue: /^[A-Za-z0-9_.,:/ *+%=@-]{0,256}$/,
  partitionValue: /^[A-Za-z0-9_ .-]{1,63}$/,
  tagKey: /^[a-z_][a-z0-9_]{0,30}$/,
  tagValue: /^[A-Za-z0-9_.-]{0,64}$/,
  machineType: /^[a-z0-9][a-z0-9.-]{1,40}$/,
  diskType: /^[a-z0-9][a-z0-9-]{1,19}$/,
  dnsZone: /^(?=.{1,200}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/,
  secretPrefix: /^[A-Za-z][A-Za-z0-9_-]{0,40}$/,
};

/** postgresql.conf parameters the library sets for Patroni and replication; users cannot override them. */
export const MANAGED_PARAMETERS = [
  'data_directory', 'hba_file', 'hot_standby', 'hot_standby_feedback', 'listen_addresses', 'max_replication_slots',
  'max_wal_senders', 'max_worker_processes', 'output_plugin_libraries', 'port', 'shared_preload_libraries',
  'ssl', 'ssl_ca_file', 'ssl_cert_file', 'ssl_key_file', 'synchronous_commit', 'synchronous_standby_names',
  'track_commit_timestamp', 'wal_level', 'wal_log_hints', 'snowflake.node', 'spock.conflict_resolution',
  'pglogical.conflict_resolution', 'password_encryption', 'cluster_name',
];

/**
 * PostgreSQL's reserved key words (including those allowed only as function or type names): unquoted, they
 * cannot name a table, column, schema or database, so a rendered statement using one fails at boot.
 */
export const RESERVED_WORDS = new Set([
  'all', 'analyse', 'analyze', 'and', 'any', 'array', 'as', 'asc', 'asymmetric', 'authorization', 'binary', 'both', 'case',
  'cast', 'check', 'collate', 'collation', 'column', 'concurrently', 'constraint', 'create', 'cross', 'current_catalog',
  'current_date', 'current_role', 'current_schema', 'current_time', 'current_timestamp', 'current_user', 'default',
  'deferrable', 'desc', 'distinct', 'do', 'else', 'end', 'except', 'false', 'fetch', 'for', 'foreign', 'freeze', 'from',
  'full', 'grant', 'group', 'having', 'ilike', 'in', 'initially', 'inner', 'intersect', 'into', 'is', 'isnull', 'join',
  'lateral', 'leading', 'left', 'like', 'limit', 'localtime', 'localtimestamp', 'natural', 'not', 'notnull', 'null',
  'offset', 'on', 'only', 'or', 'order', 'outer', 'overlaps', 'placing', 'primary', 'references', 'returning', 'right',
  'select', 'session_user', 'similar', 'some', 'symmetric', 'system_user', 'table', 'tablesample', 'then', 'to',
  'trailing', 'true', 'union', 'unique', 'user', 'using', 'variadic', 'verbose', 'when', 'where', 'window', 'with',
]);

/** Databases every cluster has (Patroni and the tools use them): the replicated application database must be another. */
const SYSTEM_DATABASES = ['postgres', 'template0', 'template1'];

const MAX_MEMBERS = 9;
const MAX_ZONES = 8;
/** The smallest group CIDR: 8 zone blocks of /26, room for members (offset 10+), dedicated etcd (30+) and the load balancer (5). */
const MIN_GROUP_PREFIX = 23;

function f(rule: string, path: string, message: string): Finding {
  return { rule, path, message };
}

function isInt(n: number, min: number, max: number): boolean {
  return Number.isInteger(n) && n >= min && n <= max;
}

function duplicates(values: string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const v of values) (seen.has(v) ? dup : seen).add(v);
  return [...dup];
}

/** The CIDR a group ends up with (explicit or carved), or undefined when it cannot be had. */
export function groupCidr(spec: FleetSpec, group: GroupSpec): Ipv4Cidr | undefined {
  if (group.cidr !== undefined) return parseCidr(group.cidr);
  const fleet = parseCidr(spec.network.fleetCidr);
  if (!fleet || !Number.isInteger(group.number) || group.number < 1) return undefined;
  return subnet(fleet, GROUP_PREFIX, group.number - 1);
}

/** What each package source can install, per image: PostgreSQL majors, and the engines it ships. */
export function packageProblems(source: PackageSource, image: ImageFlavour, version: number, engine: ReplicationEngine): string[] {
  const problems: string[] = [];
  if (source === PackageSource.DISTRO) {
    const shipped = image === ImageFlavour.DEBIAN_12 ? 15 : 16;
    const patroni = image === ImageFlavour.DEBIAN_12 ? 'Patroni 3.0.2' : 'Patroni 3.2.2';
    if (version !== shipped) {
      problems.push(`${image} ships only PostgreSQL ${shipped} (and ${patroni}, which supports PostgreSQL <= ${shipped}); ` +
        `PostgreSQL ${version} is not available from its distro packages. Fix: set postgres.version to ${shipped}, or packageSource to 'pgdg'.`);
    }
  }
  if (source === PackageSource.PGDG && !isInt(version, 13, 18)) {
    problems.push(`the PGDG repository ships PostgreSQL 13 to 18, not ${version}. Fix: choose a version in 13..18.`);
  }
  // pgEdge Enterprise Postgres packages: Spock 5.0.4 is supported on PG 16, 17 and 18 (docs.pgedge.com, "Upgrading Spock").
  if (source === PackageSource.PGEDGE && !isInt(version, 16, 18)) {
    problems.push(`pgEdge's Enterprise Postgres packages (Spock 5) support PostgreSQL 16 to 18, not ${version}. Fix: choose a version in 16..18.`);
  }
  if (engine === ReplicationEngine.SPOCK && source !== PackageSource.PGEDGE) {
    problems.push(`Spock needs pgEdge's patched PostgreSQL, but packageSource is '${source}'. ` +
      "Fix: set postgres.packageSource to 'pgedge', or use replication.engine 'pglogical'.");
  }
  if (engine === ReplicationEngine.PGLOGICAL && source === PackageSource.PGEDGE) {
    problems.push("pgEdge's repository ships Spock, not pglogical. Fix: use engine 'spock' with pgEdge, or packageSource 'distro'/'pgdg' for pglogical.");
  }
  if (engine === ReplicationEngine.PGLOGICAL && source === PackageSource.PGDG && version > 17) {
    problems.push(`pglogical 2 is packaged for PostgreSQL up to 17, not ${version}. Fix: use PostgreSQL 17 or lower, or engine 'spock'.`);
  }
  if (engine === ReplicationEngine.NATIVE && version < 16) {
    problems.push(`native multi-master replication needs PostgreSQL 16 or later (origin = none), not ${version}. ` +
      'Fix: set postgres.version to 16 or later (on Debian 12 use packageSource \'pgdg\').');
  }
  return problems;
}

export const RULES: Rule[] = [
  {
    id: 'DPG-NAME',
    description: 'Fleet, node group and geoshard names are DNS labels / identifiers and unique.',
    check: (spec) => {
      const out: Finding[] = [];
      if (!PATTERNS.fleetName.test(spec.name)) {
        out.push(f('DPG-NAME', 'name', `'${spec.name}' is not a valid fleet name. Fix: use 1-16 lower-case letters, digits or '-', starting with a letter (it prefixes machine and secret names).`));
      }
      for (const g of spec.nodeGroups) {
        if (!PATTERNS.groupName.test(g.name)) {
          out.push(f('DPG-NAME', `${g.path}.name`, `'${g.name}' is not a valid node group name. Fix: use 1-20 lower-case letters, digits or '-', starting with a letter.`));
        }
      }
      for (const d of duplicates(spec.nodeGroups.map((g) => g.name))) {
        out.push(f('DPG-NAME', 'nodeGroups', `node group name '${d}' is used more than once. Fix: give every node group its own name.`));
      }
      for (const s of spec.geoshards) {
        if (!PATTERNS.geoshardName.test(s.name)) {
          out.push(f('DPG-NAME', `${s.path}.name`, `'${s.name}' is not a valid geoshard name. Fix: use 1-20 lower-case letters, digits or '_', starting with a letter.`));
        }
      }
      for (const d of duplicates(spec.geoshards.map((s) => s.name))) {
        out.push(f('DPG-NAME', 'geoshards', `geoshard name '${d}' is used more than once. Fix: give every geography its own name.`));
      }
      return out;
    },
  },
  {
    id: 'DPG-GROUPS',
    description: 'At least one node group; numbers unique in 1..100.',
    check: (spec) => {
      const out: Finding[] = [];
      if (spec.nodeGroups.length === 0) {
        out.push(f('DPG-GROUPS', 'nodeGroups', 'is empty. Fix: declare at least one node group.'));
      }
      for (const g of spec.nodeGroups) {
        if (!isInt(g.number, 1, 100)) {
          out.push(f('DPG-GROUPS', `${g.path}.number`, `${g.number} is not a whole number in 1..100. Fix: give a stable number between 1 and 100.`));
        }
      }
      for (const d of duplicates(spec.nodeGroups.map((g) => String(g.number)))) {
        out.push(f('DPG-GROUPS', 'nodeGroups', `node group number ${d} is used more than once. Fix: give every node group its own number (it picks the group's CIDR and ids).`));
      }
      return out;
    },
  },
  {
    id: 'DPG-REGION',
    description: 'Regions exist in the cloud; zones belong to the region, are distinct, and there are enough of them.',
    check: (spec) => spec.nodeGroups.flatMap((g) => {
      const known = zonesOf(g.cloud, g.region);
      if (!known) {
        const list = knownRegions(g.cloud);
        const hint = list.filter((r) => r.split('-')[0] === g.region.split('-')[0]).slice(0, 6);
        return [f('DPG-REGION', `${g.path}.region`, `'${g.region}' is not ${g.cloud === Cloud.AWS ? 'an AWS' : 'a GCP'} region this library knows. ` +
          `Fix: use one of ${(hint.length ? hint : list.slice(0, 6)).join(', ')}${list.length > 6 ? ', ...' : ''}.`)];
      }
      const out: Finding[] = [];
      if (g.zones.length === 0) {
        out.push(f('DPG-REGION', `${g.path}.zones`, 'is empty. Fix: list at least one zone, or leave zones out for the region\'s first three.'));
      }
      if (g.zones.length > MAX_ZONES) {
        out.push(f('DPG-REGION', `${g.path}.zones`, `lists ${g.zones.length} zones; at most ${MAX_ZONES} are supported. Fix: list fewer zones.`));
      }
      for (const z of g.zones.filter((zone) => !known.includes(zone))) {
        out.push(f('DPG-REGION', `${g.path}.zones`, `'${z}' is not a zone of ${g.region}. Fix: use zones of ${g.region}: ${known.join(', ')}.`));
      }
      for (const d of duplicates(g.zones)) {
        out.push(f('DPG-REGION', `${g.path}.zones`, `zone '${d}' is listed twice. Fix: list each zone once.`));
      }
      return out;
    }),
  },
  {
    id: 'DPG-IMAGE',
    description: 'GCP node groups use an image that runs cloud-init.',
    check: (spec) => spec.nodeGroups
      .filter((g) => g.cloud === Cloud.GCP && g.image === ImageFlavour.DEBIAN_12)
      .map((g) => f('DPG-IMAGE', `${g.path}.image`, "Debian 12 images on GCP do not run cloud-init, so the member would never configure itself. Fix: use image 'ubuntu-24.04' on GCP.")),
  },
  {
    id: 'DPG-MEMBERS',
    description: 'Member count, machine types and data disks are sane.',
    check: (spec) => spec.nodeGroups.flatMap((g) => {
      const out: Finding[] = [];
      if (!isInt(g.members, 1, MAX_MEMBERS)) {
        out.push(f('DPG-MEMBERS', `${g.path}.members`, `${g.members} is not a whole number in 1..${MAX_MEMBERS}. Fix: use 3 (a primary and two standbys) unless you have a reason.`));
      }
      if (!PATTERNS.machineType.test(g.machineType)) {
        out.push(f('DPG-MEMBERS', `${g.path}.machineType`, `'${g.machineType}' is not a machine type name. Fix: use e.g. 'm6i.large' (AWS) or 'n2-standard-2' (GCP).`));
      }
      if (g.etcd.machineType !== undefined && !PATTERNS.machineType.test(g.etcd.machineType)) {
        out.push(f('DPG-MEMBERS', `${g.path}.etcd.machineType`, `'${g.etcd.machineType}' is not a machine type name. Fix: use e.g. 't3.small' (AWS) or 'e2-small' (GCP).`));
      }
      if (!isInt(g.dataDisk.sizeGiB, 10, 65536)) {
        out.push(f('DPG-MEMBERS', `${g.path}.dataDisk.sizeGiB`, `${g.dataDisk.sizeGiB} is not a whole number of GiB in 10..65536. Fix: give the data disk size in GiB.`));
      }
      if (!PATTERNS.diskType.test(g.dataDisk.type)) {
        out.push(f('DPG-MEMBERS', `${g.path}.dataDisk.type`, `'${g.dataDisk.type}' is not a disk type. Fix: use e.g. 'gp3' (AWS) or 'pd-ssd' (GCP).`));
      }
      for (const [key, value] of Object.entries(g.patroniTags)) {
        if (!PATTERNS.tagKey.test(key) || !PATTERNS.tagValue.test(value)) {
          out.push(f('DPG-MEMBERS', `${g.path}.patroniTags.${key}`, 'Patroni tag keys must be lower-case identifiers and values letters, digits, \'_\', \'.\' or \'-\'. Fix: rename the tag or its value.'));
        }
      }
      return out;
    }),
  },
  {
    id: 'DPG-ETCD-SIZE',
    description: 'An etcd quorum is odd-sized: 3 or 5 members.',
    check: (spec) => spec.nodeGroups
      .filter((g) => g.etcd.size !== 3 && g.etcd.size !== 5)
      .map((g) => f('DPG-ETCD-SIZE', `${g.path}.etcd.size`,
        `${g.etcd.size} etcd members ${g.etcd.size % 2 === 0 ? 'is an even quorum (it tolerates no more failures than one member fewer)' : 'cannot give a fault-tolerant quorum'}. Fix: use 3 or 5.`)),
  },
  {
    id: 'DPG-ETCD-SPREAD',
    description: 'The etcd quorum survives the loss of any one zone.',
    check: (spec) => spec.nodeGroups.flatMap((g) => {
      const size = g.etcd.size;
      const zones = new Set(g.zones).size;
      if ((size !== 3 && size !== 5) || zones === 0) return [];
      const perZone = Math.ceil(size / zones);
      const tolerated = Math.floor((size - 1) / 2);
      if (perZone <= tolerated) return [];
      return [f('DPG-ETCD-SPREAD', `${g.path}.zones`,
        `${size} etcd members over ${zones} zone(s) puts ${perZone} in one zone; losing that zone loses the quorum (it tolerates ${tolerated}). ` +
        `Fix: give at least 3 zones.`)];
    }),
  },
  {
    id: 'DPG-ETCD-COLOCATED',
    description: 'A co-located etcd quorum has a Postgres member for each etcd member.',
    check: (spec) => spec.nodeGroups
      .filter((g) => g.etcd.placement === EtcdPlacement.CO_LOCATED && Number.isInteger(g.members) && g.etcd.size > g.members)
      .map((g) => f('DPG-ETCD-COLOCATED', `${g.path}.etcd`,
        `a co-located etcd quorum of ${g.etcd.size} needs ${g.etcd.size} Postgres members, but the group has ${g.members}. ` +
        "Fix: raise members, lower etcd.size, or set etcd.placement to 'dedicated'.")),
  },
  {
    id: 'DPG-CIDR',
    description: 'CIDRs are private, large enough for the members, and overlap nowhere in the fleet.',
    check: (spec) => {
      const out: Finding[] = [];
      const fleet = parseCidr(spec.network.fleetCidr);
      if (!fleet) {
        out.push(f('DPG-CIDR', 'network.fleetCidr', `'${spec.network.fleetCidr}' is not an IPv4 CIDR (network address with no host bits). Fix: use e.g. 10.64.0.0/12.`));
      } else if (!isPrivate(fleet)) {
        out.push(f('DPG-CIDR', 'network.fleetCidr', `${spec.network.fleetCidr} is not a private (RFC 1918) range. Fix: use a range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16.`));
      }
      const placed: { path: string; cidr: Ipv4Cidr }[] = [];
      for (const g of spec.nodeGroups) {
        if (g.cidr !== undefined) {
          const cidr = parseCidr(g.cidr);
          if (!cidr) {
            out.push(f('DPG-CIDR', `${g.path}.cidr`, `'${g.cidr}' is not an IPv4 CIDR (network address with no host bits). Fix: use e.g. 10.64.16.0/20.`));
            continue;
          }
          if (!isPrivate(cidr)) {
            out.push(f('DPG-CIDR', `${g.path}.cidr`, `${g.cidr} is not a private (RFC 1918) range. Fix: use a private range.`));
          }
          if (cidr.prefix > MIN_GROUP_PREFIX) {
            out.push(f('DPG-CIDR', `${g.path}.cidr`, `${g.cidr} is too small for the member plan (one block per zone for members, etcd and the load balancer). Fix: use a /${MIN_GROUP_PREFIX} or larger.`));
          }
          placed.push({ path: `${g.path}.cidr`, cidr });
        } else if (fleet && isInt(g.number, 1, 100)) {
          const carved = subnet(fleet, GROUP_PREFIX, g.number - 1);
          if (!carved) {
            out.push(f('DPG-CIDR', `${g.path}.cidr`, `the fleet CIDR ${spec.network.fleetCidr} holds only ${2 ** Math.max(0, GROUP_PREFIX - fleet.prefix)} node group(s) of /${GROUP_PREFIX}, not number ${g.number}. ` +
              'Fix: widen network.fleetCidr or give the group an explicit cidr.'));
          } else {
            placed.push({ path: `${g.path} (carved ${formatCidr(carved)})`, cidr: carved });
          }
        }
      }
      for (let i = 0; i < placed.length; i++) {
        for (let j = i + 1; j < placed.length; j++) {
          if (overlaps(placed[i].cidr, placed[j].cidr)) {
            out.push(f('DPG-CIDR', placed[j].path, `${formatCidr(placed[j].cidr)} overlaps ${formatCidr(placed[i].cidr)} of ${placed[i].path}. Fix: give every node group its own, non-overlapping CIDR.`));
          }
        }
      }
      spec.network.clientCidrs.forEach((text, i) => {
        const cidr = parseCidr(text);
        if (!cidr) {
          out.push(f('DPG-CIDR', `network.clientCidrs[${i}]`, `'${text}' is not an IPv4 CIDR. Fix: give the applications' private range, e.g. 10.20.0.0/16.`));
        } else if (!isPrivate(cidr)) {
          out.push(f('DPG-CIDR', `network.clientCidrs[${i}]`, `${text} is not a private range; the database must never be reachable from the internet. Fix: list only private application ranges.`));
        }
      });
      return out;
    },
  },
  {
    id: 'DPG-SYNC',
    description: 'Synchronous replication never blocks commits when one standby is lost.',
    check: (spec) => {
      const { synchronousMode, synchronousStandbys } = spec.ha;
      if (synchronousMode === SynchronousMode.OFF) return [];
      const out: Finding[] = [];
      if (!isInt(synchronousStandbys, 1, MAX_MEMBERS)) {
        out.push(f('DPG-SYNC', 'ha.synchronousStandbys', `${synchronousStandbys} is not a whole number of at least 1. Fix: use 1.`));
        return out;
      }
      for (const g of spec.nodeGroups.filter((group) => Number.isInteger(group.members))) {
        const standbys = g.members - 1;
        if (synchronousStandbys > standbys - 1) {
          out.push(f('DPG-SYNC', `${g.path}.members`,
            `${synchronousStandbys} synchronous standby(s) out of ${standbys} standby(s): losing one standby would block or degrade commits. ` +
            `Fix: use ha.synchronousStandbys <= ${Math.max(0, standbys - 1)} with at least ${synchronousStandbys + 2} members, or set ha.synchronousMode to 'off'.`));
        }
      }
      return out;
    },
  },
  {
    id: 'DPG-PATRONI-TIMING',
    description: 'Patroni timing keeps loop_wait + 2 * retry_timeout <= ttl and the documented minimums.',
    check: (spec) => {
      const { ttl, loopWait, retryTimeout, maximumLagOnFailoverBytes } = spec.ha;
      const out: Finding[] = [];
      if (!isInt(ttl, 20, 3600)) out.push(f('DPG-PATRONI-TIMING', 'ha.ttl', `${ttl} is below Patroni's minimum ttl of 20 s (or not a whole number). Fix: use ttl >= 20, or timingProfile 'fast'.`));
      if (!isInt(loopWait, 1, 3600)) out.push(f('DPG-PATRONI-TIMING', 'ha.loopWait', `${loopWait} is not a whole number of seconds >= 1. Fix: use loopWait >= 1.`));
      if (!isInt(retryTimeout, 3, 3600)) out.push(f('DPG-PATRONI-TIMING', 'ha.retryTimeout', `${retryTimeout} is below Patroni's minimum retry_timeout of 3 s (or not a whole number). Fix: use retryTimeout >= 3.`));
      if (loopWait + 2 * retryTimeout > ttl) {
        out.push(f('DPG-PATRONI-TIMING', 'ha', `loop_wait ${loopWait} + 2 x retry_timeout ${retryTimeout} = ${loopWait + 2 * retryTimeout} exceeds ttl ${ttl}: ` +
          'the leader key could expire while a healthy leader is still retrying. Fix: keep loopWait + 2 * retryTimeout <= ttl (e.g. 20 / 2 / 9).'));
      }
      if (!isInt(maximumLagOnFailoverBytes, 0, Number.MAX_SAFE_INTEGER)) {
        out.push(f('DPG-PATRONI-TIMING', 'ha.maximumLagOnFailoverBytes', `${maximumLagOnFailoverBytes} is not a whole number of bytes >= 0. Fix: use e.g. 1048576.`));
      }
      return out;
    },
  },
  {
    id: 'DPG-PACKAGES',
    description: 'The engine, PostgreSQL version, package source and image can be installed together.',
    check: (spec) => {
      const { version, packageSource } = spec.postgres;
      const { engine } = spec.replication;
      const images = [...new Set(spec.nodeGroups.map((g) => g.image))].sort();
      const seen = new Set<string>();
      const out: Finding[] = [];
      for (const image of images.length ? images : [ImageFlavour.UBUNTU_24_04]) {
        for (const problem of packageProblems(packageSource, image, version, engine)) {
          if (seen.has(problem)) continue;
          seen.add(problem);
          out.push(f('DPG-PACKAGES', 'postgres', problem));
        }
      }
      return out;
    },
  },
  {
    id: 'DPG-CONFLICTS',
    description: 'The conflict policy, delta-apply columns and snowflake ids fit the engine.',
    check: (spec) => {
      const { engine, conflictPolicy, deltaApplyColumns, snowflakeIds } = spec.replication;
      const out: Finding[] = [];
      if (engine === ReplicationEngine.SPOCK && conflictPolicy !== ConflictPolicy.LAST_UPDATE_WINS) {
        out.push(f('DPG-CONFLICTS', 'replication.conflictPolicy', `Spock resolves conflicts only with last_update_wins, not '${conflictPolicy}'. Fix: use ConflictPolicy.LAST_UPDATE_WINS.`));
      }
      if (engine === ReplicationEngine.PGLOGICAL && conflictPolicy === ConflictPolicy.ERROR) {
        out.push(f('DPG-CONFLICTS', 'replication.conflictPolicy', "pglogical's 'error' policy stops replication at the first conflict. Fix: use last_update_wins."));
      }
      if (engine === ReplicationEngine.NATIVE && conflictPolicy !== ConflictPolicy.ERROR) {
        out.push(f('DPG-CONFLICTS', 'replication.conflictPolicy', `native logical replication has no conflict resolution, so '${conflictPolicy}' cannot be honoured. ` +
          "Fix: use ConflictPolicy.ERROR (and write each row in one node group only), or engine 'spock'."));
      }
      if (deltaApplyColumns.length > 0 && engine !== ReplicationEngine.SPOCK) {
        out.push(f('DPG-CONFLICTS', 'replication.deltaApplyColumns', `delta-apply columns are a Spock feature, not available with '${engine}'. Fix: remove them or use engine 'spock'.`));
      }
      deltaApplyColumns.forEach((c, i) => {
        if (!PATTERNS.table.test(c.table) || !PATTERNS.identifier.test(c.column)) {
          out.push(f('DPG-CONFLICTS', `replication.deltaApplyColumns[${i}]`, `'${c.table}'.'${c.column}' is not a plain lower-case table and column name. Fix: use [schema.]table and column of lower-case letters, digits and '_'.`));
        }
      });
      if (snowflakeIds && engine !== ReplicationEngine.SPOCK) {
        out.push(f('DPG-CONFLICTS', 'replication.snowflakeIds', `snowflake ids come from pgEdge's snowflake extension, available with Spock only, not '${engine}'. Fix: set snowflakeIds to false or use engine 'spock'.`));
      }
      return out;
    },
  },
  {
    id: 'DPG-SNOWFLAKE',
    description: 'Snowflake node ids are 1..1023, one per member and unique in the fleet.',
    check: (spec) => {
      if (!spec.replication.snowflakeIds) return [];
      const out: Finding[] = [];
      const owners = new Map<number, string>();
      for (const g of spec.nodeGroups) {
        // DPG-MEMBERS reports a bad count; deriving ids for, say, 1e9 members would exhaust memory.
        if (!isInt(g.members, 1, MAX_MEMBERS)) continue;
        const ids = snowflakeIdsOf(g);
        if (g.snowflakeNodeIds !== undefined && g.snowflakeNodeIds.length !== g.members) {
          out.push(f('DPG-SNOWFLAKE', `${g.path}.snowflakeNodeIds`, `lists ${g.snowflakeNodeIds.length} id(s) for ${g.members} member(s). Fix: give exactly one id per member.`));
          continue;
        }
        ids.forEach((id, i) => {
          if (!isInt(id, 1, 1023)) {
            out.push(f('DPG-SNOWFLAKE', `${g.path}.snowflakeNodeIds`, `member ${i + 1} gets snowflake id ${id}, outside 1..1023. ` +
              `Fix: ${g.snowflakeNodeIds ? 'use ids in 1..1023' : 'give snowflakeNodeIds explicitly, or a lower node group number'}.`));
          } else if (owners.has(id)) {
            out.push(f('DPG-SNOWFLAKE', `${g.path}.snowflakeNodeIds`, `snowflake id ${id} of member ${i + 1} is also used by ${owners.get(id)}; ids must be unique in the fleet. Fix: give unique ids.`));
          } else {
            owners.set(id, `${g.name} member ${i + 1}`);
          }
        });
      }
      return out;
    },
  },
  {
    id: 'DPG-GEOSHARD',
    description: 'Geoshards name existing node groups, own their partitions alone, and never leak into the global set.',
    check: (spec) => {
      const out: Finding[] = [];
      const groups = new Set(spec.nodeGroups.map((g) => g.name));
      const global = new Set(spec.replication.globalTables.map(qualify));
      const partitionOwner = new Map<string, string>();
      const valueOwner = new Map<string, string>();
      for (const s of spec.geoshards) {
        if (s.nodeGroups.length === 0) {
          out.push(f('DPG-GEOSHARD', `${s.path}.nodeGroups`, 'is empty: a geography with no node group would hold its rows nowhere. Fix: list the node groups inside the geography.'));
        }
        for (const name of s.nodeGroups.filter((n) => !groups.has(n))) {
          out.push(f('DPG-GEOSHARD', `${s.path}.nodeGroups`, `'${name}' is not a node group of this fleet. Fix: use one of ${[...groups].join(', ') || '(none declared)'}.`));
        }
        for (const d of duplicates(s.nodeGroups)) {
          out.push(f('DPG-GEOSHARD', `${s.path}.nodeGroups`, `'${d}' is listed twice. Fix: list each node group once.`));
        }
        if (s.tables.length === 0) {
          out.push(f('DPG-GEOSHARD', `${s.path}.tables`, 'is empty. Fix: list the partitions that must stay inside the geography.'));
        }
        s.tables.forEach((t, i) => {
          const path = `${s.path}.tables[${i}]`;
          if (!PATTERNS.table.test(t.table) || !PATTERNS.table.test(t.partition)) {
            out.push(f('DPG-GEOSHARD', path, `'${t.table}' / '${t.partition}' are not plain lower-case table names. Fix: use [schema.]name of lower-case letters, digits and '_'.`));
            return;
          }
          if (qualify(t.table) === qualify(t.partition)) {
            out.push(f('DPG-GEOSHARD', path, `the partition '${t.partition}' is the parent table itself. Fix: name the partition that holds the geography's rows.`));
          }
          if (t.values.length === 0) {
            out.push(f('DPG-GEOSHARD', `${path}.values`, 'is empty. Fix: list the partition key values of this geography, e.g. [\'eu\'].'));
          }
          for (const d of duplicates(t.values)) {
            out.push(f('DPG-GEOSHARD', `${path}.values`, `value '${d}' is listed twice. Fix: list each value once.`));
          }
          for (const v of t.values.filter((value) => !PATTERNS.partitionValue.test(value))) {
            out.push(f('DPG-GEOSHARD', `${path}.values`, `${JSON.stringify(v)} is not a plain partition value. Fix: use 1-63 letters, digits, ' ', '.', '_' or '-'.`));
          }
          const partition = qualify(t.partition);
          const owner = partitionOwner.get(partition);
          if (owner !== undefined && owner !== s.name) {
            out.push(f('DPG-GEOSHARD', path, `partition '${t.partition}' is in geoshards '${owner}' and '${s.name}'; a partition belongs to one geography. Fix: keep it in one geoshard.`));
          }
          partitionOwner.set(partition, s.name);
          for (const v of t.values) {
            const key = `${qualify(t.table)}=${v}`;
            const valueShard = valueOwner.get(key);
            if (valueShard !== undefined && valueShard !== s.name) {
              out.push(f('DPG-GEOSHARD', `${path}.values`, `value '${v}' of '${t.table}' belongs to geoshards '${valueShard}' and '${s.name}'. Fix: give each value to one geography.`));
            }
            valueOwner.set(key, s.name);
          }
          if (global.has(qualify(t.table)) || global.has(partition)) {
            out.push(f('DPG-GEOSHARD', path, `'${global.has(partition) ? t.partition : t.table}' is also a global table, so its rows would replicate outside '${s.name}'. ` +
              'Fix: remove it from replication.globalTables.'));
          }
        });
      }
      return out;
    },
  },
  {
    id: 'DPG-POSTGRES',
    description: 'Database, table and parameter names and values are safe to render into SQL, YAML and shell.',
    check: (spec) => {
      const out: Finding[] = [];
      if (!PATTERNS.identifier.test(spec.postgres.database)) {
        out.push(f('DPG-POSTGRES', 'postgres.database', `'${spec.postgres.database}' is not a plain lower-case database name. Fix: use lower-case letters, digits and '_', starting with a letter.`));
      } else if (SYSTEM_DATABASES.includes(spec.postgres.database)) {
        out.push(f('DPG-POSTGRES', 'postgres.database', `'${spec.postgres.database}' is a system database of every cluster, not the application database to replicate. Fix: name the application database, e.g. app.`));
      }
      const names: [string, string][] = [
        ['postgres.database', spec.postgres.database],
        ...spec.replication.globalTables.map((t, i): [string, string] => [`replication.globalTables[${i}]`, t]),
        ...spec.replication.deltaApplyColumns.flatMap((c, i): [string, string][] => [[`replication.deltaApplyColumns[${i}]`, c.table], [`replication.deltaApplyColumns[${i}]`, c.column]]),
        ...spec.geoshards.flatMap((s) => s.tables.flatMap((t, i): [string, string][] => [[`${s.path}.tables[${i}]`, t.table], [`${s.path}.tables[${i}]`, t.partition]])),
      ];
      for (const [path, name] of names) {
        const reserved = name.split('.').find((part) => RESERVED_WORDS.has(part));
        if (reserved !== undefined) {
          out.push(f('DPG-POSTGRES', path, `'${name}' uses the reserved word '${reserved}', which PostgreSQL does not accept as a name without quotes. Fix: choose another name (e.g. '${reserved}s' or '${reserved}_').`));
        }
      }
      for (const [name, value] of Object.entries(spec.postgres.parameters)) {
        if (!PATTERNS.parameterName.test(name)) {
          out.push(f('DPG-POSTGRES', `postgres.parameters.${name}`, `'${name}' is not a postgresql.conf parameter name. Fix: use the lower-case parameter name, e.g. work_mem.`));
        } else if (MANAGED_PARAMETERS.includes(name)) {
          out.push(f('DPG-POSTGRES', `postgres.parameters.${name}`, `'${name}' is managed by the library for Patroni and replication. Fix: remove it from postgres.parameters.`));
        }
        if (!PATTERNS.parameterValue.test(value)) {
          out.push(f('DPG-POSTGRES', `postgres.parameters.${name}`, `the value ${JSON.stringify(value)} contains characters that are not allowed (quotes, ';', '\\', newlines). Fix: give a plain value such as 64MB or on.`));
        }
      }
      spec.replication.globalTables.forEach((t, i) => {
        if (!PATTERNS.table.test(t)) {
          out.push(f('DPG-POSTGRES', `replication.globalTables[${i}]`, `'${t}' is not a plain lower-case table name. Fix: use [schema.]name of lower-case letters, digits and '_'.`));
        }
      });
      for (const d of duplicates(spec.replication.globalTables.map(qualify))) {
        out.push(f('DPG-POSTGRES', 'replication.globalTables', `'${d}' is listed twice. Fix: list each table once.`));
      }
      return out;
    },
  },
  {
    id: 'DPG-NETWORK',
    description: 'The DNS zone and secret names are valid.',
    check: (spec) => {
      const out: Finding[] = [];
      if (!PATTERNS.dnsZone.test(spec.network.privateDnsZone)) {
        out.push(f('DPG-NETWORK', 'network.privateDnsZone', `'${spec.network.privateDnsZone}' is not a DNS zone name. Fix: use lower-case labels joined by '.', e.g. ledger.db.internal.`));
      }
      if (!PATTERNS.secretPrefix.test(spec.secrets.namePrefix)) {
        out.push(f('DPG-NETWORK', 'secrets.namePrefix', `'${spec.secrets.namePrefix}' cannot prefix secret names in both clouds. Fix: use letters, digits, '-' or '_', starting with a letter.`));
      }
      return out;
    },
  },
];

/** `t` -> `public.t`; schema-qualified names unchanged. */
export function qualify(table: string): string {
  return table.includes('.') ? table : `public.${table}`;
}

/** The snowflake ids of a group's members: explicit, or derived from the group number. */
export function snowflakeIdsOf(group: GroupSpec): number[] {
  if (group.snowflakeNodeIds !== undefined) return group.snowflakeNodeIds;
  return Array.from({ length: Math.max(0, group.members) }, (_, i) => (group.number - 1) * 10 + i + 1);
}

/** Runs every rule; a rule that fails on odd input reports itself rather than hiding the others. */
export function runRules(spec: FleetSpec, rules: Rule[] = RULES): Finding[] {
  return rules.flatMap((rule) => {
    try {
      return rule.check(spec);
    } catch (e) {
      return [f(rule.id, '(declaration)', `could not be checked (${e instanceof Error ? e.message : String(e)}). Fix: correct the other problems listed, then synth again.`)];
    }
  });
}

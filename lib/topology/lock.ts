/**
 * The fleet's lock: what identifies its running parts, recorded at each synth (`lockFile`) so that the next synth can
 * refuse a change a running fleet cannot make (in the spirit of a migration check). A node group is identified by its
 * name; its number, cloud, region and range fix its machines' names and addresses; the fleet's name, range, engine and
 * Postgres major version fix everything else. Pure: reading and writing the file is the construct's.
 */
import { groupCidr } from '../declaration/derived';
import { Finding, FleetSpec } from '../declaration/spec';
import { formatCidr } from '../net/cidr';
import { backupBucketName } from './backup';
import { Topology } from './topology';

export const FLEET_LOCK_FORMAT = 'dpg-lock/1';

export interface LockedNodeGroup {
  readonly name: string;
  readonly number: number;
  readonly cloud: string;
  readonly region: string;
  readonly cidr: string;
  /** The bucket of the group's backups (absent while its backups are off). */
  readonly backupBucket?: string;
}

export interface FleetLock {
  readonly format: string;
  readonly name: string;
  readonly fleetCidr: string;
  readonly engine: string;
  readonly postgresVersion: number;
  readonly nodeGroups: LockedNodeGroup[];
}

export function fleetLockOf(topology: Topology): FleetLock {
  return {
    format: FLEET_LOCK_FORMAT,
    name: topology.fleetName,
    fleetCidr: topology.network.fleetCidr,
    engine: topology.replication.engine,
    postgresVersion: topology.postgres.version,
    nodeGroups: topology.nodeGroups.map((g) => ({
      name: g.name, number: g.number, cloud: g.cloud, region: g.region, cidr: g.cidr, ...(g.backup ? { backupBucket: g.backup.bucket } : {}),
    }))
      .sort((a, b) => a.number - b.number),
  };
}

/**
 * The lock of a declaration that did not pass validation (so it has no topology), for reporting a refused change
 * together with its other problems: what the spec says, and the locked value wherever the spec cannot say (a range
 * that cannot be computed from broken input is not reported as changed).
 */
export function fleetLockOfSpec(spec: FleetSpec, previous: FleetLock): FleetLock {
  const locked = new Map(previous.nodeGroups.map((g) => [g.name, g]));
  const cidrOf = (g: FleetSpec['nodeGroups'][number]): string | undefined => {
    try {
      const cidr = groupCidr(spec, g);
      return cidr ? formatCidr(cidr) : undefined;
    } catch {
      return undefined;
    }
  };
  return {
    format: FLEET_LOCK_FORMAT,
    name: spec.name,
    fleetCidr: spec.network.fleetCidr,
    engine: spec.replication.engine,
    postgresVersion: spec.postgres.version,
    nodeGroups: spec.nodeGroups.filter((g) => g.name !== '').map((g) => ({
      name: g.name, number: g.number, cloud: g.cloud, region: g.region,
      cidr: cidrOf(g) ?? locked.get(g.name)?.cidr ?? '',
      ...(g.backup.enabled && !g.restoreFrom ? { backupBucket: backupBucketName(spec.backup.bucketNamePrefix, g.region) } : {}),
    })),
  };
}

/** The lock as the file holds it: stable JSON, one node group per line. */
export function formatFleetLock(lock: FleetLock): string {
  const { nodeGroups, ...fleet } = lock;
  return `{\n${Object.entries(fleet).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)},`).join('\n')}\n` +
    `  "nodeGroups": [\n${nodeGroups.map((g) => `    ${JSON.stringify(g)}`).join(',\n')}\n  ]\n}\n`;
}

/** The lock in a file's text, or why it is not one. */
export function parseFleetLock(text: string): FleetLock | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return `is not JSON (${(e as Error).message})`;
  }
  const lock = value as Partial<FleetLock> | null;
  if (!lock || typeof lock !== 'object' || lock.format !== FLEET_LOCK_FORMAT) return `is not a fleet lock (format ${JSON.stringify(lock?.format)}, expected ${FLEET_LOCK_FORMAT})`;
  const group = (g: Partial<LockedNodeGroup>) => typeof g?.name === 'string' && typeof g.number === 'number' && typeof g.cloud === 'string' &&
    typeof g.region === 'string' && typeof g.cidr === 'string' && (g.backupBucket === undefined || typeof g.backupBucket === 'string');
  if (typeof lock.name !== 'string' || typeof lock.fleetCidr !== 'string' || typeof lock.engine !== 'string' || typeof lock.postgresVersion !== 'number' ||
    !Array.isArray(lock.nodeGroups) || !lock.nodeGroups.every(group)) {
    return 'lacks one of name, fleetCidr, engine, postgresVersion, nodeGroups[{name, number, cloud, region, cidr}]';
  }
  return lock as FleetLock;
}

const RULE = 'DPG-LIVE-CHANGE';
const REDO = 'delete the lock file only to build a new fleet on purpose';

/** Every change from the locked fleet that a running fleet cannot make, with what to do instead. */
export function lockChangeFindings(previous: FleetLock, next: FleetLock): Finding[] {
  const out: Finding[] = [];
  const refuse = (path: string, message: string) => out.push({ rule: RULE, path, message });
  if (previous.name !== next.name) {
    refuse('name', `was '${previous.name}': every machine, secret and record is named after it, so this would plan a second fleet and destroy the running one. Fix: keep '${previous.name}' (${REDO}).`);
  }
  if (previous.fleetCidr !== next.fleetCidr) {
    refuse('network.fleetCidr', `was ${previous.fleetCidr}: every node group's range and machine address derive from it. Fix: keep ${previous.fleetCidr}.`);
  }
  if (previous.engine !== next.engine) {
    refuse('replication.engine', `was ${previous.engine}: a running node group keeps its mesh in that engine's catalogs and slots, and no engine takes over another's. ` +
      `Fix: keep ${previous.engine}; moving to another engine is a new fleet and a copy of the data (${REDO}).`);
  }
  if (previous.postgresVersion !== next.postgresVersion) {
    refuse('postgres.version', `was ${previous.postgresVersion}: running members keep their data directory of that major version, and a new user-data ` +
      `never reaches them. Fix: keep ${previous.postgresVersion} (a major upgrade, pg_upgrade of every member, is not automated).`);
  }
  const nextGroups = new Map(next.nodeGroups.map((g, i) => [g.name, { g, i }]));
  for (const was of previous.nodeGroups) {
    const now = nextGroups.get(was.name);
    if (!now) continue;
    const path = `nodeGroups[${now.i}] (${was.name})`;
    for (const key of ['number', 'cloud', 'region', 'cidr'] as const) {
      if (was[key] !== now.g[key]) {
        refuse(`${path}.${key}`, `was ${was[key]}: the group's machines, disks and addresses are named and placed by it, so this would replace every ` +
          `member at once. Fix: keep ${was[key]}; to move the group, add a new node group (another name and number) and remove this one once it holds the data.`);
      }
    }
    // A region change is refused above; a bucket that changes with its region need not be reported again.
    if (was.backupBucket !== undefined && now.g.backupBucket !== undefined && was.backupBucket !== now.g.backupBucket && was.region === now.g.region) {
      refuse('backup.bucketNamePrefix', `puts node group '${was.name}' in bucket ${now.g.backupBucket}, but its backups and WAL archive are in ` +
        `${was.backupBucket}, where its running members keep archiving (their pgBackRest configuration comes with their boot), and that bucket would be ` +
        `planned for destruction. Fix: keep the prefix that names ${was.backupBucket}.`);
    }
  }
  const removed = previous.nodeGroups.filter((g) => !nextGroups.has(g.name));
  next.nodeGroups.forEach((g, i) => {
    const taken = removed.find((r) => r.number === g.number || r.cidr === g.cidr);
    if (taken && !previous.nodeGroups.some((p) => p.name === g.name)) {
      refuse(`nodeGroups[${i}] (${g.name})`, `takes the ${taken.number === g.number ? `number ${g.number}` : `range ${g.cidr}`} of node group '${taken.name}', ` +
        `removed in the same change (a rename is a removal and an addition): its machines hold those addresses until the removal is deployed. ` +
        `Fix: deploy the removal of '${taken.name}' first, or give '${g.name}' another number.`);
    }
  });
  return out;
}

/** Node groups the declaration has that the locked fleet did not: added to a running fleet. */
export function addedNodeGroups(previous: FleetLock, next: FleetLock): string[] {
  return next.nodeGroups.filter((g) => !previous.nodeGroups.some((p) => p.name === g.name)).map((g) => g.name);
}

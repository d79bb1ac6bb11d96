/** What every regional AWS resource of the fleet needs: the provider that manages it and its region. */
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { createHash } from 'crypto';
import { NodeGroup, Topology } from '../../topology/topology';

export interface AwsRegionTarget {
  readonly region: string;
  readonly provider: AwsProvider;
}

/**
 * The meta-arguments of a regional resource. The region is always explicit (AWS provider 6+ `region` argument), so one
 * provider may serve several regions and the JSON says where each resource lives.
 */
export function inRegion(target: AwsRegionTarget): { provider: AwsProvider; region: string } {
  return { provider: target.provider, region: target.region };
}

/**
 * A name that fits an AWS length limit (load balancers and target groups: 32). Short names are kept as they are; long
 * ones keep their start and end a digest of the full name, so they stay unique and deterministic.
 */
export function boundedName(name: string, maxLength: number): string {
  if (name.length <= maxLength) return name;
  const digest = createHash('sha256').update(name).digest('hex').slice(0, 7);
  return `${name.slice(0, maxLength - digest.length - 1).replace(/-+$/, '')}-${digest}`;
}

/** `Name` plus the fleet's tags, so people and tools (the rehearsal) can map a resource to its machine. */
export function awsTags(name: string, fleetName: string, nodeGroup?: string): Record<string, string> {
  return {
    Name: name,
    'distributed-postgres:fleet': fleetName,
    ...(nodeGroup === undefined ? {} : { 'distributed-postgres:node-group': nodeGroup }),
  };
}

/**
 * What a database or etcd machine runs, for inventory tools (and the rehearsal, which reads these exact keys): the OS
 * flavour, where the packages came from, the PostgreSQL major version and the replication engine.
 */
export function inventoryTags(topology: Topology, group: NodeGroup): Record<string, string> {
  return {
    'distributed-postgres:engine': topology.replication.engine,
    'distributed-postgres:image': group.image,
    'distributed-postgres:package-source': topology.postgres.packageSource,
    'distributed-postgres:postgres': String(topology.postgres.version),
  };
}

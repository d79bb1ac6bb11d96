/**
 * Values the declaration implies, computed the same way by the rules (to check them) and by the resolver (to use
 * them): a node group's CIDR, its snowflake ids, schema-qualified table names.
 */
import { Ipv4Cidr, parseCidr, subnet } from '../net/cidr';
import { FleetSpec, GroupSpec } from './spec';

/** Zone blocks a group's range is split into (one per zone; see topology/ip-plan). */
export const ZONE_BLOCKS = 8;
/** Offsets of the planned addresses in a zone block: the rules check that a given subnet holds them. */
export const OFFSETS = { loadBalancer: 5, member: 10, dedicatedEtcd: 30 } as const;

/** Share of a member's data disk replication slots may keep in pg_wal (`replication.walRetentionPercent`). */
export const DEFAULT_WAL_RETENTION_PERCENT = 20;
/** How often each leader runs the anti-entropy check (`replication.antiEntropyMinutes`). */
export const DEFAULT_ANTI_ENTROPY_MINUTES = 60;

/** A fleet holds at most this many node groups (their numbers are 1..100). */
export const MAX_NODE_GROUPS = 100;

/**
 * `replication.maxNodeGroups` when not declared: the number of node groups rounded up to a multiple of 8, at least 16,
 * at most 100. So the capacity (and the user-data) does not change while a fleet grows within that.
 */
export function defaultMaxNodeGroups(groups: number): number {
  return Math.min(MAX_NODE_GROUPS, Math.max(16, Math.ceil(groups / 8) * 8));
}

/** A member's WAL budget, in MB: `replication.walRetentionPercent` of its data disk, the most pg_wal may hold. */
export function walBudgetMb(dataDiskGiB: number, percent: number): number {
  return Math.floor((dataDiskGiB * 1024 * percent) / 100);
}

/** Postgres' defaults of the settings besides the slots that keep WAL in pg_wal (MB; wal_keep_size is Patroni's). */
export const WAL_DEFAULTS_MB = { maxWalSize: 1024, walKeepSize: 128, segment: 16 } as const;

/** The declared settings besides the slots that keep WAL in pg_wal (the WAL budget counts them). */
export const WAL_SIZE_PARAMETERS = ['max_wal_size', 'wal_keep_size'] as const;

/** A Postgres size setting in MB (a bare number is MB, as for max_wal_size and wal_keep_size); undefined if unreadable. */
export function sizeSettingMb(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(\d+)\s*(kB|MB|GB|TB)?\s*$/.exec(value);
  if (!m) return undefined;
  const factor = { kB: 1 / 1024, MB: 1, GB: 1024, TB: 1024 * 1024 }[m[2] ?? 'MB']!;
  return Math.ceil(Number(m[1]) * factor);
}

/**
 * What pg_wal holds besides the slots' WAL, in MB: up to max_wal_size since the last checkpoint (a slot is invalidated
 * only at a checkpoint), wal_keep_size, and two segments (the one being written and the next, preallocated). The slots
 * get the rest of the WAL budget, so pg_wal as a whole stays within it.
 */
export function walOverheadMb(parameters: Record<string, string>): number {
  return (sizeSettingMb(parameters.max_wal_size) ?? WAL_DEFAULTS_MB.maxWalSize) +
    (sizeSettingMb(parameters.wal_keep_size) ?? WAL_DEFAULTS_MB.walKeepSize) + 2 * WAL_DEFAULTS_MB.segment;
}

/** `max_slot_wal_keep_size` of a group's members, in MB: the WAL budget less what pg_wal holds besides the slots. */
export function walRetentionMb(dataDiskGiB: number, percent: number, parameters: Record<string, string> = {}): number {
  return walBudgetMb(dataDiskGiB, percent) - walOverheadMb(parameters);
}

/** Prefix of the CIDR carved for each node group out of the fleet CIDR. */
export const GROUP_PREFIX = 20;

/** The CIDR a group ends up with (explicit or carved), or undefined when it cannot be had. */
export function groupCidr(spec: FleetSpec, group: GroupSpec): Ipv4Cidr | undefined {
  if (group.cidr !== undefined) return parseCidr(group.cidr);
  const fleet = parseCidr(spec.network.fleetCidr);
  if (!fleet || !Number.isInteger(group.number) || group.number < 1) return undefined;
  return subnet(fleet, GROUP_PREFIX, group.number - 1);
}

/** `t` -> `public.t`; schema-qualified names unchanged. */
export function qualify(table: string): string {
  return table.includes('.') ? table : `public.${table}`;
}

/** The snowflake ids of a group's members: explicit, or derived from the group number. */
export function snowflakeIdsOf(group: GroupSpec): number[] {
  if (group.snowflakeNodeIds !== undefined) return group.snowflakeNodeIds;
  return Array.from({ length: Math.max(0, group.members) }, (_, i) => (group.number - 1) * 10 + i + 1);
}

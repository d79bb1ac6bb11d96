/**
 * What differs between the replication engines: the SQL that builds a node group's side of the mesh
 * (run on the group's leader, idempotent: every statement checks before it acts), mesh-keeper's queries,
 * and the Postgres/Patroni settings each engine needs.
 */
import { RenderedParameter } from '../../declaration/managed-parameters';
import { NodeGroup, Subscription, Topology } from '../../topology/topology';
import { oneLine, sqlLiteral, sqlQualified, sqlRegclass } from '../quote';
import type { ResyncSql } from './resync';

/** An engine's postgresql.conf settings: only names the declaration reserves (see declaration/managed-parameters.ts). */
export type EngineParameters = Partial<Record<RenderedParameter, string>>;

export interface PatroniSlot {
  readonly type: 'logical';
  readonly database: string;
  readonly plugin: string;
}

export interface MeshSql {
  /** Node, replication sets, tables, conflict settings. Runs with ON_ERROR_STOP. */
  readonly setup: string;
  /** One independent statement per subscription (a provider that is not up yet fails only its own). */
  readonly subscriptions: string;
  /** Prints how many expected objects are still missing (0 when this group's side of the mesh is complete). */
  readonly verify: string;
  /** Prints the names of this group's subscriptions whose apply worker is down (backing off). */
  readonly downSubscriptions: string;
  /** Restarts the subscription named by the psql variable `sub` (disable + enable). */
  readonly restartSubscription: string;
  /** Prints one line per problem to report in mesh-keeper's log and status (Spock: delta-apply columns); absent when none can arise. */
  readonly problems?: string;
  /**
   * The subscriber-side failover window, for engines whose apply worker confirms what only the leader holds
   * (pglogical, Spock): see `ResumeSlots`. Absent where configuration closes the window (native).
   */
  readonly resume?: ResumeSql;
  /**
   * Run on the leader every check: keeps `synchronized_standby_slots` naming the group's synchronous standbys' slots,
   * so logical senders send only what a member that can be promoted has (PostgreSQL 17+ native). Absent elsewhere.
   */
  readonly standbySlots?: string;
  /**
   * Run on the leader every check (PostgreSQL 17+ native): prints `slot active_pid` for each slot of this group's
   * subscribers that lacks the failover flag. Patroni creates a missing permanent slot without it, and copies a slot to
   * a standby with the flag it had then, so after a failover the new leader's slot may lack it; synchronized_standby_slots
   * gates only slots that have it. Part of the mesh document (it names the subscribers' slots).
   */
  readonly failoverSlots?: string;
  /**
   * `join.sql` and the `join-copy-N.sql` it runs at each source: a group joining a running fleet copies the rows the
   * fleet holds before its first subscription (see join.ts). Absent where the engine cannot (native, Spock).
   */
  readonly joinFiles?: Record<string, string>;
  /** Lost provider slots: what mesh-keeper records and disables (see resync.ts). Absent where the group subscribes to no one. */
  readonly resync?: ResyncSql;
}

/**
 * Resume slots close the subscriber-side window where the engine cannot (pglogical and Spock apply with
 * synchronous_commit at most `local` and confirm what the leader flushed). For each subscription the provider
 * keeps a second slot, `<slot>_r`, that no one streams from: the subscriber group's leader advances it only to
 * what every member that can be promoted has durably received. When a member is promoted (Patroni's pre_promote),
 * it compares its replication origin with the provider's slot; if the slot has confirmed more than this member
 * holds, the slot is recreated as a copy of the resume slot, so the apply worker resumes from the member's own
 * position and the rows in between are sent again.
 */
export interface ResumeSql {
  /**
   * On the subscriber's leader: records (origin position, local WAL position) marks and prints, per subscription,
   * `slot<TAB>resume slot<TAB>provider dsn<TAB>target`: the position every promotable member has.
   */
  readonly marks: string;
  /** On the provider (psql variables `slot`, `lsn`): advances the resume slot to `lsn` (creating it where the engine's slots are not Patroni's). */
  readonly advance: string;
  /** On the member about to be promoted: prints `slot<TAB>resume slot<TAB>provider dsn<TAB>origin position` per subscription. */
  readonly positions: string;
  /** On the provider (psql variables `slot`, `resume`, `origin`): prints `verdict<TAB>slot confirmed<TAB>resume confirmed<TAB>active pid`. */
  readonly inspect: string;
  /** On the provider (psql variables `slot`, `resume`): replaces the slot by a copy of the resume slot. */
  readonly rewind: string;
  /**
   * The provider side, on the member about to be promoted: prints this node's name, then `dsn` per provider it
   * subscribes to (in the mesh every provider of a group also subscribes to it).
   */
  readonly peers: string;
  /**
   * On a subscriber group's leader (psql variables `provider`, `lsn`): if its origin for `provider` is past `lsn` (the
   * promoted provider's end of WAL, where its new timeline starts), sets it back to `lsn`, so the promoted provider's
   * next commits are not skipped as already applied. Prints `ahead` when it tried and `rewound <from>` when it did.
   */
  readonly rewindOrigin: string;
  /**
   * On a subscriber group's leader, every check: enables again a subscription a provider's pre-promote paused (with
   * `rewindOrigin`) and left disabled longer than `PAUSE_LIMIT_SECONDS`; prints the name of each.
   */
  readonly unpause: string;
}

/** The resume slot of a subscription's slot (a slot name is at most 63 bytes; the engines' names are at most 54). */
export function resumeSlotName(slot: string): string {
  return `${slot}_r`;
}

/** How one replication engine (the `ReplicationEngine` of the props) is rendered: settings, slots and mesh SQL. */
export interface EngineRenderer {
  /** Extensions created in the application database. */
  extensions(topology: Topology): string[];
  preloadLibraries(topology: Topology): string[];
  /** Engine settings in postgresql.conf (conflict resolution...). */
  parameters(topology: Topology): EngineParameters;
  /** Logical decoding plugin the engine's slots use; must be allowed by output_plugin_libraries where it exists. */
  readonly outputPlugin: string;
  /** Attributes of the mesh role that subscribers of other groups connect as. */
  readonly meshRoleAttributes: string[];
  /** Slots Patroni keeps on this group's leader (and its standbys) for the subscriptions of other groups. */
  providerSlots(topology: Topology, group: NodeGroup): Record<string, PatroniSlot>;
  /**
   * The slot at this (provider) group that a subscriber's subscription streams from, where it is a Patroni permanent
   * slot the document names (pglogical, native); absent where the engine keeps its own slots (Spock).
   */
  subscriberSlot?(topology: Topology, group: NodeGroup, sub: Subscription): string;
  /** Whether the engine needs resume slots and Patroni's pre_promote repair (see `ResumeSql`). */
  readonly resumeSlots: boolean;
  /** Slots Patroni must leave alone (managed by the engine itself). */
  ignoreSlots(): { type: string; plugin: string }[];
  sql(topology: Topology, group: NodeGroup): MeshSql;
}

/**
 * What every subscription of this group is named with (`sub_<subscriber>_<provider>`): in the group's database a
 * subscription so named that the mesh no longer declares is one to a node group removed from the declaration, and is
 * dropped (the SQL's `prune` statements). Another group's subscriptions are in its own database, never here.
 */
export function ownSubscriptionPrefix(group: NodeGroup): string {
  return `sub_${group.replicationNodeName}_`;
}

/** Subscriptions this group makes (it is the subscriber), sorted by name. */
export function subscriptionsOf(topology: Topology, group: NodeGroup): Subscription[] {
  return topology.subscriptions.filter((s) => s.subscriber === group.name);
}

/** Subscriptions other groups make to this group (it is the provider). */
export function subscribersOf(topology: Topology, group: NodeGroup): Subscription[] {
  return topology.subscriptions.filter((s) => s.provider === group.name);
}

/** The replication sets this group publishes, each with its tables (global tables, or this group's geoshard partitions). */
export function publishedSets(topology: Topology, group: NodeGroup): { set: string; tables: string[] }[] {
  return group.replicationSets.map((set) => {
    if (set === topology.replication.globalReplicationSet) return { set, tables: topology.replication.globalTables };
    const shard = topology.geoshards.find((g) => g.replicationSet === set);
    return { set, tables: shard ? shard.tables.map((t) => t.partition) : [] };
  });
}

/** Creates each geoshard partition this group holds, only once its parent exists (the application owns the schema). */
export function partitionsSql(topology: Topology, group: NodeGroup): string[] {
  return heldPartitions(topology, group).map(({ shard, table, partition, values, create }) =>
    `-- ${oneLine(`geoshard ${shard}: ${partition} holds ${table} rows with ${values.join(', ')}`)}\n` +
    `DO $dpg$ BEGIN\n  IF ${sqlRegclass(table)} IS NOT NULL THEN\n    EXECUTE ${sqlLiteral(create)};\n  END IF;\nEND $dpg$;`);
}

/** The geoshard partitions this group holds, each with the statement that creates it under its parent. */
export function heldPartitions(topology: Topology, group: NodeGroup): { shard: string; table: string; partition: string; values: string[]; create: string }[] {
  return topology.geoshards
    .filter((shard) => shard.nodeGroups.includes(group.name))
    .flatMap((shard) => shard.tables.map((t) => ({
      shard: shard.name,
      table: t.table,
      partition: t.partition,
      values: t.values,
      create: `CREATE TABLE IF NOT EXISTS ${sqlQualified(t.partition)} PARTITION OF ${sqlQualified(t.table)} ` +
        `FOR VALUES IN (${t.values.map(sqlLiteral).join(', ')})`,
    })));
}

/** `name = ANY (ARRAY[...])` over the subscription names, or `false` when there are none. */
export function nameIn(column: string, names: string[]): string {
  return names.length === 0 ? 'false' : `${column} = ANY (ARRAY[${names.map(sqlLiteral).join(', ')}]::text[])`;
}

export function header(topology: Topology, group: NodeGroup, engine: string, what: string): string {
  return `-- ${oneLine(`${what}: node group '${group.name}' of fleet '${topology.fleetName}' (${engine}), database ${topology.postgres.database}.`)}\n` +
    '-- Rendered by cdktf-distributed-postgres; run by mesh-keeper on the group\'s leader. Idempotent.\n';
}

/**
 * pglogical 2 (unpatched PostgreSQL; Debian/Ubuntu `postgresql-N-pglogical`). Its slots on the provider are
 * named deterministically, so Patroni keeps them as permanent slots: copied to the standbys, they let a
 * subscription resume after a failover of the provider group without losing rows (measured with Patroni 3.0.2).
 */
import { NodeGroup, Topology } from '../../topology/topology';
import { sqlLiteral } from '../quote';
import { EngineParameters, EngineRenderer, PatroniSlot, resumeSlotName, subscribersOf } from './engine';
import { joinFiles, PGLOGICAL_JOIN } from './join';
import { PglogicalLikeApi, pglogicalLikeSql } from './pglogical-like';
import { pglogicalSlotName } from './slot-names';

const API: PglogicalLikeApi = {
  engine: 'pglogical',
  schema: 'pglogical',
  createNode: (_topology: Topology, group: NodeGroup) =>
    `pglogical.create_node(node_name := ${sqlLiteral(group.replicationNodeName)}, dsn := ${sqlLiteral(group.leaderDsn)})`,
  createSet: 'create_replication_set',
  addTable: 'replication_set_add_table',
  createSubscription: 'create_subscription',
  dropSubscription: 'drop_subscription',
  addSubscriptionSet: 'alter_subscription_add_replication_set',
  showStatus: 'show_subscription_status',
  disable: 'alter_subscription_disable',
  enable: 'alter_subscription_enable',
  restartsDownSubscriptions: true,
  extraSetup: () => [],
  onCreateTable: () => '',
  problems: () => undefined,
  // Patroni keeps them, like the subscriptions' own slots (on the provider's standbys too).
  createsResumeSlots: false,
  outputPlugin: 'pglogical_output',
  // Its slots are Patroni's permanent slots (providerSlots).
  keepsPermanentSlot: true,
};

export const PGLOGICAL: EngineRenderer = {
  extensions: () => ['pglogical'],
  preloadLibraries: () => ['pglogical'],
  parameters: (topology): EngineParameters => ({ 'pglogical.conflict_resolution': topology.replication.conflictPolicy }),
  outputPlugin: 'pglogical_output',
  meshRoleAttributes: ['LOGIN', 'SUPERUSER', 'REPLICATION'],
  subscriberSlot: (topology, group, sub) => pglogicalSlotName(topology.postgres.database, group.replicationNodeName, sub.name),
  providerSlots: (topology, group) => {
    const slots: Record<string, PatroniSlot> = {};
    for (const sub of subscribersOf(topology, group)) {
      const name = pglogicalSlotName(topology.postgres.database, group.replicationNodeName, sub.name);
      slots[name] = { type: 'logical', database: topology.postgres.database, plugin: 'pglogical_output' };
      slots[resumeSlotName(name)] = { type: 'logical', database: topology.postgres.database, plugin: 'pglogical_output' };
    }
    return slots;
  },
  resumeSlots: true,
  ignoreSlots: () => [],
  sql: (topology, group) => {
    // A group added to a running fleet copies its rows first (join.ts); its overlap is resolved by commit time.
    const join = joinFiles(topology, group, PGLOGICAL_JOIN, (provider, sub) => PGLOGICAL.subscriberSlot!(topology, provider, sub));
    return { ...pglogicalLikeSql(API, ['pglogical'], topology, group), ...(join ? { joinFiles: join } : {}) };
  },
};

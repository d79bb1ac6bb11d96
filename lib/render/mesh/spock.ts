/**
 * pgEdge Spock 5 (pgEdge's patched PostgreSQL). Spock keeps its own slots on the standbys (its failover-slot
 * worker), so Patroni is told to leave `spock_output` slots alone (pgEdge's own Patroni setting).
 */
import { NodeGroup, Topology } from '../../topology/topology';
import { oneLine, sqlIdent, sqlLiteral, sqlQualified, sqlRegclass } from '../quote';
import { EngineParameters, EngineRenderer } from './engine';
import { PglogicalLikeApi, pglogicalLikeSql } from './pglogical-like';

/** Conflict-free delta-apply columns: `local + (remote_new - remote_old)` instead of last-update-wins on that column. */
function deltaApplySql(topology: Topology): string[] {
  return topology.replication.deltaApplyColumns.map(({ table, column }) => {
    const alter = `ALTER TABLE ${sqlQualified(table)} ALTER COLUMN ${sqlIdent(column)} ` +
      'SET (log_old_value = true, delta_apply_function = spock.delta_apply)';
    return `-- ${oneLine(`delta-apply column ${table}.${column}`)}\nDO $dpg$ BEGIN\n` +
      `  IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = ${sqlRegclass(table)} AND attname = ${sqlLiteral(column)} AND NOT attisdropped) THEN\n` +
      `    EXECUTE ${sqlLiteral(alter)};\n  END IF;\nEND $dpg$;`;
  });
}

const API: PglogicalLikeApi = {
  engine: 'spock',
  schema: 'spock',
  createNode: (_topology: Topology, group: NodeGroup) =>
    `spock.node_create(node_name := ${sqlLiteral(group.replicationNodeName)}, dsn := ${sqlLiteral(group.leaderDsn)}, ` +
    `location := ${sqlLiteral(`${group.cloud}:${group.region}`)})`,
  createSet: 'repset_create',
  addTable: 'repset_add_table',
  createSubscription: 'sub_create',
  addSubscriptionSet: 'sub_add_repset',
  showStatus: 'sub_show_status',
  disable: 'sub_disable',
  enable: 'sub_enable',
  extraSetup: (topology) => deltaApplySql(topology),
};

function extensions(topology: Topology): string[] {
  return topology.replication.snowflakeIds ? ['spock', 'snowflake'] : ['spock'];
}

export const SPOCK: EngineRenderer = {
  extensions,
  preloadLibraries: extensions,
  parameters: (): EngineParameters => ({ 'spock.conflict_resolution': 'last_update_wins' }),
  outputPlugin: 'spock_output',
  meshRoleAttributes: ['LOGIN', 'SUPERUSER', 'REPLICATION'],
  providerSlots: () => ({}),
  ignoreSlots: () => [{ type: 'logical', plugin: 'spock_output' }],
  sql: (topology, group) => pglogicalLikeSql(API, extensions(topology), topology, group),
};

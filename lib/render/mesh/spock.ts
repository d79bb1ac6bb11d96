/**
 * pgEdge Spock 5 (pgEdge's patched PostgreSQL). Spock keeps its own slots on the standbys (its failover-slot
 * worker), so Patroni is told to leave `spock_output` slots alone (pgEdge's own Patroni setting).
 */
import { NodeGroup, Topology } from '../../topology/topology';
import { oneLine, sqlIdent, sqlLiteral, sqlQualified, sqlRegclass } from '../quote';
import { EngineParameters, EngineRenderer } from './engine';
import { PglogicalLikeApi, pglogicalLikeSql } from './pglogical-like';

/** What Spock needs on a delta-apply column (log_old_value makes the old value travel with each update). */
export const DELTA_APPLY_OPTIONS = 'log_old_value = true, delta_apply_function = spock.delta_apply';

/**
 * The message logged (RAISE WARNING) and shown in mesh-keeper's status when a declared delta-apply column is nullable:
 * Spock applies deltas only to NOT NULL columns. A `format` string: `%s` takes the table, `%I` the column.
 */
const NULLABLE_WARNING = 'distributed-postgres: delta-apply column %s.%I is nullable; Spock applies deltas only to NOT NULL columns, ' +
  'so conflicting updates of it resolve as last-update-wins. Fix: ALTER TABLE %s ALTER COLUMN %I SET NOT NULL ' +
  '(the next mesh run, or the next CREATE TABLE, sets delta apply)';

/**
 * Conflict-free delta-apply columns: `local + (remote_new - remote_old)` instead of last-update-wins on that column.
 * Set on NOT NULL columns of tables that exist; a nullable one is left alone with a warning (and shown in the status).
 */
function deltaApplySql(topology: Topology): string[] {
  return topology.replication.deltaApplyColumns.map(({ table, column }) => {
    const alter = `ALTER TABLE ${sqlQualified(table)} ALTER COLUMN ${sqlIdent(column)} SET (${DELTA_APPLY_OPTIONS})`;
    const attribute = `FROM pg_attribute WHERE attrelid = ${sqlRegclass(table)} AND attname = ${sqlLiteral(column)} AND NOT attisdropped`;
    return `-- ${oneLine(`delta-apply column ${table}.${column}`)}\nDO $dpg$ BEGIN\n` +
      `  IF EXISTS (SELECT 1 ${attribute} AND attnotnull) THEN\n` +
      `    EXECUTE ${sqlLiteral(alter)};\n` +
      `  ELSIF EXISTS (SELECT 1 ${attribute}) THEN\n` +
      `    RAISE WARNING '%', format(${sqlLiteral(NULLABLE_WARNING)}, ${sqlRegclass(table)}, ${sqlLiteral(column)}, ${sqlRegclass(table)}, ${sqlLiteral(column)});\n` +
      '  END IF;\nEND $dpg$;';
  });
}

/**
 * The event trigger's part for delta-apply columns: when the application creates a declared table, its declared
 * delta-apply columns get Spock's options in the same transaction (else conflicting updates before mesh-keeper's
 * next run, up to 5 minutes later, would resolve as last-update-wins). Runs with `relid` the created table.
 */
function deltaApplyOnCreate(topology: Topology): string {
  const columns = topology.replication.deltaApplyColumns;
  if (columns.length === 0) return '';
  const values = columns.map(({ table, column }) => `(${sqlLiteral(sqlQualified(table))}, ${sqlLiteral(column)})`).join(', ');
  return '    -- Declared delta-apply columns of this table: Spock needs them NOT NULL.\n' +
    `    FOR delta IN SELECT d.col, a.attnotnull FROM (VALUES ${values}) AS d(relation, col)\n` +
    '        JOIN pg_attribute a ON a.attrelid = relid AND a.attname = d.col AND NOT a.attisdropped\n' +
    '        WHERE to_regclass(d.relation) = relid LOOP\n' +
    '      IF delta.attnotnull THEN\n' +
    `        EXECUTE format(${sqlLiteral(`ALTER TABLE %s ALTER COLUMN %I SET (${DELTA_APPLY_OPTIONS})`)}, relid::regclass, delta.col);\n` +
    '      ELSE\n' +
    `        RAISE WARNING '%', format(${sqlLiteral(NULLABLE_WARNING)}, relid::regclass, delta.col, relid::regclass, delta.col);\n` +
    '      END IF;\n' +
    '    END LOOP;\n';
}

/**
 * One line per delta-apply problem on this leader (mesh-keeper logs them and puts them in its status): a nullable
 * column, or a NOT NULL one without Spock's options. Tables the application has not created yet are not a problem.
 */
function deltaApplyProblems(topology: Topology): string | undefined {
  const columns = topology.replication.deltaApplyColumns;
  if (columns.length === 0) return undefined;
  const values = columns.map(({ table, column }) => `(${sqlLiteral(sqlQualified(table))}, ${sqlLiteral(column)})`).join(', ');
  return '-- Delta-apply problems, one line each (none: no output).\n' +
    `SELECT CASE WHEN NOT a.attnotnull THEN format(${sqlLiteral(NULLABLE_WARNING.replace(/^distributed-postgres: /, ''))}, d.relation, d.col, d.relation, d.col)\n` +
    `    ELSE format(${sqlLiteral('delta-apply column %s.%I is NOT NULL but has no log_old_value yet (Spock resolves it as last-update-wins until the mesh setup sets it)')}, d.relation, d.col) END\n` +
    `  FROM (VALUES ${values}) AS d(relation, col)\n` +
    '  JOIN pg_attribute a ON a.attrelid = to_regclass(d.relation) AND a.attname = d.col AND NOT a.attisdropped\n' +
    "  WHERE NOT a.attnotnull OR NOT coalesce(a.attoptions @> ARRAY['log_old_value=true'], false)\n" +
    '  ORDER BY 1;\n';
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
  dropSubscription: 'sub_drop',
  addSubscriptionSet: 'sub_add_repset',
  showStatus: 'sub_show_status',
  disable: 'sub_disable',
  enable: 'sub_enable',
  restartsDownSubscriptions: false,
  extraSetup: (topology) => deltaApplySql(topology),
  onCreateTable: (topology) => deltaApplyOnCreate(topology),
  problems: (topology) => deltaApplyProblems(topology),
  // Patroni leaves spock_output slots to Spock: the subscriber creates its resume slots on the provider itself.
  createsResumeSlots: true,
  outputPlugin: 'spock_output',
  // Its slots are its own (Patroni ignores them): the initial sync creates each.
  keepsPermanentSlot: false,
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
  resumeSlots: true,
  ignoreSlots: () => [{ type: 'logical', plugin: 'spock_output' }],
  sql: (topology, group) => pglogicalLikeSql(API, extensions(topology), topology, group),
};

/**
 * The SQL shared by pglogical 2 and Spock, whose APIs have the same shape (Spock is a pglogical descendant):
 * same catalogs (`local_node`, `replication_set`, `replication_set_table`, `subscription`) and the same
 * parameter names; only the schema and function names differ.
 */
import { NodeGroup, Topology } from '../../topology/topology';
import { sqlIdent, sqlLiteral, sqlQualified, sqlRegclass, sqlTextArray } from '../quote';
import { resyncSql } from './resync';
import { MeshSql, ResumeSql, header, heldPartitions, nameIn, ownSubscriptionPrefix, partitionsSql, publishedSets, subscriptionsOf } from './engine';

export interface PglogicalLikeApi {
  readonly engine: 'pglogical' | 'spock';
  readonly schema: string;
  /** The full call that creates the local node. */
  createNode(topology: Topology, group: NodeGroup): string;
  readonly createSet: string;
  readonly addTable: string;
  readonly createSubscription: string;
  /** `(name, ifexists)`: drops the subscription and its origin, and its slot where the provider still answers. */
  readonly dropSubscription: string;
  readonly addSubscriptionSet: string;
  readonly showStatus: string;
  readonly disable: string;
  readonly enable: string;
  /**
   * Whether mesh-keeper disables and enables a subscription it finds down. Not for Spock: its manager relaunches
   * apply workers itself, and Spock 5.0.11 takes a transaction that a disable interrupted for a failed one and
   * discards it on the next start (TRANSDISCARD, the default exception behaviour): a lost row, seen in the rehearsal.
   */
  readonly restartsDownSubscriptions: boolean;
  /** Extra setup statements after the sets (Spock: delta-apply columns). */
  extraSetup(topology: Topology, group: NodeGroup): string[];
  /**
   * PL/pgSQL the event trigger runs for each table the application creates (variable `relid`, and a record
   * `delta` it may loop over), or '' (Spock: the table's delta-apply columns).
   */
  onCreateTable(topology: Topology): string;
  /** The query printing one line per problem mesh-keeper should report (Spock: delta-apply columns), if any. */
  problems(topology: Topology): string | undefined;
  /** Whether the subscriber creates the resume slots on the provider (else they are Patroni's permanent slots there). */
  readonly createsResumeSlots: boolean;
  /** The engine's output plugin (resume slots it creates use it). */
  readonly outputPlugin: string;
  /**
   * Whether a new subscription streams from the slot Patroni has kept on the provider since that group's first boot
   * (its permanent slot), instead of letting the engine's initial sync drop it and create a fresh one. The sync would
   * start the subscription at the moment it is created, so every row the provider took before (a group that boots
   * late, found by the late-group drill) would never reach this group. Only where the subscription's slot is Patroni's.
   */
  readonly keepsPermanentSlot: boolean;
}

/**
 * A subscription a provider's pre-promote paused and has not enabled again after this long is enabled by the
 * subscriber's mesh-keeper: the promotion's repair did not finish (the subscriber group was unreachable in between, or
 * the promotion was abandoned). Longer than a pre-promote takes (seconds; at most about two minutes when every remote
 * call times out), so the keeper does not enable it while the origin may still be set back.
 */
export const PAUSE_LIMIT_SECONDS = 300;

/** The subscriptions a provider's pre-promote disabled, with when: logged, so a promoted subscriber standby has them. */
const PAUSED_TABLE = `SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS distributed_postgres;
CREATE TABLE IF NOT EXISTS distributed_postgres.paused_subscriptions (sub_name name PRIMARY KEY, paused_at timestamptz NOT NULL);`;

/** The resume-slot SQL (see `ResumeSql`), the same for both engines but for the schema. */
export function resumeSql(api: PglogicalLikeApi): ResumeSql {
  const s = api.schema;
  const sources = `${s}.subscription sub JOIN ${s}.node_interface i ON i.if_id = sub.sub_origin_if`;
  // This subscriber's subscriptions to the provider node named by psql variable `provider`.
  const ofProvider = `${s}.subscription sub JOIN ${s}.node n ON n.node_id = sub.sub_origin WHERE n.node_name = :'provider'`;
  return {
    marks: `SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS distributed_postgres;
-- Resume slots: marks of this leader's applied positions (origin, then local WAL: every commit applied up to the
-- origin position lies before the local position), and per subscription the newest origin position that every
-- member that can be promoted has flushed (the minimum over the members' physical slots; this leader's own flush
-- when it has no standby). Unlogged: a new leader starts afresh.
CREATE UNLOGGED TABLE IF NOT EXISTS distributed_postgres.resume_marks (slot name NOT NULL, remote_lsn pg_lsn NOT NULL, local_lsn pg_lsn);
INSERT INTO distributed_postgres.resume_marks (slot, remote_lsn)
  SELECT p.slot, p.lsn FROM (SELECT sub_slot_name AS slot, pg_replication_origin_progress(sub_slot_name::text, true) AS lsn
    FROM ${s}.subscription) p WHERE p.lsn IS NOT NULL;
UPDATE distributed_postgres.resume_marks SET local_lsn = pg_current_wal_lsn() WHERE local_lsn IS NULL;
WITH due AS (
    SELECT m.slot, max(m.remote_lsn) AS target FROM distributed_postgres.resume_marks m
    WHERE m.local_lsn <= (SELECT coalesce(min(restart_lsn), pg_current_wal_flush_lsn()) FROM pg_replication_slots WHERE slot_type = 'physical')
    GROUP BY m.slot),
  pruned AS (DELETE FROM distributed_postgres.resume_marks m USING due WHERE m.slot = due.slot AND m.remote_lsn < due.target)
SELECT sub.sub_slot_name, sub.sub_slot_name || '_r', i.if_dsn, due.target FROM ${sources} JOIN due ON due.slot = sub.sub_slot_name
  ORDER BY 1;
`,
    advance: (api.createsResumeSlots
      ? `SELECT 'created' FROM pg_create_logical_replication_slot(:'slot', ${sqlLiteral(api.outputPlugin)})
  WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = :'slot');
` : '') + `SELECT pg_replication_slot_advance(slot_name, :'lsn') FROM pg_replication_slots
  WHERE slot_name = :'slot' AND confirmed_flush_lsn < :'lsn'::pg_lsn;
`,
    positions: `SELECT sub.sub_slot_name, sub.sub_slot_name || '_r', i.if_dsn, pg_replication_origin_progress(sub.sub_slot_name::text, false)
  FROM ${sources} WHERE sub.sub_enabled AND pg_replication_origin_progress(sub.sub_slot_name::text, false) IS NOT NULL ORDER BY 1;
`,
    inspect: `SELECT CASE WHEN m.slot_name IS NULL THEN 'no-slot'
    WHEN m.confirmed_flush_lsn <= :'origin'::pg_lsn THEN 'in-step'
    WHEN r.slot_name IS NULL THEN 'no-resume-slot'
    WHEN r.confirmed_flush_lsn > :'origin'::pg_lsn THEN 'resume-slot-ahead'
    ELSE 'rewind' END, m.confirmed_flush_lsn, r.confirmed_flush_lsn, m.active_pid
  FROM (SELECT 1) one LEFT JOIN pg_replication_slots m ON m.slot_name = :'slot' LEFT JOIN pg_replication_slots r ON r.slot_name = :'resume';
`,
    rewind: `-- The walsender of the old leader's apply worker may linger until wal_sender_timeout: end it (the caller retries
-- while the slot is still active). Dropped and copied in one statement (the inner query runs first), so Patroni, which
-- recreates a missing permanent slot, cannot come between.
SELECT pg_terminate_backend(active_pid) IS NOT NULL FROM pg_replication_slots WHERE slot_name = :'slot' AND active_pid IS NOT NULL;
SELECT (pg_copy_logical_replication_slot(:'resume', :'slot')).lsn FROM (SELECT pg_drop_replication_slot(:'slot') OFFSET 0) dropped;
`,
    peers: `SELECT n.node_name FROM ${s}.local_node l JOIN ${s}.node n ON n.node_id = l.node_id;
SELECT DISTINCT i.if_dsn FROM ${sources} ORDER BY 1;
`,
    // The apply worker holds its origin while it runs: the caller disables the subscription first (only_disable=true,
    // as early as it can: a worker blocked in a connect to the dead provider lets go only when the connect ends), the
    // worker that still holds the origin (psql variable pid, from the previous attempt's error) is ended, and the
    // caller enables the subscription again with only_enable=true, whatever happened. Each subscription it disables is
    // marked paused first, and only marked ones are enabled again (one an operator disabled stays so); mesh-keeper
    // enables a marked one that stays disabled (see unpause).
    rewindOrigin: `${PAUSED_TABLE}
\\if :only_enable
SELECT ${s}.${api.enable}(sub.sub_name, true) FROM ${ofProvider} AND NOT sub.sub_enabled
  AND sub.sub_name IN (SELECT sub_name FROM distributed_postgres.paused_subscriptions);
DELETE FROM distributed_postgres.paused_subscriptions WHERE sub_name IN (SELECT sub.sub_name FROM ${ofProvider});
\\elif :only_disable
INSERT INTO distributed_postgres.paused_subscriptions SELECT sub.sub_name, now() FROM ${ofProvider}
  AND (sub.sub_enabled OR sub.sub_name IN (SELECT sub_name FROM distributed_postgres.paused_subscriptions))
  ON CONFLICT (sub_name) DO UPDATE SET paused_at = excluded.paused_at;
SELECT ${s}.${api.disable}(sub.sub_name, true) FROM ${ofProvider} AND sub.sub_enabled;
\\else
SELECT coalesce(bool_or(pg_replication_origin_progress(sub.sub_slot_name::text, false) > :'lsn'::pg_lsn), false) AS ahead,
    max(sub.sub_name) AS sub, max(sub.sub_slot_name) AS origin, max(pg_replication_origin_progress(sub.sub_slot_name::text, false)) AS was
  FROM ${ofProvider} \\gset
\\if :ahead
SELECT 'ahead';
INSERT INTO distributed_postgres.paused_subscriptions SELECT :'sub', now() FROM ${s}.subscription sub
  WHERE sub.sub_name = :'sub' AND sub.sub_enabled ON CONFLICT (sub_name) DO UPDATE SET paused_at = excluded.paused_at;
SELECT ${s}.${api.disable}(:'sub', true);
SELECT pg_terminate_backend(:'pid'::int) WHERE :'pid' <> '0';
SELECT pg_sleep(0.5);
SELECT pg_replication_origin_advance(:'origin', :'lsn');
SELECT 'rewound ' || :'was' FROM pg_replication_origin_status WHERE external_id = :'origin' AND remote_lsn = :'lsn'::pg_lsn;
\\endif
\\endif
`,
    unpause: `${PAUSED_TABLE}
WITH stale AS (DELETE FROM distributed_postgres.paused_subscriptions
    WHERE paused_at < now() - interval '${PAUSE_LIMIT_SECONDS} seconds' RETURNING sub_name)
SELECT sub.sub_name, ${s}.${api.enable}(sub.sub_name, true) FROM ${s}.subscription sub JOIN stale ON stale.sub_name = sub.sub_name
  WHERE NOT sub.sub_enabled;
`,
  };
}

/**
 * An event trigger that puts a declared table into its replication set in the transaction that creates it, and
 * creates this group's geoshard partitions in the transaction that creates their parent. Without it a table the
 * application creates after the mesh is set up joins its set only at the next setup run, and every row written
 * meanwhile never reaches the other node groups; and rows of a geography cannot be written until then (both found by
 * the rehearsal). The statements above still cover tables that existed before the trigger.
 */
export function declaredTablesTrigger(api: PglogicalLikeApi, sets: { set: string; tables: string[] }[],
  partitions: { table: string; partition: string; create: string }[] = [], onCreate = ''): string[] {
  const s = api.schema;
  const declared = sets.flatMap(({ set, tables }) => tables.map((table) => `(${sqlLiteral(set)}, ${sqlLiteral(sqlQualified(table))})`));
  if (declared.length === 0 && onCreate === '') return [];
  const trigger = 'distributed_postgres_add_declared_tables';
  const create = `CREATE EVENT TRIGGER ${trigger} ON ddl_command_end WHEN TAG IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO') ` +
    'EXECUTE FUNCTION distributed_postgres.add_declared_tables()';
  const createPartitions = partitions.length === 0 ? '' :
    '    -- A geoshard parent: create the partitions this group holds, now.\n' +
    `    FOR part IN SELECT p.partition, p.ddl FROM (VALUES ${partitions.map((p) =>
      `(${sqlLiteral(sqlQualified(p.table))}, ${sqlLiteral(sqlQualified(p.partition))}, ${sqlLiteral(p.create)})`).join(', ')}) AS p(parent, partition, ddl)\n` +
    '        WHERE to_regclass(p.parent) = created.objid LOOP\n' +
    '      EXECUTE part.ddl;\n      relids := relids || to_regclass(part.partition)::oid;\n    END LOOP;\n';
  return [
    '-- Declared tables join their replication set when the application creates them (same transaction).',
    'CREATE SCHEMA IF NOT EXISTS distributed_postgres;',
    'CREATE OR REPLACE FUNCTION distributed_postgres.add_declared_tables() RETURNS event_trigger\n' +
    '  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $dpg$\n' +
    'DECLARE\n  created record;\n  part record;\n  declared record;\n' + (onCreate ? '  delta record;\n' : '') +
    '  relid oid;\n  relids oid[] := ARRAY[]::oid[];\nBEGIN\n' +
    "  FOR created IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE object_type = 'table' LOOP\n" +
    '    relids := relids || created.objid;\n' + createPartitions +
    '  END LOOP;\n' +
    '  FOREACH relid IN ARRAY relids LOOP\n' + onCreate +
    (declared.length === 0 ? '' :
    `    FOR declared IN SELECT d.set_name FROM (VALUES ${declared.join(', ')}) AS d(set_name, relation)\n` +
    '        WHERE to_regclass(d.relation) = relid LOOP\n' +
    `      PERFORM ${s}.${api.addTable}(set_name := declared.set_name, relation := relid::regclass, synchronize_data := false)\n` +
    `        WHERE EXISTS (SELECT 1 FROM ${s}.replication_set rs JOIN ${s}.local_node ln ON ln.node_id = rs.set_nodeid\n` +
    '            WHERE rs.set_name = declared.set_name)\n' +
    `          AND NOT EXISTS (SELECT 1 FROM ${s}.replication_set_table rt JOIN ${s}.replication_set rs ON rs.set_id = rt.set_id\n` +
    `            JOIN ${s}.local_node ln ON ln.node_id = rs.set_nodeid WHERE rs.set_name = declared.set_name AND rt.set_reloid = relid);\n` +
    '    END LOOP;\n') +
    '  END LOOP;\nEND\n$dpg$;',
    `SELECT ${sqlLiteral(create)}\n  WHERE NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = ${sqlLiteral(trigger)}) \\gexec`,
  ];
}

export function pglogicalLikeSql(api: PglogicalLikeApi, extensions: string[], topology: Topology, group: NodeGroup): MeshSql {
  const s = api.schema;
  const localSet = (set: string) => `SELECT 1 FROM ${s}.replication_set rs JOIN ${s}.local_node ln ON ln.node_id = rs.set_nodeid ` +
    `WHERE rs.set_name = ${sqlLiteral(set)}`;
  const sets = publishedSets(topology, group);
  const subs = subscriptionsOf(topology, group);
  const setup = [
    header(topology, group, api.engine, 'Mesh node'),
    '\\set ON_ERROR_STOP on',
    ...extensions.map((e) => `CREATE EXTENSION IF NOT EXISTS ${sqlIdent(e)};`),
    // Metrics: postgres_exporter's role (a member of pg_monitor) calls the extension's status function (and Spock's lag view).
    ...(topology.monitoring.enabled ? [
      `GRANT USAGE ON SCHEMA ${s} TO pg_monitor;`,
      ...(api.engine === 'spock' ? [`SELECT 'GRANT SELECT ON ${s}.lag_tracker TO pg_monitor' WHERE to_regclass('${s}.lag_tracker') IS NOT NULL \\gexec`] : []),
    ] : []),
    // The node comes first: sets and tables belong to it.
    `SELECT ${api.createNode(topology, group)}\n  WHERE NOT EXISTS (SELECT 1 FROM ${s}.local_node);`,
    ...[...new Set(sets.map((x) => x.set))].map((set) =>
      `SELECT ${s}.${api.createSet}(set_name := ${sqlLiteral(set)})\n  WHERE NOT EXISTS (${localSet(set)});`),
    ...partitionsSql(topology, group),
    ...sets.flatMap(({ set, tables }) => tables.map((table) =>
      `SELECT ${s}.${api.addTable}(set_name := ${sqlLiteral(set)}, relation := ${sqlRegclass(table)}, synchronize_data := false)\n` +
      `  WHERE ${sqlRegclass(table)} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${s}.replication_set_table rt\n` +
      `    JOIN ${s}.replication_set rs ON rs.set_id = rt.set_id JOIN ${s}.local_node ln ON ln.node_id = rs.set_nodeid\n` +
      `    WHERE rs.set_name = ${sqlLiteral(set)} AND rt.set_reloid = ${sqlRegclass(table)});`)),
    ...declaredTablesTrigger(api, sets, heldPartitions(topology, group), api.onCreateTable(topology)),
    ...api.extraSetup(topology, group),
  ];
  // One statement per subscription to create (each connects to its provider, so one unreachable group must not
  // hold back the others); adding missing sets is local and done for every subscription in one statement, which
  // keeps large meshes inside AWS's 16 KB user-data.
  const wantedSets = subs.map((sub) => `(${sqlLiteral(sub.name)}, ${sqlTextArray(sub.replicationSets)})`);
  const names = subs.map((sub) => sub.name);
  const undeclared = `FROM ${s}.subscription\n  WHERE starts_with(sub_name::text, ${sqlLiteral(ownSubscriptionPrefix(group))}) AND NOT sub_name::text = ANY (${sqlTextArray(names)})`;
  const subscriptions = [
    header(topology, group, api.engine, 'Subscriptions'),
    '-- Subscriptions to node groups the mesh no longer has (removed from the declaration): dropped with their replication',
    '-- origins. The provider\'s slot goes with its group, or is dropped here while the provider still answers.',
    `SELECT format('SELECT ${s}.${api.dropSubscription}(%L, true)', sub_name) ${undeclared} \\gexec`,
    '-- forward_origins is empty: nothing is forwarded, so nothing echoes back.',
    ...(api.keepsPermanentSlot && subs.length > 0 ? [
      '-- Each subscription streams from the slot Patroni has kept at its provider since that group\'s first boot: created',
      '-- with its initial sync marked done (that sync would drop the slot and start from now, losing every row the provider',
      '-- took before) and its replication origin at 0/0, so the provider sends from the slot\'s own position.',
    ] : []),
    ...subs.map((sub) => {
      const create = `SELECT ${s}.${api.createSubscription}(subscription_name := ${sqlLiteral(sub.name)}, provider_dsn := ${sqlLiteral(sub.providerDsn)},\n` +
        `    replication_sets := ${sqlTextArray(sub.replicationSets)}, synchronize_structure := false, synchronize_data := false,\n` +
        `    forward_origins := ${sqlTextArray(sub.forwardOrigins)})\n` +
        `  WHERE NOT EXISTS (SELECT 1 FROM ${s}.subscription WHERE sub_name = ${sqlLiteral(sub.name)});`;
      if (!api.keepsPermanentSlot) return create;
      const ofSub = `FROM ${s}.subscription sub WHERE sub.sub_name = ${sqlLiteral(sub.name)}`;
      return ['BEGIN;', create,
        `UPDATE ${s}.local_sync_status ss SET sync_status = 'r' ${ofSub}\n` +
        "  AND ss.sync_subid = sub.sub_id AND ss.sync_relname IS NULL AND ss.sync_status = 'i'\n" +
        '  AND NOT EXISTS (SELECT 1 FROM pg_replication_origin o WHERE o.roname = sub.sub_slot_name);',
        `SELECT pg_replication_origin_create(sub.sub_slot_name) ${ofSub}\n` +
        '  AND NOT EXISTS (SELECT 1 FROM pg_replication_origin o WHERE o.roname = sub.sub_slot_name);',
        'COMMIT;'].join('\n');
    }),
    ...(subs.length === 0 ? [] : [
      `SELECT ${s}.${api.addSubscriptionSet}(wanted.sub_name::name, set_name::name)\n` +
      `  FROM (VALUES\n    ${wantedSets.join(',\n    ')}) AS wanted(sub_name, sets), unnest(wanted.sets) AS set_name\n` +
      `  WHERE EXISTS (SELECT 1 FROM ${s}.subscription WHERE sub_name = wanted.sub_name\n` +
      '    AND NOT set_name = ANY (coalesce(sub_replication_sets, ARRAY[]::text[])));',
    ]),
  ];
  const verify = `SELECT (CASE WHEN EXISTS (SELECT 1 FROM ${s}.local_node) THEN 0 ELSE 1 END)\n` +
    `  + (SELECT count(*) FROM unnest(${sqlTextArray(names)}) AS expected(name)\n` +
    `     WHERE NOT EXISTS (SELECT 1 FROM ${s}.subscription WHERE sub_name = expected.name))::int\n` +
    `  + (SELECT count(*) ${undeclared.replace(/\n/g, '\n   ')})::int;\n`;
  const downSubscriptions = `SELECT subscription_name FROM ${s}.${api.showStatus}()\n` +
    `  WHERE status = 'down' AND ${api.restartsDownSubscriptions ? nameIn('subscription_name', names) : 'false'} ORDER BY 1;\n`;
  const restartSubscription = `SELECT ${s}.${api.disable}(:'sub', true);\nSELECT ${s}.${api.enable}(:'sub', true);\n`;
  const problems = api.problems(topology);
  const resync = resyncSql(topology, group, {
    // pglogical and Spock name the replication origin after the slot.
    subscriptions: `(SELECT sub.sub_name::text AS sub_name, sub.sub_slot_name::text AS slot, i.if_dsn AS dsn, sub.sub_slot_name::text AS origin,\n` +
      `    EXISTS (SELECT 1 FROM ${s}.${api.showStatus}() st WHERE st.subscription_name = sub.sub_name AND st.status = 'replicating') AS streaming\n` +
      `    FROM ${s}.subscription sub JOIN ${s}.node_interface i ON i.if_id = sub.sub_origin_if)`,
    disable: `SELECT ${s}.${api.disable}(sub_name, true) FROM ${s}.subscription WHERE sub_name = :'sub' AND sub_enabled;\n`,
  });
  return {
    ...(resync ? { resync } : {}),
    resume: resumeSql(api),
    setup: setup.join('\n') + '\n',
    subscriptions: subscriptions.join('\n') + '\n',
    verify,
    downSubscriptions,
    restartSubscription,
    ...(problems === undefined ? {} : { problems }),
  };
}

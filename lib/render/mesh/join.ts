/**
 * A node group joining a running fleet with the rows the fleet already holds (engines whose subscriptions stream from
 * Patroni's permanent slots and resolve conflicts by commit time: pglogical).
 *
 * A group added to a running fleet gets its slots on every provider when the providers' new mesh documents are
 * deployed (their leaders write them to Patroni's dynamic configuration), so each provider Q keeps Q's changes from
 * that moment, L(Q), for it. What Q committed before L(Q) must come from a copy. Before the group's first subscription,
 * its leader's mesh-keeper runs `join.sql`, which:
 *   1. waits until every provider has the slot for this group, and until each copy source P has confirmed every other
 *      provider Q's changes up to L(Q) (Q's slot for P has confirmed_flush_lsn >= Q's slot for this group's), so
 *      P's rows include everything Q committed before L(Q): no gap;
 *   2. copies the declared tables from P in one statement (one snapshot), and inserts the rows in one transaction under
 *      a replication origin of its own with commit time 2000-01-01, so every change streamed afterwards wins over a
 *      copied row under last-update-wins: changes committed between L(Q) and P's snapshot arrive twice (as a copied
 *      row and from Q's slot) and the newer one is kept, as everywhere else in the fleet;
 *   3. records the join, after which the subscriptions are made as usual (from the permanent slots, origin 0/0).
 * A group of a fleet's first formation (no declared table at the sources yet) has nothing to copy: every slot it
 * streams from was made before any application row. A group that already subscribes (an earlier version) is left.
 * The copy is consistent per source and gap-free; under `keep_local` or `first_update_wins` a copied row would win
 * over a newer streamed change, so the copy is for last-update-wins and apply-remote (validation says so).
 */
import { NodeGroup, Subscription, Topology } from '../../topology/topology';
import { FILES } from '../paths';
import { oneLine, sqlLiteral, sqlTextArray } from '../quote';
import { ownSubscriptionPrefix, publishedSets, subscriptionsOf } from './engine';

/** The replication origin the copied rows are committed under (so they are never sent on to the other groups). */
export const JOIN_ORIGIN = 'dpg_join';
/** Commit time of the copied rows: older than any change, so under last-update-wins every streamed change wins. */
export const JOIN_COMMIT_TIME = '2000-01-01 00:00:00+00';

/**
 * Whether a node group added to a running fleet copies the rows the fleet holds (see the file comment): pglogical
 * under the conflict policies where a newer streamed change wins over a copied row.
 */
export function joinsWithRows(topology: Topology): boolean {
  return topology.replication.engine === 'pglogical' && ['last_update_wins', 'apply_remote'].includes(topology.replication.conflictPolicy);
}

export interface JoinSource {
  readonly provider: NodeGroup;
  readonly dsn: string;
  /** The declared tables copied from this provider (qualified names), sorted. */
  readonly tables: string[];
}

/** Each replication set this group subscribes to is copied from the first subscription (by name) that carries it. */
export function joinSources(topology: Topology, group: NodeGroup): JoinSource[] {
  const assigned = new Set<string>();
  const sources: JoinSource[] = [];
  for (const sub of subscriptionsOf(topology, group)) {
    const provider = topology.nodeGroups.find((g) => g.name === sub.provider)!;
    const published = publishedSets(topology, provider);
    const tables = sub.replicationSets.filter((set) => !assigned.has(set))
      .flatMap((set) => { assigned.add(set); return published.find((p) => p.set === set)?.tables ?? []; });
    if (tables.length > 0) sources.push({ provider, dsn: sub.providerDsn, tables: [...new Set(tables)].sort() });
  }
  return sources;
}

/** The file a source's copy runs from (mesh document names are `[a-z0-9-]+.sql`). */
export function joinCopyFile(index: number): string {
  return `join-copy-${index + 1}.sql`;
}

/** Run at source P as the mesh user: every row of the tables that exist there, in one statement (one snapshot). */
export function joinCopySql(source: JoinSource): string {
  return `-- ${oneLine(`Run at node group ${source.provider.name}'s leader by a joining group: its rows of ${source.tables.join(', ')}, in one snapshot.`)}\n` +
    "SELECT format('COPY (%s) TO STDOUT', string_agg(format('SELECT %L, row_to_json(r)::text FROM %s r', t, to_regclass(t)), ' UNION ALL ' ORDER BY t))\n" +
    `  FROM unnest(${sqlTextArray(source.tables)}) t WHERE to_regclass(t) IS NOT NULL HAVING count(*) > 0 \\gexec\n`;
}

/**
 * join.sql (see the file comment), run by mesh-keeper on the group's leader as postgres with the mesh .pgpass. Prints
 * `waiting: <why>` while it cannot copy yet, `copied <n> rows from ...` when it did, nothing once joined.
 * `slotAt(provider, sub)` names the slot at `provider` that subscription `sub` streams from.
 */
export function joinSql(topology: Topology, group: NodeGroup, schema: string,
  slotAt: (provider: NodeGroup, sub: Subscription) => string): string | undefined {
  const sources = joinSources(topology, group);
  if (sources.length === 0) return undefined;
  const subs = subscriptionsOf(topology, group);
  const local = `host=${FILES.socketDir} port=${topology.postgres.port} dbname=${topology.postgres.database}`;
  const groupOf = (name: string) => topology.nodeGroups.find((g) => g.name === name)!;
  const subOf = (subscriber: string, provider: string) =>
    topology.subscriptions.find((s) => s.subscriber === subscriber && s.provider === provider);
  const lines = [
    `-- ${oneLine(`Joining the mesh with the rows the fleet holds: node group '${group.name}' of fleet '${topology.fleetName}'.`)}`,
    '-- Rendered by cdktf-distributed-postgres; run by mesh-keeper on the group\'s leader before its first subscription.',
    '\\set ON_ERROR_STOP on',
    '\\o /dev/null',
    'SET client_min_messages = warning;',
    'CREATE SCHEMA IF NOT EXISTS distributed_postgres;',
    'CREATE TABLE IF NOT EXISTS distributed_postgres.joined (source text NOT NULL, copied bigint NOT NULL, at timestamptz NOT NULL DEFAULT now());',
    '-- Subscriptions made before this file existed (an earlier version): that group has its rows.',
    "INSERT INTO distributed_postgres.joined (source, copied) SELECT 'subscribed before the join existed', 0\n" +
    `  WHERE NOT EXISTS (SELECT 1 FROM distributed_postgres.joined) AND EXISTS (SELECT 1 FROM ${schema}.subscription\n` +
    `    WHERE starts_with(sub_name::text, ${sqlLiteral(ownSubscriptionPrefix(group))}));`,
    'SELECT EXISTS (SELECT 1 FROM distributed_postgres.joined) AS joined \\gset',
    '\\if :joined',
    '\\q',
    '\\endif',
  ];
  const connect = (dsn: string) => `\\connect ${sqlLiteral(dsn)}`;
  // 1. Which declared tables each source has (none anywhere: a first formation, nothing to copy).
  sources.forEach((source, i) => {
    lines.push(`-- Source ${i + 1}: node group ${oneLine(source.provider.name)}.`, connect(source.dsn),
      `SELECT coalesce(string_agg(t, ',' ORDER BY t), '') AS tables_${i + 1} FROM unnest(${sqlTextArray(source.tables)}) t WHERE to_regclass(t) IS NOT NULL \\gset`);
  });
  const all = sources.map((_, i) => `:'tables_${i + 1}'`).join(" || ',' || ");
  lines.push(connect(local),
    `SELECT ${sources.map((_, i) => `:'tables_${i + 1}' = ''`).join(' AND ')} AS nothing \\gset`,
    '\\if :nothing',
    "INSERT INTO distributed_postgres.joined (source, copied) VALUES ('no declared table at the sources yet: nothing to copy', 0);",
    '\\q',
    '\\endif',
    '-- The application creates its tables here first (its deploy\'s migration); the copy needs them.',
    `SELECT string_agg(t, ', ') AS missing FROM unnest(string_to_array(${all}, ',')) t WHERE t <> '' AND to_regclass(t) IS NULL \\gset`,
    '\\if :{?missing}',
    '\\echo waiting: the tables :missing hold rows to copy and do not exist here yet (the application creates them)',
    '\\q',
    '\\endif');
  // 2. No gap: every provider keeps a slot for this group, and each source has confirmed every other provider's
  // changes up to where that provider's slot for this group starts.
  for (const sub of subs) {
    const provider = groupOf(sub.provider);
    const own = slotAt(provider, sub);
    const checks = sources.filter((s) => s.provider !== provider).flatMap((s) => {
      const viaSource = subOf(s.provider.name, provider.name);
      return viaSource ? [{ source: s.provider.name, slot: slotAt(provider, viaSource) }] : [];
    });
    lines.push(`-- Node group ${oneLine(provider.name)}: its slot for this group${checks.length ? ', and the sources\' positions there' : ''}.`,
      connect(sub.providerDsn),
      `SELECT CASE WHEN n.slot_name IS NULL THEN ${sqlLiteral(`node group ${provider.name} has no slot ${own} for this group yet (its leader writes it once it holds its new mesh document)`)}` +
      checks.map((c, k) => `\n    WHEN s${k}.confirmed_flush_lsn IS NULL OR s${k}.confirmed_flush_lsn < n.confirmed_flush_lsn THEN ` +
        sqlLiteral(`node group ${c.source} has not yet confirmed node group ${provider.name}'s changes up to where its slot for this group starts`)).join('') +
      ' END AS wait\n' +
      `  FROM (SELECT 1) one LEFT JOIN pg_replication_slots n ON n.slot_name = ${sqlLiteral(own)}` +
      checks.map((c, k) => `\n    LEFT JOIN pg_replication_slots s${k} ON s${k}.slot_name = ${sqlLiteral(c.slot)}`).join('') + ' \\gset',
      '\\if :{?wait}',
      '\\echo waiting: :wait',
      '\\q',
      '\\endif');
  }
  // 3. The copy: each source's rows into a local table, then into the tables in one transaction.
  lines.push(connect(local),
    'CREATE UNLOGGED TABLE IF NOT EXISTS distributed_postgres.join_rows (rel text NOT NULL, r text NOT NULL);',
    'TRUNCATE distributed_postgres.join_rows;');
  sources.forEach((source, i) => {
    const program = `psql -X -q -tA -v ON_ERROR_STOP=1 -f ${FILES.meshDir}/${joinCopyFile(i)} "${source.dsn}"`;
    lines.push(`\\copy distributed_postgres.join_rows (rel, r) FROM PROGRAM ${sqlLiteral(program)}`);
  });
  const names = sources.map((s) => s.provider.name).join(', ');
  lines.push(
    `SELECT pg_replication_origin_create(${sqlLiteral(JOIN_ORIGIN)}) WHERE NOT EXISTS (SELECT 1 FROM pg_replication_origin WHERE roname = ${sqlLiteral(JOIN_ORIGIN)});`,
    `SELECT pg_replication_origin_session_setup(${sqlLiteral(JOIN_ORIGIN)});`,
    'BEGIN;',
    'SET LOCAL session_replication_role = replica;',
    `SELECT pg_replication_origin_xact_setup('0/0', ${sqlLiteral(JOIN_COMMIT_TIME)});`,
    "SELECT format('INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM distributed_postgres.join_rows j, json_populate_record(NULL::%s, j.r::json) x '\n" +
    "    || 'WHERE j.rel = %L ON CONFLICT DO NOTHING', d.reg, a.cols, a.vals, d.reg, d.rel)\n" +
    '  FROM (SELECT DISTINCT rel, to_regclass(rel) AS reg FROM distributed_postgres.join_rows) d,\n' +
    "    LATERAL (SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) AS cols, string_agg('x.' || quote_ident(attname), ', ' ORDER BY attnum) AS vals\n" +
    "      FROM pg_attribute WHERE attrelid = d.reg AND attnum > 0 AND NOT attisdropped AND attgenerated = '') a \\gexec",
    `INSERT INTO distributed_postgres.joined (source, copied) SELECT ${sqlLiteral(`node group ${names}`)}, count(*) FROM distributed_postgres.join_rows;`,
    'TRUNCATE distributed_postgres.join_rows;',
    'COMMIT;',
    'SELECT pg_replication_origin_session_reset();',
    '\\o',
    "SELECT format('copied %s rows from %s', copied, source) FROM distributed_postgres.joined;",
  );
  return lines.join('\n') + '\n';
}

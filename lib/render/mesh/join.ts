/**
 * A node group joining a running fleet with the rows the fleet already holds (engines whose subscriptions stream from
 * Patroni's permanent slots: pglogical, which resolves the copy's overlap by commit time, and native, whose copy meets
 * the slots exactly; see JoinFlavour).
 *
 * A group added to a running fleet gets its slots on every provider when the providers' new mesh documents are
 * deployed (their leaders write them to Patroni's dynamic configuration), so each provider Q keeps Q's changes from
 * that moment, L(Q), for it. What Q committed before L(Q) must come from a copy. Before the group's first subscription,
 * its leader's mesh-keeper runs `join.sql`, which:
 *   1. waits until every provider has the slot for this group, and until each copy source P has confirmed every other
 *      provider Q's changes up to L(Q) (Q's slot for P has confirmed_flush_lsn >= Q's slot for this group's), so
 *      P's rows include everything Q committed before L(Q): no gap;
 *   2. copies the declared tables from P in one statement (one snapshot), and inserts the rows in one transaction under
 *      a replication origin of its own with commit time 2000-01-01. pglogical: every change streamed afterwards wins
 *      over a copied row under last-update-wins, so changes committed between L(Q) and P's snapshot, which arrive
 *      twice (as a copied row and from Q's slot), end as the newer version, as everywhere else in the fleet. Native
 *      (no conflict resolution): P's slot for the group is recreated at the copy's snapshot and every other Q's slot
 *      is advanced to what P had applied of Q at that snapshot, so nothing arrives twice;
 *   3. records the join, after which the subscriptions are made as usual (from the permanent slots, origin 0/0).
 * A group of a fleet's first formation (no declared table at the sources yet) has nothing to copy: every slot it
 * streams from was made before any application row. A group that already subscribes (an earlier version) is left.
 * The copy is consistent per source and gap-free; under `keep_local` or `first_update_wins` a copied row would win
 * over a newer streamed change, so pglogical joins only under last-update-wins and apply-remote (DPG-ADD-WITHOUT-ROWS
 * warns when a group is added otherwise).
 */
import { NodeGroup, Subscription, Topology } from '../../topology/topology';
import { FILES } from '../paths';
import { oneLine, sqlIdent, sqlLiteral, sqlTextArray } from '../quote';
import { ownSubscriptionPrefix, publishedSets, resumeSlotName, subscriptionsOf } from './engine';
import { RESYNC_SETTLE_SECONDS, RESYNC_TABLE, RESYNC_TABLE_SQL } from './resync';

/** The replication origin the copied rows are committed under (so they are never sent on to the other groups). */
export const JOIN_ORIGIN = 'dpg_join';
/** Commit time of the copied rows: older than any change, so under last-update-wins every streamed change wins. */
export const JOIN_COMMIT_TIME = '2000-01-01 00:00:00+00';

/**
 * Whether a node group added to a running fleet copies the rows the fleet holds (see the file comment): pglogical
 * under the conflict policies where a newer streamed change wins over a copied row, and native (PostgreSQL 16+), whose
 * copy meets every slot exactly, when one provider carries every replication set the group subscribes to.
 */
export function joinsWithRows(topology: Topology, group: NodeGroup): boolean {
  const { engine, conflictPolicy } = topology.replication;
  if (engine === 'native') return joinSources(topology, group).length <= 1;
  return engine === 'pglogical' && ['last_update_wins', 'apply_remote'].includes(conflictPolicy);
}

/** How an engine's join differs: where its subscriptions are listed, and whether the copy meets the slots exactly. */
export interface JoinFlavour {
  /** `EXISTS (...)` over this group's own subscriptions (their names start with `prefix`). */
  ownSubscriptions(prefix: string): string;
  /**
   * Native: the copy pauses the source's apply workers, recreates the source's slot for the joining group at the
   * copy's snapshot, and the other providers' slots for it are advanced to what the source had applied of them, so
   * nothing arrives twice (native has no conflict resolution). pglogical: the copy is older than every streamed change.
   */
  readonly exact: boolean;
  /**
   * Drops this group's own subscriptions (names starting with `prefix`) for a re-sync, leaving the providers' slots to
   * the re-sync (pglogical drops the remote slot while the provider answers; Patroni recreates a dropped permanent slot).
   */
  dropOwnSubscriptions(prefix: string): string;
}

export const PGLOGICAL_JOIN: JoinFlavour = {
  ownSubscriptions: (prefix) => `EXISTS (SELECT 1 FROM pglogical.subscription\n    WHERE starts_with(sub_name::text, ${sqlLiteral(prefix)}))`,
  exact: false,
  dropOwnSubscriptions: (prefix) => 'SELECT pglogical.drop_subscription(sub_name, true) FROM pglogical.subscription\n' +
    `  WHERE starts_with(sub_name::text, ${sqlLiteral(prefix)});`,
};

export const NATIVE_JOIN: JoinFlavour = {
  ownSubscriptions: (prefix) => 'EXISTS (SELECT 1 FROM pg_subscription WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())\n' +
    `    AND starts_with(subname::text, ${sqlLiteral(prefix)}))`,
  exact: true,
  // Without a slot first, so DROP SUBSCRIPTION neither connects to the provider nor needs to run outside a transaction.
  dropOwnSubscriptions: (prefix) => "SELECT format('ALTER SUBSCRIPTION %I DISABLE', subname), format('ALTER SUBSCRIPTION %I SET (slot_name = NONE)', subname),\n" +
    "    format('DROP SUBSCRIPTION %I', subname) FROM pg_subscription WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())\n" +
    `    AND starts_with(subname::text, ${sqlLiteral(prefix)}) \\gexec`,
};

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

/** How long a re-sync waits for the application's transactions on the copied tables before it tries again later. */
export const RESYNC_LOCK_TIMEOUT_SECONDS = 10;
/** How long a re-sync waits for the sources to confirm this group's changes (its gate) before it tries again later. */
export const RESYNC_GATE_SECONDS = 20;

/**
 * The slots at this group that its join sources stream from: a re-sync replaces this group's rows by a source's, so
 * each source must first hold every change this group made (confirmed on these slots). Undefined when a source does
 * not subscribe to this group (its copy could not hold this group's own rows): no automatic re-sync then.
 */
export function resyncGateSlots(topology: Topology, group: NodeGroup,
  slotAt: (provider: NodeGroup, sub: Subscription) => string): string[] | undefined {
  const slots: string[] = [];
  for (const source of joinSources(topology, group)) {
    const back = topology.subscriptions.find((s) => s.subscriber === source.provider.name && s.provider === group.name);
    if (!back) return undefined;
    slots.push(slotAt(group, back));
  }
  return slots.length ? slots : undefined;
}

/**
 * The re-sync's gate, inside the transaction that locked the copied tables: waits until every source has confirmed
 * this group's WAL up to now (a message is written so the senders move past it even when nothing else is), or fails
 * (and the re-sync is tried again later). A lost gate slot means the source lacks changes of this group that only
 * this group has: replacing its rows would lose them, so the re-sync stops for a decision.
 */
function resyncGateSql(slots: string[]): string {
  return `DO $dpg$
DECLARE target pg_lsn := pg_current_wal_lsn(); lagging text; lost text;
BEGIN
  PERFORM pg_logical_emit_message(false, 'distributed_postgres', 're-sync gate');
  FOR i IN 1..${RESYNC_GATE_SECONDS * 10} LOOP
    SELECT string_agg(w.slot || ' (' || coalesce(s.wal_status, 'missing') || ')', ', ' ORDER BY w.slot),
        string_agg(w.slot, ', ' ORDER BY w.slot) FILTER (WHERE s.wal_status = 'lost')
      INTO lagging, lost FROM unnest(${sqlTextArray(slots)}) w(slot) LEFT JOIN pg_replication_slots s ON s.slot_name = w.slot
      WHERE s.slot_name IS NULL OR s.wal_status = 'lost' OR s.confirmed_flush_lsn IS NULL OR s.confirmed_flush_lsn < target;
    EXIT WHEN lagging IS NULL;
    IF lost IS NOT NULL THEN
      RAISE EXCEPTION 're-sync needs a decision: this group lost the slot(s) % too (both directions lost changes)', lost;
    END IF;
    IF i = ${RESYNC_GATE_SECONDS * 10} THEN
      RAISE EXCEPTION 're-sync: the sources have not confirmed this group''s changes up to % within ${RESYNC_GATE_SECONDS} s: %', target, lagging;
    END IF;
    PERFORM pg_sleep(0.1);
  END LOOP;
END $dpg$;`;
}

/**
 * resync-prepare.sql (run by mesh-keeper on the group's leader as postgres, see resync.ts): once a re-sync has been
 * needed for RESYNC_SETTLE_SECONDS, prints \`due <provider dsn>\` per provider; run again with psql variable \`go\` (once
 * every provider answers), drops this group's subscriptions and its join record, so join.sql joins again as a re-sync,
 * and prints \`prepared\`. Prints \`decision: <why>\` when the re-sync cannot be automatic, and nothing when none is due.
 */
export function resyncPrepareSql(group: NodeGroup, flavour: JoinFlavour, gate: string[], providerDsns: string[]): string {
  const prefix = ownSubscriptionPrefix(group);
  return [
    `-- ${oneLine(`Re-sync of node group '${group.name}': drops its subscriptions and its join record, so join.sql copies again.`)}`,
    '\\set ON_ERROR_STOP on',
    '\\o /dev/null',
    'SET client_min_messages = warning;',
    RESYNC_TABLE_SQL,
    'CREATE TABLE IF NOT EXISTS distributed_postgres.joined (source text NOT NULL, copied bigint NOT NULL, at timestamptz NOT NULL DEFAULT now());',
    `-- Due once the first record is ${RESYNC_SETTLE_SECONDS} s old (a partition that heals and breaks again does not start it), and not yet prepared.`,
    `SELECT EXISTS (SELECT 1 FROM ${RESYNC_TABLE} WHERE detected_at < now() - interval '${RESYNC_SETTLE_SECONDS} seconds')\n` +
    `  AND (EXISTS (SELECT 1 FROM distributed_postgres.joined) OR ${flavour.ownSubscriptions(prefix)}) AS due \\gset`,
    '\\if :due',
    "-- A source that lost this group's changes too (its slot here is lost): both directions lost changes.",
    `SELECT string_agg(slot_name, ', ' ORDER BY slot_name) AS lost FROM pg_replication_slots WHERE slot_name = ANY (${sqlTextArray(gate)}) AND wal_status = 'lost' \\gset`,
    '\\if :{?lost}',
    '\\echo decision: the slot(s) :lost of the copy source(s) here are lost too: both directions lost changes, and replacing the rows of this group would lose its own; re-sync by hand (README: Re-sync)',
    '\\q',
    '\\endif',
    // Asked without `go` first: it prints the providers to reach, and the caller runs it again with -v go=1 once every
    // one answers (the group has no subscription from the drop until the join is done).
    '\\if :{?go}',
    flavour.dropOwnSubscriptions(prefix),
    'DELETE FROM distributed_postgres.joined;',
    '\\echo prepared',
    '\\else',
    '\\o',
    `SELECT 'due ' || dsn FROM unnest(${sqlTextArray(providerDsns)}) dsn;`,
    '\\endif',
    '\\endif',
  ].join('\n') + '\n';
}

/** The file a source's copy runs from (mesh document names are `[a-z0-9-]+.sql`). */
export function joinCopyFile(index: number): string {
  return `join-copy-${index + 1}.sql`;
}

const COPY_ROWS = (tables: string[]) =>
  "SELECT format('COPY (%s) TO STDOUT', string_agg(format('SELECT %L, row_to_json(r)::text FROM %s r', t, to_regclass(t)), ' UNION ALL ' ORDER BY t))\n" +
  `  FROM unnest(${sqlTextArray(tables)}) t WHERE to_regclass(t) IS NOT NULL HAVING count(*) > 0 \\gexec\n`;

/**
 * Run at source P as the mesh user: every row of the tables that exist there, in one statement (one snapshot). The
 * exact flavour runs on a replication connection: it pauses P's apply workers and records what P applied of each
 * provider (join_pause / join_positions, functions of P's setup), recreates P's slot for the joining group at the
 * snapshot the rows are read in, and lets P apply again before the copy.
 */
export function joinCopySql(source: JoinSource, flavour: JoinFlavour, joiner: NodeGroup, slot: string): string {
  const head = `-- ${oneLine(`Run at node group ${source.provider.name}'s leader by joining group ${joiner.name}: its rows of ${source.tables.join(', ')}, in one snapshot.`)}\n`;
  if (!flavour.exact) return head + COPY_ROWS(source.tables);
  return head +
    `SELECT distributed_postgres.join_pause() \\g /dev/null\n` +
    `SELECT distributed_postgres.join_positions(${sqlLiteral(joiner.name)}) \\g /dev/null\n` +
    `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ${sqlLiteral(slot)} AND NOT active \\g /dev/null\n` +
    'BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;\n' +
    `CREATE_REPLICATION_SLOT ${sqlIdent(slot)} LOGICAL pgoutput (SNAPSHOT 'use') \\g /dev/null\n` +
    `\\! psql -X -q "${source.dsn}" -c 'SELECT distributed_postgres.join_resume()' >/dev/null 2>&1\n` +
    COPY_ROWS(source.tables) +
    'COMMIT;\n';
}

/**
 * The functions the exact flavour's copy calls at its source (part of every native group's setup; SECURITY DEFINER,
 * executable by the mesh role). join_pause disables this group's enabled mesh subscriptions (remembered in
 * join_pauses); join_positions waits until their apply workers have exited and records, for the joining group, what
 * this group applied of each provider (its replication origin); join_resume enables the paused ones again. A pause
 * nobody resumed (the joining group's copy failed) is resumed by this group's own mesh-keeper after
 * `JOIN_PAUSE_LIMIT_SECONDS` (see `joinPauseCleanupSql`).
 */
export function joinPauseFunctionsSql(group: NodeGroup, meshUser: string): string[] {
  const ours = 'subdbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ' +
    `AND starts_with(subname::text, ${sqlLiteral(ownSubscriptionPrefix(group))})`;
  const definer = 'LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp';
  return [
    '-- A node group joining the fleet copies its rows from here with this group\'s apply paused for a moment (join.ts).',
    'CREATE SCHEMA IF NOT EXISTS distributed_postgres;',
    'CREATE TABLE IF NOT EXISTS distributed_postgres.join_pauses (sub_name name PRIMARY KEY, paused_at timestamptz NOT NULL);',
    'CREATE TABLE IF NOT EXISTS distributed_postgres.join_positions (joiner text NOT NULL, sub_name name NOT NULL, position pg_lsn, at timestamptz NOT NULL, PRIMARY KEY (joiner, sub_name));',
    `CREATE OR REPLACE FUNCTION distributed_postgres.join_pause() RETURNS void ${definer} AS $dpg$\nDECLARE s record;\nBEGIN\n` +
    `  FOR s IN SELECT subname FROM pg_subscription WHERE ${ours} AND subenabled LOOP\n` +
    '    INSERT INTO distributed_postgres.join_pauses VALUES (s.subname, now()) ON CONFLICT (sub_name) DO UPDATE SET paused_at = now();\n' +
    "    EXECUTE format('ALTER SUBSCRIPTION %I DISABLE', s.subname);\n  END LOOP;\nEND $dpg$;",
    `CREATE OR REPLACE FUNCTION distributed_postgres.join_positions(joiner text) RETURNS void ${definer} AS $dpg$\nBEGIN\n` +
    '  FOR i IN 1..300 LOOP\n' +
    `    EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_stat_subscription w WHERE w.pid IS NOT NULL AND w.subid IN (SELECT oid FROM pg_subscription WHERE ${ours}));\n` +
    "    IF i = 300 THEN RAISE EXCEPTION 'apply workers still running 30 s after the pause'; END IF;\n" +
    '    PERFORM pg_sleep(0.1);\n  END LOOP;\n' +
    '  INSERT INTO distributed_postgres.join_positions\n' +
    `    SELECT joiner, s.subname, pg_replication_origin_progress('pg_' || s.oid, true), now() FROM pg_subscription s WHERE ${ours}\n` +
    '    ON CONFLICT ON CONSTRAINT join_positions_pkey DO UPDATE SET position = excluded.position, at = excluded.at;\nEND $dpg$;',
    `CREATE OR REPLACE FUNCTION distributed_postgres.join_resume() RETURNS void ${definer} AS $dpg$\nDECLARE s record;\nBEGIN\n` +
    '  FOR s IN DELETE FROM distributed_postgres.join_pauses RETURNING sub_name LOOP\n' +
    "    EXECUTE format('ALTER SUBSCRIPTION %I ENABLE', s.sub_name);\n  END LOOP;\nEND $dpg$;",
    ...['join_pause()', 'join_positions(text)', 'join_resume()'].map((f) =>
      `REVOKE ALL ON FUNCTION distributed_postgres.${f} FROM PUBLIC;\nGRANT EXECUTE ON FUNCTION distributed_postgres.${f} TO ${sqlIdent(meshUser)};`),
    `GRANT USAGE ON SCHEMA distributed_postgres TO ${sqlIdent(meshUser)};`,
    `GRANT SELECT ON distributed_postgres.join_positions TO ${sqlIdent(meshUser)};`,
  ];
}

/** A pause no joining group resumed is resumed by the paused group's own mesh-keeper after this long. */
export const JOIN_PAUSE_LIMIT_SECONDS = 120;

/** In the subscriptions SQL of an exact-flavour group: resumes a pause older than `JOIN_PAUSE_LIMIT_SECONDS`. */
export function joinPauseCleanupSql(): string {
  return `-- A joining group's copy paused these and did not resume them (it failed): resumed after ${JOIN_PAUSE_LIMIT_SECONDS} s.\n` +
    `SELECT format('ALTER SUBSCRIPTION %I ENABLE', sub_name) FROM distributed_postgres.join_pauses WHERE paused_at < now() - interval '${JOIN_PAUSE_LIMIT_SECONDS} seconds' \\gexec\n` +
    `DELETE FROM distributed_postgres.join_pauses WHERE paused_at < now() - interval '${JOIN_PAUSE_LIMIT_SECONDS} seconds';\n`;
}

/**
 * join.sql (see the file comment), run by mesh-keeper on the group's leader as postgres with the mesh .pgpass. Prints
 * `waiting: <why>` while it cannot copy yet, `copied <n> rows from ...` when it did, nothing once joined.
 * `slotAt(provider, sub)` names the slot at `provider` that subscription `sub` streams from.
 */
export function joinSql(topology: Topology, group: NodeGroup, flavour: JoinFlavour,
  slotAt: (provider: NodeGroup, sub: Subscription) => string): string | undefined {
  const sources = joinSources(topology, group);
  // The exact flavour moves each provider's slot to one point: one source (a geoshard served by another provider
  // would need a second point). Such a group gets no join (DPG-ADD-WITHOUT-ROWS says so when it is added).
  if (sources.length === 0 || (flavour.exact && sources.length > 1)) return undefined;
  const subs = subscriptionsOf(topology, group);
  const gate = resyncGateSlots(topology, group, slotAt);
  const local = `host=${FILES.socketDir} port=${topology.postgres.port} dbname=${topology.postgres.database}`;
  const groupOf = (name: string) => topology.nodeGroups.find((g) => g.name === name)!;
  const subOf = (subscriber: string, provider: string) =>
    topology.subscriptions.find((s) => s.subscriber === subscriber && s.provider === provider);
  // A re-sync (resync.ts): resync-prepare.sql dropped this group's subscriptions and its join record; join again. Checked
  // before the subscriptions made before this file existed, which would be taken for a join.
  const resyncCheck = gate === undefined ? [] : [
    RESYNC_TABLE_SQL,
    `SELECT EXISTS (SELECT 1 FROM ${RESYNC_TABLE}) AS resync,\n` +
    `  NOT EXISTS (SELECT 1 FROM distributed_postgres.joined) AND ${flavour.ownSubscriptions(ownSubscriptionPrefix(group))} AS unprepared \\gset`,
    '\\if :resync',
    '\\if :unprepared',
    // (No apostrophe in an \echo: psql reads its quotes even in a branch it skips.)
    '\\echo waiting: re-sync: the subscriptions of this group are still there (resync-prepare.sql drops them first)',
    '\\q',
    '\\endif',
    '\\endif',
  ];
  const lines = [
    `-- ${oneLine(`Joining the mesh with the rows the fleet holds: node group '${group.name}' of fleet '${topology.fleetName}'.`)}`,
    '-- Rendered by cdktf-distributed-postgres; run by mesh-keeper on the group\'s leader before its first subscription.',
    '\\set ON_ERROR_STOP on',
    '\\o /dev/null',
    'SET client_min_messages = warning;',
    'CREATE SCHEMA IF NOT EXISTS distributed_postgres;',
    'CREATE TABLE IF NOT EXISTS distributed_postgres.joined (source text NOT NULL, copied bigint NOT NULL, at timestamptz NOT NULL DEFAULT now());',
    ...resyncCheck,
    '-- Subscriptions made before this file existed (an earlier version): that group has its rows.',
    "INSERT INTO distributed_postgres.joined (source, copied) SELECT 'subscribed before the join existed', 0\n" +
    `  WHERE NOT EXISTS (SELECT 1 FROM distributed_postgres.joined) AND ${flavour.ownSubscriptions(ownSubscriptionPrefix(group))};`,
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
    ...(gate === undefined ? [] : ['\\if :resync', `DELETE FROM ${RESYNC_TABLE};`, '\\endif']),
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
      ...(gate === undefined ? [] : [
        '\\if :resync',
        '-- Re-sync: the slots this group lost there are dropped (Patroni recreates its permanent slots at the current position).',
        `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name IN (${sqlLiteral(own)}, ${sqlLiteral(resumeSlotName(own))})\n` +
        "  AND wal_status = 'lost' AND NOT active;",
        '\\endif']),
      `SELECT CASE WHEN n.slot_name IS NULL THEN ${sqlLiteral(`node group ${provider.name} has no slot ${own} for this group yet (its leader writes it once it holds its new mesh document)`)}` +
      `\n    WHEN n.wal_status = 'lost' THEN ${sqlLiteral(`node group ${provider.name}'s slot ${own} for this group is lost`)}` +
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
  const copy = sources.map((source, i) => {
    const dsn = flavour.exact ? `${source.dsn} replication=database` : source.dsn;
    const program = `psql -X -q -tA -v ON_ERROR_STOP=1 -f ${FILES.meshDir}/${joinCopyFile(i)} "${dsn}"`;
    return `\\copy distributed_postgres.join_rows (rel, r) FROM PROGRAM ${sqlLiteral(program)}`;
  });
  const advance: string[] = [];
  if (flavour.exact) {
    // Each other provider's slot for this group starts where the source's copy ends for that provider's changes.
    const source = sources[0];
    for (const sub of subs.filter((x) => x.provider !== source.provider.name)) {
      const viaSource = subOf(source.provider.name, sub.provider);
      if (!viaSource) continue;
      const v = `position_${groupOf(sub.provider).replicationNodeName}`;
      advance.push(connect(source.dsn),
        `SELECT position AS ${v} FROM distributed_postgres.join_positions WHERE joiner = ${sqlLiteral(group.name)} AND sub_name = ${sqlLiteral(viaSource.name)} AND position IS NOT NULL \\gset`,
        `\\if :{?${v}}`,
        connect(sub.providerDsn),
        `SELECT pg_replication_slot_advance(slot_name, :'${v}') FROM pg_replication_slots WHERE slot_name = ${sqlLiteral(slotAt(groupOf(sub.provider), sub))} AND confirmed_flush_lsn < :'${v}'::pg_lsn;`,
        '\\endif');
    }
    advance.push(connect(local));
  }
  const names = sources.map((s) => s.provider.name).join(', ');
  const origin = [
    `SELECT pg_replication_origin_create(${sqlLiteral(JOIN_ORIGIN)}) WHERE NOT EXISTS (SELECT 1 FROM pg_replication_origin WHERE roname = ${sqlLiteral(JOIN_ORIGIN)});`,
    `SELECT pg_replication_origin_session_setup(${sqlLiteral(JOIN_ORIGIN)});`,
  ];
  const asJoinOrigin = ['SET LOCAL session_replication_role = replica;', `SELECT pg_replication_origin_xact_setup('0/0', ${sqlLiteral(JOIN_COMMIT_TIME)});`];
  const insert = "SELECT format('INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM distributed_postgres.join_rows j, json_populate_record(NULL::%s, j.r::json) x '\n" +
    "    || 'WHERE j.rel = %L ON CONFLICT DO NOTHING', d.reg, a.cols, a.vals, d.reg, d.rel)\n" +
    '  FROM (SELECT DISTINCT rel, to_regclass(rel) AS reg FROM distributed_postgres.join_rows) d,\n' +
    "    LATERAL (SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) AS cols, string_agg('x.' || quote_ident(attname), ', ' ORDER BY attnum) AS vals\n" +
    "      FROM pg_attribute WHERE attrelid = d.reg AND attnum > 0 AND NOT attisdropped AND attgenerated = '') a \\gexec";
  const report = ['\\o', "SELECT format('copied %s rows from %s', copied, source) FROM distributed_postgres.joined;"];
  // Back on this group's leader (client settings go with each \\connect), where the copied rows are kept a moment.
  const rowsTable = [
    connect(local),
    'SET client_min_messages = warning;',
    'CREATE UNLOGGED TABLE IF NOT EXISTS distributed_postgres.join_rows (rel text NOT NULL, r text NOT NULL);',
  ];
  const join = [
    ...rowsTable,
    'TRUNCATE distributed_postgres.join_rows;',
    ...copy,
    ...advance,
    ...origin,
    'BEGIN;',
    ...asJoinOrigin,
    insert,
    `INSERT INTO distributed_postgres.joined (source, copied) SELECT ${sqlLiteral(`node group ${names}`)}, count(*) FROM distributed_postgres.join_rows;`,
    'TRUNCATE distributed_postgres.join_rows;',
    'COMMIT;',
    'SELECT pg_replication_origin_session_reset();',
    ...report,
  ];
  if (gate === undefined) {
    lines.push(...join);
    return lines.join('\n') + '\n';
  }
  // A re-sync replaces this group's rows of the copied tables by the source's. The tables are locked against writes
  // (readers go on) from before the gate until the commit: every change this group made to them is at each source
  // before its snapshot (the gate), and none is made after it, so replacing them loses none of this group's own.
  const tables = `unnest(string_to_array(${all}, ',')) t WHERE t <> ''`;
  const done = [`INSERT INTO distributed_postgres.joined (source, copied) VALUES (${sqlLiteral(`node group ${names} (re-sync)`)}, :copied);`,
    `DELETE FROM ${RESYNC_TABLE};`];
  const resync = [
    ...rowsTable,
    // The gate first without the lock (a source that lags or does not stream holds no writer back), then again with it.
    resyncGateSql(gate),
    ...origin,
    'BEGIN;',
    `SET LOCAL lock_timeout = '${RESYNC_LOCK_TIMEOUT_SECONDS}s';`,
    `SELECT format('LOCK TABLE %s IN EXCLUSIVE MODE', string_agg(to_regclass(t)::text, ', ')) FROM ${tables} \\gexec`,
    resyncGateSql(gate),
    'TRUNCATE distributed_postgres.join_rows;',
    ...copy,
    ...asJoinOrigin,
    `SELECT format('DELETE FROM %s', to_regclass(t)) FROM ${tables} \\gexec`,
    insert,
    'SELECT count(*) AS copied FROM distributed_postgres.join_rows \\gset',
    'TRUNCATE distributed_postgres.join_rows;',
    // The exact flavour's slot positions come after the commit (they need other connections); until they are set the
    // re-sync is not finished: its records stay, and a failure before re-runs the whole re-sync.
    ...(advance.length ? [] : done),
    'COMMIT;',
    'SELECT pg_replication_origin_session_reset();',
    ...(advance.length ? [...advance, 'BEGIN;', ...done, 'COMMIT;'] : []),
    ...report,
  ];
  lines.push('\\if :resync', ...resync, '\\else', ...join, '\\endif');
  return lines.join('\n') + '\n';
}

/**
 * The join's files of a group's mesh document (`join.sql` and one `join-copy-N.sql` per source), or undefined when the
 * group gets no join. `slotAt` is the engine's `subscriberSlot`: the slot at a provider a subscription streams from.
 */
export function joinFiles(topology: Topology, group: NodeGroup, flavour: JoinFlavour,
  slotAt: (provider: NodeGroup, sub: Subscription) => string): Record<string, string> | undefined {
  if (!joinsWithRows(topology, group)) return undefined;
  const join = joinSql(topology, group, flavour, slotAt);
  if (join === undefined) return undefined;
  const subs = subscriptionsOf(topology, group);
  const gate = resyncGateSlots(topology, group, slotAt);
  return {
    'join.sql': join,
    ...(gate === undefined ? {} : { 'resync-prepare.sql': resyncPrepareSql(group, flavour, gate, [...new Set(subs.map((sub) => sub.providerDsn))]) }),
    ...Object.fromEntries(joinSources(topology, group).map((source, i) => [joinCopyFile(i),
      joinCopySql(source, flavour, group, slotAt(source.provider, subs.find((sub) => sub.provider === source.provider.name)!))])),
  };
}

/**
 * PostgreSQL's own logical replication (PG 16+): one publication per replication set, one subscription per
 * provider group with `origin = none` so nothing echoes back. No conflict resolution: a conflicting change
 * stops the subscription, so every row must be written in one node group only. The subscriptions use a
 * slot Patroni keeps permanently on the provider (copied to its standbys), so they survive its failover.
 */
import { NodeGroup, Topology } from '../../topology/topology';
import { oneLine, sqlIdent, sqlLiteral, sqlQualified, sqlRegclass, sqlTextArray } from '../quote';
import {
  EngineParameters, EngineRenderer, MeshSql, PatroniSlot, header, nameIn, ownSubscriptionPrefix, partitionsSql, publishedSets, subscribersOf, subscriptionsOf,
} from './engine';
import { resyncSql } from './resync';
import { JOIN_PAUSE_LIMIT_SECONDS, joinFiles, joinPauseCleanupSql, joinPauseFunctionsSql, NATIVE_JOIN } from './join';

const IN_THIS_DATABASE = 'subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())';

/**
 * Subscriptions made before these settings (an upgrade of the library) get them too. synchronous_commit = on: each
 * applied commit waits for this group's synchronous standby before its position is confirmed to the provider, so a
 * promoted standby never lacks a row the provider has let go of (the subscriber-side window; the cost is one in-zone
 * round trip per applied transaction). failover (17+) marks the provider's slot as one whose sender waits for the
 * provider's synchronous standbys (synchronized_standby_slots), closing the provider-side window. It is set here, not at
 * CREATE SUBSCRIPTION: with create_slot = false, `failover = true` there marks only the subscription, not the existing
 * slot (measured on 17.12), while a change of the setting alters the slot. The slot can be altered only while the
 * subscription is disabled, so it is disabled for that moment (the pause lets the provider's sender exit); verify
 * counts a subscription without it, so a failed attempt is retried within seconds.
 */
function upgradeSubscriptions(names: string[], failover: boolean): string[] {
  const ours = `${IN_THIS_DATABASE} AND ${nameIn('subname', names)}`;
  return [
    '-- Subscriptions made by an earlier version get the settings above.',
    "SELECT format('ALTER SUBSCRIPTION %I SET (synchronous_commit = ''on'')', subname) FROM pg_subscription\n" +
    `  WHERE ${ours} AND subsynccommit <> 'on' \\gexec`,
    ...(failover ? [
      "SELECT format('ALTER SUBSCRIPTION %I DISABLE', subname), 'SELECT pg_sleep(1)', format('ALTER SUBSCRIPTION %I SET (failover = true)', subname),\n" +
      "    format('ALTER SUBSCRIPTION %I ENABLE', subname) FROM pg_subscription\n" +
      `  WHERE ${ours} AND subenabled AND NOT subfailover \\gexec`,
    ] : []),
  ];
}

/**
 * The physical slots of the standbys synchronous_standby_names names, as a comma-separated list (empty when none).
 * Read from the setting Patroni writes (`"a","b"`, `2 ("a","b")`, `ANY 1 (a,b)`), not from who is connected: a leader
 * cut off from its standbys still waits for them at commit, so its logical senders must wait as well. Patroni names a
 * member's slot after it in lower case with '-' and '.' as '_'; only slots that exist are named (a missing one would
 * hold every sender back with a warning).
 */
export const SYNC_STANDBY_SLOT_LIST_SQL = `SELECT coalesce(string_agg(s.slot_name::text, ',' ORDER BY s.slot_name), '') AS slots
  FROM pg_replication_slots s
  WHERE s.slot_type = 'physical' AND s.slot_name IN (
    SELECT left(regexp_replace(lower(btrim(n, ' "')), '[-.]', '_', 'g'), 63)
      FROM regexp_split_to_table(regexp_replace(current_setting('synchronous_standby_names'),
        '^\\s*((any|first)\\s+)?[0-9]+\\s*\\((.*)\\)\\s*$', '\\3', 'i'), ',') n)`;

/**
 * The provider-side window (PostgreSQL 17+): a logical sender of a failover slot sends only what the standbys whose
 * slots synchronized_standby_slots names have flushed. It names the slots of the group's synchronous standbys (the
 * members Patroni may promote), kept in step by mesh-keeper as Patroni changes them; a stopped standby holds the
 * senders back only until Patroni drops it from the synchronous set.
 */
export const STANDBY_SLOTS_SQL = `SELECT CASE WHEN w.slots = '' THEN 'ALTER SYSTEM RESET synchronized_standby_slots'
    ELSE format('ALTER SYSTEM SET synchronized_standby_slots = %L', w.slots) END
  FROM (${SYNC_STANDBY_SLOT_LIST_SQL}) w
  WHERE w.slots <> current_setting('synchronized_standby_slots') \\gexec
SELECT pg_reload_conf() FROM (SELECT setting FROM pg_file_settings WHERE name = 'synchronized_standby_slots' ORDER BY seqno DESC LIMIT 1) f
  WHERE f.setting <> current_setting('synchronized_standby_slots', true);
SELECT 'synchronized_standby_slots=' || current_setting('synchronized_standby_slots', true);
`;

function nativeSql(topology: Topology, group: NodeGroup): MeshSql {
  // PostgreSQL 17 has failover slots and synchronized_standby_slots.
  const failover = topology.postgres.version >= 17;
  const sets = publishedSets(topology, group);
  const subs = subscriptionsOf(topology, group);
  const setup = [
    header(topology, group, 'native', 'Publications'),
    '\\set ON_ERROR_STOP on',
    // Subscribers of other groups read the published tables as the mesh user.
    `GRANT pg_read_all_data TO ${sqlIdent(topology.postgres.meshUser)};`,
    ...joinPauseFunctionsSql(group, topology.postgres.meshUser),
    ...sets.map(({ set }) => `SELECT ${sqlLiteral(`CREATE PUBLICATION ${sqlIdent(set)}`)}\n` +
      `  WHERE NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = ${sqlLiteral(set)}) \\gexec`),
    ...partitionsSql(topology, group),
    ...sets.flatMap(({ set, tables }) => tables.map((table) =>
      `SELECT ${sqlLiteral(`ALTER PUBLICATION ${sqlIdent(set)} ADD TABLE ${sqlQualified(table)}`)}\n` +
      `  WHERE ${sqlRegclass(table)} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_publication_rel pr\n` +
      `    JOIN pg_publication p ON p.oid = pr.prpubid WHERE p.pubname = ${sqlLiteral(set)} AND pr.prrelid = ${sqlRegclass(table)}) \\gexec`)),
  ];
  const names = subs.map((sub) => sub.name);
  const undeclared = `FROM pg_subscription\n  WHERE ${IN_THIS_DATABASE} AND starts_with(subname::text, ${sqlLiteral(ownSubscriptionPrefix(group))}) ` +
    `AND NOT subname::text = ANY (${sqlTextArray(names)})`;
  const subscriptions = [
    header(topology, group, 'native', 'Subscriptions'),
    // Without a slot first: DROP SUBSCRIPTION would otherwise connect to the removed group to drop its slot, and fail
    // when it is gone. The slot goes with its group.
    '-- Subscriptions to node groups the mesh no longer has (removed from the declaration): dropped, with their origins.',
    `SELECT format('ALTER SUBSCRIPTION %I DISABLE', subname), format('ALTER SUBSCRIPTION %I SET (slot_name = NONE)', subname),\n` +
    `    format('DROP SUBSCRIPTION %I', subname)\n  ${undeclared} \\gexec`,
    ...subs.flatMap((sub) => {
      const create = `CREATE SUBSCRIPTION ${sqlIdent(sub.name)} CONNECTION ${sqlLiteral(sub.providerDsn)} ` +
        `PUBLICATION ${sub.replicationSets.map(sqlIdent).join(', ')} ` +
        `WITH (origin = none, copy_data = false, create_slot = false, slot_name = ${sqlLiteral(sub.name)}, ` +
        "synchronous_commit = 'on')";
      return [
        `-- ${oneLine(`from node group '${sub.provider}': publications ${sub.replicationSets.join(', ')}`)}; the slot is Patroni's permanent slot there.\n` +
        `SELECT ${sqlLiteral(create)}\n` +
        `  WHERE NOT EXISTS (SELECT 1 FROM pg_subscription WHERE ${IN_THIS_DATABASE} AND subname = ${sqlLiteral(sub.name)}) \\gexec`,
        // Tables added to a publication later reach the subscriber after a refresh.
        `SELECT ${sqlLiteral(`ALTER SUBSCRIPTION ${sqlIdent(sub.name)} REFRESH PUBLICATION WITH (copy_data = false)`)}\n` +
        `  WHERE EXISTS (SELECT 1 FROM pg_subscription WHERE ${IN_THIS_DATABASE} AND subname = ${sqlLiteral(sub.name)} AND subenabled) \\gexec`,
      ];
    }),
  ];
  if (subs.length > 0) subscriptions.push(...upgradeSubscriptions(subs.map((sub) => sub.name), failover));
  subscriptions.push(joinPauseCleanupSql());
  // A declared table the application created after the mesh: it must be in this group's publication and in every
  // subscription that carries its set, or its rows are skipped (an apply worker drops changes of tables its
  // subscription does not list). A geoshard partition is due once its parent exists (the setup creates it).
  // Counting them as missing makes mesh-keeper apply the setup again within seconds.
  const parentOf = new Map(topology.geoshards.flatMap((g) => g.tables.map((t) => [t.partition, t.table] as const)));
  const due = (rel: string) => [rel, parentOf.get(rel) ?? rel];
  const published = sets.flatMap(({ set, tables }) => tables.map((table) => [set, ...due(table)]));
  const subscribed = subs.flatMap((sub) => {
    const provider = topology.nodeGroups.find((g) => g.name === sub.provider)!;
    return publishedSets(topology, provider).filter(({ set }) => sub.replicationSets.includes(set))
      .flatMap(({ tables }) => tables.map((table) => [sub.name, ...due(table)]));
  });
  const values = (rows: string[][]) => rows.map((row) => `(${row.map(sqlLiteral).join(', ')})`).join(', ');
  const verify = [
    `SELECT (SELECT count(*) FROM unnest(${sqlTextArray(names)}) AS expected(name)\n` +
    `  WHERE NOT EXISTS (SELECT 1 FROM pg_subscription WHERE ${IN_THIS_DATABASE} AND subname = expected.name))`,
    `+ (SELECT count(*) ${undeclared})`,
    `+ (SELECT count(*) FROM distributed_postgres.join_pauses WHERE paused_at < now() - interval '${JOIN_PAUSE_LIMIT_SECONDS} seconds')`,
    ...(failover && names.length > 0 ? [
      `+ (SELECT count(*) FROM pg_subscription WHERE ${IN_THIS_DATABASE} AND ${nameIn('subname', names)} AND subenabled AND NOT subfailover)`] : []),
    ...(published.length === 0 ? [] : [
      `+ (SELECT count(*) FROM (VALUES ${values(published)}) AS d(pub, rel, parent)\n` +
      '  WHERE to_regclass(d.parent) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid\n' +
      '    WHERE p.pubname = d.pub AND pr.prrelid = to_regclass(d.rel)))']),
    ...(subscribed.length === 0 ? [] : [
      `+ (SELECT count(*) FROM (VALUES ${values(subscribed)}) AS d(sub, rel, parent)\n` +
      `  JOIN pg_subscription s ON s.subname = d.sub AND s.${IN_THIS_DATABASE}\n` +
      '  WHERE to_regclass(d.parent) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_subscription_rel r\n' +
      '    WHERE r.srsubid = s.oid AND r.srrelid = to_regclass(d.rel)))']),
  ].join('\n') + ';\n';
  const join = joinFiles(topology, group, NATIVE_JOIN, (provider, sub) => NATIVE.subscriberSlot!(topology, provider, sub));
  const resync = resyncSql(topology, group, {
    subscriptions: `(SELECT s.subname::text AS sub_name, s.subslotname::text AS slot, s.subconninfo AS dsn, 'pg_' || s.oid AS origin,\n` +
      '    EXISTS (SELECT 1 FROM pg_stat_subscription w WHERE w.subid = s.oid AND w.relid IS NULL AND w.pid IS NOT NULL) AS streaming\n' +
      `    FROM pg_subscription s WHERE s.${IN_THIS_DATABASE})`,
    disable: "SELECT format('ALTER SUBSCRIPTION %I DISABLE', subname) FROM pg_subscription\n" +
      `  WHERE ${IN_THIS_DATABASE} AND subname = :'sub' AND subenabled \\gexec\n`,
  });
  return {
    ...(resync ? { resync } : {}),
    ...(join ? { joinFiles: join } : {}),
    setup: setup.join('\n') + '\n',
    subscriptions: subscriptions.join('\n') + '\n',
    verify,
    downSubscriptions: 'SELECT s.subname FROM pg_subscription s\n' +
      '  LEFT JOIN pg_stat_subscription w ON w.subid = s.oid AND w.relid IS NULL AND w.pid IS NOT NULL\n' +
      `  WHERE s.${IN_THIS_DATABASE} AND s.subenabled AND w.pid IS NULL AND ${nameIn('s.subname', names)} ORDER BY 1;\n`,
    restartSubscription: "SELECT format('ALTER SUBSCRIPTION %I DISABLE', :'sub') \\gexec\n" +
      "SELECT format('ALTER SUBSCRIPTION %I ENABLE', :'sub') \\gexec\n",
    ...(failover ? {
      standbySlots: STANDBY_SLOTS_SQL,
      failoverSlots: 'SELECT s.slot_name, coalesce(s.active_pid::text, \'-\') FROM pg_replication_slots s\n' +
        `  WHERE s.slot_type = 'logical' AND NOT s.failover AND s.slot_name = ANY (${sqlTextArray(subscribersOf(topology, group).map((sub) => sub.name))})\n` +
        '  ORDER BY 1;\n',
    } : {}),
  };
}

export const NATIVE: EngineRenderer = {
  extensions: () => [],
  preloadLibraries: () => [],
  parameters: (): EngineParameters => ({}),
  outputPlugin: 'pgoutput',
  meshRoleAttributes: ['LOGIN', 'REPLICATION'],
  subscriberSlot: (_topology, _group, sub) => sub.name,
  providerSlots: (topology, group) => {
    const slots: Record<string, PatroniSlot> = {};
    for (const sub of subscribersOf(topology, group)) {
      slots[sub.name] = { type: 'logical', database: topology.postgres.database, plugin: 'pgoutput' };
    }
    return slots;
  },
  resumeSlots: false,
  ignoreSlots: () => [],
  sql: nativeSql,
};

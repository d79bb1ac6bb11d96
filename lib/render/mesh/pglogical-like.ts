/**
 * The SQL shared by pglogical 2 and Spock, whose APIs have the same shape (Spock is a pglogical descendant):
 * same catalogs (`local_node`, `replication_set`, `replication_set_table`, `subscription`) and the same
 * parameter names; only the schema and function names differ.
 */
import { NodeGroup, Topology } from '../../topology/topology';
import { oneLine, sqlIdent, sqlLiteral, sqlRegclass, sqlTextArray } from '../quote';
import { MeshSql, header, nameIn, partitionsSql, publishedSets, subscriptionsOf } from './engine';

export interface PglogicalLikeApi {
  readonly engine: 'pglogical' | 'spock';
  readonly schema: string;
  /** The full call that creates the local node. */
  createNode(topology: Topology, group: NodeGroup): string;
  readonly createSet: string;
  readonly addTable: string;
  readonly createSubscription: string;
  readonly addSubscriptionSet: string;
  readonly showStatus: string;
  readonly disable: string;
  readonly enable: string;
  /** Extra setup statements after the sets (Spock: delta-apply columns). */
  extraSetup(topology: Topology, group: NodeGroup): string[];
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
    ...api.extraSetup(topology, group),
  ];
  const subscriptions = [
    header(topology, group, api.engine, 'Subscriptions'),
    ...subs.flatMap((sub) => [
      `-- ${oneLine(`from node group '${sub.provider}': sets ${sub.replicationSets.join(', ')}`)}; nothing is forwarded, so nothing echoes back.\n` +
      `SELECT ${s}.${api.createSubscription}(\n` +
      `    subscription_name := ${sqlLiteral(sub.name)},\n` +
      `    provider_dsn := ${sqlLiteral(sub.providerDsn)},\n` +
      `    replication_sets := ${sqlTextArray(sub.replicationSets)},\n` +
      '    synchronize_structure := false,\n' +
      '    synchronize_data := false,\n' +
      `    forward_origins := ${sqlTextArray(sub.forwardOrigins)})\n` +
      `  WHERE NOT EXISTS (SELECT 1 FROM ${s}.subscription WHERE sub_name = ${sqlLiteral(sub.name)});`,
      `SELECT ${s}.${api.addSubscriptionSet}(${sqlLiteral(sub.name)}, set_name::name)\n` +
      `  FROM unnest(${sqlTextArray(sub.replicationSets)}) AS set_name\n` +
      `  WHERE EXISTS (SELECT 1 FROM ${s}.subscription WHERE sub_name = ${sqlLiteral(sub.name)}\n` +
      '    AND NOT set_name = ANY (coalesce(sub_replication_sets, ARRAY[]::text[])));',
    ]),
  ];
  const names = subs.map((sub) => sub.name);
  const verify = `SELECT (CASE WHEN EXISTS (SELECT 1 FROM ${s}.local_node) THEN 0 ELSE 1 END)\n` +
    `  + (SELECT count(*) FROM unnest(${sqlTextArray(names)}) AS expected(name)\n` +
    `     WHERE NOT EXISTS (SELECT 1 FROM ${s}.subscription WHERE sub_name = expected.name))::int;\n`;
  const downSubscriptions = `SELECT subscription_name FROM ${s}.${api.showStatus}()\n` +
    `  WHERE status = 'down' AND ${nameIn('subscription_name', names)} ORDER BY 1;\n`;
  const restartSubscription = `SELECT ${s}.${api.disable}(:'sub', true);\nSELECT ${s}.${api.enable}(:'sub', true);\n`;
  return {
    setup: setup.join('\n') + '\n',
    subscriptions: subscriptions.join('\n') + '\n',
    verify,
    downSubscriptions,
    restartSubscription,
  };
}

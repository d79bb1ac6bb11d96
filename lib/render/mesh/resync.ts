/**
 * A node group that needs a re-sync: one of its providers lost the slot it streams from (the provider invalidated it
 * because this group was away longer than the provider's `max_slot_wal_keep_size`). The subscription can never
 * resume: the provider no longer has the WAL between where this group stopped and now. What mesh-keeper does on the
 * subscriber group's leader (see meshKeeperScript's `check_lost_slots`):
 *   1. `resync.sql` (here): lists the providers already recorded as needing a re-sync (`recorded` lines), and for every
 *      other subscription of this group whose apply worker is not running the slot it streams from and its provider's
 *      DSN (`check` lines; a streaming subscription has its slot, and asking every provider every check would cost a
 *      connection per provider and check on large meshes);
 *   2. for each `check` line it asks the provider's leader for that slot's `wal_status`; on `lost`,
 *   3. `resync-record.sql` records it in `distributed_postgres.resync_needed` (in the database, so a new leader of this
 *      group still knows, and the verdict stays if someone drops and re-creates the slot at the provider) and disables
 *      the subscription: a slot made afresh at the provider would let it resume from "now" and silently skip every row
 *      the provider committed meanwhile, and an enabled subscription on a lost slot only fails and retries.
 * The group keeps serving; its mesh.status carries `resync-needed=<provider group>` until the row is removed (by the
 * re-sync, or with the group when it is removed and added back).
 */
import { NodeGroup, Topology } from '../../topology/topology';
import { sqlLiteral } from '../quote';
import { subscriptionsOf } from './engine';

/** The table of providers this group needs a re-sync from (one row each; in the group's database, not replicated). */
export const RESYNC_TABLE = 'distributed_postgres.resync_needed';

export interface ResyncSql {
  /** Prints `recorded<TAB>provider group<TAB>subscription<TAB>slot`, then `check<TAB>provider group<TAB>subscription<TAB>slot<TAB>provider dsn`. */
  readonly check: string;
  /**
   * psql variables `provider`, `sub`, `slot`: records that `provider` lost `slot` and disables `sub`; prints
   * `recorded <applied up to>` when the row is new.
   */
  readonly record: string;
}

/** How an engine's subscriptions are read: their catalog, and how to disable one. */
export interface ResyncCatalog {
  /**
   * A FROM clause naming the group's subscriptions with columns `sub_name`, `slot` (at the provider), `dsn`
   * (the provider's), `origin` (the local replication origin's name) and `streaming` (its apply worker runs: a
   * subscription streaming from its slot has not lost it, so its provider is not asked).
   */
  readonly subscriptions: string;
  /** Disables the subscription named by psql variable `sub` when it is enabled (no-op otherwise). */
  readonly disable: string;
}

/**
 * How long a re-sync waits after the first lost slot was recorded before it starts (resync-prepare.sql): a partition
 * that heals and breaks again does not start one, and the need is visible (status, metric, alert) meanwhile.
 */
export const RESYNC_SETTLE_SECONDS = 60;

/** The table's DDL (idempotent). */
export const RESYNC_TABLE_SQL = `CREATE SCHEMA IF NOT EXISTS distributed_postgres;
CREATE TABLE IF NOT EXISTS ${RESYNC_TABLE} (
  provider text PRIMARY KEY, subscription name NOT NULL, slot name NOT NULL,
  applied_up_to pg_lsn, detected_at timestamptz NOT NULL DEFAULT now());`;

const TABLE = `SET client_min_messages = warning;
${RESYNC_TABLE_SQL}`;

export function resyncSql(topology: Topology, group: NodeGroup, catalog: ResyncCatalog): ResyncSql | undefined {
  const subs = subscriptionsOf(topology, group);
  if (subs.length === 0) return undefined;
  const wanted = `(VALUES ${subs.map((s) => `(${sqlLiteral(s.name)}, ${sqlLiteral(s.provider)})`).join(', ')}) AS w(sub_name, grp)`;
  const check = `${TABLE}
-- Providers already known to need a re-sync (mesh-keeper does not ask them again).
SELECT 'recorded', provider, subscription, slot FROM ${RESYNC_TABLE} ORDER BY 2;
-- The others whose apply worker is not running (down, disabled, or failing to stream): the slot each streams from,
-- asked at its provider whether it was lost. (A streaming subscription has not lost its slot: no remote query for it.)
SELECT 'check', w.grp, c.sub_name, c.slot, c.dsn FROM ${catalog.subscriptions} c JOIN ${wanted} ON w.sub_name = c.sub_name
  WHERE c.slot IS NOT NULL AND NOT c.streaming AND NOT EXISTS (SELECT 1 FROM ${RESYNC_TABLE} r WHERE r.provider = w.grp) ORDER BY 2;
`;
  const record = `${TABLE}
INSERT INTO ${RESYNC_TABLE} (provider, subscription, slot, applied_up_to)
  SELECT :'provider', :'sub', :'slot', (SELECT s.remote_lsn FROM ${catalog.subscriptions} c
      JOIN pg_replication_origin_status s ON s.external_id = c.origin WHERE c.sub_name = :'sub')
  ON CONFLICT (provider) DO NOTHING RETURNING 'recorded ' || coalesce(applied_up_to::text, 'nothing');
${catalog.disable}`;
  return { check, record };
}

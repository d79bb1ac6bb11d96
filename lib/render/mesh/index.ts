/** The replication engines and the mesh files a Postgres member carries. */
import { EngineName, NodeGroup, Topology } from '../../topology/topology';
import { sqlLiteral } from '../quote';
import { EngineRenderer, PatroniSlot, subscribersOf } from './engine';
import { NATIVE } from './native';
import { PGLOGICAL } from './pglogical';
import { SPOCK } from './spock';

export type { EngineRenderer, MeshSql, PatroniSlot } from './engine';
export { pglogicalSlotName, pgHashBytes } from './slot-names';

const ENGINES: Record<EngineName, EngineRenderer> = { spock: SPOCK, pglogical: PGLOGICAL, native: NATIVE };

/** The renderer of the replication engine named in the topology. */
export function replicationEngine(name: EngineName): EngineRenderer {
  return ENGINES[name];
}

/** An inactive subscriber slot holding more WAL than this is reported (a subscriber group's failover holds a few MB). */
export const RETAINED_WAL_REPORT_BYTES = 256 * 1024 * 1024;

/**
 * mesh-keeper's report of subscriber slots no one streams from that keep more than `RETAINED_WAL_REPORT_BYTES` of WAL
 * (or lost it): a node group stopped, cut off, or gone without being removed from the declaration. One line per slot,
 * with what to do. Undefined where the group has no subscribers or the engine keeps its own slots (Spock).
 */
export function retainedWalProblemsSql(topology: Topology, group: NodeGroup): string | undefined {
  const engine = replicationEngine(topology.replication.engine);
  const subs = subscribersOf(topology, group);
  if (!engine.subscriberSlot || subs.length === 0) return undefined;
  const rows = subs.map((sub) => `(${sqlLiteral(engine.subscriberSlot!(topology, group, sub))}, ${sqlLiteral(sub.subscriber)})`);
  const held = 'pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)';
  return '-- Subscriber slots no one streams from that keep much WAL here (one line each; none: no output).\n' +
    "SELECT format('node group %s is not streaming from slot %s, which keeps %s of WAL here (wal_status %s, max_slot_wal_keep_size %s). " +
    'Gone for good: remove it from the declaration (its slots are then dropped). Coming back: it resumes from the slot, unless ' +
    "wal_status is lost: then it must be re-synced',\n" +
    `    w.grp, s.slot_name, coalesce(pg_size_pretty(${held}), 'none'), s.wal_status, current_setting('max_slot_wal_keep_size'))\n` +
    `  FROM pg_replication_slots s JOIN (VALUES ${rows.join(', ')}) AS w(slot, grp) ON w.slot = s.slot_name\n` +
    `  WHERE NOT s.active AND (s.wal_status = 'lost' OR ${held} > ${RETAINED_WAL_REPORT_BYTES})\n  ORDER BY 1;\n`;
}

/** Patroni's permanent slots on this group: one per subscription of another group to it (sorted by name). */
export function permanentSlots(topology: Topology, group: NodeGroup): Record<string, PatroniSlot> {
  const slots = replicationEngine(topology.replication.engine).providerSlots(topology, group);
  return Object.fromEntries(Object.keys(slots).sort().map((name) => [name, slots[name]]));
}

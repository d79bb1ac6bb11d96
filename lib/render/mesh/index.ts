/** The replication engines and the mesh files a Postgres member carries. */
import { EngineName, NodeGroup, Topology } from '../../topology/topology';
import { PatroniSlot, ReplicationEngine } from './engine';
import { NATIVE } from './native';
import { PGLOGICAL } from './pglogical';
import { SPOCK } from './spock';

export type { MeshSql, PatroniSlot, ReplicationEngine } from './engine';
export { pglogicalSlotName, pgHashBytes } from './slot-names';

const ENGINES: Record<EngineName, ReplicationEngine> = { spock: SPOCK, pglogical: PGLOGICAL, native: NATIVE };

export function replicationEngine(name: EngineName): ReplicationEngine {
  return ENGINES[name];
}

/** Patroni's permanent slots on this group: one per subscription of another group to it (sorted by name). */
export function permanentSlots(topology: Topology, group: NodeGroup): Record<string, PatroniSlot> {
  const slots = replicationEngine(topology.replication.engine).providerSlots(topology, group);
  return Object.fromEntries(Object.keys(slots).sort().map((name) => [name, slots[name]]));
}

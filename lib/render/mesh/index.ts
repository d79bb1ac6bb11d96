/** The replication engines and the mesh files a Postgres member carries. */
import { EngineName, NodeGroup, Topology } from '../../topology/topology';
import { EngineRenderer, PatroniSlot } from './engine';
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

/** Patroni's permanent slots on this group: one per subscription of another group to it (sorted by name). */
export function permanentSlots(topology: Topology, group: NodeGroup): Record<string, PatroniSlot> {
  const slots = replicationEngine(topology.replication.engine).providerSlots(topology, group);
  return Object.fromEntries(Object.keys(slots).sort().map((name) => [name, slots[name]]));
}

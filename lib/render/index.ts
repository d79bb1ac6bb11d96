/**
 * Render: the pure stage that turns the Topology and one machine into that machine's `#cloud-config`.
 * No cdktf here; the cloud constructs call these.
 */
import { Topology } from '../topology/topology';
import { cloudConfigText } from './cloud-config';
import { machineOf, machinesOfTopology } from './context';

export { encodeUserData, AWS_USER_DATA_LIMIT, GCP_METADATA_VALUE_LIMIT } from './user-data';
export type { EncodedUserData } from './user-data';
export { GCP_DATA_DISK_DEVICE_NAME } from './paths';

export interface FleetMachine {
  readonly name: string;
  readonly nodeGroup: string;
  readonly role: 'postgres' | 'etcd';
  readonly zone: string;
  readonly privateIp: string;
}

/** The full `#cloud-config` YAML text for one machine (a Postgres member or a dedicated etcd member). */
export function renderCloudConfig(topology: Topology, hostName: string): string {
  return cloudConfigText(machineOf(topology, hostName));
}

/** Every machine of the fleet: per node group (topology order) its Postgres members, then its dedicated etcd members. */
export function machinesOf(topology: Topology): FleetMachine[] {
  return machinesOfTopology(topology).map((m) => ({
    name: m.name,
    nodeGroup: m.group.name,
    role: m.role,
    zone: m.zone,
    privateIp: m.privateIp,
  }));
}

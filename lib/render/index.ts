/**
 * Render: the pure stage that turns the Topology and one machine into that machine's `#cloud-config`.
 * No cdktf here; the cloud constructs call these.
 */
import { Topology } from '../topology/topology';
import { cloudConfigText } from './cloud-config';
import { machineNamed } from './machine';

export { encodeUserData, AWS_USER_DATA_LIMIT, GCP_METADATA_VALUE_LIMIT } from './user-data';
export type { EncodedUserData } from './user-data';
export { GCP_DATA_DISK_DEVICE_NAME } from './paths';
export { machinesOf } from './machine';
export type { MachineRole, MachineSummary } from './machine';

/** The full `#cloud-config` YAML text for one machine (a Postgres member or a dedicated etcd member). */
export function renderCloudConfig(topology: Topology, hostName: string): string {
  return cloudConfigText(machineNamed(topology, hostName));
}

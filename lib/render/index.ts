/**
 * Render: the pure stage that turns the Topology and one machine into that machine's `#cloud-config` (and the files
 * of its node group's scripts document).
 * No cdktf here; the cloud constructs call these.
 */
import { Topology } from '../topology/topology';
import { cloudConfigText, machineFiles, MachineFile } from './cloud-config';
import { machineNamed } from './machine';

export { encodeUserData, AWS_USER_DATA_LIMIT, GCP_METADATA_VALUE_LIMIT } from './user-data';
export type { EncodedUserData } from './user-data';
export { GCP_DATA_DISK_DEVICE_NAME } from './paths';
export { machinesOf } from './machine';
export type { MachineFile } from './cloud-config';
export type { MachineRole, MachineSummary } from './machine';

/** The full `#cloud-config` YAML text for one machine (a Postgres member or a dedicated etcd member). */
export function renderCloudConfig(topology: Topology, hostName: string): string {
  return cloudConfigText(machineNamed(topology, hostName));
}

/**
 * Every file one machine holds once its bootstrap has begun: its user-data's files, then its part of its node group's
 * scripts document (which load-scripts fetches at first boot), with their paths, permissions and text.
 */
export function renderMachineFiles(topology: Topology, hostName: string): MachineFile[] {
  return machineFiles(machineNamed(topology, hostName));
}

/**
 * The machines of a fleet. A machine is a Postgres member (maybe also running an etcd member of its group's quorum)
 * or a dedicated etcd member; `Machine` is what the renderer needs to write one machine's cloud-config.
 */
import { EtcdMember, Member, NodeGroup, Topology } from '../topology/topology';

export type MachineRole = 'postgres' | 'etcd';

/** One machine as the renderer sees it: its place in the topology and what it runs. */
export interface Machine {
  readonly topology: Topology;
  readonly group: NodeGroup;
  readonly name: string;
  readonly role: MachineRole;
  readonly zone: string;
  readonly privateIp: string;
  readonly fqdn: string;
  /** The Postgres member, when the machine runs Postgres. */
  readonly member?: Member;
  /** The etcd member this machine runs, if any. */
  readonly etcd?: EtcdMember;
}

/** One machine of the fleet, as a summary for programs: which machines the clouds create, and where. */
export interface MachineSummary {
  readonly name: string;
  readonly nodeGroup: string;
  readonly role: MachineRole;
  readonly zone: string;
  readonly privateIp: string;
}

/** Every machine of the fleet: per node group (in topology order) its Postgres members, then its dedicated etcd members. */
function everyMachine(topology: Topology): Machine[] {
  return topology.nodeGroups.flatMap((group) => [
    ...group.members.map((member): Machine => ({
      topology,
      group,
      name: member.name,
      role: 'postgres',
      zone: member.zone,
      privateIp: member.privateIp,
      fqdn: member.fqdn,
      member,
      etcd: group.etcd.members.find((e) => e.hostMember === member.name),
    })),
    ...group.etcd.members.filter((e) => e.hostMember === '').map((etcd): Machine => ({
      topology,
      group,
      name: etcd.name,
      role: 'etcd',
      zone: etcd.zone,
      privateIp: etcd.privateIp,
      fqdn: `${etcd.name}.${topology.network.privateDnsZone}`,
      etcd,
    })),
  ]);
}

/** Every machine of the fleet, summarized, in the order of `everyMachine`. */
export function machinesOf(topology: Topology): MachineSummary[] {
  return everyMachine(topology).map((m) => ({
    name: m.name,
    nodeGroup: m.group.name,
    role: m.role,
    zone: m.zone,
    privateIp: m.privateIp,
  }));
}

// The fleet's machines by name, per topology: rendering every machine would otherwise list them all for each one.
const MACHINES = new WeakMap<Topology, Map<string, Machine>>();

/** The machine called `hostName`, ready to render, or a clear error listing the names that exist. */
export function machineNamed(topology: Topology, hostName: string): Machine {
  let byName = MACHINES.get(topology);
  if (!byName) {
    byName = new Map(everyMachine(topology).map((m) => [m.name, m]));
    MACHINES.set(topology, byName);
  }
  const found = byName.get(hostName);
  if (!found) {
    const names = [...byName.keys()];
    throw new Error(`render: fleet '${topology.fleetName}' has no machine named '${hostName}'. ` +
      `Fix: use a Postgres member or dedicated etcd member name: ${names.join(', ')}.`);
  }
  return found;
}

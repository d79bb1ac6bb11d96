/**
 * The deterministic address plan of a node group. A group CIDR is split into 8 equal blocks, one per zone
 * (in zone order). Inside a zone's block: offset 5 is the load balancer, 10+ the Postgres members,
 * 30+ dedicated etcd members. Offsets stay clear of the addresses AWS (first 4, last) and GCP
 * (first 2, last 2) reserve.
 */
import { OFFSETS, ZONE_BLOCKS } from '../declaration/derived';
import { formatCidr, hostAt, Ipv4Cidr, subnet } from '../net/cidr';

export { OFFSETS, ZONE_BLOCKS };

/** Prefix of the AWS egress (NAT) subnet, carved from the last zone block, which no AWS group uses (<= 6 zones). */
export const EGRESS_SUBNET_PREFIX = 28;

export interface GroupAddressPlan {
  readonly zoneBlocks: Ipv4Cidr[];
  /** `zoneIndex(k)`: zone index of 1-based member k, round-robin so members spread over zones. */
  memberZoneIndex(ordinal: number): number;
  memberIp(ordinal: number): string;
  dedicatedEtcdIp(ordinal: number): string;
  loadBalancerIp(zoneIndex: number): string;
  /** The /28 egress subnet at the start of the last zone block (AWS only). */
  egressSubnet(): Ipv4Cidr;
}

export function planGroupAddresses(groupCidr: Ipv4Cidr, zoneCount: number): GroupAddressPlan {
  const blockPrefix = groupCidr.prefix + Math.log2(ZONE_BLOCKS);
  const zoneBlocks = Array.from({ length: zoneCount }, (_, i) => subnet(groupCidr, blockPrefix, i)!);
  return {
    ...planInZoneBlocks(zoneBlocks),
    egressSubnet: () => subnet(subnet(groupCidr, blockPrefix, ZONE_BLOCKS - 1)!, Math.max(blockPrefix, EGRESS_SUBNET_PREFIX), 0)!,
  };
}

/**
 * The same offsets in given zone blocks: an existing AWS network's subnets (one per zone), whose addresses outside
 * the plan belong to others. (No egress subnet: the network brings its own egress.)
 */
export function planInZoneBlocks(zoneBlocks: Ipv4Cidr[]): Omit<GroupAddressPlan, 'egressSubnet'> {
  const zoneCount = zoneBlocks.length;
  const zoneIndex = (ordinal: number) => (ordinal - 1) % zoneCount;
  const slotInZone = (ordinal: number) => Math.floor((ordinal - 1) / zoneCount);
  return {
    zoneBlocks,
    memberZoneIndex: zoneIndex,
    memberIp: (ordinal) => hostAt(zoneBlocks[zoneIndex(ordinal)], OFFSETS.member + slotInZone(ordinal)),
    dedicatedEtcdIp: (ordinal) => hostAt(zoneBlocks[zoneIndex(ordinal)], OFFSETS.dedicatedEtcd + slotInZone(ordinal)),
    loadBalancerIp: (zone) => hostAt(zoneBlocks[zone], OFFSETS.loadBalancer),
  };
}

export { formatCidr };

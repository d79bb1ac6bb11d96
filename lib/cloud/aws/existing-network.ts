/**
 * A node group's place in a network the network team owns (`existingNetwork`): the given VPC and subnets, and an
 * explicit subnet CIDR reservation for every address the plan gives the group's machines and load balancer, so AWS
 * never hands one of them to another network interface of the subnet. Each subnet is read at plan and must be what
 * the declaration says (its range and zone: the user-data was rendered with addresses in it). Nothing else is
 * created: routes, NAT and peering are the network's.
 */
import { DataAwsSubnet } from '@cdktf/provider-aws/lib/data-aws-subnet';
import { Ec2SubnetCidrReservation } from '@cdktf/provider-aws/lib/ec2-subnet-cidr-reservation';
import { Token } from 'cdktf';
import { Construct } from 'constructs';
import { NodeGroup } from '../../topology/topology';
import { AwsRegionTarget, inRegion } from './region';

/** Where a node group's AWS resources go: the VPC and the subnet of each zone. */
export interface AwsGroupPlacement {
  readonly target: AwsRegionTarget;
  readonly vpcId: string;
  /** Where lookups the machines share (AMIs) live. */
  readonly lookups: Construct;
  subnetIdOf(group: NodeGroup, zone: string): string;
}

export class AwsExistingNetwork extends Construct implements AwsGroupPlacement {
  public readonly target: AwsRegionTarget;
  public readonly vpcId: string;
  public readonly lookups: Construct = this;
  private readonly subnetIds: Map<string, string>;

  constructor(scope: Construct, id: string, group: NodeGroup, target: AwsRegionTarget) {
    super(scope, id);
    const existing = group.existingNetwork;
    if (!existing?.vpcId) throw new Error(`AwsExistingNetwork: node group ${group.name} brings no AWS network`);
    this.target = target;
    this.vpcId = existing.vpcId;
    this.subnetIds = new Map(group.zones.map((zone, i) => [zone, existing.subnetIds[i]]));
    const where = inRegion(target);
    // The VPC is checked too when it is written out (a reference is known only at apply).
    const inVpc = Token.isUnresolved(this.vpcId) ? '' : ` && self.vpc_id == "${this.vpcId}"`;
    group.subnets.forEach((s, i) => {
      new DataAwsSubnet(this, `subnet-${s.zone}`, {
        ...where,
        id: existing.subnetIds[i],
        lifecycle: {
          postcondition: [{
            condition: `\${self.cidr_block == "${s.cidr}" && self.availability_zone == "${s.zone}"${inVpc}}`,
            errorMessage: `node group ${group.name}: existingNetwork.subnets[${i}] must be a subnet of ${s.zone} with range ${s.cidr}${inVpc ? ` in ${this.vpcId}` : ''} ` +
              "(the machines' addresses are planned in it). Fix the declaration's subnets, in the order of zones.",
          }],
        },
      });
    });
    const planned = [
      ...group.members.map((m) => ({ name: m.name, zone: m.zone, ip: m.privateIp })),
      ...group.etcd.members.filter((m) => m.hostMember === '').map((m) => ({ name: m.name, zone: m.zone, ip: m.privateIp })),
      ...group.subnets.map((s, i) => ({ name: `${group.patroniScope}-endpoint-${s.zone}`, zone: s.zone, ip: group.loadBalancerIps[i] })),
    ];
    for (const p of planned) {
      new Ec2SubnetCidrReservation(this, `reserved-${p.ip.replace(/\./g, '-')}`, {
        ...where,
        subnetId: this.subnetIds.get(p.zone)!,
        cidrBlock: `${p.ip}/32`,
        reservationType: 'explicit',
        description: `${p.name} (distributed-postgres plans this address)`,
      });
    }
  }

  public subnetIdOf(group: NodeGroup, zone: string): string {
    const id = this.subnetIds.get(zone);
    if (!id) throw new Error(`AwsExistingNetwork: node group ${group.name} has no subnet in ${zone}`);
    return id;
  }
}

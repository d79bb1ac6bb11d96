/**
 * The network of one AWS region: a VPC holding every node group of the region (one CIDR block per group), a private
 * subnet per group and zone, and egress for package downloads at boot through a NAT gateway in a small public subnet.
 * Database subnets route nothing inbound from the internet and machines get no public address.
 */
import { Eip } from '@cdktf/provider-aws/lib/eip';
import { InternetGateway } from '@cdktf/provider-aws/lib/internet-gateway';
import { NatGateway } from '@cdktf/provider-aws/lib/nat-gateway';
import { Route } from '@cdktf/provider-aws/lib/route';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table';
import { RouteTableAssociation } from '@cdktf/provider-aws/lib/route-table-association';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';
import { VpcIpv4CidrBlockAssociation } from '@cdktf/provider-aws/lib/vpc-ipv4-cidr-block-association';
import { Construct } from 'constructs';
import { NodeGroup, Topology } from '../../topology/topology';
import { AwsGroupPlacement } from './existing-network';
import { AwsRegionTarget, awsTags, inRegion } from './region';

export interface AwsRegionNetworkProps {
  readonly topology: Topology;
  readonly region: string;
  readonly target: AwsRegionTarget;
}

export class AwsRegionNetwork extends Construct implements AwsGroupPlacement {
  public readonly region: string;
  public readonly target: AwsRegionTarget;
  public readonly vpc: Vpc;
  /** The route table of every database subnet: default route to the NAT gateway, peering and VPN routes. */
  public readonly privateRouteTable: RouteTable;
  /** The node groups of the region with their CIDR blocks, in node group order (the first is the VPC's primary block). */
  public readonly groupCidrs: { group: string; cidr: string }[];
  private readonly subnets = new Map<string, Subnet>();

  constructor(scope: Construct, id: string, props: AwsRegionNetworkProps) {
    super(scope, id);
    const { topology, region, target } = props;
    const plan = topology.network.awsVpcs.find((v) => v.region === region);
    if (!plan) throw new Error(`AwsRegionNetwork: the topology has no AWS VPC in ${region}`);
    this.region = region;
    this.target = target;
    const fleet = topology.fleetName;
    const where = inRegion(target);
    const groups = plan.nodeGroups.map((name) => topology.nodeGroups.find((g) => g.name === name)!);
    this.groupCidrs = groups.map((g) => ({ group: g.name, cidr: g.cidr }));

    this.vpc = new Vpc(this, 'vpc', {
      ...where,
      cidrBlock: plan.cidrs[0],
      enableDnsSupport: true,
      enableDnsHostnames: true,
      tags: awsTags(`${fleet}-${region}`, fleet),
    });
    // Groups after the first add their own block; the association is named by the group, so adding a group adds one.
    const blocks = new Map<string, VpcIpv4CidrBlockAssociation>();
    for (const g of groups.slice(1)) {
      blocks.set(g.name, new VpcIpv4CidrBlockAssociation(this, `cidr-${g.name}`, { ...where, vpcId: this.vpc.id, cidrBlock: g.cidr }));
    }

    // Egress: IGW + NAT in a /28 public subnet (no database machine is ever placed there).
    const zone0 = groups[0].subnets[0].zone;
    const igw = new InternetGateway(this, 'internet-gateway', { ...where, vpcId: this.vpc.id, tags: awsTags(`${fleet}-${region}`, fleet) });
    const egressSubnet = new Subnet(this, 'egress-subnet', {
      ...where,
      vpcId: this.vpc.id,
      cidrBlock: plan.egressSubnetCidr,
      availabilityZone: zone0,
      mapPublicIpOnLaunch: false,
      tags: awsTags(`${fleet}-${region}-egress`, fleet),
    });
    // Routes are separate resources everywhere: an inline `route` list needs every attribute spelled out in JSON.
    const publicRoutes = new RouteTable(this, 'egress-routes', { ...where, vpcId: this.vpc.id, tags: awsTags(`${fleet}-${region}-egress`, fleet) });
    new Route(this, 'egress-default-route', { ...where, routeTableId: publicRoutes.id, destinationCidrBlock: '0.0.0.0/0', gatewayId: igw.id });
    new RouteTableAssociation(this, 'egress-subnet-routes', { ...where, subnetId: egressSubnet.id, routeTableId: publicRoutes.id });
    const natAddress = new Eip(this, 'nat-address', { ...where, domain: 'vpc', tags: awsTags(`${fleet}-${region}-nat`, fleet) });
    const nat = new NatGateway(this, 'nat', {
      ...where,
      allocationId: natAddress.allocationId,
      subnetId: egressSubnet.id,
      connectivityType: 'public',
      tags: awsTags(`${fleet}-${region}-nat`, fleet),
      dependsOn: [igw],
    });

    // Peering routes and VPN propagation add to this table.
    this.privateRouteTable = new RouteTable(this, 'private-routes', {
      ...where,
      vpcId: this.vpc.id,
      tags: awsTags(`${fleet}-${region}-private`, fleet),
    });
    new Route(this, 'default-route', { ...where, routeTableId: this.privateRouteTable.id, destinationCidrBlock: '0.0.0.0/0', natGatewayId: nat.id });

    for (const g of groups) {
      for (const s of g.subnets) {
        const subnet = new Subnet(this, `subnet-${g.name}-${s.zone}`, {
          ...where,
          vpcId: this.vpc.id,
          cidrBlock: s.cidr,
          availabilityZone: s.zone,
          mapPublicIpOnLaunch: false,
          tags: awsTags(`${g.patroniScope}-${s.zone}`, fleet, g.name),
          // A subnet of an extra block can only be created once the block is associated.
          dependsOn: blocks.has(g.name) ? [blocks.get(g.name)!] : undefined,
        });
        new RouteTableAssociation(this, `subnet-${g.name}-${s.zone}-routes`, { ...where, subnetId: subnet.id, routeTableId: this.privateRouteTable.id });
        this.subnets.set(`${g.name}/${s.zone}`, subnet);
      }
    }
  }

  public get lookups(): Construct {
    return this;
  }

  public get vpcId(): string {
    return this.vpc.id;
  }

  public subnetIdOf(group: NodeGroup, zone: string): string {
    return this.subnetOf(group, zone).id;
  }

  /** The private subnet of a node group in a zone. */
  public subnetOf(group: NodeGroup, zone: string): Subnet {
    const subnet = this.subnets.get(`${group.name}/${zone}`);
    if (!subnet) throw new Error(`AwsRegionNetwork ${this.region}: node group ${group.name} has no subnet in ${zone}`);
    return subnet;
  }
}
